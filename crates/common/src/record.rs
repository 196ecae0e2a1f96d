//! RocketMQ's stored message record: the CommitLog layout, which is also the body format of
//! PULL_MESSAGE / QUERY_MESSAGE / VIEW_MESSAGE_BY_ID responses and the HA stream payload.
//!
//! Records are parsed through [`RecordView`], a borrowed view that allocates nothing, so that
//! dispatch and recovery can walk gigabytes of log cheaply. [`decode_message`] builds an owned
//! [`MessageExt`] whose body shares the input buffer.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};

use bytes::{BufMut, Bytes, BytesMut};

use crate::java::crc32_masked;
use crate::message::{decode_properties, Message, MessageExt};
use crate::sysflag::message as flag;

pub const MAGIC_V1: i32 = 0xDAA3_20A7_u32 as i32;
pub const MAGIC_V2: i32 = 0xDAA3_20AB_u32 as i32;
pub const BLANK_MAGIC: i32 = 0xCBD4_3194_u32 as i32;
/// Size of the end-of-file blank record (length + magic).
pub const BLANK_LEN: usize = 8;

pub const POS_TOTAL_SIZE: usize = 0;
pub const POS_MAGIC: usize = 4;
pub const POS_BODY_CRC: usize = 8;
pub const POS_QUEUE_ID: usize = 12;
pub const POS_FLAG: usize = 16;
pub const POS_QUEUE_OFFSET: usize = 20;
pub const POS_PHYSICAL_OFFSET: usize = 28;
pub const POS_SYS_FLAG: usize = 36;
pub const POS_BORN_TIMESTAMP: usize = 40;
pub const POS_BORN_HOST: usize = 48;

/// Why bytes do not form a valid record.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RecordError {
    #[error("record truncated: need {need} bytes, have {have}")]
    Truncated { need: usize, have: usize },
    #[error("bad magic code {0:#010x}")]
    BadMagic(i32),
    #[error("total size {total} does not match the computed size {computed}")]
    SizeMismatch { total: i32, computed: usize },
    #[error("body CRC mismatch: stored {stored}, computed {computed}")]
    CrcMismatch { stored: u32, computed: u32 },
    #[error("topic or properties are not valid UTF-8")]
    BadUtf8,
    #[error("topic of {0} bytes is longer than the record format allows")]
    TopicTooLong(usize),
    #[error("properties of {0} bytes exceed 32767")]
    PropertiesTooLong(usize),
}

/// Everything needed to encode one record.
#[derive(Debug, Clone)]
pub struct RecordFields<'a> {
    pub topic: &'a str,
    pub queue_id: i32,
    pub flag: i32,
    pub queue_offset: i64,
    pub physical_offset: i64,
    /// The IPv6 host bits are derived from the addresses; any given here are replaced.
    pub sys_flag: i32,
    pub born_timestamp: i64,
    pub born_host: SocketAddr,
    pub store_timestamp: i64,
    pub store_host: SocketAddr,
    pub reconsume_times: i32,
    pub prepared_transaction_offset: i64,
    pub body: &'a [u8],
    pub properties: &'a str,
}

/// Whether a topic needs the V2 magic (2-byte topic length).
pub fn needs_v2(topic: &str) -> bool {
    topic.len() > 127
}

/// Total record length for the given parts.
pub fn record_len(
    topic_len: usize,
    v2: bool,
    body_len: usize,
    props_len: usize,
    born_v6: bool,
    store_v6: bool,
) -> usize {
    4 + 4
        + 4
        + 4
        + 4
        + 8
        + 8
        + 4
        + 8
        + if born_v6 { 20 } else { 8 }
        + 8
        + if store_v6 { 20 } else { 8 }
        + 4
        + 8
        + 4
        + body_len
        + if v2 { 2 } else { 1 }
        + topic_len
        + 2
        + props_len
}

/// Position of STORETIMESTAMP, which depends on the born host's form.
pub fn store_timestamp_pos(sys_flag: i32) -> usize {
    POS_BORN_HOST
        + if sys_flag & flag::BORNHOST_V6 != 0 {
            20
        } else {
            8
        }
}

