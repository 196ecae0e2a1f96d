//! Consumption failures and retries: the listener fails the first `--fail` deliveries of each
//! message (RECONSUME_LATER), so the broker redelivers it through `%RETRY%<group>` on the delay
//! schedule (levels 3, 4, ...: 10 s, 30 s, ... with the default `messageDelayLevel`) until it
//! succeeds; past `--max-reconsume-times` it goes to `%DLQ%<group>` instead. With
//! `--delay-level n` the listener picks the level itself through the consume context (Java's
//! `delayLevelWhenNextConsume`; -1 sends a failed message straight to the DLQ).
//!
//!     cargo run -p rmq-client --example retry_consumer -- -n 127.0.0.1:9876 -t TopicTest --fail 2

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
    #[arg(short = 'g', long, default_value = "RetryConsumerExample")]
    group: String,
    /// Fail this many deliveries of each message before accepting it.
    #[arg(long, default_value_t = 2)]
    fail: i32,
    /// Failed deliveries after which a message goes to the DLQ (16).
    #[arg(long, default_value_t = 16)]
    max_reconsume_times: i32,
    /// Delay level of redeliveries (0 = the broker's schedule, -1 = straight to the DLQ).
    #[arg(long, default_value_t = 0, allow_hyphen_values = true)]
    delay_level: i32,
    /// Stop after this many messages were accepted (0 = until Ctrl-C).
    #[arg(long, default_value_t = 0)]
    count: usize,
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    support::init_logging();
    let args = Args::parse();
    let accepted = Arc::new(AtomicUsize::new(0));
    let done = Arc::new(Notify::new());
    let (ok, limit, wake, fail) = (accepted.clone(), args.count, done.clone(), args.fail);
    let level = args.delay_level;
    let consumer = PushConsumer::builder()
        .group(&args.group)
        .name_server(&args.namesrv)
        .subscribe(&args.topic, "*")
        .consume_from(ConsumeFrom::FirstOffset)
        .max_reconsume_times(args.max_reconsume_times)
        .listener_concurrently_with_context(move |msgs, ctx| {
            ctx.set_delay_level_when_next_consume(level);
            // One message per call (the default batch size), so the status is about it alone.
            let mut status = ConsumeConcurrentlyStatus::ConsumeSuccess;
            for m in msgs {
                let failing = m.reconsume_times < fail;
                println!(
                    "{} topic={} reconsume_times={} body={} -> {}",
                    m.msg_id(),
                    m.topic,
                    m.reconsume_times,
                    String::from_utf8_lossy(&m.body),
                    if failing { "RECONSUME_LATER" } else { "OK" }
                );
                if failing {
                    status = ConsumeConcurrentlyStatus::ReconsumeLater;
                } else if ok.fetch_add(1, Ordering::Relaxed) + 1 == limit {
                    wake.notify_one();
                }
            }
            status
        })
        .build()
        .await?;
    tokio::select! {
        _ = tokio::signal::ctrl_c() => {}
        _ = done.notified() => {}
    }
    consumer.shutdown().await;
    println!("accepted {}", accepted.load(Ordering::Relaxed));
    Ok(())
}
