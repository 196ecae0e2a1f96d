//! A receive: pops up to `max` messages of a topic for a group, waiting up to the polling time
//! for some to arrive.

use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use rmq_common::perm;
use rmq_common::record::{peek_record, Peek};
use rmq_common::time::now_millis;
use rmq_remoting::transport::ProcessError;
use rmq_remoting::ResponseCode;
use rmq_store::{AcceptAll, GetMessageStatus, MessageFilter};
use tokio::time::Instant;

use super::handle::{pop_retry_topic, ReceiptHandle};
use super::inflight::{FifoQueue, QueueKey};
use super::log::Record;
use crate::context::BrokerContext;

/// What a receive asks for.
pub struct PopRequest {
    pub group: String,
    pub topic: String,
    /// One queue, or every readable queue of the topic.
    pub queue_id: Option<i32>,
    pub filter: Box<dyn MessageFilter>,
    pub max: usize,
    /// How long the messages stay invisible, ms.
    pub invisible_ms: i64,
    /// How long to wait for messages when there are none.
    pub poll: Duration,
    /// The client whose connection keeps the messages invisible (`auto_renew`).
    pub renew_for: Option<Arc<str>>,
    /// A queue new to the group starts at its first message (`ConsumeInitMode.MIN`).
    pub from_min: bool,
}

/// A popped message.
pub struct Popped {
    /// The stored record.
    pub record: Bytes,
    pub handle: ReceiptHandle,
    /// Delivery attempt, 1 for the first.
    pub attempt: i32,
}

fn refuse(code: ResponseCode, remark: String) -> ProcessError {
    ProcessError::response(code, remark)
}

/// Pops messages; waits up to `req.poll` when none are there. An empty answer means none
/// arrived in time.
pub async fn pop(ctx: &BrokerContext, req: &PopRequest) -> Result<Vec<Popped>, ProcessError> {
    let fifo = check(ctx, &req.group, &req.topic, req.queue_id)?;
    let deadline = Instant::now() + req.poll;
    let retry_topic = pop_retry_topic(&req.group, &req.topic);
    let mut waiting = None;
    loop {
        let topic_wake = ctx.arrivals().topic(&req.topic);
        let retry_wake = ctx.arrivals().topic(&retry_topic);
        let arrived = topic_wake.notified();
        let retried = retry_wake.notified();
        tokio::pin!(arrived, retried);
        arrived.as_mut().enable();
        retried.as_mut().enable();
        let got = pop_once(ctx, req, fifo, &retry_topic).await?;
        if !got.is_empty() || Instant::now() >= deadline {
            return Ok(got);
        }
        // A FIFO queue blocked by messages in flight frees itself when they fall due, which
        // no arrival announces: look again at least every second.
        let wake = if fifo {
            deadline.min(Instant::now() + Duration::from_secs(1))
        } else {
            deadline
        };
        waiting.get_or_insert_with(|| {
            ctx.pop()
                .waiting
                .enter(&req.group, &req.topic, req.queue_id)
        });
        tokio::select! {
            _ = &mut arrived => {}
            _ = &mut retried => {}
            _ = tokio::time::sleep_until(wake) => {}
            _ = ctx.shutting_down() => return Ok(Vec::new()),
        }
    }
}

/// Permission, group and topic checks for consuming `queue_id` (or every queue) of `topic` in
/// `group`; returns whether the group consumes in FIFO order.
pub fn check(
    ctx: &BrokerContext,
    group_name: &str,
    topic_name: &str,
    queue_id: Option<i32>,
) -> Result<bool, ProcessError> {
    if ctx.is_slave() {
        return Err(refuse(
            ResponseCode::NoPermission,
            format!(
                "the broker[{}] is a slave; receive from its master",
                ctx.broker_addr()
            ),
        ));
    }
    if !perm::is_readable(ctx.config().broker.broker_permission) {
        return Err(refuse(
            ResponseCode::NoPermission,
            format!(
                "the broker[{}] receiving message is forbidden",
                ctx.broker_addr()
            ),
        ));
    }
    let group = ctx.groups().find_or_create(group_name)?.ok_or_else(|| {
        refuse(
            ResponseCode::SubscriptionGroupNotExist,
            format!(
                "subscription group [{}] does not exist; create it first",
                group_name
            ),
        )
    })?;
    if !group.consume_enable {
        return Err(refuse(
            ResponseCode::NoPermission,
            format!("subscription group [{group_name}] may not consume"),
        ));
    }
    let topic = ctx.topics().get(topic_name).ok_or_else(|| {
        refuse(
            ResponseCode::TopicNotExist,
            format!("topic[{topic_name}] does not exist on this broker"),
        )
    })?;
    if !perm::is_readable(topic.perm) {
        return Err(refuse(
            ResponseCode::NoPermission,
            format!("the topic[{topic_name}] receiving message is forbidden"),
        ));
    }
    if let Some(q) = queue_id {
        if q < 0 || q >= topic.read_queue_nums {
            return Err(refuse(
                ResponseCode::InvalidParameter,
                format!(
                    "queueId[{q}] is illegal, topic [{}] has {} read queues",
                    topic_name, topic.read_queue_nums
                ),
            ));
        }
    }
    Ok(group.consume_message_orderly)
}

