//! Turning a [`Message`] into a SEND_MESSAGE_V2 / SEND_BATCH_MESSAGE request, and a send
//! response into a [`SendResult`] (protocol.md 2.3, 2.4, 3.3, 3.8).
//!
//! Kept free of I/O so the wire details (which header fields, which sysflag bits, which batch
//! bytes, which codes mean "stored") are unit-tested on their own.

use bytes::{BufMut, Bytes, BytesMut};
use rmq_common::message::{encode_properties, keys, Properties};
use rmq_common::msg_id::UniqueIdGenerator;
use rmq_common::sysflag::message as msg_flag;
use rmq_common::topic::{is_retry_topic, validate_topic, AUTO_CREATE_TOPIC_KEY};
use rmq_common::{Message, MessageQueue};
use rmq_remoting::header::{SendMessageRequestHeaderV2, SendMessageResponseHeader};
use rmq_remoting::{RemotingCommand, RequestCode, ResponseCode};

use crate::compress::Compression;
use crate::error::{ClientError, Result};
use crate::route::DEFAULT_TOPIC_QUEUE_NUMS;

/// Whether the message was stored, and how durably (protocol.md 2.3: every status here means
/// the master stored it).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum SendStatus {
    /// Stored as the broker's durability mode promises.
    SendOk,
    /// Stored, but the SYNC_FLUSH flush did not finish in time.
    FlushDiskTimeout,
    /// Stored on the master, but the SYNC_MASTER slave did not confirm in time.
    FlushSlaveTimeout,
    /// Stored on the master, but a SYNC_MASTER broker has no slave to copy it to.
    SlaveNotAvailable,
}

/// Java's names: `SEND_OK`, `FLUSH_DISK_TIMEOUT`, `FLUSH_SLAVE_TIMEOUT`, `SLAVE_NOT_AVAILABLE`.
impl std::fmt::Display for SendStatus {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            SendStatus::SendOk => "SEND_OK",
            SendStatus::FlushDiskTimeout => "FLUSH_DISK_TIMEOUT",
            SendStatus::FlushSlaveTimeout => "FLUSH_SLAVE_TIMEOUT",
            SendStatus::SlaveNotAvailable => "SLAVE_NOT_AVAILABLE",
        })
    }
}

/// The outcome of a successful send.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SendResult {
    /// How durably it was stored.
    pub status: SendStatus,
    /// The `UNIQ_KEY` (comma-joined for a batch): what users know as the message id.
    pub msg_id: String,
    /// The broker's offset message id (store host + commit-log offset); comma-joined for a batch.
    pub offset_msg_id: String,
    /// The queue it went to.
    pub message_queue: MessageQueue,
    /// Consume-queue offset of the (first) message.
    pub queue_offset: i64,
    /// The broker's transaction id (half messages of a transaction producer).
    pub transaction_id: Option<String>,
    /// The broker's region (`MSG_REGION`; `DefaultRegion` when it names none).
    pub region_id: String,
    /// Whether the broker wants sends traced (`TRACE_ON`; true unless it says `false`).
    pub trace_on: bool,
}

/// A message ready to go on the wire: properties encoded, body possibly compressed.
#[derive(Debug, Clone)]
pub struct PreparedMessage {
    pub topic: String,
    pub body: Bytes,
    pub flag: i32,
    pub sys_flag: i32,
    pub properties: String,
    pub uniq_key: String,
    pub reconsume_times: Option<i32>,
    pub max_reconsume_times: Option<i32>,
    pub batch: bool,
    /// A reply to a request (`MSG_TYPE=reply`): sent as SEND_REPLY_MESSAGE_V2, which the broker
    /// pushes to the requester.
    pub reply: bool,
}

impl PreparedMessage {
    /// The request that carries it.
    pub fn request_code(&self) -> RequestCode {
        if self.batch {
            RequestCode::SendBatchMessage
        } else if self.reply {
            RequestCode::SendReplyMessageV2
        } else {
            RequestCode::SendMessageV2
        }
    }
}

