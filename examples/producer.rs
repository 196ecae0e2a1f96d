//! Sends messages one at a time and prints each result.
//!
//!     cargo run -p rmq-client --example producer -- -n 127.0.0.1:9876 -t TopicTest

#[path = "support.rs"]
mod support;

use clap::Parser;
use rmq_client::{Message, Producer};

#[derive(Parser)]
struct Args {
    /// Name servers, `;`-separated.
    #[arg(short = 'n', long, default_value = "127.0.0.1:9876")]
    namesrv: String,
    #[arg(short = 't', long, default_value = "TopicTest")]
    topic: String,
    #[arg(short = 'c', long, default_value_t = 10)]
    count: usize,
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    support::init_logging();
    let args = Args::parse();
    let producer = Producer::builder()
        .group("ProducerGroupExample")
        .name_server(&args.namesrv)
        .build()
        .await?;
    for i in 0..args.count {
        let msg = Message::new(&args.topic, format!("Hello RocketMQ {i}"))
            .with_tags("TagA")
            .with_keys([format!("key-{i}")]);
        let r = producer.send(msg).await?;
        println!(
            "{:?} msgId={} queue={} offset={}",
            r.status, r.msg_id, r.message_queue, r.queue_offset
        );
    }
    producer.shutdown().await;
    Ok(())
}
