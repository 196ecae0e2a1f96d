//! The scale runs from RocketMQ's claims, as opt-in long benchmarks against a running cluster:
//!
//! * `accumulate`: write `--total` small messages (batches of 32, 8 batches in flight) and print
//!   throughput and batch latency for every `--every` messages, so one can see whether write
//!   latency stays flat as the store grows; then a new consumer group reads from the very start
//!   and reports how soon the first message arrives and the read rate.
//! * `topics`: create `--topics` topics of `--queues` queues each, then compare send throughput
//!   spread round robin over all of them with the same load on a single topic.
//!
//! Run with:
//!
//! ```text
//! cargo run --release -p rmq-client --example scale_bench -- -n 127.0.0.1:9876 accumulate --total 100000000
//! cargo run --release -p rmq-client --example scale_bench -- -n 127.0.0.1:9876 topics --topics 10000
//! ```

#[path = "support.rs"]
mod support;

use std::time::{Duration, Instant};

use clap::{Parser, Subcommand};
use futures::stream::{FuturesUnordered, StreamExt};
use rmq_client::{Admin, ConsumeFrom, Message, Producer, PullConsumer, TopicConfig, TopicTarget};

#[derive(Parser)]
struct Args {
    #[arg(short = 'n', long, default_value = "127.0.0.1:9876")]
    namesrv: String,
    /// Body size in bytes.
    #[arg(short = 's', long, default_value_t = 100)]
    size: usize,
    #[command(subcommand)]
    run: Run,
}

#[derive(Subcommand)]
enum Run {
    /// Accumulate many small messages; report latency per segment; read from the start.
    Accumulate {
        #[arg(long, default_value_t = 100_000_000)]
        total: u64,
        #[arg(long, default_value_t = 5_000_000)]
        every: u64,
        #[arg(short = 't', long, default_value = "ScaleTopic")]
        topic: String,
        /// How many messages the new consumer group reads from the start.
        #[arg(long, default_value_t = 1_000_000)]
        read: u64,
    },
    /// Many topics versus one.
    Topics {
        #[arg(long, default_value_t = 10_000)]
        topics: usize,
        #[arg(long, default_value_t = 4)]
        queues: i32,
        /// Messages per measurement.
        #[arg(short = 'm', long, default_value_t = 200_000)]
        messages: usize,
        #[arg(short = 'c', long, default_value = "DefaultCluster")]
        cluster: String,
    },
}

fn pct(lat: &mut [Duration], p: f64) -> Duration {
    if lat.is_empty() {
        return Duration::ZERO;
    }
    lat.sort_unstable();
    lat[((lat.len() as f64 * p) as usize).min(lat.len() - 1)]
}

/// Sends `count` batches of 32 with 8 in flight, choosing the topic per batch; returns the
/// batch latencies.
async fn send_batches(
    p: &Producer,
    count: u64,
    body: &[u8],
    topic_of: impl Fn(u64) -> String,
) -> anyhow::Result<Vec<Duration>> {
    let mut lat = Vec::with_capacity(count as usize);
    let mut pending = FuturesUnordered::new();
    for i in 0..count {
        if pending.len() >= 8 {
            if let Some(r) = pending.next().await {
                lat.push(r?);
            }
        }
        let topic = topic_of(i);
        let batch: Vec<Message> = (0..32)
            .map(|_| Message::new(&topic, body.to_vec()))
            .collect();
        let p = p.clone();
        pending.push(async move {
            let s = Instant::now();
            p.send_batch(batch).await.map(|_| s.elapsed())
        });
    }
    while let Some(r) = pending.next().await {
        lat.push(r?);
    }
    Ok(lat)
}

