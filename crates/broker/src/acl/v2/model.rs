//! ACL 2.0's model, as Apache 5.x has it: users (`Super` or `Normal`, `enable` or `disable`)
//! and, per subject `User:name`, policies (`Custom`, then `Default`) of entries: a resource
//! pattern (`*`, `Topic:T`, `Group:G*`, `Cluster:C`, `Topic:*`), actions, source addresses and
//! `Allow` or `Deny`. Each type reads from and writes to the wire form in `body::auth`; an error
//! names the field that is wrong and what it takes.

use std::net::IpAddr;

use rmq_remoting::body::{AclInfo, PolicyEntryInfo, PolicyInfo, UserInfo};

use crate::acl::action::Actions;

/// Whether a user skips authorization.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UserType {
    Super,
    Normal,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UserStatus {
    Enable,
    Disable,
}

/// A user: its password is the secret its requests are signed with.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct User {
    pub name: String,
    pub password: String,
    pub kind: UserType,
    pub status: UserStatus,
}

fn pick<T: Copy>(field: &str, text: &str, names: &[(&str, T)]) -> Result<T, String> {
    names
        .iter()
        .find(|(n, _)| n.eq_ignore_ascii_case(text.trim()))
        .map(|(_, v)| *v)
        .ok_or_else(|| {
            let known: Vec<&str> = names.iter().map(|(n, _)| *n).collect();
            format!("{field} `{text}` is not one of {}", known.join(", "))
        })
}

const USER_TYPES: [(&str, UserType); 2] =
    [("Super", UserType::Super), ("Normal", UserType::Normal)];
const STATUSES: [(&str, UserStatus); 2] = [
    ("enable", UserStatus::Enable),
    ("disable", UserStatus::Disable),
];

pub fn user_type(text: &str) -> Result<UserType, String> {
    pick("userType", text, &USER_TYPES)
}

pub fn user_status(text: &str) -> Result<UserStatus, String> {
    pick("userStatus", text, &STATUSES)
}

impl UserType {
    pub fn name(self) -> &'static str {
        match self {
            UserType::Super => "Super",
            UserType::Normal => "Normal",
        }
    }
}

impl UserStatus {
    pub fn name(self) -> &'static str {
        match self {
            UserStatus::Enable => "enable",
            UserStatus::Disable => "disable",
        }
    }
}

impl User {
    /// A new user from `info` (`Normal` and `enable` unless it says otherwise).
    pub fn from_info(info: &UserInfo) -> Result<User, String> {
        let name = info.username.as_deref().unwrap_or("").trim();
        if name.is_empty() {
            return Err("the username is blank".into());
        }
        let password = info.password.as_deref().unwrap_or("");
        if password.is_empty() {
            return Err(format!("user {name}: the password is blank"));
        }
        Ok(User {
            name: name.to_owned(),
            password: password.to_owned(),
            kind: info
                .user_type
                .as_deref()
                .map_or(Ok(UserType::Normal), user_type)?,
            status: info
                .user_status
                .as_deref()
                .map_or(Ok(UserStatus::Enable), user_status)?,
        })
    }

    pub fn to_info(&self) -> UserInfo {
        UserInfo {
            username: Some(self.name.clone()),
            password: Some(self.password.clone()),
            user_type: Some(self.kind.name().into()),
            user_status: Some(self.status.name().into()),
        }
    }
}

/// `User:name` for `name`.
pub fn subject_of(user: &str) -> String {
    format!("User:{user}")
}

