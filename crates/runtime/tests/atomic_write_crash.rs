//! `rmq_runtime::fs` from the outside: a writer process killed with SIGKILL at arbitrary points
//! leaves a file that is one complete version, never a torn or empty one, and a `.bak` that is
//! complete too.
#![allow(clippy::unwrap_used)]

use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

const WRITER_ENV: &str = "RMQ_RUNTIME_TEST_WRITER";
const BODY: usize = 256 * 1024;

/// Generation `n`: a header line, then `BODY` bytes of one letter chosen by `n`.
fn version(n: u64) -> Vec<u8> {
    let mut v = format!("gen {n}\n").into_bytes();
    v.resize(v.len() + BODY, b'a' + (n % 26) as u8);
    v
}

/// The generation in a file's header, if it has one.
fn generation(bytes: &[u8]) -> Option<u64> {
    let head = String::from_utf8_lossy(&bytes[..bytes.len().min(32)]).into_owned();
    head.strip_prefix("gen ")?.split('\n').next()?.parse().ok()
}

/// Asserts that `path` holds one complete version.
fn check(path: &Path) {
    let bytes = std::fs::read(path).unwrap();
    let n =
        generation(&bytes).unwrap_or_else(|| panic!("{} has no version header", path.display()));
    assert!(
        bytes == version(n),
        "{} holds a torn version {n}",
        path.display()
    );
}

/// Not a test on its own: the writer the real test starts and kills.
#[test]
fn writer_process() {
    let Some(path) = std::env::var_os(WRITER_ENV) else {
        return;
    };
    let path = Path::new(&path);
    for n in 0.. {
        rmq_runtime::fs::write_atomic_keeping_backup(path, &version(n)).unwrap();
    }
}

#[test]
fn sigkill_during_writes_leaves_a_complete_file_and_backup() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("state/offsets.json");
    let mut last = None;
    for round in 0..5u64 {
        let mut child = Command::new(std::env::current_exe().unwrap())
            .args(["--exact", "writer_process", "--nocapture"])
            .env(WRITER_ENV, &path)
            .stdout(Stdio::null())
            .spawn()
            .unwrap();
        // Watch it replace the file a few times (a different number each round), then kill it
        // wherever it is.
        let deadline = Instant::now() + Duration::from_secs(30);
        let mut seen = 0;
        while seen < 3 + round {
            assert!(Instant::now() < deadline, "the writer makes no progress");
            let now = std::fs::read(&path).ok().and_then(|b| generation(&b));
            if now.is_some() && now != last {
                seen += 1;
                last = now;
            }
            std::thread::yield_now();
        }
        child.kill().unwrap();
        child.wait().unwrap();
        check(&path);
        check(&rmq_runtime::fs::backup_path(&path));
    }
}
