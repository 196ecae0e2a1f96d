//! Ordered messages: every message of an order id goes to the same queue, in send order.
//!
//!     cargo run -p rmq-client --example ordered_producer -- -n 127.0.0.1:9876 -t TopicOrder

#[path = "support.rs"]
mod support;

use clap::Parser;
use rmq_client::{Message, Producer};

#[derive(Parser)]
struct Args {
    #[arg(short = 'n', long, default_value = "127.0.0.1:9876")]
    namesrv: String,
    #[arg(short = 't', long, default_value = "TopicOrder")]
    topic: String,
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    support::init_logging();
    let args = Args::parse();
    let producer = Producer::builder()
        .group("OrderedProducerExample")
        .name_server(&args.namesrv)
        .build()
        .await?;
    for step in ["created", "paid", "shipped", "done"] {
        for order in 0..5 {
            let key = format!("order-{order}");
            let msg = Message::new(&args.topic, format!("{key} {step}")).with_keys([key.as_str()]);
            let r = producer.send_orderly(msg, &key).await?;
            println!("{key} {step} -> queue {}", r.message_queue.queue_id);
        }
    }
    producer.shutdown().await;
    Ok(())
}
