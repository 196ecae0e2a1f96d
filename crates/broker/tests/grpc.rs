//! The gRPC front door (apache.rocketmq.v2.MessagingService) of an in-process broker, spoken to
//! over real TCP with the generated tonic client: the metadata check, QueryRoute, the Telemetry
//! settings handshake, and a message sent over gRPC consumed over remoting.
#![allow(clippy::unwrap_used)]

mod common;

use common::cluster::create_topic;
use common::grpc::{connect, resource as topic};
use common::{client, config, pull_request, pull_until_found, start};
use rmq_common::record::decode_messages;
use rmq_proto::v2::messaging_service_client::MessagingServiceClient;
use rmq_proto::v2::{
    settings, telemetry_command, ClientType, Code, Message, MessageType, Publishing,
    QueryRouteRequest, SendMessageRequest, Settings, SystemProperties, TelemetryCommand,
};
use rmq_remoting::header::pull_sys_flag;
use rmq_remoting::ResponseCode;
use tonic::transport::Channel;
use tonic::Request;

fn with_client_id<T>(msg: T) -> Request<T> {
    common::grpc::request("grpc-test-client", msg)
}

/// Opens a Telemetry stream carrying `outbound`; the broker's first answer must be its Settings.
async fn open_telemetry(
    c: &mut MessagingServiceClient<Channel>,
    outbound: impl futures::Stream<Item = TelemetryCommand> + Send + 'static,
) -> tonic::Streaming<TelemetryCommand> {
    let mut stream = c
        .telemetry(with_client_id(outbound))
        .await
        .unwrap()
        .into_inner();
    let first = stream.message().await.unwrap().unwrap();
    assert!(matches!(
        first.command,
        Some(telemetry_command::Command::Settings(_))
    ));
    stream
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn route_settings_and_a_send_consumed_over_remoting() {
    let dir = tempfile::tempdir().unwrap();
    let broker = start(config(dir.path(), &[])).await;
    let addr = broker.local_addr().to_string();
    let grpc = broker.grpc_addr().expect("gRPC served by default");
    let remoting = client();
    create_topic(&remoting, &addr, "GrpcTopic", 2).await;
    let mut c = connect(grpc).await;

    // Without x-mq-client-id: CLIENT_ID_REQUIRED in the response status.
    let r = c
        .query_route(Request::new(QueryRouteRequest {
            topic: topic("GrpcTopic"),
            endpoints: None,
        }))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(r.status.unwrap().code, Code::ClientIdRequired as i32);

    // QueryRoute: both queues, read-write, on this broker's gRPC endpoint.
    let r = c
        .query_route(with_client_id(QueryRouteRequest {
            topic: topic("GrpcTopic"),
            endpoints: None,
        }))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(r.status.unwrap().code, Code::Ok as i32);
    assert_eq!(r.message_queues.len(), 2);
    let q = &r.message_queues[0];
    let b = q.broker.as_ref().unwrap();
    assert_eq!(b.name, "broker-a");
    let ep = &b.endpoints.as_ref().unwrap().addresses[0];
    assert_eq!(ep.port, i32::from(grpc.port()));
    assert!(q
        .accept_message_types
        .contains(&(MessageType::Normal as i32)));
    let missing = c
        .query_route(with_client_id(QueryRouteRequest {
            topic: topic("NoSuchTopic"),
            endpoints: None,
        }))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(missing.status.unwrap().code, Code::TopicNotFound as i32);

    // Telemetry: the client's Settings come back completed with the server's.
    let hello = TelemetryCommand {
        status: None,
        command: Some(telemetry_command::Command::Settings(Settings {
            client_type: Some(ClientType::Producer as i32),
            pub_sub: Some(settings::PubSub::Publishing(Publishing {
                topics: vec![topic("GrpcTopic").unwrap()],
                max_body_size: 0,
                validate_message_type: false,
            })),
            ..Settings::default()
        })),
    };
    let mut stream = c
        .telemetry(with_client_id(futures::stream::iter([hello])))
        .await
        .unwrap()
        .into_inner();
    let answer = stream.message().await.unwrap().unwrap();
    assert_eq!(answer.status.unwrap().code, Code::Ok as i32);
    let Some(telemetry_command::Command::Settings(s)) = answer.command else {
        panic!("no settings answered");
    };
    assert_eq!(s.backoff_policy.unwrap().max_attempts, 3);
    let Some(settings::PubSub::Publishing(p)) = s.pub_sub else {
        panic!("no publishing settings");
    };
    assert_eq!(p.max_body_size, 4 * 1024 * 1024);
    assert!(p.validate_message_type);

    // SendMessage, then the same message pulled over remoting.
    let msg = Message {
        topic: topic("GrpcTopic"),
        user_properties: [("color".to_owned(), "blue".to_owned())].into(),
        system_properties: Some(SystemProperties {
            tag: Some("TagA".into()),
            keys: vec!["k1".into(), "k2".into()],
            message_id: "01GRPCTESTMESSAGEID0000000001".into(),
            message_type: MessageType::Normal as i32,
            queue_id: 1,
            ..SystemProperties::default()
        }),
        body: b"over grpc".to_vec(),
    };
    let sent = c
        .send_message(with_client_id(SendMessageRequest {
            messages: vec![msg],
        }))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(
        sent.status.unwrap().code,
        Code::Ok as i32,
        "{:?}",
        sent.entries
    );
    assert_eq!(sent.entries[0].message_id, "01GRPCTESTMESSAGEID0000000001");
    assert_eq!(sent.entries[0].offset, 0);
    // The broker picked the queue: pull both in turn.
    let turn = std::cell::Cell::new(0);
    let resp = pull_until_found(&remoting, &addr, || {
        turn.set(turn.get() + 1);
        pull_request(
            "CG-grpc",
            "GrpcTopic",
            turn.get() % 2,
            0,
            pull_sys_flag::SUBSCRIPTION,
            0,
            Some("TagA"),
        )
    })
    .await;
    assert_eq!(resp.response_code(), ResponseCode::Success);
    let got = decode_messages(&resp.body).unwrap();
    assert_eq!(got.len(), 1);
    let m = &got[0].message;
    assert_eq!(&m.body[..], b"over grpc");
    assert_eq!(m.tags(), Some("TagA"));
    assert_eq!(m.properties.get("KEYS").map(String::as_str), Some("k1 k2"));
    assert_eq!(m.properties.get("color").map(String::as_str), Some("blue"));
    assert_eq!(
        m.properties.get("UNIQ_KEY").map(String::as_str),
        Some("01GRPCTESTMESSAGEID0000000001")
    );

    // A reserved property is refused by name; nothing is stored.
    let bad = Message {
        topic: topic("GrpcTopic"),
        user_properties: [("DELAY".to_owned(), "3".to_owned())].into(),
        system_properties: Some(SystemProperties {
            message_id: "01GRPCTESTMESSAGEID0000000002".into(),
            ..SystemProperties::default()
        }),
        body: b"x".to_vec(),
    };
    let refused = c
        .send_message(with_client_id(SendMessageRequest {
            messages: vec![bad],
        }))
        .await
        .unwrap()
        .into_inner();
    let st = refused.status.unwrap();
    assert_eq!(st.code, Code::IllegalMessagePropertyKey as i32);
    assert!(st.message.contains("DELAY"), "{}", st.message);

    // What is not served yet says so in its status.
    let recall = c
        .recall_message(with_client_id(
            rmq_proto::v2::RecallMessageRequest::default(),
        ))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(recall.status.unwrap().code, Code::NotImplemented as i32);
    broker.shutdown().await;
}

/// A transactional message sent over gRPC stays invisible until EndTransaction; COMMIT makes it
/// consumable over remoting, ROLLBACK drops it, and an id the broker did not make is refused.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn transactions_end_over_grpc() {
    use rmq_proto::v2::{EndTransactionRequest, TransactionResolution, TransactionSource};
    let dir = tempfile::tempdir().unwrap();
    let broker = start(config(dir.path(), &[])).await;
    let addr = broker.local_addr().to_string();
    let remoting = client();
    create_topic(&remoting, &addr, "GrpcTx", 1).await;
    let mut c = connect(broker.grpc_addr().unwrap()).await;
    let half = |id: &str, body: &str| Message {
        topic: topic("GrpcTx"),
        user_properties: Default::default(),
        system_properties: Some(SystemProperties {
            message_id: id.into(),
            message_type: MessageType::Transaction as i32,
            queue_id: 0,
            ..SystemProperties::default()
        }),
        body: body.as_bytes().to_vec(),
    };
    let mut tx_ids = Vec::new();
    for (id, body) in [
        ("TX-COMMIT-1", "commit me"),
        ("TX-ROLLBACK-1", "roll me back"),
    ] {
        let r = c
            .send_message(with_client_id(SendMessageRequest {
                messages: vec![half(id, body)],
            }))
            .await
            .unwrap()
            .into_inner();
        assert_eq!(r.status.unwrap().code, Code::Ok as i32, "{:?}", r.entries);
        assert!(!r.entries[0].transaction_id.is_empty());
        tx_ids.push((id, r.entries[0].transaction_id.clone()));
    }
    // Nothing visible before the decision.
    let pull = || {
        pull_request(
            "CG-grpc-tx",
            "GrpcTx",
            0,
            0,
            pull_sys_flag::SUBSCRIPTION,
            0,
            Some("*"),
        )
    };
    let before = remoting
        .invoke(&addr, pull(), common::TIMEOUT)
        .await
        .unwrap();
    assert_ne!(before.response_code(), ResponseCode::Success);

    let end = |id: &str, tx: &str, resolution: TransactionResolution| EndTransactionRequest {
        topic: topic("GrpcTx"),
        message_id: id.into(),
        transaction_id: tx.into(),
        resolution: resolution as i32,
        source: TransactionSource::SourceClient as i32,
        trace_context: String::new(),
    };
    let (rollback_id, rollback_tx) = tx_ids.pop().unwrap();
    let (commit_id, commit_tx) = tx_ids.pop().unwrap();
    for req in [
        end(rollback_id, &rollback_tx, TransactionResolution::Rollback),
        end(commit_id, &commit_tx, TransactionResolution::Commit),
    ] {
        let r = c
            .end_transaction(with_client_id(req))
            .await
            .unwrap()
            .into_inner();
        assert_eq!(r.status.unwrap().code, Code::Ok as i32);
    }
    let resp = pull_until_found(&remoting, &addr, pull).await;
    assert_eq!(resp.response_code(), ResponseCode::Success);
    let got = decode_messages(&resp.body).unwrap();
    let bodies: Vec<&[u8]> = got.iter().map(|m| &m.message.body[..]).collect();
    assert_eq!(
        bodies,
        [b"commit me".as_slice()],
        "only the committed message"
    );

    let bogus = c
        .end_transaction(with_client_id(end(
            "X",
            "not-an-id",
            TransactionResolution::Commit,
        )))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(
        bogus.status.unwrap().code,
        Code::InvalidTransactionId as i32
    );
    broker.shutdown().await;
}

