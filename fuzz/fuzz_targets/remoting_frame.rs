//! Remoting frames from the network: the length-prefixed codec, both header encodings (JSON and
//! RocketMQ binary), the typed request headers the broker and name server decode, the ACL
//! signature over the ext fields, and re-encoding what was decoded.
#![no_main]

use bytes::BytesMut;
use libfuzzer_sys::fuzz_target;
use rmq_remoting::header::*;
use rmq_remoting::protocol::signature;
use rmq_remoting::RemotingCommand;
use tokio_util::codec::Decoder;

fuzz_target!(|data: &[u8]| {
    // A stream of frames, the way a connection feeds them: in two reads.
    let mut codec = rmq_remoting::transport::RemotingCodec::new(1 << 20);
    let split = data.len() / 2;
    let mut buf = BytesMut::from(&data[..split]);
    let mut fed_rest = false;
    loop {
        match codec.decode(&mut buf) {
            Ok(Some(cmd)) => check(&cmd),
            Ok(None) if !fed_rest => {
                buf.extend_from_slice(&data[split..]);
                fed_rest = true;
            }
            Ok(None) | Err(_) => break,
        }
    }
    // And the bytes as one frame without its length prefix.
    if let Ok(cmd) = RemotingCommand::decode(bytes::Bytes::copy_from_slice(data)) {
        check(&cmd);
    }
});

fn check(cmd: &RemotingCommand) {
    let _ = cmd.decode_header::<SendMessageRequestHeader>();
    let _ = cmd.decode_header::<SendMessageRequestHeaderV2>();
    let _ = cmd.decode_header::<PullMessageRequestHeader>();
    let _ = cmd.decode_header::<QueryMessageRequestHeader>();
    let _ = cmd.decode_header::<RegisterBrokerRequestHeader>();
    let _ = cmd.decode_header::<ConsumerSendMsgBackRequestHeader>();
    let _ = cmd.decode_header::<EndTransactionRequestHeader>();
    let _ = cmd.decode_header::<UpdateConsumerOffsetRequestHeader>();
    let _ = cmd.decode_header::<PopMessageRequestHeader>();
    let _ = cmd.decode_header::<AckMessageRequestHeader>();
    let _ = signature::signature(cmd, "fuzz-secret", &[]);
    let _ = signature::verify(cmd, "fuzz-secret");
    // Whatever decoded must encode again and decode to the same code and opaque.
    let again = RemotingCommand::decode_with_prefix(cmd.to_bytes())
        .expect("a decoded command re-encodes to a frame that decodes");
    assert_eq!(again.code, cmd.code);
    assert_eq!(again.opaque, cmd.opaque);
    assert_eq!(again.body, cmd.body);
}
