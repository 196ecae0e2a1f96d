//! The slave's side of one replication connection as a state machine without I/O.
//!
//! It owns the receive buffer, cuts it into transfer frames, checks each header against the
//! slave's own CommitLog end (Apache's `DefaultHAClient.dispatchReadRequest`: a mismatch means
//! the two logs diverged and the connection must close), and decides when to report the slave's
//! offset: on connect, after each append that moved it, and after `haSendHeartbeatInterval` of
//! silence. It also tells when the master has been silent for `haHousekeepingInterval`.
//! The caller does the socket reads, the appends and the report writes.

use std::time::{Duration, Instant};

use bytes::{Buf, Bytes, BytesMut};

use crate::config::HaConfig;
use crate::error::ProtocolError;
use crate::wire::{TransferHeader, HEADER_SIZE};

/// One complete transfer frame.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Frame {
    /// Physical offset of the first byte of `data`.
    pub offset: i64,
    /// CommitLog bytes to append at `offset`; empty for a heartbeat.
    pub data: Bytes,
}

impl Frame {
    pub fn is_heartbeat(&self) -> bool {
        self.data.is_empty()
    }
}

/// What the slave's timers ask for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SlaveTimer {
    /// Send this offset report now (keep-alive).
    Report(i64),
    /// The master has been silent too long: close the connection.
    Expired { silent: Duration },
    /// Nothing due before `until`.
    Wait { until: Instant },
}

/// Receive-side and report state of one connection to the master.
#[derive(Debug)]
pub struct SlaveSession {
    buf: BytesMut,
    /// A header whose body has not fully arrived.
    pending: Option<TransferHeader>,
    heartbeat: Duration,
    housekeeping: Duration,
    reported: i64,
    last_report: Instant,
    last_read: Instant,
    /// End of the last frame the master sent (its offset + size).
    master_offset: Option<i64>,
}

/// Spare room kept in the receive buffer for the next socket read.
const READ_CHUNK: usize = 128 * 1024;

impl SlaveSession {
    /// A session for a fresh connection; `local_max` is the slave's CommitLog end, which is also
    /// the first report to send (0 for an empty store: "start at the master's last file").
    pub fn new(cfg: &HaConfig, local_max: i64, now: Instant) -> Self {
        SlaveSession {
            buf: BytesMut::with_capacity(READ_CHUNK),
            pending: None,
            heartbeat: cfg.send_heartbeat_interval,
            housekeeping: cfg.housekeeping_interval,
            reported: local_max,
            last_report: now,
            last_read: now,
            master_offset: None,
        }
    }

    /// The report to send right after connecting.
    pub fn initial_report(&self) -> i64 {
        self.reported
    }

    /// The buffer the caller reads socket bytes into (with room reserved), then calls
    /// [`SlaveSession::on_read`].
    pub fn read_buffer(&mut self) -> &mut BytesMut {
        let want = match self.pending {
            Some(h) => (h.size - self.buf.len().min(h.size)).clamp(HEADER_SIZE, READ_CHUNK),
            None => READ_CHUNK,
        };
        if self.buf.capacity() - self.buf.len() < want / 2 {
            self.buf.reserve(want);
        }
        &mut self.buf
    }

    /// Notes that bytes arrived (housekeeping).
    pub fn on_read(&mut self, now: Instant) {
        self.last_read = now;
    }

    /// Appends received bytes (tests and callers without a socket).
    pub fn feed(&mut self, data: &[u8], now: Instant) {
        self.buf.extend_from_slice(data);
        self.on_read(now);
    }

    /// The next complete frame, checked against the slave's CommitLog end `local_max` (Apache
    /// accepts any offset while the slave's store is empty, i.e. `local_max == 0`).
    pub fn next_frame(&mut self, local_max: i64) -> Result<Option<Frame>, ProtocolError> {
        let header = match self.pending {
            Some(h) => h,
            None => {
                if self.buf.len() < HEADER_SIZE {
                    return Ok(None);
                }
                let mut raw = [0u8; HEADER_SIZE];
                raw.copy_from_slice(&self.buf[..HEADER_SIZE]);
                let h = TransferHeader::decode(&raw)?;
                if local_max != 0 && local_max != h.offset {
                    return Err(ProtocolError::OffsetMismatch {
                        master_offset: h.offset,
                        slave_offset: local_max,
                    });
                }
                self.buf.advance(HEADER_SIZE);
                self.pending = Some(h);
                h
            }
        };
        if self.buf.len() < header.size {
            return Ok(None);
        }
        self.pending = None;
        let data = self.buf.split_to(header.size).freeze();
        self.master_offset = Some(header.offset + header.size as i64);
        Ok(Some(Frame {
            offset: header.offset,
            data,
        }))
    }

