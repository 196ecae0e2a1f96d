//! Offsets kept by the broker (clustering): QUERY_CONSUMER_OFFSET to read, UPDATE_CONSUMER_OFFSET
//! to persist. Only offsets that changed since the last successful persist are sent.

use std::collections::HashMap;
use std::sync::Arc;

use parking_lot::Mutex;
use rmq_common::MessageQueue;

use super::table::OffsetTable;
use crate::error::Result;
use crate::instance::ClientInstance;

#[derive(Debug)]
pub(crate) struct RemoteOffsetStore {
    pub(super) table: OffsetTable,
    instance: Arc<ClientInstance>,
    group: String,
    persisted: Mutex<HashMap<MessageQueue, i64>>,
}

impl RemoteOffsetStore {
    pub fn new(instance: Arc<ClientInstance>, group: &str) -> Self {
        RemoteOffsetStore {
            table: OffsetTable::default(),
            instance,
            group: group.to_owned(),
            persisted: Mutex::new(HashMap::new()),
        }
    }

    pub(super) async fn query(&self, mq: &MessageQueue) -> Result<Option<i64>> {
        let found = self.instance.query_consumer_offset(&self.group, mq).await?;
        if let Some(o) = found {
            self.persisted.lock().insert(mq.clone(), o);
        }
        Ok(found)
    }

    /// Sends the offsets that changed since the last successful persist: one broker at a time
    /// per broker, brokers in parallel. Apache's broker creates a group's offset table for a
    /// topic with a check-then-put, so two first commits of one topic processed at once (its
    /// offset updates run on a thread pool) can lose one queue's offset: a consumer restarted
    /// after that got the queue's messages again. Java's client sends them one by one too.
    pub(super) async fn persist(&self, offsets: HashMap<MessageQueue, i64>) {
        let mut by_broker: HashMap<String, Vec<(MessageQueue, i64)>> = HashMap::new();
        {
            let persisted = self.persisted.lock();
            for (q, o) in offsets {
                if persisted.get(&q) != Some(&o) {
                    by_broker
                        .entry(q.broker_name.clone())
                        .or_default()
                        .push((q, o));
                }
            }
        }
        let sends = by_broker.into_values().map(|mut changed| async move {
            changed.sort();
            for (mq, offset) in changed {
                match self
                    .instance
                    .update_consumer_offset(&self.group, &mq, offset)
                    .await
                {
                    Ok(()) => {
                        self.persisted.lock().insert(mq, offset);
                    }
                    Err(e) => {
                        tracing::debug!(queue = %mq, offset, error = %e, "offset commit failed")
                    }
                }
            }
        });
        futures::future::join_all(sends).await;
    }
}