/// Appends one encoded record to `out` and returns its length. The body CRC is computed here.
pub fn encode_record(f: &RecordFields<'_>, out: &mut BytesMut) -> Result<usize, RecordError> {
    let v2 = needs_v2(f.topic);
    if f.topic.len() > i16::MAX as usize {
        return Err(RecordError::TopicTooLong(f.topic.len()));
    }
    if f.properties.len() > i16::MAX as usize {
        return Err(RecordError::PropertiesTooLong(f.properties.len()));
    }
    let mut sys_flag = f.sys_flag & !(flag::BORNHOST_V6 | flag::STOREHOST_V6);
    if f.born_host.is_ipv6() {
        sys_flag |= flag::BORNHOST_V6;
    }
    if f.store_host.is_ipv6() {
        sys_flag |= flag::STOREHOST_V6;
    }
    let len = record_len(
        f.topic.len(),
        v2,
        f.body.len(),
        f.properties.len(),
        f.born_host.is_ipv6(),
        f.store_host.is_ipv6(),
    );
    out.reserve(len);
    out.put_i32(len as i32);
    out.put_i32(if v2 { MAGIC_V2 } else { MAGIC_V1 });
    out.put_u32(crc32_masked(f.body));
    out.put_i32(f.queue_id);
    out.put_i32(f.flag);
    out.put_i64(f.queue_offset);
    out.put_i64(f.physical_offset);
    out.put_i32(sys_flag);
    out.put_i64(f.born_timestamp);
    put_host(out, &f.born_host);
    out.put_i64(f.store_timestamp);
    put_host(out, &f.store_host);
    out.put_i32(f.reconsume_times);
    out.put_i64(f.prepared_transaction_offset);
    out.put_i32(f.body.len() as i32);
    out.put_slice(f.body);
    if v2 {
        out.put_i16(f.topic.len() as i16);
    } else {
        out.put_u8(f.topic.len() as u8);
    }
    out.put_slice(f.topic.as_bytes());
    out.put_i16(f.properties.len() as i16);
    out.put_slice(f.properties.as_bytes());
    Ok(len)
}

fn put_host(out: &mut BytesMut, addr: &SocketAddr) {
    match addr.ip() {
        IpAddr::V4(ip) => out.put_slice(&ip.octets()),
        IpAddr::V6(ip) => out.put_slice(&ip.octets()),
    }
    out.put_i32(i32::from(addr.port()));
}

/// Writes the end-of-file blank record into `out` (8 bytes).
pub fn encode_blank(remaining: usize, out: &mut [u8]) {
    out[0..4].copy_from_slice(&(remaining as i32).to_be_bytes());
    out[4..8].copy_from_slice(&BLANK_MAGIC.to_be_bytes());
}

/// Rewrites the queue offset, physical offset and store timestamp of an encoded record in place.
pub fn patch_record(rec: &mut [u8], queue_offset: i64, physical_offset: i64, store_timestamp: i64) {
    rec[POS_QUEUE_OFFSET..POS_QUEUE_OFFSET + 8].copy_from_slice(&queue_offset.to_be_bytes());
    rec[POS_PHYSICAL_OFFSET..POS_PHYSICAL_OFFSET + 8]
        .copy_from_slice(&physical_offset.to_be_bytes());
    let sys_flag = read_i32(rec, POS_SYS_FLAG);
    let p = store_timestamp_pos(sys_flag);
    rec[p..p + 8].copy_from_slice(&store_timestamp.to_be_bytes());
}

fn read_i32(b: &[u8], at: usize) -> i32 {
    let mut a = [0u8; 4];
    a.copy_from_slice(&b[at..at + 4]);
    i32::from_be_bytes(a)
}

/// What sits at a position of the log.
#[derive(Debug)]
pub enum Peek<'a> {
    /// A complete, valid record.
    Record(RecordView<'a>),
    /// The end-of-file blank: the rest of this file is unused.
    Blank,
}

