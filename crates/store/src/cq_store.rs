//! All ConsumeQueues, by topic and queue id.
//!
//! Readers clone an `Arc<ConsumeQueue>` out of a read-locked map; the dispatcher creates queues on
//! first use. Queues are kept per topic so topic deletion and directory layout stay simple.

use std::collections::HashMap;
use std::io;
use std::path::PathBuf;
use std::sync::Arc;

use parking_lot::RwLock;

use crate::consume_queue::ConsumeQueue;
use crate::error::StoreError;

type Queues = HashMap<String, HashMap<i32, Arc<ConsumeQueue>>>;

pub(crate) struct ConsumeQueueStore {
    root: PathBuf,
    file_size: usize,
    queues: RwLock<Queues>,
}

impl ConsumeQueueStore {
    pub fn new(root: PathBuf, file_size: usize) -> Self {
        ConsumeQueueStore {
            root,
            file_size,
            queues: RwLock::new(HashMap::new()),
        }
    }

    /// Loads and recovers every queue under `consumequeue/<topic>/<queueId>/`.
    pub fn load(&mut self) -> Result<(), StoreError> {
        let topics = match std::fs::read_dir(&self.root) {
            Ok(rd) => rd,
            Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(()),
            Err(e) => return Err(StoreError::io("read directory", &self.root, e)),
        };
        let queues = self.queues.get_mut();
        for t in topics {
            let t = t.map_err(|e| StoreError::io("read directory", &self.root, e))?;
            let Some(topic) = t.file_name().to_str().map(str::to_owned) else {
                continue;
            };
            if !t.path().is_dir() {
                continue;
            }
            let qdirs = std::fs::read_dir(t.path())
                .map_err(|e| StoreError::io("read directory", t.path(), e))?;
            for q in qdirs {
                let q = q.map_err(|e| StoreError::io("read directory", t.path(), e))?;
                let Some(queue_id) = q.file_name().to_str().and_then(|s| s.parse::<i32>().ok())
                else {
                    tracing::warn!(dir = %q.path().display(), "ignoring unexpected entry in consume queue directory");
                    continue;
                };
                let mut cq = ConsumeQueue::new(&self.root, &topic, queue_id, self.file_size);
                cq.load_and_recover()?;
                queues
                    .entry(topic.clone())
                    .or_default()
                    .insert(queue_id, Arc::new(cq));
            }
        }
        Ok(())
    }

    pub fn find(&self, topic: &str, queue_id: i32) -> Option<Arc<ConsumeQueue>> {
        self.queues.read().get(topic)?.get(&queue_id).cloned()
    }

    pub fn find_or_create(&self, topic: &str, queue_id: i32) -> Arc<ConsumeQueue> {
        if let Some(q) = self.find(topic, queue_id) {
            return q;
        }
        let mut queues = self.queues.write();
        Arc::clone(
            queues
                .entry(topic.to_owned())
                .or_default()
                .entry(queue_id)
                .or_insert_with(|| {
                    Arc::new(ConsumeQueue::new(
                        &self.root,
                        topic,
                        queue_id,
                        self.file_size,
                    ))
                }),
        )
    }

    pub fn all(&self) -> Vec<Arc<ConsumeQueue>> {
        self.queues
            .read()
            .values()
            .flat_map(|m| m.values().cloned())
            .collect()
    }

    /// Exclusive access to every queue, for recovery (before any reader exists).
    pub fn for_each_mut(
        &mut self,
        mut f: impl FnMut(&mut ConsumeQueue) -> Result<(), StoreError>,
    ) -> Result<(), StoreError> {
        for m in self.queues.get_mut().values_mut() {
            for q in m.values_mut() {
                match Arc::get_mut(q) {
                    Some(q) => f(q)?,
                    None => {
                        return Err(StoreError::Corrupt {
                            path: q.dir().to_owned(),
                            reason: "consume queue in use during recovery".into(),
                        })
                    }
                }
            }
        }
        Ok(())
    }

    /// Forgets a topic's queues and deletes their files. Returns how many queues were removed.
    pub fn remove_topic(&self, topic: &str) -> usize {
        let removed = self.queues.write().remove(topic);
        let Some(removed) = removed else {
            return 0;
        };
        for q in removed.values() {
            for f in q.take_files() {
                if let Err(e) = f.delete_file() {
                    tracing::warn!(file = %f.path().display(), error = %e, "could not delete consume queue file");
                }
            }
            let _ = std::fs::remove_dir(q.dir());
        }
        let _ = std::fs::remove_dir(self.root.join(topic));
        removed.len()
    }

    pub fn flush(&self, least_pages: usize) -> io::Result<()> {
        for q in self.all() {
            q.flush(least_pages)?;
        }
        Ok(())
    }
}
