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
