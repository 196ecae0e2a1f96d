//! ACL 1.0's admin codes change `plain_acl.yml` itself, as Apache's `PlainPermissionManager`
//! does: an account's fields (UPDATE_AND_CREATE_ACL_CONFIG), an account's removal
//! (DELETE_ACL_CONFIG) and `globalWhiteRemoteAddresses` (UPDATE_GLOBAL_WHITE_ADDRS_CONFIG). An
//! edit reads the file, changes its YAML, checks that the result parses as rules, writes it
//! atomically (the previous version kept as `.bak`) and puts the rules in force at once.
//! Keys rmq does not know stay; comments do not (YAML is rewritten, as Apache rewrites it).

use rmq_remoting::body::{DataVersion, GetBrokerClusterAclConfigResponseBody, PlainAccessConfig};
use rmq_remoting::header::CreateAccessConfigRequestHeader;
use serde_yaml_ng::{Mapping, Value};

use super::{perm, Acl, PlainAcl};

const ACCOUNTS: &str = "accounts";
const ACCESS_KEY: &str = "accessKey";

fn key(name: &str) -> Value {
    Value::String(name.to_owned())
}

/// Apache's rule for keys and secrets.
fn long_enough(what: &str, value: &str) -> Result<(), String> {
    match value.chars().count() >= 6 {
        true => Ok(()),
        false => Err(format!("{what} `{value}` is shorter than 6 characters")),
    }
}

/// `a=DENY,b=SUB` as a YAML list, each entry checked.
fn perm_list(field: &str, text: &str) -> Result<Value, String> {
    let mut out = Vec::new();
    for entry in text.split(',').map(str::trim).filter(|e| !e.is_empty()) {
        let ok = entry
            .split_once('=')
            .is_some_and(|(name, p)| !name.trim().is_empty() && perm::parse(p).is_some());
        if !ok {
            return Err(format!(
                "{field}: `{entry}` is not NAME=DENY|PUB|SUB|PUB|SUB"
            ));
        }
        out.push(Value::String(entry.to_owned()));
    }
    Ok(Value::Sequence(out))
}

impl Acl {
    /// The rules' version, as GET_BROKER_CLUSTER_ACL_INFO reports it.
    pub fn version(&self) -> DataVersion {
        *self.version.lock()
    }

    /// Reads the file, applies `change` to its YAML, and writes and applies the result if it
    /// parses as rules.
    fn edit(&self, change: impl FnOnce(&mut Mapping) -> Result<(), String>) -> Result<(), String> {
        let _one = self.editing.lock();
        let path = self.path();
        let text = std::fs::read_to_string(path)
            .map_err(|e| format!("cannot read {}: {e}", path.display()))?;
        let mut root: Value = serde_yaml_ng::from_str(&text).map_err(|e| {
            format!(
                "{} does not parse: {e}; fix it by hand first",
                path.display()
            )
        })?;
        if root.is_null() {
            root = Value::Mapping(Mapping::new());
        }
        let Some(map) = root.as_mapping_mut() else {
            return Err(format!(
                "{} is not a mapping with `accounts:`",
                path.display()
            ));
        };
        change(map)?;
        let new_text = serde_yaml_ng::to_string(&root).map_err(|e| e.to_string())?;
        let rules = PlainAcl::parse(&new_text)
            .map_err(|e| format!("the change would make {} invalid: {e}", path.display()))?;
        rmq_runtime::fs::write_atomic_keeping_backup(path, new_text.as_bytes())
            .map_err(|e| format!("cannot write {}: {e}", path.display()))?;
        tracing::info!(file = %path.display(), accounts = rules.accounts.len(),
            "ACL file changed by an admin request; new rules in force");
        self.replace(rules);
        Ok(())
    }

    /// UPDATE_AND_CREATE_ACL_CONFIG: creates the account or changes the fields the request sets.
    pub fn update_account(&self, h: &CreateAccessConfigRequestHeader) -> Result<(), String> {
        let ak = h.access_key.as_deref().unwrap_or("").trim().to_owned();
        long_enough("accessKey", &ak)?;
        if let Some(sk) = &h.secret_key {
            long_enough("secretKey", sk)?;
        }
        let mut fields: Vec<(&str, Value)> = Vec::new();
        let text = |v: &Option<String>| v.as_ref().map(|s| Value::String(s.clone()));
        if let Some(v) = text(&h.secret_key) {
            fields.push(("secretKey", v));
        }
        if let Some(v) = text(&h.white_remote_address) {
            fields.push(("whiteRemoteAddress", v));
        }
        if let Some(admin) = h.admin {
            fields.push(("admin", Value::Bool(admin)));
        }
        if let Some(v) = text(&h.default_topic_perm) {
            fields.push(("defaultTopicPerm", v));
        }
        if let Some(v) = text(&h.default_group_perm) {
            fields.push(("defaultGroupPerm", v));
        }
        if let Some(t) = &h.topic_perms {
            fields.push(("topicPerms", perm_list("topicPerms", t)?));
        }
        if let Some(g) = &h.group_perms {
            fields.push(("groupPerms", perm_list("groupPerms", g)?));
        }
        self.edit(|root| {
            let accounts = root
                .entry(key(ACCOUNTS))
                .or_insert_with(|| Value::Sequence(Vec::new()));
            if accounts.is_null() {
                *accounts = Value::Sequence(Vec::new());
            }
            let Some(list) = accounts.as_sequence_mut() else {
                return Err("`accounts:` is not a list".into());
            };
            let found = list
                .iter_mut()
                .find(|a| a.get(ACCESS_KEY).and_then(Value::as_str) == Some(ak.as_str()));
            let account = match found {
                Some(a) => a,
                None => {
                    if h.secret_key.is_none() {
                        return Err(format!(
                            "no account {ak} yet: give its secretKey to create it"
                        ));
                    }
                    let mut m = Mapping::new();
                    m.insert(key(ACCESS_KEY), Value::String(ak.clone()));
                    list.push(Value::Mapping(m));
                    list.last_mut().ok_or("the account list is empty")?
                }
            };
            let Some(m) = account.as_mapping_mut() else {
                return Err(format!("account {ak} is not a mapping"));
            };
            for (k, v) in fields {
                m.insert(key(k), v);
            }
            Ok(())
        })
    }

