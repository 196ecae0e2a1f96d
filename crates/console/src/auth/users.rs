//! The users file: who may log in, with which role, checked against argon2 password hashes.
//!
//! A Java-style `.properties` file, one user per line, `name=role:hash`, where role is `admin`
//! or `readonly` and hash is an argon2 PHC string from `mqconsole --hash-password`:
//!
//! ```text
//! admin=admin:$argon2id$v=19$m=19456,t=2,p=1$...
//! viewer=readonly:$argon2id$v=19$m=19456,t=2,p=1$...
//! ```
//!
//! Plain-text passwords are refused at start, naming the user.

use std::collections::BTreeMap;
use std::path::Path;

use argon2::password_hash::rand_core::OsRng;
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::Argon2;
use serde::Serialize;

/// What a user may do.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    /// Everything.
    Admin,
    /// Look, never change.
    Readonly,
}

/// The users that may log in.
#[derive(Debug, Default)]
pub struct Users {
    users: BTreeMap<String, (Role, String)>,
}

impl Users {
    /// Reads and checks the users file; the error names the line's user and what is wrong.
    pub fn load(path: &Path) -> Result<Users, String> {
        let text = std::fs::read_to_string(path).map_err(|e| e.to_string())?;
        Users::parse(&text)
    }

    fn parse(text: &str) -> Result<Users, String> {
        let mut users = BTreeMap::new();
        for (name, value) in rmq_common::config::parse_properties(text) {
            let (role, hash) = value.split_once(':').ok_or_else(|| {
                format!("user {name:?}: expected `{name}=admin:HASH` or `{name}=readonly:HASH`")
            })?;
            let role = match role.trim() {
                "admin" => Role::Admin,
                "readonly" => Role::Readonly,
                other => {
                    return Err(format!(
                        "user {name:?}: role {other:?} is neither admin nor readonly"
                    ))
                }
            };
            let hash = hash.trim();
            PasswordHash::new(hash).map_err(|e| {
                format!(
                    "user {name:?}: the password is not an argon2 hash ({e}); make one with \
                     `mqconsole --hash-password`"
                )
            })?;
            users.insert(name, (role, hash.to_owned()));
        }
        if users.is_empty() {
            return Err("no users in it".into());
        }
        Ok(Users { users })
    }

    /// The user's role when the password matches.
    pub fn check(&self, name: &str, password: &str) -> Option<Role> {
        let (role, hash) = self.users.get(name)?;
        let parsed = PasswordHash::new(hash).ok()?;
        Argon2::default()
            .verify_password(password.as_bytes(), &parsed)
            .ok()
            .map(|()| *role)
    }
}

/// An argon2id PHC string for `password`, with a random salt.
pub fn hash_password(password: &str) -> Result<String, String> {
    let salt = SaltString::generate(&mut OsRng);
    Argon2::default()
        .hash_password(password.as_bytes(), &salt)
        .map(|h| h.to_string())
        .map_err(|e| e.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn checks_passwords_against_their_hashes_and_roles() {
        let text = format!(
            "admin=admin:{}\nviewer = readonly:{}\n",
            hash_password("s3cret").unwrap(),
            hash_password("look").unwrap()
        );
        let users = Users::parse(&text).unwrap();
        assert_eq!(users.check("admin", "s3cret"), Some(Role::Admin));
        assert_eq!(users.check("viewer", "look"), Some(Role::Readonly));
        assert_eq!(users.check("admin", "look"), None);
        assert_eq!(users.check("nobody", "s3cret"), None);
    }

    #[test]
    fn refuses_plain_text_passwords_and_unknown_roles_naming_the_user() {
        let e = Users::parse("admin=admin:hunter2\n").unwrap_err();
        assert!(
            e.contains("\"admin\"") && e.contains("--hash-password"),
            "{e}"
        );
        let e = Users::parse("bob=root:x\n").unwrap_err();
        assert!(e.contains("\"bob\"") && e.contains("root"), "{e}");
        assert!(Users::parse("# nobody\n").is_err());
    }
}
