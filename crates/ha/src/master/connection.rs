//! One slave connection on the master: a reader task and a writer task.
//!
//! They are separate tasks because they must not wait on each other: the reader turns the
//! slave's reports into ACKs (what SYNC_MASTER puts wait on) even while the writer is blocked
//! on a full socket streaming a slave that is far behind, and the writer never waits for an
//! ACK before sending more. Either task ending cancels the other. Neither touches the put path:
//! the writer only reads CommitLog bytes that are already published, so a slow, stuck or
//! killed slave never stalls the master's appends.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use tokio::io::AsyncReadExt;
use tokio::net::tcp::{OwnedReadHalf, OwnedWriteHalf};
use tokio::net::TcpStream;
use tokio::sync::watch;
use tokio_util::sync::CancellationToken;

use crate::clock::{now, tokio_instant};
use crate::error::HaError;
use crate::master::frames::{FrameBatch, MAX_FRAMES};
use crate::master::replicas::SlaveHandle;
use crate::master::shared::Shared;
use crate::master_session::{MasterAction, MasterSession};
use crate::wire::ReportDecoder;

/// Shortest and longest pause of the writer's check for new CommitLog data when the embedder
/// does not call [`crate::HaServer::notify_appended`]: it doubles while the log stays still.
const IDLE_POLL_MIN: Duration = Duration::from_millis(1);
const IDLE_POLL_MAX: Duration = Duration::from_millis(50);

/// Starts the reader and writer tasks of one accepted slave connection.
/// `prefix`: report-stream bytes already read while admitting the slave.
pub(crate) fn spawn(shared: &Arc<Shared>, stream: TcpStream, peer: SocketAddr, prefix: Vec<u8>) {
    if let Err(e) = stream.set_nodelay(true) {
        tracing::debug!(slave = %peer, error = %e, "could not set TCP_NODELAY");
    }
    let (rd, wr) = stream.into_split();
    let slave = Arc::new(shared.replicas.register(peer));
    tracing::info!(slave = %peer, slaves = shared.replicas.count(), "HA slave connected");
    let cancel = shared.cancel.child_token();
    let (report_tx, report_rx) = watch::channel(None);

    let (s, c, h) = (Arc::clone(shared), cancel.clone(), Arc::clone(&slave));
    shared.tracker.spawn(async move {
        let result = read_reports(&s, rd, &h, report_tx, &c, prefix).await;
        c.cancel();
        finish(&h, "reader", result);
    });
    let (s, c) = (Arc::clone(shared), cancel);
    shared.tracker.spawn(async move {
        let result = write_transfers(&s, wr, &slave, report_rx, &c).await;
        c.cancel();
        finish(&slave, "writer", result);
    });
}

fn finish(slave: &SlaveHandle, side: &'static str, result: Result<(), HaError>) {
    match result {
        Ok(()) => {}
        Err(HaError::Closed { .. }) => {}
        Err(e @ (HaError::Protocol(_) | HaError::OffsetGone { .. } | HaError::Silent { .. })) => {
            tracing::warn!(slave = %slave.addr(), side, error = %e, "HA slave connection failed")
        }
        Err(e) => {
            tracing::info!(slave = %slave.addr(), side, error = %e, "HA slave connection ended")
        }
    }
    // The second task to finish drops the last handle, which unregisters the slave.
}

/// Reads reports until the slave goes away or stays silent for `haHousekeepingInterval`.
async fn read_reports(
    shared: &Shared,
    mut rd: OwnedReadHalf,
    slave: &SlaveHandle,
    report_tx: watch::Sender<Option<i64>>,
    cancel: &CancellationToken,
    prefix: Vec<u8>,
) -> Result<(), HaError> {
    let peer = slave.addr().to_string();
    let silence = shared.cfg.housekeeping_interval;
    let mut decoder = ReportDecoder::new();
    let mut buf = [0u8; 1024];
    let mut pending = (!prefix.is_empty()).then_some(prefix);
    loop {
        if let Some(bytes) = pending.take() {
            let n = bytes.len().min(buf.len());
            buf[..n].copy_from_slice(&bytes[..n]);
            on_reports(shared, slave, &report_tx, &mut decoder, &buf[..n], &peer)?;
            continue;
        }
        let n = tokio::select! {
            _ = cancel.cancelled() => return Ok(()),
            r = tokio::time::timeout(silence, rd.read(&mut buf)) => match r {
                Err(_) => return Err(HaError::Silent { peer, silent_ms: silence.as_millis() }),
                Ok(Err(source)) => return Err(HaError::Io { op: "read from slave", peer, source }),
                Ok(Ok(0)) => return Err(HaError::Closed { peer }),
                Ok(Ok(n)) => n,
            },
        };
        on_reports(shared, slave, &report_tx, &mut decoder, &buf[..n], &peer)?;
    }
}

