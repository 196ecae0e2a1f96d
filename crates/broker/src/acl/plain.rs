//! `plain_acl.yml`, Apache's ACL 1.0 file: accounts with their secrets, admin flag, default and
//! per-resource permissions and white addresses, plus addresses that skip every check.
//!
//! Values are read as Apache reads them: `secretKey: 12345678` is a string, an empty
//! `whiteRemoteAddress:` means none. Anything that Apache would quietly treat as DENY (an unknown
//! permission name, a bad address) is an error here, reported with its line.

use std::collections::HashMap;

use serde_yaml_ng::Value;

use super::address::AddressPattern;
use super::perm;

/// The parsed file.
#[derive(Debug, Default)]
pub struct PlainAcl {
    pub global_white: Vec<AddressPattern>,
    pub accounts: HashMap<String, Account>,
}

/// One account of `accounts:`.
#[derive(Debug)]
pub struct Account {
    pub access_key: String,
    pub secret_key: String,
    pub white: Option<AddressPattern>,
    pub admin: bool,
    pub default_topic_perm: u8,
    pub default_group_perm: u8,
    pub topic_perms: HashMap<String, u8>,
    pub group_perms: HashMap<String, u8>,
}

/// What is wrong with the file, and on which line when known.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{}{message}", line.map(|l| format!("line {l}: ")).unwrap_or_default())]
pub struct FileError {
    pub line: Option<usize>,
    pub message: String,
}

impl PlainAcl {
    pub fn parse(text: &str) -> Result<Self, FileError> {
        let root: Value = serde_yaml_ng::from_str(text).map_err(|e| FileError {
            line: e.location().map(|l| l.line()),
            message: e.to_string(),
        })?;
        let fail = |needle: &str, message: String| FileError {
            line: line_of(text, needle),
            message,
        };
        let mut acl = PlainAcl::default();
        if root.is_null() {
            return Ok(acl);
        }
        let Some(root) = root.as_mapping() else {
            return Err(fail(
                "",
                "the file must be a mapping with `accounts:`".into(),
            ));
        };
        for (key, value) in root {
            match key.as_str() {
                Some("globalWhiteRemoteAddresses") => {
                    for item in list(value) {
                        let text_value = scalar(item).unwrap_or_default();
                        let pattern = AddressPattern::parse(&text_value).map_err(|e| {
                            fail(&text_value, format!("globalWhiteRemoteAddresses: {e}"))
                        })?;
                        acl.global_white.push(pattern);
                    }
                }
                Some("accounts") => {
                    for item in list(value) {
                        let account = account(item, &fail)?;
                        if acl.accounts.contains_key(&account.access_key) {
                            let ak = account.access_key.clone();
                            return Err(fail(&ak, format!("accessKey `{ak}` appears twice")));
                        }
                        acl.accounts.insert(account.access_key.clone(), account);
                    }
                }
                // Apache's file carries these too; they change nothing here.
                Some("dataVersion") | Some("globalWhiteRemoteAddressesList") => {}
                other => {
                    let name = other
                        .map(str::to_owned)
                        .unwrap_or_else(|| format!("{key:?}"));
                    return Err(fail(
                        &name,
                        format!(
                            "unknown key `{name}`: expected globalWhiteRemoteAddresses or accounts"
                        ),
                    ));
                }
            }
        }
        Ok(acl)
    }
}

