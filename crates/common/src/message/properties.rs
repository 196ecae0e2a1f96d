//! The properties string: `name 0x01 value 0x02` repeated, every pair terminated by 0x02.
//! Decoding follows `MessageDecoder.string2messageProperties`: segments with an empty key or value
//! are dropped.

use super::Properties;

pub const NAME_VALUE_SEPARATOR: char = '\u{1}';
pub const PROPERTY_SEPARATOR: char = '\u{2}';

/// Encodes properties; the result is empty when there are none.
pub fn encode_properties(props: &Properties) -> String {
    let mut out = String::with_capacity(props.iter().map(|(k, v)| k.len() + v.len() + 2).sum());
    for (k, v) in props {
        out.push_str(k);
        out.push(NAME_VALUE_SEPARATOR);
        out.push_str(v);
        out.push(PROPERTY_SEPARATOR);
    }
    out
}

/// Decodes a properties string leniently, never failing.
pub fn decode_properties(s: &str) -> Properties {
    let mut props = Properties::new();
    for segment in s.split(PROPERTY_SEPARATOR) {
        if let Some((k, v)) = segment.split_once(NAME_VALUE_SEPARATOR) {
            if !k.is_empty() && !v.is_empty() {
                props.insert(k.to_owned(), v.to_owned());
            }
        }
    }
    props
}

/// Finds one property in an encoded string without building the whole map.
pub fn find_property<'a>(s: &'a str, key: &str) -> Option<&'a str> {
    s.split(PROPERTY_SEPARATOR).find_map(|segment| {
        let (k, v) = segment.split_once(NAME_VALUE_SEPARATOR)?;
        (k == key && !v.is_empty()).then_some(v)
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn layout_matches_java() {
        let mut p = Properties::new();
        p.insert("TAGS".into(), "TagA".into());
        p.insert("WAIT".into(), "true".into());
        assert_eq!(
            encode_properties(&p),
            "TAGS\u{1}TagA\u{2}WAIT\u{1}true\u{2}"
        );
        assert_eq!(find_property(&encode_properties(&p), "WAIT"), Some("true"));
        assert_eq!(find_property(&encode_properties(&p), "KEYS"), None);
    }

    #[test]
    fn empty_values_are_dropped() {
        let p = decode_properties("A\u{1}\u{2}\u{1}x\u{2}B\u{1}y\u{2}garbage");
        assert_eq!(p.len(), 1);
        assert_eq!(p.get("B").map(String::as_str), Some("y"));
    }

    proptest! {
        #[test]
        fn round_trip(map in proptest::collection::btree_map("[a-zA-Z_]{1,12}", "[ -~]{1,20}", 0..8)) {
            let props: Properties = map;
            prop_assert_eq!(decode_properties(&encode_properties(&props)), props);
        }
    }
}
