//! Where ACL 2.0 users and ACLs live: in memory for the request path, and in
//! `<storePathRootDir>/config/users.json` and `acls.json` (written atomically, the previous
//! version kept as `.bak`, as every broker config file is). Each broker keeps its own, as
//! Apache's brokers do; `mqadmin -c` writes to every broker of a cluster.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use parking_lot::{Mutex, RwLock};
use rmq_remoting::body::{AclInfo, UserInfo};

use super::model::{subject_of, user_of_subject, Pattern, PolicyType, Rule, User, UserType};

/// Why a change was refused.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("{0}")]
    Invalid(String),
    #[error("{0}")]
    NoUser(String),
    #[error("{0}")]
    NoAcl(String),
    #[error("{0}")]
    Exists(String),
    #[error(transparent)]
    Disk(#[from] crate::BrokerError),
}

/// What the request path reads.
#[derive(Debug, Default)]
pub struct Tables {
    pub users: BTreeMap<String, User>,
    /// By subject (`User:name`).
    pub acls: BTreeMap<String, Rule>,
}

#[derive(Debug)]
pub struct AuthStore {
    dir: PathBuf,
    tables: RwLock<Arc<Tables>>,
    /// One change at a time: read, change, write the files, publish.
    writer: Mutex<()>,
}

impl AuthStore {
    /// Loads both files from `config_dir` (absent: empty); an entry that does not parse stops
    /// the start, naming the file and the entry.
    pub fn load(config_dir: &Path) -> Result<AuthStore, crate::BrokerError> {
        let users_path = config_dir.join("users.json");
        let acls_path = config_dir.join("acls.json");
        let bad = |path: &Path, reason: String| crate::BrokerError::ConfigFile {
            path: path.to_owned(),
            reason,
        };
        let mut tables = Tables::default();
        for info in crate::persist::load_json::<Vec<UserInfo>>(&users_path)? {
            let user = User::from_info(&info).map_err(|e| bad(&users_path, e))?;
            tables.users.insert(user.name.clone(), user);
        }
        for info in crate::persist::load_json::<Vec<AclInfo>>(&acls_path)? {
            let rule = Rule::from_info(&info, "").map_err(|e| bad(&acls_path, e))?;
            tables.acls.insert(rule.subject.clone(), rule);
        }
        Ok(AuthStore {
            dir: config_dir.to_owned(),
            tables: RwLock::new(Arc::new(tables)),
            writer: Mutex::new(()),
        })
    }

    /// The tables in force (a cheap snapshot).
    pub fn tables(&self) -> Arc<Tables> {
        self.tables.read().clone()
    }

    pub fn user(&self, name: &str) -> Option<User> {
        self.tables.read().users.get(name).cloned()
    }

    /// Applies `change` to a copy of the tables, writes the files it touched, then publishes it.
    fn change<T>(
        &self,
        change: impl FnOnce(&mut Tables) -> Result<T, StoreError>,
    ) -> Result<T, StoreError> {
        let _one = self.writer.lock();
        let old = self.tables();
        let mut new = Tables {
            users: old.users.clone(),
            acls: old.acls.clone(),
        };
        let out = change(&mut new)?;
        if new.users != old.users {
            let infos: Vec<UserInfo> = new.users.values().map(User::to_info).collect();
            crate::persist::store_json(&self.dir.join("users.json"), &infos)?;
        }
        if new.acls != old.acls {
            let infos: Vec<AclInfo> = new.acls.values().map(Rule::to_info).collect();
            crate::persist::store_json(&self.dir.join("acls.json"), &infos)?;
        }
        *self.tables.write() = Arc::new(new);
        Ok(out)
    }

    pub fn create_user(&self, user: User) -> Result<(), StoreError> {
        self.change(|t| {
            if t.users.contains_key(&user.name) {
                return Err(StoreError::Exists(format!(
                    "user {} exists already; use updateUser to change it",
                    user.name
                )));
            }
            t.users.insert(user.name.clone(), user);
            Ok(())
        })
    }

    /// Creates `user` unless a user of that name exists (start-up users).
    pub fn ensure_user(&self, user: User) -> Result<bool, StoreError> {
        match self.user(&user.name) {
            Some(_) => Ok(false),
            None => self.create_user(user).map(|_| true),
        }
    }

    /// Replaces the fields `info` sets.
    pub fn update_user(&self, info: &UserInfo) -> Result<(), StoreError> {
        let name = info.username.as_deref().unwrap_or("").trim().to_owned();
        self.change(|t| {
            let user = t
                .users
                .get_mut(&name)
                .ok_or_else(|| StoreError::NoUser(format!("no user {name} on this broker")))?;
            if let Some(p) = info.password.as_deref().filter(|p| !p.is_empty()) {
                user.password = p.to_owned();
            }
            if let Some(k) = info.user_type.as_deref() {
                user.kind = super::model::user_type(k).map_err(StoreError::Invalid)?;
            }
            if let Some(s) = info.user_status.as_deref() {
                user.status = super::model::user_status(s).map_err(StoreError::Invalid)?;
            }
            Ok(())
        })
    }

