//! Java behaviours that leak into RocketMQ's formats: `String.hashCode()` (consume-queue tag codes,
//! subscription code sets, index-file key hashes) and `Boolean.parseBoolean`.

/// Java's `String.hashCode()`: `s[0]*31^(n-1) + ... + s[n-1]` over UTF-16 code units, wrapping.
pub fn string_hash_code(s: &str) -> i32 {
    let mut h: i32 = 0;
    for unit in s.encode_utf16() {
        h = h.wrapping_mul(31).wrapping_add(unit as i32);
    }
    h
}

/// Java's `Boolean.parseBoolean`: `"true"` in any case is true, everything else false.
pub fn parse_bool_lenient(s: &str) -> bool {
    s.eq_ignore_ascii_case("true")
}

/// RocketMQ's `UtilAll.crc32`: IEEE CRC-32 masked to a non-negative `int`.
pub fn crc32_masked(data: &[u8]) -> u32 {
    crc32fast::hash(data) & 0x7FFF_FFFF
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hash_matches_java() {
        assert_eq!(string_hash_code(""), 0);
        assert_eq!(string_hash_code("TagA"), 2_598_919);
        assert_eq!(string_hash_code("hello"), 99_162_322);
        // Overflow wraps like Java ints.
        assert_eq!(string_hash_code("TopicTest#key-0123456789"), -390_309_707);
        // Non-BMP characters hash as two UTF-16 units.
        assert_eq!(string_hash_code("\u{1F600}"), 1_772_899);
    }

    #[test]
    fn bool_is_java_style() {
        assert!(parse_bool_lenient("TRUE"));
        assert!(!parse_bool_lenient("1"));
        assert!(!parse_bool_lenient(""));
    }
}
