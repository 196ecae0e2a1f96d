//! Crash recovery over corrupted files. A small store with messages in several queues (with keys,
//! so the index has entries) is written once; each input then damages a copy of it (byte patches
//! and truncations of the CommitLog, the consume queues, the index, the checkpoint), marks it
//! crashed or cleanly shut down, and opens it. Opening must answer (a store or an error), never
//! panic; every queue must then read to its end, and a lookup by key must answer.
#![no_main]

use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use arbitrary::Arbitrary;
use libfuzzer_sys::fuzz_target;
use rmq_common::message::{keys, Properties};
use rmq_store::{AcceptAll, MessageStore, MessageStoreConfig, PutMessage};

const TOPICS: [&str; 2] = ["FuzzA", "FuzzB"];
const QUEUES: i32 = 2;

#[derive(Debug, Arbitrary)]
struct Damage {
    crashed: bool,
    patches: Vec<Patch>,
    cut: Option<(u8, u32)>,
}

#[derive(Debug, Arbitrary)]
struct Patch {
    file: u8,
    at: u32,
    bytes: Vec<u8>,
}

fn config(root: &Path) -> MessageStoreConfig {
    let mut c = MessageStoreConfig::with_root(root);
    c.mapped_file_size_commit_log = 16 * 1024;
    c.mapped_file_size_consume_queue = 20 * 32;
    c.max_hash_slot_num = 16;
    c.max_index_num = 64;
    c.warm_mapped_file_enable = false;
    c
}

/// The intact store every input starts from, written once per process.
fn template() -> &'static Path {
    static DIR: OnceLock<tempfile::TempDir> = OnceLock::new();
    DIR.get_or_init(|| {
        let dir = tempfile::tempdir().expect("temp dir");
        let store = MessageStore::open(config(dir.path())).expect("open template store");
        store.start().expect("start template store");
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("runtime");
        rt.block_on(async {
            for i in 0..60 {
                let topic = TOPICS[i % TOPICS.len()];
                let mut p = Properties::new();
                p.insert(keys::KEYS.to_owned(), format!("k{i}"));
                p.insert(keys::TAGS.to_owned(), "t".to_owned());
                let body = vec![b'a' + (i % 26) as u8; 100 + i * 7];
                let m = PutMessage::new(topic, (i as i32) % QUEUES, body).with_properties(&p);
                assert!(store.put_message(m).await.is_ok());
            }
        });
        while store.dispatched_offset() < store.confirm_offset() {
            std::thread::yield_now();
        }
        store.shutdown();
        dir
    })
    .path()
}

fn files(root: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut stack = vec![root.to_path_buf()];
    while let Some(d) = stack.pop() {
        let Ok(rd) = std::fs::read_dir(&d) else {
            continue;
        };
        for e in rd.flatten() {
            let p = e.path();
            if p.is_dir() {
                stack.push(p);
            } else {
                out.push(p);
            }
        }
    }
    out.sort();
    out
}

fn copy_tree(from: &Path, to: &Path) {
    for f in files(from) {
        let rel = f.strip_prefix(from).expect("under the template");
        let dst = to.join(rel);
        std::fs::create_dir_all(dst.parent().expect("has a parent")).expect("mkdir");
        std::fs::copy(&f, &dst).expect("copy");
    }
}

fn damage(root: &Path, d: &Damage) {
    use std::os::unix::fs::FileExt;
    let all: Vec<PathBuf> = files(root)
        .into_iter()
        .filter(|p| !p.ends_with("lock"))
        .collect();
    if all.is_empty() {
        return;
    }
    for p in d.patches.iter().take(8) {
        let f = &all[p.file as usize % all.len()];
        let len = std::fs::metadata(f).map_or(0, |m| m.len());
        if len == 0 {
            continue;
        }
        let at = u64::from(p.at) % len;
        let n = p.bytes.len().min(64).min((len - at) as usize);
        if let Ok(file) = std::fs::OpenOptions::new().write(true).open(f) {
            let _ = file.write_all_at(&p.bytes[..n], at);
        }
    }
    if let Some((which, at)) = d.cut {
        let f = &all[which as usize % all.len()];
        let len = std::fs::metadata(f).map_or(0, |m| m.len());
        if let Ok(file) = std::fs::OpenOptions::new().write(true).open(f) {
            let _ = file.set_len(u64::from(at) % (len + 1));
        }
    }
    let abort = config(root).abort_path();
    if d.crashed {
        let _ = std::fs::write(abort, b"");
    } else {
        let _ = std::fs::remove_file(abort);
    }
}

fuzz_target!(|d: Damage| {
    let template = template();
    let dir = tempfile::tempdir().expect("temp dir");
    copy_tree(template, dir.path());
    damage(dir.path(), &d);
    let Ok(store) = MessageStore::open(config(dir.path())) else {
        return;
    };
    for topic in TOPICS {
        for q in 0..QUEUES {
            let mut offset = store.min_offset_in_queue(topic, q);
            let max = store.max_offset_in_queue(topic, q);
            let mut pages = 0;
            while offset < max && pages < 200 {
                let r = store.get_message(topic, q, offset, 16, 1 << 20, &AcceptAll);
                for m in &r.messages {
                    let _ = rmq_common::record::decode_messages(m);
                }
                if r.next_begin_offset <= offset {
                    break;
                }
                offset = r.next_begin_offset;
                pages += 1;
            }
        }
    }
    let _ = store.query_message("FuzzA", "k0", 4, 0, i64::MAX);
    store.shutdown();
});
