//! Message body codecs (Java's `CompressorFactory`): a zlib stream (`Deflater`, level 5), an LZ4
//! frame (lz4-java's `LZ4FrameOutputStream`) and a zstd frame (zstd-jni's `ZstdOutputStream`),
//! named by the compression type bits of sysFlag. Decompression stops at a size limit, so no
//! producer can exhaust a reader's memory. Shared by the client (compress on send, decompress on
//! consume) and the broker (bodies handed to gRPC clients in a form they read).

use std::io::{Read, Write};

use crate::sysflag::message as msg_flag;
use flate2::read::ZlibDecoder;
use flate2::write::ZlibEncoder;

/// Java's default compression level.
pub const ZLIB_LEVEL: u32 = 5;

/// How a producer compresses large bodies (Java 5.x's `CompressionType`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Compression {
    /// zlib at level 5: what every RocketMQ client can read (4.x clients read only this).
    #[default]
    Zlib,
    /// An LZ4 frame: the fastest; consumers need a 5.x client or rmq.
    Lz4,
    /// A zstd frame (about zstd level 1): smaller than zlib, faster; 5.x clients or rmq.
    Zstd,
}

impl Compression {
    /// The type bits stored in sysFlag.
    pub fn sys_flag(self) -> i32 {
        match self {
            Compression::Zlib => msg_flag::COMPRESSION_ZLIB,
            Compression::Lz4 => msg_flag::COMPRESSION_LZ4,
            Compression::Zstd => msg_flag::COMPRESSION_ZSTD,
        }
    }

    /// The type a stored sysFlag names; `None` for bits no RocketMQ version defines.
    pub fn from_sys_flag(sys_flag: i32) -> Option<Compression> {
        match sys_flag & msg_flag::COMPRESSION_TYPE_MASK {
            0 | msg_flag::COMPRESSION_ZLIB => Some(Compression::Zlib),
            msg_flag::COMPRESSION_LZ4 => Some(Compression::Lz4),
            msg_flag::COMPRESSION_ZSTD => Some(Compression::Zstd),
            _ => None,
        }
    }

    /// `body` compressed.
    pub fn compress(self, body: &[u8]) -> Vec<u8> {
        match self {
            Compression::Zlib => zlib_compress(body),
            Compression::Lz4 => {
                let mut enc =
                    lz4_flex::frame::FrameEncoder::new(Vec::with_capacity(body.len() / 2));
                // Writing into a Vec cannot fail.
                let _ = enc.write_all(body);
                enc.finish().unwrap_or_default()
            }
            Compression::Zstd => {
                ruzstd::encoding::compress_to_vec(body, ruzstd::encoding::CompressionLevel::Fastest)
            }
        }
    }

    /// Decompresses `data` to at most `limit` bytes.
    pub fn decompress(self, data: &[u8], limit: usize) -> Result<Vec<u8>, InflateError> {
        match self {
            Compression::Zlib => read_capped(ZlibDecoder::new(data), data.len(), limit),
            Compression::Lz4 => {
                read_capped(lz4_flex::frame::FrameDecoder::new(data), data.len(), limit)
            }
            Compression::Zstd => {
                let dec = ruzstd::decoding::StreamingDecoder::new(data)
                    .map_err(|_| InflateError::Corrupt)?;
                read_capped(dec, data.len(), limit)
            }
        }
    }
}

/// zlib stream (RFC 1950) of `body`.
pub fn zlib_compress(body: &[u8]) -> Vec<u8> {
    let mut enc = ZlibEncoder::new(
        Vec::with_capacity(body.len() / 2),
        flate2::Compression::new(ZLIB_LEVEL),
    );
    // Writing into a Vec cannot fail.
    let _ = enc.write_all(body);
    enc.finish().unwrap_or_default()
}

/// Why a body was not inflated.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum InflateError {
    /// Not a stream of its type.
    Corrupt,
    /// It inflates beyond the limit (a zip bomb, or a limit set too low).
    TooLarge,
}

/// Inflates a zlib stream of at most `limit` bytes inflated.
pub fn zlib_decompress(data: &[u8], limit: usize) -> Result<Vec<u8>, InflateError> {
    Compression::Zlib.decompress(data, limit)
}

/// Reads `dec` to its end, failing once more than `limit` bytes came out.
fn read_capped(dec: impl Read, compressed: usize, limit: usize) -> Result<Vec<u8>, InflateError> {
    let mut out = Vec::with_capacity(compressed.saturating_mul(4).min(limit));
    let cap = u64::try_from(limit).unwrap_or(u64::MAX).saturating_add(1);
    dec.take(cap)
        .read_to_end(&mut out)
        .map_err(|_| InflateError::Corrupt)?;
    match out.len() > limit {
        true => Err(InflateError::TooLarge),
        false => Ok(out),
    }
}
