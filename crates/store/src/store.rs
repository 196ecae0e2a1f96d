//! `MessageStore`: open (lock, load, recover), start the services, put, shut down.
//!
//! The store is a set of `Arc`-shared components (CommitLog, ConsumeQueueStore, IndexService,
//! Checkpoint, Dispatcher, flush progress, Cleaner). Each background thread captures only the
//! components it needs, never the `MessageStore` itself, so dropping the last `Arc<MessageStore>`
//! runs `shutdown`, which stops and joins every thread.

use std::cell::RefCell;
use std::sync::atomic::{AtomicU8, AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use bytes::BytesMut;
use rmq_common::msg_id::create_offset_msg_id;

use crate::allocate::Allocator;
use crate::checkpoint::Checkpoint;
use crate::clean::{CleanReport, Cleaner, StoreHooks};
use crate::commit_log::{CommitLog, EncodedBatch, QueueOffsetTable};
use crate::config::{BrokerRole, FlushDiskType, MessageStoreConfig};
use crate::cq_store::ConsumeQueueStore;
use crate::dispatch::{ArrivalListener, Dispatcher};
use crate::error::{PutMessageStatus, StoreError};
use crate::flush::{CommitLogFlusher, FlushProgress, LogicsFlusher};
use crate::index_service::IndexService;
use crate::lock_file::LockFile;
use crate::mapped_file_queue::MappedFileQueue;
use crate::put::{AppendMessageResult, PutMessage, PutMessageResult};
use crate::recovery;
use crate::service::ServiceThread;

const OPENED: u8 = 0;
const RUNNING: u8 = 1;
const STOPPED: u8 = 2;

thread_local! {
    /// Reused encode buffer: a put encodes into it, so steady-state puts do not allocate for the
    /// record itself.
    static ENCODE_BUF: RefCell<BytesMut> = RefCell::new(BytesMut::with_capacity(64 * 1024));
}

/// The message store a broker embeds. Share it as `Arc<MessageStore>`.
pub struct MessageStore {
    pub(crate) cfg: MessageStoreConfig,
    pub(crate) commit_log: Arc<CommitLog>,
    pub(crate) cqs: Arc<ConsumeQueueStore>,
    pub(crate) index: Option<Arc<IndexService>>,
    pub(crate) checkpoint: Arc<Checkpoint>,
    pub(crate) dispatcher: Arc<Dispatcher>,
    pub(crate) progress: Arc<FlushProgress>,
    pub(crate) cleaner: Arc<Cleaner>,
    allocator: Arc<Allocator>,
    dispatch_thread: ServiceThread,
    flush_thread: ServiceThread,
    logics_flush_thread: ServiceThread,
    clean_thread: ServiceThread,
    state: AtomicU8,
    /// The role now: `brokerRole` at open, changed by [`MessageStore::set_role`] when a
    /// controller makes this broker master or slave.
    role: parking_lot::RwLock<BrokerRole>,
    /// Controller mode: a master that lost the controllers takes no writes until they confirm
    /// it again.
    fenced: std::sync::atomic::AtomicBool,
    /// `maxMessageSize`, changeable while the broker runs (UPDATE_BROKER_CONFIG).
    max_message_size: AtomicUsize,
    /// Controller mode master: dispatch (what consumers see) stops at what every in-sync
    /// replica has; `i64::MAX` when nothing limits it.
    replica_confirm: Arc<std::sync::atomic::AtomicI64>,
    sync_flush: bool,
    last_exit_ok: bool,
    _lock: LockFile,
}

impl std::fmt::Debug for MessageStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MessageStore")
            .field("root", &self.cfg.store_path_root_dir)
            .field("max_offset", &self.commit_log.max_offset())
            .finish()
    }
}

impl MessageStore {
    /// Opens (and recovers) the store with the real clock and disk probe.
    pub fn open(cfg: MessageStoreConfig) -> Result<Arc<MessageStore>, StoreError> {
        Self::open_with_hooks(cfg, StoreHooks::default())
    }

