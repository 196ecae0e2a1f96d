//! `mqadmin` as a process against an in-process name server and broker over real TCP: each
//! command's text and `--json` output, and the advice it gives when something is missing.

#![allow(clippy::unwrap_used)]

mod common;

use std::time::Duration;

use common::{eventually, mqadmin, Cluster, BROKER, CLUSTER};
use rmq_client::{ConsumeConcurrentlyStatus, ConsumeFrom, Message, Producer, PushConsumer};
use serde_json::Value;

async fn create_topic(c: &Cluster, topic: &str) {
    let out = c
        .mqadmin(&[
            "updateTopic",
            "-c",
            CLUSTER,
            "-t",
            topic,
            "-r",
            "4",
            "-w",
            "4",
        ])
        .await;
    assert!(
        out.ok()
            .contains(&format!("create topic to {} success.", c.broker_addr)),
        "{out:#?}"
    );
    let routed = eventually(Duration::from_secs(10), || async {
        c.mqadmin(&["topicRoute", "-t", topic]).await.code == Some(0)
    })
    .await;
    assert!(routed, "no route for {topic}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn topic_cluster_and_message_commands() {
    let c = Cluster::start().await;
    create_topic(&c, "ToolTopic").await;

    // topicRoute: text and JSON.
    let text = c.mqadmin(&["topicRoute", "-t", "ToolTopic"]).await;
    assert!(text.ok().contains(BROKER) && text.ok().contains(&c.broker_addr));
    assert!(text.ok().contains("RW-"), "{text:#?}");
    let route = c
        .mqadmin(&["topicRoute", "-t", "ToolTopic", "--json"])
        .await
        .json();
    assert_eq!(route["queueDatas"][0]["readQueueNums"], 4);

    // topicList, plain and per cluster.
    let list = c.mqadmin(&["topicList"]).await;
    assert!(list.ok().lines().any(|l| l == "ToolTopic"), "{list:#?}");
    let list = c.mqadmin(&["topicList", "-c", CLUSTER]).await;
    assert!(list.ok().contains("#Cluster Name") && list.ok().contains("ToolTopic"));
    let list = c.mqadmin(&["topicList", "--json"]).await.json();
    assert!(list.as_array().unwrap().contains(&Value::from("ToolTopic")));

    // sendMessage, and a few more through the client.
    let sent = c
        .mqadmin(&[
            "sendMessage",
            "-t",
            "ToolTopic",
            "-p",
            "hello-tools",
            "-k",
            "key-1",
            "-c",
            "TagA",
            "--json",
        ])
        .await
        .json();
    assert_eq!(sent["sendStatus"], "SEND_OK");
    let msg_id = sent["msgId"].as_str().unwrap().to_owned();
    let offset_msg_id = sent["offsetMsgId"].as_str().unwrap().to_owned();
    let queue_id = sent["queueId"].as_i64().unwrap().to_string();
    let queue_offset = sent["queueOffset"].as_i64().unwrap().to_string();
    let producer = Producer::builder()
        .group("PG-tools")
        .name_server(&c.ns_addr)
        // The broker learns a producer group from heartbeats; the first goes out on the next
        // tick after the route is known.
        .heartbeat_interval(Duration::from_millis(200))
        .build()
        .await
        .unwrap();
    for i in 0..3 {
        producer
            .send(Message::new("ToolTopic", format!("more-{i}")).with_keys(["key-2"]))
            .await
            .unwrap();
    }
    // producerConnection while the producer runs: Apache's columns, the version by name.
    let deadline = std::time::Instant::now() + Duration::from_secs(20);
    let text = loop {
        let run = c
            .mqadmin(&["producerConnection", "-g", "PG-tools", "-t", "ToolTopic"])
            .await;
        // Each try is a whole mqadmin run; the next heartbeat (every 200 ms) settles it.
        if run.code == Some(0) || std::time::Instant::now() > deadline {
            break run;
        }
    };
    let line = text.ok().lines().next().unwrap_or_default().to_owned();
    assert!(
        line.starts_with("0001  ") && line.contains("RUST") && line.ends_with("V5_3_3"),
        "{text:#?}"
    );
    let pc = c
        .mqadmin(&[
            "producerConnection",
            "-g",
            "PG-tools",
            "-t",
            "ToolTopic",
            "--json",
        ])
        .await
        .json();
    assert_eq!(pc["connectionSet"].as_array().unwrap().len(), 1, "{pc:#}");
    producer.shutdown().await;

    // topicClusterList: the cluster serving the topic.
    let text = c.mqadmin(&["topicClusterList", "-t", "ToolTopic"]).await;
    assert_eq!(
        text.ok().lines().collect::<Vec<_>>(),
        [CLUSTER],
        "{text:#?}"
    );

    // allocateMQ: three members share the four queues as a group would, members sorted.
    let alloc = c
        .mqadmin(&["allocateMQ", "-t", "ToolTopic", "-i", "c@2,a@1, b@3"])
        .await
        .json();
    let owned = |member: &str| -> Vec<i64> {
        alloc["result"][member]
            .as_array()
            .unwrap_or_else(|| panic!("{member} missing: {alloc:#}"))
            .iter()
            .map(|q| q["queueId"].as_i64().unwrap())
            .collect()
    };
    assert_eq!(
        (owned("a@1"), owned("b@3"), owned("c@2")),
        (vec![0, 1], vec![2], vec![3]),
        "{alloc:#}"
    );
    assert_eq!(alloc["result"]["a@1"][0]["topic"], "ToolTopic", "{alloc:#}");

    // topicStatus: four messages across the queues.
    let status = c
        .mqadmin(&["topicStatus", "-t", "ToolTopic", "--json"])
        .await
        .json();
    let queues = status.as_array().unwrap();
    assert_eq!(queues.len(), 4);
    let total: i64 = queues
        .iter()
        .map(|q| q["maxOffset"].as_i64().unwrap())
        .sum();
    assert_eq!(total, 4, "{status:#}");
    let text = c.mqadmin(&["topicStatus", "-t", "ToolTopic"]).await;
    assert!(text.ok().contains("#Min Offset") && text.ok().contains(BROKER));

    // clusterList and brokerStatus.
    let text = c.mqadmin(&["clusterList"]).await;
    for want in [CLUSTER, BROKER, c.broker_addr.as_str(), "#InTPS", "rmq"] {
        assert!(
            text.ok().contains(want),
            "clusterList lacks {want}: {text:#?}"
        );
    }
    let json = c.mqadmin(&["clusterList", "--json"]).await.json();
    assert_eq!(json[0]["brokerName"], BROKER);
    assert!(json[0]["runtimeInfo"]["brokerVersionDesc"].is_string());
    let text = c.mqadmin(&["brokerStatus", "-b", &c.broker_addr]).await;
    assert!(text.ok().contains("brokerVersionDesc") && text.ok().contains(" : "));

    // queryMsgById: by offset id without a topic, by client id with one.
    let text = c.mqadmin(&["queryMsgById", "-i", &offset_msg_id]).await;
    for want in [
        "hello-tools",
        "[TagA]",
        "[key-1]",
        "Store Host:",
        "ToolTopic",
    ] {
        assert!(
            text.ok().contains(want),
            "queryMsgById lacks {want}: {text:#?}"
        );
    }
    let json = c
        .mqadmin(&["queryMsgById", "-i", &msg_id, "-t", "ToolTopic", "--json"])
        .await
        .json();
    assert_eq!(json[0]["body"]["text"], "hello-tools");
    assert_eq!(json[0]["msgId"], msg_id.as_str());
    let truncated = c
        .mqadmin(&["queryMsgById", "-i", &offset_msg_id, "--max-body", "5"])
        .await;
    assert!(
        truncated.ok().contains("first 5 of 11 bytes"),
        "{truncated:#?}"
    );
    let no_topic = c.mqadmin(&["queryMsgById", "-i", &msg_id]).await;
    assert_ne!(no_topic.code, Some(0));
    assert!(no_topic.stderr.contains("-t"), "{no_topic:#?}");

    // queryMsgByUniqueKey: the same message by its client id; -g without -d is refused.
    let json = c
        .mqadmin(&[
            "queryMsgByUniqueKey",
            "-i",
            &msg_id,
            "-t",
            "ToolTopic",
            "--json",
        ])
        .await
        .json();
    assert_eq!(json[0]["body"]["text"], "hello-tools", "{json:#}");
    let half = c
        .mqadmin(&[
            "queryMsgByUniqueKey",
            "-i",
            &msg_id,
            "-t",
            "ToolTopic",
            "-g",
            "G",
        ])
        .await;
    assert_ne!(half.code, Some(0));
    assert!(half.stderr.contains("-g and -d go together"), "{half:#?}");

    // queryMsgByKey.
    let text = c
        .mqadmin(&["queryMsgByKey", "-t", "ToolTopic", "-k", "key-1"])
        .await;
    assert!(text.ok().contains(&msg_id), "{text:#?}");
    let json = c
        .mqadmin(&["queryMsgByKey", "-t", "ToolTopic", "-k", "key-2", "--json"])
        .await
        .json();
    assert_eq!(json.as_array().unwrap().len(), 3);
    let missing = c
        .mqadmin(&["queryMsgByKey", "-t", "ToolTopic", "-k", "nope"])
        .await;
    assert_ne!(missing.code, Some(0));

    // queryMsgByOffset.
    let text = c
        .mqadmin(&[
            "queryMsgByOffset",
            "-t",
            "ToolTopic",
            "-b",
            BROKER,
            "-i",
            &queue_id,
            "-o",
            &queue_offset,
        ])
        .await;
    assert!(text.ok().contains("hello-tools"), "{text:#?}");
    let beyond = c
        .mqadmin(&[
            "queryMsgByOffset",
            "-t",
            "ToolTopic",
            "-b",
            BROKER,
            "-i",
            &queue_id,
            "-o",
            "999",
        ])
        .await;
    assert_ne!(beyond.code, Some(0));
    assert!(
        beyond.stderr.contains("no message at offset 999"),
        "{beyond:#?}"
    );

    // A topic without a route says how to create it.
    let none = c.mqadmin(&["topicStatus", "-t", "NoSuchTopic"]).await;
    assert_ne!(none.code, Some(0));
    assert!(
        none.stderr.contains("topic NoSuchTopic has no route")
            && none.stderr.contains("mqadmin updateTopic"),
        "{none:#?}"
    );

    // deleteTopic.
    c.mqadmin(&["deleteTopic", "-t", "ToolTopic", "-c", CLUSTER])
        .await
        .ok();
    let gone = eventually(Duration::from_secs(10), || async {
        !c.mqadmin(&["topicList"])
            .await
            .ok()
            .lines()
            .any(|l| l == "ToolTopic")
    })
    .await;
    assert!(gone, "ToolTopic still listed after deleteTopic");
    c.shutdown().await;
}

/// The broker's subscription group table (GET_ALL_SUBSCRIPTIONGROUP_CONFIG), as JSON.
async fn group_table(c: &Cluster) -> Value {
    let admin = c.admin().await;
    let groups = admin.all_subscription_groups(&c.broker_addr).await.unwrap();
    admin.shutdown().await;
    serde_json::to_value(groups.subscription_group_table).unwrap()
}

fn progress_total(v: &Value) -> (i64, i64) {
    let consumed = v["queues"]
        .as_array()
        .unwrap()
        .iter()
        .map(|q| q["consumerOffset"].as_i64().unwrap())
        .sum();
    (consumed, v["diffTotal"].as_i64().unwrap())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn group_and_offset_commands() {
    let c = Cluster::start().await;
    create_topic(&c, "GroupTopic").await;

    // updateSubGroup / deleteSubGroup.
    let out = c
        .mqadmin(&[
            "updateSubGroup",
            "-g",
            "CG-admin",
            "-c",
            CLUSTER,
            "-r",
            "3",
            "-q",
            "2",
            "-o",
            "true",
        ])
        .await;
    assert!(
        out.ok().contains("create subscription group to"),
        "{out:#?}"
    );
    let table = group_table(&c).await;
    assert_eq!(table["CG-admin"]["retryMaxTimes"], 3, "{table:#}");
    assert_eq!(table["CG-admin"]["retryQueueNums"], 2);
    assert_eq!(table["CG-admin"]["consumeMessageOrderly"], true);
    c.mqadmin(&["deleteSubGroup", "-g", "CG-admin", "-b", &c.broker_addr])
        .await
        .ok();
    assert!(group_table(&c).await.get("CG-admin").is_none());

    // A consumer consumes ten messages and commits.
    let producer = Producer::builder()
        .group("PG-group")
        .name_server(&c.ns_addr)
        .build()
        .await
        .unwrap();
    for i in 0..10 {
        producer
            .send(Message::new("GroupTopic", format!("m{i}")))
            .await
            .unwrap();
    }
    producer.shutdown().await;
    let fast = Duration::from_millis(300);
    let consumer = PushConsumer::builder()
        .group("CG-tools")
        .name_server(&c.ns_addr)
        .subscribe("GroupTopic", "*")
        .consume_from(ConsumeFrom::FirstOffset)
        .heartbeat_interval(fast)
        .rebalance_interval(fast)
        .persist_offset_interval(fast)
        .route_poll_interval(fast)
        .listener_concurrently(|_| ConsumeConcurrentlyStatus::ConsumeSuccess)
        .build()
        .await
        .unwrap();
    let caught_up = eventually(Duration::from_secs(20), || async {
        let run = c
            .mqadmin(&["consumerProgress", "-g", "CG-tools", "--json"])
            .await;
        run.code == Some(0) && progress_total(&run.json()) == (10, 0)
    })
    .await;
    assert!(
        caught_up,
        "consumerProgress never showed ten consumed messages"
    );
    let text = c
        .mqadmin(&["consumerProgress", "-g", "CG-tools", "-t", "GroupTopic"])
        .await;
    assert!(
        text.ok().contains("#Consumer Offset") && text.ok().contains("Consume Diff Total: 0"),
        "{text:#?}"
    );

    // consumerProgress without -g lists every group, as Apache's does.
    let all = c.mqadmin(&["consumerProgress", "--json"]).await.json();
    let row = all
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["group"] == "CG-tools")
        .cloned();
    assert!(
        row.as_ref()
            .is_some_and(|r| r["count"] == 1 && r["diffTotal"] == 0),
        "{all:#}"
    );
    let text = c.mqadmin(&["consumerProgress"]).await;
    assert!(
        text.ok().contains("#Diff Total") && text.ok().contains("CG-tools"),
        "{text:#?}"
    );

    // consumerConnection while it runs.
    let text = c.mqadmin(&["consumerConnection", "-g", "CG-tools"]).await;
    assert!(
        text.ok().contains(consumer.client_id()) && text.ok().contains("GroupTopic"),
        "{text:#?}"
    );
    let json = c
        .mqadmin(&["consumerConnection", "-g", "CG-tools", "--json"])
        .await
        .json();
    assert_eq!(json["connectionSet"].as_array().unwrap().len(), 1);
    // consumerStatus: the members, then one member's sections.
    let text = c.mqadmin(&["consumerStatus", "-g", "CG-tools"]).await;
    assert!(
        text.ok().contains(consumer.client_id())
            && text
                .ok()
                .contains("Same subscription in the same group of consumer"),
        "{text:#?}"
    );
    let text = c
        .mqadmin(&[
            "consumerStatus",
            "-g",
            "CG-tools",
            "-i",
            consumer.client_id(),
        ])
        .await;
    for want in [
        "#Consumer Properties#",
        "#Consumer Subscription#",
        "#Consumer Offset#",
        "GroupTopic",
    ] {
        assert!(text.ok().contains(want), "no {want}: {text:#?}");
    }
    let unknown = c
        .mqadmin(&["consumerStatus", "-g", "CG-tools", "-i", "1.2.3.4@nobody"])
        .await;
    assert_ne!(unknown.code, Some(0));
    assert!(unknown.stderr.contains("no member"), "{unknown:#?}");
    consumer.shutdown().await;

    // resetOffsetByTime back to the start, then to now.
    let reset = c
        .mqadmin(&[
            "resetOffsetByTime",
            "-g",
            "CG-tools",
            "-t",
            "GroupTopic",
            "-s",
            "0",
        ])
        .await;
    assert!(reset.ok().contains("#New Offset"), "{reset:#?}");
    let v = c
        .mqadmin(&["consumerProgress", "-g", "CG-tools", "--json"])
        .await
        .json();
    assert_eq!(progress_total(&v), (0, 10), "{v:#}");
    c.mqadmin(&[
        "resetOffsetByTime",
        "-g",
        "CG-tools",
        "-t",
        "GroupTopic",
        "-s",
        "now",
    ])
    .await
    .ok();
    let v = c
        .mqadmin(&["consumerProgress", "-g", "CG-tools", "--json"])
        .await
        .json();
    assert_eq!(progress_total(&v), (10, 0), "{v:#}");
    let help = mqadmin(&["resetOffsetByTime", "--help"]).await;
    assert!(
        help.ok().contains("Stop the group's consumers"),
        "{help:#?}"
    );

    // Groups that do not exist or are not online.
    let offline = c.mqadmin(&["consumerConnection", "-g", "CG-nobody"]).await;
    assert_ne!(offline.code, Some(0));
    assert!(offline.stderr.contains("not online"), "{offline:#?}");
    let none = c.mqadmin(&["consumerProgress", "-g", "CG-nobody"]).await;
    assert_ne!(none.code, Some(0));
    c.shutdown().await;
}

#[tokio::test]
async fn a_dead_name_server_gets_advice_and_a_failure_code() {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let addr = format!("127.0.0.1:{port}");
    for cmd in [
        &["clusterList"][..],
        &["topicList"],
        &["topicRoute", "-t", "T"],
    ] {
        let mut args = cmd.to_vec();
        args.extend(["-n", &addr]);
        let run = mqadmin(&args).await;
        assert_ne!(run.code, Some(0), "{run:#?}");
        assert!(
            run.stderr
                .contains(&format!("no name server reachable at {addr}"))
                && run
                    .stderr
                    .contains("is mqnamesrv running? check -n or NAMESRV_ADDR"),
            "{run:#?}"
        );
    }
    let run = mqadmin(&["clusterList"]).await;
    assert_ne!(run.code, Some(0));
    assert!(run.stderr.contains("NAMESRV_ADDR"), "{run:#?}");
}

#[tokio::test]
async fn a_malformed_name_server_address_is_named() {
    let run = mqadmin(&["clusterList", "-n", "bogus"]).await;
    assert_ne!(run.code, Some(0), "{run:#?}");
    assert!(
        run.stderr
            .contains("malformed name server address \"bogus\": expected host:port"),
        "{run:#?}"
    );
    assert!(!run.stderr.contains("reachable"), "{run:#?}");
}

/// getBrokerConfig / updateBrokerConfig on one broker and a cluster; updateKvConfig /
/// deleteKvConfig on the name server; a key the broker cannot change while running is refused
/// by name.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn broker_config_and_kv_config_commands() {
    let c = Cluster::start().await;
    let addr = c.broker_addr.clone();
    let config = c.mqadmin(&["getBrokerConfig", "-b", &addr]).await;
    assert!(config
        .ok()
        .contains(&format!("============{addr}============")));
    assert!(
        config
            .ok()
            .lines()
            .any(|l| l.starts_with("brokerName ") && l.ends_with(&format!("= {BROKER}"))),
        "{config:#?}"
    );
    let updated = c
        .mqadmin(&[
            "updateBrokerConfig",
            "-c",
            CLUSTER,
            "-k",
            "maxMessageSize",
            "-v",
            "65536",
        ])
        .await;
    assert!(
        updated.ok().contains("update broker config success"),
        "{updated:#?}"
    );
    let json = c
        .mqadmin(&["getBrokerConfig", "-c", CLUSTER, "--json"])
        .await
        .json();
    assert_eq!(json[0]["config"]["maxMessageSize"], "65536");
    let refused = c
        .mqadmin(&[
            "updateBrokerConfig",
            "-b",
            &addr,
            "-k",
            "listenPort",
            "-v",
            "1",
        ])
        .await;
    assert_ne!(refused.code, Some(0));
    assert!(refused.stderr.contains("listenPort"), "{refused:#?}");

    let put = c
        .mqadmin(&["updateKvConfig", "-s", "NS_TOOL", "-k", "k1", "-v", "v1"])
        .await;
    assert!(put.ok().contains("success"), "{put:#?}");
    let admin = rmq_client::Admin::builder()
        .name_server(&c.ns_addr)
        .build()
        .await
        .unwrap();
    assert_eq!(
        admin
            .get_kv_config("NS_TOOL", "k1")
            .await
            .unwrap()
            .as_deref(),
        Some("v1")
    );
    let del = c
        .mqadmin(&["deleteKvConfig", "-s", "NS_TOOL", "-k", "k1"])
        .await;
    assert!(del.ok().contains("success"), "{del:#?}");
    assert_eq!(admin.get_kv_config("NS_TOOL", "k1").await.unwrap(), None);
    admin.shutdown().await;
    c.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn write_perm_commands_take_a_broker_out_of_the_write_routes_and_back() {
    let c = Cluster::start().await;
    create_topic(&c, "PermTopic").await;
    assert_eq!(route_perm(&c).await, 6);

    let text = c.mqadmin(&["wipeWritePerm", "-b", BROKER]).await;
    let want = format!(
        "wipe write perm of broker[{BROKER}] in name server[{}] OK, ",
        c.ns_addr
    );
    assert!(text.ok().starts_with(&want), "{text:#?}");
    let count: i64 = text.ok().trim()[want.len()..].parse().unwrap();
    assert!(count >= 1, "no topic lost its write permission: {text:#?}");
    assert_eq!(
        route_perm(&c).await,
        4,
        "the route still offers the broker for writes"
    );

    let text = c
        .mqadmin(&["addWritePerm", "-b", BROKER, "--json"])
        .await
        .json();
    assert_eq!(text[0]["nameServer"], c.ns_addr.as_str(), "{text:#}");
    assert!(text[0]["topicCount"].as_i64().unwrap() >= 1, "{text:#}");
    assert_eq!(route_perm(&c).await, 6);
}

/// The permission PermTopic's route gives its broker.
async fn route_perm(c: &Cluster) -> i64 {
    let route = c
        .mqadmin(&["topicRoute", "-t", "PermTopic", "--json"])
        .await
        .json();
    route["queueDatas"][0]["perm"].as_i64().unwrap()
}

/// deleteExpiredCommitLog deletes expired CommitLog files at once, outside the `deleteWhen`
/// hour, and consumers' queues then start after them; cleanExpiredCQ answers for a cluster.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn store_cleaning_commands() {
    // Every file but the one being written is expired (fileReservedTime=0), and the clean
    // thread's hour is twelve hours away.
    let hour = (std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs()
        / 3600
        + 12)
        % 24;
    let c = Cluster::start_with(&[
        ("mappedFileSizeCommitLog", "1048576"),
        ("fileReservedTime", "0"),
        ("deleteWhen", &hour.to_string()),
    ])
    .await;
    create_topic(&c, "CleanTopic").await;
    let producer = Producer::builder()
        .group("PG-clean")
        .name_server(&c.ns_addr)
        .build()
        .await
        .unwrap();
    let body = "x".repeat(3000);
    for _ in 0..1200 {
        producer
            .send(Message::new("CleanTopic", body.clone()))
            .await
            .unwrap();
    }
    producer.shutdown().await;
    let commit_log = c.dir.path().join("store").join("commitlog");
    let files = || std::fs::read_dir(&commit_log).unwrap().count();
    let before = files();
    assert!(before >= 3, "{before} files");

    let out = c
        .mqadmin(&["deleteExpiredCommitLog", "-b", &c.broker_addr])
        .await;
    assert!(out.ok().ends_with("success\n"), "{out:#?}");
    // The file being written stays, and the next one if it was already prepared.
    let after = files();
    assert!(
        after < before && after <= 2,
        "{before} -> {after} files: {out:#?}"
    );
    assert!(
        out.ok()
            .contains(&format!("deleted {} CommitLog", before - after)),
        "{out:#?}"
    );
    let status = c
        .mqadmin(&["topicStatus", "-t", "CleanTopic", "--json"])
        .await
        .json();
    let min: i64 = status
        .as_array()
        .unwrap()
        .iter()
        .map(|q| q["minOffset"].as_i64().unwrap())
        .sum();
    assert!(
        min > 0,
        "queues still start at the deleted messages: {status:#}"
    );

    let out = c
        .mqadmin(&["cleanExpiredCQ", "-c", CLUSTER, "--json"])
        .await;
    let json = out.json();
    assert_eq!(json[0]["addr"], c.broker_addr.as_str(), "{json:#}");
    assert!(
        json[0]["deleted"]
            .as_str()
            .unwrap()
            .contains("consume queue"),
        "{json:#}"
    );
}

