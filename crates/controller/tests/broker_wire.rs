//! Three `mqcontroller` processes on loopback, spoken to over real TCP the way Apache's broker
//! speaks to its controllers in controller mode: brokers apply for ids, register, heartbeat
//! every controller and ask for an election; the master alters its SyncStateSet; when the
//! master falls silent the leader elects the caught-up slave and tells it at once; with the
//! controller leader SIGKILLed, the other two keep the decision and go on answering.
#![allow(clippy::unwrap_used)]

#[path = "../../client/tests/support/until.rs"]
mod poll;

use std::collections::BTreeSet;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use parking_lot::Mutex;
use rmq_remoting::body::{BrokerReplicasInfo, ElectMasterResponseBody, SyncStateSet};
use rmq_remoting::header::{
    AlterSyncStateSetRequestHeader, ApplyBrokerIdRequestHeader, BrokerHeartbeatRequestHeader,
    ElectMasterRequestHeader, ElectMasterResponseHeader, GetMetaDataResponseHeader,
    GetNextBrokerIdRequestHeader, GetNextBrokerIdResponseHeader, GetReplicaInfoRequestHeader,
    GetReplicaInfoResponseHeader, NotifyBrokerRoleChangedRequestHeader,
    RegisterBrokerToControllerRequestHeader, RegisterBrokerToControllerResponseHeader,
};
use rmq_remoting::json::JsonBody;
use rmq_remoting::transport::ServerConfig;
use rmq_remoting::{
    ClientConfig, RemotingClient, RemotingCommand, RemotingServer, RequestCode, ResponseCode,
};
use rmq_testkit::Daemon;
use tokio::net::TcpListener;
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

const T: Duration = Duration::from_secs(3);
const CLUSTER: &str = "DefaultCluster";
const GROUP: &str = "broker-a";

/// The client tests' poll-until-a-fact helper, shared.
async fn until<V, F, Fut>(what: &str, f: F) -> V
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Option<V>>,
{
    poll::until_within(Duration::from_secs(30), what, f).await
}

struct Controllers {
    addrs: Vec<String>,
    daemons: Vec<Option<Daemon>>,
}

impl Controllers {
    fn start(dir: &Path) -> Controllers {
        let group =
            rmq_testkit::controller_group(dir, 3, "scanInactiveMasterInterval=200").unwrap();
        let (daemons, addrs) = group.into_iter().map(|(d, a)| (Some(d), a)).unzip();
        Controllers { addrs, daemons }
    }

    fn kill(&mut self, addr: &str) {
        let i = self.addrs.iter().position(|a| a == addr).unwrap();
        self.daemons[i].take().unwrap().kill().unwrap();
    }

    fn running(&self) -> Vec<String> {
        self.addrs
            .iter()
            .zip(&self.daemons)
            .filter(|(_, d)| d.is_some())
            .map(|(a, _)| a.clone())
            .collect()
    }
}

/// The leader's address, as the running controllers agree on it (GET_METADATA_INFO).
async fn leader(client: &RemotingClient, running: &[String]) -> String {
    until(
        "the running controllers agreeing on a leader among them",
        || async {
            let mut seen = BTreeSet::new();
            for addr in running {
                let resp = client
                    .invoke(
                        addr,
                        RemotingCommand::new_request(RequestCode::ControllerGetMetadataInfo),
                        T,
                    )
                    .await
                    .ok()?;
                let h: GetMetaDataResponseHeader = resp.decode_header().ok()?;
                seen.insert(h.controller_leader_address?);
            }
            let only = (seen.len() == 1).then(|| seen.pop_first())??;
            running.contains(&only).then_some(only)
        },
    )
    .await
}

/// A broker as Apache's broker acts in controller mode, minus the message store: it listens
/// for role-change notices and heartbeats every controller.
struct FakeBroker {
    addr: String,
    client: RemotingClient,
    notices: Arc<Mutex<Vec<NotifyBrokerRoleChangedRequestHeader>>>,
    stop: CancellationToken,
    server: JoinHandle<()>,
    heartbeat: Option<JoinHandle<()>>,
}

impl FakeBroker {
    async fn start() -> FakeBroker {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap().to_string();
        let notices = Arc::new(Mutex::new(Vec::new()));
        let mut server = RemotingServer::new(ServerConfig::default());
        let seen = notices.clone();
        server.register(
            RequestCode::NotifyBrokerRoleChanged,
            move |_ctx, req: RemotingCommand| {
                let seen = seen.clone();
                async move {
                    seen.lock()
                        .push(req.decode_header::<NotifyBrokerRoleChangedRequestHeader>()?);
                    Ok(None)
                }
            },
        );
        let stop = CancellationToken::new();
        let server = tokio::spawn(server.run(listener, stop.clone()));
        FakeBroker {
            addr,
            client: RemotingClient::new(ClientConfig::default()),
            notices,
            stop,
            server,
            heartbeat: None,
        }
    }