/// Limits applied when preparing messages.
#[derive(Debug, Clone, Copy)]
pub struct EncodeLimits {
    pub max_message_size: usize,
    pub compress_threshold: usize,
    pub compression: Compression,
}

fn check_topic(topic: &str) -> Result<()> {
    validate_topic(topic).map_err(|e| ClientError::InvalidMessage(e.to_string()))
}

fn check_body(body: &[u8], limits: EncodeLimits) -> Result<()> {
    if body.is_empty() {
        return Err(ClientError::InvalidMessage(
            "the message body is empty".into(),
        ));
    }
    if body.len() > limits.max_message_size {
        return Err(ClientError::MessageTooLarge {
            size: body.len(),
            max: limits.max_message_size,
        });
    }
    Ok(())
}

fn ensure_uniq_key(props: &mut Properties, ids: &UniqueIdGenerator) -> String {
    props
        .entry(keys::UNIQ_KEY.to_owned())
        .or_insert_with(|| ids.next_id())
        .clone()
}

/// Validates and encodes one message (Java's `sendKernelImpl` up to the request).
pub fn prepare_message(
    msg: &Message,
    ids: &UniqueIdGenerator,
    limits: EncodeLimits,
) -> Result<PreparedMessage> {
    check_topic(&msg.topic)?;
    check_body(&msg.body, limits)?;
    let mut props = msg.properties.clone();
    let uniq_key = ensure_uniq_key(&mut props, ids);
    let (mut reconsume_times, mut max_reconsume_times) = (None, None);
    if is_retry_topic(&msg.topic) {
        reconsume_times = props
            .remove(keys::RECONSUME_TIME)
            .and_then(|v| v.parse().ok());
        max_reconsume_times = props
            .remove(keys::MAX_RECONSUME_TIMES)
            .and_then(|v| v.parse().ok());
    }
    let mut sys_flag = 0;
    let body = if msg.body.len() >= limits.compress_threshold {
        sys_flag |= msg_flag::COMPRESSED | limits.compression.sys_flag();
        Bytes::from(limits.compression.compress(&msg.body))
    } else {
        msg.body.clone()
    };
    if props.get(keys::TRAN_MSG).is_some_and(|v| v == "true") {
        sys_flag |= msg_flag::TRANSACTION_PREPARED_TYPE;
    }
    let reply = props
        .get(keys::MSG_TYPE)
        .is_some_and(|v| v == keys::REPLY_MESSAGE_FLAG);
    Ok(PreparedMessage {
        topic: msg.topic.clone(),
        body,
        flag: msg.flag,
        sys_flag,
        properties: encode_properties(&props),
        uniq_key,
        reconsume_times,
        max_reconsume_times,
        batch: false,
        reply,
    })
}