/// An unresolved gRPC transaction is checked back over the producer's Telemetry stream
/// (RecoverOrphanedTransactionCommand); the producer's EndTransaction with the id it was given
/// commits it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_orphaned_transaction_is_checked_back_over_telemetry() {
    use futures::StreamExt;
    use rmq_proto::v2::{EndTransactionRequest, TransactionResolution, TransactionSource};
    let dir = tempfile::tempdir().unwrap();
    let broker = start(config(
        dir.path(),
        &[
            ("transactionCheckInterval", "200"),
            ("transactionTimeOut", "200"),
        ],
    ))
    .await;
    let addr = broker.local_addr().to_string();
    let remoting = client();
    create_topic(&remoting, &addr, "GrpcOrphan", 1).await;
    let mut c = connect(broker.grpc_addr().unwrap()).await;
    let hello = TelemetryCommand {
        status: None,
        command: Some(telemetry_command::Command::Settings(Settings {
            client_type: Some(ClientType::Producer as i32),
            pub_sub: Some(settings::PubSub::Publishing(Publishing {
                topics: vec![topic("GrpcOrphan").unwrap()],
                max_body_size: 0,
                validate_message_type: true,
            })),
            ..Settings::default()
        })),
    };
    // The client keeps its half of the stream open, as a running producer does.
    let outbound = futures::stream::iter([hello]).chain(futures::stream::pending());
    let mut stream = open_telemetry(&mut c, outbound).await;

    let sent = c
        .send_message(with_client_id(SendMessageRequest {
            messages: vec![Message {
                topic: topic("GrpcOrphan"),
                user_properties: [("order".to_owned(), "42".to_owned())].into(),
                system_properties: Some(SystemProperties {
                    tag: Some("TagT".into()),
                    message_id: "TX-ORPHAN-1".into(),
                    message_type: MessageType::Transaction as i32,
                    ..SystemProperties::default()
                }),
                body: b"orphan".to_vec(),
            }],
        }))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(sent.status.unwrap().code, Code::Ok as i32);

    // No EndTransaction: the broker asks.
    let asked = tokio::time::timeout(std::time::Duration::from_secs(30), stream.message())
        .await
        .expect("the broker asked within 30 s")
        .unwrap()
        .unwrap();
    let Some(telemetry_command::Command::RecoverOrphanedTransactionCommand(cmd)) = asked.command
    else {
        panic!("expected a RecoverOrphanedTransactionCommand, got {asked:?}");
    };
    let m = cmd.message.unwrap();
    assert_eq!(m.topic.unwrap().name, "GrpcOrphan");
    assert_eq!(&m.body[..], b"orphan");
    assert_eq!(
        m.user_properties.get("order").map(String::as_str),
        Some("42")
    );
    let sp = m.system_properties.unwrap();
    assert_eq!(sp.message_id, "TX-ORPHAN-1");
    assert_eq!(sp.tag.as_deref(), Some("TagT"));

    let r = c
        .end_transaction(with_client_id(EndTransactionRequest {
            topic: topic("GrpcOrphan"),
            message_id: sp.message_id.clone(),
            transaction_id: cmd.transaction_id,
            resolution: TransactionResolution::Commit as i32,
            source: TransactionSource::SourceServerCheck as i32,
            trace_context: String::new(),
        }))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(r.status.unwrap().code, Code::Ok as i32);
    let resp = pull_until_found(&remoting, &addr, || {
        pull_request(
            "CG-orphan",
            "GrpcOrphan",
            0,
            0,
            pull_sys_flag::SUBSCRIPTION,
            0,
            Some("*"),
        )
    })
    .await;
    assert_eq!(resp.response_code(), ResponseCode::Success);
    let got = decode_messages(&resp.body).unwrap();
    assert_eq!(got.len(), 1);
    assert_eq!(&got[0].message.body[..], b"orphan");
    broker.shutdown().await;
}

