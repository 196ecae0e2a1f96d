//! Delay levels (`ScheduleMessageService`): messages with `DELAY=n` are stored in
//! `SCHEDULE_TOPIC_XXXX` queue `n-1` (their ConsumeQueue tag code is the delivery time) and put
//! back into their real topic and queue when due.
//!
//! One task per level walks its queue in order: a due message is re-put and the level's offset
//! advances; a message not yet due puts the task to sleep until exactly its delivery time; an
//! empty queue waits for the next dispatched message. Offsets persist to `config/delayOffset.json`
//! every 10 s and at shutdown, so a restart neither loses due messages nor replays more than the
//! last interval (at-least-once). A put that fails is retried, never skipped.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use rmq_common::delay::DelayLevels;
use rmq_common::message::{decode_properties, encode_properties, keys, Properties};
use rmq_common::record::{peek_record, Peek, RecordView};
use rmq_common::time::now_millis;
use rmq_common::topic::{RMQ_SYS_TRANS_HALF_TOPIC, SCHEDULE_TOPIC};
use rmq_store::{AcceptAll, MessageStore, PutMessage};
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

use crate::delay_offsets::DelayOffsets;
use crate::long_poll::ArrivalNotifier;

const FLUSH_INTERVAL: Duration = Duration::from_secs(10);
const RETRY_AFTER_FAILED_PUT: Duration = Duration::from_secs(1);

/// Where delayed messages that cannot be delivered (no REAL_TOPIC) are kept, in full, queue 0:
/// kept for an operator to inspect, never dropped.
pub const UNDELIVERABLE_TOPIC: &str = "rmq_sys_SCHEDULE_UNDELIVERABLE";

/// Rewrites a message with `DELAY > 0` for the schedule topic: the real topic and queue go into
/// `REAL_TOPIC`/`REAL_QID` and it is stored in `SCHEDULE_TOPIC_XXXX` queue `level - 1`.
/// Returns the (topic, queue) to store under.
pub fn divert_delayed(
    props: &mut Properties,
    topic: String,
    queue_id: i32,
    max_level: i32,
) -> (String, i32) {
    let level: i32 = props
        .get(keys::DELAY)
        .and_then(|d| d.parse().ok())
        .unwrap_or(0);
    if level <= 0 {
        return (topic, queue_id);
    }
    let level = level.min(max_level);
    props.insert(keys::DELAY.into(), level.to_string());
    props.insert(keys::REAL_TOPIC.into(), topic);
    props.insert(keys::REAL_QID.into(), queue_id.to_string());
    (SCHEDULE_TOPIC.to_owned(), level - 1)
}

/// What the delivery tasks use: the store, the levels and their progress, and the wake-ups.
pub struct DelayDelivery {
    pub store: Arc<MessageStore>,
    pub levels: DelayLevels,
    pub offsets: Arc<DelayOffsets>,
    pub arrivals: Arc<ArrivalNotifier>,
    pub store_host: SocketAddr,
}

impl DelayDelivery {
    /// Starts one delivery task per level, plus the offset flusher, owned by `tasks`.
    pub fn start(self, tasks: &TaskTracker, shutdown: &CancellationToken) {
        let this = Arc::new(self);
        for level in 1..=this.levels.max_level() {
            let (me, stop) = (this.clone(), shutdown.clone());
            crate::supervise::spawn_supervised(
                tasks,
                shutdown.clone(),
                format!("delay level {level}"),
                move || me.clone().deliver_level(level, stop.clone()),
            );
        }
        let offsets = this.offsets.clone();
        let shutdown = shutdown.clone();
        tasks.spawn(async move {
            loop {
                tokio::select! {
                    _ = tokio::time::sleep(FLUSH_INTERVAL) => {}
                    _ = shutdown.cancelled() => return,
                }
                // Off the async workers: a slow disk must not hold the request path.
                let o = offsets.clone();
                match tokio::task::spawn_blocking(move || o.persist()).await {
                    Ok(Ok(())) => {}
                    Ok(Err(e)) => tracing::error!(error = %e, "could not persist delay offsets; check the disk"),
                    Err(e) => tracing::error!(error = %e, "writing delay offsets panicked"),
                }
            }
        });
    }

