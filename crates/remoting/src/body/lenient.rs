//! serde helpers that accept what non-Java clients send: numbers as text, booleans as 0/1 or
//! text, `null` for a default; and `java_enum!`, enums read by name or ordinal.

use std::fmt;

use serde::de::{self, Deserializer, Visitor};

macro_rules! lenient_int {
    ($name:ident, $t:ty) => {
        /// An integer from a number, decimal text or `null` (0).
        pub fn $name<'de, D: Deserializer<'de>>(d: D) -> Result<$t, D::Error> {
            struct V;
            impl Visitor<'_> for V {
                type Value = $t;
                fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                    f.write_str("an integer")
                }
                fn visit_i64<E: de::Error>(self, v: i64) -> Result<$t, E> {
                    <$t>::try_from(v).map_err(|_| E::custom("integer out of range"))
                }
                fn visit_u64<E: de::Error>(self, v: u64) -> Result<$t, E> {
                    <$t>::try_from(v).map_err(|_| E::custom("integer out of range"))
                }
                fn visit_f64<E: de::Error>(self, v: f64) -> Result<$t, E> {
                    Ok(v as $t)
                }
                fn visit_str<E: de::Error>(self, v: &str) -> Result<$t, E> {
                    let v = v.trim();
                    if v.is_empty() {
                        return Ok(0);
                    }
                    v.parse()
                        .map_err(|_| E::custom(format!("{v:?} is not an integer")))
                }
                fn visit_bool<E: de::Error>(self, v: bool) -> Result<$t, E> {
                    Ok(<$t>::from(v))
                }
                fn visit_unit<E: de::Error>(self) -> Result<$t, E> {
                    Ok(0)
                }
            }
            d.deserialize_any(V)
        }
    };
}
lenient_int!(int, i32);
lenient_int!(long, i64);

/// A boolean from `true`/`false`, 0/1, their text forms, or `null` (false).
pub fn boolean<'de, D: Deserializer<'de>>(d: D) -> Result<bool, D::Error> {
    struct V;
    impl Visitor<'_> for V {
        type Value = bool;
        fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.write_str("a boolean")
        }
        fn visit_bool<E: de::Error>(self, v: bool) -> Result<bool, E> {
            Ok(v)
        }
        fn visit_i64<E: de::Error>(self, v: i64) -> Result<bool, E> {
            Ok(v != 0)
        }
        fn visit_u64<E: de::Error>(self, v: u64) -> Result<bool, E> {
            Ok(v != 0)
        }
        fn visit_str<E: de::Error>(self, v: &str) -> Result<bool, E> {
            let v = v.trim();
            Ok(v.eq_ignore_ascii_case("true") || v == "1")
        }
        fn visit_unit<E: de::Error>(self) -> Result<bool, E> {
            Ok(false)
        }
    }
    d.deserialize_any(V)
}

/// A string, `null` (empty) or a scalar (its text).
pub fn string<'de, D: Deserializer<'de>>(d: D) -> Result<String, D::Error> {
    struct V;
    impl Visitor<'_> for V {
        type Value = String;
        fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.write_str("a string")
        }
        fn visit_str<E: de::Error>(self, v: &str) -> Result<String, E> {
            Ok(v.to_owned())
        }
        fn visit_string<E: de::Error>(self, v: String) -> Result<String, E> {
            Ok(v)
        }
        fn visit_i64<E: de::Error>(self, v: i64) -> Result<String, E> {
            Ok(v.to_string())
        }
        fn visit_u64<E: de::Error>(self, v: u64) -> Result<String, E> {
            Ok(v.to_string())
        }
        fn visit_bool<E: de::Error>(self, v: bool) -> Result<String, E> {
            Ok(v.to_string())
        }
        fn visit_unit<E: de::Error>(self) -> Result<String, E> {
            Ok(String::new())
        }
    }
    d.deserialize_any(V)
}

/// Declares a Java enum: serialized by name, deserialized by name (any case) or by ordinal.
/// The first variant is the `Default`.
macro_rules! java_enum {
    ($(#[$meta:meta])* pub enum $name:ident { $first:ident = $first_java:literal $(, $variant:ident = $java:literal)* $(,)? }) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
        pub enum $name {
            #[default]
            $first,
            $($variant,)*
        }

        impl $name {
            const VARIANTS: &'static [($name, &'static str)] =
                &[($name::$first, $first_java) $(, ($name::$variant, $java))*];

            /// The Java enum name.
            pub fn name(self) -> &'static str {
                Self::VARIANTS.iter().find(|(v, _)| *v == self).map_or("", |(_, n)| n)
            }

            /// Looks a Java name up, ignoring case.
            pub fn from_name(name: &str) -> Option<Self> {
                Self::VARIANTS.iter().find(|(_, n)| n.eq_ignore_ascii_case(name)).map(|(v, _)| *v)
            }

            /// The Java ordinal.
            pub fn ordinal(self) -> usize {
                Self::VARIANTS.iter().position(|(v, _)| *v == self).unwrap_or(0)
            }

            pub fn from_ordinal(ordinal: u64) -> Option<Self> {
                usize::try_from(ordinal).ok().and_then(|i| Self::VARIANTS.get(i)).map(|(v, _)| *v)
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(self.name())
            }
        }

        impl serde::Serialize for $name {
            fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                s.serialize_str(self.name())
            }
        }

        impl<'de> serde::Deserialize<'de> for $name {
            fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                struct V;
                impl serde::de::Visitor<'_> for V {
                    type Value = $name;
                    fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                        write!(f, "a {} name or ordinal", stringify!($name))
                    }
                    fn visit_str<E: serde::de::Error>(self, v: &str) -> Result<$name, E> {
                        let t = v.trim();
                        if let Ok(n) = t.parse::<u64>() {
                            return self.visit_u64(n);
                        }
                        $name::from_name(t)
                            .ok_or_else(|| E::custom(format!("unknown {} {v:?}", stringify!($name))))
                    }
                    fn visit_u64<E: serde::de::Error>(self, v: u64) -> Result<$name, E> {
                        $name::from_ordinal(v)
                            .ok_or_else(|| E::custom(format!("unknown {} ordinal {v}", stringify!($name))))
                    }
                    fn visit_i64<E: serde::de::Error>(self, v: i64) -> Result<$name, E> {
                        u64::try_from(v)
                            .map_err(|_| E::custom("negative ordinal"))
                            .and_then(|v| self.visit_u64(v))
                    }
                    fn visit_unit<E: serde::de::Error>(self) -> Result<$name, E> {
                        Ok($name::default())
                    }
                }
                d.deserialize_any(V)
            }
        }
    };
}
pub(crate) use java_enum;
