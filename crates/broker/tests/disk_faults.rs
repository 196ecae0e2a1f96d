//! A slow and a failing disk, for real: a SYNC_FLUSH broker process keeps its store on the test
//! kit's fault filesystem (FUSE, served by this test; it needs root and /dev/fuse, and a run that
//! cannot mount fails naming why). The test stalls the CommitLog's writes, or makes them fail
//! with EIO, and checks what the broker promised: a send whose flush did not finish in
//! `syncFlushTimeout` is answered FLUSH_DISK_TIMEOUT, never SEND_OK; after a failed flush nothing
//! more is accepted; consumers keep reading; and after a SIGKILL the broker, restarted straight on
//! the backing directory (what the "disk" really holds), has every acknowledged message, in order.
#![allow(clippy::unwrap_used)]

mod common;

use std::path::PathBuf;
use std::time::Duration;

use bytes::Bytes;
use common::cluster::create_topic;
use common::{client, pull_request, send_request, TIMEOUT};
use rmq_common::record::decode_messages;
use rmq_remoting::header::pull_sys_flag;
use rmq_remoting::{RemotingClient, ResponseCode};
use rmq_testkit::faultfs::{Fault, FaultFs};
use rmq_testkit::Daemon;

const TOPIC: &str = "Disk";

/// A name server and one SYNC_FLUSH broker whose store is on a fault filesystem.
///
/// Fields drop in this order: the broker (SIGKILL and reap), the filesystem (unmounted), the
/// name server, the directory; [`Drop`] clears the fault before, so that a failed assertion
/// during a stall does not leave the broker waiting on the disk and the test on the broker.
struct Rig {
    broker: Option<Daemon>,
    fs: Option<FaultFs>,
    _ns_d: Daemon,
    c: RemotingClient,
    ns: String,
    addr: String,
    /// Every send's body and answer, in order.
    sent: Vec<(String, ResponseCode, String)>,
    dir: tempfile::TempDir,
}

impl Drop for Rig {
    fn drop(&mut self) {
        if let Some(fs) = &self.fs {
            fs.set(Fault::Healthy);
        }
    }
}

impl Rig {
    async fn start(name: &str) -> Rig {
        let dir = rmq_testkit::test_dir(name);
        let (ns_d, ns) = rmq_testkit::namesrv_process(dir.path(), "namesrv").unwrap();
        // The broker's store goes to <dir>/broker-a/store: the fault filesystem is mounted there.
        let fs = FaultFs::mount(&dir.path().join("backing"), &dir.path().join("broker-a"))
            .expect("the disk-fault test mounts a FUSE filesystem");
        let (broker, addr) = rmq_testkit::broker_process(
            dir.path(),
            "broker-a",
            &ns,
            "flushDiskType=SYNC_FLUSH\nsyncFlushTimeout=1000\n",
        )
        .unwrap();
        let c = client();
        create_topic(&c, &addr, TOPIC, 1).await;
        Rig {
            dir,
            ns,
            _ns_d: ns_d,
            fs: Some(fs),
            broker: Some(broker),
            addr,
            c,
            sent: Vec::new(),
        }
    }

    fn fs(&self) -> &FaultFs {
        self.fs.as_ref().unwrap()
    }

    /// Sends the next numbered message; returns its answer.
    async fn send(&mut self) -> (ResponseCode, String) {
        let body = format!("m{}", self.sent.len());
        let req = send_request(TOPIC, 0, b"", None).with_body(Bytes::from(body.clone()));
        let r = self.c.invoke(&self.addr, req, TIMEOUT).await.unwrap();
        let remark = r.remark.clone().unwrap_or_default();
        self.sent.push((body, r.response_code(), remark.clone()));
        (r.response_code(), remark)
    }

    /// Sends `n` messages, each answered SEND_OK.
    async fn send_ok(&mut self, n: usize) {
        for _ in 0..n {
            let (code, remark) = self.send().await;
            assert_eq!(code, ResponseCode::Success, "{remark}");
        }
    }

    /// The bodies queue 0 holds from offset 0, read until `expect` are there or the queue ends.
    async fn read_all(&self, expect: usize) -> Vec<String> {
        self.read_as("Reader", expect).await
    }

    /// [`Self::read_all`] as consumer group `group`.
    async fn read_as(&self, group: &str, expect: usize) -> Vec<String> {
        let mut out = Vec::new();
        let deadline = std::time::Instant::now() + Duration::from_secs(30);
        loop {
            // Short of what is expected, the broker holds the pull until dispatch (which may lag
            // the append a moment after a restart) brings the next message.
            let (flags, hold_ms) = if out.len() < expect {
                (pull_sys_flag::SUBSCRIPTION | pull_sys_flag::SUSPEND, 1_000)
            } else {
                (pull_sys_flag::SUBSCRIPTION, 0)
            };
            let req = pull_request(group, TOPIC, 0, out.len() as i64, flags, hold_ms, Some("*"));
            let r = self.c.invoke(&self.addr, req, TIMEOUT).await.unwrap();
            if r.response_code() != ResponseCode::Success {
                if out.len() >= expect {
                    return out;
                }
                assert!(
                    std::time::Instant::now() < deadline,
                    "queue 0 ends at {} messages, {expect} expected: {out:?}",
                    out.len()
                );
                continue;
            }
            for m in decode_messages(&r.body).unwrap() {
                assert_eq!(m.queue_offset, out.len() as i64);
                out.push(String::from_utf8_lossy(&m.message.body).into_owned());
            }
        }
    }

