//! The gRPC half of `cargo xtask bench`: SendMessage to a broker's gRPC port (the 5.x clients'
//! path) with the generated tonic client, one in flight and 32 in flight, printed as rows of the
//! client benchmark's table.
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
    Ok(())
}
