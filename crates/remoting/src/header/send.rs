//! SEND_MESSAGE (10) headers, the compact V2 form used by SEND_MESSAGE_V2 (310) and
//! SEND_BATCH_MESSAGE (320), and the send response.
//!
//! Brokers work with the V1 names (readable); [`SendMessageRequestHeader::from_command`] accepts
//! whichever form the code implies. Clients send V2 (shorter headers, as Java does by default).

use super::{CommandHeader, HeaderError, RpcFields};
use crate::protocol::{RemotingCommand, RequestCode};

crate::command_header! {
    /// `SendMessageRequestHeader` (SEND_MESSAGE, SEND_REPLY_MESSAGE).
    pub struct SendMessageRequestHeader: "SendMessageRequestHeader" rpc {
        req producer_group: String = "producerGroup",
        req topic: String = "topic",
        /// Template topic for auto-creation, normally `TBW102`.
        req default_topic: String = "defaultTopic",
        req default_topic_queue_nums: i32 = "defaultTopicQueueNums",
        /// Negative: the broker picks a writable queue.
        req queue_id: i32 = "queueId",
        req sys_flag: i32 = "sysFlag",
        req born_timestamp: i64 = "bornTimestamp",
        req flag: i32 = "flag",
        /// Properties string with 0x01/0x02 separators.
        opt properties: String = "properties",
        opt reconsume_times: i32 = "reconsumeTimes",
        opt unit_mode: bool = "unitMode",
        opt batch: bool = "batch",
        opt max_reconsume_times: i32 = "maxReconsumeTimes",
    }
}

crate::command_header! {
    /// `SendMessageRequestHeaderV2`: the same fields under one-letter names `a`..`n`.
    pub struct SendMessageRequestHeaderV2: "SendMessageRequestHeaderV2" {
        /// producerGroup
        req a: String = "a",
        /// topic
        req b: String = "b",
        /// defaultTopic
        req c: String = "c",
        /// defaultTopicQueueNums
        req d: i32 = "d",
        /// queueId
        req e: i32 = "e",
        /// sysFlag
        req f: i32 = "f",
        /// bornTimestamp
        req g: i64 = "g",
        /// flag
        req h: i32 = "h",
        /// properties
        opt i: String = "i",
        /// reconsumeTimes
        opt j: i32 = "j",
        /// unitMode
        opt k: bool = "k",
        /// maxReconsumeTimes
        opt l: i32 = "l",
        /// batch
        opt m: bool = "m",
        /// bname (broker name)
        opt n: String = "n",
    }
}

impl From<&SendMessageRequestHeader> for SendMessageRequestHeaderV2 {
    fn from(v1: &SendMessageRequestHeader) -> Self {
        SendMessageRequestHeaderV2 {
            a: v1.producer_group.clone(),
            b: v1.topic.clone(),
            c: v1.default_topic.clone(),
            d: v1.default_topic_queue_nums,
            e: v1.queue_id,
            f: v1.sys_flag,
            g: v1.born_timestamp,
            h: v1.flag,
            i: v1.properties.clone(),
            j: v1.reconsume_times,
            k: v1.unit_mode,
            l: v1.max_reconsume_times,
            m: v1.batch,
            n: v1.rpc.bname.clone(),
        }
    }
}

impl From<SendMessageRequestHeaderV2> for SendMessageRequestHeader {
    fn from(v2: SendMessageRequestHeaderV2) -> Self {
        SendMessageRequestHeader {
            producer_group: v2.a,
            topic: v2.b,
            default_topic: v2.c,
            default_topic_queue_nums: v2.d,
            queue_id: v2.e,
            sys_flag: v2.f,
            born_timestamp: v2.g,
            flag: v2.h,
            properties: v2.i,
            reconsume_times: v2.j,
            unit_mode: v2.k,
            batch: v2.m,
            max_reconsume_times: v2.l,
            rpc: RpcFields {
                bname: v2.n,
                ..Default::default()
            },
        }
    }
}

impl SendMessageRequestHeader {
    /// Reads the header in the form the request code implies: V2 names for SEND_MESSAGE_V2,
    /// SEND_BATCH_MESSAGE and SEND_REPLY_MESSAGE_V2, V1 names otherwise.
    pub fn from_command(cmd: &RemotingCommand) -> Result<Self, HeaderError> {
        match cmd.request_code() {
            RequestCode::SendMessageV2
            | RequestCode::SendBatchMessage
            | RequestCode::SendReplyMessageV2 => {
                SendMessageRequestHeaderV2::read(&cmd.ext_fields).map(Into::into)
            }
            _ => SendMessageRequestHeader::read(&cmd.ext_fields),
        }
    }
}

crate::command_header! {
    /// `SendMessageResponseHeader`.
    pub struct SendMessageResponseHeader: "SendMessageResponseHeader" {
        /// Offset message id (comma-separated for a batch).
        req msg_id: String = "msgId",
        req queue_id: i32 = "queueId",
        req queue_offset: i64 = "queueOffset",
        opt transaction_id: String = "transactionId",
        opt batch_uniq_id: String = "batchUniqId",
        opt recall_handle: String = "recallHandle",
    }
}

/// Response extField naming the broker's region.
pub const MSG_REGION: &str = "MSG_REGION";
/// Response extField telling whether tracing is on (`"true"`/`"false"`).
pub const TRACE_ON: &str = "TRACE_ON";

crate::command_header! {
    /// `ReplyMessageRequestHeader`: PUSH_REPLY_MESSAGE_TO_CLIENT (326), the reply a broker
    /// pushes to the requester, its body the reply's body as sent (compressed when `sysFlag`
    /// says so).
    pub struct ReplyMessageRequestHeader: "ReplyMessageRequestHeader" {
        req producer_group: String = "producerGroup",
        req topic: String = "topic",
        req default_topic: String = "defaultTopic",
        req default_topic_queue_nums: i32 = "defaultTopicQueueNums",
        req queue_id: i32 = "queueId",
        req sys_flag: i32 = "sysFlag",
        req born_timestamp: i64 = "bornTimestamp",
        req flag: i32 = "flag",
        opt properties: String = "properties",
        opt reconsume_times: i32 = "reconsumeTimes",
        opt unit_mode: bool = "unitMode",
        /// The responder's address (`ip:port`).
        req born_host: String = "bornHost",
        /// The broker's address (`ip:port`).
        req store_host: String = "storeHost",
        req store_timestamp: i64 = "storeTimestamp",
    }
}
