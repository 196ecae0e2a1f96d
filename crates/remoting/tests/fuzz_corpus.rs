//! Replays a few hand-made frames (`tests/frame_corpus`) through the codec fed in chunks, as the
//! `remoting_frame` fuzz target in `fuzz/` feeds it, so that path runs in `cargo test` without
//! nightly.
#![allow(clippy::unwrap_used)]

use bytes::BytesMut;
use rmq_remoting::transport::RemotingCodec;
use rmq_remoting::RemotingCommand;
use tokio_util::codec::Decoder;

/// Returns how many commands decoded.
fn run(data: &[u8]) -> usize {
    let Some((&split, data)) = data.split_first() else {
        return 0;
    };
    let chunk = usize::from(split).max(1);
    let mut codec = RemotingCodec::new(64 * 1024);
    let mut buf = BytesMut::new();
    let mut decoded = 0;
    for piece in data.chunks(chunk) {
        buf.extend_from_slice(piece);
        loop {
            match codec.decode(&mut buf) {
                Ok(Some(cmd)) => {
                    decoded += 1;
                    assert!(RemotingCommand::decode_with_prefix(cmd.to_bytes()).is_ok());
                }
                Ok(None) => break,
                Err(_) => return decoded,
            }
        }
    }
    decoded
}

#[test]
fn seed_corpus_decodes() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/frame_corpus");
    let mut total = 0;
    let mut files = 0;
    for entry in std::fs::read_dir(dir).unwrap() {
        let data = std::fs::read(entry.unwrap().path()).unwrap();
        total += run(&data);
        files += 1;
    }
    assert!(files >= 4);
    assert_eq!(
        total, 4,
        "json_send_v2, rocketmq_route and two_frames hold 4 frames"
    );
}