/// One pass over the queues, without waiting.
async fn pop_once(
    ctx: &BrokerContext,
    req: &PopRequest,
    fifo: bool,
    retry_topic: &str,
) -> Result<Vec<Popped>, ProcessError> {
    let turn = ctx.pop().next_turn();
    let mut sources = vec![(req.topic.clone(), false)];
    // FIFO groups redeliver in place; the others also drain their retry topic, first on every
    // fifth receive so neither starves the other.
    // (A retry topic that does not exist yet is skipped below.)
    if !fifo {
        let retry = (retry_topic.to_owned(), true);
        if turn.is_multiple_of(5) {
            sources.insert(0, retry);
        } else {
            sources.push(retry);
        }
    }
    let mut out = Vec::new();
    for (topic, retry) in sources {
        let Some(config) = ctx.topics().get(&topic) else {
            continue;
        };
        let n = config.read_queue_nums.max(0);
        let queues: Vec<i32> = match req.queue_id {
            Some(q) if !retry => vec![q],
            _ if n == 0 => Vec::new(),
            _ => (0..n)
                .map(|i| ((turn as i64 + i as i64) % n as i64) as i32)
                .collect(),
        };
        for queue_id in queues {
            if out.len() >= req.max {
                return Ok(out);
            }
            let key = QueueKey {
                group: req.group.clone(),
                topic: topic.clone(),
                queue_id,
            };
            let Some(_busy) = ctx.pop().inflight.try_busy(&key) else {
                continue;
            };
            let room = req.max - out.len();
            if fifo {
                match ctx.pop().inflight.fifo_queue(&key, now_millis()) {
                    FifoQueue::Blocked => continue,
                    FifoQueue::Expired(entries) => {
                        out.extend(redeliver(ctx, req, &key, entries).await?);
                        continue;
                    }
                    FifoQueue::Free => {}
                }
            }
            out.extend(pop_queue(ctx, req, &key, retry, fifo, room).await?);
        }
    }
    Ok(out)
}

/// Where a pop of the queue starts: an operator's reset (taken), else [`position`].
fn start_offset(ctx: &BrokerContext, key: &QueueKey, from_min: bool) -> i64 {
    ctx.offsets()
        .take_reset(&key.group, &key.topic, key.queue_id)
        .unwrap_or_else(|| position(ctx, &key.group, &key.topic, key.queue_id, from_min))
}

/// The group's position on a queue: its committed offset; on a queue it never consumed, the
/// start of a queue that was never cleaned (a new topic's first messages are not missed), else
/// its end; with `from_min` (a retry topic, or a consumer that asks) its start.
pub fn position(
    ctx: &BrokerContext,
    group: &str,
    topic: &str,
    queue_id: i32,
    from_min: bool,
) -> i64 {
    if let Some(o) = ctx.offsets().query(group, topic, queue_id) {
        return o;
    }
    let min = ctx.store().min_offset_in_queue(topic, queue_id);
    if from_min || min == 0 {
        min
    } else {
        ctx.store().max_offset_in_queue(topic, queue_id)
    }
}

