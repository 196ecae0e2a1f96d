//! Turning a PULL_MESSAGE response into a [`PullResult`] (protocol.md 2.5): the code becomes a
//! status (FOUND / NO_NEW_MSG / NO_MATCHED_MSG / OFFSET_ILLEGAL), the body is decoded into
//! messages (bodies share the response buffer), compressed bodies are inflated, messages that
//! only matched the broker's tag *hash* are dropped, and `MIN_OFFSET`/`MAX_OFFSET` are added as
//! Java's `PullAPIWrapper.processPullResult` does.

use rmq_common::message::keys;
use rmq_common::record::decode_messages;
use rmq_common::topic::retry_topic;
use rmq_common::MessageExt;
use rmq_remoting::body::SubscriptionData;
use rmq_remoting::header::PullMessageResponseHeader;
use rmq_remoting::{RemotingCommand, ResponseCode};

use super::subscription::matches;
use crate::compress::decompress_message;
use crate::error::{ClientError, Result};

/// What a pull found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PullStatus {
    /// Messages (possibly all filtered out on the client).
    Found,
    /// Caught up (PULL_NOT_FOUND).
    NoNewMsg,
    /// Entries were scanned but none matched the tags (PULL_RETRY_IMMEDIATELY).
    NoMatchedMsg,
    /// The offset was out of range; continue from `next_begin_offset` (PULL_OFFSET_MOVED).
    OffsetIllegal,
}

/// A processed pull response.
#[derive(Debug, Clone)]
pub struct PullResult {
    /// What the broker found.
    pub status: PullStatus,
    /// The offset to pull from next.
    pub next_begin_offset: i64,
    /// Messages that passed the client-side tag check, in offset order.
    pub messages: Vec<MessageExt>,
}

/// Processes a pull response from `addr` for subscription `sub`; compressed bodies are inflated
/// up to `max_body` bytes.
pub fn process_pull_response(
    addr: &str,
    response: &RemotingCommand,
    sub: &SubscriptionData,
    max_body: usize,
) -> Result<PullResult> {
    let status = match ResponseCode::from(response.code) {
        ResponseCode::Success => PullStatus::Found,
        ResponseCode::PullNotFound => PullStatus::NoNewMsg,
        ResponseCode::PullRetryImmediately => PullStatus::NoMatchedMsg,
        ResponseCode::PullOffsetMoved => PullStatus::OffsetIllegal,
        _ => return Err(ClientError::from_response(addr, response)),
    };
    let bad = |reason: String| ClientError::BadResponse {
        addr: addr.to_owned(),
        reason,
    };
    let h: PullMessageResponseHeader = response.decode_header().map_err(|e| bad(e.to_string()))?;
    let mut messages = Vec::new();
    if status == PullStatus::Found {
        let decoded =
            decode_messages(&response.body).map_err(|e| bad(format!("pull body: {e}")))?;
        messages.reserve(decoded.len());
        let (min, max) = (h.min_offset.to_string(), h.max_offset.to_string());
        for mut m in decoded {
            if !matches(sub, &m) {
                continue;
            }
            decompress_message(&mut m, max_body);
            m.message
                .properties
                .insert(keys::MIN_OFFSET.to_owned(), min.clone());
            m.message
                .properties
                .insert(keys::MAX_OFFSET.to_owned(), max.clone());
            messages.push(m);
        }
    }
    Ok(PullResult {
        status,
        next_begin_offset: h.next_begin_offset,
        messages,
    })
}

