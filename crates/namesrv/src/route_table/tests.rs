use rmq_common::TopicConfig;
use rmq_remoting::body::{DataVersion, TopicConfigSerializeWrapper};
use rmq_remoting::ConnectionId;

use super::*;

fn wrapper(counter: i64, topics: &[(&str, i32)]) -> TopicConfigSerializeWrapper {
    TopicConfigSerializeWrapper {
        data_version: DataVersion {
            counter,
            state_version: 0,
            timestamp: 1_000,
        },
        topic_config_table: topics
            .iter()
            .map(|(t, q)| ((*t).to_owned(), TopicConfig::new(*t, *q, *q, 6)))
            .collect(),
        ..Default::default()
    }
}

fn reg(name: &str, id: i64, addr: &str, topics: &[(&str, i32)]) -> BrokerRegistration {
    BrokerRegistration {
        cluster_name: "C".into(),
        broker_name: name.into(),
        broker_addr: addr.into(),
        broker_id: id,
        ha_server_addr: format!("{addr}-ha"),
        enable_acting_master: Some(false),
        topic_config: wrapper(1, topics),
        connection: Some(ConnectionId(id as u64 + 100)),
        ..Default::default()
    }
}

fn unreg(name: &str, id: i64, addr: &str) -> Unregistration {
    Unregistration {
        cluster_name: "C".into(),
        broker_name: name.into(),
        broker_addr: addr.into(),
        broker_id: id,
    }
}

#[test]
fn masters_and_slave_build_routes() {
    let mut t = RouteTable::new();
    let r = t
        .register(reg("a", 0, "a0", &[("T", 4), ("U", 2)]), 10)
        .unwrap();
    assert!(r.first_for_addr && r.master_addr.is_none());
    t.register(reg("b", 0, "b0", &[("T", 8), ("W", 1)]), 10)
        .unwrap();
    let s = t
        .register(reg("a", 1, "a1", &[("T", 4), ("U", 2)]), 10)
        .unwrap();
    assert_eq!(s.master_addr.as_deref(), Some("a0"));
    assert_eq!(s.ha_server_addr.as_deref(), Some("a0-ha"));

    let route = t.route("T").unwrap();
    assert_eq!(route.queue_datas.len(), 2);
    assert_eq!(route.queue_datas[1].write_queue_nums, 8);
    assert_eq!(route.broker_datas[0].broker_addrs.len(), 2);
    assert_eq!(route.broker_datas[0].broker_addrs[&1], "a1");
    assert!(t.route("nope").is_none());
    assert_eq!(t.all_topics().topic_list.len(), 3);
    assert_eq!(t.topics_by_cluster("C").topic_list.len(), 3);
    assert!(t.topics_by_cluster("X").topic_list.is_empty());
    let ci = t.cluster_info();
    assert_eq!(ci.cluster_addr_table["C"].len(), 2);
}

#[test]
fn only_the_master_writes_queue_data() {
    let mut t = RouteTable::new();
    t.register(reg("a", 0, "a0", &[("T", 4), ("U", 1)]), 0)
        .unwrap();
    // The slave lists different queue counts and an extra topic: ignored.
    t.register(reg("a", 1, "a1", &[("T", 16), ("S", 1)]), 0)
        .unwrap();
    assert_eq!(t.route("T").unwrap().queue_datas[0].read_queue_nums, 4);
    assert!(t.route("S").is_none());
}

#[test]
fn unchanged_version_only_refreshes_liveness() {
    let mut t = RouteTable::new();
    let first = t.register(reg("a", 0, "a0", &[("T", 4), ("U", 1)]), 0);
    assert!(first.unwrap().routes_changed);
    t.set_write_perm("a", true);
    // Same data version: queue data is not rewritten, the wiped perm stays.
    let again = t.register(reg("a", 0, "a0", &[("T", 4), ("U", 1)]), 50);
    assert!(!again.unwrap().routes_changed);
    assert_eq!(t.route("T").unwrap().queue_datas[0].perm, 4);
    let key = BrokerAddrKey::new("C", "a0");
    assert_eq!(t.live_info(&key).unwrap().last_update_millis, 50);
    // A new data version rewrites it.
    let mut r = reg("a", 0, "a0", &[("T", 4), ("U", 1)]);
    r.topic_config.data_version.counter = 2;
    assert!(t.register(r, 60).unwrap().routes_changed);
    assert_eq!(t.route("T").unwrap().queue_datas[0].perm, 6);
    // A new version with identical topics changes no route; a new slave does.
    let mut r = reg("a", 0, "a0", &[("T", 4), ("U", 1)]);
    r.topic_config.data_version.counter = 3;
    assert!(!t.register(r, 70).unwrap().routes_changed);
    let slave = || reg("a", 1, "a1", &[("T", 4), ("U", 1)]);
    assert!(t.register(slave(), 70).unwrap().routes_changed);
    assert!(!t.register(slave(), 80).unwrap().routes_changed);
}

#[test]
fn address_moves_from_slave_id_to_master_id() {
    let mut t = RouteTable::new();
    t.register(reg("a", 0, "a0", &[("T", 4), ("U", 1)]), 0)
        .unwrap();
    t.register(reg("a", 1, "a1", &[("T", 4), ("U", 1)]), 0)
        .unwrap();
    t.unregister(&unreg("a", 0, "a0"));
    t.register(reg("a", 0, "a1", &[("T", 4), ("U", 1)]), 0)
        .unwrap();
    let addrs = &t.route("T").unwrap().broker_datas[0].broker_addrs;
    assert_eq!(addrs.len(), 1);
    assert_eq!(addrs[&0], "a1");
}

