//! VIEW_BROKER_STATS_DATA (315): one statistic of one key over the last minute, hour and day,
//! as `mqadmin statsAll` reads them (`AdminBrokerProcessor.ViewBrokerStatsData` in Apache).
//!
//! The figures are measured ([`crate::keyed_stats`]); a name this broker does not keep, or a key
//! it has not seen, gets Apache's answer: SYSTEM_ERROR "The stats <NAME> <KEY> not exist".

use std::sync::Arc;

use rmq_remoting::body::{BrokerStatsData, BrokerStatsItem};
use rmq_remoting::header::ViewBrokerStatsDataRequestHeader;
use rmq_remoting::json::JsonBody;
use rmq_remoting::transport::{ProcessError, ProcessResult};
use rmq_remoting::{RemotingCommand, RequestContext, ResponseCode};

use super::admin::ok_with_body;
use crate::context::BrokerContext;
use crate::keyed_stats::{StatsName, WindowFigures};

pub async fn view(
    ctx: Arc<BrokerContext>,
    _rc: RequestContext,
    req: RemotingCommand,
) -> ProcessResult {
    let h: ViewBrokerStatsDataRequestHeader = req.decode_header()?;
    let figures = h
        .stats_name
        .parse::<StatsName>()
        .ok()
        .and_then(|name| ctx.stats().keyed().figures(name, &h.stats_key));
    let Some(f) = figures else {
        return Err(ProcessError::response(
            ResponseCode::SystemError,
            format!("The stats <{}> <{}> not exist", h.stats_name, h.stats_key),
        ));
    };
    let body = BrokerStatsData {
        stats_minute: item(f.minute),
        stats_hour: item(f.hour),
        stats_day: item(f.day),
    };
    ok_with_body(&req, body.to_json_bytes())
}

fn item(w: WindowFigures) -> BrokerStatsItem {
    BrokerStatsItem {
        sum: i64::try_from(w.sum).unwrap_or(i64::MAX),
        tps: w.tps,
        avgpt: w.avgpt,
    }
}
