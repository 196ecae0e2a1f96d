//! ACL 1.0 commands, with Apache 4.9's names, flags and output: a broker's `plain_acl.yml`
//! edited and read through the broker — `updateAclConfig` (an account), `deleteAclConfig`,
//! `updateGlobalWhiteAddr`, `clusterAclConfigVersion` and `getAclConfig`.
//!
//! Every broker keeps its own file. The commands that change it act on one broker (`-b`) or on
//! every broker of a cluster (`-c`), masters and slaves alike, as Apache 4.9.3+ does
//! (`CommandUtil.fetchMasterAndSlaveAddrByClusterName`), so a slave never keeps an account
//! its master lost. The two that read it ask only the masters of a cluster (Apache's
//! `CommandUtil.fetchMasterAddrByClusterName`). Input is checked before anything is sent; a
//! broker's refusal is reported with its address, its code and its remark.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use anyhow::{anyhow, bail, Result};
use clap::Args;
use rmq_client::{
    CreateAccessConfigRequestHeader, GetBrokerAclConfigResponseHeader,
    GetBrokerClusterAclConfigResponseBody,
};
use serde::{Deserialize, Serialize};
use serde_json::json;

use crate::auth::{apply, failed_at, one_of, split_list, Brokers};
use crate::output::{emit, format_millis, print_out};
use crate::session::Session;

/// The permissions `plain_acl.yml` knows (Apache's `Permission.parsePermFromString`).
const PERMS: [&str; 5] = ["DENY", "PUB", "SUB", "PUB|SUB", "SUB|PUB"];
/// The shortest access or secret key Apache's tools and rmq's broker take.
const MIN_KEY_CHARS: usize = 6;
/// The `-c` help of the commands that only read (they ask the masters).
///
/// (`-a`/`-s` get ids of their own: `access_key`/`secret_key` are mqadmin's global
/// `--access-key`/`--secret-key`, the account requests are signed with.)
const MASTERS_HELP: &str = "Every master of this cluster";

/// Arguments of `mqadmin updateAclConfig`: the fields given replace the account's, the others
/// stay; an account that does not exist yet is created (it then needs `-s`).
#[derive(Debug, Args)]
pub struct UpdateAclConfig {
    #[command(flatten)]
    pub brokers: Brokers,
    /// The account's access key (at least 6 characters).
    #[arg(
        id = "acl_access_key",
        short = 'a',
        long = "accessKey",
        value_name = "AK"
    )]
    pub access_key: String,
    /// The account's secret key (at least 6 characters).
    #[arg(
        id = "acl_secret_key",
        short = 's',
        long = "secretKey",
        value_name = "SK"
    )]
    pub secret_key: Option<String>,
    /// Where the account may connect from, e.g. 192.168.0.*.
    #[arg(short = 'w', long = "whiteRemoteAddress")]
    pub white_remote_address: Option<String>,
    /// The permission on topics not in -t: DENY, PUB, SUB, PUB|SUB or SUB|PUB.
    #[arg(short = 'i', long = "defaultTopicPerm")]
    pub default_topic_perm: Option<String>,
    /// The permission on groups not in -g: DENY, PUB, SUB, PUB|SUB or SUB|PUB.
    #[arg(short = 'u', long = "defaultGroupPerm")]
    pub default_group_perm: Option<String>,
    /// Per-topic permissions, e.g. topicA=DENY,topicD=SUB (empty: none).
    #[arg(short = 't', long = "topicPerms")]
    pub topic_perms: Option<String>,
    /// Per-group permissions, e.g. groupA=DENY,groupD=SUB (empty: none).
    #[arg(short = 'g', long = "groupPerms")]
    pub group_perms: Option<String>,
    /// Whether the account is an admin: true or false.
    #[arg(short = 'm', long = "admin")]
    pub admin: Option<String>,
}

/// Arguments of `mqadmin deleteAclConfig`.
#[derive(Debug, Args)]
pub struct DeleteAclConfig {
    #[command(flatten)]
    pub brokers: Brokers,
    /// The access key of the account to delete.
    #[arg(
        id = "acl_access_key",
        short = 'a',
        long = "accessKey",
        value_name = "AK"
    )]
    pub access_key: String,
}

