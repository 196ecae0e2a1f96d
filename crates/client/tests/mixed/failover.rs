//! Apache's brokers in controller mode, failed over by rmq's controllers: two Apache 5.x
//! brokers of one group register with three `mqcontroller`s (`enableControllerMode=true`,
//! `controllerAddr` listing them), one is elected master and takes the other into its
//! SyncStateSet; once the master is SIGKILLed the controllers elect the slave, which becomes
//! master, and both kinds of consumer read every message, sent before and after, exactly once.
//! Apache 4.x has no controller mode: `.ci/apache-interop.sh` runs this for 5.5.0 only.

use std::time::{Duration, Instant};

use rmq_remoting::body::BrokerReplicasInfo;
use rmq_remoting::json::JsonBody;
use rmq_remoting::{ClientConfig, RemotingClient, RemotingCommand, RequestCode, ResponseCode};
use rmq_testkit::{controller_group, free_port, test_dir};

use crate::apache::Apache;
use crate::java;
use crate::traffic::{self, admin, create_topic, until, EACH};

/// The group's in-sync replica ids, as the controller leader answers GET_SYNC_STATE_DATA.
async fn in_sync(client: &RemotingClient, controllers: &[String]) -> Option<Vec<i64>> {
    for c in controllers {
        let req = RemotingCommand::new_request(RequestCode::ControllerGetSyncStateData)
            .with_body("[\"broker-a\"]");
        let Ok(resp) = client.invoke(c, req, Duration::from_secs(3)).await else {
            continue;
        };
        if resp.response_code() == ResponseCode::Success {
            let info = BrokerReplicasInfo::from_json_bytes(&resp.body).ok()?;
            let g = info.replicas_info_table.get("broker-a")?;
            return Some(g.in_sync_replicas.iter().map(|r| r.broker_id).collect());
        }
    }
    None
}

/// broker-a's master address, as the name server routes `topic`.
async fn master_of(namesrv: &str, topic: &str) -> Option<String> {
    let admin = admin(namesrv).await;
    let route = admin.topic_route(topic).await.ok();
    admin.shutdown().await;
    let b = route?
        .broker_datas
        .into_iter()
        .find(|b| b.broker_name == "broker-a")?;
    b.broker_addrs.get(&0).cloned()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs Java and Apache's daemons: run .ci/apache-interop.sh"]
async fn apache_brokers_fail_over_through_rmq_controllers() {
    let dir = test_dir("mixed-controller");
    let group = controller_group(dir.path(), 3, "scanInactiveMasterInterval=200").unwrap();
    let controllers: Vec<String> = group.iter().map(|(_, a)| a.clone()).collect();
    let ns = Apache::namesrv(dir.path(), free_port());
    let props = format!(
        "brokerName=broker-a\nenableControllerMode=true\ncontrollerAddr={}\nbrokerId=-1\n\
         brokerRole=SLAVE\nallAckInSyncStateSet=true\ncontrollerHeartBeatTimeoutMills=3000\n\
         mappedFileSizeCommitLog=16777216",
        controllers.join(";")
    );
    let first = Apache::broker(dir.path(), &ns.addr, free_port(), &props);
    let second = Apache::broker(dir.path(), &ns.addr, free_port(), &props);
    let topic = "MixedControllerFailover";
    create_topic(&ns.addr, topic, 1).await;
    let client = RemotingClient::new(ClientConfig::default());
    until("both replicas in broker-a's SyncStateSet", || async {
        let ids = in_sync(&client, &controllers).await?;
        (ids.len() == 2).then_some(())
    })
    .await;
    let master = until("a master routed", || master_of(&ns.addr, topic)).await;
    let (old, new) = if master == first.addr {
        (&first, &second)
    } else {
        (&second, &first)
    };

    traffic::rmq_produce(&ns.addr, topic, "rust").await;
    java::produce(&ns.addr, topic, EACH, "java").await;
    old.kill();
    let killed = Instant::now();
    until(
        "the name server routing broker-a's master to the other replica",
        || async { (master_of(&ns.addr, topic).await? == new.addr).then_some(()) },
    )
    .await;
    traffic::rmq_produce(&ns.addr, topic, "after").await;
    eprintln!(
        "failover: master SIGKILLed -> sends to the new master done in {:?} \
         (controllerHeartBeatTimeoutMills=3000)",
        killed.elapsed()
    );

    let (by_rmq, by_java) = tokio::join!(
        traffic::rmq_consume(&ns.addr, "CG-rust-failover", topic, 3 * EACH),
        java::consume(&ns.addr, "CG-java-failover", topic, 3 * EACH)
    );
    for (who, got) in [("rmq_client", &by_rmq), ("Java", &by_java)] {
        assert_eq!(got.len(), 3 * EACH, "{who} consumer: {got:?}");
        assert!(
            got.values().all(|(_, n)| *n == 1),
            "{who}: each once: {got:?}"
        );
        for prefix in ["rust", "java", "after"] {
            assert!(
                (0..EACH).all(|i| got.contains_key(&format!("{prefix}-{i}"))),
                "{who} consumer lacks some {prefix}-* messages: {got:?}"
            );
        }
    }
    client.shutdown().await;
    drop(group);
}
