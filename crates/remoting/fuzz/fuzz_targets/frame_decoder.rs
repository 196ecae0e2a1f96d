//! Feeds arbitrary bytes to the frame codec in arbitrary chunks. Every outcome is fine except a
//! panic: a decoded command must also re-encode and decode to the same command.
#![no_main]

use bytes::BytesMut;
use libfuzzer_sys::fuzz_target;
use rmq_remoting::transport::RemotingCodec;
use rmq_remoting::RemotingCommand;
use tokio_util::codec::Decoder;

fuzz_target!(|data: &[u8]| {
    let Some((&split, data)) = data.split_first() else {
        return;
    };
    let chunk = usize::from(split).max(1);
    let mut codec = RemotingCodec::new(64 * 1024);
    let mut buf = BytesMut::new();
    for piece in data.chunks(chunk) {
        buf.extend_from_slice(piece);
        loop {
            match codec.decode(&mut buf) {
                Ok(Some(cmd)) => {
                    let again = RemotingCommand::decode_with_prefix(cmd.to_bytes());
                    assert!(again.is_ok(), "a decoded command must re-decode");
                }
                Ok(None) => break,
                Err(_) => return,
            }
        }
    }
});