/// Validates and encodes a batch (protocol.md 3.8): one topic, no delay, no retry topic, each
/// message its own `UNIQ_KEY`. The returned message's `uniq_key` is the comma-joined inner keys.
pub fn prepare_batch(
    msgs: &[Message],
    ids: &UniqueIdGenerator,
    limits: EncodeLimits,
) -> Result<PreparedMessage> {
    let first = msgs
        .first()
        .ok_or_else(|| ClientError::InvalidMessage("the batch is empty".into()))?;
    check_topic(&first.topic)?;
    if is_retry_topic(&first.topic) {
        return Err(ClientError::InvalidMessage(
            "retry topics cannot be sent in a batch".into(),
        ));
    }
    let mut body = BytesMut::new();
    let mut uniq_keys = Vec::with_capacity(msgs.len());
    for m in msgs {
        if m.topic != first.topic {
            return Err(ClientError::InvalidMessage(format!(
                "a batch must have one topic; found {:?} and {:?}",
                first.topic, m.topic
            )));
        }
        if m.wait_store_msg_ok() != first.wait_store_msg_ok() {
            return Err(ClientError::InvalidMessage(
                "every message of a batch must have the same WAIT".into(),
            ));
        }
        if m.delay_level() > 0 {
            return Err(ClientError::InvalidMessage(
                "delayed messages cannot be sent in a batch".into(),
            ));
        }
        if m.body.is_empty() {
            return Err(ClientError::InvalidMessage(
                "a message body is empty".into(),
            ));
        }
        let mut props = m.properties.clone();
        uniq_keys.push(ensure_uniq_key(&mut props, ids));
        encode_batch_entry(m.flag, &m.body, &encode_properties(&props), &mut body);
    }
    if body.len() > limits.max_message_size {
        return Err(ClientError::MessageTooLarge {
            size: body.len(),
            max: limits.max_message_size,
        });
    }
    // No UNIQ_KEY of the batch's own (4.9.x clients send none either): Apache's 4.9 brokers
    // append the batch's properties to every record's, and the later UNIQ_KEY would replace each
    // message's id with the batch's.
    let mut batch_props = Properties::new();
    batch_props.insert(keys::WAIT.to_owned(), first.wait_store_msg_ok().to_string());
    Ok(PreparedMessage {
        topic: first.topic.clone(),
        body: body.freeze(),
        flag: 0,
        sys_flag: 0,
        properties: encode_properties(&batch_props),
        uniq_key: uniq_keys.join(","),
        reconsume_times: None,
        max_reconsume_times: None,
        batch: true,
        reply: false,
    })
}

/// One batch record: TOTALSIZE, MAGIC 0, BODYCRC 0, FLAG, body, properties (protocol.md 3.8).
pub fn encode_batch_entry(flag: i32, body: &[u8], properties: &str, out: &mut BytesMut) {
    let total = 4 + 4 + 4 + 4 + 4 + body.len() + 2 + properties.len();
    out.reserve(total);
    out.put_i32(total as i32);
    out.put_i32(0);
    out.put_i32(0);
    out.put_i32(flag);
    out.put_i32(body.len() as i32);
    out.put_slice(body);
    out.put_i16(properties.len() as i16);
    out.put_slice(properties.as_bytes());
}

/// The V2 request header for sending `m` to `mq`.
pub fn request_header(
    m: &PreparedMessage,
    group: &str,
    mq: &MessageQueue,
    born_timestamp: i64,
) -> SendMessageRequestHeaderV2 {
    SendMessageRequestHeaderV2 {
        a: group.to_owned(),
        b: m.topic.clone(),
        c: AUTO_CREATE_TOPIC_KEY.to_owned(),
        d: DEFAULT_TOPIC_QUEUE_NUMS,
        e: mq.queue_id,
        f: m.sys_flag,
        g: born_timestamp,
        h: m.flag,
        i: (!m.properties.is_empty()).then(|| m.properties.clone()),
        j: Some(m.reconsume_times.unwrap_or(0)),
        k: Some(false),
        l: m.max_reconsume_times,
        m: Some(m.batch),
        n: Some(mq.broker_name.clone()),
    }
}

/// Response codes after which Java retries a send on another broker.
pub fn is_retryable_code(code: i32) -> bool {
    matches!(code, 17 | 14 | 1 | 2 | 16 | 204 | 205 | 1500)
}

