//! Transactional messages end to end: half messages are invisible until committed and vanish
//! when rolled back; an unknown outcome is resolved by the broker asking the group
//! (CHECK_TRANSACTION_STATE), also after the producer that sent it is gone.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use parking_lot::Mutex;
use rmq_client::{
    ConsumeConcurrentlyStatus, LocalTransactionState, Message, MessageExt, PushConsumer,
    TransactionListener, TransactionProducer,
};

use crate::harness::*;

const CHECK_FAST: [(&str, &str); 2] = [
    ("transactionCheckInterval", "500"),
    ("transactionTimeOut", "500"),
];

/// Decides by body: `commit*` commits, `rollback*` rolls back, anything else is unknown; the
/// check commits once `resolve` is set and records what it was asked about.
#[derive(Default, Clone)]
struct ByBody {
    resolve: Arc<AtomicBool>,
    checked: Arc<Mutex<Vec<String>>>,
}

impl TransactionListener for ByBody {
    type Arg = u32;

    fn execute_local_transaction(&self, msg: &Message, arg: &u32) -> LocalTransactionState {
        assert_eq!(*arg, 7, "the send's argument");
        assert!(msg.uniq_key().is_some(), "the listener sees the message id");
        match &msg.body[..] {
            b if b.starts_with(b"commit") => LocalTransactionState::CommitMessage,
            b if b.starts_with(b"rollback") => LocalTransactionState::RollbackMessage,
            b if b.starts_with(b"panic") => {
                panic!("local transaction failed (intended by the test)")
            }
            _ => LocalTransactionState::Unknown,
        }
    }

    fn check_local_transaction(&self, msg: &MessageExt) -> LocalTransactionState {
        self.checked
            .lock()
            .push(String::from_utf8_lossy(&msg.message.body).into());
        if self.resolve.load(Ordering::SeqCst) {
            LocalTransactionState::CommitMessage
        } else {
            LocalTransactionState::Unknown
        }
    }
}

async fn transaction_producer(cluster: &Cluster, listener: ByBody) -> TransactionProducer<ByBody> {
    TransactionProducer::builder()
        .group("PG-tx")
        .name_server(&cluster.ns_addr)
        .heartbeat_interval(FAST)
        .route_poll_interval(FAST)
        .transaction_listener(listener)
        .build()
        .await
        .unwrap()
}

async fn body_consumer(
    cluster: &Cluster,
    group: &str,
    topic: &str,
    sink: &Arc<Mutex<Vec<String>>>,
) -> PushConsumer {
    let sink = sink.clone();
    cluster
        .consumer(group)
        .subscribe(topic, "*")
        .listener_concurrently(move |msgs| {
            let mut s = sink.lock();
            s.extend(
                msgs.iter()
                    .map(|m| String::from_utf8_lossy(&m.message.body).into()),
            );
            ConsumeConcurrentlyStatus::ConsumeSuccess
        })
        .build()
        .await
        .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn commit_rollback_and_unknown_resolved_by_the_check() {
    let cluster = Cluster::start(1, &CHECK_FAST).await;
    cluster.create_topic("TxTopic", 2).await;
    let seen: Arc<Mutex<Vec<String>>> = Arc::default();
    let consumer = body_consumer(&cluster, "CG-tx", "TxTopic", &seen).await;
    let listener = ByBody::default();
    let producer = transaction_producer(&cluster, listener.clone()).await;
    let mut states = Vec::new();
    for body in ["commit-1", "rollback-1", "unknown-1", "panic-1"] {
        let r = producer
            .send_message_in_transaction(Message::new("TxTopic", body).with_delay_level(2), 7u32)
            .await
            .unwrap();
        assert!(!r.send_result.msg_id.is_empty());
        states.push(r.local_state);
    }
    assert_eq!(
        states,
        [
            LocalTransactionState::CommitMessage,
            LocalTransactionState::RollbackMessage,
            LocalTransactionState::Unknown,
            LocalTransactionState::Unknown
        ]
    );
    assert!(
        eventually(Duration::from_secs(5), || !seen.lock().is_empty()).await,
        "the committed message was not delivered"
    );
    // The unknown one is checked (and stays unknown) but is not delivered.
    assert!(
        eventually(Duration::from_secs(5), || listener.checked.lock().len()
            >= 2)
        .await,
        "the broker never checked the unknown transaction"
    );
    assert_eq!(
        *seen.lock(),
        ["commit-1"],
        "only the committed message is visible"
    );
    assert!(
        listener
            .checked
            .lock()
            .iter()
            .all(|b| b == "unknown-1" || b == "panic-1"),
        "only the unresolved transaction is checked: {:?}",
        listener.checked.lock()
    );
    listener.resolve.store(true, Ordering::SeqCst);
    assert!(
        eventually(Duration::from_secs(5), || seen.lock().len() >= 3).await,
        "the check's commit was not delivered"
    );
    // A marker resolved the same way (unknown, then committed by a check) comes after them
    // in the half queue: once it is delivered, no duplicate of theirs is still on its way.
    producer
        .send_message_in_transaction(Message::new("TxTopic", "unknown-marker"), 7u32)
        .await
        .unwrap();
    assert!(
        eventually(Duration::from_secs(10), || seen
            .lock()
            .iter()
            .any(|b| b == "unknown-marker"))
        .await,
        "the marker was not delivered"
    );
    let mut got: Vec<String> = seen
        .lock()
        .iter()
        .filter(|b| *b != "unknown-marker")
        .cloned()
        .collect();
    got.sort();
    assert_eq!(
        got,
        ["commit-1", "panic-1", "unknown-1"],
        "each delivered once, the rollback never"
    );
    producer.shutdown().await;
    consumer.shutdown().await;
    cluster.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_restarted_producer_of_the_group_resolves_the_check() {
    let cluster = Cluster::start(1, &CHECK_FAST).await;
    cluster.create_topic("TxRestart", 1).await;
    let first_listener = ByBody::default();
    let first = transaction_producer(&cluster, first_listener.clone()).await;
    let r = first
        .send_message_in_transaction(Message::new("TxRestart", "decided-later"), 7u32)
        .await
        .unwrap();
    assert_eq!(r.local_state, LocalTransactionState::Unknown);
    first.shutdown().await;

    let second_listener = ByBody::default();
    second_listener.resolve.store(true, Ordering::SeqCst);
    let second = transaction_producer(&cluster, second_listener.clone()).await;
    let seen: Arc<Mutex<Vec<String>>> = Arc::default();
    let consumer = body_consumer(&cluster, "CG-tx-restart", "TxRestart", &seen).await;
    assert!(
        eventually(Duration::from_secs(8), || !seen.lock().is_empty()).await,
        "the new producer did not resolve the transaction (checked: {:?})",
        second_listener.checked.lock()
    );
    assert_eq!(*seen.lock(), ["decided-later"]);
    assert_eq!(second_listener.checked.lock()[0], "decided-later");
    second.shutdown().await;
    consumer.shutdown().await;
    cluster.shutdown().await;
}
