//! What a broker hands the store to append, and what it gets back.

use std::net::{Ipv4Addr, SocketAddr};

use bytes::{Bytes, BytesMut};
use rmq_common::message::properties::find_property;
use rmq_common::message::{encode_properties, keys};
use rmq_common::record::{encode_record, RecordFields, RecordView};
use rmq_common::Message;

use crate::error::{PutMessageStatus, StoreError};

/// Largest properties string a record can carry (int16 length).
pub const MAX_PROPERTIES_LEN: usize = i16::MAX as usize;

/// One message to append. The CommitLog record is encoded from it outside the put lock; the
/// consume-queue tag code is derived from the `TAGS` property at dispatch (that is the only place
/// that survives a recovery), so there is no tag-code field here.
#[derive(Debug, Clone)]
pub struct PutMessage {
    pub topic: String,
    pub queue_id: i32,
    pub flag: i32,
    pub body: Bytes,
    /// Encoded properties string (`name 0x01 value 0x02 ...`).
    pub properties: String,
    pub sys_flag: i32,
    pub born_timestamp: i64,
    pub born_host: SocketAddr,
    pub store_host: SocketAddr,
    pub reconsume_times: i32,
    pub prepared_transaction_offset: i64,
}

impl PutMessage {
    /// A message with no properties, born now, from and to `127.0.0.1:0`.
    pub fn new(topic: impl Into<String>, queue_id: i32, body: impl Into<Bytes>) -> Self {
        let local = SocketAddr::from((Ipv4Addr::LOCALHOST, 0));
        PutMessage {
            topic: topic.into(),
            queue_id,
            flag: 0,
            body: body.into(),
            properties: String::new(),
            sys_flag: 0,
            born_timestamp: rmq_common::time::now_millis(),
            born_host: local,
            store_host: local,
            reconsume_times: 0,
            prepared_transaction_offset: 0,
        }
    }

    /// A stored record put again (moved to another topic, redelivered): its flag, body, system
    /// flag, birth, reconsume times and prepared offset as they were, under `topic`/`queue_id`
    /// with `properties`, stored by `store_host`.
    pub fn again(
        view: &RecordView<'_>,
        topic: String,
        queue_id: i32,
        properties: String,
        store_host: SocketAddr,
    ) -> Self {
        PutMessage {
            topic,
            queue_id,
            flag: view.flag,
            body: Bytes::copy_from_slice(view.body()),
            properties,
            sys_flag: view.sys_flag,
            born_timestamp: view.born_timestamp,
            born_host: view.born_host,
            store_host,
            reconsume_times: view.reconsume_times,
            prepared_transaction_offset: view.prepared_transaction_offset,
        }
    }

    /// Builds a put from a producer-side [`Message`].
    pub fn from_message(
        msg: &Message,
        queue_id: i32,
        born_host: SocketAddr,
        store_host: SocketAddr,
    ) -> Self {
        PutMessage {
            topic: msg.topic.clone(),
            queue_id,
            flag: msg.flag,
            body: msg.body.clone(),
            properties: encode_properties(&msg.properties),
            sys_flag: 0,
            born_timestamp: rmq_common::time::now_millis(),
            born_host,
            store_host,
            reconsume_times: 0,
            prepared_transaction_offset: 0,
        }
    }

    pub fn with_properties(mut self, props: &rmq_common::message::Properties) -> Self {
        self.properties = encode_properties(props);
        self
    }

    /// `WAIT` property: absent means the producer waits for durability.
    pub fn wait_store_msg_ok(&self) -> bool {
        find_property(&self.properties, keys::WAIT) != Some("false")
    }

    /// Checks limits the broker must answer with MESSAGE_ILLEGAL / PROPERTIES_SIZE_EXCEEDED.
    pub(crate) fn check(
        &self,
        max_message_size: usize,
    ) -> Result<(), (PutMessageStatus, StoreError)> {
        let illegal = |reason: String| {
            (
                PutMessageStatus::MessageIllegal,
                StoreError::IllegalMessage(reason),
            )
        };
        if self.body.len() > max_message_size {
            return Err((
                PutMessageStatus::MessageIllegal,
                StoreError::MessageTooLarge {
                    size: self.body.len(),
                    max: max_message_size,
                },
            ));
        }
        if self.properties.len() > MAX_PROPERTIES_LEN {
            return Err((
                PutMessageStatus::PropertiesSizeExceeded,
                StoreError::PropertiesTooLarge {
                    size: self.properties.len(),
                    max: MAX_PROPERTIES_LEN,
                },
            ));
        }
        if !valid_topic_for_path(&self.topic) {
            return Err(illegal(format!(
                "topic {:?} is empty, longer than 32767 bytes, or not usable as a directory name",
                self.topic
            )));
        }
        if self.queue_id < 0 {
            return Err(illegal(format!("queue id {} is negative", self.queue_id)));
        }
        Ok(())
    }

    /// Encodes the record with zero offsets and timestamp (patched under the lock).
    pub(crate) fn encode(&self, out: &mut BytesMut) -> Result<usize, StoreError> {
        encode_record(
            &RecordFields {
                topic: &self.topic,
                queue_id: self.queue_id,
                flag: self.flag,
                queue_offset: 0,
                physical_offset: 0,
                sys_flag: self.sys_flag,
                born_timestamp: self.born_timestamp,
                born_host: self.born_host,
                store_timestamp: 0,
                store_host: self.store_host,
                reconsume_times: self.reconsume_times,
                prepared_transaction_offset: self.prepared_transaction_offset,
                body: &self.body,
                properties: &self.properties,
            },
            out,
        )
        .map_err(|e| StoreError::IllegalMessage(e.to_string()))
    }
}

/// Topics become directory names under `consumequeue/`.
fn valid_topic_for_path(topic: &str) -> bool {
    !topic.is_empty()
        && topic.len() <= i16::MAX as usize
        && topic != "."
        && topic != ".."
        && !topic.contains(['/', '\\', '\0'])
}

/// Where an append landed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AppendMessageResult {
    /// Physical offset of the first record.
    pub wrote_offset: i64,
    /// Bytes of the records (excluding any end-of-file blank).
    pub wrote_bytes: i64,
    /// Offset just past the last record: what a flush or a slave must reach.
    pub end_offset: i64,
    /// Offset message id; for a batch the ids joined by `,` (as Apache's send response).
    pub msg_id: String,
    pub store_timestamp: i64,
    /// Queue offset of the first message.
    pub logics_offset: i64,
    pub msg_num: i32,
}

/// Result of `put_message` / `put_messages`.
#[derive(Debug)]
pub struct PutMessageResult {
    pub status: PutMessageStatus,
    /// Present when the message is stored (`status.is_stored()`).
    pub append: Option<AppendMessageResult>,
    /// Why the put failed or is degraded, for the response remark and logs.
    pub error: Option<StoreError>,
}

impl PutMessageResult {
    pub fn is_ok(&self) -> bool {
        self.status == PutMessageStatus::PutOk
    }

    /// Why the put failed (or is degraded): the error, else the status.
    pub fn reason(&self) -> String {
        self.error
            .as_ref()
            .map_or_else(|| self.status.as_str().to_owned(), |e| e.to_string())
    }

    /// The append when the message is stored, else [`reason`](Self::reason).
    pub fn stored(self) -> Result<AppendMessageResult, String> {
        match self.append {
            Some(a) if self.status.is_stored() => Ok(a),
            _ => Err(self.reason()),
        }
    }

    pub(crate) fn failed(status: PutMessageStatus, error: StoreError) -> Self {
        PutMessageResult {
            status,
            append: None,
            error: Some(error),
        }
    }
}
