//! rmq-store: the message store a broker embeds — one CommitLog for every topic, a ConsumeQueue
//! per topic queue, IndexFiles for keys, a checkpoint and an abort file for recovery — in Apache
//! RocketMQ's on-disk layout, so offset message ids, file names and record bytes mean the same
//! thing as in a Java broker's `~/store`.
//!
//! # Design
//!
//! **Put path.** [`MessageStore::put_message`] checks limits and encodes the record with its
//! body CRC *outside* any lock, into a reused thread-local buffer. Under the single put lock it
//! only assigns the queue offset (an in-memory table rebuilt at recovery), the physical offset
//! (writing an 8-byte blank and rolling to the next file when `len + 8` does not fit) and the
//! store timestamp, patches them into the encoded bytes and copies them into the mapped file.
//! No fsync and, in the steady state, no allocation happen under the lock.
//!
//! **Files.** `MappedFile` segments are `fallocate`d and pre-faulted
//! (`MADV_POPULATE_WRITE`) by a background allocator before the writer reaches them, because
//! first-touch faults on sparse mappings are 10x slower on this machine. Readers get
//! `bytes::Bytes` slices of the mapping that keep the file mapped (zero copy), so cleanup can
//! unlink a file while a pull still holds its bytes.
//!
//! **Durability.** ASYNC_FLUSH flushes on an interval (`flushIntervalCommitLog`,
//! `flushCommitLogLeastPages`, `flushCommitLogThoroughInterval`). SYNC_FLUSH is group commit: the
//! flush thread sleeps on a doorbell every append rings, flushes everything written in one
//! `msync` per file, and completes the oneshot of every waiting put it covered; a put's future
//! completes then, or with FLUSH_DISK_TIMEOUT after `syncFlushTimeout`
//! or when the flush fails. `WAIT=false` puts return right after the append.
//!
//! **Dispatch.** A dispatcher thread turns new records into ConsumeQueue entries (NOT/COMMIT
//! transactions only) and index entries (all but ROLLBACK), then calls the broker's
//! [`ArrivalListener`]. It is woken by appends (ASYNC) or by flushes (SYNC: consumers never see
//! unflushed data), never by a polling tick.
//!
//! **Recovery.** `open` takes an exclusive `flock` on `lock`, maps every file and finds the valid
//! end: a clean restart scans only the recent files; after a crash (`abort` file present) it
//! scans from the checkpoint's safe time, checking each record's length, magic, offset and CRC,
//! cuts a torn tail (zeroing it), drops consume-queue and index entries beyond the end and
//! re-dispatches the rest, so ConsumeQueues and index always agree with the CommitLog.
//!
//! **Threads.** Allocate, dispatch, commit-log flush, logics flush (ConsumeQueue, index,
//! checkpoint) and clean are std threads (blocking disk work). Each is owned by the store;
//! [`MessageStore::shutdown`] (also run on drop) stops and joins them, flushes everything,
//! writes the checkpoint and deletes `abort`. The put API is `async` and usable from tokio.
//!
//! # Use
//!
//! ```no_run
//! # async fn demo() -> Result<(), rmq_store::StoreError> {
//! use rmq_store::{AcceptAll, MessageStore, MessageStoreConfig, PutMessage};
//! let store = MessageStore::open(MessageStoreConfig::with_root("/tmp/store"))?;
//! store.start()?;
//! let put = store.put_message(PutMessage::new("TopicTest", 0, &b"hello"[..])).await;
//! assert!(put.is_ok());
//! let got = store.get_message("TopicTest", 0, 0, 32, 256 * 1024, &AcceptAll);
//! assert_eq!(got.messages.len(), 1);
//! store.shutdown();
//! # Ok(()) }
//! ```

mod allocate;
mod checkpoint;
mod clean;
mod commit_log;
pub mod config;
mod consume_queue;
mod cq_store;
mod dispatch;
mod dispatch_request;
mod error;
mod flush;
mod index_file;
mod index_service;
mod local_time;
mod lock_file;
mod mapped_file;
mod mapped_file_queue;
mod put;
mod read;
mod recovery;
mod replica_start;
mod replication;
mod service;
mod store;

pub use clean::{CleanReport, Clock, DiskUsageProbe, StatvfsProbe, StoreHooks, SystemClock};
pub use config::{BrokerRole, DeleteWhen, FlushDiskType, MessageStoreConfig};
pub use consume_queue::{CqEntry, CQ_UNIT_SIZE};
pub use dispatch::ArrivalListener;
pub use dispatch_request::{tags_code, SCHEDULE_TOPIC};
pub use error::{PutMessageStatus, StoreError};
pub use index_file::key_hash;
pub use local_time::local_day;
pub use put::{AppendMessageResult, PutMessage, PutMessageResult, MAX_PROPERTIES_LEN};
pub use read::{
    AcceptAll, BoundaryType, GetMessageResult, GetMessageStatus, MessageFilter, QueryMessageResult,
    TagsFilter,
};
pub use store::MessageStore;
