//! Many sends in flight at once: each `send` is a future, polled together here.
//!
//!     cargo run -p rmq-client --example async_producer -- -n 127.0.0.1:9876 -t TopicTest

#[path = "support.rs"]
mod support;

use clap::Parser;
use futures::stream::{FuturesUnordered, StreamExt};
use rmq_client::{Message, Producer};

#[derive(Parser)]
struct Args {
    #[arg(short = 'n', long, default_value = "127.0.0.1:9876")]
    namesrv: String,
    #[arg(short = 't', long, default_value = "TopicTest")]
    topic: String,
    #[arg(short = 'c', long, default_value_t = 1000)]
    count: usize,
    /// Sends in flight at once.
    #[arg(long, default_value_t = 32)]
    in_flight: usize,
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    support::init_logging();
    let args = Args::parse();
    let producer = Producer::builder()
        .group("AsyncProducerExample")
        .name_server(&args.namesrv)
        .build()
        .await?;
    let started = std::time::Instant::now();
    let mut pending = FuturesUnordered::new();
    let (mut ok, mut failed) = (0usize, 0usize);
    for i in 0..args.count {
        if pending.len() >= args.in_flight {
            match pending.next().await {
                Some(Ok(_)) => ok += 1,
                _ => failed += 1,
            }
        }
        pending.push(producer.send(Message::new(&args.topic, format!("async {i}"))));
    }
    while let Some(r) = pending.next().await {
        match r {
            Ok(_) => ok += 1,
            Err(e) => {
                eprintln!("send failed: {e}");
                failed += 1;
            }
        }
    }
    // The callback style works too.
    let (tx, rx) = tokio::sync::oneshot::channel();
    producer.send_with_callback(Message::new(&args.topic, "with callback"), move |r| {
        let _ = tx.send(r.map(|r| r.msg_id));
    });
    println!("callback send: {:?}", rx.await?);
    println!("{ok} sent, {failed} failed in {:.2?}", started.elapsed());
    producer.shutdown().await;
    Ok(())
}
