//! Apache's ACL 1.0 permission bits and how an owned permission covers a needed one.

/// Nothing, even when a default would allow it.
pub const DENY: u8 = 1;
/// Either PUB or SUB will do (route lookups).
pub const ANY: u8 = 2;
pub const PUB: u8 = 4;
pub const SUB: u8 = 8;

/// `DENY`, `PUB`, `SUB`, `PUB|SUB` or `SUB|PUB`, as `plain_acl.yml` writes them.
pub fn parse(text: &str) -> Option<u8> {
    match text.trim() {
        "DENY" => Some(DENY),
        "PUB" => Some(PUB),
        "SUB" => Some(SUB),
        "PUB|SUB" | "SUB|PUB" => Some(PUB | SUB),
        _ => None,
    }
}

/// Whether `owned` grants `needed` (Apache's `Permission.checkPermission`).
pub fn allows(needed: u8, owned: u8) -> bool {
    if owned & DENY != 0 {
        return false;
    }
    if needed & ANY != 0 {
        return owned & (PUB | SUB) != 0;
    }
    needed & owned != 0
}

/// The name `plain_acl.yml` uses for `perm`.
pub fn name(perm: u8) -> &'static str {
    match perm {
        p if p & DENY != 0 => "DENY",
        p if p & (PUB | SUB) == PUB | SUB => "PUB|SUB",
        p if p & PUB != 0 => "PUB",
        p if p & SUB != 0 => "SUB",
        p if p & ANY != 0 => "PUB or SUB",
        _ => "none",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn deny_wins_and_any_takes_either() {
        assert!(allows(PUB, PUB | SUB));
        assert!(!allows(PUB, SUB));
        assert!(!allows(SUB, DENY));
        assert!(allows(ANY, SUB));
        assert!(!allows(ANY, DENY));
        assert_eq!(parse(" SUB|PUB "), Some(PUB | SUB));
        assert_eq!(parse("PUBSUB"), None);
        assert_eq!(name(PUB | SUB), "PUB|SUB");
    }
}
