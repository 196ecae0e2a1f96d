//! A pull consumer driving its own loop: assign every queue of the topic, poll, commit.
//!
//!     cargo run -p rmq-client --example pull_consumer -- -n 127.0.0.1:9876 -t TopicTest

#[path = "support.rs"]
mod support;

use std::time::Duration;

use clap::Parser;
use rmq_client::{ConsumeFrom, PullConsumer};

#[derive(Parser)]
struct Args {
    #[arg(short = 'n', long, default_value = "127.0.0.1:9876")]
    namesrv: String,
    #[arg(short = 't', long, default_value = "TopicTest")]
    topic: String,
    #[arg(short = 'g', long, default_value = "PullConsumerExample")]
    group: String,
    /// Stop after this many messages (0 = until Ctrl-C).
    #[arg(long, default_value_t = 0)]
    count: usize,
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    support::init_logging();
    let args = Args::parse();
    let consumer = PullConsumer::builder()
        .group(&args.group)
        .name_server(&args.namesrv)
        .consume_from(ConsumeFrom::FirstOffset)
        .auto_commit(false)
        .build()
        .await?;
    consumer.assign(consumer.fetch_queues(&args.topic).await?);
    let mut received = 0;
    loop {
        let batch = tokio::select! {
            _ = tokio::signal::ctrl_c() => break,
            b = consumer.poll(Duration::from_secs(5)) => b?,
        };
        for m in &batch {
            println!(
                "queue={} offset={} {}",
                m.queue_id,
                m.queue_offset,
                String::from_utf8_lossy(&m.message.body)
            );
        }
        received += batch.len();
        consumer.commit().await?;
        if args.count > 0 && received >= args.count {
            break;
        }
    }
    consumer.shutdown().await;
    println!("received {received}");
    Ok(())
}
