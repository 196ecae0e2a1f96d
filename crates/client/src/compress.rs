//! Body compression (protocol.md 3.3): producers zlib-compress bodies of at least
//! `compressMsgBodyOverHowmuch` (4096) bytes at level 5 and set `COMPRESSED | ZLIB` (0x301);
//! consumers inflate bodies with the COMPRESSED bit and clear it, as Java's `MessageDecoder`.
//! Only zlib is supported; an LZ4/ZSTD body is handed over as stored, with the bit left set.

use std::io::{Read, Write};

use bytes::Bytes;
use flate2::read::ZlibDecoder;
use flate2::write::ZlibEncoder;
use flate2::Compression;
use rmq_common::sysflag::message as msg_flag;
use rmq_common::MessageExt;

/// Java's default compression level.
pub const ZLIB_LEVEL: u32 = 5;

/// zlib stream (RFC 1950) of `body`.
pub fn zlib_compress(body: &[u8]) -> Vec<u8> {
    let mut enc = ZlibEncoder::new(
        Vec::with_capacity(body.len() / 2),
        Compression::new(ZLIB_LEVEL),
    );
    // Writing into a Vec cannot fail.
    let _ = enc.write_all(body);
    enc.finish().unwrap_or_default()
}

/// Why a body was not inflated.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum InflateError {
    /// Not a zlib stream.
    Corrupt,
    /// It inflates beyond the limit (a zip bomb, or a limit set too low).
    TooLarge,
}

/// Inflates a zlib stream of at most `limit` bytes inflated.
pub fn zlib_decompress(data: &[u8], limit: usize) -> Result<Vec<u8>, InflateError> {
    let mut out = Vec::with_capacity(data.len().saturating_mul(4).min(limit));
    let cap = u64::try_from(limit).unwrap_or(u64::MAX).saturating_add(1);
    ZlibDecoder::new(data)
        .take(cap)
        .read_to_end(&mut out)
        .map_err(|_| InflateError::Corrupt)?;
    match out.len() > limit {
        true => Err(InflateError::TooLarge),
        false => Ok(out),
    }
}

/// Inflates a consumed message's body in place if it is zlib-compressed (type ZLIB, or 0 for old
/// producers), clearing the COMPRESSED bit. Leaves anything it cannot inflate, or that would
/// inflate beyond `limit` bytes, untouched.
pub fn decompress_message(m: &mut MessageExt, limit: usize) {
    if m.sys_flag & msg_flag::COMPRESSED == 0 {
        return;
    }
    let ty = m.sys_flag & msg_flag::COMPRESSION_TYPE_MASK;
    if ty != 0 && ty != msg_flag::COMPRESSION_ZLIB {
        tracing::warn!(
            sys_flag = m.sys_flag,
            "unsupported body compression type; body left compressed"
        );
        return;
    }
    match zlib_decompress(&m.message.body, limit) {
        Ok(body) => {
            m.message.body = Bytes::from(body);
            m.sys_flag &= !msg_flag::COMPRESSED;
        }
        Err(InflateError::Corrupt) => tracing::warn!(
            offset = m.queue_offset,
            "compressed body does not inflate; left as is"
        ),
        Err(InflateError::TooLarge) => tracing::warn!(
            topic = %m.message.topic,
            offset = m.queue_offset,
            limit,
            "compressed body inflates beyond max_inflated_body; left compressed (raise the \
             client's max_inflated_body if the broker's maxMessageSize is larger)"
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_and_java_header() {
        let body = vec![b'x'; 10_000];
        let z = zlib_compress(&body);
        assert!(z.len() < 200);
        // zlib header for level 5 (Java Deflater default-ish levels use 0x78 0x5E / 0x78 0x9C).
        assert_eq!(z[0], 0x78);
        assert_eq!(zlib_decompress(&z, 10_000).unwrap(), body);
        assert_eq!(
            zlib_decompress(b"not zlib", 10_000),
            Err(InflateError::Corrupt)
        );
    }

    #[test]
    fn a_bomb_stops_at_the_limit() {
        // 64 MiB of zeros compress to about 64 KiB.
        let bomb = zlib_compress(&vec![0u8; 64 * 1024 * 1024]);
        assert!(bomb.len() < 100 * 1024);
        assert_eq!(
            zlib_decompress(&bomb, 4 * 1024 * 1024),
            Err(InflateError::TooLarge)
        );
        let any: std::net::SocketAddr = "127.0.0.1:1".parse().unwrap();
        let mut m = MessageExt {
            message: rmq_common::Message::new("T", bomb.clone()),
            queue_id: 0,
            store_size: 0,
            queue_offset: 0,
            sys_flag: msg_flag::COMPRESSED | msg_flag::COMPRESSION_ZLIB,
            born_timestamp: 0,
            born_host: any,
            store_timestamp: 0,
            store_host: any,
            commit_log_offset: 0,
            body_crc: 0,
            reconsume_times: 0,
            prepared_transaction_offset: 0,
        };
        decompress_message(&mut m, 4 * 1024 * 1024);
        assert_eq!(m.message.body.len(), bomb.len(), "left compressed");
        assert_ne!(m.sys_flag & msg_flag::COMPRESSED, 0);
    }
}