/// Gives messages from the group's retry topic their original topic back (property
/// `RETRY_TOPIC`), as Java's `resetRetryAndNamespace`.
pub fn restore_retry_topic(group: &str, msgs: &mut [MessageExt]) {
    let group_retry = retry_topic(group);
    for m in msgs {
        if m.message.topic == group_retry {
            if let Some(original) = m.message.properties.get(keys::RETRY_TOPIC) {
                m.message.topic = original.clone();
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::consumer::subscription::build_subscription;
    use bytes::{Bytes, BytesMut};
    use rmq_common::message::encode_properties;
    use rmq_common::record::{encode_record, RecordFields};
    use rmq_common::Message;

    fn record(offset: i64, tag: &str, body: &[u8], sys_flag: i32, out: &mut BytesMut) {
        let mut m = Message::new("T", body.to_vec());
        m.set_tags(tag);
        let props = encode_properties(&m.properties);
        encode_record(
            &RecordFields {
                topic: "T",
                queue_id: 1,
                flag: 0,
                queue_offset: offset,
                physical_offset: 1000 + offset,
                sys_flag,
                born_timestamp: 1,
                born_host: "127.0.0.1:5000".parse().unwrap(),
                store_timestamp: 2,
                store_host: "127.0.0.1:10911".parse().unwrap(),
                reconsume_times: 0,
                prepared_transaction_offset: 0,
                body,
                properties: &props,
            },
            out,
        )
        .unwrap();
    }

    fn response(code: i32, body: Bytes) -> RemotingCommand {
        RemotingCommand::new_response(code, None)
            .with_ext_field("suggestWhichBrokerId", "0")
            .with_ext_field("nextBeginOffset", "13")
            .with_ext_field("minOffset", "0")
            .with_ext_field("maxOffset", "13")
            .with_body(body)
    }

    #[test]
    fn decodes_refilters_and_inflates() {
        let mut buf = BytesMut::new();
        record(10, "TagA", b"a", 0, &mut buf);
        record(11, "TagC", b"c", 0, &mut buf); // same hash bucket on the broker, wrong tag
        let z = crate::compress::zlib_compress(b"zipped");
        record(12, "TagB", &z, 0x301, &mut buf);
        let sub = build_subscription("T", "TagA || TagB");
        let r = process_pull_response("b", &response(0, buf.freeze()), &sub, usize::MAX).unwrap();
        assert_eq!(r.status, PullStatus::Found);
        assert_eq!(r.next_begin_offset, 13);
        let offs: Vec<_> = r.messages.iter().map(|m| m.queue_offset).collect();
        assert_eq!(offs, [10, 12]);
        assert_eq!(&r.messages[1].message.body[..], b"zipped");
        assert_eq!(r.messages[1].sys_flag & 1, 0);
        assert_eq!(r.messages[0].message.property("MAX_OFFSET"), Some("13"));
    }

    #[test]
    fn statuses_and_errors() {
        let sub = build_subscription("T", "*");
        for (code, st) in [
            (19, PullStatus::NoNewMsg),
            (20, PullStatus::NoMatchedMsg),
            (21, PullStatus::OffsetIllegal),
        ] {
            let r = process_pull_response("b", &response(code, Bytes::new()), &sub, usize::MAX)
                .unwrap();
            assert_eq!(r.status, st);
            assert_eq!(r.next_begin_offset, 13);
            assert!(r.messages.is_empty());
        }
        let e = process_pull_response(
            "b",
            &RemotingCommand::new_response(24, None),
            &sub,
            usize::MAX,
        )
        .unwrap_err();
        assert!(e.to_string().contains("SUBSCRIPTION_NOT_EXIST"), "{e}");
        // A garbled body is an error, not a panic.
        let e = process_pull_response(
            "b",
            &response(0, Bytes::from_static(&[0, 0, 0, 99, 1])),
            &sub,
            usize::MAX,
        );
        assert!(matches!(e, Err(ClientError::BadResponse { .. })));
    }

    #[test]
    fn retry_topic_is_restored() {
        let mut buf = BytesMut::new();
        record(0, "x", b"a", 0, &mut buf);
        let mut msgs = decode_messages(&buf.freeze()).unwrap();
        msgs[0].message.topic = "%RETRY%G".into();
        msgs[0]
            .message
            .properties
            .insert("RETRY_TOPIC".into(), "Orig".into());
        restore_retry_topic("G", &mut msgs);
        assert_eq!(msgs[0].message.topic, "Orig");
    }
}
