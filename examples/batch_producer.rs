//! Sends messages of one topic in a single SEND_BATCH_MESSAGE request.
//!
//!     cargo run -p rmq-client --example batch_producer -- -n 127.0.0.1:9876 -t TopicTest

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
    #[arg(short = 'b', long, default_value_t = 32)]
    batch: usize,
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    support::init_logging();
    let args = Args::parse();
    let producer = Producer::builder()
        .group("BatchProducerExample")
        .name_server(&args.namesrv)
        .build()
        .await?;
    let batch: Vec<Message> = (0..args.batch)
        .map(|i| Message::new(&args.topic, format!("batch message {i}")).with_tags("TagA"))
        .collect();
    let r = producer.send_batch(batch).await?;
    println!(
        "{:?}: {} messages from offset {} on {}",
        r.status,
        r.msg_id.split(',').count(),
        r.queue_offset,
        r.message_queue
    );
    producer.shutdown().await;
    Ok(())
}