    /// GET_NEXT_BROKER_ID, APPLY_BROKER_ID, REGISTER_BROKER at the leader: the id, and what
    /// the registration answered.
    async fn join(&self, leader: &str) -> (i64, RemotingCommand) {
        let next = self
            .call(
                leader,
                RequestCode::ControllerGetNextBrokerId,
                &GetNextBrokerIdRequestHeader {
                    cluster_name: CLUSTER.into(),
                    broker_name: GROUP.into(),
                },
            )
            .await;
        assert_eq!(
            next.response_code(),
            ResponseCode::Success,
            "{:?}",
            next.remark
        );
        let id = next
            .decode_header::<GetNextBrokerIdResponseHeader>()
            .unwrap()
            .next_broker_id
            .unwrap();
        let apply = ApplyBrokerIdRequestHeader {
            cluster_name: CLUSTER.into(),
            broker_name: GROUP.into(),
            applied_broker_id: id,
            register_check_code: format!("{};{}", self.addr, id),
        };
        let applied = self
            .call(leader, RequestCode::ControllerApplyBrokerId, &apply)
            .await;
        assert_eq!(
            applied.response_code(),
            ResponseCode::Success,
            "{:?}",
            applied.remark
        );
        // A retry of the same apply (its answer lost) succeeds again.
        let again = self
            .call(leader, RequestCode::ControllerApplyBrokerId, &apply)
            .await;
        assert_eq!(
            again.response_code(),
            ResponseCode::Success,
            "{:?}",
            again.remark
        );
        let registered = self
            .call(
                leader,
                RequestCode::ControllerRegisterBroker,
                &RegisterBrokerToControllerRequestHeader {
                    cluster_name: CLUSTER.into(),
                    broker_name: GROUP.into(),
                    broker_id: id,
                    broker_address: self.addr.clone(),
                    invoke_time: None,
                },
            )
            .await;
        assert_eq!(
            registered.response_code(),
            ResponseCode::Success,
            "{:?}",
            registered.remark
        );
        (id, registered)
    }

    /// Heartbeats every controller every 200 ms, oneway, saying it may be silent 1 s.
    fn start_heartbeat(&mut self, id: i64, controllers: Vec<String>) {
        let client = self.client.clone();
        let addr = self.addr.clone();
        self.heartbeat = Some(tokio::spawn(async move {
            let mut every = tokio::time::interval(Duration::from_millis(200));
            loop {
                every.tick().await;
                for c in &controllers {
                    let h = BrokerHeartbeatRequestHeader {
                        cluster_name: CLUSTER.into(),
                        broker_addr: addr.clone(),
                        broker_name: Some(GROUP.into()),
                        broker_id: Some(id),
                        epoch: Some(1),
                        max_offset: Some(1000 + id),
                        heartbeat_timeout_mills: Some(1000),
                        ..Default::default()
                    };
                    let req = RemotingCommand::request(RequestCode::BrokerHeartbeat, &h);
                    // A controller that is down misses a beat; the others do not.
                    let _ = client.invoke_oneway(c, req, T).await;
                }
            }
        }));
    }

    fn stop_heartbeat(&mut self) {
        if let Some(h) = self.heartbeat.take() {
            h.abort();
        }
    }

    async fn call(
        &self,
        addr: &str,
        code: RequestCode,
        h: &impl rmq_remoting::CommandHeader,
    ) -> RemotingCommand {
        self.client
            .invoke(addr, RemotingCommand::request(code, h), T)
            .await
            .unwrap()
    }

    async fn shutdown(mut self) {
        self.stop_heartbeat();
        self.stop.cancel();
        self.server.await.unwrap();
        self.client.shutdown().await;
    }
}

fn alter(master: i64, master_epoch: i32, set: &[i64], set_epoch: i32) -> RemotingCommand {
    RemotingCommand::request(
        RequestCode::ControllerAlterSyncStateSet,
        &AlterSyncStateSetRequestHeader {
            broker_name: GROUP.into(),
            master_broker_id: master,
            master_epoch,
            invoke_time: None,
        },
    )
    .with_body(
        SyncStateSet {
            sync_state_set: set.iter().copied().collect(),
            sync_state_set_epoch: set_epoch,
        }
        .to_json_bytes(),
    )
}

/// GET_REPLICA_INFO of the group, asked of `controller`.
async fn ask_replica_info(client: &RemotingClient, controller: &str) -> Option<RemotingCommand> {
    let h = GetReplicaInfoRequestHeader {
        broker_name: GROUP.into(),
    };
    let req = RemotingCommand::request(RequestCode::ControllerGetReplicaInfo, &h);
    client.invoke(controller, req, T).await.ok()
}

