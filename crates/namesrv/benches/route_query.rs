//! GET_ROUTEINFO_BY_TOPIC throughput and latency: 64 concurrent requesters against 100 topics on
//! 4 brokers, over real TCP on 127.0.0.1, name server and load generator in one process (each on
//! its own 2-thread runtime, so they share the machine's cores as two processes would).
//!
//! `cargo bench -p rmq-namesrv` runs two layouts: 64 requesters each on its own connection (64
//! clients), and 64 requesters pipelining over 4 connections (a few busy clients).
//! Options: `--seconds N` (measured time per layout, default 5), `--connections N` (one layout).

#![allow(clippy::unwrap_used)]

use std::sync::Arc;
use std::time::{Duration, Instant};

use rmq_common::TopicConfig;
use rmq_namesrv::NamesrvConfig;
use rmq_remoting::body::RegisterBrokerBody;
use rmq_remoting::header::{GetRouteInfoRequestHeader, RegisterBrokerRequestHeader};
use rmq_remoting::{ClientConfig, RemotingClient, RemotingCommand, RequestCode};

const REQUESTERS: usize = 64;
const TOPICS: usize = 100;
const BROKERS: usize = 4;

fn arg(name: &str) -> Option<u64> {
    let args: Vec<String> = std::env::args().collect();
    args.iter()
        .position(|a| a == name)
        .and_then(|i| args.get(i + 1))
        .and_then(|v| v.parse().ok())
}

fn runtime(name: &str) -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .thread_name(name)
        .enable_all()
        .build()
        .unwrap()
}

fn main() {
    let seconds = arg("--seconds").unwrap_or(5);
    let layouts: Vec<usize> = match arg("--connections") {
        Some(n) => vec![n as usize],
        None => vec![REQUESTERS, 4],
    };
    let server_rt = runtime("namesrv");
    let dir = tempfile::tempdir().unwrap();
    let config = NamesrvConfig {
        kv_config_path: dir.path().join("kvConfig.json"),
        bind_address: "127.0.0.1".into(),
        listen_port: 0,
        ..NamesrvConfig::default()
    };
    let namesrv = server_rt.block_on(async {
        let listener = rmq_namesrv::bind(&config).await.unwrap();
        rmq_namesrv::start(config, listener).await.unwrap()
    });
    let addr = namesrv.local_addr().to_string();

    let client_rt = runtime("loadgen");
    // The registering connection must stay open or the brokers would be dropped with it.
    let brokers = client_rt.block_on(register_brokers(&addr));
    println!(
        "GET_ROUTEINFO_BY_TOPIC: {REQUESTERS} requesters, {TOPICS} topics on {BROKERS} brokers, \
         {seconds} s per layout"
    );
    for connections in layouts {
        let r = client_rt.block_on(measure(&addr, connections, Duration::from_secs(seconds)));
        println!(
            "  {REQUESTERS} requesters over {connections:>2} connections: {:>9.0} queries/s   \
             p50 {:>6} us   p99 {:>6} us   p999 {:>6} us   ({} queries)",
            r.qps, r.p50, r.p99, r.p999, r.count
        );
    }
    client_rt.block_on(brokers.shutdown());
    drop(client_rt);
    server_rt.block_on(namesrv.shutdown());
}

async fn register_brokers(addr: &str) -> RemotingClient {
    let client = RemotingClient::new(ClientConfig::default());
    for b in 0..BROKERS {
        let mut body = RegisterBrokerBody::default();
        for t in 0..TOPICS {
            let name = format!("BenchTopic{t}");
            body.topic_config_serialize_wrapper
                .topic_config_table
                .insert(name.clone(), TopicConfig::new(name, 8, 8, 6));
        }
        let header = RegisterBrokerRequestHeader {
            broker_name: format!("broker-{b}"),
            broker_addr: format!("10.0.0.{b}:10911"),
            cluster_name: "BenchCluster".into(),
            ha_server_addr: format!("10.0.0.{b}:10912"),
            broker_id: 0,
            ..Default::default()
        };
        let req =
            RemotingCommand::request(RequestCode::RegisterBroker, &header).with_body(body.encode());
        let r = client
            .invoke(addr, req, Duration::from_secs(3))
            .await
            .unwrap();
        assert_eq!(r.code, 0);
    }
    client
}

struct Outcome {
    qps: f64,
    count: usize,
    p50: u64,
    p99: u64,
    p999: u64,
}

async fn measure(addr: &str, connections: usize, duration: Duration) -> Outcome {
    let clients: Vec<RemotingClient> = (0..connections)
        .map(|_| RemotingClient::new(ClientConfig::default()))
        .collect();
    let warmup = Duration::from_millis(500);
    let start = Instant::now();
    let measure_from = start + warmup;
    let end = measure_from + duration;
    let addr: Arc<str> = addr.into();
    let mut tasks = Vec::with_capacity(REQUESTERS);
    for i in 0..REQUESTERS {
        let client = clients[i % connections].clone();
        let addr = addr.clone();
        tasks.push(tokio::spawn(async move {
            let mut latencies = Vec::with_capacity(200_000);
            let mut n = i;
            loop {
                let topic = format!("BenchTopic{}", n % TOPICS);
                n += 7;
                let req = RemotingCommand::request(
                    RequestCode::GetRouteinfoByTopic,
                    &GetRouteInfoRequestHeader {
                        topic,
                        ..Default::default()
                    },
                );
                let sent = Instant::now();
                let r = client
                    .invoke(&addr, req, Duration::from_secs(5))
                    .await
                    .unwrap();
                let done = Instant::now();
                assert_eq!(r.code, 0);
                if done >= end {
                    break;
                }
                if sent >= measure_from {
                    latencies.push(done.duration_since(sent).as_micros() as u64);
                }
            }
            latencies
        }));
    }
    let mut all = Vec::new();
    for t in tasks {
        all.extend(t.await.unwrap());
    }
    for c in clients {
        c.shutdown().await;
    }
    all.sort_unstable();
    let pct = |p: f64| all[((all.len() as f64 * p) as usize).min(all.len() - 1)];
    Outcome {
        qps: all.len() as f64 / duration.as_secs_f64(),
        count: all.len(),
        p50: pct(0.50),
        p99: pct(0.99),
        p999: pct(0.999),
    }
}
