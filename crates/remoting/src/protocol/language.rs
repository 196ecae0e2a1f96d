//! `LanguageCode`: who sent a command. JSON headers carry the name, binary headers the byte.

use std::fmt;

/// The sender's implementation language (`LanguageCode.java`). Unknown bytes are kept so a binary
/// header round-trips; unknown names decode as [`LanguageCode::Other`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Default)]
pub enum LanguageCode {
    #[default]
    Java,
    Cpp,
    Dotnet,
    Python,
    Delphi,
    Erlang,
    Ruby,
    Other,
    Http,
    Go,
    Php,
    Oms,
    Rust,
    NodeJs,
    Unknown(u8),
}

const NAMES: [(LanguageCode, &str); 14] = [
    (LanguageCode::Java, "JAVA"),
    (LanguageCode::Cpp, "CPP"),
    (LanguageCode::Dotnet, "DOTNET"),
    (LanguageCode::Python, "PYTHON"),
    (LanguageCode::Delphi, "DELPHI"),
    (LanguageCode::Erlang, "ERLANG"),
    (LanguageCode::Ruby, "RUBY"),
    (LanguageCode::Other, "OTHER"),
    (LanguageCode::Http, "HTTP"),
    (LanguageCode::Go, "GO"),
    (LanguageCode::Php, "PHP"),
    (LanguageCode::Oms, "OMS"),
    (LanguageCode::Rust, "RUST"),
    (LanguageCode::NodeJs, "NODE_JS"),
];

impl LanguageCode {
    /// The Java enum name used in JSON headers (`OTHER` for unknown codes).
    pub fn name(self) -> &'static str {
        match self {
            LanguageCode::Unknown(_) => "OTHER",
            known => NAMES[known.code() as usize].1,
        }
    }

    /// The byte used in binary headers.
    pub fn code(self) -> u8 {
        match self {
            LanguageCode::Java => 0,
            LanguageCode::Cpp => 1,
            LanguageCode::Dotnet => 2,
            LanguageCode::Python => 3,
            LanguageCode::Delphi => 4,
            LanguageCode::Erlang => 5,
            LanguageCode::Ruby => 6,
            LanguageCode::Other => 7,
            LanguageCode::Http => 8,
            LanguageCode::Go => 9,
            LanguageCode::Php => 10,
            LanguageCode::Oms => 11,
            LanguageCode::Rust => 12,
            LanguageCode::NodeJs => 13,
            LanguageCode::Unknown(b) => b,
        }
    }

    /// Looks a JSON name up (exact, then case-insensitive); `None` if unknown.
    pub fn from_name(name: &str) -> Option<Self> {
        NAMES
            .iter()
            .find(|(_, n)| *n == name)
            .or_else(|| NAMES.iter().find(|(_, n)| n.eq_ignore_ascii_case(name)))
            .map(|(l, _)| *l)
    }
}

impl From<u8> for LanguageCode {
    fn from(b: u8) -> Self {
        NAMES
            .get(b as usize)
            .map(|(l, _)| *l)
            .unwrap_or(LanguageCode::Unknown(b))
    }
}

impl From<LanguageCode> for u8 {
    fn from(l: LanguageCode) -> u8 {
        l.code()
    }
}

impl fmt::Display for LanguageCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl serde::Serialize for LanguageCode {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.name())
    }
}

impl<'de> serde::Deserialize<'de> for LanguageCode {
    /// By name or by ordinal, as lenient clients send either.
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl serde::de::Visitor<'_> for V {
            type Value = LanguageCode;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a language name or code")
            }
            fn visit_str<E: serde::de::Error>(self, v: &str) -> Result<LanguageCode, E> {
                Ok(LanguageCode::from_name(v).unwrap_or(LanguageCode::Other))
            }
            fn visit_u64<E: serde::de::Error>(self, v: u64) -> Result<LanguageCode, E> {
                Ok(u8::try_from(v).map_or(LanguageCode::Other, LanguageCode::from))
            }
            fn visit_i64<E: serde::de::Error>(self, v: i64) -> Result<LanguageCode, E> {
                Ok(u8::try_from(v).map_or(LanguageCode::Other, LanguageCode::from))
            }
            fn visit_unit<E: serde::de::Error>(self) -> Result<LanguageCode, E> {
                Ok(LanguageCode::Java)
            }
        }
        d.deserialize_any(V)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_and_codes_agree() {
        for (i, (l, n)) in NAMES.iter().enumerate() {
            assert_eq!(l.code() as usize, i);
            assert_eq!(l.name(), *n);
            assert_eq!(LanguageCode::from(i as u8), *l);
            assert_eq!(LanguageCode::from_name(n), Some(*l));
        }
        assert_eq!(LanguageCode::Rust.code(), 12);
        assert_eq!(LanguageCode::from(99), LanguageCode::Unknown(99));
        assert_eq!(LanguageCode::from(99).code(), 99);
        assert_eq!(LanguageCode::from_name("rust"), Some(LanguageCode::Rust));
    }
}
