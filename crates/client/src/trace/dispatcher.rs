//! [`Tracer`]: takes trace records off the hot path and sends them to the trace topic in
//! batches (Java's `AsyncTraceDispatcher`).
//!
//! A record goes into a bounded queue ([`QUEUE`]); when the queue is full the record is dropped
//! and counted, never waited for. One task per client drains it: it takes what is queued (up to
//! [`BATCH`] records), packs them into trace messages of at most [`MAX_BODY`] bytes, indexed by
//! each record's message id and keys, and sends them with the client's producer pipeline. A
//! failed trace send is logged and dropped: traces never hold up or fail the traffic they
//! describe.

use std::collections::BTreeSet;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use rmq_common::Message;
use tokio::sync::{mpsc, oneshot};

use super::record::TraceRecord;
use crate::producer::sender::Sender;

/// Records waiting to be sent, at most.
pub const QUEUE: usize = 2048;
/// Records taken per round.
const BATCH: usize = 100;
/// Largest trace message body (Java's `maxMsgSize`).
const MAX_BODY: usize = 128_000;
/// How long a flush waits for the records before it.
const FLUSH_WAIT: Duration = Duration::from_secs(5);

enum Item {
    Record(Box<TraceRecord>),
    Flush(oneshot::Sender<()>),
}

/// The handle producers and consumers record through; clones share the queue.
#[derive(Clone, Debug)]
pub(crate) struct Tracer {
    tx: mpsc::Sender<Item>,
    dropped: Arc<AtomicU64>,
    topic: Arc<str>,
}

impl std::fmt::Debug for Item {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Item::Record(r) => write!(f, "{:?} {}", r.kind, r.msg_id),
            Item::Flush(_) => f.write_str("flush"),
        }
    }
}

impl Tracer {
    /// Starts the dispatch task on `sender`'s client: trace messages go to `topic`, sent as
    /// `sender`'s group.
    pub fn start(sender: Sender, topic: &str) -> Tracer {
        let (tx, rx) = mpsc::channel(QUEUE);
        let topic: Arc<str> = topic.into();
        let instance = sender.instance.clone();
        instance.spawn(run(sender, topic.clone(), rx));
        Tracer {
            tx,
            dropped: Arc::default(),
            topic,
        }
    }

    /// Queues `r`; drops it (counted) if the queue is full.
    pub fn record(&self, r: TraceRecord) {
        if self.tx.try_send(Item::Record(Box::new(r))).is_err() {
            let n = self.dropped.fetch_add(1, Ordering::Relaxed) + 1;
            if n.is_power_of_two() {
                tracing::warn!(topic = %self.topic, dropped = n, "trace queue full; trace records dropped");
            }
        }
    }

    /// Sends everything queued so far (at shutdown), waiting [`FLUSH_WAIT`] at most.
    pub async fn flush(&self) {
        let (tx, rx) = oneshot::channel();
        if self.tx.send(Item::Flush(tx)).await.is_ok() {
            let _ = tokio::time::timeout(FLUSH_WAIT, rx).await;
        }
    }
}

async fn run(sender: Sender, topic: Arc<str>, mut rx: mpsc::Receiver<Item>) {
    let mut batch = Vec::with_capacity(BATCH);
    let mut flushes = Vec::new();
    while let Some(first) = rx.recv().await {
        let mut next = Some(first);
        while let Some(item) = next.take() {
            match item {
                Item::Record(r) => batch.push(*r),
                Item::Flush(done) => flushes.push(done),
            }
            if batch.len() < BATCH {
                next = rx.try_recv().ok();
            }
        }
        for m in pack(&topic, &batch) {
            if let Err(e) = sender
                .send(&match sender.prepare(&m) {
                    Ok(p) => p,
                    Err(e) => {
                        tracing::warn!(topic = %topic, error = %e, "trace message not sent");
                        continue;
                    }
                })
                .await
            {
                tracing::warn!(topic = %topic, error = %e, "trace message not sent");
            }
        }
        batch.clear();
        for done in flushes.drain(..) {
            let _ = done.send(());
        }
    }
}

/// Trace messages for `records`: bodies of at most [`MAX_BODY`] bytes (one record may exceed
/// it alone), keyed by every record's index keys.
fn pack(topic: &str, records: &[TraceRecord]) -> Vec<Message> {
    let mut out = Vec::new();
    let mut body = String::new();
    let mut keys = BTreeSet::new();
    for r in records {
        let mut one = String::new();
        r.encode(&mut one);
        if !body.is_empty() && body.len() + one.len() > MAX_BODY {
            out.push(message(topic, std::mem::take(&mut body), &mut keys));
        }
        body.push_str(&one);
        keys.extend(r.index_keys().map(str::to_owned));
    }
    if !body.is_empty() {
        out.push(message(topic, body, &mut keys));
    }
    out
}

fn message(topic: &str, body: String, keys: &mut BTreeSet<String>) -> Message {
    let m = Message::new(topic, body).with_keys(keys.iter().cloned());
    keys.clear();
    m
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::trace::record::{decode_traces, TraceType};

    fn rec(id: usize, keys: &str) -> TraceRecord {
        let mut r = TraceRecord::new(TraceType::Pub);
        r.msg_id = format!("ID{id}");
        r.keys = keys.into();
        r.tags = "x".repeat(1000);
        r
    }

    #[test]
    fn records_are_packed_within_the_body_limit_and_indexed() {
        let records: Vec<TraceRecord> = (0..300)
            .map(|i| rec(i, if i == 0 { "k" } else { "" }))
            .collect();
        let msgs = pack("RMQ_SYS_TRACE_TOPIC", &records);
        assert!(msgs.len() >= 3, "{} messages", msgs.len());
        let mut seen = 0;
        for m in &msgs {
            assert!(m.body.len() <= MAX_BODY);
            let inside = decode_traces(std::str::from_utf8(&m.body).unwrap());
            for r in &inside {
                assert!(m.keys().any(|k| k == r.msg_id), "{} not a key", r.msg_id);
            }
            seen += inside.len();
        }
        assert_eq!(seen, 300);
        assert!(msgs[0].keys().any(|k| k == "k"));
    }
}
