//! The fault filesystem does what the disk tests rely on: written bytes reach the backing
//! directory, a stall holds `msync` of a shared mapping until it is cleared, and EIO comes back
//! from `msync` the way a failing disk reports it. The mapping is served from another process
//! (`dd` through the mount would do for writes, but `msync` is what the store calls), so here the
//! checks run in a child: this test binary re-executed with `FAULTFS_CHILD` set.
#![allow(clippy::unwrap_used)]

use std::path::Path;
use std::process::{Command, Stdio};
use std::time::Duration;

use rmq_testkit::faultfs::{Fault, FaultFs};

const PAGE: usize = 4096;

/// The child: maps `file` (4 pages), writes `byte` into every page and msyncs; exit 0 when the
/// msync succeeded, 3 when it failed with EIO.
fn child(file: &Path, byte: u8) -> ! {
    let f = std::fs::OpenOptions::new()
        .read(true)
        .write(true)
        .create(true)
        .truncate(false)
        .open(file)
        .unwrap();
    if f.metadata().unwrap().len() != 4 * PAGE as u64 {
        f.set_len(4 * PAGE as u64).unwrap();
    }
    // SAFETY: the file is this test's own and nobody truncates it while it is mapped.
    let mut map = unsafe { memmap2::MmapMut::map_mut(&f).unwrap() };
    for p in 0..4 {
        map[p * PAGE] = byte;
    }
    match map.flush() {
        Ok(()) => std::process::exit(0),
        Err(e) if e.raw_os_error() == Some(libc::EIO) => std::process::exit(3),
        Err(e) => panic!("msync: {e}"),
    }
}

fn run_child(file: &Path, byte: u8) -> std::process::Child {
    Command::new(std::env::current_exe().unwrap())
        .args([
            "--exact",
            "mapped_writes_pass_stall_and_fail_on_command",
            "--nocapture",
        ])
        .env("FAULTFS_CHILD", format!("{}:{byte}", file.display()))
        .stdout(Stdio::null())
        .spawn()
        .unwrap()
}

#[test]
fn mapped_writes_pass_stall_and_fail_on_command() {
    if let Ok(spec) = std::env::var("FAULTFS_CHILD") {
        let (path, byte) = spec.rsplit_once(':').unwrap();
        child(Path::new(path), byte.parse().unwrap());
    }
    let dir = tempfile::tempdir().unwrap();
    let backing = dir.path().join("backing");
    let mnt = dir.path().join("mnt");
    let fs = FaultFs::mount(&backing, &mnt).unwrap();
    let file = mnt.join("data");

    // Healthy: the bytes are in the backing file.
    assert_eq!(run_child(&file, 7).wait().unwrap().code(), Some(0));
    let on_disk = std::fs::read(backing.join("data")).unwrap();
    assert_eq!(on_disk.len(), 4 * PAGE);
    assert!((0..4).all(|p| on_disk[p * PAGE] == 7));

    // Stalled: msync does not return until the stall is cleared.
    fs.set(Fault::Stall);
    let mut c = run_child(&file, 8);
    assert!(
        fs.wait_for_hits_beyond(0, Duration::from_secs(20)),
        "no write reached the stalled disk"
    );
    // The write is held: msync cannot have returned.
    assert!(
        c.try_wait().unwrap().is_none(),
        "msync returned on a stalled disk"
    );
    fs.set(Fault::Healthy);
    assert_eq!(c.wait().unwrap().code(), Some(0));
    let on_disk = std::fs::read(backing.join("data")).unwrap();
    assert!((0..4).all(|p| on_disk[p * PAGE] == 8));

    // Failing: msync reports EIO and the backing file keeps the old bytes.
    fs.set(Fault::Eio);
    let hits = fs.hits();
    assert_eq!(run_child(&file, 9).wait().unwrap().code(), Some(3));
    assert!(fs.hits() > hits);
    let on_disk = std::fs::read(backing.join("data")).unwrap();
    assert!((0..4).all(|p| on_disk[p * PAGE] == 8));
    fs.unmount().unwrap();
}
