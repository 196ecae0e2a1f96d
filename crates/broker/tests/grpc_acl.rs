//! ACL 1.0 and 2.0 on the gRPC port of an in-process broker, over real TCP: the 5.x clients'
//! `authorization` header (HMAC-SHA1 of `x-mq-date-time`) names the account (1.0) or user
//! (2.0), and the accounts and permissions of `plain_acl.yml`, or the users and ACLs written
//! with the AUTH_* request codes, apply as on the remoting port.
#![allow(clippy::unwrap_used)]

mod common;

use common::cluster::create_topic;
use common::grpc::{connect, resource};
use common::{config, start};
use rmq_proto::v2::{
    Code, Message, MessageType, QueryRouteRequest, SendMessageRequest, SystemProperties,
};
use rmq_remoting::body::{AclInfo, JsonBody, UserInfo};
use rmq_remoting::header::{AclRequestHeader, UserRequestHeader};
use rmq_remoting::protocol::signature::hmac_sha1;
use rmq_remoting::{ClientConfig, Credentials, RemotingClient, RemotingCommand, RequestCode};
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

type Client =
    rmq_proto::v2::messaging_service_client::MessagingServiceClient<tonic::transport::Channel>;

fn route() -> QueryRouteRequest {
    QueryRouteRequest {
        topic: resource("GrpcAcl"),
        endpoints: None,
    }
}

/// The status of a route query by `account`.
async fn route_status(c: &mut Client, account: Option<(&str, &str)>) -> rmq_proto::v2::Status {
    c.query_route(signed(route(), account))
        .await
        .unwrap()
        .into_inner()
        .status
        .unwrap()
}

/// The status of sending message `n` as `account`.
async fn send_status(c: &mut Client, n: u32, account: (&str, &str)) -> rmq_proto::v2::Status {
    c.send_message(signed(message(n), Some(account)))
        .await
        .unwrap()
        .into_inner()
        .status
        .unwrap()
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

    // Unsigned, and signed with a wrong secret: UNAUTHORIZED, saying why.
    let s = route_status(&mut c, None).await;
    assert_eq!(s.code, Code::Unauthorized as i32, "{s:?}");
    assert!(s.message.contains("AccessKey"), "{s:?}");
    let s = route_status(&mut c, Some(("consumer1", "wrong"))).await;
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
    let s = send_status(&mut c, 1, ("consumer1", "consumer-secret")).await;
    assert_eq!(s.code, Code::Forbidden as i32, "{s:?}");
    assert!(
        s.message.contains("consumer1")
            && s.message.contains("PUB")
            && s.message.contains("GrpcAcl"),
        "{s:?}"
    );
    let s = send_status(&mut c, 2, ("producer1", "producer-secret")).await;
    assert_eq!(s.code, Code::Ok as i32, "{s:?}");
    broker.shutdown().await;
}

/// Sends an AUTH_* request; returns the response code and remark.
async fn auth_call(
    c: &RemotingClient,
    broker: &str,
    req: RemotingCommand,
) -> (rmq_remoting::ResponseCode, String) {
    let r = c
        .invoke(broker, req, std::time::Duration::from_secs(5))
        .await
        .unwrap();
    (r.response_code(), r.remark.clone().unwrap_or_default())
}

fn create_user(name: &str, password: &str) -> RemotingCommand {
    let h = UserRequestHeader {
        username: Some(name.into()),
    };
    let body = UserInfo {
        username: Some(name.into()),
        password: Some(password.into()),
        ..UserInfo::default()
    };
    RemotingCommand::request(RequestCode::AuthCreateUser, &h).with_body(body.to_json_bytes())
}

fn create_acl(subject: &str, json: &str) -> RemotingCommand {
    let h = AclRequestHeader {
        subject: Some(subject.into()),
    };
    let body = AclInfo::from_json_bytes(json.as_bytes()).unwrap();
    RemotingCommand::request(RequestCode::AuthCreateAcl, &h).with_body(body.to_json_bytes())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn acl_2_users_and_rules_apply_to_grpc_calls() {
    use rmq_remoting::ResponseCode;
    let dir = tempfile::tempdir().unwrap();
    let broker = start(config(
        dir.path(),
        &[
            ("authenticationEnabled", "true"),
            ("authorizationEnabled", "true"),
            (
                "initAuthenticationUser",
                r#"{"username":"rocketmq","password":"12345678"}"#,
            ),
        ],
    ))
    .await;
    let addr = broker.local_addr().to_string();
    let root = RemotingClient::new(ClientConfig {
        credentials: Some(Credentials::new("rocketmq", "12345678")),
        ..ClientConfig::default()
    });
    create_topic(&root, &addr, "GrpcAcl", 2).await;
    for (name, pw) in [("writer", "writer-pw"), ("reader", "reader-pw")] {
        let (code, remark) = auth_call(&root, &addr, create_user(name, pw)).await;
        assert_eq!(code, ResponseCode::Success, "{remark}");
    }
    let entry = |actions: &str| {
        format!(
            r#"{{"policies":[{{"entries":[{{"resource":"Topic:GrpcAcl","actions":[{actions}],"decision":"Allow"}}]}}]}}"#
        )
    };
    for (subject, actions) in [("User:writer", r#""Pub""#), ("User:reader", r#""Sub""#)] {
        let (code, remark) = auth_call(&root, &addr, create_acl(subject, &entry(actions))).await;
        assert_eq!(code, ResponseCode::Success, "{remark}");
    }
    // A normal user may not manage users: that needs the cluster's Update.
    let writer = RemotingClient::new(ClientConfig {
        credentials: Some(Credentials::new("writer", "writer-pw")),
        ..ClientConfig::default()
    });
    let (code, remark) = auth_call(&writer, &addr, create_user("mallory", "x")).await;
    assert_eq!(code, ResponseCode::NoPermission, "{remark}");
    assert!(
        remark.contains("User:writer") && remark.contains("Cluster:"),
        "{remark}"
    );

    let mut c = connect(broker.grpc_addr().unwrap()).await;
    let s = route_status(&mut c, Some(("nobody", "x"))).await;
    assert_eq!(s.code, Code::Unauthorized as i32, "{s:?}");
    assert!(s.message.contains("no user nobody"), "{s:?}");
    let r = c
        .query_route(signed(route(), Some(("reader", "reader-pw"))))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(r.status.unwrap().code, Code::Ok as i32);
    let s = send_status(&mut c, 3, ("reader", "reader-pw")).await;
    assert_eq!(s.code, Code::Forbidden as i32, "{s:?}");
    assert!(
        s.message.contains("User:reader") && s.message.contains("Pub Topic:GrpcAcl"),
        "{s:?}"
    );
    let s = send_status(&mut c, 4, ("writer", "writer-pw")).await;
    assert_eq!(s.code, Code::Ok as i32, "{s:?}");
    broker.shutdown().await;
}
