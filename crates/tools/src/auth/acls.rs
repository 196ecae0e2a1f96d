//! `createAcl`, `updateAcl`, `deleteAcl`, `getAcl`, `listAcl`: ACL 2.0 rules of a subject.

use std::net::IpAddr;

use anyhow::{anyhow, bail, Result};
use clap::Args;
use rmq_client::{AclInfo, PolicyEntryInfo, PolicyInfo};
use serde::Serialize;
use serde_json::json;

use super::{apply, cell, failed_at, one_of, split_list, Brokers};
use crate::output::{emit, print_out};
use crate::session::Session;

/// Apache's `Action` names an operator may grant.
const ACTIONS: [&str; 8] = [
    "Pub", "Sub", "Create", "Update", "Delete", "Get", "List", "All",
];
/// Apache's `Decision` names.
const DECISIONS: [&str; 2] = ["Allow", "Deny"];
/// Apache's `ResourceType` names a resource may start with (`Type:name`).
const RESOURCE_TYPES: [&str; 4] = ["Cluster", "Namespace", "Topic", "Group"];
/// Apache's `SubjectType` names.
const SUBJECT_TYPES: [&str; 1] = ["User"];

/// Arguments of `mqadmin createAcl` and `updateAcl`.
#[derive(Debug, Args)]
pub struct AclArgs {
    #[command(flatten)]
    pub brokers: Brokers,
    /// The subject, `User:<username>`.
    #[arg(short = 's', long = "subject")]
    pub subject: String,
    /// Resources, comma-separated: `*` or `Type:name` (Cluster, Namespace, Topic, Group; a name
    /// ending in `*` is a prefix), e.g. `Topic:T1,Group:G*`.
    #[arg(short = 'r', long = "resources")]
    pub resources: String,
    /// Actions, comma-separated: Pub, Sub, Create, Update, Delete, Get, List, All.
    #[arg(short = 'a', long = "actions")]
    pub actions: String,
    /// Source addresses, comma-separated IPs or CIDRs [default: any].
    #[arg(short = 'i', long = "sourceIp")]
    pub source_ip: Option<String>,
    /// Allow or Deny.
    #[arg(short = 'd', long = "decision")]
    pub decision: String,
}

/// Arguments of `mqadmin deleteAcl`.
#[derive(Debug, Args)]
pub struct DeleteAcl {
    #[command(flatten)]
    pub brokers: Brokers,
    /// The subject, `User:<username>`.
    #[arg(short = 's', long = "subject")]
    pub subject: String,
    /// Only the entries for these resources, comma-separated [default: the whole ACL].
    #[arg(short = 'r', long = "resources")]
    pub resources: Option<String>,
}

/// Arguments of `mqadmin getAcl`.
#[derive(Debug, Args)]
pub struct GetAcl {
    #[command(flatten)]
    pub brokers: Brokers,
    /// The subject, `User:<username>`.
    #[arg(short = 's', long = "subject")]
    pub subject: String,
}

/// Arguments of `mqadmin listAcl`.
#[derive(Debug, Args)]
pub struct ListAcl {
    #[command(flatten)]
    pub brokers: Brokers,
    /// Only ACLs whose subject contains this.
    #[arg(short = 's', long = "subject")]
    pub subject: Option<String>,
    /// Only ACLs with an entry whose resource contains this.
    #[arg(short = 'r', long = "resource")]
    pub resource: Option<String>,
}

/// `-s`: `User:<name>`, the type in Apache's spelling.
pub fn parse_subject(value: &str) -> Result<String> {
    let v = value.trim();
    let Some((kind, name)) = v.split_once(':') else {
        bail!("-s: subject {v:?} has no type; expected User:<username>, e.g. User:alice");
    };
    let kind = one_of("-s", "subject type", kind, &SUBJECT_TYPES)?;
    let name = name.trim();
    if name.is_empty() {
        bail!("-s: subject {v:?} names no user; expected User:<username>");
    }
    Ok(format!("{kind}:{name}"))
}

