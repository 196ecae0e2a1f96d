//! The JSON header (serialize type 0).
//!
//! Encoding writes fastjson's layout straight into the output buffer: keys in alphabetical order,
//! `remark` omitted when null, `extFields` omitted when empty, every extFields value a string.
//! No `serde_json::Value` and no intermediate `String` — this runs for every command.
//!
//! Decoding goes through serde into a private struct and is as lenient as Apache's fastjson reader:
//! unknown keys are ignored, `serializeTypeCurrentRPC` may be missing, numbers and booleans inside
//! `extFields` become strings, numbers may arrive quoted, and `language` may be a name or ordinal.

use std::fmt;

use bytes::{BufMut, BytesMut};
use serde::de::{self, Deserializer, MapAccess, Visitor};
use serde::Deserialize;

use super::ext_fields::{intern, ExtKey};
use super::{write_json_str, DecodeError, ExtFields, LanguageCode, RemotingCommand, SerializeType};

pub(super) fn encode(cmd: &RemotingCommand, dst: &mut BytesMut) {
    let mut num = itoa::Buffer::new();
    dst.put_slice(b"{\"code\":");
    dst.put_slice(num.format(cmd.code).as_bytes());
    if !cmd.ext_fields.is_empty() {
        dst.put_slice(b",\"extFields\":{");
        for (i, (k, v)) in cmd.ext_fields.iter().enumerate() {
            if i > 0 {
                dst.put_u8(b',');
            }
            write_json_str(dst, k);
            dst.put_u8(b':');
            write_json_str(dst, v);
        }
        dst.put_u8(b'}');
    }
    dst.put_slice(b",\"flag\":");
    dst.put_slice(num.format(cmd.flag).as_bytes());
    dst.put_slice(b",\"language\":\"");
    dst.put_slice(cmd.language.name().as_bytes());
    dst.put_slice(b"\",\"opaque\":");
    dst.put_slice(num.format(cmd.opaque).as_bytes());
    if let Some(remark) = &cmd.remark {
        dst.put_slice(b",\"remark\":");
        write_json_str(dst, remark);
    }
    dst.put_slice(b",\"serializeTypeCurrentRPC\":\"JSON\",\"version\":");
    dst.put_slice(num.format(cmd.version).as_bytes());
    dst.put_u8(b'}');
}

pub(super) fn decode(header: &[u8]) -> Result<RemotingCommand, DecodeError> {
    // serde would also accept a JSON array as a struct; a header is always an object.
    if header.iter().find(|b| !b.is_ascii_whitespace()) != Some(&b'{') {
        return Err(DecodeError::Json("the header is not a JSON object".into()));
    }
    let h: JsonHeader =
        serde_json::from_slice(header).map_err(|e| DecodeError::Json(e.to_string()))?;
    Ok(RemotingCommand {
        code: h.code,
        language: h.language,
        version: h.version,
        opaque: h.opaque,
        flag: h.flag,
        remark: h.remark,
        ext_fields: h.ext_fields.map(|e| e.0).unwrap_or_default(),
        body: bytes::Bytes::new(),
        serialize_type: SerializeType::Json,
    })
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct JsonHeader {
    #[serde(default, deserialize_with = "lenient_i32")]
    code: i32,
    #[serde(default)]
    language: LanguageCode,
    #[serde(default, deserialize_with = "lenient_i32")]
    version: i32,
    #[serde(default, deserialize_with = "lenient_i32")]
    opaque: i32,
    #[serde(default, deserialize_with = "lenient_i32")]
    flag: i32,
    #[serde(default)]
    remark: Option<String>,
    #[serde(default)]
    ext_fields: Option<LenientExtFields>,
}

/// An `int` that may arrive as a number or as decimal text; `null` is 0.
fn lenient_i32<'de, D: Deserializer<'de>>(d: D) -> Result<i32, D::Error> {
    struct V;
    impl Visitor<'_> for V {
        type Value = i32;
        fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.write_str("an int")
        }
        fn visit_i64<E: de::Error>(self, v: i64) -> Result<i32, E> {
            i32::try_from(v).map_err(|_| E::custom(format!("{v} is out of int range")))
        }
        fn visit_u64<E: de::Error>(self, v: u64) -> Result<i32, E> {
            i32::try_from(v).map_err(|_| E::custom(format!("{v} is out of int range")))
        }
        fn visit_str<E: de::Error>(self, v: &str) -> Result<i32, E> {
            v.trim()
                .parse()
                .map_err(|_| E::custom(format!("{v:?} is not an int")))
        }
        fn visit_unit<E: de::Error>(self) -> Result<i32, E> {
            Ok(0)
        }
    }
    d.deserialize_any(V)
}

struct LenientExtFields(ExtFields);