    /// Opens with an injected clock and disk-usage probe (tests, simulations).
    pub fn open_with_hooks(
        cfg: MessageStoreConfig,
        hooks: StoreHooks,
    ) -> Result<Arc<MessageStore>, StoreError> {
        cfg.validate()?;
        let root = &cfg.store_path_root_dir;
        std::fs::create_dir_all(root).map_err(|e| StoreError::io("create directory", root, e))?;
        let lock = LockFile::acquire(&cfg.lock_path(), root)?;
        let abnormal = cfg.abort_path().exists();
        let started = std::time::Instant::now();

        let allocator = Allocator::new(cfg.warm_mapped_file_enable);
        let mut commit_log = CommitLog::new(MappedFileQueue::new(
            cfg.commit_log_dir(),
            cfg.mapped_file_size_commit_log,
            Some(Arc::clone(&allocator)),
            true,
        ));
        commit_log.queue().ensure_dir()?;
        commit_log.queue_mut().load()?;
        let mut cqs =
            ConsumeQueueStore::new(cfg.consume_queue_dir(), cfg.consume_queue_file_size());
        cqs.load()?;
        let mut index = if cfg.message_index_enable {
            let mut i =
                IndexService::new(cfg.index_dir(), cfg.max_hash_slot_num, cfg.max_index_num);
            i.load()?;
            Some(i)
        } else {
            None
        };
        let checkpoint = Checkpoint::open(&cfg.checkpoint_path())?;
        if abnormal {
            tracing::warn!(dir = %root.display(), "abort file found: the last shutdown was not clean; running crash recovery");
        }
        let rec = recovery::recover(
            &mut commit_log,
            &mut cqs,
            index.as_mut(),
            &checkpoint,
            abnormal,
            cfg.check_crc_on_recover,
        )?;
        commit_log.set_recovered(rec.end, QueueOffsetTable::new(), rec.last_timestamp);

        let commit_log = Arc::new(commit_log);
        let cqs = Arc::new(cqs);
        let index = index.map(Arc::new);
        let dispatcher = Arc::new(Dispatcher::new(
            Arc::clone(&commit_log),
            Arc::clone(&cqs),
            index.clone(),
            cfg.delay_levels()?,
        ));
        dispatcher.set_reput_offset(rec.redispatch_from);
        dispatcher.dispatch_until(rec.end);
        let min = commit_log.min_offset();
        for q in cqs.all() {
            q.correct_min_offset(min);
        }
        commit_log.set_queue_offsets(queue_offsets(&cqs));
        let elapsed = started.elapsed();
        tracing::info!(dir = %root.display(), end = rec.end, redispatched = rec.end - rec.redispatch_from,
            elapsed_ms = elapsed.as_millis() as u64, abnormal, "message store opened");

        let checkpoint = Arc::new(checkpoint);
        let progress = Arc::new(FlushProgress::new(rec.end));
        let cleaner = Arc::new(Cleaner::new(
            &cfg,
            Arc::clone(&commit_log),
            Arc::clone(&cqs),
            index.clone(),
            Arc::clone(&dispatcher),
            hooks,
        ));
        Ok(Arc::new(MessageStore {
            max_message_size: AtomicUsize::new(cfg.max_message_size),
            replica_confirm: Arc::new(std::sync::atomic::AtomicI64::new(i64::MAX)),
            role: parking_lot::RwLock::new(cfg.broker_role),
            fenced: std::sync::atomic::AtomicBool::new(false),
            sync_flush: cfg.flush_disk_type == FlushDiskType::SyncFlush,
            cfg,
            commit_log,
            cqs,
            index,
            checkpoint,
            dispatcher,
            progress,
            cleaner,
            allocator,
            dispatch_thread: ServiceThread::new("rmq-store-dispatch"),
            flush_thread: ServiceThread::new("rmq-store-flush"),
            logics_flush_thread: ServiceThread::new("rmq-store-flush-cq"),
            clean_thread: ServiceThread::new("rmq-store-clean"),
            state: AtomicU8::new(OPENED),
            last_exit_ok: !abnormal,
            _lock: lock,
        }))
    }

    pub fn config(&self) -> &MessageStoreConfig {
        &self.cfg
    }

    /// The role now (a slave takes only replicated data).
    pub fn role(&self) -> BrokerRole {
        *self.role.read()
    }

    /// Controller mode: refuses (`true`) or takes again (`false`) puts, whatever the role.
    pub fn set_fenced(&self, fenced: bool) {
        self.fenced.store(fenced, Ordering::Release);
    }

    pub fn is_fenced(&self) -> bool {
        self.fenced.load(Ordering::Acquire)
    }

    /// Makes the store master or slave (controller mode): from then on a master refuses
    /// replicated appends and a slave refuses puts.
    pub fn set_role(&self, role: BrokerRole) {
        let mut current = self.role.write();
        if *current == BrokerRole::Slave && role != BrokerRole::Slave {
            // A slave's queue offsets came with the replicated messages; the next ones this
            // store assigns follow what its consume queues hold once all of it is dispatched.
            self.dispatcher.dispatch_until(self.commit_log.max_offset());
            self.commit_log.set_queue_offsets(queue_offsets(&self.cqs));
        }
        *current = role;
    }

