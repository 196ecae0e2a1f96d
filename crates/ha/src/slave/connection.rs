//! One connection from the slave to the master: report where we are, append what arrives,
//! report progress, keep the connection alive.
//!
//! One task does it all because each step depends on the previous one (a frame is checked
//! against the CommitLog end the previous append left). Appends run inline: each is a copy of
//! at most one transfer batch into the mapped file, as in Apache's `HAClient` thread.

use std::sync::atomic::Ordering;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::tcp::OwnedWriteHalf;
use tokio::net::TcpStream;

use crate::clock::{now, tokio_instant};
use crate::error::HaError;
use crate::slave::state::ClientState;
use crate::slave_session::{SlaveSession, SlaveTimer};
use crate::wire::{encode_hello, encode_report};

/// Connects to `addr` and replicates until the connection fails or is closed.
pub(crate) async fn replicate(addr: &str, state: &ClientState) -> Result<(), HaError> {
    let cfg = &state.cfg;
    let peer = addr.to_owned();
    let stream = match tokio::time::timeout(cfg.connect_timeout, TcpStream::connect(addr)).await {
        Err(_) => return Err(HaError::ConnectTimeout { peer }),
        Ok(Err(source)) => {
            return Err(HaError::Io {
                op: "connect to master",
                peer,
                source,
            })
        }
        Ok(Ok(s)) => s,
    };
    if let Err(e) = stream.set_nodelay(true) {
        tracing::debug!(master = %peer, error = %e, "could not set TCP_NODELAY");
    }
    let mut stream = stream;
    if let Some(prover) = &state.prover {
        crate::auth::prove(
            &mut stream,
            &peer,
            prover.as_ref(),
            cfg.housekeeping_interval,
        )
        .await?;
    }
    let local = stream.local_addr().ok();
    let (mut rd, mut wr) = stream.into_split();
    let store = &state.store;
    let mut session = SlaveSession::new(cfg, store.commit_log_max_offset(), now());
    let id = state.broker_id.load(Ordering::Acquire);
    if id >= 0 {
        wr.write_all(&encode_hello(id))
            .await
            .map_err(|source| HaError::Io {
                op: "write hello to master",
                peer: peer.clone(),
                source,
            })?;
    }
    send_report(&mut wr, session.initial_report(), state, &peer).await?;
    let _connected = Connected::mark(state);
    tracing::info!(master = %peer, local = ?local, offset = session.initial_report(),
        "HA connected to master");

    loop {
        let wait_until = match session.poll_timers(now()) {
            SlaveTimer::Report(offset) => {
                send_report(&mut wr, offset, state, &peer).await?;
                continue;
            }
            SlaveTimer::Expired { silent } => {
                return Err(HaError::Silent {
                    peer,
                    silent_ms: silent.as_millis(),
                })
            }
            SlaveTimer::Wait { until } => until,
        };
        let read = tokio::select! {
            r = rd.read_buf(session.read_buffer()) => r,
            _ = tokio::time::sleep_until(tokio_instant(wait_until)) => continue,
        };
        match read {
            Ok(0) => return Err(HaError::Closed { peer }),
            Ok(_) => session.on_read(now()),
            Err(source) => {
                return Err(HaError::Io {
                    op: "read from master",
                    peer,
                    source,
                })
            }
        }
        while let Some(frame) = session.next_frame(store.commit_log_max_offset())? {
            if !frame.is_heartbeat() {
                if frame.offset > 0 && store.prepare_replica_start(frame.offset) {
                    tracing::info!(master = %peer, offset = frame.offset,
                        "HA empty slave store starts at the master's last CommitLog file");
                }
                store
                    .append_to_commit_log(frame.offset, &frame.data)
                    .map_err(|source| HaError::Append {
                        offset: frame.offset,
                        source,
                    })?;
            }
            if let Some(m) = session.master_offset() {
                state.master_offset.store(m, Ordering::Release);
            }
        }
        if let Some(offset) = session.after_append(store.commit_log_max_offset(), now()) {
            send_report(&mut wr, offset, state, &peer).await?;
        }
    }
}

async fn send_report(
    wr: &mut OwnedWriteHalf,
    offset: i64,
    state: &ClientState,
    peer: &str,
) -> Result<(), HaError> {
    let limit = state.cfg.housekeeping_interval;
    match tokio::time::timeout(limit, wr.write_all(&encode_report(offset))).await {
        Ok(Ok(())) => Ok(()),
        Ok(Err(source)) => Err(HaError::Io {
            op: "report to master",
            peer: peer.to_owned(),
            source,
        }),
        Err(_) => Err(HaError::Silent {
            peer: peer.to_owned(),
            silent_ms: limit.as_millis(),
        }),
    }
}

/// Sets the client's "connected" flag for as long as it lives.
struct Connected<'a>(&'a ClientState);

impl<'a> Connected<'a> {
    fn mark(state: &'a ClientState) -> Self {
        state.connected.store(true, Ordering::Release);
        Connected(state)
    }
}

impl Drop for Connected<'_> {
    fn drop(&mut self) {
        self.0.connected.store(false, Ordering::Release);
    }
}
