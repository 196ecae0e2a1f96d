//! Timer messages: a message with `TIMER_DELIVER_MS` (or `TIMER_DELAY_SEC`/`TIMER_DELAY_MS`)
//! is delivered at that time, never before and at most half a second after, whatever the delay (up to
//! `timerMaxDelaySec`). Apache 5.x keeps a timing wheel in files of its own; rmq keeps timer
//! messages in the system topic `rmq_sys_wheel_timer` and its ordinary queues.
//!
//! Queue `k` (k ≥ 1) holds messages with between `BASE·2^k` and `BASE·2^(k+1)` ms to go when
//! stored; each stays there exactly `BASE·2^k` ms, so every message of a queue leaves in the order
//! it came, and one task per queue walks it like a delay level. A message leaving queue `k` has
//! less than `BASE·2^k` ms to go and is stored again in a lower queue, or delivered when due.
//! Queue 0 holds messages with less than `2·BASE` ms to go, each until its own time. A delay of
//! three days takes about 20 hops. Progress persists as the offsets of [`TIMER_GROUP`], so a
//! restart delivers nothing late and repeats at most the last interval (at-least-once).

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use rmq_common::message::{decode_properties, encode_properties, keys, Properties};
use rmq_common::record::{peek_record, Peek, RecordView};
use rmq_common::time::now_millis;
use rmq_store::{AcceptAll, MessageStore, PutMessage};
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

use crate::long_poll::ArrivalNotifier;
use crate::metrics::BrokerMetrics;
use crate::offsets::ConsumerOffsets;

/// Where timer messages wait (Apache's name for its timer topic).
pub const TIMER_TOPIC: &str = "rmq_sys_wheel_timer";
/// Internal group whose offsets on [`TIMER_TOPIC`] are the delivery progress.
pub const TIMER_GROUP: &str = "CID_RMQ_SYS_TIMER";
/// Queues of [`TIMER_TOPIC`]: 250 ms · 2^31 is years, far past any allowed delay.
pub const TIMER_QUEUES: i32 = 32;
/// The timer's resolution, ms.
const BASE: i64 = 250;
const RETRY_AFTER_FAILED_PUT: i64 = 1_000;

/// Why a timer message was refused.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum TimerError {
    #[error("{key}={value} is not a number")]
    NotANumber { key: &'static str, value: String },
    #[error("the delivery time is {delay_ms} ms away, more than timerMaxDelaySec ({max_sec} s)")]
    TooFar { delay_ms: i64, max_sec: u64 },
}

/// The queue for a message with `remaining` ms to go.
fn queue_for(remaining: i64) -> i32 {
    if remaining < 2 * BASE {
        return 0;
    }
    let k = 63 - (remaining / BASE).leading_zeros() as i32;
    k.min(TIMER_QUEUES - 1)
}

/// Whether a message with `remaining` ms to go is delivered now: never before its time.
fn is_due(remaining: i64) -> bool {
    remaining <= 0
}

/// How long a message stays in queue `k` (queue 0: until its own time).
fn hold(k: i32) -> i64 {
    BASE << k.clamp(0, 62)
}

/// Whether a message asks for a delivery time.
pub fn is_timer(props: &Properties) -> bool {
    [
        keys::TIMER_DELIVER_MS,
        keys::TIMER_DELAY_SEC,
        keys::TIMER_DELAY_MS,
    ]
    .iter()
    .any(|k| props.contains_key(*k))
}

/// The absolute delivery time a message asks for, if it is a timer message.
pub fn delivery_time(props: &Properties, now: i64) -> Result<Option<i64>, TimerError> {
    let num = |key: &'static str| -> Result<Option<i64>, TimerError> {
        props
            .get(key)
            .map(|v| {
                v.trim().parse::<i64>().map_err(|_| TimerError::NotANumber {
                    key,
                    value: v.clone(),
                })
            })
            .transpose()
    };
    if let Some(at) = num(keys::TIMER_DELIVER_MS)? {
        return Ok(Some(at));
    }
    if let Some(s) = num(keys::TIMER_DELAY_SEC)? {
        return Ok(Some(now.saturating_add(s.saturating_mul(1000))));
    }
    Ok(num(keys::TIMER_DELAY_MS)?.map(|ms| now.saturating_add(ms)))
}

