//! The gRPC half of `cargo xtask bench`: SendMessage to a broker's gRPC port (the 5.x clients'
//! path) with the generated tonic client, one in flight and 32 in flight, then ReceiveMessage +
//! AckMessage of as many messages by a fresh group (batches of 32, 4 receivers), printed as rows
//! of the client benchmark's table.
//!
//!     cargo run --release -p rmq-broker --example grpc_bench -- -e 127.0.0.1:8081 -t BenchTopic

#[path = "../../../examples/bench_table.rs"]
mod bench_table;

use std::time::{Duration, Instant};

use clap::Parser;
use futures::stream::{FuturesUnordered, StreamExt};
use rmq_proto::v2::messaging_service_client::MessagingServiceClient;
use rmq_proto::v2::{
    Code, Message, MessageType, QueryRouteRequest, Resource, SendMessageRequest, SystemProperties,
};
use tonic::transport::Channel;

use bench_table::report;

#[derive(Parser)]
struct Args {
    /// The broker's gRPC endpoint (host:grpcServerPort).
    #[arg(short = 'e', long, default_value = "127.0.0.1:8081")]
    endpoint: String,
    #[arg(short = 't', long, default_value = "BenchTopic")]
    topic: String,
    /// Messages of the 32-in-flight phase (a quarter of them one at a time).
    #[arg(short = 'm', long, default_value_t = 40_000)]
    messages: usize,
    /// Body size in bytes.
    #[arg(short = 's', long, default_value_t = 1024)]
    size: usize,
    /// Print the table header too.
    #[arg(long)]
    header: bool,
}

fn request<T>(msg: T) -> tonic::Request<T> {
    let mut r = tonic::Request::new(msg);
    r.metadata_mut().insert(
        "x-mq-client-id",
        tonic::metadata::MetadataValue::from_static("grpc-bench"),
    );
    r
}

struct Sender {
    client: MessagingServiceClient<Channel>,
    topic: String,
    body: Vec<u8>,
    queues: i32,
}

impl Sender {
    async fn send(&self, i: usize) -> anyhow::Result<Duration> {
        let m = Message {
            topic: Some(Resource {
                resource_namespace: String::new(),
                name: self.topic.clone(),
            }),
            user_properties: Default::default(),
            system_properties: Some(SystemProperties {
                message_id: format!("GRPCBENCH{:016X}{i:08X}", std::process::id()),
                message_type: MessageType::Normal as i32,
                queue_id: (i as i32) % self.queues,
                ..SystemProperties::default()
            }),
            body: self.body.clone(),
        };
        let s = Instant::now();
        let r = self
            .client
            .clone()
            .send_message(request(SendMessageRequest { messages: vec![m] }))
            .await?
            .into_inner();
        let st = r.status.unwrap_or_default();
        anyhow::ensure!(st.code == Code::Ok as i32, "send failed: {}", st.message);
        Ok(s.elapsed())
    }
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let a = Args::parse();
    let mut client = MessagingServiceClient::connect(format!("http://{}", a.endpoint)).await?;
    let route = client
        .query_route(request(QueryRouteRequest {
            topic: Some(Resource {
                resource_namespace: String::new(),
                name: a.topic.clone(),
            }),
            endpoints: None,
        }))
        .await?
        .into_inner();
    let st = route.status.unwrap_or_default();
    anyhow::ensure!(
        st.code == Code::Ok as i32,
        "QueryRoute {}: {}",
        a.topic,
        st.message
    );
    let sender = std::sync::Arc::new(Sender {
        client,
        topic: a.topic.clone(),
        body: vec![b'x'; a.size],
        queues: (route.message_queues.len() as i32).max(1),
    });
    if a.header {
        println!("{}", bench_table::HEADER);
    }
    let n = a.messages / 4;
    let mut lat = Vec::with_capacity(n);
    let t = Instant::now();
    for i in 0..n {
        lat.push(sender.send(i).await?);
    }
    report("gRPC send, 1 in flight", n, t.elapsed(), &mut lat);

