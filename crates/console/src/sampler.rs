//! The console's own measurements: every `interval` it reads the brokers' put/get counters,
//! each topic's queue max offsets and each group's consume stats, and keeps the last hour of
//! cluster TPS and group backlog. Rates are differences of counters between two samples, so
//! before the second sample there are none (the page says so rather than showing zeros).
//!
//! Memory is bounded: one hour of points, at most [`MAX_TOPICS`] topics and [`MAX_GROUPS`]
//! groups sampled (beyond them, topics and groups are listed but have no rates).

use std::collections::{BTreeMap, HashMap, VecDeque};
use std::sync::Arc;
use std::time::Duration;

use futures::StreamExt;
use parking_lot::Mutex;
use rmq_client::{Admin, ClusterInfo};
use rmq_common::time::now_millis;
use rmq_common::topic::RETRY_GROUP_TOPIC_PREFIX;
use tokio_util::sync::CancellationToken;

use crate::backlog;
use crate::kind::{is_internal, own_names};
use crate::state::Console;

pub const MAX_TOPICS: usize = 1000;
pub const MAX_GROUPS: usize = 1000;
/// RPCs in flight at once while sampling.
const PARALLEL: usize = 8;

/// A sample's counters.
#[derive(Debug, Default, Clone)]
struct Counters {
    at_ms: i64,
    put: Option<i64>,
    get: Option<i64>,
    topic_max: BTreeMap<String, i64>,
    group_consumed: BTreeMap<String, i64>,
}

#[derive(Debug, Default)]
struct Data {
    /// (time, put TPS, get TPS) of the whole cluster.
    cluster: VecDeque<(i64, Option<f64>, Option<f64>)>,
    group_backlog: HashMap<String, VecDeque<(i64, i64)>>,
    last: Option<Counters>,
    topic_tps: BTreeMap<String, f64>,
    group_tps: BTreeMap<String, f64>,
    topic_backlog: BTreeMap<String, i64>,
    latest_group_backlog: BTreeMap<String, i64>,
    samples: u64,
}

/// The figures so far; handlers read, the sampler task writes.
pub struct Samples {
    interval: Duration,
    points: usize,
    data: Mutex<Data>,
}

/// What the overview shows of the samples.
#[derive(Debug, Default, serde::Serialize)]
pub struct Figures {
    pub put: Vec<(i64, f64)>,
    pub get: Vec<(i64, f64)>,
    pub topic_tps: BTreeMap<String, f64>,
    pub group_tps: BTreeMap<String, f64>,
    pub topic_backlog: BTreeMap<String, i64>,
    pub group_backlog: BTreeMap<String, i64>,
    pub samples: u64,
}

impl Samples {
    pub fn new(interval: Duration) -> Samples {
        let secs = interval.as_secs().max(1) as usize;
        Samples {
            interval,
            points: (3600 / secs).max(2),
            data: Mutex::new(Data::default()),
        }
    }

    pub fn interval(&self) -> Duration {
        self.interval
    }

    pub fn figures(&self) -> Figures {
        let d = self.data.lock();
        Figures {
            put: d
                .cluster
                .iter()
                .filter_map(|(t, p, _)| Some((*t, (*p)?)))
                .collect(),
            get: d
                .cluster
                .iter()
                .filter_map(|(t, _, g)| Some((*t, (*g)?)))
                .collect(),
            topic_tps: d.topic_tps.clone(),
            group_tps: d.group_tps.clone(),
            topic_backlog: d.topic_backlog.clone(),
            group_backlog: d.latest_group_backlog.clone(),
            samples: d.samples,
        }
    }

    /// The group's measured consume TPS, if two samples saw it.
    pub fn group_tps(&self, group: &str) -> Option<f64> {
        self.data.lock().group_tps.get(group).copied()
    }

    /// The group's backlog over the last hour.
    pub fn group_series(&self, group: &str) -> Vec<(i64, i64)> {
        let d = self.data.lock();
        d.group_backlog
            .get(group)
            .map(|s| s.iter().copied().collect())
            .unwrap_or_default()
    }