/// Arguments of `mqadmin updateGlobalWhiteAddr`.
#[derive(Debug, Args)]
pub struct UpdateGlobalWhiteAddr {
    #[command(flatten)]
    pub brokers: Brokers,
    /// The addresses every account may connect from, comma-separated, e.g.
    /// 10.10.103.*,192.168.0.* ("" clears the list). Replaces the list.
    #[arg(short = 'g', long = "globalWhiteRemoteAddresses")]
    pub addresses: String,
    /// Ignored: an rmq broker has one ACL file (Apache's brokers may have several).
    #[arg(short = 'p', long = "aclFileFullPath", value_name = "PATH")]
    pub acl_file_full_path: Option<String>,
}

/// Arguments of `mqadmin clusterAclConfigVersion`.
#[derive(Debug, Args)]
#[command(mut_arg("cluster", |a| a.help(MASTERS_HELP)))]
pub struct ClusterAclConfigVersion {
    #[command(flatten)]
    pub brokers: Brokers,
}

/// Arguments of `mqadmin getAclConfig`.
#[derive(Debug, Args)]
#[command(mut_arg("cluster", |a| a.help(MASTERS_HELP)))]
pub struct GetAclConfig {
    #[command(flatten)]
    pub brokers: Brokers,
}

/// An access (`-a`) or secret (`-s`) key: trimmed, as Apache's tools do, and at least
/// [`MIN_KEY_CHARS`] characters long.
pub fn parse_key(flag: &str, what: &str, value: &str) -> Result<String> {
    let v = value.trim();
    if v.chars().count() < MIN_KEY_CHARS {
        bail!(
            "{flag}: the {what} must be at least {MIN_KEY_CHARS} characters long (got {})",
            v.chars().count()
        );
    }
    Ok(v.to_owned())
}

/// A permission (`-i`, `-u`): one of [`PERMS`] in any case, sent in Apache's spelling.
pub fn parse_perm(flag: &str, value: &str) -> Result<String> {
    one_of(flag, "permission", value, &PERMS)
}

/// A permission list (`-t`, `-g`): `NAME=PERM` entries, comma-separated, as the broker wants
/// them (`topicA=DENY,topicD=SUB`); an empty list (no entries) is allowed and means none.
pub fn parse_perm_list(flag: &str, what: &str, value: &str) -> Result<String> {
    let mut entries: Vec<String> = Vec::new();
    for entry in split_list(value) {
        let Some((name, perm)) = entry.split_once('=') else {
            bail!("{flag}: {entry:?} is not {what}=PERM (e.g. {what}A=DENY,{what}B=PUB|SUB)");
        };
        let name = name.trim();
        if name.is_empty() {
            bail!("{flag}: {entry:?} names no {what}; expected {what}=PERM");
        }
        let perm = parse_perm(flag, perm).map_err(|e| anyhow!("{e} (in {entry:?})"))?;
        entries.push(format!("{name}={perm}"));
    }
    Ok(entries.join(","))
}

/// `-m`: `true` or `false`, in any case.
pub fn parse_admin(value: &str) -> Result<bool> {
    Ok(one_of("-m", "admin flag", value, &["true", "false"])? == "true")
}

/// The account `updateAclConfig` sends: only the fields given, each checked.
pub fn account(a: &UpdateAclConfig) -> Result<CreateAccessConfigRequestHeader> {
    Ok(CreateAccessConfigRequestHeader {
        access_key: Some(parse_key("-a", "access key", &a.access_key)?),
        secret_key: a
            .secret_key
            .as_deref()
            .map(|v| parse_key("-s", "secret key", v))
            .transpose()?,
        white_remote_address: a
            .white_remote_address
            .as_deref()
            .map(|v| v.trim().to_owned()),
        admin: a.admin.as_deref().map(parse_admin).transpose()?,
        default_topic_perm: a
            .default_topic_perm
            .as_deref()
            .map(|v| parse_perm("-i", v))
            .transpose()?,
        default_group_perm: a
            .default_group_perm
            .as_deref()
            .map(|v| parse_perm("-u", v))
            .transpose()?,
        topic_perms: a
            .topic_perms
            .as_deref()
            .map(|v| parse_perm_list("-t", "topic", v))
            .transpose()?,
        group_perms: a
            .group_perms
            .as_deref()
            .map(|v| parse_perm_list("-g", "group", v))
            .transpose()?,
    })
}

/// `-g` of `updateGlobalWhiteAddr`: the patterns, trimmed, empty ones dropped (an empty list
/// clears it). Split at `,` only, as the broker splits them.
pub fn global_white_addrs(value: &str) -> Vec<String> {
    value
        .split(',')
        .map(str::trim)
        .filter(|p| !p.is_empty())
        .map(str::to_owned)
        .collect()
}

