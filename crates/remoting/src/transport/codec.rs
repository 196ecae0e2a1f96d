//! [`RemotingCodec`]: frames to commands and back, with a frame size limit.

use bytes::{Buf, BytesMut};
use tokio_util::codec::{Decoder, Encoder};

use crate::protocol::{DecodeError, RemotingCommand};

/// Apache's default `com.rocketmq.remoting.frameMaxLength`: 16 MiB.
pub const DEFAULT_MAX_FRAME_LEN: usize = 16 * 1024 * 1024;

/// Why a stream of frames could not be read or written. Any of these closes the connection.
#[derive(Debug, thiserror::Error)]
pub enum CodecError {
    #[error("frame of {len} bytes exceeds the {max}-byte limit")]
    FrameTooLarge { len: usize, max: usize },
    #[error("frame length {0} is smaller than the 4-byte header length word")]
    FrameTooSmall(usize),
    #[error(transparent)]
    Decode(#[from] DecodeError),
    #[error(transparent)]
    Io(#[from] std::io::Error),
}

/// Length-prefixed RocketMQ frames. The limit counts the whole frame, length word included.
#[derive(Debug, Clone, Copy)]
pub struct RemotingCodec {
    max_frame_len: usize,
}

impl Default for RemotingCodec {
    fn default() -> Self {
        RemotingCodec::new(DEFAULT_MAX_FRAME_LEN)
    }
}

impl RemotingCodec {
    pub fn new(max_frame_len: usize) -> Self {
        RemotingCodec { max_frame_len }
    }
}

impl Decoder for RemotingCodec {
    type Item = RemotingCommand;
    type Error = CodecError;

    fn decode(&mut self, src: &mut BytesMut) -> Result<Option<RemotingCommand>, CodecError> {
        if src.len() < 4 {
            return Ok(None);
        }
        let len = u32::from_be_bytes([src[0], src[1], src[2], src[3]]) as usize;
        let frame_len = len.saturating_add(4);
        if frame_len > self.max_frame_len {
            return Err(CodecError::FrameTooLarge {
                len: frame_len,
                max: self.max_frame_len,
            });
        }
        if len < 4 {
            return Err(CodecError::FrameTooSmall(len));
        }
        if src.len() < frame_len {
            src.reserve(frame_len - src.len());
            return Ok(None);
        }
        src.advance(4);
        let frame = src.split_to(len).freeze();
        Ok(Some(RemotingCommand::decode(frame)?))
    }
}

impl Encoder<RemotingCommand> for RemotingCodec {
    type Error = CodecError;

    fn encode(&mut self, cmd: RemotingCommand, dst: &mut BytesMut) -> Result<(), CodecError> {
        cmd.encode(dst);
        Ok(())
    }
}

impl Encoder<&RemotingCommand> for RemotingCodec {
    type Error = CodecError;

    fn encode(&mut self, cmd: &RemotingCommand, dst: &mut BytesMut) -> Result<(), CodecError> {
        cmd.encode(dst);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn splits_frames_and_enforces_limits() {
        let mut codec = RemotingCodec::new(1024);
        let mut buf = BytesMut::new();
        let a = RemotingCommand::new_request(10).with_opaque(1);
        let b = RemotingCommand::new_request(11)
            .with_opaque(2)
            .with_body(vec![7u8; 100]);
        codec.encode(a.clone(), &mut buf).unwrap();
        codec.encode(&b, &mut buf).unwrap();
        let whole = buf.clone();
        // Byte by byte: no item until a frame is complete.
        let mut partial = BytesMut::new();
        let mut got = Vec::new();
        for byte in whole.iter() {
            partial.extend_from_slice(&[*byte]);
            if let Some(cmd) = codec.decode(&mut partial).unwrap() {
                got.push(cmd);
            }
        }
        assert_eq!(got, vec![a, b]);

        let mut big = BytesMut::from(&[0u8, 0, 4, 0][..]);
        assert!(matches!(
            codec.decode(&mut big),
            Err(CodecError::FrameTooLarge {
                len: 1028,
                max: 1024
            })
        ));
        let mut tiny = BytesMut::from(&[0u8, 0, 0, 2, 0, 0][..]);
        assert!(matches!(
            codec.decode(&mut tiny),
            Err(CodecError::FrameTooSmall(2))
        ));
        let mut garbage = BytesMut::from(&[0u8, 0, 0, 6, 0, 0, 0, 2, b'{', b'x'][..]);
        assert!(matches!(
            codec.decode(&mut garbage),
            Err(CodecError::Decode(_))
        ));
    }
}
