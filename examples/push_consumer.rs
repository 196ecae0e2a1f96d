//! A clustering push consumer: prints messages until Ctrl-C or `--count` messages.
//!
//!     cargo run -p rmq-client --example push_consumer -- -n 127.0.0.1:9876 -t TopicTest

#[path = "support.rs"]
mod support;

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use clap::Parser;
use rmq_client::{ConsumeConcurrentlyStatus, ConsumeFrom, PushConsumer};
use tokio::sync::Notify;

#[derive(Parser)]
struct Args {
    #[arg(short = 'n', long, default_value = "127.0.0.1:9876")]
    namesrv: String,
    #[arg(short = 't', long, default_value = "TopicTest")]
    topic: String,
    #[arg(short = 'g', long, default_value = "ConsumerGroupExample")]
    group: String,
    /// `*` or `TagA || TagB`.
    #[arg(short = 's', long, default_value = "*")]
    subscription: String,
    /// Stop after this many messages (0 = until Ctrl-C).
    #[arg(long, default_value_t = 0)]
    count: usize,
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    support::init_logging();
    let args = Args::parse();
    let received = Arc::new(AtomicUsize::new(0));
    let done = Arc::new(Notify::new());
    let (seen, limit, wake) = (received.clone(), args.count, done.clone());
    let consumer = PushConsumer::builder()
        .group(&args.group)
        .name_server(&args.namesrv)
        .subscribe(&args.topic, &args.subscription)
        .consume_from(ConsumeFrom::FirstOffset)
        .listener_concurrently(move |msgs| {
            for m in msgs {
                println!(
                    "{} queue={} offset={} tags={:?} body={}",
                    m.msg_id(),
                    m.queue_id,
                    m.queue_offset,
                    m.message.tags(),
                    String::from_utf8_lossy(&m.message.body)
                );
                if seen.fetch_add(1, Ordering::Relaxed) + 1 == limit {
                    wake.notify_one();
                }
            }
            ConsumeConcurrentlyStatus::ConsumeSuccess
        })
        .build()
        .await?;
    tokio::select! {
        _ = tokio::signal::ctrl_c() => {}
        _ = done.notified() => {}
    }
    consumer.shutdown().await;
    println!("received {}", received.load(Ordering::Relaxed));
    Ok(())
}