/// The broker addresses a reading command asks: the one at `-b`, or every master of the `-c`
/// cluster, by broker name.
async fn masters(b: &Brokers, s: &Session) -> Result<Vec<String>> {
    match (b.broker_addr.as_deref(), b.cluster.as_deref()) {
        (None, Some(cluster)) => {
            let masters = s
                .admin
                .cluster_masters(cluster.trim())
                .await
                .map_err(|e| s.explain(e))?;
            Ok(masters.into_iter().map(|m| m.addr).collect())
        }
        _ => b.resolve(s).await,
    }
}

/// What `updateAclConfig` changed, for `--json` (the secret key itself is not echoed).
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
struct AccountApplied<'a> {
    access_key: &'a str,
    secret_key_changed: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    white_remote_address: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    admin: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    default_topic_perm: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    default_group_perm: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    topic_perms: Option<Vec<&'a str>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    group_perms: Option<Vec<&'a str>>,
    brokers: Vec<String>,
}

/// `a=DENY,b=SUB` as its entries (none for an empty list).
fn entries(list: Option<&str>) -> Option<Vec<&str>> {
    list.map(|l| l.split(',').filter(|e| !e.is_empty()).collect())
}

/// Runs `mqadmin updateAclConfig`: `create or update plain access config to ADDR success.` per
/// broker.
pub async fn update_acl_config(s: &Session, a: &UpdateAclConfig) -> Result<()> {
    let account = account(a)?;
    let brokers = a.brokers.resolve(s).await?;
    let line = |addr: &str| format!("create or update plain access config to {addr} success.\n");
    let done = apply(s, &brokers, line, async |addr: &str| {
        s.admin.update_acl_config(addr, &account).await
    })
    .await?;
    if s.json {
        let applied = AccountApplied {
            access_key: account.access_key.as_deref().unwrap_or_default(),
            secret_key_changed: account.secret_key.is_some(),
            white_remote_address: account.white_remote_address.as_deref(),
            admin: account.admin,
            default_topic_perm: account.default_topic_perm.as_deref(),
            default_group_perm: account.default_group_perm.as_deref(),
            topic_perms: entries(account.topic_perms.as_deref()),
            group_perms: entries(account.group_perms.as_deref()),
            brokers: done,
        };
        emit(true, &applied, |_| String::new());
    }
    Ok(())
}

/// Runs `mqadmin deleteAclConfig`: `delete plain access config account from ADDR success.` per
/// broker.
pub async fn delete_acl_config(s: &Session, a: &DeleteAclConfig) -> Result<()> {
    let access_key = a.access_key.trim();
    if access_key.is_empty() {
        bail!("-a must name an account's access key");
    }
    let brokers = a.brokers.resolve(s).await?;
    let line = |addr: &str| format!("delete plain access config account from {addr} success.\n");
    let done = apply(s, &brokers, line, async |addr: &str| {
        s.admin.delete_acl_config(addr, access_key).await
    })
    .await?;
    if s.json {
        let v = json!({ "accessKey": access_key, "brokers": done });
        emit(true, &v, |_| String::new());
    }
    Ok(())
}

/// Runs `mqadmin updateGlobalWhiteAddr`: `update global white remote addresses to ADDR
/// success.` per broker.
pub async fn update_global_white_addr(s: &Session, a: &UpdateGlobalWhiteAddr) -> Result<()> {
    let addrs = global_white_addrs(&a.addresses);
    if let Some(path) = &a.acl_file_full_path {
        eprintln!(
            "note: -p {} is ignored: an rmq broker has one ACL file (its aclFile setting)",
            path.trim()
        );
    }
    let patterns = addrs.join(",");
    let brokers = a.brokers.resolve(s).await?;
    let line = |addr: &str| format!("update global white remote addresses to {addr} success.\n");
    let done = apply(s, &brokers, line, async |addr: &str| {
        s.admin.update_global_white_addrs(addr, &patterns).await
    })
    .await?;
    if s.json {
        let v = json!({ "globalWhiteRemoteAddresses": addrs, "brokers": done });
        emit(true, &v, |_| String::new());
    }
    Ok(())
}

/// Apache's `DataVersion` as JSON (`{"counter":N,"timestamp":MS}`; other keys ignored).
#[derive(Debug, Deserialize)]
struct DataVersion {
    counter: u64,
    timestamp: i64,
}

