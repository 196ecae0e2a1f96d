//! JSON string escaping shared by the header encoder and the fastjson writer.

use bytes::BufMut;

const HEX: &[u8; 16] = b"0123456789abcdef";

/// Writes `s` as a quoted JSON string. Copies runs of plain bytes in one go; escapes `"`, `\` and
/// control characters (non-ASCII text is written as UTF-8, as fastjson does).
pub(crate) fn write_json_str<B: BufMut>(out: &mut B, s: &str) {
    out.put_u8(b'"');
    let bytes = s.as_bytes();
    let mut start = 0;
    for (i, &b) in bytes.iter().enumerate() {
        let escape: &[u8] = match b {
            b'"' => b"\\\"",
            b'\\' => b"\\\\",
            b'\n' => b"\\n",
            b'\r' => b"\\r",
            b'\t' => b"\\t",
            0x08 => b"\\b",
            0x0c => b"\\f",
            0..=0x1f => b"",
            _ => continue,
        };
        out.put_slice(&bytes[start..i]);
        if escape.is_empty() {
            out.put_slice(b"\\u00");
            out.put_u8(HEX[(b >> 4) as usize]);
            out.put_u8(HEX[(b & 0xf) as usize]);
        } else {
            out.put_slice(escape);
        }
        start = i + 1;
    }
    out.put_slice(&bytes[start..]);
    out.put_u8(b'"');
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_like_json() {
        for s in [
            "",
            "plain",
            "a\"b\\c",
            "line\nbreak\t\u{1}\u{1f}",
            "ünï©ødé",
        ] {
            let mut out = Vec::new();
            write_json_str(&mut out, s);
            let back: String = serde_json::from_slice(&out).unwrap();
            assert_eq!(back, s);
        }
    }
}
