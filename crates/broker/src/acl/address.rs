//! Apache's remote address patterns (`whiteRemoteAddress`, `globalWhiteRemoteAddresses`):
//! `*` (or `*.*.*.*`), an exact address, and IPv4 patterns whose parts are a number, `*`, a
//! range `a-b` or a list `{a,b,c}`: `192.168.0.*`, `192.168.*`, `10.1.1.1-5`, `10.1.1.{1,3}`.

use std::net::{IpAddr, Ipv6Addr};

/// One parsed pattern.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AddressPattern {
    All,
    V4([Part; 4]),
    V6(Ipv6Addr),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Part {
    Any,
    Range(u8, u8),
    List(Vec<u8>),
}

impl AddressPattern {
    /// Parses `text`; the error says what is wrong with it.
    pub fn parse(text: &str) -> Result<Self, String> {
        let text = text.trim();
        if text == "*" || text == "*.*.*.*" || text == "*:*:*:*:*:*:*:*" {
            return Ok(AddressPattern::All);
        }
        if text.contains(':') {
            return text.parse().map(AddressPattern::V6).map_err(|_| {
                format!("`{text}` is not an IPv6 address (IPv6 takes `*` or one address)")
            });
        }
        let pieces: Vec<&str> = text.split('.').collect();
        let open_ended = pieces.len() < 4 && pieces.last() == Some(&"*");
        if pieces.len() > 4 || (pieces.len() < 4 && !open_ended) {
            return Err(format!(
                "`{text}` is not an IPv4 pattern: write four parts, or end a shorter one with `*`"
            ));
        }
        let mut parts = [Part::Any, Part::Any, Part::Any, Part::Any];
        for (slot, piece) in parts.iter_mut().zip(&pieces) {
            *slot = part(piece).ok_or_else(|| {
                format!(
                    "`{piece}` in `{text}` is not a number 0-255, `*`, a range `a-b` or a list `{{a,b}}`"
                )
            })?;
        }
        Ok(AddressPattern::V4(parts))
    }

    pub fn matches(&self, addr: IpAddr) -> bool {
        match (self, addr) {
            (AddressPattern::All, _) => true,
            (AddressPattern::V4(parts), IpAddr::V4(a)) => {
                parts.iter().zip(a.octets()).all(|(p, o)| match p {
                    Part::Any => true,
                    Part::Range(lo, hi) => (*lo..=*hi).contains(&o),
                    Part::List(list) => list.contains(&o),
                })
            }
            (AddressPattern::V4(_), IpAddr::V6(a)) => match a.to_ipv4_mapped() {
                Some(v4) => self.matches(IpAddr::V4(v4)),
                None => false,
            },
            (AddressPattern::V6(p), IpAddr::V6(a)) => *p == a,
            (AddressPattern::V6(_), IpAddr::V4(_)) => false,
        }
    }
}

/// The pattern as `plain_acl.yml` writes it (an open-ended `192.168.*` reads back as
/// `192.168.*.*`).
impl std::fmt::Display for AddressPattern {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            AddressPattern::All => f.write_str("*"),
            AddressPattern::V6(a) => write!(f, "{a}"),
            AddressPattern::V4(parts) => {
                let text: Vec<String> = parts
                    .iter()
                    .map(|p| match p {
                        Part::Any => "*".to_owned(),
                        Part::Range(lo, hi) if lo == hi => lo.to_string(),
                        Part::Range(lo, hi) => format!("{lo}-{hi}"),
                        Part::List(l) => format!(
                            "{{{}}}",
                            l.iter().map(u8::to_string).collect::<Vec<_>>().join(",")
                        ),
                    })
                    .collect();
                f.write_str(&text.join("."))
            }
        }
    }
}

fn part(piece: &str) -> Option<Part> {
    let number = |s: &str| s.trim().parse::<u8>().ok();
    if piece == "*" {
        return Some(Part::Any);
    }
    if let Some(list) = piece.strip_prefix('{').and_then(|p| p.strip_suffix('}')) {
        return list
            .split(',')
            .map(number)
            .collect::<Option<Vec<u8>>>()
            .map(Part::List);
    }
    if let Some((lo, hi)) = piece.split_once('-') {
        let (lo, hi) = (number(lo)?, number(hi)?);
        return (lo <= hi).then_some(Part::Range(lo, hi));
    }
    number(piece).map(|n| Part::Range(n, n))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn m(pattern: &str, addr: &str) -> bool {
        AddressPattern::parse(pattern)
            .unwrap()
            .matches(addr.parse().unwrap())
    }

    #[test]
    fn apache_patterns() {
        assert!(m("*", "10.0.0.1"));
        assert!(m("*.*.*.*", "::1"));
        assert!(m("192.168.0.*", "192.168.0.7"));
        assert!(!m("192.168.0.*", "192.168.1.7"));
        assert!(m("192.168.*", "192.168.200.1"));
        assert!(m("10.1.1.1-5", "10.1.1.5"));
        assert!(!m("10.1.1.1-5", "10.1.1.6"));
        assert!(m("10.1.1.{1,3}", "10.1.1.3"));
        assert!(!m("10.1.1.{1,3}", "10.1.1.2"));
        assert!(m("127.0.0.1", "127.0.0.1"));
        assert!(m("127.0.0.1", "::ffff:127.0.0.1"));
        assert!(m("::1", "::1"));
    }

    #[test]
    fn bad_patterns_are_named() {
        for bad in [
            "10.1",
            "10.1.1.300",
            "10.1.1.5-1",
            "10.1.1.{a}",
            "a.b.c.d",
            ":::x",
        ] {
            let e = AddressPattern::parse(bad).unwrap_err();
            assert!(e.contains(bad) || e.contains('`'), "{bad}: {e}");
        }
    }
}
