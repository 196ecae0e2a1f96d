//! `Admin` against an in-process rmq name server and broker over real TCP: every call the rmq
//! daemons answer, and the typed errors for what does not exist.

use std::collections::BTreeMap;

use rmq_client::{Admin, BrokerTarget, ClientError, ConsumeConcurrentlyStatus, Message, PullOne};
use rmq_common::time::now_millis;

use crate::harness::{until, Cluster};

const TOPIC: &str = "AdminTopic";
const GROUP_TOPIC: &str = "AdminGroupTopic";
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cluster_topic_message_and_kv_calls() {
    let c = Cluster::start(1, &[]).await;
    let admin = c.admin().await;
    let addr = c.broker_addrs[0].clone();

    // Cluster.
    let info = admin.cluster_info().await.unwrap();
    assert!(info.cluster_addr_table[&c.name].contains("broker-a"));
    let masters = admin.cluster_masters(&c.name).await.unwrap();
    assert_eq!(
        masters,
        [BrokerTarget {
            broker_name: "broker-a".into(),
            addr: addr.clone()
        }]
    );
    let unknown = admin.cluster_masters("NoCluster").await.err();
    assert!(
        matches!(&unknown, Some(ClientError::UnknownCluster { known, .. }) if known == std::slice::from_ref(&c.name)),
        "{unknown:?}"
    );

    // Topics.
    c.create_topic(TOPIC, 2).await;
    assert!(admin.topic_list().await.unwrap().topic_list.contains(TOPIC));
    let by_cluster = admin.topics_by_cluster(&c.name).await.unwrap();
    assert!(by_cluster.topic_list.contains(TOPIC));
    let configs = admin.all_topic_config(&addr).await.unwrap();
    assert_eq!(configs.topic_config_table[TOPIC].read_queue_nums, 2);

    // Messages.
    let begin = now_millis() - 1;
    let producer = c.producer("PG-admin").await;
    let mut sent = Vec::new();
    for i in 0..4 {
        let msg = Message::new(TOPIC, format!("body-{i}")).with_keys(["admin-key"]);
        sent.push(producer.send(msg).await.unwrap());
    }
    producer.shutdown().await;
    let stats = admin.topic_stats(&addr, TOPIC).await.unwrap();
    let stored: i64 = stats.offset_table.values().map(|o| o.max_offset).sum();
    assert_eq!(stored, 4);

    let first = &sent[0];
    let viewed = admin.view_message(&first.offset_msg_id).await.unwrap();
    assert_eq!(&viewed.message.body[..], b"body-0");
    let by_id = admin
        .query_message_by_id(TOPIC, &first.msg_id)
        .await
        .unwrap();
    assert_eq!(by_id.msg_id(), first.msg_id);
    let by_key = until("four messages by key", || async {
        let found = admin
            .query_message_by_key(TOPIC, "admin-key", 32, 0, i64::MAX)
            .await
            .ok()?;
        (found.len() == 4).then_some(found)
    })
    .await;
    assert!(by_key.iter().all(|m| m.message.topic == TOPIC));
    let end = now_millis() + 1_000;
    let by_time = until("four messages by time", || async {
        let found = admin
            .query_message_by_time(TOPIC, begin, end, 100)
            .await
            .ok()?;
        (found.len() == 4).then_some(found)
    })
    .await;
    assert!(by_time.iter().all(|m| m.store_timestamp >= begin));
    let mq = &first.message_queue;
    match admin
        .pull_one(&addr, TOPIC, mq.queue_id, first.queue_offset)
        .await
        .unwrap()
    {
        PullOne::Found(m) => assert_eq!(&m.message.body[..], b"body-0"),
        other => panic!("{other:?}"),
    }
    let beyond = admin
        .pull_one(&addr, TOPIC, mq.queue_id, 999)
        .await
        .unwrap();
    assert!(matches!(beyond, PullOne::NotFound { .. }), "{beyond:?}");

    // Broker.
    let runtime = admin.broker_runtime_info(&addr).await.unwrap();
    assert!(runtime.contains_key("brokerVersionDesc"), "{runtime:?}");
    let config = admin.broker_config(&addr).await.unwrap();
    assert_eq!(
        config.get("brokerName").map(String::as_str),
        Some("broker-a")
    );

    // KV config.
    admin.put_kv_config("ADMIN_NS", "k", "v").await.unwrap();
    assert_eq!(
        admin
            .get_kv_config("ADMIN_NS", "k")
            .await
            .unwrap()
            .as_deref(),
        Some("v")
    );
    let want: BTreeMap<String, String> = [("k".to_owned(), "v".to_owned())].into();
    assert_eq!(admin.kv_list("ADMIN_NS").await.unwrap(), want);
    admin.delete_kv_config("ADMIN_NS", "k").await.unwrap();
    assert_eq!(admin.get_kv_config("ADMIN_NS", "k").await.unwrap(), None);
    assert!(admin.kv_list("EMPTY_NS").await.unwrap().is_empty());

    // Delete the topic.
    admin.delete_topic(TOPIC, None).await.unwrap();
    until("the topic gone from the list", || async {
        let list = admin.topic_list().await.ok()?;
        (!list.topic_list.contains(TOPIC)).then_some(())
    })
    .await;
    let gone = admin.topic_route(TOPIC).await.err();
    assert!(
        matches!(gone, Some(ClientError::NoRoute { .. })),
        "{gone:?}"
    );

    admin.shutdown().await;
    c.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn group_and_offset_calls() {
    let c = Cluster::start(1, &[]).await;
    let admin: Admin = c.admin().await;
    let addr = c.broker_addrs[0].clone();
    c.create_topic(GROUP_TOPIC, 2).await;
    let producer = c.producer("PG-offsets").await;
    for i in 0..6 {
        producer
            .send(Message::new(GROUP_TOPIC, format!("m{i}")))
            .await
            .unwrap();
    }
    producer.shutdown().await;

    // Group configs.
    let mut g = rmq_client::SubscriptionGroupConfig::new("CG-config");
    g.retry_max_times = 3;
    admin.update_subscription_group(&addr, &g).await.unwrap();
    let groups = admin.all_subscription_groups(&addr).await.unwrap();
    let stored = &groups.subscription_group_table["CG-config"];
    if c.external {
        // Apache's 5.x broker fills in fields of its own (groupRetryPolicy, ...).
        assert_eq!(
            (&stored.group_name, stored.retry_max_times),
            (&g.group_name, g.retry_max_times)
        );
    } else {
        assert_eq!(stored, &g);
    }
    admin
        .delete_subscription_group(&addr, "CG-config", true)
        .await
        .unwrap();
    let groups = admin.all_subscription_groups(&addr).await.unwrap();
    assert!(!groups.subscription_group_table.contains_key("CG-config"));

    // Offsets written, read, reset (of a group the broker knows).
    let g = rmq_client::SubscriptionGroupConfig::new("CG-off");
    admin.update_subscription_group(&addr, &g).await.unwrap();
    assert_eq!(
        admin.search_offset(&addr, GROUP_TOPIC, 0, 0).await.unwrap(),
        0
    );
    let never_committed = admin
        .query_consumer_offset(&addr, "CG-off", GROUP_TOPIC, 0)
        .await
        .unwrap();
    if c.external {
        // Apache's 4.9 broker answers 0 instead of QUERY_NOT_FOUND while offset 0 is in memory.
        assert!(
            matches!(never_committed, None | Some(0)),
            "{never_committed:?}"
        );
    } else {
        assert_eq!(never_committed, None);
    }
    // Both queues committed: Apache's 4.9 broker refuses to reset a group that has a queue
    // without a committed offset.
    for (queue, offset) in [(0, 2), (1, 1)] {
        admin
            .update_consumer_offset(&addr, "CG-off", GROUP_TOPIC, queue, offset)
            .await
            .unwrap();
    }
    assert_eq!(
        admin
            .query_consumer_offset(&addr, "CG-off", GROUP_TOPIC, 0)
            .await
            .unwrap(),
        Some(2)
    );
    let all = admin.all_consumer_offsets(&addr).await.unwrap();
    assert_eq!(all.offset_table[&format!("{GROUP_TOPIC}@CG-off")][&0], 2);
    admin.all_delay_offsets(&addr).await.unwrap();
    let stats = admin.consume_stats("CG-off", GROUP_TOPIC).await.unwrap();
    let q0 = stats
        .offset_table
        .iter()
        .find(|(mq, _)| mq.queue_id == 0)
        .map(|(_, o)| *o)
        .unwrap();
    assert_eq!(q0.consumer_offset, 2);
    let at = admin
        .consume_stats_at(&addr, "CG-off", Some(GROUP_TOPIC))
        .await
        .unwrap();
    assert_eq!(at.offset_table.len(), 2);
    let progress = admin
        .consumer_progress("CG-off", GROUP_TOPIC)
        .await
        .unwrap();
    assert_eq!(progress.len(), 2);

    // The broker resets the offsets itself (INVOKE_BROKER_TO_RESET_OFFSET, server side), no
    // consumer online needed.
    let reset = admin
        .reset_offset_by_time("CG-off", GROUP_TOPIC, 0, true)
        .await
        .unwrap();
    assert_eq!(reset.len(), 2);
    assert!(reset.iter().all(|r| r.new_offset == 0), "{reset:?}");
    // Apache's 4.9 broker has no server-side reset: without a consumer online it answers
    // CONSUMER_NOT_ONLINE and the admin writes the offsets itself.
    assert!(c.external || reset.iter().all(|r| r.pushed_to_consumers));
    assert_eq!(
        admin
            .query_consumer_offset(&addr, "CG-off", GROUP_TOPIC, 0)
            .await
            .unwrap(),
        Some(0)
    );

    // A running consumer: connections, group list, who consumes the topic.
    let consumer = c
        .consumer("CG-live")
        .subscribe(GROUP_TOPIC, "*")
        .listener_concurrently(|_| ConsumeConcurrentlyStatus::ConsumeSuccess)
        .build()
        .await
        .unwrap();
    let connections = until("the consumer connected", || async {
        admin.group_connections("CG-live").await.ok().flatten()
    })
    .await;
    assert_eq!(connections.connection_set.len(), 1);
    assert!(connections.subscription_table.contains_key(GROUP_TOPIC));
    let direct = admin.consumer_connection(&addr, "CG-live").await.unwrap();
    assert!(direct.is_some());
    assert_eq!(
        admin.consumer_connection(&addr, "CG-nobody").await.unwrap(),
        None
    );
    until("the group listed", || async {
        let groups = admin.group_list().await.ok()?;
        groups.contains("CG-live").then_some(())
    })
    .await;
    let consumed_by = admin.topic_consumed_by(&addr, GROUP_TOPIC).await.unwrap();
    assert!(
        consumed_by.group_list.contains("CG-live"),
        "{consumed_by:?}"
    );
    consumer.shutdown().await;

    admin.shutdown().await;
    c.shutdown().await;
}
