//! `createUser`, `updateUser`, `deleteUser`, `getUser`, `listUser`: ACL 2.0 users.

use anyhow::{anyhow, bail, Result};
use clap::{ArgGroup, Args};
use rmq_client::UserInfo;
use serde::Serialize;
use serde_json::json;

use super::{apply, cell, failed_at, one_of, Brokers};
use crate::output::{emit, print_out};
use crate::session::Session;

/// Apache's `UserType` names.
const USER_TYPES: [&str; 2] = ["Super", "Normal"];
/// Apache's `UserStatus` names.
const USER_STATUSES: [&str; 2] = ["enable", "disable"];

/// Arguments of `mqadmin createUser`.
#[derive(Debug, Args)]
pub struct CreateUser {
    #[command(flatten)]
    pub brokers: Brokers,
    /// The user's name.
    #[arg(short = 'u', long = "username")]
    pub username: String,
    /// The user's password.
    #[arg(short = 'p', long = "password")]
    pub password: String,
    /// Super or Normal [broker's default: Normal].
    #[arg(short = 't', long = "userType")]
    pub user_type: Option<String>,
}

/// Arguments of `mqadmin updateUser` (at least one of -p, -t, -s).
#[derive(Debug, Args)]
#[command(group(
    ArgGroup::new("change")
        .required(true)
        .multiple(true)
        .args(["password", "user_type", "user_status"])
))]
pub struct UpdateUser {
    #[command(flatten)]
    pub brokers: Brokers,
    /// The user's name.
    #[arg(short = 'u', long = "username")]
    pub username: String,
    /// The new password.
    #[arg(short = 'p', long = "password")]
    pub password: Option<String>,
    /// The new type: Super or Normal.
    #[arg(short = 't', long = "userType")]
    pub user_type: Option<String>,
    /// The new status: enable or disable.
    #[arg(short = 's', long = "userStatus")]
    pub user_status: Option<String>,
}

/// Arguments of `mqadmin deleteUser`.
#[derive(Debug, Args)]
pub struct DeleteUser {
    #[command(flatten)]
    pub brokers: Brokers,
    /// The user's name.
    #[arg(short = 'u', long = "username")]
    pub username: String,
}

/// Arguments of `mqadmin getUser`.
#[derive(Debug, Args)]
pub struct GetUser {
    #[command(flatten)]
    pub brokers: Brokers,
    /// The user's name.
    #[arg(short = 'u', long = "username")]
    pub username: String,
}

/// Arguments of `mqadmin listUser`.
#[derive(Debug, Args)]
pub struct ListUser {
    #[command(flatten)]
    pub brokers: Brokers,
    /// Only users whose name contains this.
    #[arg(short = 'f', long = "filter")]
    pub filter: Option<String>,
}

/// `-u`, trimmed and not empty.
fn username(value: &str) -> Result<String> {
    let v = value.trim();
    if v.is_empty() {
        bail!("-u must name a user");
    }
    Ok(v.to_owned())
}

/// `-p`, trimmed (as Apache's tools do) and not empty.
fn password(value: &str) -> Result<String> {
    let v = value.trim();
    if v.is_empty() {
        bail!("-p: the password must not be empty");
    }
    Ok(v.to_owned())
}

/// The user `createUser` sends.
fn new_user(a: &CreateUser) -> Result<UserInfo> {
    Ok(UserInfo {
        username: Some(username(&a.username)?),
        password: Some(password(&a.password)?),
        user_type: a
            .user_type
            .as_deref()
            .map(|t| one_of("-t", "user type", t, &USER_TYPES))
            .transpose()?,
        user_status: None,
    })
}

/// The change `updateUser` sends: only the fields given.
fn changed_user(a: &UpdateUser) -> Result<UserInfo> {
    Ok(UserInfo {
        username: Some(username(&a.username)?),
        password: a.password.as_deref().map(password).transpose()?,
        user_type: a
            .user_type
            .as_deref()
            .map(|t| one_of("-t", "user type", t, &USER_TYPES))
            .transpose()?,
        user_status: a
            .user_status
            .as_deref()
            .map(|t| one_of("-s", "user status", t, &USER_STATUSES))
            .transpose()?,
    })
}