/// A parsed record that borrows its bytes.
#[derive(Debug, Clone)]
pub struct RecordView<'a> {
    /// The whole record.
    pub bytes: &'a [u8],
    pub total_size: i32,
    pub magic: i32,
    pub body_crc: u32,
    pub queue_id: i32,
    pub flag: i32,
    pub queue_offset: i64,
    pub physical_offset: i64,
    pub sys_flag: i32,
    pub born_timestamp: i64,
    pub born_host: SocketAddr,
    pub store_timestamp: i64,
    pub store_host: SocketAddr,
    pub reconsume_times: i32,
    pub prepared_transaction_offset: i64,
    /// Byte range of the body within `bytes`.
    pub body_range: std::ops::Range<usize>,
    pub topic: &'a str,
    pub properties: &'a str,
}

impl<'a> RecordView<'a> {
    pub fn body(&self) -> &'a [u8] {
        &self.bytes[self.body_range.clone()]
    }
}

struct Cursor<'a> {
    b: &'a [u8],
    pos: usize,
}

impl<'a> Cursor<'a> {
    fn take(&mut self, n: usize) -> Result<&'a [u8], RecordError> {
        let end = self.pos.checked_add(n).filter(|e| *e <= self.b.len());
        match end {
            Some(end) => {
                let s = &self.b[self.pos..end];
                self.pos = end;
                Ok(s)
            }
            None => Err(RecordError::Truncated {
                need: self.pos.saturating_add(n),
                have: self.b.len(),
            }),
        }
    }
    fn u8(&mut self) -> Result<u8, RecordError> {
        Ok(self.take(1)?[0])
    }
    fn i16(&mut self) -> Result<i16, RecordError> {
        let s = self.take(2)?;
        Ok(i16::from_be_bytes([s[0], s[1]]))
    }
    fn i32(&mut self) -> Result<i32, RecordError> {
        let s = self.take(4)?;
        Ok(i32::from_be_bytes([s[0], s[1], s[2], s[3]]))
    }
    fn i64(&mut self) -> Result<i64, RecordError> {
        let s = self.take(8)?;
        let mut a = [0u8; 8];
        a.copy_from_slice(s);
        Ok(i64::from_be_bytes(a))
    }
    fn host(&mut self, v6: bool) -> Result<SocketAddr, RecordError> {
        let ip = if v6 {
            let s = self.take(16)?;
            let mut a = [0u8; 16];
            a.copy_from_slice(s);
            IpAddr::V6(Ipv6Addr::from(a))
        } else {
            let s = self.take(4)?;
            IpAddr::V4(Ipv4Addr::new(s[0], s[1], s[2], s[3]))
        };
        let port = self.i32()?;
        Ok(SocketAddr::new(ip, port as u16))
    }
}

