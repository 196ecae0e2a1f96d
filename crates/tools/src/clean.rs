//! `mqadmin deleteExpiredCommitLog` and `cleanExpiredCQ`: a broker's cleanup now, on one broker
//! (-b) or every master of a cluster (-c). Apache prints `success` or `false`; rmq prints what
//! each broker deleted, then `success`, and fails naming the broker that did not answer.

use anyhow::Result;
use clap::Args;
use serde::Serialize;

use crate::output::emit;
use crate::session::Session;

/// Arguments of both commands.
#[derive(Debug, Args)]
pub struct CleanArgs {
    /// Broker address (host:port).
    #[arg(short = 'b', long = "brokerAddr", conflicts_with = "cluster")]
    pub broker_addr: Option<String>,
    /// Every master of this cluster.
    #[arg(short = 'c', long = "cluster")]
    pub cluster: Option<String>,
}

/// Which cleanup.
#[derive(Debug, Clone, Copy)]
pub enum Cleanup {
    /// DELETE_EXPIRED_COMMITLOG.
    CommitLog,
    /// CLEAN_EXPIRED_CONSUMEQUEUE.
    ConsumeQueues,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
struct Cleaned {
    broker_name: String,
    addr: String,
    deleted: String,
}

/// Runs one of the two commands.
pub async fn clean(s: &Session, a: &CleanArgs, what: Cleanup) -> Result<()> {
    let targets = s
        .targets(a.cluster.as_deref(), a.broker_addr.as_deref())
        .await?;
    let mut done = Vec::new();
    for t in targets {
        let deleted = match what {
            Cleanup::CommitLog => s.admin.delete_expired_commit_log(&t.addr).await,
            Cleanup::ConsumeQueues => s.admin.clean_expired_consume_queues(&t.addr).await,
        }
        .map_err(|e| s.explain(e))?;
        done.push(Cleaned {
            broker_name: t.broker_name,
            addr: t.addr,
            deleted,
        });
    }
    emit(s.json, &done, |done| {
        let mut out: String = done
            .iter()
            .map(|d| format!("{} {}: {}\n", d.broker_name, d.addr, d.deleted))
            .collect();
        out.push_str("success\n");
        out
    });
    Ok(())
}