/// What a user command changed, for `--json`.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
struct Applied<'a> {
    username: &'a str,
    brokers: Vec<String>,
}

fn report(s: &Session, username: &str, brokers: Vec<String>) {
    if s.json {
        emit(true, &Applied { username, brokers }, |_| String::new());
    }
}

/// Runs `mqadmin createUser`: `create user to ADDR success.` per broker.
pub async fn create_user(s: &Session, a: &CreateUser) -> Result<()> {
    let user = new_user(a)?;
    let brokers = a.brokers.resolve(s).await?;
    let line = |addr: &str| format!("create user to {addr} success.\n");
    let done = apply(s, &brokers, line, async |addr: &str| {
        s.admin.create_user(addr, &user).await
    })
    .await?;
    report(s, user.username.as_deref().unwrap_or_default(), done);
    Ok(())
}

/// Runs `mqadmin updateUser`: `update user to ADDR success.` per broker.
pub async fn update_user(s: &Session, a: &UpdateUser) -> Result<()> {
    let user = changed_user(a)?;
    let brokers = a.brokers.resolve(s).await?;
    let line = |addr: &str| format!("update user to {addr} success.\n");
    let done = apply(s, &brokers, line, async |addr: &str| {
        s.admin.update_user(addr, &user).await
    })
    .await?;
    report(s, user.username.as_deref().unwrap_or_default(), done);
    Ok(())
}

/// Runs `mqadmin deleteUser`: `delete user from ADDR success.` per broker.
pub async fn delete_user(s: &Session, a: &DeleteUser) -> Result<()> {
    let name = username(&a.username)?;
    let brokers = a.brokers.resolve(s).await?;
    let line = |addr: &str| format!("delete user from {addr} success.\n");
    let done = apply(s, &brokers, line, async |addr: &str| {
        s.admin.delete_user(addr, &name).await
    })
    .await?;
    report(s, &name, done);
    Ok(())
}

/// One line of Apache's user table (`%-16s  %-22s  %-22s  %-22s%n`).
fn user_line(name: &str, password: &str, user_type: &str, status: &str) -> String {
    format!("{name:<16}  {password:<22}  {user_type:<22}  {status:<22}\n")
}

/// Apache's user table: a header, then one row per user.
pub fn user_table<'a>(users: impl IntoIterator<Item = &'a UserInfo>) -> String {
    let mut out = user_line("#UserName", "#Password", "#UserType", "#UserStatus");
    for u in users {
        out.push_str(&user_line(
            cell(u.username.as_deref()),
            cell(u.password.as_deref()),
            cell(u.user_type.as_deref()),
            cell(u.user_status.as_deref()),
        ));
    }
    out
}

/// Runs `mqadmin getUser`. With `-c` each broker's answer comes under `get user from ADDR
/// success.`; the command fails when any broker has no such user (`user not found.`).
/// `--json`: the `UserInfo` (with `-c`, `[{brokerAddr, user}]`, `user` null where absent).
pub async fn get_user(s: &Session, a: &GetUser) -> Result<()> {
    let name = username(&a.username)?;
    let brokers = a.brokers.resolve(s).await?;
    let mut answers = Vec::with_capacity(brokers.len());
    for addr in &brokers {
        let user = s
            .admin
            .get_user(addr, &name)
            .await
            .map_err(|e| failed_at(s, addr, e))?;
        if a.brokers.is_cluster() && !s.json {
            let body = match &user {
                Some(u) => user_table([u]),
                None => "user not found.\n".to_owned(),
            };
            print_out(&format!("get user from {addr} success.\n{body}"));
        }
        answers.push((addr.clone(), user));
    }
    let missing: Vec<&str> = answers
        .iter()
        .filter(|(_, u)| u.is_none())
        .map(|(addr, _)| addr.as_str())
        .collect();
    if !a.brokers.is_cluster() {
        let Some((_, Some(user))) = answers.first() else {
            bail!("user not found.");
        };
        emit(s.json, user, |u| user_table([u]));
        return Ok(());
    }
    if s.json {
        let v: Vec<_> = answers
            .iter()
            .map(|(addr, u)| json!({ "brokerAddr": addr, "user": u }))
            .collect();
        emit(true, &v, |_| String::new());
    }
    if missing.is_empty() {
        Ok(())
    } else {
        Err(anyhow!(
            "user not found. (user {name} is missing on {})",
            missing.join(", ")
        ))
    }
}