/// The user a subject `User:name` names.
pub fn user_of_subject(subject: &str) -> Result<&str, String> {
    match subject.trim().split_once(':') {
        Some((kind, name)) if kind.eq_ignore_ascii_case("User") && !name.is_empty() => Ok(name),
        _ => Err(format!(
            "subject `{subject}` is not `User:name` (ACL 2.0 subjects are users)"
        )),
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum PolicyType {
    Custom,
    Default,
}

pub fn policy_type(text: &str) -> Result<PolicyType, String> {
    pick(
        "policyType",
        text,
        &[
            ("Custom", PolicyType::Custom),
            ("Default", PolicyType::Default),
        ],
    )
}

impl PolicyType {
    pub fn name(self) -> &'static str {
        match self {
            PolicyType::Custom => "Custom",
            PolicyType::Default => "Default",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Decision {
    Allow,
    Deny,
}

/// What a resource pattern names.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// `*`: every resource.
    Any,
    Cluster,
    Namespace,
    Topic,
    Group,
}

const KINDS: [(&str, Kind); 4] = [
    ("Cluster", Kind::Cluster),
    ("Namespace", Kind::Namespace),
    ("Topic", Kind::Topic),
    ("Group", Kind::Group),
];

/// How a pattern's name matches.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Name {
    Any,
    Literal(String),
    Prefix(String),
}

/// `*`, `Kind:*`, `Kind:name` or `Kind:prefix*`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Pattern {
    pub kind: Kind,
    pub name: Name,
}

impl Pattern {
    pub fn parse(text: &str) -> Result<Pattern, String> {
        let text = text.trim();
        if text == "*" {
            return Ok(Pattern {
                kind: Kind::Any,
                name: Name::Any,
            });
        }
        let bad = || {
            format!(
                "resource `{text}` is not `*` or `Type:name` with Type one of Cluster, \
                 Namespace, Topic, Group (a name may end with `*`)"
            )
        };
        let (kind, name) = text.split_once(':').ok_or_else(bad)?;
        let kind = KINDS
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(kind))
            .map(|(_, k)| *k)
            .ok_or_else(bad)?;
        let name = match name {
            "" => return Err(bad()),
            "*" => Name::Any,
            n => match n.strip_suffix('*') {
                Some(prefix) => Name::Prefix(prefix.to_owned()),
                None => Name::Literal(n.to_owned()),
            },
        };
        Ok(Pattern { kind, name })
    }

    /// Whether the pattern covers the resource `kind` `name`.
    pub fn matches(&self, kind: Kind, name: &str) -> bool {
        if self.kind == Kind::Any {
            return true;
        }
        self.kind == kind
            && match &self.name {
                Name::Any => true,
                Name::Literal(l) => l == name,
                Name::Prefix(p) => name.starts_with(p.as_str()),
            }
    }

    /// Apache's priority: a named kind before `*`, a literal before a prefix before `Kind:*`,
    /// a longer prefix before a shorter one. Lower sorts first.
    pub fn rank(&self) -> (u8, u8, usize) {
        let any_kind = u8::from(self.kind == Kind::Any);
        match &self.name {
            Name::Literal(_) => (any_kind, 0, 0),
            Name::Prefix(p) => (any_kind, 1, usize::MAX - p.len()),
            Name::Any => (any_kind, 2, 0),
        }
    }
}

impl std::fmt::Display for Pattern {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let kind = match self.kind {
            Kind::Any => return f.write_str("*"),
            k => KINDS.iter().find(|(_, x)| *x == k).map_or("?", |(n, _)| n),
        };
        match &self.name {
            Name::Any => write!(f, "{kind}:*"),
            Name::Literal(n) => write!(f, "{kind}:{n}"),
            Name::Prefix(p) => write!(f, "{kind}:{p}*"),
        }
    }
}

/// An address or a CIDR block.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Source {
    net: IpAddr,
    bits: u8,
    text: String,
}

impl Source {
    pub fn parse(text: &str) -> Result<Source, String> {
        let text = text.trim();
        let bad = || format!("source address `{text}` is not an IP address or a CIDR block");
        let (addr, bits) = match text.split_once('/') {
            Some((a, b)) => (a, Some(b.parse::<u8>().map_err(|_| bad())?)),
            None => (text, None),
        };
        let net: IpAddr = addr.parse().map_err(|_| bad())?;
        let max = if net.is_ipv4() { 32 } else { 128 };
        let bits = bits.unwrap_or(max);
        if bits > max {
            return Err(bad());
        }
        Ok(Source {
            net,
            bits,
            text: text.to_owned(),
        })
    }

