//! Transactional messages: each message is sent as a half message, then its local transaction
//! commits, rolls back, or stays unknown (in turn). Unknown ones are resolved when the broker
//! asks (CHECK_TRANSACTION_STATE, after `transactionTimeOut` and on each
//! `transactionCheckInterval`): the check listener commits them.
//!
//!     cargo run -p rmq-client --example transaction_producer -- -n 127.0.0.1:9876 -t TopicTest

#[path = "support.rs"]
mod support;

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

/// The decision of message `i` (passed as the send's argument).
struct Orders;

impl TransactionListener for Orders {
    type Arg = usize;

    fn execute_local_transaction(&self, msg: &Message, i: &usize) -> LocalTransactionState {
        let i = *i;
        let state = match i % 3 {
            0 => LocalTransactionState::CommitMessage,
            1 => LocalTransactionState::RollbackMessage,
            _ => LocalTransactionState::Unknown,
        };
        println!(
            "local transaction of {} ({}) -> {state:?}",
            msg.uniq_key().unwrap_or("?"),
            String::from_utf8_lossy(&msg.body)
        );
        state
    }

    fn check_local_transaction(&self, msg: &MessageExt) -> LocalTransactionState {
        println!(
            "broker asks about {} ({}) -> CommitMessage",
            msg.msg_id(),
            String::from_utf8_lossy(&msg.message.body)
        );
        LocalTransactionState::CommitMessage
    }
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    support::init_logging();
    let args = Args::parse();
    let producer = TransactionProducer::builder()
        .group(&args.group)
        .name_server(&args.namesrv)
        .transaction_listener(Orders)
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