/// One resource: `*`, or `Type:name` with the type in Apache's spelling; `name` may end with
/// `*` (a prefix) and contains no other `*`.
pub fn parse_resource(value: &str) -> Result<String> {
    let v = value.trim();
    if v == "*" {
        return Ok(v.to_owned());
    }
    let Some((kind, name)) = v.split_once(':') else {
        bail!(
            "-r: resource {v:?} has no type; expected * or Type:name with Type one of {}, \
             e.g. Topic:T1 or Group:G*",
            RESOURCE_TYPES.join(", ")
        );
    };
    let kind = one_of("-r", "resource type", kind, &RESOURCE_TYPES)
        .map_err(|e| anyhow!("{e} (in resource {v:?})"))?;
    let name = name.trim();
    if name.is_empty() {
        bail!("-r: resource {v:?} has no name; expected {kind}:name or {kind}:prefix*");
    }
    if name.trim_end_matches('*').contains('*') || name.ends_with("**") {
        bail!("-r: resource {v:?}: `*` may only end a name (a prefix), e.g. {kind}:prefix*");
    }
    Ok(format!("{kind}:{name}"))
}

/// A resource list (`-r`): at least one, each checked.
pub fn parse_resources(value: &str) -> Result<Vec<String>> {
    let resources = split_list(value)
        .into_iter()
        .map(parse_resource)
        .collect::<Result<Vec<_>>>()?;
    if resources.is_empty() {
        bail!("-r: give at least one resource, e.g. Topic:T1,Group:G*");
    }
    Ok(resources)
}

/// An action list (`-a`): at least one, Apache's names in any case, duplicates dropped.
pub fn parse_actions(value: &str) -> Result<Vec<String>> {
    let mut actions: Vec<String> = Vec::new();
    for a in split_list(value) {
        let a = one_of("-a", "action", a, &ACTIONS)?;
        if !actions.contains(&a) {
            actions.push(a);
        }
    }
    if actions.is_empty() {
        bail!("-a: give at least one action: {}", ACTIONS.join(", "));
    }
    Ok(actions)
}

/// One source address (`-i`): an IPv4 or IPv6 address, or a CIDR block of either.
pub fn parse_source_ip(value: &str) -> Result<String> {
    let v = value.trim();
    let well_formed = match v.split_once('/') {
        None => v.parse::<IpAddr>().is_ok(),
        Some((ip, bits)) => match (ip.parse::<IpAddr>(), bits.parse::<u8>()) {
            (Ok(IpAddr::V4(_)), Ok(b)) => b <= 32,
            (Ok(IpAddr::V6(_)), Ok(b)) => b <= 128,
            _ => false,
        },
    };
    if !well_formed {
        bail!("-i: {v:?} is not an IP address or CIDR block (e.g. 10.0.0.1, 10.0.0.0/8, ::1)");
    }
    Ok(v.to_owned())
}

/// The ACL `createAcl`/`updateAcl` send: one policy (type left to the broker) with one entry
/// per resource, each with the same actions, source addresses and decision.
pub fn acl_info(a: &AclArgs) -> Result<AclInfo> {
    let subject = parse_subject(&a.subject)?;
    let resources = parse_resources(&a.resources)?;
    let actions = parse_actions(&a.actions)?;
    let source_ips = split_list(a.source_ip.as_deref().unwrap_or_default())
        .into_iter()
        .map(parse_source_ip)
        .collect::<Result<Vec<_>>>()?;
    let decision = one_of("-d", "decision", &a.decision, &DECISIONS)?;
    let entries = resources
        .into_iter()
        .map(|resource| PolicyEntryInfo {
            resource: Some(resource),
            actions: actions.clone(),
            source_ips: source_ips.clone(),
            decision: Some(decision.clone()),
        })
        .collect();
    Ok(AclInfo {
        subject: Some(subject),
        policies: vec![PolicyInfo {
            policy_type: None,
            entries,
        }],
    })
}

/// What an ACL command changed, for `--json`.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
struct Applied<'a, T> {
    #[serde(flatten)]
    what: &'a T,
    brokers: Vec<String>,
}

