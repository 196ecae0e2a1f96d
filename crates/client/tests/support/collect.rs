//! A push consumer that keeps the bodies it receives, for tests that count what arrives.

use std::sync::Arc;

use parking_lot::Mutex;
use rmq_client::consumer::PushConsumerBuilder;
use rmq_client::{ConsumeConcurrentlyStatus, ConsumeFrom, PushConsumer};

/// Bodies received so far, as text.
pub type Bodies = Arc<Mutex<Vec<String>>>;

/// Builds `builder` (group, name server, subscriptions and credentials already set) from the
/// first offset, with a listener that keeps every body and acknowledges it.
pub async fn collecting(builder: PushConsumerBuilder) -> (PushConsumer, Bodies) {
    let got = Bodies::default();
    let sink = got.clone();
    let consumer = builder
        .consume_from(ConsumeFrom::FirstOffset)
        .listener_concurrently(move |msgs| {
            sink.lock().extend(
                msgs.iter()
                    .map(|m| String::from_utf8_lossy(&m.message.body).into_owned()),
            );
            ConsumeConcurrentlyStatus::ConsumeSuccess
        })
        .build()
        .await
        .expect("the consumer starts");
    (consumer, got)
}
