//! fastjson text to standard JSON.

use super::JsonError;
use crate::protocol::write_json_str;

/// Nesting deeper than this is refused (serde_json's own limit is 128).
const MAX_DEPTH: usize = 128;

/// Rewrites fastjson output into standard JSON: bare numeric keys and bare identifiers are
/// quoted; object- or array-valued keys become their (normalized) JSON text as a quoted key.
/// Whitespace outside strings is dropped; everything else is copied. Returns an error for text
/// that is not even fastjson; never panics.
pub fn normalize(input: &[u8]) -> Result<Vec<u8>, JsonError> {
    let mut n = Normalizer {
        input,
        pos: 0,
        out: Vec::with_capacity(input.len() + 16),
    };
    n.value(0)?;
    n.skip_ws();
    if n.pos != input.len() {
        return Err(n.err("trailing characters"));
    }
    Ok(n.out)
}

struct Normalizer<'a> {
    input: &'a [u8],
    pos: usize,
    out: Vec<u8>,
}

impl<'a> Normalizer<'a> {
    fn err(&self, reason: &'static str) -> JsonError {
        JsonError::Syntax {
            pos: self.pos,
            reason,
        }
    }

    fn peek(&self) -> Option<u8> {
        self.input.get(self.pos).copied()
    }

    fn skip_ws(&mut self) {
        while matches!(self.peek(), Some(b' ' | b'\t' | b'\n' | b'\r')) {
            self.pos += 1;
        }
    }

    fn value(&mut self, depth: usize) -> Result<(), JsonError> {
        self.skip_ws();
        match self.peek() {
            Some(b'{') => self.object(depth + 1),
            Some(b'[') => self.array(depth + 1),
            Some(b'"') => self.string(),
            Some(b'-' | b'0'..=b'9') => {
                let span = self.scalar(|b| {
                    b.is_ascii_digit() || matches!(b, b'-' | b'+' | b'.' | b'e' | b'E')
                });
                self.out.extend_from_slice(span);
                Ok(())
            }
            Some(b'a'..=b'z') => {
                let span = self.scalar(|b| b.is_ascii_alphabetic());
                self.out.extend_from_slice(span);
                Ok(())
            }
            Some(_) => Err(self.err("unexpected character")),
            None => Err(self.err("unexpected end")),
        }
    }

