//! rmq-tools: the operator tools `mqadmin` and `mqshutdown`, as a small library under two thin
//! binaries so the commands can be tested and reused.
//!
//! * [`cli`] — `mqadmin`'s arguments (Apache's camelCase subcommands and flags) and dispatch;
//! * [`session`] — the `rmq_client::Admin` of one run, the lookups every command shares, and
//!   client errors turned into advice;
//! * [`topic`], [`cluster`], [`group`], [`offset`], [`message`], [`controller`], [`auth`],
//!   [`plain_acl`] — one module per command family ([`auth`]: ACL 2.0's `createUser`,
//!   `updateUser`, `deleteUser`, `getUser`, `listUser`, `createAcl`, `updateAcl`, `deleteAcl`,
//!   `getAcl`, `listAcl`; [`plain_acl`]: ACL 1.0's `updateAclConfig`, `deleteAclConfig`,
//!   `updateGlobalWhiteAddr`, `clusterAclConfigVersion`, `getAclConfig`);
//! * [`consumer_status`], [`clean`], [`stats_all`], [`print_msg`] — commands large enough for a
//!   file of their own (`statsAll`: traffic per topic and group; `printMsg`: a topic's messages);
//! * [`output`] — aligned tables, `--json`, timestamps, message bodies;
//! * [`shutdown`] — `mqshutdown`: find the local daemons and stop them with SIGTERM.

pub mod auth;
pub mod clean;
pub mod cli;
pub mod cluster;
pub mod config;
pub mod consumer_status;
pub mod controller;
pub mod credentials;
pub mod group;
pub mod message;
pub mod offset;
pub mod output;
pub mod plain_acl;
pub mod print_msg;
pub mod session;
pub mod shutdown;
pub mod stats_all;
pub mod topic;
pub mod trace;
pub mod write_perm;
