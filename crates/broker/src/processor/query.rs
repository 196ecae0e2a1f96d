//! QUERY_MESSAGE (12) by key or unique key, and VIEW_MESSAGE_BY_ID (33) by physical offset.

use std::sync::Arc;

use bytes::BytesMut;
use rmq_remoting::header::{
    QueryMessageRequestHeader, QueryMessageResponseHeader, ViewMessageRequestHeader,
};
use rmq_remoting::transport::{ProcessError, ProcessResult};
use rmq_remoting::{RemotingCommand, RequestContext, ResponseCode};

use crate::context::BrokerContext;

/// extField that marks `key` as a UNIQ_KEY (`MixAll.UNIQUE_MSG_QUERY_FLAG`).
const UNIQUE_KEY_QUERY: &str = "_UNIQUE_KEY_QUERY";

/// Most messages one QUERY_MESSAGE answers (Apache's `maxMsgsNumBatch`).
pub const MAX_QUERY_HITS: usize = 64;

pub async fn query_message(
    ctx: Arc<BrokerContext>,
    _rc: RequestContext,
    req: RemotingCommand,
) -> ProcessResult {
    let h: QueryMessageRequestHeader = req.decode_header()?;
    let unique = req
        .ext_fields
        .get(UNIQUE_KEY_QUERY)
        .is_some_and(|v| v.eq_ignore_ascii_case("true"));
    // Apache caps every query at maxMsgsNumBatch (64): an index walk per hit, and the answer
    // is one frame.
    let max = if unique {
        ctx.config().store.default_query_max_num
    } else {
        usize::try_from(h.max_num.max(1)).unwrap_or(1)
    }
    .min(MAX_QUERY_HITS);
    let end = if h.end_timestamp <= 0 {
        i64::MAX
    } else {
        h.end_timestamp
    };
    let r = ctx
        .store()
        .query_message(&h.topic, &h.key, max, h.begin_timestamp, end);
    let header = QueryMessageResponseHeader {
        index_last_update_timestamp: r.index_last_update_timestamp,
        index_last_update_phyoffset: r.index_last_update_phy_offset,
    };
    if r.messages.is_empty() {
        return Ok(Some(
            req.response_to(ResponseCode::QueryNotFound)
                .with_header(&header)
                .with_remark(format!(
                    "can not find message by key {} in topic {}, maybe the index is not built yet or the time range is wrong",
                    h.key, h.topic
                )),
        ));
    }
    let mut body = BytesMut::with_capacity(r.messages.iter().map(|m| m.len()).sum());
    for m in &r.messages {
        body.extend_from_slice(m);
    }
    Ok(Some(
        req.response_to(ResponseCode::Success)
            .with_header(&header)
            .with_body(body.freeze()),
    ))
}

pub async fn view_by_id(
    ctx: Arc<BrokerContext>,
    _rc: RequestContext,
    req: RemotingCommand,
) -> ProcessResult {
    let h: ViewMessageRequestHeader = req.decode_header()?;
    match ctx.store().look_message_by_offset(h.offset) {
        Some(rec) => Ok(Some(req.response_to(ResponseCode::Success).with_body(rec))),
        None => Err(ProcessError::response(
            ResponseCode::SystemError,
            format!("can not find message by the offset, {}", h.offset),
        )),
    }
}