#[test]
fn stale_state_version_and_single_topic_are_rejected() {
    let mut t = RouteTable::new();
    let mut first = reg("a", 0, "a0", &[("T", 4), ("U", 1)]);
    first.topic_config.data_version.state_version = 5;
    t.register(first, 0).unwrap();
    let mut other = reg("a", 0, "x0", &[("T", 4), ("U", 1)]);
    other.topic_config.data_version.state_version = 3;
    assert_eq!(
        t.register(other, 0),
        Err(RegisterRejection::StaleStateVersion {
            holder_addr: "a0".into()
        })
    );
    assert_eq!(
        t.register(reg("b", 0, "b0", &[("T", 4)]), 0),
        Err(RegisterRejection::SingleTopicBeforeFullRegistration)
    );
}

#[test]
fn unregister_semantics() {
    let mut t = RouteTable::new();
    t.register(reg("a", 0, "a0", &[("T", 4), ("U", 1)]), 0)
        .unwrap();
    t.register(reg("a", 1, "a1", &[("T", 4), ("U", 1)]), 0)
        .unwrap();
    t.register(reg("b", 0, "b0", &[("T", 4), ("V", 1)]), 0)
        .unwrap();

    // Only the master leaves: queue data stays, brokerAddrs has the slave.
    let r = t.unregister(&unreg("a", 0, "a0"));
    assert!(r.found && !r.broker_name_removed);
    let route = t.route("U").unwrap();
    assert_eq!(route.queue_datas.len(), 1);
    assert_eq!(
        route.broker_datas[0]
            .broker_addrs
            .keys()
            .collect::<Vec<_>>(),
        [&1]
    );

    // The last address of "a" leaves: its queue data goes, U (only on a) is deleted.
    let r = t.unregister(&unreg("a", 1, "a1"));
    assert!(r.broker_name_removed);
    assert!(t.route("U").is_none());
    assert_eq!(t.route("T").unwrap().queue_datas.len(), 1);
    assert_eq!(t.cluster_info().cluster_addr_table["C"].len(), 1);

    t.unregister(&unreg("b", 0, "b0"));
    assert_eq!(t.topic_count(), 0);
    assert!(t.cluster_info().cluster_addr_table.is_empty());
    assert!(!t.unregister(&unreg("b", 0, "b0")).found);
}

#[test]
fn acting_master_slave_left_alone_loses_write() {
    let mut t = RouteTable::new();
    let mut m = reg("a", 0, "a0", &[("T", 4), ("U", 1)]);
    m.enable_acting_master = Some(true);
    let mut s = reg("a", 1, "a1", &[("T", 4), ("U", 1)]);
    s.enable_acting_master = Some(true);
    t.register(m, 0).unwrap();
    t.register(s, 0).unwrap();
    t.unregister(&unreg("a", 0, "a0"));
    assert_eq!(t.route("T").unwrap().queue_datas[0].perm, 4);
}

#[test]
fn connections_and_expiry() {
    let mut t = RouteTable::new();
    let mut a = reg("a", 0, "a0", &[("T", 4), ("U", 1)]);
    a.heartbeat_timeout_millis = Some(100);
    t.register(a, 1_000).unwrap();
    let mut b = reg("b", 0, "b0", &[("T", 4), ("U", 1)]);
    b.connection = Some(ConnectionId(200));
    t.register(b, 1_000).unwrap();

    let key = t.addr_for_connection(ConnectionId(100)).unwrap();
    assert_eq!(key, BrokerAddrKey::new("C", "a0"));
    assert!(t.addr_for_connection(ConnectionId(7)).is_none());
    assert_eq!(t.unregistration_for(&key), Some(unreg("a", 0, "a0")));

    assert!(t.expired(1_100).is_empty());
    let expired = t.expired(1_101);
    assert_eq!(expired.len(), 1);
    assert_eq!(expired[0].0, key);
    assert!(t.refresh(&key, 1_101));
    assert!(t.expired(1_150).is_empty());
    assert_eq!(
        t.expired(1_000 + DEFAULT_HEARTBEAT_TIMEOUT_MILLIS + 1)
            .len(),
        2
    );
}

#[test]
fn delete_topic_whole_or_per_cluster() {
    let mut t = RouteTable::new();
    t.register(reg("a", 0, "a0", &[("T", 4), ("U", 1)]), 0)
        .unwrap();
    let mut b = reg("b", 0, "b0", &[("T", 4), ("U", 1)]);
    b.cluster_name = "D".into();
    t.register(b, 0).unwrap();
    assert!(t.delete_topic("T", Some("D")));
    assert_eq!(t.route("T").unwrap().queue_datas.len(), 1);
    assert!(!t.delete_topic("T", Some("nope")));
    assert!(t.delete_topic("U", None));
    assert!(t.route("U").is_none());
    assert_eq!(t.set_write_perm("a", true), 1);
    assert_eq!(t.route("T").unwrap().queue_datas[0].perm, 4);
    assert_eq!(t.set_write_perm("a", false), 1);
    assert_eq!(t.route("T").unwrap().queue_datas[0].perm, 6);
}

#[test]
fn delete_topic_with_registration_drops_unlisted_topics() {
    let mut t = RouteTable::new().with_delete_topic_with_registration(true);
    t.register(reg("a", 0, "a0", &[("T", 4), ("U", 1)]), 0)
        .unwrap();
    let mut r = reg("a", 0, "a0", &[("T", 4), ("V", 1)]);
    r.topic_config.data_version.counter = 2;
    t.register(r, 0).unwrap();
    assert!(t.route("U").is_none());
    assert!(t.route("V").is_some());
}
