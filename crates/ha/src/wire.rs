//! The raw HA wire format (protocol.md 6.2), kept apart from the session logic because it is a
//! compatibility surface with Apache RocketMQ's `DefaultHAService`: changing it is a decision.
//!
//! Slave → master: 8-byte big-endian offset reports. Master → slave: a 12-byte header (offset,
//! size) followed by `size` raw CommitLog bytes; `size == 0` is a heartbeat.
//!
//! rmq's one addition, for controller mode only: a slave that has a broker id opens with a
//! 16-byte hello, [`HELLO_MAGIC`] then its id, so the master can tell the controllers which
//! replica keeps up (the SyncStateSet is a set of broker ids). The magic is a negative number,
//! which no offset report can be, so a master that does not know the hello refuses it at once
//! instead of mistaking it for an offset; an rmq master accepts slaves with or without it.

use crate::error::ProtocolError;

/// Size of one slave → master offset report.
pub const REPORT_SIZE: usize = 8;
/// Size of the master → slave transfer header.
pub const HEADER_SIZE: usize = 12;
/// Largest body a slave accepts in one frame. Apache masters send at most `haTransferBatchSize`
/// (32 KiB by default); the bound only keeps a corrupt header from making the slave buffer
/// gigabytes.
pub const MAX_BODY_SIZE: usize = 64 * 1024 * 1024;

/// First unit of a slave's hello ("RMQHA" with the sign bit set).
pub const HELLO_MAGIC: i64 = i64::from_be_bytes([0xD2, 0x4D, 0x51, 0x48, 0x41, 0, 0, 1]);

/// One offset report.
pub fn encode_report(offset: i64) -> [u8; REPORT_SIZE] {
    offset.to_be_bytes()
}

/// The hello a slave with a broker id sends before its first report.
pub fn encode_hello(broker_id: i64) -> [u8; 2 * REPORT_SIZE] {
    let mut out = [0u8; 2 * REPORT_SIZE];
    out[..8].copy_from_slice(&HELLO_MAGIC.to_be_bytes());
    out[8..].copy_from_slice(&broker_id.to_be_bytes());
    out
}

/// The header that precedes each transfer frame.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TransferHeader {
    /// Physical CommitLog offset of the first body byte (for a heartbeat: where the next data
    /// will start).
    pub offset: i64,
    /// Body size; 0 for a heartbeat.
    pub size: usize,
}

impl TransferHeader {
    pub fn encode(&self) -> [u8; HEADER_SIZE] {
        let mut out = [0u8; HEADER_SIZE];
        out[..8].copy_from_slice(&self.offset.to_be_bytes());
        // Bodies are bounded by the batch size, far below i32::MAX; saturate rather than wrap.
        let size = i32::try_from(self.size).unwrap_or(i32::MAX);
        out[8..].copy_from_slice(&size.to_be_bytes());
        out
    }

    /// Parses and checks a header.
    pub fn decode(b: &[u8; HEADER_SIZE]) -> Result<Self, ProtocolError> {
        let mut off = [0u8; 8];
        off.copy_from_slice(&b[..8]);
        let offset = i64::from_be_bytes(off);
        let size = i32::from_be_bytes([b[8], b[9], b[10], b[11]]);
        if offset < 0 {
            return Err(ProtocolError::NegativeOffset(offset));
        }
        let size = match usize::try_from(size) {
            Ok(s) if s <= MAX_BODY_SIZE => s,
            _ => return Err(ProtocolError::BadBodySize(size)),
        };
        // The frame's end (offset + size) is what the slave reports next: it must be an offset.
        if offset.checked_add(size as i64).is_none() {
            return Err(ProtocolError::EndsPastMax { offset, size });
        }
        Ok(TransferHeader { offset, size })
    }
}

/// Turns the slave's report stream into offsets. Like Apache's `ReadSocketService`, only the
/// **last** complete report of what has arrived counts: older ones are superseded. A hello at
/// the very start is taken apart from the reports ([`ReportDecoder::broker_id`]).
#[derive(Debug, Default)]
pub struct ReportDecoder {
    partial: [u8; REPORT_SIZE],
    partial_len: usize,
    units: u64,
    hello: bool,
    broker_id: Option<i64>,
}

impl ReportDecoder {
    pub fn new() -> Self {
        Self::default()
    }

    /// The broker id the slave's hello gave, if it sent one.
    pub fn broker_id(&self) -> Option<i64> {
        self.broker_id
    }