/// Runs `mqadmin listUser`. With `-c` each broker's table comes under `get user from ADDR
/// success.`. `--json`: the `UserInfo` list (with `-c`, `[{brokerAddr, users}]`).
pub async fn list_user(s: &Session, a: &ListUser) -> Result<()> {
    let filter = a.filter.as_deref().unwrap_or_default().trim();
    let brokers = a.brokers.resolve(s).await?;
    let mut answers = Vec::with_capacity(brokers.len());
    for addr in &brokers {
        let users = s
            .admin
            .list_users(addr, filter)
            .await
            .map_err(|e| failed_at(s, addr, e))?;
        if a.brokers.is_cluster() && !s.json {
            print_out(&format!(
                "get user from {addr} success.\n{}",
                user_table(&users)
            ));
        }
        answers.push((addr.clone(), users));
    }
    if !a.brokers.is_cluster() {
        let users = answers.pop().map(|(_, u)| u).unwrap_or_default();
        emit(s.json, &users, |u| user_table(u));
    } else if s.json {
        let v: Vec<_> = answers
            .iter()
            .map(|(addr, u)| json!({ "brokerAddr": addr, "users": u }))
            .collect();
        emit(true, &v, |_| String::new());
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn brokers() -> Brokers {
        Brokers {
            broker_addr: Some("127.0.0.1:10911".to_owned()),
            cluster: None,
        }
    }

    #[test]
    fn users_are_checked_before_sending() {
        let mut a = CreateUser {
            brokers: brokers(),
            username: " alice ".to_owned(),
            password: "pw".to_owned(),
            user_type: Some("super".to_owned()),
        };
        let user = new_user(&a).ok();
        assert_eq!(
            user.as_ref().and_then(|u| u.user_type.as_deref()),
            Some("Super")
        );
        assert_eq!(
            user.as_ref().and_then(|u| u.username.as_deref()),
            Some("alice")
        );
        a.user_type = Some("root".to_owned());
        assert!(new_user(&a).is_err());
        a.user_type = None;
        a.password = "  ".to_owned();
        assert!(new_user(&a).is_err_and(|e| e.to_string().starts_with("-p")));

        let u = UpdateUser {
            brokers: brokers(),
            username: "alice".to_owned(),
            password: None,
            user_type: None,
            user_status: Some("DISABLE".to_owned()),
        };
        let change = changed_user(&u).ok();
        assert_eq!(
            change,
            Some(UserInfo {
                username: Some("alice".to_owned()),
                user_status: Some("disable".to_owned()),
                ..Default::default()
            })
        );
        let u = UpdateUser {
            user_status: Some("off".to_owned()),
            ..u
        };
        assert!(changed_user(&u).is_err_and(|e| e.to_string().starts_with("-s: unknown")));
    }

    #[test]
    fn the_user_table_is_apaches() {
        let users = [UserInfo {
            username: Some("alice".to_owned()),
            password: Some("pw".to_owned()),
            user_type: Some("Normal".to_owned()),
            user_status: None,
        }];
        let text = user_table(&users);
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(
            lines[0],
            format!(
                "{:<16}  {:<22}  {:<22}  {:<22}",
                "#UserName", "#Password", "#UserType", "#UserStatus"
            )
        );
        assert!(lines[1].starts_with("alice             pw      "));
        assert_eq!(
            lines[1].split_whitespace().collect::<Vec<_>>(),
            ["alice", "pw", "Normal", "-"]
        );
    }
}