/// The `statsAll --json` row of `topic` and `group` (`None`: the topic's NO_CONSUMER row).
async fn stats_row(c: &Cluster, topic: &str, group: Option<&str>) -> Option<Value> {
    let run = c.mqadmin(&["statsAll", "-t", topic, "--json"]).await;
    let rows = run.json();
    rows.as_array()?
        .iter()
        .find(|r| r["topic"] == topic && r["group"].as_str() == group)
        .cloned()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stats_all_and_print_msg() {
    let c = Cluster::start().await;
    create_topic(&c, "StatsTopic").await;
    create_topic(&c, "QuietTopic").await;

    // Nothing sent yet: the broker has no figures for the topic ("not exist"), shown as zero.
    let admin = c.admin().await;
    let err = admin
        .broker_stats(&c.broker_addr, "TOPIC_PUT_NUMS", "StatsTopic")
        .await
        .unwrap_err();
    assert!(
        err.to_string()
            .contains("The stats <TOPIC_PUT_NUMS> <StatsTopic> not exist"),
        "{err}"
    );
    let err = admin
        .broker_stats(&c.broker_addr, "NO_SUCH_STATS", "StatsTopic")
        .await
        .unwrap_err();
    assert!(err.to_string().contains("<NO_SUCH_STATS>"), "{err}");
    let quiet = stats_row(&c, "QuietTopic", None).await.unwrap();
    assert_eq!(
        (
            quiet["inMsg24Hour"].as_i64(),
            quiet["accumulation"].as_i64()
        ),
        (Some(0), Some(0))
    );

    // Three early messages, a point in time, three late ones; tags alternate.
    let producer = Producer::builder()
        .group("PG-stats")
        .name_server(&c.ns_addr)
        .build()
        .await
        .unwrap();
    let send = |body: String, tag: &'static str| {
        let p = producer.clone();
        async move {
            p.send(Message::new("StatsTopic", body).with_tags(tag))
                .await
                .unwrap()
        }
    };
    for i in 0..3 {
        send(
            format!("early-{i}"),
            if i % 2 == 0 { "TagA" } else { "TagB" },
        )
        .await;
    }
    // Every early message was stored before `mid`, every late one after it.
    let mid = rmq_common::time::now_millis() + 1;
    assert!(
        eventually(Duration::from_secs(1), || async {
            rmq_common::time::now_millis() > mid
        })
        .await
    );
    for i in 0..3 {
        send(
            format!("late-{i}"),
            if i % 2 == 0 { "TagA" } else { "TagB" },
        )
        .await;
    }
    producer.shutdown().await;
    let bodies = [
        "early-0", "early-1", "early-2", "late-0", "late-1", "late-2",
    ];

    // printMsg: every queue's range, every body, a rule per queue.
    let run = c.mqadmin(&["printMsg", "-t", "StatsTopic"]).await;
    let out = run.ok();
    assert_eq!(out.matches("minOffset=").count(), 4, "{run:#?}");
    assert_eq!(
        out.lines()
            .filter(|l| *l == "--------------------------------------------------------")
            .count(),
        4
    );
    for b in bodies {
        assert!(out.contains(&format!(" BODY: {b}\n")), "{b} missing: {out}");
    }
    assert_eq!(out.matches("MSGID: ").count(), 6, "{out}");
    assert!(out.contains("MessageExt [brokerName=broker-tools, queueId="));

    // -b and -e split at `mid`.
    let mid_arg = mid.to_string();
    let late = c
        .mqadmin(&["printMsg", "-t", "StatsTopic", "-b", &mid_arg])
        .await;
    let early = c
        .mqadmin(&["printMsg", "-t", "StatsTopic", "-e", &mid_arg])
        .await;
    for b in &bodies[..3] {
        assert!(early.ok().contains(&format!("BODY: {b}\n")), "{early:#?}");
        assert!(!late.ok().contains(&format!("BODY: {b}\n")), "{late:#?}");
    }
    for b in &bodies[3..] {
        assert!(late.ok().contains(&format!("BODY: {b}\n")), "{late:#?}");
        assert!(!early.ok().contains(&format!("BODY: {b}\n")), "{early:#?}");
    }
    // -s: tags; -d false: no bodies.
    let tag_a = c
        .mqadmin(&["printMsg", "-t", "StatsTopic", "-s", "TagA"])
        .await;
    assert_eq!(tag_a.ok().matches("MSGID: ").count(), 4, "{tag_a:#?}");
    assert!(!tag_a.ok().contains("BODY: early-1") && !tag_a.ok().contains("BODY: late-1"));
    let hidden = c
        .mqadmin(&["printMsg", "-t", "StatsTopic", "-d", "false"])
        .await;
    assert_eq!(
        hidden.ok().matches("BODY: NOT PRINT BODY").count(),
        6,
        "{hidden:#?}"
    );
    for b in bodies {
        assert!(!hidden.ok().contains(b), "{hidden:#?}");
    }
    let json = c
        .mqadmin(&["printMsg", "-t", "StatsTopic", "--json"])
        .await
        .json();
    let mut seen: Vec<String> = json
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|q| q["messages"].as_array().unwrap().clone())
        .map(|m| m["body"].as_str().unwrap().to_owned())
        .collect();
    seen.sort();
    assert_eq!(seen, bodies);
    // Mistakes are named and fail.
    let unknown = c.mqadmin(&["printMsg", "-t", "NoSuchTopic"]).await;
    assert_ne!(unknown.code, Some(0));
    assert!(unknown.stderr.contains("NoSuchTopic"), "{unknown:#?}");
    let charset = c
        .mqadmin(&["printMsg", "-t", "StatsTopic", "-c", "GBK"])
        .await;
    assert_ne!(charset.code, Some(0));
    assert!(charset.stderr.contains("GBK"), "{charset:#?}");

    // statsAll: the six messages in, once the broker has sampled them.
    let counted = eventually(Duration::from_secs(30), || async {
        stats_row(&c, "StatsTopic", None)
            .await
            .is_some_and(|r| r["inMsg24Hour"] == 6)
    })
    .await;
    assert!(counted, "statsAll never showed 6 messages in");
    let text = c.mqadmin(&["statsAll", "-t", "StatsTopic"]).await;
    let line = text
        .ok()
        .lines()
        .find(|l| l.starts_with("StatsTopic "))
        .unwrap_or_default()
        .to_owned();
    let cols: Vec<&str> = line.split_whitespace().collect();
    assert_eq!(cols.first(), Some(&"StatsTopic"), "{text:#?}");
    assert_eq!(cols[cols.len() - 2..], ["6", "NO_CONSUMER"], "{text:#?}");
    assert!(text.ok().starts_with("#Topic "), "{text:#?}");

    // A group consumes everything: its line shows 6 out and no backlog.
    let fast = Duration::from_millis(300);
    let consumer = PushConsumer::builder()
        .group("CG-stats")
        .name_server(&c.ns_addr)
        .subscribe("StatsTopic", "*")
        .consume_from(ConsumeFrom::FirstOffset)
        .heartbeat_interval(fast)
        .rebalance_interval(fast)
        .persist_offset_interval(fast)
        .route_poll_interval(fast)
        .listener_concurrently(|_| ConsumeConcurrentlyStatus::ConsumeSuccess)
        .build()
        .await
        .unwrap();
    let last = std::sync::Mutex::new(None);
    let consumed = eventually(Duration::from_secs(40), || async {
        let row = stats_row(&c, "StatsTopic", Some("CG-stats")).await;
        let done = row.as_ref().is_some_and(|r| {
            r["inMsg24Hour"] == 6 && r["outMsg24Hour"] == 6 && r["accumulation"] == 0
        });
        *last.lock().unwrap() = row;
        done
    })
    .await;
    assert!(
        consumed,
        "statsAll never showed CG-stats caught up: {:?}",
        last.lock().unwrap()
    );
    consumer.shutdown().await;
    let text = c.mqadmin(&["statsAll"]).await;
    let line = text
        .ok()
        .lines()
        .find(|l| l.starts_with("StatsTopic ") && l.contains(" CG-stats "))
        .unwrap_or_default()
        .to_owned();
    let cols: Vec<&str> = line.split_whitespace().collect();
    assert_eq!(cols.len(), 7, "{text:#?}");
    assert_eq!((cols[2], cols[5], cols[6]), ("0", "6", "6"), "{text:#?}");
    // Retry and system topics are left out; -a leaves out topics without traffic.
    for hidden in [
        "%RETRY%",
        "TBW102",
        "SCHEDULE_TOPIC_XXXX",
        "rmq_sys_",
        CLUSTER,
        BROKER,
    ] {
        assert!(!text.ok().contains(hidden), "{hidden}: {text:#?}");
    }
    assert!(text.ok().contains("QuietTopic "), "{text:#?}");
    let active = c.mqadmin(&["statsAll", "-a"]).await;
    assert!(
        active.ok().contains("StatsTopic ") && !active.ok().contains("QuietTopic "),
        "{active:#?}"
    );
    let unknown = c.mqadmin(&["statsAll", "-t", "NoSuchTopic"]).await;
    assert_ne!(unknown.code, Some(0));
    assert!(unknown.stderr.contains("NoSuchTopic"), "{unknown:#?}");

    admin.shutdown().await;
    c.shutdown().await;
}