impl<'de> Deserialize<'de> for LenientExtFields {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = LenientExtFields;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("an object of header fields")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
                let mut pairs = Vec::with_capacity(map.size_hint().unwrap_or(16).min(64));
                while let Some(Key(key)) = map.next_key::<Key>()? {
                    if let Some(value) = map.next_value::<LenientValue>()?.0 {
                        pairs.push((key, value));
                    }
                }
                Ok(LenientExtFields(ExtFields::from_pairs(pairs)))
            }
            fn visit_unit<E: de::Error>(self) -> Result<Self::Value, E> {
                Ok(LenientExtFields(ExtFields::new()))
            }
        }
        d.deserialize_any(V)
    }
}

/// An extFields key, borrowing the static name of a common header field instead of allocating.
struct Key(ExtKey);

impl<'de> Deserialize<'de> for Key {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl Visitor<'_> for V {
            type Value = Key;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a header field name")
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Key, E> {
                Ok(Key(intern(v)))
            }
        }
        d.deserialize_str(V)
    }
}

/// An extFields value: a string, or a scalar turned into the text Java's `toString` would give.
/// `null` means "absent". Nested objects and arrays are kept as their JSON text.
struct LenientValue(Option<String>);

impl<'de> Deserialize<'de> for LenientValue {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = LenientValue;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a header value")
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<LenientValue, E> {
                Ok(LenientValue(Some(v.to_owned())))
            }
            fn visit_string<E: de::Error>(self, v: String) -> Result<LenientValue, E> {
                Ok(LenientValue(Some(v)))
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<LenientValue, E> {
                Ok(LenientValue(Some(v.to_string())))
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<LenientValue, E> {
                Ok(LenientValue(Some(v.to_string())))
            }
            fn visit_f64<E: de::Error>(self, v: f64) -> Result<LenientValue, E> {
                Ok(LenientValue(Some(v.to_string())))
            }
            fn visit_bool<E: de::Error>(self, v: bool) -> Result<LenientValue, E> {
                Ok(LenientValue(Some(v.to_string())))
            }
            fn visit_unit<E: de::Error>(self) -> Result<LenientValue, E> {
                Ok(LenientValue(None))
            }
            fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<LenientValue, A::Error> {
                let v = serde_json::Value::deserialize(de::value::MapAccessDeserializer::new(map))?;
                Ok(LenientValue(Some(v.to_string())))
            }
            fn visit_seq<A: de::SeqAccess<'de>>(self, seq: A) -> Result<LenientValue, A::Error> {
                let v = serde_json::Value::deserialize(de::value::SeqAccessDeserializer::new(seq))?;
                Ok(LenientValue(Some(v.to_string())))
            }
        }
        d.deserialize_any(V)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn decode_str(s: &str) -> RemotingCommand {
        decode(s.as_bytes()).unwrap()
    }

    #[test]
    fn encodes_in_fastjson_order() {
        let cmd = RemotingCommand {
            code: 105,
            language: LanguageCode::Java,
            opaque: 7,
            ext_fields: [("topic", "TopicTest")].into_iter().collect(),
            ..Default::default()
        };
        let mut out = BytesMut::new();
        encode(&cmd, &mut out);
        assert_eq!(
            std::str::from_utf8(&out).unwrap(),
            r#"{"code":105,"extFields":{"topic":"TopicTest"},"flag":0,"language":"JAVA","opaque":7,"serializeTypeCurrentRPC":"JSON","version":479}"#
        );
    }

    #[test]
    fn decodes_leniently() {
        let cmd = decode_str(
            r#"{"code":"310","language":9,"opaque":3,"flag":0,"version":"317","unknown":[1,{"x":2}],
                "extFields":{"a":"g","d":4,"k":false,"x":null,"z":1.5}}"#,
        );
        assert_eq!(cmd.code, 310);
        assert_eq!(cmd.language, LanguageCode::Go);
        assert_eq!(cmd.version, 317);
        assert_eq!(cmd.ext_fields.get("a"), Some("g"));
        assert_eq!(cmd.ext_fields.get("d"), Some("4"));
        assert_eq!(cmd.ext_fields.get("k"), Some("false"));
        assert_eq!(cmd.ext_fields.get("x"), None);
        assert_eq!(cmd.ext_fields.get("z"), Some("1.5"));
        let minimal = decode_str(r#"{"code":34,"language":"NODE_JS","extFields":null}"#);
        assert_eq!(minimal.language, LanguageCode::NodeJs);
        assert!(minimal.ext_fields.is_empty());
        assert!(decode(b"{\"code\":1e99}").is_err());
        assert!(decode(b"[1,2]").is_err());
        assert!(decode(b"").is_err());
    }
}