    async fn deliver_level(self: Arc<Self>, level: i32, shutdown: CancellationToken) {
        let queue_id = level - 1;
        let delay_ms = self.levels.delay(level).as_millis() as i64;
        let mut offset = self.offsets.get(level);
        loop {
            let notify = self.arrivals.queue(SCHEDULE_TOPIC, queue_id);
            let arrived = notify.notified();
            tokio::pin!(arrived);
            arrived.as_mut().enable();
            let min = self.store.min_offset_in_queue(SCHEDULE_TOPIC, queue_id);
            if offset < min {
                offset = min;
            }
            let got =
                self.store
                    .get_message(SCHEDULE_TOPIC, queue_id, offset, 32, i32::MAX, &AcceptAll);
            let mut wait_until: Option<i64> = None;
            for (rec, queue_offset) in got.messages.iter().zip(&got.queue_offsets) {
                let Ok(Peek::Record(view)) = peek_record(rec, false) else {
                    tracing::error!(
                        level,
                        offset = queue_offset,
                        "unreadable record in the schedule queue, skipping it"
                    );
                    offset = queue_offset + 1;
                    continue;
                };
                let now = now_millis();
                let mut due = view.store_timestamp + delay_ms;
                if due > now + delay_ms {
                    due = now; // clock moved backwards: deliver now rather than never
                }
                if due > now {
                    wait_until = Some(due);
                    break;
                }
                match self.redeliver(&view).await {
                    Ok(()) => offset = queue_offset + 1,
                    Err(Redeliver::Unusable(why)) => {
                        // Retrying cannot help and would hold back every later message of
                        // the level: keep it aside, in full, and go on.
                        match self.set_aside(&view).await {
                            Ok(()) => {
                                tracing::error!(level, offset = queue_offset, %why,
                                    aside = UNDELIVERABLE_TOPIC,
                                    "delayed message cannot be delivered; kept aside");
                                offset = queue_offset + 1;
                            }
                            Err(e) => {
                                tracing::warn!(level, error = %e, "could not set an undeliverable delayed message aside; retrying");
                                wait_until =
                                    Some(now_millis() + RETRY_AFTER_FAILED_PUT.as_millis() as i64);
                                break;
                            }
                        }
                    }
                    Err(Redeliver::Failed(e)) => {
                        tracing::warn!(level, error = %e, "could not deliver a delayed message; retrying");
                        wait_until = Some(now_millis() + RETRY_AFTER_FAILED_PUT.as_millis() as i64);
                        break;
                    }
                }
            }
            self.offsets.set(level, offset);
            let progressed = !got.messages.is_empty() && wait_until.is_none();
            if progressed {
                continue;
            }
            let sleep = match wait_until {
                Some(t) => Duration::from_millis((t - now_millis()).max(1) as u64),
                None => Duration::from_secs(3600),
            };
            tokio::select! {
                _ = &mut arrived, if wait_until.is_none() => {}
                _ = tokio::time::sleep(sleep) => {}
                _ = shutdown.cancelled() => return,
            }
        }
    }

    /// Puts a due message back into its real topic and queue.
    async fn redeliver(&self, view: &RecordView<'_>) -> Result<(), Redeliver> {
        let mut props = decode_properties(view.properties);
        props.remove(keys::DELAY);
        let Some(topic) = props
            .get(keys::REAL_TOPIC)
            .cloned()
            .filter(|t| !t.is_empty())
        else {
            return Err(Redeliver::Unusable(
                "the record names no REAL_TOPIC to deliver it to".into(),
            ));
        };
        if topic == RMQ_SYS_TRANS_HALF_TOPIC {
            return Ok(());
        }
        let queue_id: i32 = props
            .get(keys::REAL_QID)
            .and_then(|q| q.parse().ok())
            .unwrap_or(0);
        props.insert(keys::WAIT.into(), "false".into());
        let props = encode_properties(&props);
        let msg = PutMessage::again(view, topic, queue_id, props, self.store_host);
        self.store
            .put_message(msg)
            .await
            .stored()
            .map(drop)
            .map_err(Redeliver::Failed)
    }

    /// Stores an undeliverable schedule record, unchanged, in [`UNDELIVERABLE_TOPIC`].
    async fn set_aside(&self, view: &RecordView<'_>) -> Result<(), String> {
        let props = encode_properties(&decode_properties(view.properties));
        let msg = PutMessage::again(
            view,
            UNDELIVERABLE_TOPIC.to_owned(),
            0,
            props,
            self.store_host,
        );
        self.store.put_message(msg).await.stored().map(drop)
    }
}

/// Why a due message was not delivered.
#[derive(Debug)]
enum Redeliver {
    /// The record itself is unusable (no REAL_TOPIC): retrying cannot help.
    Unusable(String),
    /// The put failed (disk, store state): retry.
    Failed(String),
}

#[cfg(test)]
mod tests {
    use super::*;
    use rmq_store::MessageStoreConfig;

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_record_without_real_topic_is_set_aside_and_the_level_goes_on() {
        let dir = tempfile::tempdir().unwrap();
        let mut cfg = MessageStoreConfig::with_root(dir.path());
        cfg.mapped_file_size_commit_log = 1 << 20;
        cfg.mapped_file_size_consume_queue = 20 * 1000;
        cfg.max_hash_slot_num = 64;
        cfg.max_index_num = 512;
        cfg.warm_mapped_file_enable = false;
        let store = MessageStore::open(cfg).unwrap();
        let arrivals = Arc::new(ArrivalNotifier::new(16));
        let a = arrivals.clone();
        store.set_arrival_listener(Arc::new(move |topic: &str, q: i32, _: i64, _: i64| {
            a.on_arrival(topic, q)
        }));
        store.start().unwrap();
        // A broken record first: without REAL_TOPIC it could never be delivered.
        assert!(store
            .put_message(PutMessage::new(SCHEDULE_TOPIC, 0, &b"broken"[..]))
            .await
            .is_ok());
        let mut props = Properties::new();
        props.insert(keys::REAL_TOPIC.into(), "Real".into());
        props.insert(keys::DELAY.into(), "1".into());
        let mut good = PutMessage::new(SCHEDULE_TOPIC, 0, &b"good"[..]);
        good.properties = encode_properties(&props);
        assert!(store.put_message(good).await.is_ok());

        let tasks = TaskTracker::new();
        let shutdown = CancellationToken::new();
        DelayDelivery {
            store: store.clone(),
            levels: DelayLevels::parse("1s").unwrap(),
            offsets: Arc::new(DelayOffsets::load(dir.path().join("delayOffset.json")).unwrap()),
            arrivals,
            store_host: "127.0.0.1:10911".parse().unwrap(),
        }
        .start(&tasks, &shutdown);
        let deadline = std::time::Instant::now() + Duration::from_secs(20);
        while store.max_offset_in_queue("Real", 0) < 1
            || store.max_offset_in_queue(UNDELIVERABLE_TOPIC, 0) < 1
        {
            assert!(
                std::time::Instant::now() < deadline,
                "the good message was not delivered past the broken one"
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        shutdown.cancel();
        tasks.close();
        tasks.wait().await;
    }
}