/// Message trace end to end: a traced producer and a traced consumer (rmq_client) record a
/// message's send and consumption to RMQ_SYS_TRACE_TOPIC, and `queryMsgTraceById` shows both,
/// in Java's layout; an id without a trace is an error that says what to check.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn message_trace_of_a_send_and_its_consumption() {
    let c = Cluster::start_with(&[("traceTopicEnable", "true")]).await;
    create_topic(&c, "TracedTopic").await;
    let producer = Producer::builder()
        .group("PG-traced")
        .name_server(&c.ns_addr)
        .trace(true)
        .build()
        .await
        .unwrap();
    let sent = producer
        .send(
            Message::new("TracedTopic", "traced body")
                .with_tags("TagT")
                .with_keys(["order-7"]),
        )
        .await
        .unwrap();
    let fast = Duration::from_millis(300);
    let got = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let seen = got.clone();
    let consumer = PushConsumer::builder()
        .group("CG-traced")
        .name_server(&c.ns_addr)
        .subscribe("TracedTopic", "*")
        .consume_from(ConsumeFrom::FirstOffset)
        .heartbeat_interval(fast)
        .rebalance_interval(fast)
        .route_poll_interval(fast)
        .trace(true)
        .listener_concurrently(move |msgs| {
            seen.fetch_add(msgs.len(), std::sync::atomic::Ordering::SeqCst);
            ConsumeConcurrentlyStatus::ConsumeSuccess
        })
        .build()
        .await
        .unwrap();
    assert!(
        eventually(Duration::from_secs(40), || async {
            got.load(std::sync::atomic::Ordering::SeqCst) >= 1
        })
        .await,
        "the traced message was not consumed"
    );
    // Shutting down sends what the tracers still hold.
    consumer.shutdown().await;
    producer.shutdown().await;

    let last = std::sync::Mutex::new(None);
    let shown = eventually(Duration::from_secs(20), || async {
        let run = c.mqadmin(&["queryMsgTraceById", "-i", &sent.msg_id]).await;
        let done = run.code == Some(0)
            && run
                .stdout
                .lines()
                .any(|l| l.starts_with("Pub ") && l.contains("PG-traced"))
            && run
                .stdout
                .lines()
                .any(|l| l.starts_with("Sub ") && l.contains("CG-traced"));
        *last.lock().unwrap() = Some(run);
        done
    })
    .await;
    let last = last.into_inner().unwrap();
    assert!(
        shown,
        "queryMsgTraceById never showed the send and the consumption: {last:#?}"
    );
    let text = last.unwrap().stdout;
    assert!(
        text.contains("#ProducerGroup") && text.contains("#ConsumerGroup"),
        "{text}"
    );
    assert!(
        text.lines()
            .filter(|l| l.starts_with("Pub ") || l.starts_with("Sub "))
            .all(|l| l.contains("success")),
        "{text}"
    );

    // The same as JSON: the send's topic, tags, keys and store host.
    let run = c
        .mqadmin(&["queryMsgTraceById", "-i", &sent.msg_id, "--json"])
        .await;
    let lines = run.json();
    let publish = lines
        .as_array()
        .unwrap()
        .iter()
        .find(|l| l["msgType"] == "Pub")
        .unwrap();
    assert_eq!(publish["topic"], "TracedTopic");
    assert_eq!(publish["tags"], "TagT");
    assert_eq!(publish["keys"], "order-7");
    assert_eq!(publish["storeHost"], c.broker_addr.as_str());
    assert_eq!(publish["offsetMsgId"], sent.offset_msg_id.as_str());

    let none = c
        .mqadmin(&[
            "queryMsgTraceById",
            "-i",
            "0A0000000000000000000000DEADBEEF",
        ])
        .await;
    assert_ne!(none.code, Some(0));
    assert!(none.stderr.contains("traceTopicEnable"), "{none:#?}");
    c.shutdown().await;
}
