//! `wipeWritePerm` and `addWritePerm`: take a broker out of (or back into) the write routes every
//! name server gives out, as before maintenance. Each name server keeps its own table, so each
//! is asked in turn and answers for itself, in Apache's words:
//! `wipe write perm of broker[B] in name server[N] OK, <topics changed>` or `... Failed`.
//! A failure on any name server makes the command fail after all were tried.
//!
//! The change lasts until the broker registers its own permission again (its next heartbeat
//! when `brokerPermission` says otherwise), as in Apache.

use anyhow::{bail, Result};
use clap::Args;
use serde::Serialize;

use crate::output::emit;
use crate::session::Session;

/// Arguments of `mqadmin wipeWritePerm` and `mqadmin addWritePerm`.
#[derive(Debug, Args)]
pub struct WritePerm {
    /// Broker name.
    #[arg(short = 'b', long = "brokerName")]
    pub broker_name: String,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
struct Outcome {
    name_server: String,
    /// Topics whose permission changed; absent when the name server failed.
    topic_count: Option<i32>,
    error: Option<String>,
}

/// Runs `mqadmin wipeWritePerm` (`wipe = true`) or `mqadmin addWritePerm`.
pub async fn write_perm(s: &Session, a: &WritePerm, wipe: bool) -> Result<()> {
    let broker = a.broker_name.trim();
    let mut outcomes = Vec::new();
    for ns in s.admin.name_servers() {
        let r = if wipe {
            s.admin.wipe_write_perm(&ns, broker).await
        } else {
            s.admin.add_write_perm(&ns, broker).await
        };
        outcomes.push(match r {
            Ok(n) => Outcome {
                name_server: ns,
                topic_count: Some(n),
                error: None,
            },
            Err(e) => Outcome {
                name_server: ns,
                topic_count: None,
                // The address is a name server's: the generic advice would say broker.
                error: Some(e.to_string()),
            },
        });
    }
    let verb = if wipe { "wipe" } else { "add" };
    emit(s.json, &outcomes, |o| {
        o.iter()
            .map(|o| match o.topic_count {
                Some(n) => format!(
                    "{verb} write perm of broker[{broker}] in name server[{}] OK, {n}\n",
                    o.name_server
                ),
                None => format!(
                    "{verb} write perm of broker[{broker}] in name server[{}] Failed\n",
                    o.name_server
                ),
            })
            .collect()
    });
    let failed: Vec<String> = outcomes
        .iter()
        .filter_map(|o| Some(format!("{}: {}", o.name_server, o.error.as_ref()?)))
        .collect();
    if !failed.is_empty() {
        bail!("{verb}WritePerm failed on {}", failed.join("; "));
    }
    Ok(())
}