    fn record(
        &self,
        now: Counters,
        topic_backlog: BTreeMap<String, i64>,
        groups: BTreeMap<String, i64>,
    ) {
        let mut d = self.data.lock();
        let points = self.points;
        if let Some(prev) = d.last.take() {
            let secs = (now.at_ms - prev.at_ms) as f64 / 1000.0;
            let rate = |a: Option<i64>, b: Option<i64>| match (a, b) {
                (Some(a), Some(b)) if b >= a && secs > 0.0 => Some((b - a) as f64 / secs),
                _ => None,
            };
            let put = rate(prev.put, now.put);
            let get = rate(prev.get, now.get);
            push_bounded(&mut d.cluster, (now.at_ms, put, get), points);
            d.topic_tps = rates(&prev.topic_max, &now.topic_max, secs);
            d.group_tps = rates(&prev.group_consumed, &now.group_consumed, secs);
        }
        for (g, backlog) in &groups {
            let series = d.group_backlog.entry(g.clone()).or_default();
            push_bounded(series, (now.at_ms, *backlog), points);
        }
        d.group_backlog.retain(|g, _| groups.contains_key(g));
        d.topic_backlog = topic_backlog;
        d.latest_group_backlog = groups;
        d.last = Some(now);
        d.samples += 1;
    }
}

fn push_bounded<T>(q: &mut VecDeque<T>, v: T, cap: usize) {
    if q.len() >= cap {
        q.pop_front();
    }
    q.push_back(v);
}

fn rates(
    prev: &BTreeMap<String, i64>,
    now: &BTreeMap<String, i64>,
    secs: f64,
) -> BTreeMap<String, f64> {
    now.iter()
        .filter_map(|(k, b)| {
            let a = prev.get(k)?;
            (b >= a && secs > 0.0).then(|| (k.clone(), (b - a) as f64 / secs))
        })
        .collect()
}

/// The sampler task: one sample per interval until `stop`.
pub async fn run(console: Arc<Console>, stop: CancellationToken) {
    let mut tick = tokio::time::interval(console.samples.interval());
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tokio::select! {
            _ = stop.cancelled() => return,
            _ = tick.tick() => {}
        }
        tokio::select! {
            _ = stop.cancelled() => return,
            _ = sample(&console) => {}
        }
    }
}

async fn sample(console: &Console) {
    let admin = console.admin();
    let mut now = Counters {
        at_ms: now_millis(),
        ..Default::default()
    };
    let mut topic_backlog = BTreeMap::new();
    let mut group_backlog = BTreeMap::new();
    // One cluster view per sample, for the brokers, the topics and the groups alike.
    let info = match admin.cluster_info().await {
        Ok(info) => info,
        Err(e) => {
            tracing::debug!(error = %e, "sampler: no cluster info");
            console.samples.record(now, topic_backlog, group_backlog);
            return;
        }
    };
    let addrs: Vec<String> = info
        .broker_addr_table
        .values()
        .flat_map(|b| b.broker_addrs.values().cloned())
        .collect();
    let tables = futures::stream::iter(addrs)
        .map(|a| {
            let admin = admin.clone();
            async move { admin.broker_runtime_info(&a).await }
        })
        .buffer_unordered(PARALLEL)
        .collect::<Vec<_>>()
        .await;
    for t in tables.into_iter().flatten() {
        let n = |k: &str| t.get(k).and_then(|v| v.parse::<i64>().ok());
        if t.get("brokerRole").map(String::as_str) != Some("SLAVE") {
            now.put = Some(now.put.unwrap_or(0) + n("msgPutTotalTodayNow").unwrap_or(0));
        }
        now.get = Some(now.get.unwrap_or(0) + n("msgGetTotalTodayNow").unwrap_or(0));
    }
    now.topic_max = topic_max_offsets(&admin, &info).await;
    let groups = console.groups_in(&info).await.unwrap_or_default();
    let stats = futures::stream::iter(groups.into_iter().take(MAX_GROUPS))
        .map(|g| {
            let admin = admin.clone();
            async move {
                let s = admin.consume_stats_everywhere(&g, None).await;
                (g, s)
            }
        })
        .buffer_unordered(PARALLEL)
        .collect::<Vec<_>>()
        .await;
    for (g, s) in stats {
        let Ok(s) = s else { continue };
        let (mut backlog, mut consumed) = (0, 0);
        for (mq, o) in &s.offset_table {
            let lag = backlog::of_queue(o);
            backlog += lag;
            consumed += o.consumer_offset.max(0);
            if !mq.topic.starts_with(RETRY_GROUP_TOPIC_PREFIX) {
                *topic_backlog.entry(mq.topic.clone()).or_insert(0) += lag;
            }
        }
        group_backlog.insert(g.clone(), backlog);
        now.group_consumed.insert(g, consumed);
    }
    console.samples.record(now, topic_backlog, group_backlog);
}

