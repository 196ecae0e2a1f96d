//! `Admin` calls that rmq's broker does not answer yet (GET_PRODUCER_CONNECTION_LIST 204,
//! INVOKE_BROKER_TO_RESET_OFFSET 222, GET_CONSUMER_RUNNING_INFO 307, UPDATE_BROKER_CONFIG 25)
//! plus the GET_ALL_* tables, against a stand-in broker over real TCP that checks Apache's
//! header fields and answers with Apache's JSON.

#![allow(clippy::unwrap_used)]

use std::collections::BTreeMap;
use std::sync::Arc;

use parking_lot::Mutex;
use rmq_client::{Admin, MessageQueue};
use rmq_remoting::header::{
    GetConsumerRunningInfoRequestHeader, GetProducerConnectionListRequestHeader,
    ResetOffsetRequestHeader,
};
use rmq_remoting::{
    ProcessError, RemotingCommand, RemotingServer, RequestCode, ResponseCode, ServerConfig,
};
use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;

const PRODUCERS: &str = r#"{"connectionSet":[{"clientAddr":"10.0.0.1:50000","clientId":"10.0.0.1@1","language":"JAVA","version":453}]}"#;
const RESET: &str = r#"{"offsetTable":{{"brokerName":"broker-a","queueId":0,"topic":"T"}:15,{"brokerName":"broker-a","queueId":1,"topic":"T"}:7}}"#;
const RUNNING: &str = r#"{"mqPopTable":{},"mqTable":{{"brokerName":"broker-a","queueId":1,"topic":"T"}:{"cachedMsgCount":2,"cachedMsgMaxOffset":9,"cachedMsgMinOffset":8,"cachedMsgSizeInMiB":0,"commitOffset":8,"droped":false,"lastConsumeTimestamp":1,"lastLockTimestamp":0,"lastPullTimestamp":1,"locked":false,"transactionMsgCount":0,"transactionMsgMaxOffset":0,"transactionMsgMinOffset":0,"tryUnlockTimes":0}},"properties":{"PROP_CONSUME_TYPE":"CONSUME_PASSIVELY","PROP_THREADPOOL_CORE_SIZE":20},"statusTable":{"T":{"consumeFailedMsgs":0,"consumeFailedTPS":0.0,"consumeOKTPS":4.5,"consumeRT":1.0,"pullRT":2.0,"pullTPS":5.0}},"subscriptionSet":[{"classFilterMode":false,"codeSet":[],"expressionType":"TAG","subString":"*","subVersion":1,"tagsSet":[],"topic":"T"}],"userConsumerInfo":{}}"#;
const GROUPS: &str = r#"{"dataVersion":{"counter":3,"stateVersion":0,"timestamp":1},"forbiddenTable":{},"subscriptionGroupTable":{"G":{"groupName":"G","retryMaxTimes":2}}}"#;
const OFFSETS: &str = r#"{"dataVersion":{"counter":1,"stateVersion":0,"timestamp":1},"offsetTable":{"T@G":{0:12,1:34}}}"#;
const DELAYS: &str =
    r#"{"dataVersion":{"counter":1,"stateVersion":0,"timestamp":1},"offsetTable":{1:0,3:9}}"#;

fn answer(req: &RemotingCommand, body: &'static str) -> Option<RemotingCommand> {
    Some(req.response_to(ResponseCode::Success).with_body(body))
}

fn wrong(what: String) -> ProcessError {
    ProcessError::response(ResponseCode::SystemError, what)
}

