//! Storing a popped message again: in its group's retry topic when it was not acked in time,
//! in the group's dead letter queue when its attempts are used up or its consumer sends it there.

use std::net::SocketAddr;

use rmq_common::message::{decode_properties, encode_properties, keys};
use rmq_common::record::{peek_record, Peek};
use rmq_common::{perm, topic};
use rmq_store::{MessageStore, PutMessage};

use crate::registration_wanted::RegistrationWanted;
use crate::topics::TopicConfigs;

/// Where a message goes.
pub enum Target {
    /// The pop retry topic, with this many queues.
    Retry { topic: String, queues: i32 },
    /// `%DLQ%{group}`.
    DeadLetter { group: String },
}

/// What storing a message again needs.
pub struct Requeue<'a> {
    pub store: &'a MessageStore,
    pub topics: &'a TopicConfigs,
    pub registration: &'a RegistrationWanted,
    pub store_host: SocketAddr,
}

impl Requeue<'_> {
    /// Stores `record` (popped from `popped_topic`) again at `target` with one more
    /// reconsume time.
    pub async fn put(
        &self,
        record: &[u8],
        popped_topic: &str,
        target: Target,
    ) -> Result<(), String> {
        let Ok(Peek::Record(old)) = peek_record(record, false) else {
            return Err("the popped record is unreadable".into());
        };
        let mut props = decode_properties(old.properties);
        let origin_topic = props
            .get(keys::RETRY_TOPIC)
            .cloned()
            .unwrap_or_else(|| popped_topic.to_owned());
        props
            .entry(keys::RETRY_TOPIC.into())
            .or_insert_with(|| origin_topic.clone());
        let origin_id = props
            .get(keys::ORIGIN_MESSAGE_ID)
            .or_else(|| props.get(keys::UNIQ_KEY))
            .cloned()
            .unwrap_or_else(|| {
                rmq_common::msg_id::create_offset_msg_id(old.store_host, old.physical_offset)
            });
        props.insert(keys::ORIGIN_MESSAGE_ID.into(), origin_id.clone());
        props.remove(keys::DELAY);
        let rw = perm::READ | perm::WRITE;
        let (topic, queue_id) = match target {
            Target::Retry { topic, queues } => {
                let queues = queues.max(1);
                self.topics
                    .ensure(&topic, queues, rw, self.registration)
                    .map_err(|e| e.to_string())?;
                let q = (old.queue_offset.unsigned_abs() % queues as u64) as i32;
                (topic, q)
            }
            Target::DeadLetter { group } => {
                let dlq = topic::dlq_topic(&group);
                self.topics
                    .ensure(&dlq, 1, rw, self.registration)
                    .map_err(|e| e.to_string())?;
                props.insert(keys::DLQ_ORIGIN_TOPIC.into(), origin_topic);
                props.insert(keys::DLQ_ORIGIN_MESSAGE_ID.into(), origin_id);
                (dlq, 0)
            }
        };
        let mut msg = PutMessage::again(
            &old,
            topic,
            queue_id,
            encode_properties(&props),
            self.store_host,
        );
        msg.reconsume_times = old.reconsume_times.saturating_add(1);
        msg.prepared_transaction_offset = 0;
        self.store.put_message(msg).await.stored().map(drop)
    }
}