/// Parses the record at the start of `buf`. `buf` may extend past the record. With `check_crc`
/// the body CRC is verified. Never panics on arbitrary input.
pub fn peek_record(buf: &[u8], check_crc: bool) -> Result<Peek<'_>, RecordError> {
    let mut c = Cursor { b: buf, pos: 0 };
    let total = c.i32()?;
    let magic = c.i32()?;
    if magic == BLANK_MAGIC {
        return Ok(Peek::Blank);
    }
    if magic != MAGIC_V1 && magic != MAGIC_V2 {
        return Err(RecordError::BadMagic(magic));
    }
    if total <= 0 || total as usize > buf.len() {
        return Err(RecordError::Truncated {
            need: total.max(0) as usize,
            have: buf.len(),
        });
    }
    let rec = &buf[..total as usize];
    let mut c = Cursor { b: rec, pos: 8 };
    let body_crc = c.i32()? as u32;
    let queue_id = c.i32()?;
    let flag_v = c.i32()?;
    let queue_offset = c.i64()?;
    let physical_offset = c.i64()?;
    let sys_flag = c.i32()?;
    let born_timestamp = c.i64()?;
    let born_host = c.host(sys_flag & flag::BORNHOST_V6 != 0)?;
    let store_timestamp = c.i64()?;
    let store_host = c.host(sys_flag & flag::STOREHOST_V6 != 0)?;
    let reconsume_times = c.i32()?;
    let prepared_transaction_offset = c.i64()?;
    let body_len = c.i32()?;
    if body_len < 0 {
        return Err(RecordError::SizeMismatch { total, computed: 0 });
    }
    let body_start = c.pos;
    let body = c.take(body_len as usize)?;
    let body_range = body_start..body_start + body.len();
    let topic_len = if magic == MAGIC_V2 {
        c.i16()? as u16 as usize
    } else {
        c.u8()? as usize
    };
    let topic = std::str::from_utf8(c.take(topic_len)?).map_err(|_| RecordError::BadUtf8)?;
    let props_len = c.i16()?;
    let props_len = if props_len < 0 { 0 } else { props_len as usize };
    let properties = std::str::from_utf8(c.take(props_len)?).map_err(|_| RecordError::BadUtf8)?;
    if c.pos != total as usize {
        return Err(RecordError::SizeMismatch {
            total,
            computed: c.pos,
        });
    }
    if check_crc {
        let computed = crc32_masked(body);
        if computed != body_crc {
            return Err(RecordError::CrcMismatch {
                stored: body_crc,
                computed,
            });
        }
    }
    Ok(Peek::Record(RecordView {
        bytes: rec,
        total_size: total,
        magic,
        body_crc,
        queue_id,
        flag: flag_v,
        queue_offset,
        physical_offset,
        sys_flag,
        born_timestamp,
        born_host,
        store_timestamp,
        store_host,
        reconsume_times,
        prepared_transaction_offset,
        body_range,
        topic,
        properties,
    }))
}

impl RecordView<'_> {
    /// An owned message whose body is a slice of `owner`, which must contain `self.bytes`
    /// starting at `offset_in_owner`.
    pub fn to_message_ext_in(&self, owner: &Bytes, offset_in_owner: usize) -> MessageExt {
        let body = owner
            .slice(offset_in_owner + self.body_range.start..offset_in_owner + self.body_range.end);
        self.build(body)
    }

    /// An owned message with a copied body.
    pub fn to_message_ext(&self) -> MessageExt {
        self.build(Bytes::copy_from_slice(self.body()))
    }

    fn build(&self, body: Bytes) -> MessageExt {
        MessageExt {
            message: Message {
                topic: self.topic.to_owned(),
                flag: self.flag,
                properties: decode_properties(self.properties),
                body,
            },
            queue_id: self.queue_id,
            store_size: self.total_size,
            queue_offset: self.queue_offset,
            sys_flag: self.sys_flag,
            born_timestamp: self.born_timestamp,
            born_host: self.born_host,
            store_timestamp: self.store_timestamp,
            store_host: self.store_host,
            commit_log_offset: self.physical_offset,
            body_crc: self.body_crc,
            reconsume_times: self.reconsume_times,
            prepared_transaction_offset: self.prepared_transaction_offset,
        }
    }
}

/// Decodes every record in a concatenation (a pull or query response body). Bodies share `buf`.
/// Stops with an error at the first malformed record.
pub fn decode_messages(buf: &Bytes) -> Result<Vec<MessageExt>, RecordError> {
    let mut out = Vec::new();
    let mut pos = 0;
    while pos < buf.len() {
        match peek_record(&buf[pos..], false)? {
            Peek::Record(v) => {
                out.push(v.to_message_ext_in(buf, pos));
                pos += v.total_size as usize;
            }
            Peek::Blank => break,
        }
    }
    Ok(out)
}