/// A topic whose `message.type` attribute says FIFO lists only FIFO in its route and refuses
/// other types (MESSAGE_PROPERTY_CONFLICT_WITH_TYPE), as Apache's proxy does.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_declared_message_type_is_enforced() {
    use rmq_remoting::header::CreateTopicRequestHeader;
    use rmq_remoting::{RemotingCommand, RequestCode};
    let dir = tempfile::tempdir().unwrap();
    let broker = start(config(dir.path(), &[])).await;
    let addr = broker.local_addr().to_string();
    let h = CreateTopicRequestHeader {
        topic: "GrpcFifoOnly".into(),
        default_topic: "TBW102".into(),
        read_queue_nums: 2,
        write_queue_nums: 2,
        perm: 6,
        topic_filter_type: Default::default(),
        topic_sys_flag: Some(0),
        order: false,
        attributes: Some("+message.type=FIFO".into()),
        force: None,
        rpc: Default::default(),
    };
    let r = client()
        .invoke(
            &addr,
            RemotingCommand::request(RequestCode::UpdateAndCreateTopic, &h),
            common::TIMEOUT,
        )
        .await
        .unwrap();
    assert_eq!(r.response_code(), ResponseCode::Success);
    let mut c = connect(broker.grpc_addr().unwrap()).await;
    let route = c
        .query_route(with_client_id(QueryRouteRequest {
            topic: topic("GrpcFifoOnly"),
            endpoints: None,
        }))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(
        route.message_queues[0].accept_message_types,
        [MessageType::Fifo as i32]
    );
    let msg = |id: &str, kind: MessageType, group: Option<&str>| Message {
        topic: topic("GrpcFifoOnly"),
        user_properties: Default::default(),
        system_properties: Some(SystemProperties {
            message_id: id.into(),
            message_type: kind as i32,
            message_group: group.map(str::to_owned),
            ..SystemProperties::default()
        }),
        body: b"x".to_vec(),
    };
    let normal = c
        .send_message(with_client_id(SendMessageRequest {
            messages: vec![msg("N-1", MessageType::Normal, None)],
        }))
        .await
        .unwrap()
        .into_inner();
    let st = normal.status.unwrap();
    assert_eq!(
        st.code,
        Code::MessagePropertyConflictWithType as i32,
        "{}",
        st.message
    );
    assert!(
        st.message.contains("FIFO") && st.message.contains("NORMAL"),
        "{}",
        st.message
    );
    let fifo = c
        .send_message(with_client_id(SendMessageRequest {
            messages: vec![msg("F-1", MessageType::Fifo, Some("g1"))],
        }))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(fifo.status.unwrap().code, Code::Ok as i32);
    broker.shutdown().await;
}