/// Rewrites a timer message for [`TIMER_TOPIC`] when its time is still ahead: the real topic
/// and queue go into `REAL_TOPIC`/`REAL_QID`, the absolute time into `TIMER_DELIVER_MS`.
/// Returns the (topic, queue) to store under; a message already due stays where it was.
pub fn divert_timer(
    props: &mut Properties,
    topic: String,
    queue_id: i32,
    max_delay_sec: u64,
) -> Result<(String, i32), TimerError> {
    let now = now_millis();
    let Some(at) = delivery_time(props, now)? else {
        return Ok((topic, queue_id));
    };
    let remaining = at - now;
    let max_ms = i64::try_from(max_delay_sec.saturating_mul(1000)).unwrap_or(i64::MAX);
    if remaining > max_ms {
        return Err(TimerError::TooFar {
            delay_ms: remaining,
            max_sec: max_delay_sec,
        });
    }
    props.remove(keys::TIMER_DELAY_SEC);
    props.remove(keys::TIMER_DELAY_MS);
    props.insert(keys::TIMER_DELIVER_MS.into(), at.to_string());
    if is_due(remaining) {
        return Ok((topic, queue_id));
    }
    props.insert(keys::REAL_TOPIC.into(), topic);
    props.insert(keys::REAL_QID.into(), queue_id.to_string());
    Ok((TIMER_TOPIC.to_owned(), queue_for(remaining)))
}

/// What the timer tasks use.
pub struct TimerDelivery {
    pub store: Arc<MessageStore>,
    pub offsets: Arc<ConsumerOffsets>,
    pub arrivals: Arc<ArrivalNotifier>,
    pub store_host: SocketAddr,
    pub metrics: Arc<BrokerMetrics>,
}

/// Timer messages waiting: what the timer queues hold past the timer's progress (a message
/// between two queues for a moment counts once in each).
pub fn backlog(store: &MessageStore, offsets: &ConsumerOffsets) -> i64 {
    (0..TIMER_QUEUES)
        .map(|k| {
            let max = store.max_offset_in_queue(TIMER_TOPIC, k);
            let done = offsets
                .query(TIMER_GROUP, TIMER_TOPIC, k)
                .unwrap_or(0)
                .max(store.min_offset_in_queue(TIMER_TOPIC, k));
            (max - done).max(0)
        })
        .sum()
}

impl TimerDelivery {
    /// Starts one task per timer queue (masters only), owned by `tasks`.
    pub fn start(self, tasks: &TaskTracker, shutdown: &CancellationToken) {
        let this = Arc::new(self);
        for k in 0..TIMER_QUEUES {
            tasks.spawn(this.clone().walk(k, shutdown.clone()));
        }
    }

    async fn walk(self: Arc<Self>, k: i32, shutdown: CancellationToken) {
        let mut offset = self.offsets.query(TIMER_GROUP, TIMER_TOPIC, k).unwrap_or(0);
        loop {
            let notify = self.arrivals.queue(TIMER_TOPIC, k);
            let arrived = notify.notified();
            tokio::pin!(arrived);
            arrived.as_mut().enable();
            offset = offset.max(self.store.min_offset_in_queue(TIMER_TOPIC, k));
            let got = self
                .store
                .get_message(TIMER_TOPIC, k, offset, 32, i32::MAX, &AcceptAll);
            let mut wait_until = None;
            for (rec, queue_offset) in got.messages.iter().zip(&got.queue_offsets) {
                let Ok(Peek::Record(v)) = peek_record(rec, false) else {
                    tracing::error!(
                        queue = k,
                        offset = queue_offset,
                        "unreadable timer record, skipping it"
                    );
                    offset = queue_offset + 1;
                    continue;
                };
                let props = decode_properties(v.properties);
                let at: i64 = props
                    .get(keys::TIMER_DELIVER_MS)
                    .and_then(|t| t.parse().ok())
                    .unwrap_or(0);
                let now = now_millis();
                let mut leave = if k == 0 {
                    at
                } else {
                    v.store_timestamp + hold(k)
                };
                if leave > now + hold(k).max(2 * BASE) {
                    leave = now; // the clock went back: move on rather than wait forever
                }
                if leave > now {
                    wait_until = Some(leave);
                    break;
                }
                match self.move_on(&v, props, at - now).await {
                    Ok(()) => offset = queue_offset + 1,
                    Err(e) => {
                        tracing::warn!(queue = k, error = %e, "could not move a timer message on; retrying");
                        wait_until = Some(now_millis() + RETRY_AFTER_FAILED_PUT);
                        break;
                    }
                }
            }
            self.offsets.commit(TIMER_GROUP, TIMER_TOPIC, k, offset);
            if !got.messages.is_empty() && wait_until.is_none() {
                continue;
            }
            let sleep = wait_until.map_or(Duration::from_secs(3600), |t| {
                Duration::from_millis((t - now_millis()).max(1) as u64)
            });
            tokio::select! {
                _ = &mut arrived, if wait_until.is_none() => {}
                _ = tokio::time::sleep(sleep) => {}
                _ = shutdown.cancelled() => return,
            }
        }
    }