fn account(item: &Value, fail: &dyn Fn(&str, String) -> FileError) -> Result<Account, FileError> {
    let Some(map) = item.as_mapping() else {
        return Err(fail(
            "accounts",
            "each account must be a mapping with accessKey and secretKey".into(),
        ));
    };
    let field = |name: &str| {
        map.get(name)
            .and_then(scalar)
            .filter(|s| !s.trim().is_empty())
    };
    let Some(access_key) = field("accessKey") else {
        return Err(fail("accessKey", "an account has no accessKey".into()));
    };
    let Some(secret_key) = field("secretKey") else {
        return Err(fail(
            &access_key,
            format!("account `{access_key}` has no secretKey"),
        ));
    };
    let white = match field("whiteRemoteAddress") {
        Some(text) => Some(AddressPattern::parse(&text).map_err(|e| {
            fail(
                &text,
                format!("account `{access_key}` whiteRemoteAddress: {e}"),
            )
        })?),
        None => None,
    };
    let admin = match field("admin").as_deref() {
        None | Some("false") => false,
        Some("true") => true,
        Some(other) => {
            return Err(fail(
                other,
                format!("account `{access_key}` admin: `{other}` is not true or false"),
            ))
        }
    };
    let default_perm = |name: &str| -> Result<u8, FileError> {
        match field(name) {
            None => Ok(perm::DENY),
            Some(text) => perm::parse(&text).ok_or_else(|| {
                fail(
                    &text,
                    format!(
                        "account `{access_key}` {name}: `{text}` is not DENY, PUB, SUB or PUB|SUB"
                    ),
                )
            }),
        }
    };
    let perms = |name: &str| -> Result<HashMap<String, u8>, FileError> {
        let mut out = HashMap::new();
        for entry in map.get(name).map(list).unwrap_or_default() {
            let text = scalar(entry).unwrap_or_default();
            let parsed = text
                .split_once('=')
                .and_then(|(resource, p)| Some((resource.trim(), perm::parse(p)?)))
                .filter(|(resource, _)| !resource.is_empty());
            let Some((resource, p)) = parsed else {
                return Err(fail(
                    &text,
                    format!(
                        "account `{access_key}` {name}: `{text}` is not NAME=DENY|PUB|SUB|PUB|SUB"
                    ),
                ));
            };
            out.insert(resource.to_owned(), p);
        }
        Ok(out)
    };
    Ok(Account {
        default_topic_perm: default_perm("defaultTopicPerm")?,
        default_group_perm: default_perm("defaultGroupPerm")?,
        topic_perms: perms("topicPerms")?,
        group_perms: perms("groupPerms")?,
        access_key,
        secret_key,
        white,
        admin,
    })
}

/// A sequence's items; a missing or empty value is none.
fn list(value: &Value) -> Vec<&Value> {
    match value {
        Value::Sequence(items) => items.iter().collect(),
        Value::Null => Vec::new(),
        other => vec![other],
    }
}

/// A scalar as text (`12345678` and `true` included).
fn scalar(value: &Value) -> Option<String> {
    match value {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        Value::Bool(b) => Some(b.to_string()),
        _ => None,
    }
}

/// The first line (1-based) holding `needle`.
fn line_of(text: &str, needle: &str) -> Option<usize> {
    if needle.is_empty() {
        return None;
    }
    text.lines().position(|l| l.contains(needle)).map(|i| i + 1)
}

#[cfg(test)]
mod tests {
    use super::*;

    const APACHE_SAMPLE: &str = "\
globalWhiteRemoteAddresses:
  - 10.10.103.*
  - 192.168.0.*

accounts:
  - accessKey: RocketMQ
    secretKey: 12345678
    whiteRemoteAddress:
    admin: false
    defaultTopicPerm: DENY
    defaultGroupPerm: SUB
    topicPerms:
      - topicA=DENY
      - topicB=PUB|SUB
      - topicC=SUB
    groupPerms:
      # the group should convert to retry topic
      - groupA=DENY
      - groupB=PUB|SUB
      - groupC=SUB

  - accessKey: rocketmq2
    secretKey: 12345678
    whiteRemoteAddress: 192.168.1.*
    # if it is admin, it could access all resources
    admin: true
";

    #[test]
    fn reads_apaches_sample() {
        let acl = PlainAcl::parse(APACHE_SAMPLE).unwrap();
        assert_eq!(acl.global_white.len(), 2);
        let a = &acl.accounts["RocketMQ"];
        assert_eq!(a.secret_key, "12345678");
        assert!(a.white.is_none() && !a.admin);
        assert_eq!(a.default_group_perm, perm::SUB);
        assert_eq!(a.topic_perms["topicB"], perm::PUB | perm::SUB);
        assert_eq!(a.group_perms["groupA"], perm::DENY);
        let b = &acl.accounts["rocketmq2"];
        assert!(b.admin && b.white.is_some());
        assert_eq!(b.default_topic_perm, perm::DENY);
    }

    #[test]
    fn errors_name_the_line() {
        let bad = APACHE_SAMPLE.replace("topicC=SUB", "topicC=SUBB");
        let e = PlainAcl::parse(&bad).unwrap_err();
        assert_eq!(e.line, Some(15), "{e}");
        assert!(e.to_string().contains("topicC=SUBB"), "{e}");
        let e = PlainAcl::parse("accounts:\n  - accessKey: a\n   secretKey: [\n").unwrap_err();
        assert!(e.line.is_some(), "{e}");
        let e = PlainAcl::parse("accounts:\n  - secretKey: abcdefgh\n").unwrap_err();
        assert!(e.message.contains("no accessKey"), "{e}");
        let e = PlainAcl::parse("acounts: []\n").unwrap_err();
        assert_eq!(e.line, Some(1));
    }
}
