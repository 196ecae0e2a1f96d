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

    pub(super) async fn persist(&self, offsets: HashMap<MessageQueue, i64>) {
        let changed: Vec<(MessageQueue, i64)> = {
            let persisted = self.persisted.lock();
            offsets
                .into_iter()
                .filter(|(q, o)| persisted.get(q) != Some(o))
                .collect()
        };
        let sends = changed.into_iter().map(|(mq, offset)| async move {
            match self
                .instance
                .update_consumer_offset(&self.group, &mq, offset)
                .await
            {
                Ok(()) => {
                    self.persisted.lock().insert(mq, offset);
                }
                Err(e) => tracing::debug!(queue = %mq, offset, error = %e, "offset commit failed"),
            }
        });
        futures::future::join_all(sends).await;
    }
}