/// Pops up to `room` new messages of one queue.
async fn pop_queue(
    ctx: &BrokerContext,
    req: &PopRequest,
    key: &QueueKey,
    retry: bool,
    fifo: bool,
    room: usize,
) -> Result<Vec<Popped>, ProcessError> {
    let offset = start_offset(ctx, key, retry || req.from_min);
    let got = ctx.store().get_message(
        &key.topic,
        key.queue_id,
        offset,
        room as i32,
        i32::MAX,
        req.filter.as_ref(),
    );
    if got.messages.is_empty() {
        // Skip what the filter left out, or jump back into the queue's range.
        if matches!(
            got.status,
            GetMessageStatus::NoMatchedMessage
                | GetMessageStatus::OffsetTooSmall
                | GetMessageStatus::OffsetOverflowBadly
        ) && got.next_begin_offset != offset
        {
            ctx.offsets()
                .commit(&key.group, &key.topic, key.queue_id, got.next_begin_offset);
        }
        return Ok(Vec::new());
    }
    if !ctx.pop().inflight.has_room(got.messages.len()) {
        return Err(refuse(
            ResponseCode::SystemBusy,
            format!(
                "{} messages are in flight on this broker; ack or wait for them to come back",
                ctx.pop().inflight.len()
            ),
        ));
    }
    let attempts: Vec<(i64, i32)> = got
        .messages
        .iter()
        .zip(&got.queue_offsets)
        .map(|(rec, off)| {
            let reconsumed = match peek_record(rec, false) {
                Ok(Peek::Record(v)) => v.reconsume_times,
                _ => 0,
            };
            (*off, reconsumed.saturating_add(1))
        })
        .collect();
    let popped = record_in_flight(ctx, req, key, attempts, fifo, got.messages, retry).await?;
    ctx.offsets()
        .commit(&key.group, &key.topic, key.queue_id, got.next_begin_offset);
    Ok(popped)
}

/// Delivers a FIFO queue's due messages again, one attempt later.
async fn redeliver(
    ctx: &BrokerContext,
    req: &PopRequest,
    key: &QueueKey,
    entries: Vec<(i64, super::inflight::Entry)>,
) -> Result<Vec<Popped>, ProcessError> {
    let mut attempts = Vec::new();
    let mut records = Vec::new();
    for (offset, entry) in entries {
        let got =
            ctx.store()
                .get_message(&key.topic, key.queue_id, offset, 1, i32::MAX, &AcceptAll);
        match got.messages.into_iter().next() {
            Some(rec) => {
                attempts.push((offset, entry.attempt.saturating_add(1)));
                records.push(rec);
            }
            None => {
                tracing::warn!(group = %key.group, topic = %key.topic, queue = key.queue_id, offset, "a message in flight is no longer in the store; settling it");
                ctx.pop().inflight.settle(key, offset);
            }
        }
    }
    if records.is_empty() {
        return Ok(Vec::new());
    }
    record_in_flight(ctx, req, key, attempts, true, records, false).await
}

/// Logs the checkpoint, records the messages in flight and makes their handles.
async fn record_in_flight(
    ctx: &BrokerContext,
    req: &PopRequest,
    key: &QueueKey,
    attempts: Vec<(i64, i32)>,
    fifo: bool,
    records: Vec<Bytes>,
    retry: bool,
) -> Result<Vec<Popped>, ProcessError> {
    let now = now_millis();
    let deadline = now.saturating_add(req.invisible_ms);
    let pop = ctx.pop();
    let appending = pop.appending.read().await;
    let ck_pos = Record::checkpoint(key, &attempts, deadline, fifo)
        .append(ctx.store(), &pop.revive_topic, ctx.store_host())
        .await
        .map_err(|e| refuse(ResponseCode::SystemError, e.to_string()))?;
    pop.inflight.add(
        key,
        &attempts,
        deadline,
        ck_pos,
        fifo,
        req.renew_for.clone(),
    );
    drop(appending);
    let start = attempts.first().map_or(0, |(o, _)| *o);
    let bytes: u64 = records.iter().map(|r| r.len() as u64).sum();
    let mut out = Vec::with_capacity(records.len());
    for (record, (offset, attempt)) in records.into_iter().zip(attempts) {
        let commit_log_offset = match peek_record(&record, false) {
            Ok(Peek::Record(v)) => v.physical_offset,
            _ => -1,
        };
        out.push(Popped {
            handle: ReceiptHandle {
                start_offset: start,
                retrieve_time: now,
                invisible_time: req.invisible_ms,
                revive_queue_id: 0,
                retry,
                broker_name: ctx.broker_name().to_owned(),
                queue_id: key.queue_id,
                offset,
                commit_log_offset,
            },
            record,
            attempt,
        });
    }
    ctx.stats()
        .record_get(&key.topic, &key.group, out.len() as u64, bytes);
    Ok(out)
}