/// With a name server, QueryRoute lists the topic's queues on every master that serves gRPC,
/// each at its own broker's gRPC endpoint; a master without gRPC is left out.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn route_spans_the_masters_that_serve_grpc() {
    use common::cluster::{route, wait_until};
    let dir = tempfile::tempdir().unwrap();
    let ns = common::start_namesrv(dir.path()).await;
    let ns_addr = ns.local_addr().to_string();
    let mut brokers = Vec::new();
    for (name, grpc) in [
        ("broker-a", "8081"),
        ("broker-b", "8081"),
        ("broker-c", "0"),
    ] {
        let cfg = config(
            &dir.path().join(name),
            &[
                ("brokerName", name),
                ("namesrvAddr", ns_addr.as_str()),
                ("grpcServerPort", grpc),
            ],
        );
        brokers.push(start(cfg).await);
    }
    let remoting = client();
    for b in &brokers {
        create_topic(&remoting, &b.local_addr().to_string(), "GrpcSpan", 2).await;
    }
    wait_until(
        "GrpcSpan routed to three brokers",
        std::time::Duration::from_secs(10),
        || async {
            route(&remoting, &ns_addr, "GrpcSpan")
                .await
                .is_some_and(|r| r.queue_datas.len() == 3)
        },
    )
    .await;
    let (a, b) = (&brokers[0], &brokers[1]);
    assert!(brokers[2].grpc_addr().is_none());
    let mut c = connect(a.grpc_addr().unwrap()).await;
    let r = c
        .query_route(with_client_id(QueryRouteRequest {
            topic: topic("GrpcSpan"),
            endpoints: None,
        }))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(r.status.unwrap().code, Code::Ok as i32);
    let mut seen: Vec<(String, i32, i32)> = r
        .message_queues
        .iter()
        .map(|q| {
            let b = q.broker.as_ref().unwrap();
            (
                b.name.clone(),
                b.endpoints.as_ref().unwrap().addresses[0].port,
                q.id,
            )
        })
        .collect();
    seen.sort();
    let pa = i32::from(a.grpc_addr().unwrap().port());
    let pb = i32::from(b.grpc_addr().unwrap().port());
    assert_eq!(
        seen,
        [
            ("broker-a".to_owned(), pa, 0),
            ("broker-a".to_owned(), pa, 1),
            ("broker-b".to_owned(), pb, 0),
            ("broker-b".to_owned(), pb, 1),
        ]
    );
    for b in brokers {
        b.shutdown().await;
    }
    ns.shutdown().await;
}

