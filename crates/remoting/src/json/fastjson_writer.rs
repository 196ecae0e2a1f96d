//! Standard types to fastjson's text shape.
//!
//! A serde_json [`Formatter`] that buffers each object key instead of writing it, then decides:
//! an integer key is written bare (`{0:"addr"}`), a key whose text is a JSON object (how
//! [`super::mq_map`] serializes a `MessageQueue` key) is written inline, anything else is quoted.

use std::io;

use serde::Serialize;
use serde_json::ser::{CharEscape, Formatter};

use crate::protocol::write_json_str;

/// Serializes `value` the way fastjson would for maps with non-string keys.
pub fn to_fastjson<T: Serialize + ?Sized>(value: &T) -> Result<Vec<u8>, serde_json::Error> {
    let mut out = Vec::with_capacity(256);
    let mut ser = serde_json::Serializer::with_formatter(&mut out, FastjsonFormatter::default());
    value.serialize(&mut ser)?;
    Ok(out)
}

#[derive(Default)]
struct FastjsonFormatter {
    in_key: bool,
    key: String,
    numeric: bool,
}

impl FastjsonFormatter {
    fn key_number(&mut self, digits: &str) {
        self.numeric = true;
        self.key.push_str(digits);
    }
}

macro_rules! int_methods {
    ($($method:ident: $t:ty),*) => {$(
        fn $method<W: ?Sized + io::Write>(&mut self, w: &mut W, value: $t) -> io::Result<()> {
            let mut buf = itoa::Buffer::new();
            let s = buf.format(value);
            if self.in_key {
                self.key_number(s);
                Ok(())
            } else {
                w.write_all(s.as_bytes())
            }
        }
    )*};
}

impl Formatter for FastjsonFormatter {
    int_methods!(write_i8: i8, write_i16: i16, write_i32: i32, write_i64: i64,
        write_u8: u8, write_u16: u16, write_u32: u32, write_u64: u64);

    fn begin_object_key<W: ?Sized + io::Write>(
        &mut self,
        w: &mut W,
        first: bool,
    ) -> io::Result<()> {
        self.in_key = true;
        self.numeric = false;
        self.key.clear();
        if first {
            Ok(())
        } else {
            w.write_all(b",")
        }
    }

    fn end_object_key<W: ?Sized + io::Write>(&mut self, w: &mut W) -> io::Result<()> {
        self.in_key = false;
        if self.numeric || is_json_object(&self.key) {
            w.write_all(self.key.as_bytes())
        } else {
            let mut quoted = Vec::with_capacity(self.key.len() + 2);
            write_json_str(&mut quoted, &self.key);
            w.write_all(&quoted)
        }
    }

    fn begin_string<W: ?Sized + io::Write>(&mut self, w: &mut W) -> io::Result<()> {
        if self.in_key {
            Ok(())
        } else {
            w.write_all(b"\"")
        }
    }

    fn end_string<W: ?Sized + io::Write>(&mut self, w: &mut W) -> io::Result<()> {
        if self.in_key {
            Ok(())
        } else {
            w.write_all(b"\"")
        }
    }

    fn write_string_fragment<W: ?Sized + io::Write>(
        &mut self,
        w: &mut W,
        fragment: &str,
    ) -> io::Result<()> {
        if self.in_key {
            self.key.push_str(fragment);
            Ok(())
        } else {
            w.write_all(fragment.as_bytes())
        }
    }

    fn write_char_escape<W: ?Sized + io::Write>(
        &mut self,
        w: &mut W,
        escape: CharEscape,
    ) -> io::Result<()> {
        if self.in_key {
            self.key.push(match escape {
                CharEscape::Quote => '"',
                CharEscape::ReverseSolidus => '\\',
                CharEscape::Solidus => '/',
                CharEscape::Backspace => '\u{8}',
                CharEscape::FormFeed => '\u{c}',
                CharEscape::LineFeed => '\n',
                CharEscape::CarriageReturn => '\r',
                CharEscape::Tab => '\t',
                CharEscape::AsciiControl(b) => char::from(b),
            });
            Ok(())
        } else {
            serde_json::ser::CompactFormatter.write_char_escape(w, escape)
        }
    }
}

fn is_json_object(s: &str) -> bool {
    s.starts_with('{')
        && s.ends_with('}')
        && serde_json::from_str::<serde::de::IgnoredAny>(s).is_ok()
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeMap;

    #[test]
    fn integer_keys_are_bare_and_strings_quoted() {
        let mut m: BTreeMap<i64, String> = BTreeMap::new();
        m.insert(0, "a:1".into());
        m.insert(1, "b\"2".into());
        let mut outer = BTreeMap::new();
        outer.insert("brokerAddrs", m);
        let s = String::from_utf8(to_fastjson(&outer).unwrap()).unwrap();
        assert_eq!(s, r#"{"brokerAddrs":{0:"a:1",1:"b\"2"}}"#);
        let back = super::super::normalize(s.as_bytes()).unwrap();
        assert_eq!(back, serde_json::to_vec(&outer).unwrap());
    }

    #[test]
    fn escaped_string_keys_survive() {
        let mut m = BTreeMap::new();
        m.insert("we\"ird\\key\n", 1);
        let s = to_fastjson(&m).unwrap();
        assert_eq!(s, serde_json::to_vec(&m).unwrap());
    }
}