/// One row of `clusterAclConfigVersion`: a broker's ACL file and its version.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct VersionRow {
    pub cluster_name: String,
    pub broker_name: String,
    pub broker_addr: String,
    /// The file, or `-` when the broker named none.
    pub acl_file_path: String,
    /// The version counter (absent when the version did not parse).
    pub counter: Option<u64>,
    /// The last change, milliseconds since the epoch (absent when the version did not parse).
    pub timestamp: Option<i64>,
    /// The last change as `yyyy-MM-dd HH:mm:ss` UTC (`-` when unknown).
    pub last_update_time: String,
    /// The version as the broker sent it, when it did not parse.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub raw: Option<String>,
}

impl VersionRow {
    /// The version number column: the counter, or the unparsed text.
    fn version_cell(&self) -> String {
        match (self.counter, &self.raw) {
            (Some(c), _) => c.to_string(),
            (None, Some(raw)) => raw.clone(),
            (None, None) => "-".to_owned(),
        }
    }
}

/// `ms` as `yyyy-MM-dd HH:mm:ss` at `offset_secs` east of UTC; `-` for 0 or less (never).
pub fn datetime_at_offset(ms: i64, offset_secs: i64) -> String {
    if ms <= 0 {
        return "-".to_owned();
    }
    let shifted = ms.saturating_add(offset_secs.saturating_mul(1000));
    let text = format_millis(shifted);
    // `format_millis` writes `yyyy-MM-dd HH:mm:ss.SSS`; Apache's column has no millis.
    match text.split_once('.') {
        Some((seconds, _)) => seconds.to_owned(),
        None => text,
    }
}

/// `ms` as `yyyy-MM-dd HH:mm:ss` in UTC, as every mqadmin command of rmq prints times.
pub fn utc_datetime(ms: i64) -> String {
    datetime_at_offset(ms, 0)
}

/// A row for `version` (a `DataVersion`'s JSON) of `file`; the text kept raw if it does not
/// parse.
fn version_row(
    base: &VersionRow,
    file: &str,
    version: Option<&str>,
    time: &dyn Fn(i64) -> String,
) -> VersionRow {
    let mut row = VersionRow {
        acl_file_path: file.to_owned(),
        ..base.clone()
    };
    match version.map(|v| (v, serde_json::from_str::<DataVersion>(v))) {
        Some((_, Ok(v))) => {
            row.counter = Some(v.counter);
            row.timestamp = Some(v.timestamp);
            row.last_update_time = time(v.timestamp);
        }
        Some((raw, Err(_))) => row.raw = Some(raw.to_owned()),
        None => {}
    }
    row
}

/// The rows of one broker's answer: one per file of `allAclFileVersion`, or, when the broker
/// sent no files, one for its `version`. `addr` stands in for a missing `brokerAddr`; `time`
/// formats a timestamp.
pub fn version_rows(
    addr: &str,
    h: &GetBrokerAclConfigResponseHeader,
    time: &dyn Fn(i64) -> String,
) -> Vec<VersionRow> {
    let text = |v: &Option<String>, default: &str| {
        v.as_deref()
            .map(str::trim)
            .filter(|v| !v.is_empty())
            .unwrap_or(default)
            .to_owned()
    };
    let base = VersionRow {
        cluster_name: text(&h.cluster_name, "-"),
        broker_name: text(&h.broker_name, "-"),
        broker_addr: text(&h.broker_addr, addr),
        acl_file_path: "-".to_owned(),
        counter: None,
        timestamp: None,
        last_update_time: "-".to_owned(),
        raw: None,
    };
    let files = h
        .all_acl_file_version
        .as_deref()
        .map(str::trim)
        .filter(|v| !v.is_empty());
    if let Some(files) = files {
        match serde_json::from_str::<BTreeMap<String, serde_json::Value>>(files) {
            Ok(map) if !map.is_empty() => {
                return map
                    .iter()
                    .map(|(file, v)| version_row(&base, file, Some(&v.to_string()), time))
                    .collect();
            }
            Ok(_) => {}
            Err(_) => {
                return vec![VersionRow {
                    raw: Some(files.to_owned()),
                    ..base
                }]
            }
        }
    }
    let version = h
        .version
        .as_deref()
        .map(str::trim)
        .filter(|v| !v.is_empty());
    vec![version_row(&base, "-", version, time)]
}