    /// Deletes the user and its ACL; deleting a user that does not exist is no error.
    pub fn delete_user(&self, name: &str) -> Result<(), StoreError> {
        self.change(|t| {
            t.users.remove(name);
            t.acls.remove(&subject_of(name));
            Ok(())
        })
    }

    pub fn list_users(&self, filter: &str) -> Vec<User> {
        let t = self.tables();
        t.users
            .values()
            .filter(|u| u.name.contains(filter))
            .cloned()
            .collect()
    }

    /// Merges `rule` into its subject's ACL; the subject must be a user of this broker.
    pub fn put_acl(&self, rule: Rule) -> Result<(), StoreError> {
        let user = user_of_subject(&rule.subject).map_err(StoreError::Invalid)?;
        let user = user.to_owned();
        self.change(|t| {
            if !t.users.contains_key(&user) {
                return Err(StoreError::NoUser(format!(
                    "no user {user} on this broker; create the user before its ACL"
                )));
            }
            let subject = subject_of(&user);
            match t.acls.get_mut(&subject) {
                Some(old) => {
                    for (kind, entries) in rule.policies {
                        old.merge(kind, entries);
                    }
                }
                None => {
                    t.acls.insert(
                        subject.clone(),
                        Rule {
                            subject,
                            policies: rule.policies,
                        },
                    );
                }
            }
            Ok(())
        })
    }

    /// Deletes the subject's entry for `resource` (the whole ACL when `None`).
    pub fn delete_acl(
        &self,
        subject: &str,
        kind: PolicyType,
        resource: Option<&Pattern>,
    ) -> Result<(), StoreError> {
        let subject = subject_of(user_of_subject(subject).map_err(StoreError::Invalid)?);
        self.change(|t| {
            let rule = t
                .acls
                .get_mut(&subject)
                .ok_or_else(|| StoreError::NoAcl(format!("{subject} has no ACL")))?;
            if let Some(resource) = resource {
                if !rule.remove(kind, resource) {
                    return Err(StoreError::NoAcl(format!(
                        "{subject} has no {} entry for {resource}",
                        kind.name()
                    )));
                }
            }
            if resource.is_none() || rule.policies.is_empty() {
                t.acls.remove(&subject);
            }
            Ok(())
        })
    }

    pub fn acl(&self, subject: &str) -> Option<Rule> {
        self.tables.read().acls.get(subject.trim()).cloned()
    }

    pub fn list_acls(&self, subject_filter: &str, resource_filter: &str) -> Vec<Rule> {
        let t = self.tables();
        t.acls
            .values()
            .filter(|r| r.subject.contains(subject_filter))
            .filter(|r| {
                resource_filter.is_empty()
                    || r.policies.iter().any(|(_, entries)| {
                        entries
                            .iter()
                            .any(|e| e.resource.to_string().contains(resource_filter))
                    })
            })
            .cloned()
            .collect()
    }

    pub fn is_super(&self, name: &str) -> bool {
        self.user(name).is_some_and(|u| u.kind == UserType::Super)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::acl::v2::model::UserStatus;

    fn user(name: &str) -> User {
        User {
            name: name.into(),
            password: "pw".into(),
            kind: UserType::Normal,
            status: UserStatus::Enable,
        }
    }

    #[test]
    fn changes_survive_a_reload_and_deleting_a_user_drops_its_acl() {
        let dir = tempfile::tempdir().unwrap();
        let store = AuthStore::load(dir.path()).unwrap();
        store.create_user(user("alice")).unwrap();
        assert!(matches!(
            store.create_user(user("alice")),
            Err(StoreError::Exists(_))
        ));
        let acl: AclInfo = rmq_remoting::json::from_slice(
            br#"{"policies":[{"entries":[{"resource":"Topic:T","actions":["Pub"],"decision":"Allow"}]}]}"#,
        )
        .unwrap();
        store
            .put_acl(Rule::from_info(&acl, "User:alice").unwrap())
            .unwrap();
        let err = store
            .put_acl(Rule::from_info(&acl, "User:bob").unwrap())
            .unwrap_err();
        assert!(err.to_string().contains("no user bob"), "{err}");
        let again = AuthStore::load(dir.path()).unwrap();
        assert_eq!(again.user("alice").unwrap().password, "pw");
        assert_eq!(again.acl("User:alice").unwrap().policies.len(), 1);
        again.delete_user("alice").unwrap();
        assert!(again.acl("User:alice").is_none());
        assert!(AuthStore::load(dir.path())
            .unwrap()
            .list_users("")
            .is_empty());
    }
}