async fn write_acl(s: &Session, a: &AclArgs, update: bool) -> Result<()> {
    let acl = acl_info(a)?;
    let brokers = a.brokers.resolve(s).await?;
    let verb = if update { "update" } else { "create" };
    let line = |addr: &str| format!("{verb} acl to {addr} success.\n");
    let brokers = apply(s, &brokers, line, async |addr: &str| {
        if update {
            s.admin.update_acl(addr, &acl).await
        } else {
            s.admin.create_acl(addr, &acl).await
        }
    })
    .await?;
    if s.json {
        emit(
            true,
            &Applied {
                what: &acl,
                brokers,
            },
            |_| String::new(),
        );
    }
    Ok(())
}

/// Runs `mqadmin createAcl`: `create acl to ADDR success.` per broker.
pub async fn create_acl(s: &Session, a: &AclArgs) -> Result<()> {
    write_acl(s, a, false).await
}

/// Runs `mqadmin updateAcl`: `update acl to ADDR success.` per broker.
pub async fn update_acl(s: &Session, a: &AclArgs) -> Result<()> {
    write_acl(s, a, true).await
}

/// Runs `mqadmin deleteAcl`: each `-r` resource's entry (one call each), or the whole ACL;
/// `delete acl to ADDR success.` per broker.
pub async fn delete_acl(s: &Session, a: &DeleteAcl) -> Result<()> {
    let subject = parse_subject(&a.subject)?;
    let resources = match a.resources.as_deref() {
        Some(r) => parse_resources(r)?,
        None => Vec::new(),
    };
    let brokers = a.brokers.resolve(s).await?;
    let line = |addr: &str| format!("delete acl to {addr} success.\n");
    let brokers = apply(s, &brokers, line, async |addr: &str| {
        if resources.is_empty() {
            return s.admin.delete_acl(addr, &subject, "").await;
        }
        for r in &resources {
            s.admin.delete_acl(addr, &subject, r).await?;
        }
        Ok(())
    })
    .await?;
    if s.json {
        let what = json!({ "subject": subject, "resources": resources });
        emit(
            true,
            &Applied {
                what: &what,
                brokers,
            },
            |_| String::new(),
        );
    }
    Ok(())
}

/// One line of Apache's ACL table (`%-24s  %-12s  %-24s  %-20s  %-24s  %-10s%n`).
fn acl_line(cells: [&str; 6]) -> String {
    let [subject, policy_type, resource, actions, source_ips, decision] = cells;
    format!(
        "{subject:<24}  {policy_type:<12}  {resource:<24}  {actions:<20}  {source_ips:<24}  \
         {decision:<10}\n"
    )
}

/// Apache's ACL table: a header, then one row per policy entry (a subject without entries
/// gets a row of its own).
pub fn acl_table<'a>(acls: impl IntoIterator<Item = &'a AclInfo>) -> String {
    let mut out = acl_line([
        "#Subject",
        "#PolicyType",
        "#Resource",
        "#Actions",
        "#SourceIp",
        "#Decision",
    ]);
    for acl in acls {
        let subject = cell(acl.subject.as_deref());
        let mut rows = 0;
        for p in &acl.policies {
            for e in &p.entries {
                let actions = e.actions.join(",");
                let source_ips = e.source_ips.join(",");
                out.push_str(&acl_line([
                    subject,
                    cell(p.policy_type.as_deref()),
                    cell(e.resource.as_deref()),
                    cell(Some(&actions)),
                    cell(Some(&source_ips)),
                    cell(e.decision.as_deref()),
                ]));
                rows += 1;
            }
        }
        if rows == 0 {
            out.push_str(&acl_line([subject, "-", "-", "-", "-", "-"]));
        }
    }
    out
}