/// One line of Apache's version table (`%-16s  %-22s  %-22s  %-20s  %-22s  %-22s%n`).
fn version_line(cells: [&str; 6]) -> String {
    let [cluster, name, addr, file, version, time] = cells;
    format!("{cluster:<16}  {name:<22}  {addr:<22}  {file:<20}  {version:<22}  {time:<22}\n")
}

/// The header of Apache's version table.
pub fn version_header() -> String {
    version_line([
        "#Cluster Name",
        "#Broker Name",
        "#Broker Addr",
        "#AclFilePath",
        "#AclConfigVersionNum",
        "#AclLastUpdateTime",
    ])
}

/// Rows of Apache's version table.
pub fn version_table_rows(rows: &[VersionRow]) -> String {
    let mut out = String::new();
    for r in rows {
        let version = r.version_cell();
        out.push_str(&version_line([
            &r.cluster_name,
            &r.broker_name,
            &r.broker_addr,
            &r.acl_file_path,
            &version,
            &r.last_update_time,
        ]));
    }
    out
}

/// Runs `mqadmin clusterAclConfigVersion`: Apache's table (a row per ACL file of each broker),
/// then `get broker's plain access config version success.` (`-b`) or `get cluster's plain
/// access config version success.` (`-c`). `--json`: the rows.
pub async fn cluster_acl_config_version(s: &Session, a: &ClusterAclConfigVersion) -> Result<()> {
    let brokers = masters(&a.brokers, s).await?;
    if !s.json {
        print_out(&version_header());
    }
    let mut rows = Vec::new();
    for addr in &brokers {
        let h = s
            .admin
            .acl_config_version(addr)
            .await
            .map_err(|e| failed_at(s, addr, e))?;
        let mine = version_rows(addr, &h, &utc_datetime);
        if !s.json {
            print_out(&version_table_rows(&mine));
        }
        rows.extend(mine);
    }
    if s.json {
        emit(true, &rows, |_| String::new());
    } else if a.brokers.is_cluster() {
        print_out("get cluster's plain access config version success.\n");
    } else {
        print_out("get broker's plain access config version success.\n");
    }
    Ok(())
}

/// A Java `List.toString()`: `[a, b]`.
fn java_list(items: &[String]) -> String {
    format!("[{}]", items.join(", "))
}

/// One broker's ACL config as Apache's `GetAccessConfigSubCommand` prints it: the global white
/// addresses, then each account's fields (`  %-18s: %s`), an empty line after each.
pub fn acl_config_text(c: &GetBrokerClusterAclConfigResponseBody) -> String {
    let mut out = String::new();
    let _ = write!(
        out,
        "\n{:<20}: {}\n\naccounts:\n",
        "globalWhiteRemoteAddresses",
        java_list(&c.global_white_addrs)
    );
    for p in &c.plain_access_configs {
        let fields = [
            ("accessKey", p.access_key.clone()),
            ("secretKey", p.secret_key.clone()),
            (
                "whiteRemoteAddress",
                p.white_remote_address.clone().unwrap_or_default(),
            ),
            ("admin", p.admin.to_string()),
            (
                "defaultTopicPerm",
                p.default_topic_perm.clone().unwrap_or_default(),
            ),
            (
                "defaultGroupPerm",
                p.default_group_perm.clone().unwrap_or_default(),
            ),
            ("topicPerms", java_list(&p.topic_perms)),
            ("groupPerms", java_list(&p.group_perms)),
        ];
        for (name, value) in fields {
            let _ = writeln!(out, "  {name:<18}: {value}");
        }
        out.push('\n');
    }
    out
}

