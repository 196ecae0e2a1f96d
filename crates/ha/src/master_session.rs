//! The master's side of one replication connection as a state machine without I/O.
//!
//! Given the slave's reports and the master's CommitLog end and file size, it decides what to
//! send next: nothing until the slave's first report, then CommitLog ranges of at most
//! `haTransferBatchSize` that never cross a file, and a header-only heartbeat whenever nothing
//! was sent for `haSendHeartbeatInterval`. Time comes in as an argument, so the rules of
//! Apache's `DefaultHAConnection.WriteSocketService` are unit-tested without sockets or sleeps.

use std::time::{Duration, Instant};

use crate::config::HaConfig;

/// What the connection's writer should do next.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MasterAction {
    /// The slave has not said where to start yet.
    AwaitReport,
    /// Send CommitLog bytes `[offset, offset + len)`, all inside one file.
    Transfer { offset: i64, len: usize },
    /// Send a header-only heartbeat announcing `offset` (where the next data starts).
    Heartbeat { offset: i64 },
    /// Nothing to send: wait for new data, at most until `until` (the next heartbeat).
    Idle { until: Instant },
}

/// Transfer-side state of one slave connection.
#[derive(Debug)]
pub struct MasterSession {
    batch: usize,
    heartbeat: Duration,
    /// The slave's first report: where it asked to start.
    requested: Option<i64>,
    /// The slave's latest report: what it has (its ACK).
    acked: Option<i64>,
    /// Next CommitLog offset to send; fixed on the first poll after the first report.
    next: Option<i64>,
    last_write: Instant,
}

impl MasterSession {
    pub fn new(cfg: &HaConfig, now: Instant) -> Self {
        MasterSession {
            batch: cfg.batch_size(),
            heartbeat: cfg.send_heartbeat_interval,
            requested: None,
            acked: None,
            next: None,
            last_write: now,
        }
    }

    /// A report from the slave: the first one is where to start, every one is an ACK.
    pub fn on_report(&mut self, offset: i64) {
        if self.requested.is_none() {
            self.requested = Some(offset);
        }
        self.acked = Some(offset);
    }

    /// The slave's latest ACK offset.
    pub fn acked(&self) -> Option<i64> {
        self.acked
    }

    /// The next offset that will be sent, once known.
    pub fn next_offset(&self) -> Option<i64> {
        self.next
    }

    /// Whether the slave asked for data beyond the master's end (it has data the master lost).
    pub fn slave_ahead(&self, master_max: i64) -> bool {
        self.next.is_some_and(|n| n > master_max)
    }

    /// Decides the next step from the master's CommitLog end and file size.
    pub fn poll(&mut self, master_max: i64, file_size: usize, now: Instant) -> MasterAction {
        let next = match (self.next, self.requested) {
            (Some(n), _) => n,
            (None, None) => return MasterAction::AwaitReport,
            (None, Some(req)) => {
                let n = start_offset(req, master_max, file_size);
                self.next = Some(n);
                n
            }
        };
        if next < master_max {
            let file_size = file_size.max(1) as i64;
            let file_end = next - next % file_size + file_size;
            let len = (master_max.min(file_end) - next).min(self.batch as i64);
            return MasterAction::Transfer {
                offset: next,
                len: len as usize,
            };
        }
        let due = self.last_write + self.heartbeat;
        if now >= due {
            MasterAction::Heartbeat { offset: next }
        } else {
            MasterAction::Idle { until: due }
        }
    }

    /// Records that `len` bytes from `offset` (0 for a heartbeat) were written to the socket.
    pub fn on_sent(&mut self, offset: i64, len: usize, now: Instant) {
        self.next = Some(offset + len as i64);
        self.last_write = now;
    }
}