/// Runs `mqadmin getAcl`. With `-c` each broker's answer comes under `get acl from ADDR
/// success.`; the command fails when any broker has no ACL for the subject (`acl not found.`).
/// `--json`: the `AclInfo` (with `-c`, `[{brokerAddr, acl}]`, `acl` null where absent).
pub async fn get_acl(s: &Session, a: &GetAcl) -> Result<()> {
    let subject = parse_subject(&a.subject)?;
    let brokers = a.brokers.resolve(s).await?;
    let mut answers = Vec::with_capacity(brokers.len());
    for addr in &brokers {
        let acl = s
            .admin
            .get_acl(addr, &subject)
            .await
            .map_err(|e| failed_at(s, addr, e))?;
        if a.brokers.is_cluster() && !s.json {
            let body = match &acl {
                Some(acl) => acl_table([acl]),
                None => "acl not found.\n".to_owned(),
            };
            print_out(&format!("get acl from {addr} success.\n{body}"));
        }
        answers.push((addr.clone(), acl));
    }
    if !a.brokers.is_cluster() {
        let Some((_, Some(acl))) = answers.first() else {
            bail!("acl not found.");
        };
        emit(s.json, acl, |acl| acl_table([acl]));
        return Ok(());
    }
    if s.json {
        let v: Vec<_> = answers
            .iter()
            .map(|(addr, acl)| json!({ "brokerAddr": addr, "acl": acl }))
            .collect();
        emit(true, &v, |_| String::new());
    }
    let missing: Vec<&str> = answers
        .iter()
        .filter(|(_, acl)| acl.is_none())
        .map(|(addr, _)| addr.as_str())
        .collect();
    if missing.is_empty() {
        Ok(())
    } else {
        Err(anyhow!(
            "acl not found. ({subject} has no ACL on {})",
            missing.join(", ")
        ))
    }
}