/// Takes in what the slave sent: its hello, its latest report.
fn on_reports(
    shared: &Shared,
    slave: &SlaveHandle,
    report_tx: &watch::Sender<Option<i64>>,
    decoder: &mut ReportDecoder,
    bytes: &[u8],
    peer: &str,
) -> Result<(), HaError> {
    let report = decoder.feed(bytes)?;
    if let Some(id) = decoder
        .broker_id()
        .filter(|id| slave.broker_id() != Some(*id))
    {
        tracing::info!(slave = %peer, broker_id = id, "HA slave introduced itself");
        slave.set_broker_id(id);
    }
    if let Some(offset) = report {
        slave.on_ack(offset);
        report_tx.send_replace(Some(offset));
        if shared.replicas.in_sync().is_some() {
            shared
                .store
                .set_replica_confirm(shared.replicas.in_sync_confirm());
        }
    }
    Ok(())
}

/// Streams CommitLog data (and heartbeats) as the session decides.
async fn write_transfers(
    shared: &Shared,
    mut wr: OwnedWriteHalf,
    slave: &SlaveHandle,
    mut report_rx: watch::Receiver<Option<i64>>,
    cancel: &CancellationToken,
) -> Result<(), HaError> {
    let peer = slave.addr().to_string();
    let store = &shared.store;
    let file_size = store.commit_log_file_size();
    let mut session = MasterSession::new(&shared.cfg, now());
    let mut idle_poll = IDLE_POLL_MIN;
    let mut warned_ahead = false;
    let mut batch = FrameBatch::new();
    loop {
        // Arm the wake-up before looking at the log, so an append in between is not missed.
        let appended = shared.data_ready.notified();
        tokio::pin!(appended);
        appended.as_mut().enable();
        if let Some(report) = *report_rx.borrow_and_update() {
            session.on_report(report);
        }
        let master_max = store.commit_log_max_offset();
        let t = now();
        match session.poll(master_max, file_size, t) {
            MasterAction::Transfer { offset, len } => {
                match store.get_commit_log_data(offset, len) {
                    Some(data) => {
                        session.on_sent(offset, data.len(), t);
                        batch.push(offset, data);
                    }
                    None => {
                        let min = store.commit_log_min_offset();
                        if offset < min {
                            return Err(HaError::OffsetGone {
                                requested: offset,
                                min,
                            });
                        }
                        // Published but its file not visible yet: look again shortly.
                        tokio::select! {
                            _ = cancel.cancelled() => return Ok(()),
                            _ = tokio::time::sleep(IDLE_POLL_MIN) => continue,
                        }
                    }
                }
                // Behind: gather more frames for the same write.
                while batch.len() < MAX_FRAMES {
                    let MasterAction::Transfer { offset, len } =
                        session.poll(master_max, file_size, t)
                    else {
                        break;
                    };
                    let Some(data) = store.get_commit_log_data(offset, len) else {
                        break;
                    };
                    session.on_sent(offset, data.len(), t);
                    batch.push(offset, data);
                }
            }
            MasterAction::Heartbeat { offset } => {
                session.on_sent(offset, 0, t);
                batch.push(offset, Bytes::new());
            }
            MasterAction::AwaitReport => {
                tokio::select! {
                    _ = cancel.cancelled() => return Ok(()),
                    r = report_rx.changed() => {
                        if r.is_err() {
                            return Ok(());
                        }
                        continue;
                    }
                }
            }
            MasterAction::Idle { until } => {
                if !warned_ahead && session.slave_ahead(master_max) {
                    warned_ahead = true;
                    tracing::warn!(slave = %peer, slave_offset = ?session.next_offset(), master_max,
                        "HA slave is ahead of the master's CommitLog; waiting for the master to catch up");
                }
                let wake = tokio_instant(until).min(tokio::time::Instant::now() + idle_poll);
                idle_poll = (idle_poll * 2).min(IDLE_POLL_MAX);
                tokio::select! {
                    _ = cancel.cancelled() => return Ok(()),
                    _ = &mut appended => idle_poll = IDLE_POLL_MIN,
                    _ = tokio::time::sleep_until(wake) => {}
                }
                continue;
            }
        }
        // The session already counts these frames as sent; if the write fails the connection
        // closes and the next one starts from the slave's own report.
        tokio::select! {
            _ = cancel.cancelled() => return Ok(()),
            r = batch.write_to(&mut wr) => {
                r.map_err(|source| HaError::Io { op: "write to slave", peer: peer.clone(), source })?;
            }
        }
        idle_poll = IDLE_POLL_MIN;
    }
}
