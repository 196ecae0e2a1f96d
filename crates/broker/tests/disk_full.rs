//! A full disk, for real: the store lives on a 64 MiB tmpfs the test mounts (it needs root; a
//! run that cannot mount fails, naming why), next to a 20 MiB ballast file. Sends fill it until
//! the broker refuses them with an answer that names the disk, never SEND_OK for what it did not
//! store and never a crash; every acknowledged message stays readable; once the ballast is
//! deleted, sends succeed again by themselves.
#![allow(clippy::unwrap_used)]

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use common::cluster::wait_until;
use common::*;
use rmq_common::record::decode_messages;
use rmq_remoting::header::pull_sys_flag;
use rmq_remoting::ResponseCode;

/// A tmpfs mounted for the test, unmounted when dropped.
struct Tmpfs(PathBuf);

impl Tmpfs {
    fn mount(path: &Path, size_mb: u32) -> Tmpfs {
        std::fs::create_dir_all(path).unwrap();
        let out = Command::new("mount")
            .args(["-t", "tmpfs", "-o", &format!("size={size_mb}m"), "tmpfs"])
            .arg(path)
            .output()
            .expect("running mount");
        assert!(
            out.status.success(),
            "the disk-full test mounts a {size_mb} MiB tmpfs and needs root (CAP_SYS_ADMIN): \
             mount said {}",
            String::from_utf8_lossy(&out.stderr).trim()
        );
        Tmpfs(path.to_owned())
    }
}

impl Drop for Tmpfs {
    fn drop(&mut self) {
        let _ = Command::new("umount").arg("-l").arg(&self.0).status();
    }
}

static BODY: [u8; 256 * 1024] = [b'x'; 256 * 1024];

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_full_disk_refuses_sends_keeps_reads_and_recovers_by_itself() {
    let dir = tempfile::tempdir().unwrap();
    let disk = dir.path().join("disk");
    let _mount = Tmpfs::mount(&disk, 64);
    let ballast = disk.join("ballast");
    std::fs::write(&ballast, vec![1u8; 20 * 1024 * 1024]).unwrap();
    let store = disk.join("store");
    let cfg = config(
        &store,
        &[
            ("mappedFileSizeCommitLog", "8388608"),
            ("cleanResourceInterval", "200"),
            // Refuse at 90% (the default) before forced cleaning would delete unexpired files.
            ("diskSpaceCleanForciblyRatio", "0.99"),
        ],
    );
    let broker = start(cfg).await;
    let addr = broker.local_addr().to_string();
    let c = client();

    // Fill: 256 KiB at a time until the broker says no (at most 2x the disk).
    let mut acked = 0usize;
    let refusal = loop {
        let r = c
            .invoke(&addr, send_request("Full", 0, &BODY, None), TIMEOUT)
            .await
            .unwrap();
        if r.response_code() != ResponseCode::Success {
            break r;
        }
        acked += 1;
        assert!(acked < 512, "64 MiB took more than 128 MiB of messages");
    };
    let remark = refusal.remark.clone().unwrap_or_default();
    eprintln!(
        "refused after {acked} sends of 256 KiB: {:?} {remark}",
        refusal.response_code()
    );
    assert!(acked > 0, "nothing was stored before the refusal: {remark}");
    assert!(
        remark.to_lowercase().contains("disk") || remark.to_lowercase().contains("space"),
        "the refusal ({:?}) does not name the disk: {remark}",
        refusal.response_code()
    );

    // Reads go on: every acknowledged message is there, in order.
    let mut offset = 0i64;
    while (offset as usize) < acked {
        let r = pull_until_found(&c, &addr, || {
            pull_request(
                "Reader",
                "Full",
                0,
                offset,
                pull_sys_flag::SUBSCRIPTION,
                0,
                Some("*"),
            )
        })
        .await;
        assert_eq!(r.response_code(), ResponseCode::Success, "{:?}", r.remark);
        let msgs = decode_messages(&r.body).unwrap();
        assert!(!msgs.is_empty());
        for m in msgs {
            assert_eq!(m.queue_offset, offset);
            assert_eq!(m.message.body.len(), BODY.len());
            offset += 1;
        }
    }

    // Space comes back: sends succeed again without anyone touching the broker.
    std::fs::remove_file(&ballast).unwrap();
    wait_until(
        "sends succeed again after space was freed",
        Duration::from_secs(60),
        || async {
            let r = c
                .invoke(&addr, send_request("Full", 0, b"after", None), TIMEOUT)
                .await
                .unwrap();
            r.response_code() == ResponseCode::Success
        },
    )
    .await;
    broker.shutdown().await;
}