    let mut lat = Vec::with_capacity(a.messages);
    let mut pending = FuturesUnordered::new();
    let t = Instant::now();
    for i in 0..a.messages {
        if pending.len() >= 32 {
            if let Some(r) = pending.next().await {
                lat.push(r?);
            }
        }
        let s = sender.clone();
        pending.push(async move { s.send(n + i).await });
    }
    while let Some(r) = pending.next().await {
        lat.push(r?);
    }
    report("gRPC send, 32 in flight", a.messages, t.elapsed(), &mut lat);

    let receiver = std::sync::Arc::new(Receiver {
        client: sender.client.clone(),
        topic: a.topic.clone(),
        group: format!(
            "GID_grpc_bench_{}_{}",
            std::process::id(),
            rmq_common::time::now_millis()
        ),
        received: std::sync::atomic::AtomicUsize::new(0),
    });
    let target = a.messages;
    let t = Instant::now();
    let tasks: Vec<_> = (0..4)
        .map(|_| {
            let r = receiver.clone();
            tokio::spawn(async move { r.drain(target).await })
        })
        .collect();
    let mut lat = Vec::new();
    for task in tasks {
        lat.extend(task.await??);
    }
    let got = receiver.received.load(std::sync::atomic::Ordering::Relaxed);
    report(
        "gRPC receive + ack, batches of 32",
        got,
        t.elapsed(),
        &mut lat,
    );
    Ok(())
}

/// POP consumption by one group: receive 32, ack them in one call, repeat.
struct Receiver {
    client: MessagingServiceClient<Channel>,
    topic: String,
    group: String,
    received: std::sync::atomic::AtomicUsize,
}

impl Receiver {
    /// Receives and acks until `target` messages were received by all receivers together;
    /// returns the time of each receive + ack round.
    async fn drain(&self, target: usize) -> anyhow::Result<Vec<Duration>> {
        use rmq_proto::v2::{
            receive_message_response::Content, AckMessageEntry, AckMessageRequest, MessageQueue,
            ReceiveMessageRequest,
        };
        use std::sync::atomic::Ordering;
        let res = |name: &str| {
            Some(Resource {
                resource_namespace: String::new(),
                name: name.to_owned(),
            })
        };
        let mut lat = Vec::new();
        let mut client = self.client.clone();
        while self.received.load(Ordering::Relaxed) < target {
            let s = Instant::now();
            let mut stream = client
                .receive_message(request(ReceiveMessageRequest {
                    group: res(&self.group),
                    message_queue: Some(MessageQueue {
                        topic: res(&self.topic),
                        id: -1,
                        ..MessageQueue::default()
                    }),
                    filter_expression: None,
                    batch_size: 32,
                    invisible_duration: Some(prost_types::Duration {
                        seconds: 60,
                        nanos: 0,
                    }),
                    auto_renew: false,
                    long_polling_timeout: Some(prost_types::Duration {
                        seconds: 5,
                        nanos: 0,
                    }),
                    attempt_id: None,
                }))
                .await?
                .into_inner();
            let mut entries = Vec::new();
            while let Some(frame) = stream.message().await? {
                if let Some(Content::Message(m)) = frame.content {
                    let sp = m.system_properties.unwrap_or_default();
                    entries.push(AckMessageEntry {
                        message_id: sp.message_id,
                        receipt_handle: sp.receipt_handle.unwrap_or_default(),
                        lite_topic: None,
                    });
                }
            }
            if entries.is_empty() {
                continue;
            }
            let n = entries.len();
            let r = client
                .ack_message(request(AckMessageRequest {
                    group: res(&self.group),
                    topic: res(&self.topic),
                    entries,
                }))
                .await?
                .into_inner();
            let st = r.status.unwrap_or_default();
            anyhow::ensure!(st.code == Code::Ok as i32, "ack failed: {}", st.message);
            self.received.fetch_add(n, Ordering::Relaxed);
            lat.push(s.elapsed());
        }
        Ok(lat)
    }
}
