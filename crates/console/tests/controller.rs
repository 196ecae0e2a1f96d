//! In controller mode the cluster page shows each broker's epoch and its group's SyncStateSet,
//! read from the broker and the controllers (three `mqcontroller`s, a master and a slave).
#![allow(clippy::unwrap_used)]

mod support;

use std::time::Duration;

use rmq_testkit::{broker_process, console_process, controller_group, namesrv_process, test_dir};
use serde_json::Value;
use support::until::until_within;
use support::Api;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_cluster_page_shows_epochs_and_the_sync_state_set() {
    let dir = test_dir("rmq-console-controller-");
    let group = controller_group(dir.path(), 3, "scanInactiveMasterInterval=200").unwrap();
    let controllers: Vec<String> = group.iter().map(|(_, a)| a.clone()).collect();
    let (_ns, ns) = namesrv_process(dir.path(), "namesrv").unwrap();
    let props = format!(
        "enableControllerMode=true\ncontrollerAddr={}\ncontrollerHeartBeatTimeoutMills=2000\n\
         brokerHeartbeatInterval=300\nsyncBrokerMetadataPeriod=1000\nallAckInSyncStateSet=true",
        controllers.join(";")
    );
    let mut brokers = Vec::new();
    for side in ["a", "b"] {
        let d = dir.path().join(side);
        std::fs::create_dir_all(&d).unwrap();
        brokers.push(broker_process(&d, "broker-a", &ns, &props).unwrap());
    }
    let (_console, url) = console_process(dir.path(), &ns, &[]).unwrap();
    let api = Api::local(&url).await.unwrap();
    let rows = until_within(
        Duration::from_secs(60),
        "both replicas with an epoch and the SyncStateSet [1, 2]",
        || async {
            let v = api.get("/api/cluster").await.ok()?;
            let rows = v["brokers"].as_array()?.clone();
            let done = rows.len() == 2
                && rows.iter().all(|b| {
                    b["epoch"].as_i64() >= Some(1) && b["syncStateSet"] == serde_json::json!([1, 2])
                });
            done.then_some(rows)
        },
    )
    .await;
    let roles: Vec<&str> = rows.iter().filter_map(|b| b["role"].as_str()).collect();
    assert!(
        roles.contains(&"SLAVE") && roles.iter().any(|r| r.ends_with("MASTER")),
        "{rows:?}"
    );
    let masters: Vec<&Value> = rows.iter().filter(|b| b["brokerId"] == 0).collect();
    assert_eq!(masters.len(), 1, "{rows:?}");
}
