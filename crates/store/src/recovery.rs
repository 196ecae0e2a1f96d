//! Finding the valid end of the store at open.
//!
//! - Clean restart (no `abort` file): trust the files; scan only from the file holding the
//!   furthest consume-queue entry (or the third-last file, whichever is earlier) to find the end.
//! - Crash restart (`abort` present): scan from the newest file whose first record is older than
//!   the checkpoint's safe time (`min(physic, logics, index) - 3 s`), checking length, magic, the
//!   physical-offset field and (with `checkCRCOnRecover`) the body CRC of every record, and stop
//!   at the first bad one.
//!
//! Either way everything after the end is cut (zeroed in the last file, later files deleted),
//! consume-queue and index entries beyond it are removed, and the caller re-dispatches from the
//! scan start so the consume queues and index hold every record the CommitLog holds.

use rmq_common::record::{peek_record, Peek};

use crate::checkpoint::Checkpoint;
use crate::commit_log::CommitLog;
use crate::cq_store::ConsumeQueueStore;
use crate::error::StoreError;
use crate::index_service::IndexService;

#[derive(Debug, Clone, Copy)]
pub(crate) struct Recovered {
    /// Valid end of the CommitLog.
    pub end: i64,
    /// Where re-dispatch must start.
    pub redispatch_from: i64,
    /// Store time of the last valid record (0 if none was scanned).
    pub last_timestamp: i64,
}

pub(crate) fn recover(
    commit_log: &mut CommitLog,
    cqs: &mut ConsumeQueueStore,
    index: Option<&mut IndexService>,
    checkpoint: &Checkpoint,
    abnormal: bool,
    check_crc: bool,
) -> Result<Recovered, StoreError> {
    let files = commit_log.queue().files();
    if files.is_empty() {
        cqs.for_each_mut(|q| q.truncate_dirty(0))?;
        if let Some(index) = index {
            index.truncate(0);
        }
        return Ok(Recovered {
            end: 0,
            redispatch_from: 0,
            last_timestamp: 0,
        });
    }

    let start_idx = if abnormal {
        let safe = checkpoint.min_timestamp(index.is_some());
        let mut chosen = 0;
        if safe > 0 {
            for (i, f) in files.iter().enumerate().rev() {
                if let Ok(Peek::Record(v)) = peek_record(f.published_from(0), false) {
                    if v.physical_offset == f.start() && v.store_timestamp <= safe {
                        chosen = i;
                        break;
                    }
                }
            }
        }
        chosen
    } else {
        let dispatched = cqs
            .all()
            .iter()
            .map(|q| q.last_phy_end())
            .max()
            .unwrap_or(0);
        let by_cq = files
            .iter()
            .rposition(|f| f.start() <= dispatched)
            .unwrap_or(0);
        by_cq.min(files.len().saturating_sub(3))
    };

    let scan_start = files[start_idx].start();
    let mut end = scan_start;
    let mut last_timestamp = 0;
    let mut torn = false;
    'files: for f in &files[start_idx..] {
        let data = f.published_from(0);
        let mut pos = 0usize;
        loop {
            match peek_record(&data[pos..], check_crc) {
                Ok(Peek::Record(v))
                    if v.physical_offset == f.start() + pos as i64
                        && (!abnormal || !looks_torn(&v)) =>
                {
                    pos += v.total_size as usize;
                    end = f.start() + pos as i64;
                    last_timestamp = v.store_timestamp;
                }
                Ok(Peek::Blank) => {
                    end = f.end();
                    continue 'files;
                }
                other => {
                    let at = f.start() + pos as i64;
                    let looks_unwritten = data
                        .get(pos..pos + 8)
                        .is_some_and(|b| b.iter().all(|x| *x == 0));
                    if !looks_unwritten {
                        torn = true;
                        let why = match other {
                            Err(e) => e.to_string(),
                            _ => {
                                "physical offset field does not match the record's position".into()
                            }
                        };
                        tracing::warn!(file = %f.path().display(), offset = at, reason = %why,
                            "commit log ends in a torn or corrupt record; cutting it off");
                    }
                    break 'files;
                }
            }
        }
    }
    drop(files);

    let old_end = commit_log.queue().max_offset();
    if abnormal || end < old_end {
        tracing::info!(end, abnormal, "recovered commit log end");
    }
    // Cut the log. On a crash restart the tail may hold garbage, so zero it; on a clean restart
    // only move the positions (zeroing would read the whole unwritten rest of the file).
    if abnormal || torn {
        commit_log.queue_mut().truncate(end)?;
    } else {
        commit_log.queue_mut().truncate_files_after(end)?;
    }
    cqs.for_each_mut(|q| q.truncate_dirty(end))?;
    if let Some(index) = index {
        index.truncate(end);
    }

    let redispatch_from = if abnormal {
        scan_start
    } else {
        let dispatched = cqs
            .all()
            .iter()
            .map(|q| q.last_phy_end())
            .max()
            .unwrap_or(0);
        dispatched.clamp(scan_start, end)
    };
    Ok(Recovered {
        end,
        redispatch_from,
        last_timestamp,
    })
}

/// A record whose last bytes were never written (a write torn by a crash) still passes the length
/// and body CRC checks when only its topic/properties tail is zero. Properties always end with
/// 0x02 and topics never hold NUL, so a zero there marks a torn tail.
fn looks_torn(v: &rmq_common::record::RecordView<'_>) -> bool {
    v.topic.contains('\0') || v.properties.ends_with('\0')
}