/// Runs `mqadmin listAcl`. With `-c` each broker's table comes under `get acl from ADDR
/// success.`. `--json`: the `AclInfo` list (with `-c`, `[{brokerAddr, acls}]`).
pub async fn list_acl(s: &Session, a: &ListAcl) -> Result<()> {
    let subject = a.subject.as_deref().unwrap_or_default().trim();
    let resource = a.resource.as_deref().unwrap_or_default().trim();
    let brokers = a.brokers.resolve(s).await?;
    let mut answers = Vec::with_capacity(brokers.len());
    for addr in &brokers {
        let acls = s
            .admin
            .list_acls(addr, subject, resource)
            .await
            .map_err(|e| failed_at(s, addr, e))?;
        if a.brokers.is_cluster() && !s.json {
            print_out(&format!(
                "get acl from {addr} success.\n{}",
                acl_table(&acls)
            ));
        }
        answers.push((addr.clone(), acls));
    }
    if !a.brokers.is_cluster() {
        let acls = answers.pop().map(|(_, acls)| acls).unwrap_or_default();
        emit(s.json, &acls, |acls| acl_table(acls));
    } else if s.json {
        let v: Vec<_> = answers
            .iter()
            .map(|(addr, acls)| json!({ "brokerAddr": addr, "acls": acls }))
            .collect();
        emit(true, &v, |_| String::new());
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn err_of<T: std::fmt::Debug>(r: Result<T>) -> String {
        match r {
            Ok(v) => panic!("expected an error, got {v:?}"),
            Err(e) => e.to_string(),
        }
    }

    #[test]
    fn actions_parse_in_any_case_without_duplicates() {
        assert_eq!(
            parse_actions("pub, SUB;get,Pub").ok(),
            Some(vec!["Pub".to_owned(), "Sub".to_owned(), "Get".to_owned()])
        );
        assert_eq!(parse_actions("all").ok(), Some(vec!["All".to_owned()]));
        let e = err_of(parse_actions("Pub,Publish"));
        assert!(e.starts_with("-a: unknown action \"Publish\""), "{e}");
        assert!(err_of(parse_actions(" , ")).starts_with("-a: give at least one action"));
        // `Any` is what a request needs, not something a policy grants.
        assert!(parse_actions("Any").is_err());
    }

    #[test]
    fn resources_need_a_type_and_may_end_in_a_prefix_star() {
        assert_eq!(
            parse_resources("topic:T1, Group:G*,*,cluster:DefaultCluster,NAMESPACE:ns").ok(),
            Some(vec![
                "Topic:T1".to_owned(),
                "Group:G*".to_owned(),
                "*".to_owned(),
                "Cluster:DefaultCluster".to_owned(),
                "Namespace:ns".to_owned(),
            ])
        );
        assert_eq!(parse_resource("Topic:*").ok().as_deref(), Some("Topic:*"));
        let e = err_of(parse_resource("T1"));
        assert!(e.starts_with("-r: resource \"T1\" has no type"), "{e}");
        let e = err_of(parse_resource("Queue:T1"));
        assert!(
            e.starts_with("-r: unknown resource type \"Queue\"") && e.contains("Topic"),
            "{e}"
        );
        assert!(err_of(parse_resource("Topic:")).contains("has no name"));
        assert!(err_of(parse_resource("Topic:a*b")).contains("may only end"));
        assert!(err_of(parse_resource("Topic:a**")).contains("may only end"));
        assert!(err_of(parse_resources(",")).starts_with("-r: give at least one"));
    }

    #[test]
    fn source_ips_are_addresses_or_cidrs() {
        for ok in [
            "10.0.0.1",
            "10.0.0.0/8",
            "0.0.0.0/0",
            "::1",
            "fe80::/10",
            "::/128",
        ] {
            assert_eq!(parse_source_ip(ok).ok().as_deref(), Some(ok), "{ok}");
        }
        for bad in [
            "10.0.0",
            "10.0.0.256",
            "10.0.0.0/33",
            "::1/129",
            "10.0.0.0/",
            "host",
            "10.0.0.*",
        ] {
            assert!(err_of(parse_source_ip(bad)).starts_with("-i: "), "{bad}");
        }
    }

    #[test]
    fn subjects_are_users() {
        assert_eq!(
            parse_subject(" user:alice ").ok().as_deref(),
            Some("User:alice")
        );
        assert!(err_of(parse_subject("alice")).contains("has no type"));
        assert!(err_of(parse_subject("Role:alice")).starts_with("-s: unknown subject type"));
        assert!(err_of(parse_subject("User:")).contains("names no user"));
    }

    fn args(resources: &str, actions: &str, ips: Option<&str>, decision: &str) -> AclArgs {
        AclArgs {
            brokers: Brokers {
                broker_addr: None,
                cluster: Some("DefaultCluster".to_owned()),
            },
            subject: "User:alice".to_owned(),
            resources: resources.to_owned(),
            actions: actions.to_owned(),
            source_ip: ips.map(str::to_owned),
            decision: decision.to_owned(),
        }
    }

    #[test]
    fn one_policy_with_an_entry_per_resource() {
        let acl = acl_info(&args(
            "Topic:T1,Group:G*",
            "pub,sub",
            Some("10.0.0.0/8, 192.168.0.1"),
            "allow",
        ));
        let entry = |resource: &str| PolicyEntryInfo {
            resource: Some(resource.to_owned()),
            actions: vec!["Pub".to_owned(), "Sub".to_owned()],
            source_ips: vec!["10.0.0.0/8".to_owned(), "192.168.0.1".to_owned()],
            decision: Some("Allow".to_owned()),
        };
        assert_eq!(
            acl.ok(),
            Some(AclInfo {
                subject: Some("User:alice".to_owned()),
                policies: vec![PolicyInfo {
                    policy_type: None,
                    entries: vec![entry("Topic:T1"), entry("Group:G*")],
                }],
            })
        );
        let any_ip = acl_info(&args("*", "All", None, "Deny")).ok();
        let e = any_ip
            .as_ref()
            .and_then(|a| a.policies.first())
            .and_then(|p| p.entries.first());
        assert!(e.is_some_and(|e| e.source_ips.is_empty()));
        assert!(err_of(acl_info(&args("*", "All", None, "Maybe"))).starts_with("-d: unknown"));
        assert!(err_of(acl_info(&args("*", "All", Some("1.2.3"), "Deny"))).starts_with("-i: "));
        assert!(err_of(acl_info(&args("T", "All", None, "Deny"))).starts_with("-r: "));
    }

    #[test]
    fn the_acl_table_is_apaches() {
        let acl = acl_info(&args("Topic:T1", "Pub,Sub", None, "Allow")).ok();
        let text = acl_table(acl.as_slice());
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(
            lines[0],
            format!(
                "{:<24}  {:<12}  {:<24}  {:<20}  {:<24}  {:<10}",
                "#Subject", "#PolicyType", "#Resource", "#Actions", "#SourceIp", "#Decision"
            )
        );
        assert_eq!(
            lines[1].split_whitespace().collect::<Vec<_>>(),
            ["User:alice", "-", "Topic:T1", "Pub,Sub", "-", "Allow"]
        );
        let bare = AclInfo {
            subject: Some("User:bob".to_owned()),
            policies: Vec::new(),
        };
        assert_eq!(acl_table([&bare]).lines().count(), 2);
    }
}
