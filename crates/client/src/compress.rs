//! Body compression in the client (protocol.md 3.3): producers compress bodies of at least
//! `compressMsgBodyOverHowmuch` (4096) bytes and set `COMPRESSED` with the type bits of
//! [`Compression`] (zlib at Java's level 5 by default: 0x301); consumers decompress bodies with
//! the COMPRESSED bit and clear it, as Java's `MessageDecoder`. The codecs are
//! `rmq_common::compress`.

use bytes::Bytes;
#[cfg(test)]
pub use rmq_common::compress::{zlib_compress, zlib_decompress};
pub use rmq_common::compress::{Compression, InflateError};
use rmq_common::sysflag::message as msg_flag;
use rmq_common::MessageExt;

/// Decompresses a consumed message's body in place if it is compressed (zlib, LZ4 or zstd),
/// clearing the COMPRESSED bit. Leaves anything it cannot decompress, or that would grow beyond
/// `limit` bytes, untouched.
pub fn decompress_message(m: &mut MessageExt, limit: usize) {
    if m.sys_flag & msg_flag::COMPRESSED == 0 {
        return;
    }
    let Some(ty) = Compression::from_sys_flag(m.sys_flag) else {
        tracing::warn!(
            sys_flag = m.sys_flag,
            "unknown body compression type; body left compressed"
        );
        return;
    };
    match ty.decompress(&m.message.body, limit) {
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

    /// `rocketmq body ` 40 times, as the reference `lz4` and `zstd` tools frame it (the formats
    /// lz4-java's `LZ4FrameOutputStream` and zstd-jni's `ZstdOutputStream` write).
    const GOLDEN_LZ4: [u8; 45] = [
        0x04, 0x22, 0x4d, 0x18, 0x64, 0x40, 0xa7, 0x1a, 0x00, 0x00, 0x00, 0xef, 0x72, 0x6f, 0x63,
        0x6b, 0x65, 0x74, 0x6d, 0x71, 0x20, 0x62, 0x6f, 0x64, 0x79, 0x20, 0x0e, 0x00, 0xff, 0xff,
        0x0c, 0x50, 0x62, 0x6f, 0x64, 0x79, 0x20, 0x00, 0x00, 0x00, 0x00, 0xff, 0x71, 0x94, 0x7a,
    ];
    const GOLDEN_ZSTD: [u8; 35] = [
        0x28, 0xb5, 0x2f, 0xfd, 0x64, 0x30, 0x01, 0xad, 0x00, 0x00, 0x70, 0x72, 0x6f, 0x63, 0x6b,
        0x65, 0x74, 0x6d, 0x71, 0x20, 0x62, 0x6f, 0x64, 0x79, 0x20, 0x01, 0x00, 0x1f, 0xa2, 0x9a,
        0x4a, 0x69, 0x72, 0x9b, 0xd7,
    ];

    #[test]
    fn lz4_and_zstd_read_reference_frames_and_round_trip() {
        let text = "rocketmq body ".repeat(40).into_bytes();
        assert_eq!(
            Compression::Lz4.decompress(&GOLDEN_LZ4, 1 << 20).unwrap(),
            text
        );
        assert_eq!(
            Compression::Zstd.decompress(&GOLDEN_ZSTD, 1 << 20).unwrap(),
            text
        );
        let body: Vec<u8> = (0..20_000u32)
            .flat_map(|i| (i % 251).to_le_bytes())
            .collect();
        for c in [Compression::Zlib, Compression::Lz4, Compression::Zstd] {
            let packed = c.compress(&body);
            assert!(packed.len() < body.len(), "{c:?} did not compress");
            assert_eq!(c.decompress(&packed, body.len()).unwrap(), body, "{c:?}");
            assert_eq!(
                c.decompress(&packed, body.len() - 1),
                Err(InflateError::TooLarge),
                "{c:?} ignored the limit"
            );
            assert_eq!(
                c.decompress(b"not compressed at all", 1 << 20),
                Err(InflateError::Corrupt),
                "{c:?}"
            );
            assert_eq!(Compression::from_sys_flag(c.sys_flag() | 1), Some(c));
        }
        assert_eq!(Compression::from_sys_flag(1), Some(Compression::Zlib));
        assert_eq!(Compression::from_sys_flag(0x401), None);
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
