//! How a Rust value becomes an `extFields` string and back.

use std::fmt;

/// A type that can be one `extFields` value.
pub trait HeaderValue: Sized {
    /// The wire text (Java's `toString`).
    fn to_header_string(&self) -> String;
    /// Parses the wire text; `None` if it is not a valid value.
    fn from_header_str(s: &str) -> Option<Self>;
}

impl HeaderValue for String {
    fn to_header_string(&self) -> String {
        self.clone()
    }
    fn from_header_str(s: &str) -> Option<Self> {
        Some(s.to_owned())
    }
}

macro_rules! int_value {
    ($($t:ty),*) => {$(
        impl HeaderValue for $t {
            fn to_header_string(&self) -> String {
                itoa::Buffer::new().format(*self).to_owned()
            }
            fn from_header_str(s: &str) -> Option<Self> {
                s.trim().parse().ok()
            }
        }
    )*};
}
int_value!(i32, i64);

/// Java's `Boolean.parseBoolean`, widened to accept `"1"` as C++ clients send it: never fails.
impl HeaderValue for bool {
    fn to_header_string(&self) -> String {
        if *self { "true" } else { "false" }.to_owned()
    }
    fn from_header_str(s: &str) -> Option<Self> {
        let s = s.trim();
        Some(s.eq_ignore_ascii_case("true") || s == "1")
    }
}

impl HeaderValue for f64 {
    fn to_header_string(&self) -> String {
        // Java's Double.toString always has a fraction digit.
        if self.is_finite() && self.fract() == 0.0 && self.abs() < 1e7 {
            format!("{self:.1}")
        } else {
            self.to_string()
        }
    }
    fn from_header_str(s: &str) -> Option<Self> {
        s.trim().parse().ok()
    }
}

/// `BoundaryType` for SEARCH_OFFSET_BY_TIMESTAMP: which offset to return when several messages
/// share the timestamp. Parsed case-insensitively as Java does.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum BoundaryType {
    #[default]
    Lower,
    Upper,
}

impl fmt::Display for BoundaryType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            BoundaryType::Lower => "LOWER",
            BoundaryType::Upper => "UPPER",
        })
    }
}

impl HeaderValue for BoundaryType {
    fn to_header_string(&self) -> String {
        self.to_string()
    }
    fn from_header_str(s: &str) -> Option<Self> {
        let s = s.trim();
        if s.eq_ignore_ascii_case("upper") {
            Some(BoundaryType::Upper)
        } else if s.eq_ignore_ascii_case("lower") {
            Some(BoundaryType::Lower)
        } else {
            None
        }
    }
}

impl HeaderValue for rmq_common::topic::TopicFilterType {
    fn to_header_string(&self) -> String {
        self.to_string()
    }
    fn from_header_str(s: &str) -> Option<Self> {
        match s.trim() {
            "SINGLE_TAG" => Some(Self::SingleTag),
            "MULTI_TAG" => Some(Self::MultiTag),
            _ => None,
        }
    }
}