    /// SIGKILLs the broker, unmounts the fault filesystem and restarts the broker on the backing
    /// directory itself: it then sees exactly the bytes that reached the "disk".
    async fn kill_and_restart_on_backing(&mut self) {
        let log = self.broker.as_ref().unwrap().log_text();
        assert!(!log.contains("panicked"), "the broker panicked:\n{log}");
        self.broker.take().unwrap().kill().unwrap();
        self.fs.take().unwrap().unmount().unwrap();
        let mnt = self.dir.path().join("broker-a");
        std::fs::remove_dir(&mnt).unwrap();
        std::fs::rename(self.dir.path().join("backing"), &mnt).unwrap();
        let b =
            rmq_testkit::broker_restart(self.dir.path(), "broker-a", &self.ns, &self.addr).unwrap();
        self.broker = Some(b);
    }

    fn acknowledged(&self) -> Vec<String> {
        self.sent
            .iter()
            .filter(|(_, code, _)| *code == ResponseCode::Success)
            .map(|(b, _, _)| b.clone())
            .collect()
    }

    fn store_dir(&self) -> PathBuf {
        self.dir.path().join("broker-a").join("store")
    }
}

/// Waits until the fault has been met by at least one write or sync.
fn hit(fs: &FaultFs) {
    assert!(
        fs.wait_for_hits_beyond(0, Duration::from_secs(20)),
        "no write reached the faulty disk"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stalled_disk_answers_flush_disk_timeout_and_loses_nothing() {
    let mut rig = Rig::start("disk-stall").await;
    rig.send_ok(10).await;

    assert_eq!(rig.read_all(10).await.len(), 10);

    // One send: its flush starts writing back the page it shares with earlier messages, and a
    // filesystem that needs stable pages (FUSE, or a device with integrity checksums) makes the
    // next append into that page wait for the write to end; on such a disk, a stall holds later
    // sends until it ends (docs/reliability.md).
    // Only the CommitLog stalls: a consume-queue or index page whose periodic flush began in
    // the stall would hold its next writer too (stable pages), at a moment the test cannot choose.
    rig.fs().scope("commitlog");
    rig.fs().set(Fault::Stall);
    let (code, remark) = rig.send().await;
    assert_eq!(
        code,
        ResponseCode::FlushDiskTimeout,
        "a send on a stalled disk: {remark}"
    );
    assert!(remark.contains("syncFlushTimeout"), "{remark}");
    hit(rig.fs());
    // Consumers go on reading what was flushed, a group first seen now too (its config file
    // is written in the background, not on the request path).
    assert_eq!(rig.read_all(10).await.len(), 10);
    assert_eq!(rig.read_as("LateReader", 10).await.len(), 10);

    // The disk answers again: so does the broker, by itself.
    rig.fs().set(Fault::Healthy);
    let (code, remark) = rig.send().await;
    assert_eq!(code, ResponseCode::Success, "after the stall: {remark}");

    // Every send was stored (FLUSH_DISK_TIMEOUT means stored, flushed late), in order, on disk.
    let all: Vec<String> = rig.sent.iter().map(|(b, _, _)| b.clone()).collect();
    rig.kill_and_restart_on_backing().await;
    assert_eq!(rig.read_all(all.len()).await, all);
    assert!(rig.store_dir().join("commitlog").exists());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failing_disk_refuses_writes_and_acknowledges_nothing_it_did_not_store() {
    let mut rig = Rig::start("disk-eio").await;
    rig.send_ok(10).await;

    rig.fs().scope("commitlog");
    rig.fs().set(Fault::Eio);
    let (code, remark) = rig.send().await;
    assert_eq!(
        code,
        ResponseCode::FlushDiskTimeout,
        "the send whose flush failed: {remark}"
    );
    assert!(remark.contains("failed"), "{remark}");
    hit(rig.fs());
    // From the failure on the store takes nothing: a second msync would "succeed" over pages
    // the kernel marked clean without writing them.
    let (code, remark) = rig.send().await;
    assert_eq!(code, ResponseCode::ServiceNotAvailable, "{remark}");
    assert!(
        remark.contains("disk failed") && remark.contains("restart"),
        "the refusal names the disk and what to do: {remark}"
    );
    // Consumers go on reading everything acknowledged.
    assert_eq!(rig.read_all(10).await, rig.acknowledged());

    // A disk that works again does not make the broker trust the failed writes.
    rig.fs().set(Fault::Healthy);
    let (code, remark) = rig.send().await;
    assert_eq!(code, ResponseCode::ServiceNotAvailable, "{remark}");

    // What reached the disk: every acknowledged message, in order; of the rest at most the one
    // whose flush failed (the kernel may or may not have written its page), nothing after it.
    let acked = rig.acknowledged();
    rig.kill_and_restart_on_backing().await;
    let found = rig.read_all(acked.len()).await;
    assert_eq!(found[..acked.len()], acked[..]);
    assert!(
        found.len() <= acked.len() + 1 && found[acked.len()..].iter().all(|b| b == "m10"),
        "only the failed send may appear beyond the acknowledged ones: {found:?}"
    );
    // A restarted broker on a working disk takes sends again.
    let (code, remark) = rig.send().await;
    assert_eq!(code, ResponseCode::Success, "after the restart: {remark}");
}