    /// After an append: the report to send if the slave's end moved past the last report.
    pub fn after_append(&mut self, local_max: i64, now: Instant) -> Option<i64> {
        if local_max > self.reported {
            self.reported = local_max;
            self.last_report = now;
            Some(local_max)
        } else {
            None
        }
    }

    /// Keep-alive and housekeeping decisions.
    pub fn poll_timers(&mut self, now: Instant) -> SlaveTimer {
        let silent = now.saturating_duration_since(self.last_read);
        if silent >= self.housekeeping {
            return SlaveTimer::Expired { silent };
        }
        let report_due = self.last_report + self.heartbeat;
        if now >= report_due {
            self.last_report = now;
            return SlaveTimer::Report(self.reported);
        }
        SlaveTimer::Wait {
            until: report_due.min(self.last_read + self.housekeeping),
        }
    }

    /// End of the last frame received: how far the master had data (for lag reporting).
    pub fn master_offset(&self) -> Option<i64> {
        self.master_offset
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    fn frame_bytes(offset: i64, body: &[u8]) -> Vec<u8> {
        let mut v = TransferHeader {
            offset,
            size: body.len(),
        }
        .encode()
        .to_vec();
        v.extend_from_slice(body);
        v
    }

    /// A tiny slave CommitLog: what got appended, checked for continuity.
    struct Log {
        start: Option<i64>,
        bytes: Vec<u8>,
    }
    impl Log {
        fn max(&self) -> i64 {
            self.start.map_or(0, |s| s + self.bytes.len() as i64)
        }
        fn apply(&mut self, f: &Frame) {
            if f.is_heartbeat() {
                return;
            }
            if self.start.is_none() {
                self.start = Some(f.offset);
            }
            assert_eq!(f.offset, self.max());
            self.bytes.extend_from_slice(&f.data);
        }
    }

    #[test]
    fn frames_split_at_every_byte_are_reassembled() {
        let mut stream = frame_bytes(4096, b"hello ");
        stream.extend(frame_bytes(4102, b""));
        stream.extend(frame_bytes(4102, b"world, replicated"));
        let now = Instant::now();
        for cut in 0..=stream.len() {
            let mut s = SlaveSession::new(&HaConfig::default(), 0, now);
            let mut log = Log {
                start: None,
                bytes: Vec::new(),
            };
            let mut frames = 0;
            for part in [&stream[..cut], &stream[cut..]] {
                s.feed(part, now);
                while let Some(f) = s.next_frame(log.max()).unwrap() {
                    log.apply(&f);
                    frames += 1;
                }
            }
            assert_eq!(frames, 3, "cut at {cut}");
            assert_eq!(log.start, Some(4096));
            assert_eq!(&log.bytes[..], b"hello world, replicated");
            assert_eq!(s.master_offset(), Some(4096 + 23));
        }
    }

    proptest::proptest! {
        /// Any sequence of frames and heartbeats, cut into any pieces, is reassembled in order.
        #[test]
        fn any_split_reassembles(
            bodies in proptest::collection::vec(proptest::collection::vec(proptest::num::u8::ANY, 0..300), 1..12),
            cuts in proptest::collection::vec(1usize..64, 1..40),
        ) {
            let start = 1i64 << 20;
            let mut stream = Vec::new();
            let mut at = start;
            for b in &bodies {
                stream.extend(frame_bytes(at, b));
                at += b.len() as i64;
            }
            let now = Instant::now();
            let mut s = SlaveSession::new(&HaConfig::default(), 0, now);
            let mut log = Log { start: None, bytes: Vec::new() };
            let mut frames = 0;
            let mut rest = &stream[..];
            let mut i = 0;
            while !rest.is_empty() {
                let n = cuts[i % cuts.len()].min(rest.len());
                i += 1;
                s.feed(&rest[..n], now);
                rest = &rest[n..];
                while let Some(f) = s.next_frame(log.max()).unwrap() {
                    log.apply(&f);
                    frames += 1;
                }
            }
            proptest::prop_assert_eq!(frames, bodies.len());
            proptest::prop_assert_eq!(log.bytes, bodies.concat());
            proptest::prop_assert_eq!(s.master_offset(), Some(at));
        }
    }

    #[test]
    fn byte_by_byte_delivery() {
        let stream = frame_bytes(0, &[7u8; 300]);
        let now = Instant::now();
        let mut s = SlaveSession::new(&HaConfig::default(), 0, now);
        let mut got = None;
        for b in &stream {
            assert!(got.is_none(), "frame completed too early");
            s.feed(std::slice::from_ref(b), now);
            got = s.next_frame(0).unwrap();
        }
        assert_eq!(got.unwrap().data.len(), 300);
    }

    #[test]
    fn header_offset_must_match_the_slave_end() {
        let now = Instant::now();
        let mut s = SlaveSession::new(&HaConfig::default(), 1000, now);
        s.feed(&frame_bytes(900, b"old bytes"), now);
        assert_eq!(
            s.next_frame(1000),
            Err(ProtocolError::OffsetMismatch {
                master_offset: 900,
                slave_offset: 1000
            })
        );
        // A heartbeat at the wrong offset is a mismatch too.
        let mut s = SlaveSession::new(&HaConfig::default(), 1000, now);
        s.feed(&frame_bytes(1200, b""), now);
        assert!(s.next_frame(1000).is_err());
        // An empty slave takes whatever the master starts with.
        let mut s = SlaveSession::new(&HaConfig::default(), 0, now);
        s.feed(&frame_bytes(1 << 30, b"x"), now);
        assert_eq!(s.next_frame(0).unwrap().unwrap().offset, 1 << 30);
    }

    #[test]
    fn bad_header_size_is_rejected() {
        let now = Instant::now();
        let mut s = SlaveSession::new(&HaConfig::default(), 0, now);
        let mut raw = frame_bytes(0, b"");
        raw[8..12].copy_from_slice(&(-3i32).to_be_bytes());
        s.feed(&raw, now);
        assert_eq!(s.next_frame(0), Err(ProtocolError::BadBodySize(-3)));
    }

    #[test]
    fn reports_on_connect_on_progress_and_as_keepalive() {
        let cfg = HaConfig::default();
        let t0 = Instant::now();
        let mut s = SlaveSession::new(&cfg, 500, t0);
        assert_eq!(s.initial_report(), 500);
        assert_eq!(s.after_append(500, t0), None, "no progress, no report");
        let t1 = t0 + Duration::from_secs(1);
        assert_eq!(s.after_append(800, t1), Some(800));
        s.on_read(t1);
        let due = t1 + cfg.send_heartbeat_interval;
        assert_eq!(s.poll_timers(t1), SlaveTimer::Wait { until: due });
        assert_eq!(s.poll_timers(due), SlaveTimer::Report(800));
        assert_eq!(
            s.poll_timers(due),
            SlaveTimer::Wait {
                until: due + cfg.send_heartbeat_interval
            }
        );
    }

    #[test]
    fn master_silence_expires_the_connection() {
        let cfg = HaConfig::default();
        let t0 = Instant::now();
        let mut s = SlaveSession::new(&cfg, 0, t0);
        let mut now = t0;
        // Keep-alive reports do not count as hearing from the master.
        while now < t0 + cfg.housekeeping_interval {
            match s.poll_timers(now) {
                SlaveTimer::Wait { until } => now = until,
                SlaveTimer::Report(_) => {}
                SlaveTimer::Expired { .. } => break,
            }
        }
        assert_eq!(
            s.poll_timers(t0 + cfg.housekeeping_interval),
            SlaveTimer::Expired {
                silent: cfg.housekeeping_interval
            }
        );
        // A heartbeat from the master resets it.
        let t1 = t0 + Duration::from_secs(19);
        let mut s = SlaveSession::new(&cfg, 0, t0);
        s.feed(&frame_bytes(0, b""), t1);
        assert!(matches!(
            s.poll_timers(t0 + cfg.housekeeping_interval),
            SlaveTimer::Report(0)
        ));
    }
}