    /// DELETE_ACL_CONFIG.
    pub fn delete_account(&self, access_key: &str) -> Result<(), String> {
        self.edit(|root| {
            let list = root
                .get_mut(ACCOUNTS)
                .and_then(Value::as_sequence_mut)
                .ok_or_else(|| format!("no account {access_key}"))?;
            let before = list.len();
            list.retain(|a| a.get(ACCESS_KEY).and_then(Value::as_str) != Some(access_key));
            match list.len() == before {
                true => Err(format!("no account {access_key}")),
                false => Ok(()),
            }
        })
    }

    /// UPDATE_GLOBAL_WHITE_ADDRS_CONFIG: replaces the list (comma-separated patterns).
    pub fn set_global_white(&self, patterns: &str) -> Result<(), String> {
        let items = patterns
            .split(',')
            .map(str::trim)
            .filter(|p| !p.is_empty())
            .map(|p| Value::String(p.to_owned()))
            .collect();
        self.edit(|root| {
            root.insert(key("globalWhiteRemoteAddresses"), Value::Sequence(items));
            Ok(())
        })
    }

    /// GET_BROKER_CLUSTER_ACL_CONFIG: the rules in force, in Apache's shapes.
    pub fn config_body(&self) -> GetBrokerClusterAclConfigResponseBody {
        let rules = self.rules();
        let perms = |m: &std::collections::HashMap<String, u8>| {
            let mut v: Vec<String> = m
                .iter()
                .map(|(name, p)| format!("{name}={}", perm::name(*p)))
                .collect();
            v.sort();
            v
        };
        let mut accounts: Vec<PlainAccessConfig> = rules
            .accounts
            .values()
            .map(|a| PlainAccessConfig {
                access_key: a.access_key.clone(),
                secret_key: a.secret_key.clone(),
                admin: a.admin,
                white_remote_address: a.white.as_ref().map(|w| w.to_string()),
                default_topic_perm: Some(perm::name(a.default_topic_perm).into()),
                default_group_perm: Some(perm::name(a.default_group_perm).into()),
                topic_perms: perms(&a.topic_perms),
                group_perms: perms(&a.group_perms),
            })
            .collect();
        accounts.sort_by(|a, b| a.access_key.cmp(&b.access_key));
        GetBrokerClusterAclConfigResponseBody {
            global_white_addrs: rules.global_white.iter().map(|p| p.to_string()).collect(),
            plain_access_configs: accounts,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn header(ak: &str, sk: Option<&str>) -> CreateAccessConfigRequestHeader {
        CreateAccessConfigRequestHeader {
            access_key: Some(ak.into()),
            secret_key: sk.map(String::from),
            ..Default::default()
        }
    }

    #[test]
    fn edits_keep_other_accounts_and_refuse_what_would_not_load() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("plain_acl.yml");
        std::fs::write(
            &path,
            "globalWhiteRemoteAddresses:\n  - 10.10.103.*\naccounts:\n  - accessKey: rmqadmin\n    secretKey: admin-secret\n    admin: true\n",
        )
        .unwrap();
        let acl = Acl::load(&path).unwrap();
        let mut h = header("orders-app", Some("orders-secret"));
        h.default_topic_perm = Some("PUB".into());
        h.topic_perms = Some("Audit=DENY".into());
        acl.update_account(&h).unwrap();
        let rules = acl.rules();
        assert_eq!(rules.accounts.len(), 2);
        assert_eq!(
            rules.accounts["orders-app"].topic_perms["Audit"],
            perm::DENY
        );
        // Change one field of it; the rest stays.
        let mut admin = header("orders-app", None);
        admin.admin = Some(true);
        acl.update_account(&admin).unwrap();
        let rules = acl.rules();
        assert!(rules.accounts["orders-app"].admin);
        assert_eq!(rules.accounts["orders-app"].secret_key, "orders-secret");
        // Refused: short keys, a new account without its secret, a bad permission.
        assert!(acl
            .update_account(&header("short", Some("long-secret")))
            .is_err());
        let err = acl.update_account(&header("newcomer", None)).unwrap_err();
        assert!(err.contains("secretKey"), "{err}");
        let mut bad = header("orders-app", None);
        bad.default_group_perm = Some("WRITE".into());
        assert!(acl.update_account(&bad).unwrap_err().contains("invalid"));
        // White addresses, deletion, and what reads back.
        acl.set_global_white("192.168.0.*, 10.1.1.1-5").unwrap();
        acl.delete_account("orders-app").unwrap();
        assert!(acl.delete_account("orders-app").is_err());
        let body = acl.config_body();
        assert_eq!(body.plain_access_configs.len(), 1);
        assert_eq!(body.global_white_addrs.len(), 2);
        let reread = PlainAcl::parse(&std::fs::read_to_string(&path).unwrap()).unwrap();
        assert_eq!(reread.accounts.len(), 1);
        assert!(acl.version().counter >= 1);
    }
}
