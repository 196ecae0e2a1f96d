//! The ROCKETMQ binary header (serialize type 1), `RocketMQSerializable.java`'s layout:
//! `code:i16 language:u8 version:i16 opaque:i32 flag:i32 remark:(i32 len, utf8)
//! extFields:(i32 total, { key:(i16 len, utf8) value:(i32 len, utf8) }*)`, all big-endian.
//!
//! Every length is checked against the bytes that remain, so a hostile header yields a
//! [`DecodeError::Binary`], never a panic or an oversized allocation. Invalid UTF-8 is replaced the
//! way Java's `new String(bytes, UTF_8)` does.

use bytes::{BufMut, BytesMut};

use super::ext_fields::intern;
use super::{DecodeError, ExtFields, LanguageCode, RemotingCommand, SerializeType};

pub(super) fn encode(cmd: &RemotingCommand, dst: &mut BytesMut) {
    // Callers only pick this form when code and version fit (see `effective_serialize_type`).
    dst.put_i16(cmd.code as i16);
    dst.put_u8(cmd.language.code());
    dst.put_i16(cmd.version as i16);
    dst.put_i32(cmd.opaque);
    dst.put_i32(cmd.flag);
    match &cmd.remark {
        Some(r) if !r.is_empty() => {
            dst.put_i32(r.len() as i32);
            dst.put_slice(r.as_bytes());
        }
        _ => dst.put_i32(0),
    }
    let len_at = dst.len();
    dst.put_i32(0);
    for (k, v) in cmd.ext_fields.iter() {
        if k.is_empty() || k.len() > i16::MAX as usize {
            continue;
        }
        dst.put_i16(k.len() as i16);
        dst.put_slice(k.as_bytes());
        dst.put_i32(v.len() as i32);
        dst.put_slice(v.as_bytes());
    }
    let ext_len = (dst.len() - len_at - 4) as i32;
    dst[len_at..len_at + 4].copy_from_slice(&ext_len.to_be_bytes());
}

pub(super) fn decode(header: &[u8]) -> Result<RemotingCommand, DecodeError> {
    let mut r = Reader(header);
    let code = r.i16()? as i32;
    let language = LanguageCode::from(r.u8()?);
    let version = r.i16()? as i32;
    let opaque = r.i32()?;
    let flag = r.i32()?;
    let remark_len = r.len_i32("remark length")?;
    let remark = match remark_len {
        0 => None,
        n => Some(String::from_utf8_lossy(r.take(n, "remark")?).into_owned()),
    };
    let ext_len = r.len_i32("extFields length")?;
    let mut ext = Reader(r.take(ext_len, "extFields")?);
    let mut pairs = Vec::new();
    while !ext.0.is_empty() {
        let key_len = ext.i16()?;
        let key_len =
            usize::try_from(key_len).map_err(|_| DecodeError::Binary("negative key length"))?;
        let key = ext.take(key_len, "extFields key")?;
        let value_len = ext.len_i32("extFields value length")?;
        let value = ext.take(value_len, "extFields value")?;
        pairs.push((
            intern(&String::from_utf8_lossy(key)),
            String::from_utf8_lossy(value).into_owned(),
        ));
    }
    let ext_fields = ExtFields::from_pairs(pairs);
    Ok(RemotingCommand {
        code,
        language,
        version,
        opaque,
        flag,
        remark,
        ext_fields,
        body: bytes::Bytes::new(),
        serialize_type: SerializeType::RocketMq,
    })
}

struct Reader<'a>(&'a [u8]);

impl<'a> Reader<'a> {
    fn take(&mut self, n: usize, what: &'static str) -> Result<&'a [u8], DecodeError> {
        if n > self.0.len() {
            return Err(DecodeError::Binary(what));
        }
        let (head, tail) = self.0.split_at(n);
        self.0 = tail;
        Ok(head)
    }

    fn array<const N: usize>(&mut self, what: &'static str) -> Result<[u8; N], DecodeError> {
        let bytes = self.take(N, what)?;
        let mut out = [0u8; N];
        out.copy_from_slice(bytes);
        Ok(out)
    }

    fn u8(&mut self) -> Result<u8, DecodeError> {
        Ok(self.array::<1>("truncated header")?[0])
    }

    fn i16(&mut self) -> Result<i16, DecodeError> {
        Ok(i16::from_be_bytes(self.array("truncated header")?))
    }

    fn i32(&mut self) -> Result<i32, DecodeError> {
        Ok(i32::from_be_bytes(self.array("truncated header")?))
    }

    fn len_i32(&mut self, what: &'static str) -> Result<usize, DecodeError> {
        usize::try_from(self.i32()?).map_err(|_| DecodeError::Binary(what))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_and_truncation() {
        let cmd = RemotingCommand {
            code: 310,
            opaque: 42,
            remark: Some("héllo".into()),
            ext_fields: [("a", "g1"), ("b", "T")].into_iter().collect(),
            serialize_type: SerializeType::RocketMq,
            ..Default::default()
        };
        let mut out = BytesMut::new();
        encode(&cmd, &mut out);
        assert_eq!(decode(&out).unwrap(), cmd);
        for cut in 0..out.len() {
            assert!(decode(&out[..cut]).is_err(), "cut at {cut}");
        }
    }
}
