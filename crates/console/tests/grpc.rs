//! A 5.x consumer over gRPC (SimpleConsumer: Telemetry, ReceiveMessage, AckMessage with the
//! generated tonic client) shows in the console like a remoting one: its group, its client,
//! and a backlog that falls to zero as it acknowledges.
#![allow(clippy::unwrap_used)]

mod support;

use std::time::Duration;

use futures::StreamExt;
use rmq_client::Message as Msg;
use rmq_proto::v2::messaging_service_client::MessagingServiceClient;
use rmq_proto::v2::receive_message_response::Content;
use rmq_proto::v2::{
    settings, telemetry_command, AckMessageEntry, AckMessageRequest, ClientType, FilterExpression,
    FilterType, MessageQueue, ReceiveMessageRequest, Resource, Settings, Subscription,
    SubscriptionEntry, TelemetryCommand,
};
use serde_json::json;
use support::until::until_within;
use support::{Api, Cluster};
use tonic::Request;

const WAIT: Duration = Duration::from_secs(30);
const CLIENT_ID: &str = "console-grpc-consumer";

fn req<T>(msg: T) -> Request<T> {
    let mut r = Request::new(msg);
    r.metadata_mut()
        .insert("x-mq-client-id", CLIENT_ID.parse().unwrap());
    r.metadata_mut()
        .insert("x-mq-language", "JAVA".parse().unwrap());
    r
}

fn res(name: &str) -> Option<Resource> {
    Some(Resource {
        resource_namespace: String::new(),
        name: name.into(),
    })
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_grpc_consumer_shows_like_a_remoting_one() {
    let grpc_port = rmq_testkit::free_port();
    let c = Cluster::start_with(&[], &format!("grpcServerPort={grpc_port}")).unwrap();
    let api = Api::local(&c.url).await.unwrap();
    api.post(
        "/api/topics",
        json!({"name": "GrpcOrders", "readQueues": 2, "writeQueues": 2}),
    )
    .await
    .unwrap();
    let producer = c.producer("PG-grpc").await;
    for i in 0..5 {
        producer
            .send(Msg::new("GrpcOrders", format!("g{i}")).with_tags("T"))
            .await
            .unwrap();
    }

    // The consumer says who it is on its Telemetry stream, which stays open.
    let mut grpc = MessagingServiceClient::connect(format!("http://127.0.0.1:{grpc_port}"))
        .await
        .unwrap();
    let hello = TelemetryCommand {
        status: None,
        command: Some(telemetry_command::Command::Settings(Settings {
            client_type: Some(ClientType::SimpleConsumer as i32),
            pub_sub: Some(settings::PubSub::Subscription(Subscription {
                group: res("CG-grpc"),
                subscriptions: vec![SubscriptionEntry {
                    topic: res("GrpcOrders"),
                    expression: Some(FilterExpression {
                        r#type: FilterType::Tag as i32,
                        expression: "*".into(),
                    }),
                }],
                ..Subscription::default()
            })),
            ..Settings::default()
        })),
    };
    let outbound = futures::stream::iter([hello]).chain(futures::stream::pending());
    let mut telemetry = grpc.telemetry(req(outbound)).await.unwrap().into_inner();
    telemetry.message().await.unwrap().unwrap();

    // The console lists the group with its 5.x client.
    until_within(WAIT, "the gRPC consumer listed in its group", || async {
        let d = api.get("/api/groups/CG-grpc").await.ok()?;
        (d["clients"][0]["clientId"] == CLIENT_ID).then_some(())
    })
    .await;
    let list = api.get("/api/groups").await.unwrap();
    let row = support::group_row(&list, "CG-grpc");
    assert!(row.is_some_and(|g| g["clients"] == 1), "{list}");

    // Receive and acknowledge everything: the backlog the console shows falls to zero.
    let received = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
    until_within(WAIT, "all five received and acknowledged", || {
        let mut grpc = grpc.clone();
        let received = received.clone();
        async move {
            let mut stream = grpc
                .receive_message(req(ReceiveMessageRequest {
                    group: res("CG-grpc"),
                    message_queue: Some(MessageQueue {
                        topic: res("GrpcOrders"),
                        id: -1,
                        ..MessageQueue::default()
                    }),
                    filter_expression: Some(FilterExpression {
                        r#type: FilterType::Tag as i32,
                        expression: "*".into(),
                    }),
                    batch_size: 32,
                    invisible_duration: Some(prost_types::Duration {
                        seconds: 30,
                        nanos: 0,
                    }),
                    auto_renew: false,
                    long_polling_timeout: Some(prost_types::Duration {
                        seconds: 1,
                        nanos: 0,
                    }),
                    attempt_id: None,
                }))
                .await
                .ok()?
                .into_inner();
            let mut entries = Vec::new();
            while let Ok(Some(frame)) = stream.message().await {
                if let Some(Content::Message(m)) = frame.content {
                    let sp = m.system_properties.unwrap_or_default();
                    entries.push(AckMessageEntry {
                        message_id: sp.message_id,
                        receipt_handle: sp.receipt_handle.unwrap_or_default(),
                        ..AckMessageEntry::default()
                    });
                }
            }
            if !entries.is_empty() {
                received.fetch_add(entries.len(), std::sync::atomic::Ordering::SeqCst);
                grpc.ack_message(req(AckMessageRequest {
                    group: res("CG-grpc"),
                    topic: res("GrpcOrders"),
                    entries,
                }))
                .await
                .ok()?;
            }
            (received.load(std::sync::atomic::Ordering::SeqCst) >= 5).then_some(())
        }
    })
    .await;
    until_within(WAIT, "the gRPC group's backlog falls to zero", || async {
        let d = api.get("/api/groups/CG-grpc").await.ok()?;
        let queues = d["queues"].as_array()?;
        let own = queues.iter().filter(|q| q["topic"] == "GrpcOrders").count();
        (d["backlog"] == 0 && own == 2).then_some(())
    })
    .await;
    producer.shutdown().await;
}
