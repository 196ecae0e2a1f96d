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

/// Inflates a zlib stream; `None` if it is not one.
pub fn zlib_decompress(data: &[u8]) -> Option<Vec<u8>> {
    let mut out = Vec::with_capacity(data.len() * 4);
    ZlibDecoder::new(data).read_to_end(&mut out).ok()?;
    Some(out)
}

/// Inflates a consumed message's body in place if it is zlib-compressed (type ZLIB, or 0 for old
/// producers), clearing the COMPRESSED bit. Leaves anything it cannot inflate untouched.
pub fn decompress_message(m: &mut MessageExt) {
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
    match zlib_decompress(&m.message.body) {
        Some(body) => {
            m.message.body = Bytes::from(body);
            m.sys_flag &= !msg_flag::COMPRESSED;
        }
        None => tracing::warn!(
            offset = m.queue_offset,
            "compressed body does not inflate; left as is"
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
        assert_eq!(zlib_decompress(&z).unwrap(), body);
        assert!(zlib_decompress(b"not zlib").is_none());
    }
}