async fn accumulate(
    a: &Args,
    p: &Producer,
    total: u64,
    every: u64,
    topic: &str,
    read_target: u64,
) -> anyhow::Result<()> {
    let body = vec![b's'; a.size];
    println!("| messages stored | msgs/s in segment | batch p50 | batch p99 | batch p999 |");
    println!("|---|---|---|---|---|");
    let per_segment = (every / 32).max(1);
    let mut done = 0u64;
    let start = Instant::now();
    while done < total {
        let t = Instant::now();
        let mut lat = send_batches(p, per_segment, &body, |_| topic.to_owned()).await?;
        done += per_segment * 32;
        println!(
            "| {done} | {:.0} | {:?} | {:?} | {:?} |",
            (per_segment * 32) as f64 / t.elapsed().as_secs_f64(),
            pct(&mut lat, 0.5),
            pct(&mut lat, 0.99),
            pct(&mut lat, 0.999)
        );
    }
    println!("\nwrote {done} messages in {:?}", start.elapsed());

    // A new group reads from the first offset.
    let group = format!("ScaleReader{}", start.elapsed().as_micros());
    let c = PullConsumer::builder()
        .group(&group)
        .name_server(&a.namesrv)
        .consume_from(ConsumeFrom::FirstOffset)
        .auto_commit(false)
        .build()
        .await?;
    c.assign(c.fetch_queues(topic).await?);
    let t = Instant::now();
    let mut first = None;
    let mut read = 0usize;
    let target = read_target.min(done) as usize;
    while read < target && t.elapsed() < Duration::from_secs(900) {
        let batch = c.poll(Duration::from_secs(5)).await?;
        if first.is_none() && !batch.is_empty() {
            first = Some(t.elapsed());
            if let Some(m) = batch.first() {
                println!(
                    "first message read from queue {} offset {}",
                    m.queue_id, m.queue_offset
                );
            }
        }
        read += batch.len();
    }
    println!(
        "a new consumer read its first message after {:?} and {read} messages from the start at {:.0} msg/s",
        first.unwrap_or_default(),
        read as f64 / t.elapsed().as_secs_f64()
    );
    c.shutdown().await;
    Ok(())
}

async fn many_topics(
    a: &Args,
    p: &Producer,
    topics: usize,
    queues: i32,
    messages: usize,
    cluster: &str,
) -> anyhow::Result<()> {
    let admin = Admin::builder().name_server(&a.namesrv).build().await?;
    let t = Instant::now();
    let names: Vec<String> = (0..topics).map(|i| format!("ScaleT{i:05}")).collect();
    for (i, name) in names.iter().enumerate() {
        let mut cfg = TopicConfig::new(name.clone(), queues, queues, 6);
        cfg.perm = 6;
        admin
            .create_topic(TopicTarget::Cluster(cluster.to_owned()), &cfg)
            .await?;
        if (i + 1) % 1000 == 0 {
            eprintln!("created {} topics ({:?})", i + 1, t.elapsed());
        }
    }
    println!(
        "created {topics} topics x {queues} queues in {:?}",
        t.elapsed()
    );
    // Routes appear on the name servers with the brokers' next registrations.
    tokio::time::sleep(Duration::from_secs(3)).await;
    let body = vec![b's'; a.size];
    let batches = (messages / 32) as u64;
    // Warm routes of every topic once.
    for name in &names {
        p.send(Message::new(name, body.clone())).await?;
    }
    println!("| load | msgs/s | batch p50 | batch p99 |\n|---|---|---|---|");
    for (label, spread) in [("1 topic", false), ("all topics, round robin", true)] {
        let t = Instant::now();
        let mut lat = send_batches(p, batches, &body, |i| {
            if spread {
                names[i as usize % names.len()].clone()
            } else {
                names[0].clone()
            }
        })
        .await?;
        println!(
            "| {label} | {:.0} | {:?} | {:?} |",
            (batches * 32) as f64 / t.elapsed().as_secs_f64(),
            pct(&mut lat, 0.5),
            pct(&mut lat, 0.99)
        );
    }
    admin.shutdown().await;
    Ok(())
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    support::init_logging();
    let a = Args::parse();
    let p = Producer::builder()
        .group("ScaleProducer")
        .name_server(&a.namesrv)
        .build()
        .await?;
    match &a.run {
        Run::Accumulate {
            total,
            every,
            topic,
            read,
        } => accumulate(&a, &p, *total, *every, topic, *read).await?,
        Run::Topics {
            topics,
            queues,
            messages,
            cluster,
        } => many_topics(&a, &p, *topics, *queues, *messages, cluster).await?,
    }
    p.shutdown().await;
    Ok(())
}