/// Queue `queue_id`'s minimum offset, as GET_MIN_OFFSET answers it.
async fn min_offset(c: &rmq_remoting::RemotingClient, addr: &str, topic: &str) -> i64 {
    use rmq_remoting::header::{GetMinOffsetRequestHeader, GetMinOffsetResponseHeader};
    let h = GetMinOffsetRequestHeader {
        topic: topic.to_owned(),
        queue_id: 0,
        ..Default::default()
    };
    let req = rmq_remoting::RemotingCommand::request(rmq_remoting::RequestCode::GetMinOffset, &h);
    let r = c.invoke(addr, req, TIMEOUT).await.unwrap();
    r.decode_header::<GetMinOffsetResponseHeader>()
        .unwrap()
        .offset
}

/// Used share of the filesystem holding `path`, as the broker's probe computes it.
fn used_ratio(path: &Path) -> f64 {
    use rmq_store::DiskUsageProbe;
    rmq_store::StatvfsProbe.used_ratio(path).unwrap()
}

/// Above `diskMaxUsedSpaceRatio` the broker deletes old CommitLog files at once, whatever
/// `deleteWhen` says; above `diskSpaceCleanForciblyRatio` it deletes them even though
/// `fileReservedTime` has not passed (Apache's `CleanCommitLogService`). So a 64 MiB disk takes
/// 96 MiB of sends without one refusal, and what it keeps reads back in order.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn above_disk_max_used_space_ratio_old_files_go_before_the_disk_fills() {
    let dir = tempfile::tempdir().unwrap();
    let disk = dir.path().join("disk");
    let _mount = Tmpfs::mount(&disk, 64);
    let store = disk.join("store");
    let cfg = config(
        &store,
        &[
            ("mappedFileSizeCommitLog", "4194304"),
            ("cleanResourceInterval", "100"),
            ("fileReservedTime", "72"),
            ("diskMaxUsedSpaceRatio", "40"),
            ("diskSpaceCleanForciblyRatio", "0.5"),
        ],
    );
    let broker = start(cfg).await;
    let addr = broker.local_addr().to_string();
    let c = client();

    // 96 MiB in rounds of 4 MiB; before each round the disk is back below the forcible ratio
    // (cleanup keeps up by itself; the test only waits for it).
    let rounds = 24;
    for round in 0..rounds {
        wait_until(
            "cleanup brings the disk below diskSpaceCleanForciblyRatio",
            Duration::from_secs(60),
            || async { used_ratio(&disk) < 0.5 },
        )
        .await;
        for _ in 0..16 {
            let r = c
                .invoke(&addr, send_request("Spill", 0, &BODY, None), TIMEOUT)
                .await
                .unwrap();
            assert_eq!(
                r.response_code(),
                ResponseCode::Success,
                "round {round}: a send was refused: {:?}",
                r.remark
            );
        }
    }
    let sent = rounds * 16;
    // Cleanup goes on until the disk is below diskMaxUsedSpaceRatio, several files a pass, and
    // moves the queue's minimum at the end of the pass; then it rests (the files are younger
    // than fileReservedTime). Wait for that: the minimum the broker reports is the first message
    // a pull there returns.
    wait_until(
        "cleanup brings the disk below diskMaxUsedSpaceRatio",
        Duration::from_secs(60),
        || async { used_ratio(&disk) < 0.4 },
    )
    .await;
    let pull_at = |offset: i64| {
        let (c, addr) = (&c, &addr);
        async move {
            let r = pull_until_found(c, addr, || {
                pull_request(
                    "Reader",
                    "Spill",
                    0,
                    offset,
                    pull_sys_flag::SUBSCRIPTION,
                    0,
                    Some("*"),
                )
            })
            .await;
            assert_eq!(r.response_code(), ResponseCode::Success, "{:?}", r.remark);
            decode_messages(&r.body).unwrap()
        }
    };
    let min = std::cell::Cell::new(0);
    wait_until(
        "the minimum offset is the first message kept",
        Duration::from_secs(60),
        || async {
            min.set(min_offset(&c, &addr, "Spill").await);
            pull_at(min.get()).await.first().map(|m| m.queue_offset) == Some(min.get())
        },
    )
    .await;
    let min = min.get();
    assert!(min > 0, "old files were deleted (min offset {min})");
    assert!(used_ratio(&disk) < 0.9, "the disk never filled");

    // What is kept reads back in order, from the minimum to the last send.
    let mut offset = min;
    while offset < sent as i64 {
        for m in pull_at(offset).await {
            assert_eq!(m.queue_offset, offset);
            offset += 1;
        }
    }
    broker.shutdown().await;
}
