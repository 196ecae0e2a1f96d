//! The SEND_BATCH_MESSAGE body (protocol.md 3.8): per message `totalSize i32, magic i32 (0),
//! bodyCRC i32 (0), flag i32, bodyLen i32 + body, propsLen i16 + properties`, concatenated.

use bytes::{BufMut, Bytes, BytesMut};

/// One message of a batch as it travels in the request body.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BatchEntry {
    pub flag: i32,
    pub body: Bytes,
    /// The encoded properties string (0x01/0x02 separators).
    pub properties: String,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum BatchError {
    #[error("batch entry {index} is truncated at byte {at}")]
    Truncated { index: usize, at: usize },
    #[error("batch entry {index} declares size {declared} but holds {actual} bytes")]
    SizeMismatch {
        index: usize,
        declared: i32,
        actual: usize,
    },
    #[error("batch entry {index} has properties that are not UTF-8")]
    BadProperties { index: usize },
    #[error("batch entry {index} is too large to encode")]
    TooLarge { index: usize },
}

/// Encodes entries into a batch body.
pub fn encode_batch(entries: &[BatchEntry]) -> Result<Bytes, BatchError> {
    let mut out = BytesMut::with_capacity(
        entries
            .iter()
            .map(|e| 22 + e.body.len() + e.properties.len())
            .sum(),
    );
    for (index, e) in entries.iter().enumerate() {
        if e.properties.len() > i16::MAX as usize || e.body.len() > i32::MAX as usize - 64 {
            return Err(BatchError::TooLarge { index });
        }
        let total = 4 + 4 + 4 + 4 + 4 + e.body.len() + 2 + e.properties.len();
        out.put_i32(total as i32);
        out.put_i32(0);
        out.put_i32(0);
        out.put_i32(e.flag);
        out.put_i32(e.body.len() as i32);
        out.put_slice(&e.body);
        out.put_i16(e.properties.len() as i16);
        out.put_slice(e.properties.as_bytes());
    }
    Ok(out.freeze())
}

/// Decodes a batch body; bodies share `buf`. Never panics on arbitrary input.
pub fn decode_batch(buf: &Bytes) -> Result<Vec<BatchEntry>, BatchError> {
    let mut entries = Vec::new();
    let mut pos = 0usize;
    let read_i32 = |at: usize, index: usize| -> Result<i32, BatchError> {
        buf.get(at..at + 4)
            .map(|s| i32::from_be_bytes([s[0], s[1], s[2], s[3]]))
            .ok_or(BatchError::Truncated { index, at })
    };
    while pos < buf.len() {
        let index = entries.len();
        let start = pos;
        let total = read_i32(pos, index)?;
        let flag = read_i32(pos + 12, index)?;
        let body_len = read_i32(pos + 16, index)?;
        if body_len < 0 {
            return Err(BatchError::Truncated {
                index,
                at: pos + 16,
            });
        }
        let body_start = pos + 20;
        let body_end = body_start
            .checked_add(body_len as usize)
            .filter(|e| *e + 2 <= buf.len())
            .ok_or(BatchError::Truncated {
                index,
                at: body_start,
            })?;
        let props_len = i16::from_be_bytes([buf[body_end], buf[body_end + 1]]);
        let props_start = body_end + 2;
        let props_end = props_start
            .checked_add(props_len.max(0) as usize)
            .filter(|e| *e <= buf.len())
            .ok_or(BatchError::Truncated {
                index,
                at: props_start,
            })?;
        let properties = std::str::from_utf8(&buf[props_start..props_end])
            .map_err(|_| BatchError::BadProperties { index })?
            .to_owned();
        if total < 0 || total as usize != props_end - start {
            return Err(BatchError::SizeMismatch {
                index,
                declared: total,
                actual: props_end - start,
            });
        }
        entries.push(BatchEntry {
            flag,
            body: buf.slice(body_start..body_end),
            properties,
        });
        pos = props_end;
    }
    Ok(entries)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn golden_layout() {
        let e = BatchEntry {
            flag: 7,
            body: Bytes::from_static(b"ab"),
            properties: "K\u{1}V\u{2}".into(),
        };
        let b = encode_batch(std::slice::from_ref(&e)).unwrap();
        assert_eq!(
            &b[..],
            &[
                0, 0, 0, 28, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 7, 0, 0, 0, 2, b'a', b'b', 0, 4,
                b'K', 1, b'V', 2
            ]
        );
        assert_eq!(decode_batch(&b).unwrap(), vec![e]);
    }

    proptest! {
        #[test]
        fn round_trip(items in proptest::collection::vec((any::<i32>(), proptest::collection::vec(any::<u8>(), 0..64), "[a-z]{0,10}"), 0..8)) {
            let entries: Vec<BatchEntry> = items.into_iter().map(|(flag, body, p)| BatchEntry { flag, body: Bytes::from(body), properties: p }).collect();
            let b = encode_batch(&entries).unwrap();
            prop_assert_eq!(decode_batch(&b).unwrap(), entries);
        }

        #[test]
        fn never_panics(data in proptest::collection::vec(any::<u8>(), 0..200)) {
            let _ = decode_batch(&Bytes::from(data));
        }
    }
}