    pub fn matches(&self, peer: IpAddr) -> bool {
        let peer = match peer {
            IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(peer, IpAddr::V4),
            v4 => v4,
        };
        match (self.net, peer) {
            (IpAddr::V4(n), IpAddr::V4(p)) => {
                let mask = u32::MAX.checked_shl(32 - u32::from(self.bits)).unwrap_or(0);
                u32::from(n) & mask == u32::from(p) & mask
            }
            (IpAddr::V6(n), IpAddr::V6(p)) => {
                let mask = u128::MAX
                    .checked_shl(128 - u32::from(self.bits))
                    .unwrap_or(0);
                u128::from(n) & mask == u128::from(p) & mask
            }
            _ => false,
        }
    }
}

/// One entry of a policy.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    pub resource: Pattern,
    pub actions: Actions,
    /// Any address when empty.
    pub sources: Vec<Source>,
    pub decision: Decision,
}

impl Entry {
    fn from_info(info: &PolicyEntryInfo) -> Result<Entry, String> {
        let resource = Pattern::parse(info.resource.as_deref().unwrap_or(""))?;
        if info.actions.is_empty() {
            return Err(format!("entry for {resource}: the actions are empty"));
        }
        let mut actions = Actions::NONE;
        for a in &info.actions {
            actions = actions.or(Actions::parse(a).ok_or_else(|| {
                format!(
                    "entry for {resource}: action `{a}` is not one of Pub, Sub, Create, \
                     Update, Delete, Get, List, All"
                )
            })?);
        }
        let sources = info
            .source_ips
            .iter()
            .map(|s| Source::parse(s))
            .collect::<Result<_, _>>()?;
        let decision = pick(
            "decision",
            info.decision.as_deref().unwrap_or(""),
            &[("Allow", Decision::Allow), ("Deny", Decision::Deny)],
        )
        .map_err(|e| format!("entry for {resource}: {e}"))?;
        Ok(Entry {
            resource,
            actions,
            sources,
            decision,
        })
    }

    fn to_info(&self) -> PolicyEntryInfo {
        PolicyEntryInfo {
            actions: self.actions.names().into_iter().map(String::from).collect(),
            decision: Some(
                match self.decision {
                    Decision::Allow => "Allow",
                    Decision::Deny => "Deny",
                }
                .into(),
            ),
            resource: Some(self.resource.to_string()),
            source_ips: self.sources.iter().map(|s| s.text.clone()).collect(),
        }
    }

    pub fn matches_source(&self, peer: IpAddr) -> bool {
        self.sources.is_empty() || self.sources.iter().any(|s| s.matches(peer))
    }
}

/// The policies of one subject.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rule {
    pub subject: String,
    /// At most one per type.
    pub policies: Vec<(PolicyType, Vec<Entry>)>,
}

impl Rule {
    /// From the wire; `subject` fills in a body without one.
    pub fn from_info(info: &AclInfo, subject: &str) -> Result<Rule, String> {
        let subject = info
            .subject
            .as_deref()
            .filter(|s| !s.is_empty())
            .unwrap_or(subject);
        user_of_subject(subject)?;
        if info.policies.is_empty() {
            return Err(format!("ACL of {subject}: the policies are empty"));
        }
        let mut rule = Rule {
            subject: subject.trim().to_owned(),
            policies: Vec::new(),
        };
        for p in &info.policies {
            let kind = p
                .policy_type
                .as_deref()
                .map_or(Ok(PolicyType::Custom), policy_type)?;
            if p.entries.is_empty() {
                return Err(format!("ACL of {subject}: a policy has no entries"));
            }
            let entries = p
                .entries
                .iter()
                .map(Entry::from_info)
                .collect::<Result<Vec<_>, _>>()
                .map_err(|e| format!("ACL of {subject}: {e}"))?;
            rule.merge(kind, entries);
        }
        Ok(rule)
    }

