//! GET_BROKER_RUNTIME_INFO (28): the key/value table `mqadmin brokerStatus` prints and
//! `mqadmin clusterList` reads InTPS/OutTPS, hours and disk use from.
//!
//! Every value is measured when asked or left out: a constant that looks like data (a TPS of
//! 0.0 on a busy broker) misleads an operator more than a missing line. Keys and formats are
//! Apache's (`AdminBrokerProcessor.prepareRuntimeInfo` plus `StoreStatsService.runtimeInfo`),
//! including 4.x's spelling `getTransferedTps` beside 5.x's `getTransferredTps`.

use std::collections::BTreeMap;
use std::sync::Arc;

use rmq_common::time::now_millis;
use rmq_remoting::body::KVTable;
use rmq_remoting::json::JsonBody;
use rmq_remoting::transport::ProcessResult;
use rmq_remoting::{RemotingCommand, RequestContext};

use super::admin::ok_with_body;
use crate::context::BrokerContext;
use crate::stats::format_tps;

pub async fn process(
    ctx: Arc<BrokerContext>,
    _rc: RequestContext,
    req: RemotingCommand,
) -> ProcessResult {
    let body = KVTable {
        table: runtime_table(&ctx),
    };
    ok_with_body(&req, body.to_json_bytes())
}

fn runtime_table(ctx: &BrokerContext) -> BTreeMap<String, String> {
    let s = &ctx.store();
    let stats = ctx.stats().snapshot();
    let mut t = BTreeMap::new();
    let mut put = |k: &str, v: String| {
        t.insert(k.to_owned(), v);
    };
    put(
        "brokerVersionDesc",
        format!("rmq {}", env!("CARGO_PKG_VERSION")),
    );
    put(
        "brokerVersion",
        rmq_remoting::protocol::RMQ_VERSION.to_string(),
    );
    put("brokerRole", ctx.role().to_string());
    put("brokerActive", "true".into());
    put("bootTimestamp", ctx.boot_timestamp().to_string());
    put(
        "runtime",
        format_runtime(now_millis() - ctx.boot_timestamp()),
    );

    // Traffic (BrokerStats, StoreStatsService).
    put("msgPutTotalTodayNow", stats.put_total_today_now.to_string());
    put(
        "msgPutTotalTodayMorning",
        stats.put_total_today_morning.to_string(),
    );
    put(
        "msgPutTotalYesterdayMorning",
        stats.put_total_yesterday_morning.to_string(),
    );
    put("msgGetTotalTodayNow", stats.get_total_today_now.to_string());
    put(
        "msgGetTotalTodayMorning",
        stats.get_total_today_morning.to_string(),
    );
    put(
        "msgGetTotalYesterdayMorning",
        stats.get_total_yesterday_morning.to_string(),
    );
    put("putTps", format_tps(&stats.put_tps));
    let get_tps = format_tps(&stats.get_transferred_tps);
    // Both spellings: 4.x brokers wrote (and 4.x tools and rmq's read) the misspelt key, 5.x
    // brokers write and 5.x `mqadmin clusterList` reads the corrected one.
    put("getTransferredTps", get_tps.clone());
    put("getTransferedTps", get_tps);
    put(
        "putMessageTimesTotal",
        stats.put_total_today_now.to_string(),
    );
    put("putMessageSizeTotal", stats.put_bytes_total.to_string());
    if stats.put_total_today_now > 0 {
        put(
            "putMessageAverageSize",
            (stats.put_bytes_total as f64 / stats.put_total_today_now as f64).to_string(),
        );
    }
    put("putMessageEntireTimeMax", stats.put_time_max_ms.to_string());
    put("putMessageFailedTimes", stats.put_failed.to_string());
    put("getFoundTimesTotal", stats.pulls_found.to_string());
    put("getMissTimesTotal", stats.pulls_missed.to_string());

    // Request queues: sends in flight against their bound, pulls being worked on (held pulls
    // wait for messages, not for the broker, as in Apache's hold service).
    let send_capacity = ctx.send_capacity();
    put("sendThreadPoolQueueSize", ctx.sends_in_flight().to_string());
    put("sendThreadPoolQueueCapacity", send_capacity.to_string());
    put(
        "pullThreadPoolQueueSize",
        stats.pulls_in_progress.to_string(),
    );

    // Store.
    let max = s.commit_log_max_offset();
    put("commitLogMaxOffset", max.to_string());
    put("commitLogMinOffset", s.commit_log_min_offset().to_string());
    put(
        "dispatchBehindBytes",
        (max - s.dispatched_offset()).max(0).to_string(),
    );
    if let Some(t) = s.earliest_commit_log_time() {
        put("earliestMessageTimeStamp", t.to_string());
    }
    if let Some(r) = s.commit_log_disk_ratio() {
        put("commitLogDiskRatio", r.to_string());
    }
    if let Some(r) = s.consume_queue_disk_ratio() {
        put("consumeQueueDiskRatio", r.to_string());
    }
    put(
        "remainHowManyDataToFlush",
        human_bytes((max - s.flushed_offset()).max(0)),
    );
    put(
        "pageCacheLockTimeMills",
        s.page_cache_lock_time_ms().to_string(),
    );

    // Replication.
    put("haStatus", ctx.ha().describe());
    put("haLagBytes", ctx.ha().lag_bytes().to_string());
    t
}

/// `[ 0 days, 1 hours, 2 minutes, 3 seconds ]`, as Apache's `getFormatRuntime`.
fn format_runtime(millis: i64) -> String {
    let secs = millis.max(0) / 1000;
    format!(
        "[ {} days, {} hours, {} minutes, {} seconds ]",
        secs / 86_400,
        secs % 86_400 / 3_600,
        secs % 3_600 / 60,
        secs % 60
    )
}

/// `1.5 KiB`, as Java's `MixAll.humanReadableByteCount(bytes, false)` writes sizes.
fn human_bytes(bytes: i64) -> String {
    if bytes < 1024 {
        return format!("{bytes} B");
    }
    let exp = ((bytes as f64).ln() / 1024f64.ln()) as i32;
    let unit = ["K", "M", "G", "T", "P", "E"][(exp as usize - 1).min(5)];
    format!("{:.1} {unit}iB", bytes as f64 / 1024f64.powi(exp))
}

#[cfg(test)]
mod tests {
    #[test]
    fn sizes_read_like_java() {
        assert_eq!(super::human_bytes(0), "0 B");
        assert_eq!(super::human_bytes(1536), "1.5 KiB");
        assert_eq!(super::human_bytes(3 * 1024 * 1024), "3.0 MiB");
    }

    #[test]
    fn runtime_reads_like_apache() {
        assert_eq!(
            super::format_runtime(90_061_000),
            "[ 1 days, 1 hours, 1 minutes, 1 seconds ]"
        );
    }
}