    /// Delivers a due message to its real topic, or stores it in the queue for the time it
    /// still has to go (queue 0 for the last half second, which waits for the exact time: a
    /// message is never delivered early).
    async fn move_on(
        &self,
        v: &RecordView<'_>,
        mut props: Properties,
        remaining: i64,
    ) -> Result<(), String> {
        let due = is_due(remaining);
        let (topic, queue_id) = if due {
            let topic = props
                .remove(keys::REAL_TOPIC)
                .ok_or("timer message has no REAL_TOPIC; fix the record")?;
            let queue = props
                .remove(keys::REAL_QID)
                .and_then(|q| q.parse().ok())
                .unwrap_or(0);
            (topic, queue)
        } else {
            (TIMER_TOPIC.to_owned(), queue_for(remaining))
        };
        props.insert(keys::WAIT.into(), "false".into());
        let props = encode_properties(&props);
        let msg = PutMessage::again(v, topic, queue_id, props, self.store_host);
        self.store.put_message(msg).await.stored()?;
        if due {
            self.metrics.timer_delivered.inc();
            self.metrics
                .timer_lag
                .observe((-remaining).max(0) as f64 / 1000.0);
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn queues_hold_less_than_the_time_to_go() {
        assert_eq!(queue_for(0), 0);
        assert_eq!(queue_for(499), 0);
        assert_eq!(queue_for(500), 1);
        assert_eq!(queue_for(999), 1);
        assert_eq!(queue_for(1_000), 2);
        for remaining in [500, 777, 1_000, 60_000, 3 * 86_400_000] {
            let k = queue_for(remaining);
            assert!(
                hold(k) <= remaining && remaining < 2 * hold(k),
                "{remaining} in {k}"
            );
        }
        assert!(queue_for(3 * 86_400_000) < TIMER_QUEUES);
    }

    #[test]
    fn divert_keeps_the_absolute_time_and_the_real_queue() {
        let mut p = Properties::new();
        p.insert(keys::TIMER_DELAY_SEC.into(), "10".into());
        let (t, q) = divert_timer(&mut p, "T".into(), 3, 86_400).unwrap();
        assert_eq!((t.as_str(), q), (TIMER_TOPIC, queue_for(10_000)));
        assert_eq!(p.get(keys::REAL_TOPIC).map(String::as_str), Some("T"));
        assert_eq!(p.get(keys::REAL_QID).map(String::as_str), Some("3"));
        assert!(p.contains_key(keys::TIMER_DELIVER_MS));
        assert!(!p.contains_key(keys::TIMER_DELAY_SEC));

        let mut due = Properties::new();
        due.insert(keys::TIMER_DELIVER_MS.into(), "1".into());
        assert_eq!(
            divert_timer(&mut due, "T".into(), 1, 10).unwrap(),
            ("T".into(), 1)
        );

        let mut far = Properties::new();
        far.insert(keys::TIMER_DELAY_SEC.into(), "100".into());
        assert!(matches!(
            divert_timer(&mut far, "T".into(), 0, 10),
            Err(TimerError::TooFar { .. })
        ));
        let mut bad = Properties::new();
        bad.insert(keys::TIMER_DELAY_MS.into(), "soon".into());
        assert!(matches!(
            divert_timer(&mut bad, "T".into(), 0, 10),
            Err(TimerError::NotANumber { .. })
        ));
    }
}