    fn scalar(&mut self, accept: impl Fn(u8) -> bool) -> &'a [u8] {
        let start = self.pos;
        while self.peek().is_some_and(&accept) {
            self.pos += 1;
        }
        &self.input[start..self.pos]
    }

    /// Copies a quoted string verbatim, escapes included.
    fn string(&mut self) -> Result<(), JsonError> {
        let start = self.pos;
        self.pos += 1;
        loop {
            match self.peek() {
                Some(b'"') => {
                    self.pos += 1;
                    self.out.extend_from_slice(&self.input[start..self.pos]);
                    return Ok(());
                }
                Some(b'\\') => self.pos += 2,
                Some(_) => self.pos += 1,
                None => return Err(self.err("unterminated string")),
            }
        }
    }

    fn array(&mut self, depth: usize) -> Result<(), JsonError> {
        if depth > MAX_DEPTH {
            return Err(JsonError::TooDeep(MAX_DEPTH));
        }
        self.pos += 1;
        self.out.push(b'[');
        self.skip_ws();
        if self.peek() == Some(b']') {
            self.pos += 1;
            self.out.push(b']');
            return Ok(());
        }
        loop {
            self.value(depth)?;
            self.skip_ws();
            match self.peek() {
                Some(b',') => {
                    self.pos += 1;
                    self.out.push(b',');
                }
                Some(b']') => {
                    self.pos += 1;
                    self.out.push(b']');
                    return Ok(());
                }
                _ => return Err(self.err("expected ',' or ']'")),
            }
        }
    }

    fn object(&mut self, depth: usize) -> Result<(), JsonError> {
        if depth > MAX_DEPTH {
            return Err(JsonError::TooDeep(MAX_DEPTH));
        }
        self.pos += 1;
        self.out.push(b'{');
        self.skip_ws();
        if self.peek() == Some(b'}') {
            self.pos += 1;
            self.out.push(b'}');
            return Ok(());
        }
        loop {
            self.skip_ws();
            self.key(depth)?;
            self.skip_ws();
            if self.peek() != Some(b':') {
                return Err(self.err("expected ':'"));
            }
            self.pos += 1;
            self.out.push(b':');
            self.value(depth)?;
            self.skip_ws();
            match self.peek() {
                Some(b',') => {
                    self.pos += 1;
                    self.out.push(b',');
                }
                Some(b'}') => {
                    self.pos += 1;
                    self.out.push(b'}');
                    return Ok(());
                }
                _ => return Err(self.err("expected ',' or '}'")),
            }
        }
    }

    fn key(&mut self, depth: usize) -> Result<(), JsonError> {
        match self.peek() {
            Some(b'"') => self.string(),
            Some(b'{' | b'[') => {
                // Normalize the key value on its own, then write its text as a string key.
                let outer = std::mem::take(&mut self.out);
                let inner = self.value(depth);
                let text = std::mem::replace(&mut self.out, outer);
                inner?;
                let text = std::str::from_utf8(&text).map_err(|_| self.err("key is not UTF-8"))?;
                write_json_str(&mut self.out, text);
                Ok(())
            }
            Some(b) if b == b'-' || b == b'_' || b == b'$' || b.is_ascii_alphanumeric() => {
                let span = self.scalar(|b| {
                    b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'$' | b'.' | b'+')
                });
                self.out.push(b'"');
                self.out.extend_from_slice(span);
                self.out.push(b'"');
                Ok(())
            }
            Some(_) => Err(self.err("unexpected character in key")),
            None => Err(self.err("unexpected end")),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn norm(s: &str) -> String {
        String::from_utf8(normalize(s.as_bytes()).unwrap()).unwrap()
    }

    #[test]
    fn quotes_bare_numeric_keys() {
        assert_eq!(
            norm(r#"{"brokerAddrs":{0:"10.0.0.1:10911", 1 : "x"},"n":-1.5e3}"#),
            r#"{"brokerAddrs":{"0":"10.0.0.1:10911","1":"x"},"n":-1.5e3}"#
        );
        assert_eq!(
            norm(r#"{"offsetTable":{-1:0,2:5}}"#),
            r#"{"offsetTable":{"-1":0,"2":5}}"#
        );
    }

    #[test]
    fn turns_object_keys_into_text() {
        let s =
            norm(r#"{"offsetTable":{{"brokerName":"b","queueId":0,"topic":"T"}:{"maxOffset":3}}}"#);
        assert_eq!(
            s,
            r#"{"offsetTable":{"{\"brokerName\":\"b\",\"queueId\":0,\"topic\":\"T\"}":{"maxOffset":3}}}"#
        );
        let v: serde_json::Value = serde_json::from_str(&s).unwrap();
        assert!(v["offsetTable"].is_object());
    }

    #[test]
    fn leaves_standard_json_alone_and_rejects_garbage() {
        let std = r#"{"a":[1,2,{"b":"c\"d"}],"e":null,"f":true}"#;
        assert_eq!(norm(std), std);
        for bad in [
            "",
            "{",
            "{\"a\"",
            "{\"a\":}",
            "[1,",
            "\"abc",
            "{:1}",
            "}",
            "{\"a\":1}x",
        ] {
            assert!(normalize(bad.as_bytes()).is_err(), "{bad}");
        }
        let deep = "[".repeat(10_000);
        assert!(matches!(
            normalize(deep.as_bytes()),
            Err(JsonError::TooDeep(_))
        ));
    }
}
