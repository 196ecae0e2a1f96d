//! Clock jumps: the broker's wall clock going back two days and forward five (libfaketime on the
//! real `mqbroker`; the monotonic clock untouched, as in a real jump), with a SIGKILL after each,
//! must not corrupt recovery or cleanup:
//!
//! * messages stored while the clock was back carry older store timestamps than the messages
//!   before them; after a crash and a restart on the right time every message of both is read
//!   back at its offset with its body, and the index finds both by key;
//! * with the clock five days ahead, time-based cleanup deletes the CommitLog files that are
//!   older than `fileReservedTime` by that clock (what Apache does with such a clock), never the
//!   one being written; what remains reads back intact, before and after another crash, and
//!   sends go on at the next offset.
#![allow(clippy::unwrap_used, clippy::expect_used)]

#[path = "support/until.rs"]
mod until;

use std::time::Duration;

use rmq_client::{Admin, Message, MessageQueue, Producer, PullConsumer, TopicConfig, TopicTarget};
use rmq_common::MessageExt;
use rmq_testkit::{
    broker_process, broker_restart_with_env, faketime, namesrv_process, test_dir, Daemon,
};
use until::until_within;

const LIMIT: Duration = Duration::from_secs(60);
const TOPIC: &str = "ClockJump";
/// Bodies large enough that each phase fills several 1 MiB CommitLog files.
const BODY: usize = 60 * 1024;
const PER_PHASE: usize = 40;
const DAY_MS: i64 = 24 * 3_600_000;

fn body(tag: &str, i: usize) -> String {
    let head = format!("{tag}-{i:03}|");
    format!("{head}{}", "x".repeat(BODY - head.len()))
}

struct Cluster {
    dir: tempfile::TempDir,
    ns: String,
    addr: String,
    broker: Option<Daemon>,
    _ns: Daemon,
}

impl Cluster {
    async fn admin(&self) -> Admin {
        Admin::builder()
            .name_server(&self.ns)
            .build()
            .await
            .unwrap()
    }

    /// Queue 0's (min, max) offsets as the broker reports them.
    async fn offsets(&self, admin: &Admin) -> Option<(i64, i64)> {
        let stats = admin.topic_stats(&self.addr, TOPIC).await.ok()?;
        let q = stats.offset_table.values().next()?;
        Some((q.min_offset, q.max_offset))
    }

    async fn producer(&self) -> Producer {
        Producer::builder()
            .group("ClockJumpP")
            .name_server(&self.ns)
            // Stored as sent, so each phase really fills several CommitLog files.
            .compress_threshold(usize::MAX)
            .build()
            .await
            .unwrap()
    }

    /// SIGKILLs the broker and starts it again with `env` (a shifted clock, or none).
    fn crash_and_restart(&mut self, env: &[(String, String)]) {
        self.broker.take().unwrap().kill().unwrap();
        let d = broker_restart_with_env(self.dir.path(), "broker-a", &self.ns, &self.addr, env)
            .unwrap();
        self.broker = Some(d);
    }

    fn log(&self) -> String {
        self.broker.as_ref().unwrap().log_text()
    }

    /// Sends `PER_PHASE` messages tagged `tag` to queue 0, keyed `<tag>-<i>`; returns their
    /// queue offsets.
    async fn send(&self, tag: &str) -> Vec<i64> {
        let p = self.producer().await;
        let mq = MessageQueue::new(TOPIC, "broker-a", 0);
        until_within(LIMIT, "the broker takes sends again", || async {
            p.send_to_queue(Message::new(TOPIC, format!("{tag}-probe")), &mq)
                .await
                .ok()
        })
        .await;
        let mut offsets = Vec::new();
        for i in 0..PER_PHASE {
            let m = Message::new(TOPIC, body(tag, i)).with_keys([format!("{tag}-{i}")]);
            offsets.push(p.send_to_queue(m, &mq).await.unwrap().queue_offset);
        }
        p.shutdown().await;
        offsets
    }

    /// Every message of queue 0 from `from` to its end, read through the consume queue.
    async fn read_all(&self, from: i64) -> Vec<MessageExt> {
        let c = PullConsumer::builder()
            .group("ClockJumpC")
            .name_server(&self.ns)
            .auto_commit(false)
            .build()
            .await
            .unwrap();
        let mq = MessageQueue::new(TOPIC, "broker-a", 0);
        c.assign([mq.clone()]);
        c.seek(&mq, from).unwrap();
        let admin = self.admin().await;
        let (_, max) = until_within(LIMIT, "the broker reports the queue's offsets", || {
            self.offsets(&admin)
        })
        .await;
        admin.shutdown().await;
        let mut out: Vec<MessageExt> = Vec::new();
        let deadline = std::time::Instant::now() + LIMIT;
        while out.last().map_or(from, |m| m.queue_offset + 1) < max {
            assert!(
                std::time::Instant::now() < deadline,
                "only {} of the messages from {from} to {max} read back",
                out.len()
            );
            out.extend(c.poll(Duration::from_secs(1)).await.unwrap());
        }
        c.shutdown().await;
        out
    }
}

