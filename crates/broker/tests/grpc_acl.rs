//! ACL 1.0 on the gRPC port of an in-process broker, over real TCP: the 5.x clients'
//! `authorization` header (HMAC-SHA1 of `x-mq-date-time`) names the account, and the accounts
//! and permissions of `plain_acl.yml` apply as on the remoting port.
#![allow(clippy::unwrap_used)]

mod common;

use common::cluster::create_topic;
use common::grpc::{connect, resource};
use common::{config, start};
use rmq_proto::v2::{
    Code, Message, MessageType, QueryRouteRequest, SendMessageRequest, SystemProperties,
};
use rmq_remoting::protocol::signature::hmac_sha1;
use rmq_remoting::{ClientConfig, Credentials, RemotingClient};
use tonic::Request;

const RULES: &str = "\
accounts:
  - accessKey: rmqadmin
    secretKey: admin-secret
    admin: true
  - accessKey: producer1
    secretKey: producer-secret
    topicPerms:
      - GrpcAcl=PUB
  - accessKey: consumer1
    secretKey: consumer-secret
    topicPerms:
      - GrpcAcl=SUB
";

/// `msg` as a 5.x client with `account` sends it (none: unsigned).
fn signed<T>(msg: T, account: Option<(&str, &str)>) -> Request<T> {
    let mut r = common::grpc::request("grpc-acl-client", msg);
    if let Some((ak, sk)) = account {
        let date_time = "20261207T120000Z";
        let hex: String = hmac_sha1(sk, date_time.as_bytes())
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect();
        let auth = format!(
            "MQv2-HMAC-SHA1 Credential={ak}, SignedHeaders=x-mq-date-time, Signature={hex}"
        );
        r.metadata_mut()
            .insert("x-mq-date-time", date_time.parse().unwrap());
        r.metadata_mut()
            .insert("authorization", auth.parse().unwrap());
    }
    r
}

fn message(n: u32) -> SendMessageRequest {
    SendMessageRequest {
        messages: vec![Message {
            topic: resource("GrpcAcl"),
            user_properties: Default::default(),
            system_properties: Some(SystemProperties {
                message_id: format!("01GRPCACLMESSAGEID00000000{n:02}"),
                message_type: MessageType::Normal as i32,
                ..SystemProperties::default()
            }),
            body: b"acl".to_vec(),
        }],
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn accounts_and_permissions_apply_to_grpc_calls() {
    let dir = tempfile::tempdir().unwrap();
    let acl_file = dir.path().join("plain_acl.yml");
    std::fs::write(&acl_file, RULES).unwrap();
    let acl_path = acl_file.display().to_string();
    let broker = start(config(
        dir.path(),
        &[("aclEnable", "true"), ("aclFile", acl_path.as_str())],
    ))
    .await;
    let admin = RemotingClient::new(ClientConfig {
        credentials: Some(Credentials::new("rmqadmin", "admin-secret")),
        ..ClientConfig::default()
    });
    create_topic(&admin, &broker.local_addr().to_string(), "GrpcAcl", 2).await;
    let mut c = connect(broker.grpc_addr().unwrap()).await;
    let route = || QueryRouteRequest {
        topic: resource("GrpcAcl"),
        endpoints: None,
    };

    // Unsigned, and signed with a wrong secret: UNAUTHORIZED, saying why.
    let s = c
        .query_route(signed(route(), None))
        .await
        .unwrap()
        .into_inner()
        .status
        .unwrap();
    assert_eq!(s.code, Code::Unauthorized as i32, "{s:?}");
    assert!(s.message.contains("AccessKey"), "{s:?}");
    let s = c
        .query_route(signed(route(), Some(("consumer1", "wrong"))))
        .await
        .unwrap()
        .into_inner()
        .status
        .unwrap();
    assert_eq!(s.code, Code::Unauthorized as i32, "{s:?}");
    assert!(s.message.contains("signature"), "{s:?}");

    // A route needs PUB or SUB: consumer1 has SUB.
    let r = c
        .query_route(signed(route(), Some(("consumer1", "consumer-secret"))))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(r.status.unwrap().code, Code::Ok as i32);
    assert_eq!(r.message_queues.len(), 2);

    // Sending needs PUB: FORBIDDEN for consumer1, naming what is missing; OK for producer1.
    let s = c
        .send_message(signed(message(1), Some(("consumer1", "consumer-secret"))))
        .await
        .unwrap()
        .into_inner()
        .status
        .unwrap();
    assert_eq!(s.code, Code::Forbidden as i32, "{s:?}");
    assert!(
        s.message.contains("consumer1")
            && s.message.contains("PUB")
            && s.message.contains("GrpcAcl"),
        "{s:?}"
    );
    let s = c
        .send_message(signed(message(2), Some(("producer1", "producer-secret"))))
        .await
        .unwrap()
        .into_inner()
        .status
        .unwrap();
    assert_eq!(s.code, Code::Ok as i32, "{s:?}");
    broker.shutdown().await;
}