/// Maps a send response to a result, or to the broker's error.
pub fn parse_send_response(
    addr: &str,
    mq: &MessageQueue,
    uniq_key: &str,
    response: &RemotingCommand,
) -> Result<SendResult> {
    let status = match ResponseCode::from(response.code) {
        ResponseCode::Success => SendStatus::SendOk,
        ResponseCode::FlushDiskTimeout => SendStatus::FlushDiskTimeout,
        ResponseCode::FlushSlaveTimeout => SendStatus::FlushSlaveTimeout,
        ResponseCode::SlaveNotAvailable => SendStatus::SlaveNotAvailable,
        _ => return Err(ClientError::from_response(addr, response)),
    };
    let h: SendMessageResponseHeader =
        response
            .decode_header()
            .map_err(|e| ClientError::BadResponse {
                addr: addr.to_owned(),
                reason: e.to_string(),
            })?;
    Ok(SendResult {
        status,
        msg_id: uniq_key.to_owned(),
        offset_msg_id: h.msg_id,
        message_queue: MessageQueue::new(mq.topic.clone(), mq.broker_name.clone(), h.queue_id),
        queue_offset: h.queue_offset,
        transaction_id: h.transaction_id,
        region_id: response
            .ext_fields
            .get(rmq_remoting::header::MSG_REGION)
            .filter(|r| !r.is_empty())
            .unwrap_or("DefaultRegion")
            .to_owned(),
        trace_on: response
            .ext_fields
            .get(rmq_remoting::header::TRACE_ON)
            .is_none_or(|v| v != "false"),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use rmq_remoting::CommandHeader;

    fn ids() -> UniqueIdGenerator {
        UniqueIdGenerator::new("127.0.0.1".parse().unwrap())
    }

    const LIMITS: EncodeLimits = EncodeLimits {
        max_message_size: 4 * 1024 * 1024,
        compress_threshold: 4096,
        compression: Compression::Zlib,
    };

    #[test]
    fn batch_entry_golden_bytes() {
        let mut out = BytesMut::new();
        encode_batch_entry(7, b"hi", "A\u{1}b\u{2}", &mut out);
        // TOTALSIZE = 22 + 2 + 4 = 28
        let expected: &[u8] = &[
            0, 0, 0, 28, // total size
            0, 0, 0, 0, // magic
            0, 0, 0, 0, // body crc
            0, 0, 0, 7, // flag
            0, 0, 0, 2, b'h', b'i', // body
            0, 4, b'A', 1, b'b', 2, // properties
        ];
        assert_eq!(&out[..], expected);
    }

    #[test]
    fn batch_has_one_uniq_key_per_message() {
        let msgs: Vec<_> = (0..3)
            .map(|i| Message::new("T", format!("m{i}")).with_tags("A"))
            .collect();
        let p = prepare_batch(&msgs, &ids(), LIMITS).unwrap();
        assert!(p.batch);
        let keys: Vec<_> = p.uniq_key.split(',').collect();
        assert_eq!(keys.len(), 3);
        // Each record carries its own UNIQ_KEY; decode the first one.
        let b = &p.body;
        let total = i32::from_be_bytes([b[0], b[1], b[2], b[3]]) as usize;
        let body_len = i32::from_be_bytes([b[16], b[17], b[18], b[19]]) as usize;
        assert_eq!(&b[20..20 + body_len], b"m0");
        let props = std::str::from_utf8(&b[22 + body_len..total]).unwrap();
        assert!(props.contains(&format!("UNIQ_KEY\u{1}{}\u{2}", keys[0])));
        assert!(props.contains("TAGS\u{1}A\u{2}"));
        assert!(p.properties.contains("WAIT\u{1}true\u{2}"));
        assert!(
            !p.properties.contains("UNIQ_KEY"),
            "a batch-level UNIQ_KEY overrides each message's on Apache 4.9 brokers"
        );

        let mixed = vec![Message::new("T", "a"), Message::new("U", "b")];
        assert!(matches!(
            prepare_batch(&mixed, &ids(), LIMITS),
            Err(ClientError::InvalidMessage(_))
        ));
        let delayed = vec![Message::new("T", "a").with_delay_level(2)];
        assert!(prepare_batch(&delayed, &ids(), LIMITS).is_err());
        assert!(prepare_batch(&[], &ids(), LIMITS).is_err());
    }

    #[test]
    fn large_bodies_are_compressed_with_zlib_flags() {
        let small = prepare_message(&Message::new("T", vec![1u8; 4095]), &ids(), LIMITS).unwrap();
        assert_eq!(small.sys_flag, 0);
        assert_eq!(small.body.len(), 4095);
        let big = prepare_message(&Message::new("T", vec![1u8; 4096]), &ids(), LIMITS).unwrap();
        assert_eq!(big.sys_flag, 0x301);
        assert_eq!(
            crate::compress::zlib_decompress(&big.body, usize::MAX).unwrap(),
            vec![1u8; 4096]
        );
    }

    #[test]
    fn too_large_and_invalid_messages() {
        let err = prepare_message(
            &Message::new("T", vec![0u8; 4 * 1024 * 1024 + 1]),
            &ids(),
            LIMITS,
        )
        .unwrap_err();
        assert!(err.to_string().contains("4194305"), "{err}");
        assert!(err.to_string().contains("4194304"), "{err}");
        assert!(prepare_message(&Message::new("T", ""), &ids(), LIMITS).is_err());
        assert!(prepare_message(&Message::new("bad topic", "x"), &ids(), LIMITS).is_err());
    }

    #[test]
    fn header_fields() {
        let msg = Message::new("%RETRY%G", "x")
            .with_property("RECONSUME_TIME", "3")
            .with_property("MAX_RECONSUME_TIMES", "16")
            .with_keys(["k1", "k2"]);
        let p = prepare_message(&msg, &ids(), LIMITS).unwrap();
        let h = request_header(&p, "PG", &MessageQueue::new("%RETRY%G", "b", 1), 99);
        let ext = h.to_ext_fields();
        assert_eq!(ext.get("a"), Some("PG"));
        assert_eq!(ext.get("c"), Some("TBW102"));
        assert_eq!(ext.get("d"), Some("4"));
        assert_eq!(ext.get("e"), Some("1"));
        assert_eq!(ext.get("j"), Some("3"));
        assert_eq!(ext.get("l"), Some("16"));
        assert_eq!(ext.get("n"), Some("b"));
        let props = ext.get("i").unwrap();
        assert!(!props.contains("RECONSUME_TIME"));
        assert!(props.contains("KEYS\u{1}k1 k2\u{2}"));
        assert!(props.contains(&format!("UNIQ_KEY\u{1}{}", p.uniq_key)));
    }

    #[test]
    fn response_mapping() {
        let mq = MessageQueue::new("T", "b", 0);
        let ok = |code: i32| {
            RemotingCommand::new_response(code, None)
                .with_ext_field("msgId", "OFF")
                .with_ext_field("queueId", "3")
                .with_ext_field("queueOffset", "42")
        };
        let r = parse_send_response("addr", &mq, "U", &ok(0)).unwrap();
        assert_eq!(r.status, SendStatus::SendOk);
        assert_eq!(r.msg_id, "U");
        assert_eq!(r.offset_msg_id, "OFF");
        assert_eq!(r.message_queue, MessageQueue::new("T", "b", 3));
        assert_eq!(r.queue_offset, 42);
        for (code, st) in [
            (10, SendStatus::FlushDiskTimeout),
            (11, SendStatus::SlaveNotAvailable),
            (12, SendStatus::FlushSlaveTimeout),
        ] {
            assert_eq!(
                parse_send_response("a", &mq, "U", &ok(code))
                    .unwrap()
                    .status,
                st
            );
        }
        let busy = RemotingCommand::new_response(2, Some("[OVERLOAD]".into()));
        assert!(matches!(
            parse_send_response("a", &mq, "U", &busy),
            Err(ClientError::BrokerBusy { .. })
        ));
        let bad = RemotingCommand::new_response(13, Some("illegal".into()));
        let e = parse_send_response("1.2.3.4:10911", &mq, "U", &bad).unwrap_err();
        assert!(e.to_string().contains("MESSAGE_ILLEGAL(13)"), "{e}");
        assert!(e.to_string().contains("illegal"), "{e}");
        assert!(is_retryable_code(2) && is_retryable_code(17) && !is_retryable_code(13));
        // A success without its header is a bad response, not a panic.
        assert!(matches!(
            parse_send_response("a", &mq, "U", &RemotingCommand::new_response(0, None)),
            Err(ClientError::BadResponse { .. })
        ));
    }
}