/// Checks that `got` holds, in order and at consecutive offsets from `first`, the probe and the
/// `PER_PHASE` bodies of each tag in `tags`, and returns the store timestamps per tag.
fn check_bodies(got: &[MessageExt], first: i64, tags: &[&str]) -> Vec<(i64, i64)> {
    let mut want = Vec::new();
    for tag in tags {
        want.push(format!("{tag}-probe"));
        want.extend((0..PER_PHASE).map(|i| body(tag, i)));
    }
    let bodies: Vec<String> = got
        .iter()
        .map(|m| String::from_utf8_lossy(&m.message.body).into_owned())
        .collect();
    assert_eq!(bodies.len(), want.len(), "messages read back");
    for (k, (b, w)) in bodies.iter().zip(&want).enumerate() {
        assert!(
            b == w,
            "offset {}: {:.20} where {:.20} was sent",
            first + k as i64,
            b,
            w
        );
    }
    for (k, m) in got.iter().enumerate() {
        assert_eq!(m.queue_offset, first + k as i64, "consecutive offsets");
    }
    got.chunks(PER_PHASE + 1)
        .map(|c| {
            let ts: Vec<i64> = c.iter().map(|m| m.store_timestamp).collect();
            (*ts.iter().min().unwrap(), *ts.iter().max().unwrap())
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn clock_jumps_do_not_corrupt_recovery_or_cleanup() {
    let back = faketime("-2d").unwrap();
    let ahead = faketime("+5d").unwrap();
    let dir = test_dir("clock-jump");
    let (ns_d, ns) = namesrv_process(dir.path(), "namesrv").unwrap();
    let every_hour: Vec<String> = (0..24).map(|h| format!("{h:02}")).collect();
    let (b, addr) = broker_process(
        dir.path(),
        "broker-a",
        &ns,
        &format!(
            "flushDiskType=SYNC_FLUSH\nmappedFileSizeCommitLog=1048576\nfileReservedTime=48\n\
             deleteWhen={}\ncleanResourceInterval=200\nmaxMessageSize=1048576\n",
            every_hour.join(";")
        ),
    )
    .unwrap();
    let mut c = Cluster {
        dir,
        ns,
        addr,
        broker: Some(b),
        _ns: ns_d,
    };
    let admin = c.admin().await;
    until_within(LIMIT, "the topic is routed", || async {
        admin
            .create_topic(
                TopicTarget::Broker(c.addr.clone()),
                &TopicConfig::new(TOPIC, 1, 1, 6),
            )
            .await
            .ok()?;
        admin.topic_route(TOPIC).await.ok()
    })
    .await;
    admin.shutdown().await;

    // On time, then a crash and two days back.
    c.send("on-time").await;
    c.crash_and_restart(&back);
    c.send("two-days-back").await;
    let got = c.read_all(0).await;
    let ts = check_bodies(&got, 0, &["on-time", "two-days-back"]);
    assert!(
        ts[1].1 < ts[0].0 - DAY_MS,
        "the broker's clock went back: stored {:?} after {:?}",
        ts[1],
        ts[0]
    );

    // A crash while the clock is back, and the restart on the right time recovers it all.
    c.crash_and_restart(&[]);
    let got = c.read_all(0).await;
    check_bodies(&got, 0, &["on-time", "two-days-back"]);
    let admin = c.admin().await;
    for tag in ["on-time", "two-days-back"] {
        let key = format!("{tag}-7");
        let hits = admin
            .query_message_by_key(TOPIC, &key, 32, 0, i64::MAX)
            .await
            .unwrap();
        assert_eq!(hits.len(), 1, "the index finds {key}");
        assert!(
            hits[0].message.body == body(tag, 7).as_bytes(),
            "{key}'s body"
        );
    }
    assert_eq!(c.offsets(&admin).await.unwrap().0, 0, "nothing was deleted");
    admin.shutdown().await;

    // Five days ahead: files older than 48 h by that clock go, the one being written stays.
    c.crash_and_restart(&ahead);
    c.send("five-days-ahead").await;
    let admin = c.admin().await;
    let (min, max) = until_within(
        LIMIT,
        "time-based cleanup deletes the expired files",
        || async {
            let (min, max) = c.offsets(&admin).await?;
            (min > 0).then_some((min, max))
        },
    )
    .await;
    assert!(c.log().contains("deleting expired commit log file"));
    assert!(
        min < max,
        "the file being written is kept: min {min}, max {max}"
    );
    admin.shutdown().await;
    let kept = c.read_all(min).await;
    assert_eq!(
        kept.last().unwrap().message.body,
        body("five-days-ahead", PER_PHASE - 1)
    );

    // A crash after the cleanup, back on the right time: the same messages, and sends go on.
    c.crash_and_restart(&[]);
    // (Cleanup may have deleted one more file between the read and the kill: what is left is
    // the same messages from its first offset on.)
    let again = c.read_all(min).await;
    let first = again[0].queue_offset;
    let same = kept.iter().skip_while(|k| k.queue_offset < first);
    assert_eq!(
        again.len(),
        same.clone().count(),
        "messages from offset {first}"
    );
    for (a, k) in again.iter().zip(same) {
        assert_eq!(
            (a.queue_offset, &a.message.body),
            (k.queue_offset, &k.message.body)
        );
    }
    let next = c.send("after").await;
    assert_eq!(
        next[0],
        max + 1,
        "sends go on at the next offset (after the probe)"
    );
}
