//! ACL 2.0 actions (Apache's `Action`: Pub, Sub, Create, Update, Delete, Get, List, All) as a
//! bit set: what a request needs (any one of them will do) and what a policy entry grants.

/// A set of ACL 2.0 actions.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash)]
pub struct Actions(u16);

impl Actions {
    pub const NONE: Actions = Actions(0);
    pub const PUB: Actions = Actions(1);
    pub const SUB: Actions = Actions(1 << 1);
    pub const CREATE: Actions = Actions(1 << 2);
    pub const UPDATE: Actions = Actions(1 << 3);
    pub const DELETE: Actions = Actions(1 << 4);
    pub const GET: Actions = Actions(1 << 5);
    pub const LIST: Actions = Actions(1 << 6);
    /// Granted: every action.
    pub const ALL: Actions = Actions(1 << 7);

    const NAMES: [(Actions, &'static str); 8] = [
        (Actions::PUB, "Pub"),
        (Actions::SUB, "Sub"),
        (Actions::CREATE, "Create"),
        (Actions::UPDATE, "Update"),
        (Actions::DELETE, "Delete"),
        (Actions::GET, "Get"),
        (Actions::LIST, "List"),
        (Actions::ALL, "All"),
    ];

    pub const fn or(self, other: Actions) -> Actions {
        Actions(self.0 | other.0)
    }

    pub fn is_empty(self) -> bool {
        self.0 == 0
    }

    /// Whether a grant of `self` covers a need of `needed` (any one of its actions).
    pub fn grants(self, needed: Actions) -> bool {
        self.0 & Actions::ALL.0 != 0 || self.0 & needed.0 != 0
    }

    /// One action by Apache's name, in any case (`Any` is not a grantable action).
    pub fn parse(name: &str) -> Option<Actions> {
        let name = name.trim();
        Self::NAMES
            .iter()
            .find(|(_, n)| n.eq_ignore_ascii_case(name))
            .map(|(a, _)| *a)
    }

    /// Apache's names of the actions in the set.
    pub fn names(self) -> Vec<&'static str> {
        Self::NAMES
            .iter()
            .filter(|(a, _)| self.0 & a.0 != 0)
            .map(|(_, n)| *n)
            .collect()
    }
}

impl std::fmt::Display for Actions {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.names().join(" or "))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn all_grants_everything_and_any_one_will_do() {
        let sub_get = Actions::SUB.or(Actions::GET);
        assert!(Actions::GET.grants(sub_get));
        assert!(!Actions::PUB.grants(sub_get));
        assert!(Actions::ALL.grants(Actions::DELETE));
        assert_eq!(Actions::parse(" sub "), Some(Actions::SUB));
        assert_eq!(Actions::parse("Any"), None);
        assert_eq!(sub_get.to_string(), "Sub or Get");
    }
}
