//! Cleanup by time and by disk usage, driven through an injected clock and disk probe.
#![allow(clippy::unwrap_used)]

mod common;

use std::path::Path;
use std::sync::atomic::{AtomicI64, AtomicU32, AtomicU64, Ordering};
use std::sync::Arc;

use common::*;
use rmq_common::message::keys;
use rmq_store::*;

#[derive(Default)]
struct FakeClock {
    offset_ms: AtomicI64,
    hour: AtomicU32,
}
impl Clock for FakeClock {
    fn now_millis(&self) -> i64 {
        rmq_common::time::now_millis() + self.offset_ms.load(Ordering::Relaxed)
    }
    fn local_hour(&self) -> u32 {
        self.hour.load(Ordering::Relaxed)
    }
}

#[derive(Default)]
struct FakeDisk {
    ratio_millis: AtomicU64,
}
impl DiskUsageProbe for FakeDisk {
    fn used_ratio(&self, _: &Path) -> std::io::Result<f64> {
        Ok(self.ratio_millis.load(Ordering::Relaxed) as f64 / 1000.0)
    }
}

struct Env {
    _dir: tempfile::TempDir,
    store: Arc<MessageStore>,
    clock: Arc<FakeClock>,
    disk: Arc<FakeDisk>,
}

async fn filled_store() -> Env {
    let dir = tempfile::tempdir().unwrap();
    let mut cfg = small_config(dir.path());
    cfg.clean_resource_interval = 3_600_000;
    cfg.max_index_num = 64;
    let clock = Arc::new(FakeClock::default());
    clock.hour.store(12, Ordering::Relaxed);
    let disk = Arc::new(FakeDisk::default());
    disk.ratio_millis.store(100, Ordering::Relaxed);
    let hooks = StoreHooks {
        clock: clock.clone(),
        disk_probe: disk.clone(),
    };
    let store = MessageStore::open_with_hooks(cfg, hooks).unwrap();
    store.start().unwrap();
    for i in 0..400 {
        let m = msg_with(
            "C",
            i % 2,
            vec![7u8; 1000],
            &[(keys::KEYS, &format!("k{i}"))],
        );
        assert!(store.put_message(m).await.is_ok());
    }
    wait_dispatched(&store);
    Env {
        _dir: dir,
        store,
        clock,
        disk,
    }
}

#[tokio::test]
async fn expired_files_go_at_the_delete_hour_only() {
    let env = filled_store().await;
    let s = &env.store;
    // Files in use (the directory may also hold the preallocated next file).
    let files_before = (s.commit_log_max_offset() / 65536) as usize + 1;
    assert!(files_before > 4);
    // Old enough, but not the delete hour and the disk is fine: nothing happens.
    env.clock.offset_ms.store(73 * 3_600_000, Ordering::Relaxed);
    assert_eq!(s.clean_now().commit_log_files_deleted, 0);
    // The delete hour ("04") arrives.
    env.clock.hour.store(4, Ordering::Relaxed);
    let r = s.clean_now();
    assert_eq!(
        r.commit_log_files_deleted,
        files_before - 1,
        "all but the last file"
    );
    assert!(r.consume_queue_files_deleted > 0);
    assert!(r.index_files_deleted > 0);
    let min = s.commit_log_min_offset();
    assert!(min > 0);
    // Consume queues moved their minimum past the deleted records.
    for q in 0..2 {
        let min_q = s.min_offset_in_queue("C", q);
        assert!(min_q > 0);
        let first = s.commit_log_offset_in_queue("C", q, min_q).unwrap();
        assert!(first >= min);
        let r = s.get_message("C", q, 0, 32, 1 << 20, &AcceptAll);
        assert_eq!(
            (r.status, r.next_begin_offset),
            (GetMessageStatus::OffsetTooSmall, min_q)
        );
        let got = pull_all(s, "C", q);
        assert_eq!(got.len() as i64, s.max_offset_in_queue("C", q) - min_q);
    }
    // Not yet expired files stay even at the delete hour.
    env.clock.offset_ms.store(0, Ordering::Relaxed);
    assert_eq!(s.clean_now().commit_log_files_deleted, 0);
}

#[tokio::test]
async fn disk_pressure_deletes_early_and_a_full_disk_refuses_appends() {
    let env = filled_store().await;
    let s = &env.store;
    // Above diskMaxUsedSpaceRatio (75%): expired files go at any hour; none are expired yet.
    env.disk.ratio_millis.store(800, Ordering::Relaxed);
    assert_eq!(s.clean_now().commit_log_files_deleted, 0);
    env.clock.offset_ms.store(73 * 3_600_000, Ordering::Relaxed);
    let r = s.clean_now();
    assert!(r.commit_log_files_deleted > 0);

    let env = filled_store().await;
    let s = &env.store;
    // Above diskSpaceCleanForciblyRatio (85%): even unexpired files go.
    env.disk.ratio_millis.store(870, Ordering::Relaxed);
    assert!(s.clean_now().commit_log_files_deleted > 0);

    // Above diskSpaceWarningLevelRatio (90%): appends are refused, stored data stays readable.
    env.disk.ratio_millis.store(950, Ordering::Relaxed);
    let r = s.clean_now();
    assert!(r.disk_full);
    let before = s.commit_log_max_offset();
    let put = s.put_message(msg("C", 0, &b"no room"[..])).await;
    assert_eq!(put.status, PutMessageStatus::ServiceNotAvailable);
    let text = put.error.unwrap().to_string();
    assert!(
        text.contains("95.0%") && text.contains("commitlog"),
        "{text}"
    );
    assert_eq!(s.commit_log_max_offset(), before);
    assert!(!pull_all(s, "C", 0).is_empty());
    env.disk.ratio_millis.store(500, Ordering::Relaxed);
    assert!(!s.clean_now().disk_full);
    assert!(s.put_message(msg("C", 0, &b"room again"[..])).await.is_ok());
}
