//! Creates the next CommitLog file in the background, so a roll under the put lock only takes a
//! ready, preallocated and pre-faulted file (Apache's `AllocateMappedFileService`).
//!
//! When the appender needs a file that is not ready it either waits for the one being built or,
//! if nobody is building it (service not started, or the request was never made), creates it
//! itself; correctness never depends on the background thread.

use std::collections::{HashMap, VecDeque};
use std::io;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use parking_lot::{Condvar, Mutex};

use crate::mapped_file::MappedFile;
use crate::service::ServiceThread;

#[derive(Clone)]
struct Request {
    path: PathBuf,
    start: i64,
    size: usize,
}

#[derive(Default)]
struct State {
    queue: VecDeque<Request>,
    in_progress: Option<PathBuf>,
    ready: HashMap<PathBuf, io::Result<MappedFile>>,
    running: bool,
}

pub(crate) struct Allocator {
    state: Mutex<State>,
    changed: Condvar,
    warm: bool,
    thread: ServiceThread,
}

impl Allocator {
    pub fn new(warm: bool) -> Arc<Self> {
        Arc::new(Allocator {
            state: Mutex::new(State::default()),
            changed: Condvar::new(),
            warm,
            thread: ServiceThread::new("rmq-store-allocate"),
        })
    }

    pub fn start(self: &Arc<Self>) -> io::Result<()> {
        self.state.lock().running = true;
        let me = Arc::clone(self);
        self.thread.start(move |stop| me.run(stop))
    }

    pub fn shutdown(&self) {
        {
            let mut s = self.state.lock();
            s.running = false;
            s.queue.clear();
            self.changed.notify_all();
        }
        self.thread.stop_and_join();
        // Drop files built but never used; they are valid empty files and are reused (or
        // deleted as unneeded by recovery) at the next start.
        self.state.lock().ready.clear();
    }

    /// Asks for a file to be built ahead of need. No-op if it is already queued or ready.
    pub fn request(&self, path: PathBuf, start: i64, size: usize) {
        let mut s = self.state.lock();
        if !s.running
            || s.ready.contains_key(&path)
            || s.in_progress.as_ref() == Some(&path)
            || s.queue.iter().any(|r| r.path == path)
        {
            return;
        }
        s.queue.push_back(Request { path, start, size });
        self.changed.notify_all();
    }

    /// Forgets and deletes every file requested or built for a start after `start` (the log was
    /// cut back: those files would no longer follow the last one).
    pub fn discard_after(&self, start: i64) {
        let mut s = self.state.lock();
        s.queue.retain(|r| r.start <= start);
        // A file being built is waited for, then discarded with the ready ones.
        while s.in_progress.is_some() {
            if self
                .changed
                .wait_for(&mut s, Duration::from_secs(5))
                .timed_out()
            {
                break;
            }
        }
        let stale: Vec<PathBuf> = s
            .ready
            .iter()
            .filter(|(_, f)| f.as_ref().map_or(true, |f| f.start() > start))
            .map(|(p, _)| p.clone())
            .collect();
        for path in stale {
            if let Some(Ok(f)) = s.ready.remove(&path) {
                if let Err(e) = f.delete_file() {
                    tracing::warn!(file = %path.display(), error = %e, "cannot delete a prebuilt file after a cut");
                }
            }
        }
    }

    /// The file for `start`: the prebuilt one, the one being built, or a new one made here.
    pub fn obtain(&self, path: PathBuf, start: i64, size: usize) -> io::Result<MappedFile> {
        let mut s = self.state.lock();
        loop {
            if let Some(r) = s.ready.remove(&path) {
                return r;
            }
            let pending = s.in_progress.as_ref() == Some(&path);
            let queued = s.queue.iter().position(|r| r.path == path);
            if !pending {
                if let Some(i) = queued {
                    s.queue.remove(i);
                }
                break;
            }
            if self
                .changed
                .wait_for(&mut s, Duration::from_secs(5))
                .timed_out()
            {
                tracing::warn!(path = %path.display(), "waited 5 s for a preallocated file; creating it directly");
                break;
            }
        }
        drop(s);
        tracing::debug!(path = %path.display(), "creating commit log file on the append path");
        MappedFile::create(&path, start, size, true)
    }

    fn run(&self, stop: &crate::service::StopSignal) {
        loop {
            let req = {
                let mut s = self.state.lock();
                loop {
                    if stop.is_stopped() || !s.running {
                        return;
                    }
                    if let Some(r) = s.queue.pop_front() {
                        s.in_progress = Some(r.path.clone());
                        break r;
                    }
                    self.changed.wait_for(&mut s, Duration::from_secs(1));
                }
            };
            let started = std::time::Instant::now();
            let built = MappedFile::create(&req.path, req.start, req.size, true).inspect(|f| {
                if self.warm {
                    f.warm();
                }
            });
            match &built {
                Ok(_) => {
                    tracing::debug!(path = %req.path.display(), elapsed_ms = started.elapsed().as_millis() as u64, "preallocated commit log file")
                }
                Err(e) => {
                    tracing::warn!(path = %req.path.display(), error = %e, "could not preallocate commit log file; check free disk space")
                }
            }
            let mut s = self.state.lock();
            s.in_progress = None;
            s.ready.insert(req.path, built);
            self.changed.notify_all();
        }
    }
}