/// The group's master and SyncStateSet, as the leader answers.
async fn replica_info(
    client: &RemotingClient,
    leader: &str,
) -> (GetReplicaInfoResponseHeader, SyncStateSet) {
    let resp = ask_replica_info(client, leader).await.unwrap();
    assert_eq!(
        resp.response_code(),
        ResponseCode::Success,
        "{:?}",
        resp.remark
    );
    (
        resp.decode_header().unwrap(),
        SyncStateSet::from_json_bytes(&resp.body).unwrap(),
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn brokers_join_elect_alter_and_fail_over() {
    let dir = tempfile::tempdir().unwrap();
    let mut controllers = Controllers::start(dir.path());
    let admin = RemotingClient::new(ClientConfig::default());
    let lead = leader(&admin, &controllers.running()).await;

    // The first broker joins a group nobody knows: id 1, no master yet; it asks for an election.
    let mut a = FakeBroker::start().await;
    let (a_id, registered) = a.join(&lead).await;
    assert_eq!(a_id, 1);
    let h: RegisterBrokerToControllerResponseHeader = registered.decode_header().unwrap();
    assert_eq!(h.master_broker_id, None);
    a.start_heartbeat(a_id, controllers.addrs.clone());
    let elect = |id: i64, designate: bool| {
        RemotingCommand::request(
            RequestCode::ControllerElectMaster,
            &ElectMasterRequestHeader {
                cluster_name: Some(CLUSTER.into()),
                broker_name: GROUP.into(),
                broker_id: Some(id),
                designate_elect: Some(designate),
                invoke_time: None,
            },
        )
    };
    let elected = admin.invoke(&lead, elect(a_id, false), T).await.unwrap();
    assert_eq!(
        elected.response_code(),
        ResponseCode::Success,
        "{:?}",
        elected.remark
    );
    let eh: ElectMasterResponseHeader = elected.decode_header().unwrap();
    assert_eq!(
        (
            eh.master_broker_id,
            eh.master_epoch,
            eh.sync_state_set_epoch
        ),
        (Some(1), Some(1), Some(1))
    );
    assert_eq!(eh.master_address.as_deref(), Some(a.addr.as_str()));
    let body = ElectMasterResponseBody::from_json_bytes(&elected.body).unwrap();
    assert_eq!(body.broker_member_group.unwrap().broker_addrs[&1], a.addr);

    // The second joins as a slave: the registration names the live master.
    let mut b = FakeBroker::start().await;
    let (b_id, registered) = b.join(&lead).await;
    assert_eq!(b_id, 2);
    let h: RegisterBrokerToControllerResponseHeader = registered.decode_header().unwrap();
    assert_eq!(
        (h.master_broker_id, h.master_address.as_deref()),
        (Some(1), Some(a.addr.as_str()))
    );
    b.start_heartbeat(b_id, controllers.addrs.clone());
    // B asking for an election while A is alive changes nothing.
    let still = admin.invoke(&lead, elect(b_id, false), T).await.unwrap();
    assert_eq!(
        still.response_code(),
        ResponseCode::ControllerMasterStillExist
    );

    // The master takes B into its SyncStateSet once B is seen alive; the same set again, or
    // under a stale epoch, is refused with Apache's codes.
    let altered = until("B alive and expanded into the SyncStateSet", || async {
        let r = admin.invoke(&lead, alter(1, 1, &[1, 2], 1), T).await.ok()?;
        (r.response_code() == ResponseCode::Success).then_some(r)
    })
    .await;
    assert_eq!(
        SyncStateSet::from_json_bytes(&altered.body)
            .unwrap()
            .sync_state_set_epoch,
        2
    );
    let same = admin
        .invoke(&lead, alter(1, 1, &[1, 2], 2), T)
        .await
        .unwrap();
    assert_eq!(
        same.response_code(),
        ResponseCode::ControllerAlterSyncStateSetFailed
    );
    let stale = admin.invoke(&lead, alter(1, 1, &[1], 1), T).await.unwrap();
    assert_eq!(
        stale.response_code(),
        ResponseCode::ControllerFencedSyncStateSetEpoch
    );
    let not_master = admin.invoke(&lead, alter(2, 1, &[2], 2), T).await.unwrap();
    assert_eq!(
        not_master.response_code(),
        ResponseCode::ControllerInvalidMaster
    );

    // A follower refuses what only the leader answers.
    let follower = controllers
        .running()
        .into_iter()
        .find(|c| *c != lead)
        .unwrap();
    let refused = ask_replica_info(&admin, &follower).await.unwrap();
    assert_eq!(refused.response_code(), ResponseCode::ControllerNotLeader);

    // The master falls silent: the leader elects B and tells it at once.
    a.stop_heartbeat();
    let notice = until("B told it is the new master", || async {
        b.notices
            .lock()
            .iter()
            .find(|n| n.master_broker_id == Some(2))
            .cloned()
    })
    .await;
    assert_eq!(notice.master_address.as_deref(), Some(b.addr.as_str()));
    assert_eq!(
        (notice.master_epoch, notice.sync_state_set_epoch),
        (Some(2), Some(3))
    );
    let (info, set) = replica_info(&admin, &lead).await;
    assert_eq!(
        (info.master_broker_id, info.master_epoch),
        (Some(2), Some(2))
    );
    assert_eq!(set.sync_state_set, BTreeSet::from([2]));
    // The silent A cannot be forced back in by an operator.
    let forced = admin.invoke(&lead, elect(a_id, true), T).await.unwrap();
    assert_eq!(
        forced.response_code(),
        ResponseCode::ControllerBrokerNotAlive,
        "{:?}",
        forced.remark
    );

    // The controller leader dies: the other two elect a leader that knows all of it.
    controllers.kill(&lead);
    let new_lead = leader(&admin, &controllers.running()).await;
    assert_ne!(new_lead, lead);
    let info: GetReplicaInfoResponseHeader = until("the new leader answering", || async {
        let resp = ask_replica_info(&admin, &new_lead).await?;
        (resp.response_code() == ResponseCode::Success).then(|| resp.decode_header().unwrap())
    })
    .await;
    assert_eq!(
        (info.master_broker_id, info.master_epoch),
        (Some(2), Some(2))
    );
    let data = admin
        .invoke(
            &new_lead,
            RemotingCommand::new_request(RequestCode::ControllerGetSyncStateData)
                .with_body(format!("[\"{GROUP}\"]")),
            T,
        )
        .await
        .unwrap();
    assert_eq!(
        data.response_code(),
        ResponseCode::Success,
        "{:?}",
        data.remark
    );
    let table = BrokerReplicasInfo::from_json_bytes(&data.body)
        .unwrap()
        .replicas_info_table;
    let g = &table[GROUP];
    assert_eq!(
        g.in_sync_replicas
            .iter()
            .map(|r| (r.broker_id, r.alive))
            .collect::<Vec<_>>(),
        [(2, true)]
    );
    assert_eq!(
        g.not_in_sync_replicas
            .iter()
            .map(|r| (r.broker_id, r.alive))
            .collect::<Vec<_>>(),
        [(1, false)]
    );

    // The same, and an operator's changes, through mqadmin.
    let all = controllers.running().join(";");
    let (ok, out) = mqadmin(&["getControllerMetaData", "-a", &new_lead]);
    assert!(
        ok && out.contains(&format!("#ControllerLeaderAddress\t{new_lead}")),
        "{out}"
    );
    let (ok, out) = mqadmin(&["getSyncStateSet", "-a", &all, "-b", GROUP]);
    assert!(ok && out.contains("#MasterBrokerId\t2"), "{out}");
    assert!(
        out.contains("InSyncReplica:\tReplicaIdentity{brokerName='broker-a', brokerId=2"),
        "{out}"
    );
    assert!(
        out.contains("NotInSyncReplica:\tReplicaIdentity{brokerName='broker-a', brokerId=1"),
        "{out}"
    );
    let (ok, out) = mqadmin(&[
        "electMaster",
        "-a",
        &all,
        "-b",
        "1",
        "-bn",
        GROUP,
        "-c",
        CLUSTER,
    ]);
    assert!(!ok && out.contains("not alive"), "{out}");
    let (ok, out) = mqadmin(&[
        "cleanBrokerMetadata",
        "-a",
        &all,
        "-bn",
        GROUP,
        "-b",
        "1",
        "-c",
        CLUSTER,
    ]);
    assert!(
        ok && out.contains("metadata from controller success"),
        "{out}"
    );
    let (ok, out) = mqadmin(&["getSyncStateSet", "-a", &all, "-b", GROUP]);
    assert!(
        ok && !out.contains("brokerId=1"),
        "replica 1 still known: {out}"
    );
    let (ok, out) = mqadmin(&["getControllerConfig", "-a", &new_lead]);
    assert!(ok && out.contains("scanInactiveMasterInterval"), "{out}");

    a.shutdown().await;
    b.shutdown().await;
    admin.shutdown().await;
}

/// Runs this build's `mqadmin` with `args`: whether it succeeded, and what it printed.
fn mqadmin(args: &[&str]) -> (bool, String) {
    let out = std::process::Command::new(rmq_testkit::binary("mqadmin").unwrap())
        .args(args)
        .output()
        .unwrap();
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    (out.status.success(), text)
}