    /// Whether the previous shutdown was clean (no `abort` file was found).
    pub fn last_exit_ok(&self) -> bool {
        self.last_exit_ok
    }

    /// Writes the `abort` file and starts the allocate, dispatch, flush and clean threads.
    pub fn start(&self) -> Result<(), StoreError> {
        if self
            .state
            .compare_exchange(OPENED, RUNNING, Ordering::AcqRel, Ordering::Acquire)
            .is_err()
        {
            return Ok(());
        }
        let abort = self.cfg.abort_path();
        std::fs::write(&abort, std::process::id().to_string())
            .and_then(|_| std::fs::File::open(&abort)?.sync_all())
            .map_err(|e| StoreError::io("create abort file", &abort, e))?;
        let spawn_err = |e| StoreError::io("spawn thread", &self.cfg.store_path_root_dir, e);

        self.allocator.start().map_err(spawn_err)?;
        // Have the file the next roll needs built before the writer gets there.
        let q = self.commit_log.queue();
        let written = self.commit_log.max_offset();
        let next = q
            .last()
            .map_or(written - written % q.file_size() as i64, |f| f.end());
        q.request_next(next);

        // Dispatch: woken by appends (ASYNC) or by flushes (SYNC).
        let d = Arc::clone(&self.dispatcher);
        let limit = self.limit_fn();
        self.dispatch_thread
            .start(move |stop| loop {
                let l = limit();
                let before = d.reput_offset();
                if before < l {
                    d.dispatch_until(l);
                    if d.reput_offset() > before {
                        continue;
                    }
                    // No progress (e.g. an unreadable record): retry after a pause instead of
                    // spinning, and stay responsive to shutdown.
                    if stop.is_stopped() {
                        return;
                    }
                    stop.bell
                        .wait(Duration::from_millis(100), || stop.is_stopped());
                    continue;
                }
                if stop.is_stopped() {
                    return;
                }
                stop.bell.wait(Duration::from_secs(1), || {
                    stop.is_stopped() || limit() > d.reput_offset()
                });
            })
            .map_err(spawn_err)?;

        let flusher = CommitLogFlusher {
            commit_log: Arc::clone(&self.commit_log),
            progress: Arc::clone(&self.progress),
            checkpoint: Arc::clone(&self.checkpoint),
            after_flush: self
                .sync_flush
                .then(|| Arc::clone(self.dispatch_thread.signal())),
        };
        if self.sync_flush {
            self.flush_thread
                .start(move |stop| flusher.run_group_commit(stop))
                .map_err(spawn_err)?;
        } else {
            let interval = Duration::from_millis(self.cfg.flush_interval_commit_log.max(1));
            let least = self.cfg.flush_commit_log_least_pages;
            let thorough = Duration::from_millis(self.cfg.flush_commit_log_thorough_interval);
            self.flush_thread
                .start(move |stop| flusher.run_async(stop, interval, least, thorough))
                .map_err(spawn_err)?;
        }

        let logics = self.logics_flusher();
        let interval = Duration::from_millis(self.cfg.flush_interval_consume_queue.max(1));
        let least = self.cfg.flush_consume_queue_least_pages;
        let thorough = Duration::from_millis(self.cfg.flush_consume_queue_thorough_interval);
        self.logics_flush_thread
            .start(move |stop| logics.run(stop, interval, least, thorough))
            .map_err(spawn_err)?;

        let cleaner = Arc::clone(&self.cleaner);
        let interval = Duration::from_millis(self.cfg.clean_resource_interval.max(10));
        self.clean_thread
            .start(move |stop| {
                while !stop.is_stopped() {
                    cleaner.run_once();
                    stop.sleep(interval);
                }
            })
            .map_err(spawn_err)?;
        tracing::info!(dir = %self.cfg.store_path_root_dir.display(), flush = %self.cfg.flush_disk_type,
            role = %self.role(), "message store started");
        Ok(())
    }

    fn logics_flusher(&self) -> LogicsFlusher {
        LogicsFlusher {
            cqs: Arc::clone(&self.cqs),
            index: self.index.clone(),
            dispatcher: Arc::clone(&self.dispatcher),
            checkpoint: Arc::clone(&self.checkpoint),
            progress: Arc::clone(&self.progress),
        }
    }

