//! Client benchmark against a running cluster: sync send, async send with 32 in flight, batches
//! of 32, push consumption of the backlog, and end-to-end latency at a fixed rate.
//!
//!     cargo run --release -p rmq-client --example bench -- -n 127.0.0.1:9876

#[path = "bench_table.rs"]
mod bench_table;
#[path = "support.rs"]
mod support;

use bench_table::report;

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use clap::Parser;
use futures::stream::{FuturesUnordered, StreamExt};
use parking_lot::Mutex;
use rmq_client::{ConsumeConcurrentlyStatus, ConsumeFrom, Message, Producer, PushConsumer};

#[derive(Parser)]
struct Args {
    #[arg(short = 'n', long, default_value = "127.0.0.1:9876")]
    namesrv: String,
    #[arg(short = 't', long, default_value = "BenchTopic")]
    topic: String,
    /// Messages per send phase.
    #[arg(short = 'm', long, default_value_t = 20_000)]
    messages: usize,
    /// Body size in bytes.
    #[arg(short = 's', long, default_value_t = 1024)]
    size: usize,
    /// End-to-end phase: messages per second and seconds.
    #[arg(long, default_value_t = 2_000)]
    rate: u64,
    #[arg(long, default_value_t = 5)]
    seconds: u64,
    /// Sign every request with this ACL account (with --secret-key).
    #[arg(long, requires = "secret_key")]
    access_key: Option<String>,
    #[arg(long, requires = "access_key")]
    secret_key: Option<String>,
    /// Connect over TLS.
    #[arg(long)]
    use_tls: bool,
}

/// The ACL account and TLS setting every client of the run uses.
fn client_options(a: &Args) -> rmq_client::ClientOptions {
    let mut o = rmq_client::ClientOptions::default();
    o.credentials = a
        .access_key
        .clone()
        .zip(a.secret_key.clone())
        .map(|(ak, sk)| rmq_client::Credentials::new(ak, sk));
    o.use_tls = a.use_tls;
    o
}

fn now_micros() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_micros() as u64)
        .unwrap_or(0)
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    support::init_logging();
    let a = Args::parse();
    // Drive the benchmark from a runtime worker, as an application's tasks would, rather than
    // from the `block_on` thread: every response would otherwise wake a thread outside the pool.
    tokio::spawn(run(a)).await?
}

async fn run(a: Args) -> anyhow::Result<()> {
    let body = vec![b'x'; a.size];
    let producer = Producer::builder()
        .group("BenchProducer")
        .options(client_options(&a))
        .name_server(&a.namesrv)
        .build()
        .await?;
    producer.send(Message::new(&a.topic, body.clone())).await?; // route + connection
    println!("{}", bench_table::HEADER);

    // 1. Sync, one in flight.
    let n = a.messages / 4;
    let mut lat = Vec::with_capacity(n);
    let t = Instant::now();
    for _ in 0..n {
        let s = Instant::now();
        producer.send(Message::new(&a.topic, body.clone())).await?;
        lat.push(s.elapsed());
    }
    report("sync send, 1 in flight", n, t.elapsed(), &mut lat);

    // 2. 32 in flight.
    let mut lat = Vec::with_capacity(a.messages);
    let mut pending = FuturesUnordered::new();
    let t = Instant::now();
    for _ in 0..a.messages {
        if pending.len() >= 32 {
            if let Some(r) = pending.next().await {
                lat.push(r?);
            }
        }
        let p = producer.clone();
        let m = Message::new(&a.topic, body.clone());
        pending.push(async move {
            let s = Instant::now();
            p.send(m).await.map(|_| s.elapsed())
        });
    }
    while let Some(r) = pending.next().await {
        lat.push(r?);
    }
    report(
        "async send, 32 in flight",
        a.messages,
        t.elapsed(),
        &mut lat,
    );

    // 3. Batches of 32, one batch in flight.
    let batches = a.messages / 32;
    let mut lat = Vec::with_capacity(batches);
    let t = Instant::now();
    for _ in 0..batches {
        let batch: Vec<Message> = (0..32)
            .map(|_| Message::new(&a.topic, body.clone()))
            .collect();
        let s = Instant::now();
        producer.send_batch(batch).await?;
        lat.push(s.elapsed());
    }
    report(
        "batch send, 32 per batch (latency per batch)",
        batches * 32,
        t.elapsed(),
        &mut lat,
    );

    // 4. Push consumption of everything sent above, from a new group.
    let backlog = 1 + n + a.messages + batches * 32;
    let got = Arc::new(AtomicUsize::new(0));
    let g = got.clone();
    let group = format!("BenchConsumer{}", now_micros());
    let consumer = PushConsumer::builder()
        .group(&group)
        .options(client_options(&a))
        .name_server(&a.namesrv)
        .subscribe(&a.topic, "*")
        .consume_from(ConsumeFrom::FirstOffset)
        .consume_message_batch_max_size(32)
        .listener_concurrently(move |msgs| {
            g.fetch_add(msgs.len(), Ordering::Relaxed);
            ConsumeConcurrentlyStatus::ConsumeSuccess
        })
        .build()
        .await?;
    let t = Instant::now();
    while got.load(Ordering::Relaxed) < backlog && t.elapsed() < Duration::from_secs(120) {
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    report(
        "push consume of the backlog (incl. start)",
        got.load(Ordering::Relaxed),
        t.elapsed(),
        &mut [],
    );
    consumer.shutdown().await;

    // 5. End to end at a fixed rate.
    let e2e_topic = format!("{}E2E", a.topic);
    producer.send(Message::new(&e2e_topic, "warm-up")).await?;
    let lat: Arc<Mutex<Vec<Duration>>> = Arc::default();
    let l = lat.clone();
    let consumer = PushConsumer::builder()
        .group(format!("BenchE2E{}", now_micros()))
        .options(client_options(&a))
        .name_server(&a.namesrv)
        .subscribe(&e2e_topic, "*")
        .consume_from(ConsumeFrom::LastOffset)
        .listener_concurrently(move |msgs| {
            let now = now_micros();
            let mut l = l.lock();
            for m in msgs {
                if let Some(sent) = m
                    .message
                    .property("sent")
                    .and_then(|s| s.parse::<u64>().ok())
                {
                    l.push(Duration::from_micros(now.saturating_sub(sent)));
                }
            }
            ConsumeConcurrentlyStatus::ConsumeSuccess
        })
        .build()
        .await?;
    while consumer
        .assigned_queues()
        .iter()
        .all(|q| q.topic != e2e_topic)
    {
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    tokio::time::sleep(Duration::from_millis(500)).await;
    let total = (a.rate * a.seconds) as usize;
    let mut tick = tokio::time::interval(Duration::from_micros(1_000_000 / a.rate.max(1)));
    let mut sends = Vec::with_capacity(total);
    let t = Instant::now();
    for _ in 0..total {
        tick.tick().await;
        let m =
            Message::new(&e2e_topic, body.clone()).with_property("sent", now_micros().to_string());
        let p = producer.clone();
        sends.push(tokio::spawn(async move { p.send(m).await }));
    }
    let sent = t.elapsed();
    for s in sends {
        s.await??;
    }
    while lat.lock().len() < total && t.elapsed() < sent + Duration::from_secs(10) {
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    let mut l = lat.lock().clone();
    report(
        &format!("end to end at {} msg/s", a.rate),
        l.len(),
        sent,
        &mut l,
    );
    consumer.shutdown().await;
    producer.shutdown().await;
    Ok(())
}