/// Runs `mqadmin getAclConfig`: each broker's global white addresses and accounts (secret keys
/// included, as Apache prints them). With `-c` each broker's answer comes under `get plain
/// access config from ADDR success.`. `--json`: the broker's answer (with `-c`,
/// `[{brokerAddr, config}]`).
pub async fn get_acl_config(s: &Session, a: &GetAclConfig) -> Result<()> {
    let brokers = masters(&a.brokers, s).await?;
    let mut answers = Vec::with_capacity(brokers.len());
    for addr in &brokers {
        let config = s
            .admin
            .acl_config(addr)
            .await
            .map_err(|e| failed_at(s, addr, e))?;
        if !s.json {
            let label = if a.brokers.is_cluster() {
                format!("get plain access config from {addr} success.\n")
            } else {
                String::new()
            };
            print_out(&format!("{label}{}", acl_config_text(&config)));
        }
        answers.push((addr.clone(), config));
    }
    if !s.json {
        return Ok(());
    }
    if a.brokers.is_cluster() {
        let v: Vec<_> = answers
            .iter()
            .map(|(addr, c)| json!({ "brokerAddr": addr, "config": c }))
            .collect();
        emit(true, &v, |_| String::new());
    } else if let Some((_, c)) = answers.first() {
        emit(true, c, |_| String::new());
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use rmq_client::PlainAccessConfig;

    use super::*;

    fn err_of<T: std::fmt::Debug>(r: Result<T>) -> String {
        match r {
            Ok(v) => panic!("expected an error, got {v:?}"),
            Err(e) => e.to_string(),
        }
    }

    fn args(access_key: &str) -> UpdateAclConfig {
        UpdateAclConfig {
            brokers: Brokers {
                broker_addr: Some("127.0.0.1:10911".to_owned()),
                cluster: None,
            },
            access_key: access_key.to_owned(),
            secret_key: None,
            white_remote_address: None,
            default_topic_perm: None,
            default_group_perm: None,
            topic_perms: None,
            group_perms: None,
            admin: None,
        }
    }

    #[test]
    fn keys_have_at_least_six_characters() {
        assert_eq!(
            parse_key("-a", "access key", " RocketMQ ").ok().as_deref(),
            Some("RocketMQ")
        );
        assert_eq!(
            parse_key("-a", "access key", "sixsix").ok().as_deref(),
            Some("sixsix")
        );
        // Characters, not bytes.
        assert!(parse_key("-s", "secret key", "ééééé").is_err());
        assert!(parse_key("-s", "secret key", "éééééé").is_ok());
        let e = err_of(parse_key("-a", "access key", "  five5  "));
        assert!(e.contains("at least 6 characters"), "{e}");
        let e = err_of(parse_key("-a", "access key", "abcde"));
        assert!(
            e.starts_with("-a: the access key must be at least 6"),
            "{e}"
        );
        let e = err_of(account(&UpdateAclConfig {
            secret_key: Some("12345".to_owned()),
            ..args("RocketMQ")
        }));
        assert!(e.starts_with("-s: the secret key"), "{e}");
        assert!(err_of(account(&args("short"))).starts_with("-a: "));
    }

    #[test]
    fn perms_are_apaches_five_in_any_case() {
        for (given, sent) in [
            ("DENY", "DENY"),
            ("pub", "PUB"),
            (" Sub ", "SUB"),
            ("pub|sub", "PUB|SUB"),
            ("SUB|PUB", "SUB|PUB"),
        ] {
            assert_eq!(
                parse_perm("-i", given).ok().as_deref(),
                Some(sent),
                "{given}"
            );
        }
        for bad in ["ALL", "PUBSUB", "PUB,SUB", "", "PUB|SUB|DENY"] {
            let e = err_of(parse_perm("-u", bad));
            assert!(e.starts_with("-u: unknown permission"), "{bad}: {e}");
            assert!(e.contains("DENY, PUB, SUB, PUB|SUB, SUB|PUB"), "{e}");
        }
    }

    #[test]
    fn perm_lists_are_name_equals_perm() {
        assert_eq!(
            parse_perm_list("-t", "topic", "topicA=deny, topicD = SUB,topicE=pub|sub")
                .ok()
                .as_deref(),
            Some("topicA=DENY,topicD=SUB,topicE=PUB|SUB")
        );
        // Empty: no entries, so the account's list is emptied.
        assert_eq!(
            parse_perm_list("-g", "group", " ").ok().as_deref(),
            Some("")
        );
        let e = err_of(parse_perm_list("-t", "topic", "topicA=PUB,topicB"));
        assert!(e.starts_with("-t: \"topicB\" is not topic=PERM"), "{e}");
        let e = err_of(parse_perm_list("-g", "group", "=SUB"));
        assert!(e.contains("names no group"), "{e}");
        let e = err_of(parse_perm_list("-t", "topic", "topicA=ALL"));
        assert!(
            e.starts_with("-t: unknown permission \"ALL\"") && e.contains("(in \"topicA=ALL\")"),
            "{e}"
        );
    }

    #[test]
    fn admin_is_true_or_false() {
        assert_eq!(parse_admin("true").ok(), Some(true));
        assert_eq!(parse_admin(" FALSE ").ok(), Some(false));
        for bad in ["yes", "1", ""] {
            assert!(err_of(parse_admin(bad)).starts_with("-m: unknown admin flag"));
        }
    }

    #[test]
    fn the_account_sent_has_only_the_fields_given() {
        let a = UpdateAclConfig {
            secret_key: Some(" 12345678 ".to_owned()),
            white_remote_address: Some(" 192.168.0.* ".to_owned()),
            default_topic_perm: Some("deny".to_owned()),
            topic_perms: Some("topicA=PUB,topicB=sub|pub".to_owned()),
            admin: Some("False".to_owned()),
            ..args("RocketMQ")
        };
        assert_eq!(
            account(&a).ok(),
            Some(CreateAccessConfigRequestHeader {
                access_key: Some("RocketMQ".to_owned()),
                secret_key: Some("12345678".to_owned()),
                white_remote_address: Some("192.168.0.*".to_owned()),
                admin: Some(false),
                default_topic_perm: Some("DENY".to_owned()),
                default_group_perm: None,
                topic_perms: Some("topicA=PUB,topicB=SUB|PUB".to_owned()),
                group_perms: None,
            })
        );
        assert_eq!(
            account(&args("RocketMQ")).ok(),
            Some(CreateAccessConfigRequestHeader {
                access_key: Some("RocketMQ".to_owned()),
                ..Default::default()
            })
        );
        let bad = UpdateAclConfig {
            group_perms: Some("g=PUB;h".to_owned()),
            ..args("RocketMQ")
        };
        assert!(err_of(account(&bad)).starts_with("-g: "));
        assert_eq!(entries(Some("a=PUB,b=SUB")), Some(vec!["a=PUB", "b=SUB"]));
        assert_eq!(entries(Some("")), Some(vec![]));
    }

    #[test]
    fn global_white_addresses_split_at_commas() {
        assert_eq!(
            global_white_addrs(" 10.10.103.*, 192.168.0.* ,,"),
            ["10.10.103.*", "192.168.0.*"]
        );
        assert!(global_white_addrs("").is_empty());
        assert!(global_white_addrs(" , ").is_empty());
    }

    #[test]
    fn times_are_yyyy_mm_dd_hh_mm_ss() {
        assert_eq!(
            datetime_at_offset(1_700_000_000_123, 0),
            "2023-11-14 22:13:20"
        );
        assert_eq!(
            datetime_at_offset(1_700_000_000_123, 8 * 3600),
            "2023-11-15 06:13:20"
        );
        assert_eq!(
            datetime_at_offset(1_700_000_000_123, -5 * 3600),
            "2023-11-14 17:13:20"
        );
        assert_eq!(datetime_at_offset(0, 3600), "-");
        let ms = 1_700_000_000_123;
        assert_eq!(utc_datetime(ms), "2023-11-14 22:13:20");
        assert_eq!(utc_datetime(ms).len(), "yyyy-MM-dd HH:mm:ss".len());
    }

    fn header(version: Option<&str>, files: Option<&str>) -> GetBrokerAclConfigResponseHeader {
        GetBrokerAclConfigResponseHeader {
            version: version.map(str::to_owned),
            all_acl_file_version: files.map(str::to_owned),
            broker_name: Some("broker-a".to_owned()),
            broker_addr: None,
            cluster_name: Some("DefaultCluster".to_owned()),
        }
    }

    fn utc(ms: i64) -> String {
        datetime_at_offset(ms, 0)
    }

    #[test]
    fn a_row_per_acl_file_with_its_counter_and_time() {
        // Each file's row shows the counter and time the broker sent for it.
        let (a_counter, a_ms) = (0u64, 86_400_000i64);
        let files = format!(
            r#"{{"/conf/b.yml":{{"counter":3,"stateVersion":0,"timestamp":1700000000123}},
                "/conf/a.yml":{{"counter":{a_counter},"timestamp":{a_ms}}}}}"#
        );
        let h = header(Some(r#"{"counter":9,"timestamp":1}"#), Some(&files));
        let rows = version_rows("10.0.0.1:10911", &h, &utc);
        let cells: Vec<_> = rows
            .iter()
            .map(|r| {
                (
                    r.acl_file_path.as_str(),
                    r.version_cell(),
                    r.last_update_time.as_str(),
                )
            })
            .collect();
        assert_eq!(
            cells,
            [
                ("/conf/a.yml", a_counter.to_string(), utc(a_ms).as_str()),
                ("/conf/b.yml", "3".to_owned(), "2023-11-14 22:13:20"),
            ]
        );
        assert!(rows.iter().all(|r| r.broker_addr == "10.0.0.1:10911"
            && r.cluster_name == "DefaultCluster"
            && r.broker_name == "broker-a"
            && r.raw.is_none()));
        assert_eq!(rows[1].timestamp, Some(1_700_000_000_123));
    }

    #[test]
    fn without_files_the_version_field_makes_the_row() {
        for files in [None, Some(""), Some("{}")] {
            let h = header(Some(r#"{"counter":7,"timestamp":1700000000123}"#), files);
            let rows = version_rows("a:1", &h, &utc);
            assert_eq!(rows.len(), 1, "{files:?}");
            assert_eq!(
                (
                    rows[0].acl_file_path.as_str(),
                    rows[0].counter,
                    rows[0].last_update_time.as_str()
                ),
                ("-", Some(7), "2023-11-14 22:13:20")
            );
        }
        let rows = version_rows("a:1", &header(None, None), &utc);
        assert_eq!(
            (rows[0].version_cell(), rows[0].last_update_time.as_str()),
            ("-".to_owned(), "-")
        );
    }

    #[test]
    fn versions_that_do_not_parse_are_printed_raw() {
        let rows = version_rows("a:1", &header(Some("v42"), None), &utc);
        assert_eq!(
            (rows[0].version_cell(), rows[0].last_update_time.as_str()),
            ("v42".to_owned(), "-")
        );
        let rows = version_rows("a:1", &header(None, Some("not json")), &utc);
        assert_eq!(rows[0].version_cell(), "not json");
        let rows = version_rows(
            "a:1",
            &header(None, Some(r#"{"/f.yml":{"counter":"x"}}"#)),
            &utc,
        );
        assert_eq!(
            (rows[0].acl_file_path.as_str(), rows[0].version_cell()),
            ("/f.yml", r#"{"counter":"x"}"#.to_owned())
        );
    }

    #[test]
    fn the_version_table_is_apaches() {
        assert_eq!(
            version_header(),
            format!(
                "{:<16}  {:<22}  {:<22}  {:<20}  {:<22}  {:<22}\n",
                "#Cluster Name",
                "#Broker Name",
                "#Broker Addr",
                "#AclFilePath",
                "#AclConfigVersionNum",
                "#AclLastUpdateTime"
            )
        );
        let h = header(
            None,
            Some(r#"{"/conf/plain_acl.yml":{"counter":2,"timestamp":86400000}}"#),
        );
        let text = version_table_rows(&version_rows("10.0.0.1:10911", &h, &utc));
        assert_eq!(
            text.split_whitespace().collect::<Vec<_>>(),
            [
                "DefaultCluster",
                "broker-a",
                "10.0.0.1:10911",
                "/conf/plain_acl.yml",
                "2",
                "1970-01-02",
                "00:00:00"
            ]
        );
        assert!(text.starts_with("DefaultCluster    broker-a  "));
    }

    #[test]
    fn acl_config_prints_as_apaches_get_access_config() {
        let c = GetBrokerClusterAclConfigResponseBody {
            global_white_addrs: vec!["10.10.103.*".to_owned(), "192.168.0.*".to_owned()],
            plain_access_configs: vec![PlainAccessConfig {
                access_key: "RocketMQ".to_owned(),
                secret_key: "12345678".to_owned(),
                admin: false,
                default_topic_perm: Some("DENY".to_owned()),
                default_group_perm: Some("SUB".to_owned()),
                topic_perms: vec!["topicA=DENY".to_owned(), "topicB=PUB|SUB".to_owned()],
                group_perms: Vec::new(),
                white_remote_address: None,
            }],
        };
        assert_eq!(
            acl_config_text(&c),
            "\nglobalWhiteRemoteAddresses: [10.10.103.*, 192.168.0.*]\n\naccounts:\n\
             \x20 accessKey         : RocketMQ\n\
             \x20 secretKey         : 12345678\n\
             \x20 whiteRemoteAddress: \n\
             \x20 admin             : false\n\
             \x20 defaultTopicPerm  : DENY\n\
             \x20 defaultGroupPerm  : SUB\n\
             \x20 topicPerms        : [topicA=DENY, topicB=PUB|SUB]\n\
             \x20 groupPerms        : []\n\n"
        );
        assert_eq!(
            acl_config_text(&GetBrokerClusterAclConfigResponseBody::default()),
            "\nglobalWhiteRemoteAddresses: []\n\naccounts:\n"
        );
    }
}