    /// Feeds received bytes; returns the last report completed by them, if any.
    pub fn feed(&mut self, mut data: &[u8]) -> Result<Option<i64>, ProtocolError> {
        let mut last = None;
        while !data.is_empty() {
            let take = (REPORT_SIZE - self.partial_len).min(data.len());
            self.partial[self.partial_len..self.partial_len + take].copy_from_slice(&data[..take]);
            self.partial_len += take;
            data = &data[take..];
            if self.partial_len < REPORT_SIZE {
                break;
            }
            self.partial_len = 0;
            let v = i64::from_be_bytes(self.partial);
            let unit = self.units;
            self.units += 1;
            match unit {
                0 if v == HELLO_MAGIC => self.hello = true,
                1 if self.hello => self.broker_id = Some(v),
                _ if v < 0 => return Err(ProtocolError::NegativeReport(v)),
                _ => last = Some(v),
            }
        }
        Ok(last)
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn header_round_trip_and_checks() {
        let h = TransferHeader {
            offset: 1 << 40,
            size: 32 * 1024,
        };
        assert_eq!(TransferHeader::decode(&h.encode()).unwrap(), h);
        let mut neg = h.encode();
        neg[0] = 0x80;
        assert!(matches!(
            TransferHeader::decode(&neg),
            Err(ProtocolError::NegativeOffset(_))
        ));
        let mut bad = h.encode();
        bad[8..].copy_from_slice(&(-1i32).to_be_bytes());
        assert_eq!(
            TransferHeader::decode(&bad),
            Err(ProtocolError::BadBodySize(-1))
        );
        // Found by the ha_frames fuzz target: an end past i64::MAX overflowed the slave's
        // notion of the master's offset.
        let past = TransferHeader {
            offset: i64::MAX,
            size: 1,
        };
        assert_eq!(
            TransferHeader::decode(&past.encode()),
            Err(ProtocolError::EndsPastMax {
                offset: i64::MAX,
                size: 1
            })
        );
    }

    #[test]
    fn header_layout_is_big_endian_offset_then_size() {
        let h = TransferHeader {
            offset: 0x0102_0304_0506_0708,
            size: 0x0A0B,
        };
        assert_eq!(h.encode(), [1, 2, 3, 4, 5, 6, 7, 8, 0, 0, 0x0A, 0x0B]);
    }

    #[test]
    fn only_the_last_complete_report_counts() {
        let mut d = ReportDecoder::new();
        let mut bytes = Vec::new();
        for v in [10i64, 20, 30] {
            bytes.extend_from_slice(&encode_report(v));
        }
        bytes.extend_from_slice(&encode_report(40)[..3]);
        assert_eq!(d.feed(&bytes).unwrap(), Some(30));
        assert_eq!(d.feed(&encode_report(40)[3..7]).unwrap(), None);
        assert_eq!(d.feed(&encode_report(40)[7..]).unwrap(), Some(40));
        assert_eq!(d.feed(&[]).unwrap(), None);
    }

    #[test]
    fn reports_split_at_every_byte() {
        let values = [0i64, 7, 1 << 33, 123_456_789];
        let stream: Vec<u8> = values.iter().flat_map(|v| encode_report(*v)).collect();
        for cut in 0..=stream.len() {
            let mut d = ReportDecoder::new();
            let a = d.feed(&stream[..cut]).unwrap();
            let b = d.feed(&stream[cut..]).unwrap();
            assert_eq!(b.or(a), Some(123_456_789), "cut at {cut}");
            if cut / 8 > 0 && cut < stream.len() {
                assert_eq!(a, Some(values[cut / 8 - 1]), "cut at {cut}");
            }
        }
    }

    #[test]
    fn a_hello_at_the_start_names_the_slave_split_anywhere() {
        let mut stream = encode_hello(3).to_vec();
        stream.extend_from_slice(&encode_report(4096));
        for cut in 0..=stream.len() {
            let mut d = ReportDecoder::new();
            let a = d.feed(&stream[..cut]).unwrap();
            let b = d.feed(&stream[cut..]).unwrap();
            assert_eq!(b.or(a), Some(4096), "cut at {cut}");
            assert_eq!(d.broker_id(), Some(3), "cut at {cut}");
        }
        let mut late = ReportDecoder::new();
        late.feed(&encode_report(1)).unwrap();
        assert!(
            late.feed(&encode_hello(3)).is_err(),
            "a hello after a report is refused"
        );
    }

    #[test]
    fn negative_report_is_an_error() {
        let mut d = ReportDecoder::new();
        assert_eq!(
            d.feed(&encode_report(-5)),
            Err(ProtocolError::NegativeReport(-5))
        );
    }
}