/// A broker stand-in that answers like Apache's and keeps the last UPDATE_BROKER_CONFIG body.
async fn apache_like_broker() -> (String, CancellationToken, Arc<Mutex<String>>) {
    let mut server = RemotingServer::new(ServerConfig::default());
    server.register(
        RequestCode::GetProducerConnectionList,
        |_c, req: RemotingCommand| async move {
            let h: GetProducerConnectionListRequestHeader = req.decode_header()?;
            if h.producer_group != "PG" {
                return Err(wrong(format!("producerGroup {:?}", h.producer_group)));
            }
            Ok(answer(&req, PRODUCERS))
        },
    );
    server.register(
        RequestCode::InvokeBrokerToResetOffset,
        |_c, req: RemotingCommand| async move {
            let h: ResetOffsetRequestHeader = req.decode_header()?;
            let ok = (
                h.topic.as_str(),
                h.group.as_str(),
                h.timestamp,
                h.is_force,
                h.queue_id,
            ) == ("T", "G", 1_700_000_000_000, true, Some(-1));
            if !ok {
                return Err(wrong(format!("{h:?}")));
            }
            Ok(answer(&req, RESET))
        },
    );
    server.register(
        RequestCode::GetConsumerRunningInfo,
        |_c, req: RemotingCommand| async move {
            let h: GetConsumerRunningInfoRequestHeader = req.decode_header()?;
            if (
                h.consumer_group.as_str(),
                h.client_id.as_str(),
                h.jstack_enable,
            ) != ("G", "10.0.0.1@1", Some(false))
            {
                return Err(wrong(format!("{h:?}")));
            }
            Ok(answer(&req, RUNNING))
        },
    );
    server.register(
        RequestCode::GetAllSubscriptionGroupConfig,
        |_c, req: RemotingCommand| async move { Ok(answer(&req, GROUPS)) },
    );
    server.register(
        RequestCode::GetAllConsumerOffset,
        |_c, req: RemotingCommand| async move { Ok(answer(&req, OFFSETS)) },
    );
    server.register(
        RequestCode::GetAllDelayOffset,
        |_c, req: RemotingCommand| async move { Ok(answer(&req, DELAYS)) },
    );
    let config = Arc::new(Mutex::new(String::from("brokerName=broker-a\n")));
    let (get, put) = (config.clone(), config.clone());
    server.register(
        RequestCode::GetBrokerConfig,
        move |_c, req: RemotingCommand| {
            let text = get.lock().clone();
            async move {
                Ok(Some(
                    req.response_to(ResponseCode::Success)
                        .with_ext_field("version", r#"{"counter":1}"#)
                        .with_body(text),
                ))
            }
        },
    );
    server.register(
        RequestCode::UpdateBrokerConfig,
        move |_c, req: RemotingCommand| {
            put.lock().push_str(&String::from_utf8_lossy(&req.body));
            async move { Ok(Some(req.response_to(ResponseCode::Success))) }
        },
    );
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap().to_string();
    let token = CancellationToken::new();
    tokio::spawn(server.run(listener, token.clone()));
    (addr, token, config)
}

#[tokio::test]
async fn client_only_calls_speak_apache_wire_format() {
    let (addr, stop, _config) = apache_like_broker().await;
    // No name server is needed for calls that name the broker.
    let admin = Admin::builder()
        .name_server("127.0.0.1:1")
        .build()
        .await
        .unwrap();

    let producers = admin.producer_connection(&addr, "PG").await.unwrap();
    let c = producers.connection_set.iter().next().unwrap();
    assert_eq!((c.client_id.as_str(), c.version), ("10.0.0.1@1", 453));

    let running = admin
        .consumer_running_info(&addr, "G", "10.0.0.1@1", false)
        .await
        .unwrap();
    let mq = MessageQueue::new("T", "broker-a", 1);
    assert_eq!(running.mq_table[&mq].commit_offset, 8);
    assert_eq!(running.properties["PROP_THREADPOOL_CORE_SIZE"], "20");
    assert_eq!(running.status_table["T"].consume_ok_tps, 4.5);

    let groups = admin.all_subscription_groups(&addr).await.unwrap();
    assert_eq!(groups.data_version.counter, 3);
    assert_eq!(groups.subscription_group_table["G"].retry_max_times, 2);
    assert_eq!(groups.subscription_group_table["G"].retry_queue_nums, 1);
    let offsets = admin.all_consumer_offsets(&addr).await.unwrap();
    assert_eq!(offsets.offset_table["T@G"][&1], 34);
    let delays = admin.all_delay_offsets(&addr).await.unwrap();
    assert_eq!(delays.offset_table[&3], 9);

    let changes: BTreeMap<String, String> = [("flushDiskType".to_owned(), "SYNC_FLUSH".to_owned())]
        .into_iter()
        .collect();
    admin.update_broker_config(&addr, &changes).await.unwrap();
    let config = admin.broker_config(&addr).await.unwrap();
    assert_eq!(config["brokerName"], "broker-a");
    assert_eq!(config["flushDiskType"], "SYNC_FLUSH");

    // A refusal is a typed error naming the broker and the code.
    let err = admin
        .producer_connection(&addr, "other")
        .await
        .err()
        .unwrap();
    assert_eq!(err.response_code(), Some(ResponseCode::SystemError));
    assert!(err.to_string().contains(&addr), "{err}");

    admin.shutdown().await;
    stop.cancel();
}

#[tokio::test]
async fn reset_offset_reads_the_brokers_answer() {
    // INVOKE_BROKER_TO_RESET_OFFSET needs the topic's route, so this one goes through a name
    // server: an rmq name server with a registration pointing at the stand-in broker.
    let (addr, stop, _config) = apache_like_broker().await;
    let dir = tempfile::tempdir().unwrap();
    let config = rmq_namesrv::NamesrvConfig {
        kv_config_path: dir.path().join("kv.json"),
        bind_address: "127.0.0.1".into(),
        listen_port: 0,
        ..Default::default()
    };
    let listener = rmq_namesrv::bind(&config).await.unwrap();
    let ns = rmq_namesrv::start(config, listener).await.unwrap();
    let ns_addr = ns.local_addr().to_string();
    // The name server forgets a broker whose connection closes: keep it open.
    let registration = register(&ns_addr, &addr).await;

    let admin = Admin::builder()
        .name_server(&ns_addr)
        .build()
        .await
        .unwrap();
    let mut routed = false;
    for _ in 0..100 {
        if admin.topic_route("T").await.is_ok() {
            routed = true;
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    assert!(routed, "the name server never routed T");
    let reset = admin
        .reset_offset_by_time("G", "T", 1_700_000_000_000, true)
        .await
        .unwrap();
    let got: Vec<(i32, i64, bool)> = reset
        .iter()
        .map(|r| (r.queue.queue_id, r.new_offset, r.pushed_to_consumers))
        .collect();
    assert_eq!(got, [(0, 15, true), (1, 7, true)]);
    admin.shutdown().await;
    registration.shutdown().await;
    ns.shutdown().await;
    stop.cancel();
}

/// Registers a master `broker-a` at `broker_addr` serving topic `T` with the name server;
/// the registration lasts as long as the returned connection.
async fn register(ns_addr: &str, broker_addr: &str) -> rmq_remoting::RemotingClient {
    use rmq_remoting::body::{JsonBody, RegisterBrokerBody};
    use rmq_remoting::header::RegisterBrokerRequestHeader;
    use rmq_remoting::{ClientConfig, RemotingClient};

    let mut body = RegisterBrokerBody::default();
    body.topic_config_serialize_wrapper
        .topic_config_table
        .insert("T".into(), rmq_client::TopicConfig::new("T", 2, 2, 6));
    // A first registration with a single topic is refused as Apache's is; add a second.
    body.topic_config_serialize_wrapper
        .topic_config_table
        .insert("T2".into(), rmq_client::TopicConfig::new("T2", 1, 1, 6));
    let h = RegisterBrokerRequestHeader {
        broker_name: "broker-a".into(),
        broker_addr: broker_addr.to_owned(),
        cluster_name: "C".into(),
        ha_server_addr: broker_addr.to_owned(),
        broker_id: 0,
        ..Default::default()
    };
    let client = RemotingClient::new(ClientConfig::default());
    let req =
        RemotingCommand::request(RequestCode::RegisterBroker, &h).with_body(body.to_json_bytes());
    let resp = client
        .invoke(ns_addr, req, std::time::Duration::from_secs(5))
        .await
        .unwrap();
    assert!(resp.is_success(), "{resp:?}");
    client
}
