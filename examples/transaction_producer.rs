//! Transactional messages: each message is sent as a half message, then its local transaction
//! commits, rolls back, or stays unknown (in turn). Unknown ones are resolved when the broker
//! asks (CHECK_TRANSACTION_STATE, after `transactionTimeOut` and on each
//! `transactionCheckInterval`). The check answers from the application's record of each local
//! transaction, as a real application must: a broker may also ask about a transaction it was
//! already told (Apache's 5.x brokers do when their op log lags), and the answer must not change.
//! Here the unknown ones have finished by the time the broker asks, and commit.
//!
//!     cargo run -p rmq-client --example transaction_producer -- -n 127.0.0.1:9876 -t TopicTest

#[path = "support.rs"]
mod support;

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::Duration;

use clap::Parser;
use rmq_client::{
    LocalTransactionState, Message, MessageExt, TransactionListener, TransactionProducer,
};

#[derive(Parser)]
struct Args {
    #[arg(short = 'n', long, default_value = "127.0.0.1:9876")]
    namesrv: String,
    #[arg(short = 't', long, default_value = "TopicTest")]
    topic: String,
    #[arg(short = 'g', long, default_value = "TransactionProducerExample")]
    group: String,
    /// Messages to send (commit, rollback, unknown, commit, ...).
    #[arg(short = 'c', long, default_value_t = 9)]
    count: usize,
    /// Seconds to stay up answering the broker's checks (Ctrl-C stops earlier).
    #[arg(long, default_value_t = 90)]
    wait: u64,
}

/// The decision of message `i` (passed as the send's argument), recorded by message id.
#[derive(Default)]
struct Orders {
    decided: Mutex<HashMap<String, LocalTransactionState>>,
}

impl TransactionListener for Orders {
    type Arg = usize;

    fn execute_local_transaction(&self, msg: &Message, i: &usize) -> LocalTransactionState {
        let i = *i;
        let state = match i % 3 {
            0 => LocalTransactionState::CommitMessage,
            1 => LocalTransactionState::RollbackMessage,
            _ => LocalTransactionState::Unknown,
        };
        let id = msg.uniq_key().unwrap_or("?");
        println!(
            "local transaction of {id} ({}) -> {state:?}",
            String::from_utf8_lossy(&msg.body)
        );
        // Unknown now; finished (committed) by the time the broker asks.
        let outcome = match state {
            LocalTransactionState::Unknown => LocalTransactionState::CommitMessage,
            decided => decided,
        };
        if let Ok(mut d) = self.decided.lock() {
            d.insert(id.to_owned(), outcome);
        }
        state
    }

    fn check_local_transaction(&self, msg: &MessageExt) -> LocalTransactionState {
        let id = msg.msg_id();
        let state = self
            .decided
            .lock()
            .ok()
            .and_then(|d| d.get(&id).copied())
            // Not ours to know (sent by an earlier run): leave it to a later check.
            .unwrap_or(LocalTransactionState::Unknown);
        println!(
            "broker asks about {id} ({}) -> {state:?}",
            String::from_utf8_lossy(&msg.message.body)
        );
        state
    }
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    support::init_logging();
    let args = Args::parse();
    let producer = TransactionProducer::builder()
        .group(&args.group)
        .name_server(&args.namesrv)
        .transaction_listener(Orders::default())
        .build()
        .await?;
    for i in 0..args.count {
        let msg = Message::new(&args.topic, format!("order-{i}")).with_tags("Tx");
        let r = producer.send_message_in_transaction(msg, i).await?;
        println!(
            "half message {} stored in {} at {}: {:?}",
            r.send_result.msg_id,
            r.send_result.message_queue,
            r.send_result.queue_offset,
            r.local_state
        );
    }
    println!("answering checks for {} s (Ctrl-C to stop)", args.wait);
    tokio::select! {
        _ = tokio::signal::ctrl_c() => {}
        _ = tokio::time::sleep(Duration::from_secs(args.wait)) => {}
    }
    producer.shutdown().await;
    Ok(())
}