    pub fn to_info(&self) -> AclInfo {
        AclInfo {
            subject: Some(self.subject.clone()),
            policies: self
                .policies
                .iter()
                .map(|(kind, entries)| PolicyInfo {
                    policy_type: Some(kind.name().into()),
                    entries: entries.iter().map(Entry::to_info).collect(),
                })
                .collect(),
        }
    }

    /// Adds `entries` to the policy of `kind`; an entry for a resource already there replaces
    /// it (Apache's `Acl.updatePolicy`).
    pub fn merge(&mut self, kind: PolicyType, entries: Vec<Entry>) {
        let slot = match self.policies.iter().position(|(k, _)| *k == kind) {
            Some(i) => i,
            None => {
                self.policies.push((kind, Vec::new()));
                self.policies.sort_by_key(|(k, _)| *k);
                self.policies
                    .iter()
                    .position(|(k, _)| *k == kind)
                    .unwrap_or(0)
            }
        };
        let list = &mut self.policies[slot].1;
        for e in entries {
            match list.iter_mut().find(|old| old.resource == e.resource) {
                Some(old) => *old = e,
                None => list.push(e),
            }
        }
    }

    /// Removes the entry for `resource` from the policy of `kind`; empty policies go.
    pub fn remove(&mut self, kind: PolicyType, resource: &Pattern) -> bool {
        let mut found = false;
        for (k, entries) in &mut self.policies {
            if *k == kind {
                let before = entries.len();
                entries.retain(|e| &e.resource != resource);
                found = entries.len() != before;
            }
        }
        self.policies.retain(|(_, entries)| !entries.is_empty());
        found
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn patterns_sources_and_ranks() {
        let p = Pattern::parse("Topic:Order*").unwrap();
        assert!(p.matches(Kind::Topic, "OrderPaid"));
        assert!(!p.matches(Kind::Group, "OrderPaid"));
        assert!(Pattern::parse("*").unwrap().matches(Kind::Cluster, "C"));
        assert!(Pattern::parse("Queue:Q").is_err());
        assert!(Pattern::parse("Topic:").is_err());
        assert_eq!(Pattern::parse("group:G*").unwrap().to_string(), "Group:G*");
        assert!(p.rank() < Pattern::parse("Topic:*").unwrap().rank());
        assert!(p.rank() < Pattern::parse("Topic:O*").unwrap().rank());
        assert!(Pattern::parse("Topic:T").unwrap().rank() < p.rank());
        let net = Source::parse("10.1.0.0/16").unwrap();
        assert!(net.matches("10.1.200.3".parse().unwrap()));
        assert!(net.matches("::ffff:10.1.2.3".parse().unwrap()));
        assert!(!net.matches("10.2.0.1".parse().unwrap()));
        assert!(Source::parse("10.1.0.0/33").is_err());
        assert!(Source::parse("0.0.0.0/0")
            .unwrap()
            .matches("8.8.8.8".parse().unwrap()));
    }

    #[test]
    fn rules_merge_by_resource_and_name_bad_fields() {
        let info = |resource: &str, decision: &str| AclInfo {
            subject: Some("User:alice".into()),
            policies: vec![PolicyInfo {
                policy_type: None,
                entries: vec![PolicyEntryInfo {
                    actions: vec!["Pub".into()],
                    decision: Some(decision.into()),
                    resource: Some(resource.into()),
                    source_ips: vec![],
                }],
            }],
        };
        let mut rule = Rule::from_info(&info("Topic:T", "Allow"), "").unwrap();
        let more = Rule::from_info(&info("Topic:T", "Deny"), "").unwrap();
        for (kind, entries) in more.policies {
            rule.merge(kind, entries);
        }
        assert_eq!(rule.policies[0].1.len(), 1);
        assert_eq!(rule.policies[0].1[0].decision, Decision::Deny);
        let err = Rule::from_info(&info("Topic:T", "Maybe"), "").unwrap_err();
        assert!(err.contains("decision `Maybe`"), "{err}");
        assert!(Rule::from_info(&info("T", "Allow"), "").is_err());
        assert!(rule.remove(PolicyType::Custom, &Pattern::parse("Topic:T").unwrap()));
        assert!(rule.policies.is_empty());
    }
}