    /// How far dispatch may read: the flushed offset under SYNC_FLUSH, else the written end.
    fn limit_fn(&self) -> impl Fn() -> i64 + Send + 'static {
        let cl = Arc::clone(&self.commit_log);
        let progress = Arc::clone(&self.progress);
        let sync = self.sync_flush;
        let confirm = Arc::clone(&self.replica_confirm);
        move || {
            let written = if sync {
                progress.flushed().min(cl.max_offset())
            } else {
                cl.max_offset()
            };
            written.min(confirm.load(Ordering::Acquire))
        }
    }

    /// Stops every service, flushes everything, writes the checkpoint and removes the `abort`
    /// file. Idempotent; also run when the last `Arc` is dropped.
    pub fn shutdown(&self) {
        let prev = self.state.swap(STOPPED, Ordering::AcqRel);
        if prev == STOPPED {
            return;
        }
        if prev == OPENED {
            // Never started: nothing was written, keep files (and any abort marker) as found.
            return;
        }
        self.commit_log.barrier();
        self.clean_thread.stop_and_join();
        self.allocator.shutdown();
        self.flush_thread.stop_and_join();
        // Final flush (the flush thread flushes once more on exit, but make sure under ASYNC too).
        let flusher = CommitLogFlusher {
            commit_log: Arc::clone(&self.commit_log),
            progress: Arc::clone(&self.progress),
            checkpoint: Arc::clone(&self.checkpoint),
            after_flush: None,
        };
        let flushed_ok = flusher.flush(0);
        self.dispatch_thread.stop_and_join();
        let limit = self.limit_fn();
        self.dispatcher.dispatch_until(limit());
        self.logics_flush_thread.stop_and_join();
        let logics_ok = self.logics_flusher().flush(0);
        let caught_up = self.dispatcher.reput_offset() >= self.commit_log.max_offset();
        if flushed_ok && logics_ok && caught_up {
            let abort = self.cfg.abort_path();
            if let Err(e) = std::fs::remove_file(&abort) {
                tracing::warn!(file = %abort.display(), error = %e, "could not remove abort file; next start runs crash recovery");
            }
        } else {
            tracing::warn!(flushed_ok, logics_ok, caught_up, "store not fully flushed or dispatched at shutdown; keeping the abort file so the next start runs crash recovery");
        }
        tracing::info!(dir = %self.cfg.store_path_root_dir.display(), end = self.commit_log.max_offset(), "message store shut down");
    }

    /// Appends one message. Completes when the message is stored and, under SYNC_FLUSH with
    /// `WAIT` not `false`, flushed (or `syncFlushTimeout` passed: FLUSH_DISK_TIMEOUT).
    pub async fn put_message(&self, msg: PutMessage) -> PutMessageResult {
        self.put_batch(std::slice::from_ref(&msg)).await
    }

    /// Appends a batch for one topic and queue: one record per message, consecutive queue offsets.
    pub async fn put_messages(&self, batch: Vec<PutMessage>) -> PutMessageResult {
        self.put_batch(&batch).await
    }

    async fn put_batch(&self, msgs: &[PutMessage]) -> PutMessageResult {
        let append = match self.append(msgs) {
            Ok(a) => a,
            Err((status, error)) => return PutMessageResult::failed(status, error),
        };
        if !self.sync_flush {
            self.dispatch_here_or_wake(append.end_offset);
            return PutMessageResult {
                status: PutMessageStatus::PutOk,
                append: Some(append),
                error: None,
            };
        }
        self.flush_thread.wake();
        let wait = msgs.first().is_some_and(PutMessage::wait_store_msg_ok);
        if !wait {
            return PutMessageResult {
                status: PutMessageStatus::PutOk,
                append: Some(append),
                error: None,
            };
        }
        let error = self.wait_flushed(append.end_offset).await;
        PutMessageResult {
            status: if error.is_none() {
                PutMessageStatus::PutOk
            } else {
                PutMessageStatus::FlushDiskTimeout
            },
            append: Some(append),
            error,
        }
    }

    /// Waits until the flushed offset reaches `end`; `Some(error)` on timeout or flush failure.
    async fn wait_flushed(&self, end: i64) -> Option<StoreError> {
        let rx = self.progress.wait(end)?;
        let timeout = self.cfg.sync_flush_timeout();
        let path = self.cfg.commit_log_dir();
        match tokio::time::timeout(timeout, rx).await {
            Ok(Ok(Ok(()))) => None,
            Ok(Ok(Err(_))) => Some(StoreError::FlushFailed {
                path,
                reason: format!(
                    "the flush covering this message failed ({}); it may not be stored",
                    self.progress.failure().unwrap_or_default()
                ),
            }),
            Ok(Err(_)) => Some(StoreError::NotRunning("shut down while waiting for flush")),
            Err(_) => Some(StoreError::FlushFailed {
                path,
                reason: format!(
                    "not flushed within syncFlushTimeout ({} ms)",
                    timeout.as_millis()
                ),
            }),
        }
    }

    /// Checks, encodes (outside the lock) and appends.
    fn append(
        &self,
        msgs: &[PutMessage],
    ) -> Result<AppendMessageResult, (PutMessageStatus, StoreError)> {
        let fail = |s, e| Err((s, e));
        match self.state.load(Ordering::Acquire) {
            RUNNING => {}
            OPENED => {
                return fail(
                    PutMessageStatus::ServiceNotAvailable,
                    StoreError::NotRunning("not started"),
                )
            }
            _ => {
                return fail(
                    PutMessageStatus::ServiceNotAvailable,
                    StoreError::NotRunning("shut down"),
                )
            }
        }
        if self.role() == BrokerRole::Slave {
            return fail(
                PutMessageStatus::ServiceNotAvailable,
                StoreError::NotRunning("this store is a slave; it only takes replicated data"),
            );
        }
        if self.is_fenced() {
            return fail(
                PutMessageStatus::ServiceNotAvailable,
                StoreError::NotRunning(
                    "fenced: this master lost the controllers; it takes writes again once they \
                     confirm it is still the master",
                ),
            );
        }
        if let Some(e) = self.cleaner.disk_full_error() {
            return fail(PutMessageStatus::ServiceNotAvailable, e);
        }
        if let Some(what) = self.progress.failure() {
            return fail(
                PutMessageStatus::ServiceNotAvailable,
                StoreError::DiskFailed(what),
            );
        }
        let Some(first) = msgs.first() else {
            return fail(
                PutMessageStatus::MessageIllegal,
                StoreError::IllegalMessage("empty batch".into()),
            );
        };
        for m in msgs {
            if let Err((s, e)) = m.check(self.max_message_size.load(Ordering::Relaxed)) {
                return fail(s, e);
            }
            if m.topic != first.topic || m.queue_id != first.queue_id {
                return fail(
                    PutMessageStatus::MessageIllegal,
                    StoreError::IllegalMessage("a batch must target one topic and queue".into()),
                );
            }
        }
        let max_record = self.commit_log.file_size() - rmq_common::record::BLANK_LEN;
        ENCODE_BUF.with(|cell| {
            let mut buf = cell.borrow_mut();
            buf.clear();
            let mut lens = Vec::with_capacity(msgs.len());
            for m in msgs {
                match m.encode(&mut buf) {
                    Ok(n) if n <= max_record => lens.push(n),
                    Ok(n) => {
                        return fail(
                            PutMessageStatus::MessageIllegal,
                            StoreError::IllegalMessage(format!(
                                "record of {n} bytes does not fit a commit log file of {} bytes",
                                self.commit_log.file_size()
                            )),
                        )
                    }
                    Err(e) => return fail(PutMessageStatus::MessageIllegal, e),
                }
            }
            let mut phys = Vec::with_capacity(msgs.len());
            let placed = self.commit_log.append(
                EncodedBatch {
                    buf: &mut buf[..],
                    lens: &lens,
                    topic: &first.topic,
                    queue_id: first.queue_id,
                    sys_flag: first.sys_flag,
                },
                rmq_common::time::now_millis,
                &mut phys,
            );
            let placed = match placed {
                Ok(p) => p,
                Err(e) => {
                    tracing::error!(error = %e, "commit log append failed; check disk space");
                    return fail(
                        PutMessageStatus::CreateMappedFileFailed,
                        StoreError::io("append", self.cfg.commit_log_dir(), e),
                    );
                }
            };
            let msg_id = if phys.len() == 1 {
                create_offset_msg_id(first.store_host, phys[0])
            } else {
                phys.iter()
                    .map(|p| create_offset_msg_id(first.store_host, *p))
                    .collect::<Vec<_>>()
                    .join(",")
            };
            Ok(AppendMessageResult {
                wrote_offset: phys[0],
                wrote_bytes: lens.iter().sum::<usize>() as i64,
                end_offset: placed.end_offset,
                msg_id,
                store_timestamp: placed.store_timestamp,
                logics_offset: placed.first_queue_offset,
                msg_num: phys.len() as i32,
            })
        })
    }

    /// ASYNC_FLUSH: dispatches what was just appended on this thread (no thread hand-off per
    /// message), so a put that returned is visible to pulls. When another thread is dispatching
    /// it waits for it (that dispatch usually covers this record too); only when dispatch is
    /// stuck short of `end` is the background thread rung so the record is never left behind.
    fn dispatch_here_or_wake(&self, end: i64) {
        let limit = self.commit_log.max_offset().max(end);
        self.dispatcher
            .dispatch_until(limit.min(self.replica_confirm.load(Ordering::Acquire)));
        if self.dispatcher.reput_offset() < end {
            self.dispatch_thread.wake();
        }
    }

    /// Wakes whoever consumes new CommitLog bytes: the group-commit flusher under SYNC_FLUSH
    /// (dispatch follows the flush), the dispatcher otherwise.
    pub(crate) fn wake_after_append(&self) {
        if self.sync_flush {
            self.flush_thread.wake();
        } else {
            self.dispatch_thread.wake();
        }
    }

    /// Controller mode master: consumers see the log only up to `offset`, what every in-sync
    /// replica has (`None` lifts the limit). Apache's `confirmOffset` in the same role: a message
    /// a failover could still undo is never handed to a consumer.
    pub fn set_replica_confirm(&self, offset: Option<i64>) {
        let v = offset.unwrap_or(i64::MAX);
        let before = self.replica_confirm.swap(v, Ordering::AcqRel);
        if v > before {
            self.dispatch_thread.wake();
        }
    }

    pub(crate) fn replica_confirm(&self) -> i64 {
        self.replica_confirm.load(Ordering::Acquire)
    }

    /// Changes the largest message body accepted (`maxMessageSize`) for the next puts.
    pub fn set_max_message_size(&self, bytes: usize) {
        self.max_message_size.store(bytes, Ordering::Relaxed);
    }

    /// Registers the callback run after each dispatched message (long-poll wake-up).
    pub fn set_arrival_listener(&self, listener: ArrivalListener) {
        self.dispatcher.set_listener(Some(listener));
    }

    /// How full the disk holding the CommitLog is (0.0 - 1.0), probed now; `None` when the disk
    /// cannot be read.
    pub fn commit_log_disk_ratio(&self) -> Option<f64> {
        self.cleaner.disk_used_ratio()
    }

    /// How full the disk holding the consume queues is (0.0 - 1.0), probed now.
    pub fn consume_queue_disk_ratio(&self) -> Option<f64> {
        self.cleaner
            .hooks
            .disk_probe
            .used_ratio(&self.cfg.consume_queue_dir())
            .ok()
    }

    /// Runs one cleanup pass now (the clean thread runs it every `cleanResourceInterval`).
    pub fn clean_now(&self) -> CleanReport {
        self.cleaner.run_once()
    }

    /// Deletes expired CommitLog files now, whatever `deleteWhen` says (DELETE_EXPIRED_COMMITLOG;
    /// files younger than `fileReservedTime` stay), and what follows them. Blocks while
    /// deleting: call it off the async workers.
    pub fn delete_expired_files_now(&self) -> CleanReport {
        self.cleaner.run_manual()
    }

    /// Deletes the consume-queue files that point only before the CommitLog's first offset
    /// (CLEAN_EXPIRED_CONSUMEQUEUE); returns how many went.
    pub fn clean_expired_consume_queues(&self) -> usize {
        self.cleaner.clean_consume_queues()
    }

    /// Deletes the consume queues of topics (e.g. DELETE_TOPIC_IN_BROKER). Records stay in the
    /// CommitLog until cleanup. Returns the number of queues removed.
    pub fn delete_topics(&self, topics: &[&str]) -> usize {
        let mut n = 0;
        for t in topics {
            n += self.cqs.remove_topic(t);
            self.commit_log.remove_topic(t);
        }
        n
    }
}

impl Drop for MessageStore {
    fn drop(&mut self) {
        self.shutdown();
    }
}

/// The next queue offset of every consume queue (what a put assigns).
fn queue_offsets(cqs: &ConsumeQueueStore) -> QueueOffsetTable {
    let mut table = QueueOffsetTable::new();
    for q in cqs.all() {
        table
            .entry(q.topic().to_owned())
            .or_default()
            .insert(q.queue_id(), q.max_offset());
    }
    table
}
