//! Owned background threads and the doorbell that wakes them.
//!
//! Every background service (allocate, flush, dispatch, clean) is a [`ServiceThread`]: it is
//! started once, and `stop_and_join` signals it and waits for it, so nothing outlives the store.
//! [`Doorbell`] lets a hot path wake a sleeping thread for the price of one atomic load when the
//! thread is busy (it only takes the mutex when the thread has announced it is going to sleep).

use std::io;
use std::sync::atomic::{fence, AtomicBool, Ordering};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::Duration;

use parking_lot::{Condvar, Mutex};

/// Wakes one sleeping thread cheaply.
#[derive(Default)]
pub(crate) struct Doorbell {
    rung: Mutex<bool>,
    cv: Condvar,
    sleeping: AtomicBool,
}

impl Doorbell {
    /// Wakes the waiter if it sleeps. Call after publishing whatever the waiter checks.
    pub fn ring(&self) {
        fence(Ordering::SeqCst);
        if self.sleeping.load(Ordering::SeqCst) {
            let mut r = self.rung.lock();
            *r = true;
            self.cv.notify_all();
        }
    }

    /// Sleeps until rung or `timeout`, unless `ready()` already holds.
    pub fn wait(&self, timeout: Duration, ready: impl Fn() -> bool) {
        let mut r = self.rung.lock();
        self.sleeping.store(true, Ordering::SeqCst);
        fence(Ordering::SeqCst);
        if !*r && !ready() {
            self.cv.wait_for(&mut r, timeout);
        }
        *r = false;
        self.sleeping.store(false, Ordering::SeqCst);
    }
}

/// The stop flag a service loop checks, with a doorbell to wake it.
#[derive(Default)]
pub(crate) struct StopSignal {
    stopped: AtomicBool,
    pub bell: Doorbell,
}

impl StopSignal {
    pub fn is_stopped(&self) -> bool {
        self.stopped.load(Ordering::Acquire)
    }
    /// Sleeps up to `timeout`, returning early when stopped or rung.
    pub fn sleep(&self, timeout: Duration) {
        self.bell.wait(timeout, || self.is_stopped());
    }
}

/// A named background thread with an owner that stops and joins it.
pub(crate) struct ServiceThread {
    name: &'static str,
    signal: Arc<StopSignal>,
    handle: Mutex<Option<JoinHandle<()>>>,
}

impl ServiceThread {
    pub fn new(name: &'static str) -> Self {
        ServiceThread {
            name,
            signal: Arc::new(StopSignal::default()),
            handle: Mutex::new(None),
        }
    }

    pub fn signal(&self) -> &Arc<StopSignal> {
        &self.signal
    }

    pub fn start<F>(&self, body: F) -> io::Result<()>
    where
        F: FnOnce(&StopSignal) + Send + 'static,
    {
        let mut h = self.handle.lock();
        if h.is_some() {
            return Ok(());
        }
        let signal = Arc::clone(&self.signal);
        let handle = std::thread::Builder::new()
            .name(self.name.into())
            .spawn(move || body(&signal))?;
        *h = Some(handle);
        Ok(())
    }

    /// Wakes the thread without stopping it.
    pub fn wake(&self) {
        self.signal.bell.ring();
    }

    pub fn stop_and_join(&self) {
        self.signal.stopped.store(true, Ordering::Release);
        self.signal.bell.ring();
        let handle = self.handle.lock().take();
        if let Some(h) = handle {
            if h.join().is_err() {
                tracing::error!(thread = self.name, "store service thread panicked");
            }
        }
    }
}