/// `mqadmin consumerStatus` and `queryMsgById -d` for a 5.x consumer: GET_CONSUMER_RUNNING_INFO
/// (307) answers its group and subscriptions from the broker, and its thread dump asked for over
/// its Telemetry stream (PrintThreadStackTraceCommand); CONSUME_MESSAGE_DIRECTLY (309) hands it
/// the stored message (VerifyMessageCommand) and reports how its listener did.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn admin_questions_reach_a_grpc_consumer_over_telemetry() {
    use futures::StreamExt;
    use rmq_proto::v2::{
        FilterExpression, FilterType, Status, Subscription, SubscriptionEntry, ThreadStackTrace,
        VerifyMessageResult,
    };
    use rmq_remoting::body::{ConsumeMessageDirectlyResult, ConsumeResult, ConsumerRunningInfo};
    use rmq_remoting::header::{
        ConsumeMessageDirectlyResultRequestHeader, GetConsumerRunningInfoRequestHeader,
        SendMessageResponseHeader,
    };
    use rmq_remoting::json::JsonBody;
    use rmq_remoting::{RemotingCommand, RequestCode};
    let dir = tempfile::tempdir().unwrap();
    let broker = start(config(dir.path(), &[])).await;
    let addr = broker.local_addr().to_string();
    let remoting = client();
    create_topic(&remoting, &addr, "GrpcAsked", 1).await;
    let sent = remoting
        .invoke(
            &addr,
            common::send_request("GrpcAsked", 0, b"verify-me", Some("TagV")),
            common::TIMEOUT,
        )
        .await
        .unwrap();
    assert_eq!(sent.response_code(), ResponseCode::Success);
    let offset_msg_id = sent
        .decode_header::<SendMessageResponseHeader>()
        .unwrap()
        .msg_id;

    let mut c = connect(broker.grpc_addr().unwrap()).await;
    let (to_broker, outbound) = tokio::sync::mpsc::channel::<TelemetryCommand>(8);
    to_broker
        .send(TelemetryCommand {
            status: None,
            command: Some(telemetry_command::Command::Settings(Settings {
                client_type: Some(ClientType::PushConsumer as i32),
                pub_sub: Some(settings::PubSub::Subscription(Subscription {
                    group: topic("GAsked"),
                    subscriptions: vec![SubscriptionEntry {
                        topic: topic("GrpcAsked"),
                        expression: Some(FilterExpression {
                            r#type: FilterType::Tag as i32,
                            expression: "TagV".into(),
                        }),
                    }],
                    ..Subscription::default()
                })),
                ..Settings::default()
            })),
        })
        .await
        .unwrap();
    let outbound = futures::stream::unfold(outbound, |mut rx| async move {
        rx.recv().await.map(|m| (m, rx))
    });
    let mut stream = open_telemetry(&mut c, outbound).await;
    // The client: a thread dump on request; every message to verify fails its listener.
    let (verified_tx, mut verified) = tokio::sync::mpsc::unbounded_channel::<Message>();
    let answering = tokio::spawn(async move {
        while let Some(cmd) = stream.next().await {
            let reply = match cmd.unwrap().command {
                Some(telemetry_command::Command::PrintThreadStackTraceCommand(p)) => {
                    TelemetryCommand {
                        status: Some(Status {
                            code: Code::Ok as i32,
                            message: "OK".into(),
                        }),
                        command: Some(telemetry_command::Command::ThreadStackTrace(
                            ThreadStackTrace {
                                nonce: p.nonce,
                                thread_stack_trace: Some("\"main\" RUNNABLE".into()),
                            },
                        )),
                    }
                }
                Some(telemetry_command::Command::VerifyMessageCommand(v)) => {
                    verified_tx.send(v.message.unwrap()).unwrap();
                    TelemetryCommand {
                        status: Some(Status {
                            code: Code::FailedToConsumeMessage as i32,
                            message: "listener said later".into(),
                        }),
                        command: Some(telemetry_command::Command::VerifyMessageResult(
                            VerifyMessageResult { nonce: v.nonce },
                        )),
                    }
                }
                other => panic!("unexpected command from the broker: {other:?}"),
            };
            if to_broker.send(reply).await.is_err() {
                break;
            }
        }
    });

    let running_info = |jstack: bool| {
        RemotingCommand::request(
            RequestCode::GetConsumerRunningInfo,
            &GetConsumerRunningInfoRequestHeader {
                consumer_group: "GAsked".into(),
                client_id: "grpc-test-client".into(),
                jstack_enable: Some(jstack),
                rpc: Default::default(),
            },
        )
    };
    for jstack in [false, true] {
        let r = remoting
            .invoke(&addr, running_info(jstack), common::TIMEOUT)
            .await
            .unwrap();
        assert_eq!(r.response_code(), ResponseCode::Success, "{:?}", r.remark);
        let info = ConsumerRunningInfo::from_json_bytes(&r.body).unwrap();
        assert_eq!(info.properties["PROP_CONSUME_TYPE"], "CONSUME_POP");
        assert_eq!(info.subscription_set.len(), 1);
        assert_eq!(info.subscription_set[0].topic, "GrpcAsked");
        assert_eq!(
            info.jstack.as_deref(),
            jstack.then_some("\"main\" RUNNABLE"),
            "thread dump only when asked for"
        );
    }

    let r = remoting
        .invoke(
            &addr,
            RemotingCommand::request(
                RequestCode::ConsumeMessageDirectly,
                &ConsumeMessageDirectlyResultRequestHeader {
                    consumer_group: "GAsked".into(),
                    client_id: Some("grpc-test-client".into()),
                    msg_id: offset_msg_id,
                    topic: Some("GrpcAsked".into()),
                    ..Default::default()
                },
            ),
            common::TIMEOUT,
        )
        .await
        .unwrap();
    assert_eq!(r.response_code(), ResponseCode::Success, "{:?}", r.remark);
    let result = ConsumeMessageDirectlyResult::from_json_bytes(&r.body).unwrap();
    assert_eq!(result.consume_result, ConsumeResult::CrLater);
    assert!(result
        .remark
        .unwrap_or_default()
        .contains("FAILED_TO_CONSUME_MESSAGE"));
    let m = verified.recv().await.unwrap();
    assert_eq!(&m.body[..], b"verify-me");
    assert_eq!(m.system_properties.unwrap().tag.as_deref(), Some("TagV"));

    // A client of another group is not asked.
    let mut other = running_info(false);
    other.ext_fields.insert("consumerGroup", "GOther");
    let r = remoting
        .invoke(&addr, other, common::TIMEOUT)
        .await
        .unwrap();
    assert_eq!(r.response_code(), ResponseCode::SystemError);
    assert!(r.remark.unwrap_or_default().contains("not online"));
    answering.abort();
    broker.shutdown().await;
}