/// The sum of every queue's max offset, per user topic.
async fn topic_max_offsets(admin: &Arc<Admin>, info: &ClusterInfo) -> BTreeMap<String, i64> {
    let Ok(list) = admin.topic_list().await else {
        return BTreeMap::new();
    };
    let own = own_names(info);
    let topics: Vec<String> = list
        .topic_list
        .into_iter()
        .filter(|t| !is_internal(t, &own))
        .take(MAX_TOPICS)
        .collect();
    futures::stream::iter(topics)
        .map(|t| {
            let admin = admin.clone();
            async move {
                let total = topic_total(&admin, &t).await;
                (t, total)
            }
        })
        .buffer_unordered(PARALLEL)
        .filter_map(|(t, total)| async move { total.map(|n| (t, n)) })
        .collect()
        .await
}

async fn topic_total(admin: &Admin, topic: &str) -> Option<i64> {
    let route = admin.topic_route(topic).await.ok()?;
    let mut total = 0;
    for b in &route.broker_datas {
        let addr = b.master_addr()?;
        let stats = admin.topic_stats(addr, topic).await.ok()?;
        total += stats
            .offset_table
            .values()
            .map(|o| o.max_offset)
            .sum::<i64>();
    }
    Some(total)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn counters(at_ms: i64, put: i64, topic: i64) -> Counters {
        Counters {
            at_ms,
            put: Some(put),
            get: None,
            topic_max: [("T".to_owned(), topic)].into(),
            group_consumed: BTreeMap::new(),
        }
    }

    #[test]
    fn rates_need_two_samples_and_skip_counter_resets() {
        let s = Samples::new(Duration::from_secs(1));
        s.record(counters(1_000, 100, 10), BTreeMap::new(), BTreeMap::new());
        let f = s.figures();
        assert!(
            f.put.is_empty() && f.topic_tps.is_empty(),
            "no rate from one sample"
        );
        s.record(counters(3_000, 300, 50), BTreeMap::new(), BTreeMap::new());
        let f = s.figures();
        assert_eq!(f.put, vec![(3_000, 100.0)]);
        assert_eq!(f.topic_tps["T"], 20.0);
        // A broker restart (or midnight) resets its counter: no negative rate, a gap.
        s.record(counters(4_000, 5, 50), BTreeMap::new(), BTreeMap::new());
        assert_eq!(s.figures().put.len(), 1);
    }

    #[test]
    fn an_hour_of_points_at_most_and_gone_groups_forgotten() {
        let s = Samples::new(Duration::from_secs(60));
        for i in 0..200 {
            let groups = [("G".to_owned(), i)].into();
            s.record(counters(i * 60_000, i, i), BTreeMap::new(), groups);
        }
        assert_eq!(s.figures().put.len(), 60);
        assert_eq!(s.group_series("G").len(), 60);
        s.record(
            counters(200 * 60_000, 200, 200),
            BTreeMap::new(),
            BTreeMap::new(),
        );
        assert!(s.group_series("G").is_empty());
    }
}
