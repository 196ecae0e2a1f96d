//! Delayed messages: delay level 3 is 10 s with the default `messageDelayLevel`.
//!
//!     cargo run -p rmq-client --example delay_producer -- -n 127.0.0.1:9876 -t TopicTest -l 3

#[path = "support.rs"]
mod support;

use clap::Parser;
use rmq_client::{Message, Producer};

#[derive(Parser)]
struct Args {
    #[arg(short = 'n', long, default_value = "127.0.0.1:9876")]
    namesrv: String,
    #[arg(short = 't', long, default_value = "TopicTest")]
    topic: String,
    /// Delay level (1 = 1s, 2 = 5s, 3 = 10s, 4 = 30s, 5 = 1m, ...).
    #[arg(short = 'l', long, default_value_t = 3)]
    level: i32,
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    support::init_logging();
    let args = Args::parse();
    let producer = Producer::builder()
        .group("DelayProducerExample")
        .name_server(&args.namesrv)
        .build()
        .await?;
    let sent_at = rmq_client_example_now();
    let msg =
        Message::new(&args.topic, format!("sent at {sent_at} ms")).with_delay_level(args.level);
    let r = producer.send(msg).await?;
    println!(
        "{:?} msgId={} (delivered after delay level {})",
        r.status, r.msg_id, args.level
    );
    producer.shutdown().await;
    Ok(())
}

fn rmq_client_example_now() -> u128 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis())
        .unwrap_or(0)
}