/// Where a transfer starts: the slave's offset, or for an empty slave (report 0) the start of
/// the master's last CommitLog file, as Apache does (`maxOffset - maxOffset % fileSize`).
pub fn start_offset(requested: i64, master_max: i64, file_size: usize) -> i64 {
    if requested != 0 {
        return requested;
    }
    let file_size = file_size.max(1) as i64;
    (master_max - master_max % file_size).max(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    const FILE: usize = 1024;

    fn cfg() -> HaConfig {
        HaConfig {
            transfer_batch_size: 100,
            send_heartbeat_interval: Duration::from_secs(5),
            ..HaConfig::default()
        }
    }

    /// Runs the session to completion against a master at `max`, collecting the transfers.
    fn drain(s: &mut MasterSession, max: i64, now: Instant) -> Vec<(i64, usize)> {
        let mut out = Vec::new();
        while let MasterAction::Transfer { offset, len } = s.poll(max, FILE, now) {
            out.push((offset, len));
            s.on_sent(offset, len, now);
        }
        out
    }

    #[test]
    fn waits_for_the_first_report() {
        let now = Instant::now();
        let mut s = MasterSession::new(&cfg(), now);
        assert_eq!(s.poll(5000, FILE, now), MasterAction::AwaitReport);
        assert_eq!(
            s.poll(5000, FILE, now + Duration::from_secs(60)),
            MasterAction::AwaitReport
        );
    }

    #[test]
    fn empty_slave_starts_at_the_last_file_of_a_multi_file_master() {
        let now = Instant::now();
        let mut s = MasterSession::new(&cfg(), now);
        s.on_report(0);
        let max = 3 * FILE as i64 + 250;
        let sent = drain(&mut s, max, now);
        assert_eq!(sent, vec![(3072, 100), (3172, 100), (3272, 50)]);
        assert_eq!(s.next_offset(), Some(max));
    }

    #[test]
    fn empty_slave_and_master_at_a_file_boundary() {
        assert_eq!(start_offset(0, 2048, FILE), 2048);
        assert_eq!(start_offset(0, 0, FILE), 0);
        assert_eq!(start_offset(77, 2048, FILE), 77);
    }

    #[test]
    fn chunks_never_cross_a_file() {
        let now = Instant::now();
        let mut s = MasterSession::new(&cfg(), now);
        s.on_report(FILE as i64 - 30);
        let sent = drain(&mut s, FILE as i64 + 150, now);
        assert_eq!(
            sent,
            vec![(994, 30), (1024, 100), (1124, 50)],
            "stops at the boundary, then full batches"
        );
        for (off, len) in sent {
            assert_eq!(off / FILE as i64, (off + len as i64 - 1) / FILE as i64);
        }
    }

    #[test]
    fn follows_a_growing_log_and_reconnects_at_an_older_offset() {
        let now = Instant::now();
        let mut s = MasterSession::new(&cfg(), now);
        s.on_report(500);
        assert_eq!(drain(&mut s, 560, now), vec![(500, 60)]);
        assert!(matches!(s.poll(560, FILE, now), MasterAction::Idle { .. }));
        assert_eq!(drain(&mut s, 600, now), vec![(560, 40)]);
        // Later reports are ACKs only: they never move the transfer position.
        s.on_report(560);
        assert_eq!(s.acked(), Some(560));
        assert_eq!(s.next_offset(), Some(600));

        // The slave reconnects (a new session) having kept less than was sent.
        let mut again = MasterSession::new(&cfg(), now);
        again.on_report(520);
        assert_eq!(drain(&mut again, 600, now), vec![(520, 80)]);
    }

    #[test]
    fn heartbeat_after_the_interval_without_writes() {
        let t0 = Instant::now();
        let mut s = MasterSession::new(&cfg(), t0);
        s.on_report(100);
        let t1 = t0 + Duration::from_secs(1);
        assert_eq!(drain(&mut s, 150, t1), vec![(100, 50)]);
        let due = t1 + Duration::from_secs(5);
        assert_eq!(s.poll(150, FILE, t1), MasterAction::Idle { until: due });
        assert_eq!(
            s.poll(150, FILE, due - Duration::from_millis(1)),
            MasterAction::Idle { until: due }
        );
        assert_eq!(
            s.poll(150, FILE, due),
            MasterAction::Heartbeat { offset: 150 }
        );
        s.on_sent(150, 0, due);
        assert_eq!(
            s.poll(150, FILE, due),
            MasterAction::Idle {
                until: due + Duration::from_secs(5)
            }
        );
        // Data always goes before a due heartbeat.
        let late = due + Duration::from_secs(30);
        assert_eq!(
            s.poll(160, FILE, late),
            MasterAction::Transfer {
                offset: 150,
                len: 10
            }
        );
    }

    #[test]
    fn slave_ahead_of_the_master_only_gets_heartbeats() {
        let now = Instant::now();
        let mut s = MasterSession::new(&cfg(), now);
        s.on_report(900);
        assert!(matches!(s.poll(500, FILE, now), MasterAction::Idle { .. }));
        assert!(s.slave_ahead(500));
        assert_eq!(
            s.poll(500, FILE, now + Duration::from_secs(5)),
            MasterAction::Heartbeat { offset: 900 }
        );
    }
}