/// Encodes a message as a full record (used by brokers for CHECK_TRANSACTION_STATE bodies and by
/// tests); offsets come from the message.
pub fn encode_message_ext(m: &MessageExt) -> Result<BytesMut, RecordError> {
    let props = crate::message::encode_properties(&m.message.properties);
    let mut out = BytesMut::new();
    encode_record(
        &RecordFields {
            topic: &m.message.topic,
            queue_id: m.queue_id,
            flag: m.message.flag,
            queue_offset: m.queue_offset,
            physical_offset: m.commit_log_offset,
            sys_flag: m.sys_flag,
            born_timestamp: m.born_timestamp,
            born_host: m.born_host,
            store_timestamp: m.store_timestamp,
            store_host: m.store_host,
            reconsume_times: m.reconsume_times,
            prepared_transaction_offset: m.prepared_transaction_offset,
            body: &m.message.body,
            properties: &props,
        },
        &mut out,
    )?;
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn fields<'a>(topic: &'a str, body: &'a [u8], props: &'a str, v6: bool) -> RecordFields<'a> {
        let born: SocketAddr = if v6 {
            "[::1]:5555".parse().unwrap()
        } else {
            "10.0.0.1:5555".parse().unwrap()
        };
        RecordFields {
            topic,
            queue_id: 3,
            flag: 7,
            queue_offset: 42,
            physical_offset: 1 << 33,
            sys_flag: 0,
            born_timestamp: 1_700_000_000_000,
            born_host: born,
            store_timestamp: 1_700_000_000_123,
            store_host: "192.168.1.2:10911".parse().unwrap(),
            reconsume_times: 2,
            prepared_transaction_offset: 0,
            body,
            properties: props,
        }
    }

    #[test]
    fn ipv4_length_formula() {
        let mut out = BytesMut::new();
        let n = encode_record(&fields("T", b"hello", "A\u{1}b\u{2}", false), &mut out).unwrap();
        assert_eq!(n, 91 + 5 + 1 + 4);
        assert_eq!(out.len(), n);
        assert_eq!(&out[4..8], &[0xDA, 0xA3, 0x20, 0xA7]);
    }

    #[test]
    fn patch_moves_offsets_and_time() {
        let mut out = BytesMut::new();
        encode_record(&fields("T", b"x", "", true), &mut out).unwrap();
        patch_record(&mut out, 9, 1000, 77);
        match peek_record(&out, true).unwrap() {
            Peek::Record(v) => {
                assert_eq!(v.queue_offset, 9);
                assert_eq!(v.physical_offset, 1000);
                assert_eq!(v.store_timestamp, 77);
                assert_eq!(v.sys_flag & flag::BORNHOST_V6, flag::BORNHOST_V6);
            }
            Peek::Blank => panic!("expected a record"),
        }
    }

    #[test]
    fn crc_mismatch_is_detected() {
        let mut out = BytesMut::new();
        encode_record(&fields("T", b"hello", "", false), &mut out).unwrap();
        let body_at = 84 + 4;
        out[body_at] ^= 1;
        assert!(matches!(
            peek_record(&out, true),
            Err(RecordError::CrcMismatch { .. })
        ));
        assert!(peek_record(&out, false).is_ok());
    }

    #[test]
    fn blank_is_recognised() {
        let mut b = [0u8; 8];
        encode_blank(100, &mut b);
        assert!(matches!(peek_record(&b, true), Ok(Peek::Blank)));
    }

    proptest! {
        #[test]
        fn round_trip(topic in "[a-zA-Z0-9_%-]{1,200}", body in proptest::collection::vec(any::<u8>(), 0..512),
                      map in proptest::collection::btree_map("[A-Z_]{1,8}", "[ -~]{1,12}", 0..4),
                      v6 in any::<bool>()) {
            let props = crate::message::encode_properties(&map);
            let f = fields(&topic, &body, &props, v6);
            let mut out = BytesMut::new();
            let n = encode_record(&f, &mut out).unwrap();
            prop_assert_eq!(n, out.len());
            let frozen = out.freeze();
            let msgs = decode_messages(&frozen).unwrap();
            prop_assert_eq!(msgs.len(), 1);
            let m = &msgs[0];
            prop_assert_eq!(&m.message.topic, &topic);
            prop_assert_eq!(&m.message.body[..], &body[..]);
            prop_assert_eq!(m.born_host, f.born_host);
            prop_assert_eq!(m.queue_offset, 42);
            prop_assert_eq!(m.reconsume_times, 2);
            let again = encode_message_ext(m).unwrap();
            prop_assert_eq!(&again[..], &frozen[..]);
        }

        #[test]
        fn never_panics(data in proptest::collection::vec(any::<u8>(), 0..300)) {
            let _ = peek_record(&data, true);
        }
    }
}
