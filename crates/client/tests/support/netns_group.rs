//! A controller-mode broker group on a test network (`rmq_testkit::netns`): each broker in its
//! own network namespace with its own address, three controllers and a name server on the
//! bridge; and the load the fault tests run under (four producers with SYNC sends, two push
//! consumers), with the checks made after each fault. Shared by `controller_netns.rs` and, by
//! path, the `failover_rto` example.
//!
//! Needs root (network namespaces); it fails, never skips, without.
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used)]

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use parking_lot::Mutex;
use rmq_client::{
    Admin, ConsumeConcurrentlyStatus, ConsumeFrom, Message, Producer, PushConsumer, SendStatus,
    TopicConfig, TopicTarget,
};
use rmq_testkit::netns::Net;
use rmq_testkit::{binary, controller_group_at, controller_start, namesrv_process, Daemon};

use super::poll::{poll_within, until_within};

pub const TOPIC: &str = "NetFaultTopic";
pub const GROUP: &str = "broker-a";
const PORT: u16 = 10911;

pub async fn until<T, Fut: std::future::Future<Output = Option<T>>>(
    what: &str,
    f: impl FnMut() -> Fut,
) -> T {
    until_within(Duration::from_secs(90), what, f).await
}

/// Three controllers, a name server, and `brokers` brokers of group `broker-a`, node `k` with
/// controller broker id `k + 1` (node 0 is made master first).
pub struct Group {
    dir: PathBuf,
    controllers: Vec<Option<Daemon>>,
    pub controller_addrs: Vec<String>,
    /// `controllerAddr`: the controllers joined by `;`.
    pub ctl: String,
    _namesrv: Daemon,
    pub ns: String,
    brokers: Vec<Option<Daemon>>,
    confs: Vec<String>,
    /// Node `k`'s broker address.
    pub addrs: Vec<String>,
    pub admin: Admin,
    /// Last, so the daemons in its namespaces are gone before it is taken down.
    pub net: Net,
}

impl Group {
    /// Starts the group with `broker_extra` properties lines for every broker and
    /// `controller_extra` for every controller; returns once node 0 is master, every broker is
    /// in the SyncStateSet and the topic is routed.
    pub async fn start(
        dir: &Path,
        brokers: usize,
        controller_extra: &str,
        broker_extra: &str,
    ) -> Group {
        let net = Net::new(brokers).expect("network namespaces for the fault test");
        let host = net.host_ip().to_string();
        let group = controller_group_at(
            dir,
            3,
            &host,
            &format!("scanInactiveMasterInterval=200\n{controller_extra}"),
        )
        .unwrap();
        let controller_addrs: Vec<String> = group.iter().map(|(_, a)| a.clone()).collect();
        let controllers = group.into_iter().map(|(d, _)| Some(d)).collect();
        let ctl = controller_addrs.join(";");
        let (namesrv, ns_local) = namesrv_process(dir, "namesrv").unwrap();
        let ns_port = ns_local.rsplit_once(':').unwrap().1;
        let ns = format!("{host}:{ns_port}");
        let admin = Admin::builder().name_server(&ns).build().await.unwrap();
        let mut confs = Vec::new();
        let mut addrs = Vec::new();
        for node in 0..brokers {
            let ip = net.ip(node);
            let conf = dir.join(format!("broker-{node}.properties"));
            std::fs::write(
                &conf,
                format!(
                    "brokerClusterName=DefaultCluster\nbrokerName={GROUP}\nbrokerIP1={ip}\n\
                     listenPort={PORT}\nnamesrvAddr={ns}\nstorePathRootDir={}\n\
                     mappedFileSizeCommitLog=16777216\nmappedFileSizeConsumeQueue=1200000\n\
                     maxIndexNum=200000\nmaxHashSlotNum=20000\ngrpcServerPort=0\n\
                     enableControllerMode=true\ncontrollerAddr={ctl}\n\
                     controllerHeartBeatTimeoutMills=2000\nbrokerHeartbeatInterval=300\n\
                     syncBrokerMetadataPeriod=1000\nallAckInSyncStateSet=true\n\
                     slaveTimeout=1000\n{broker_extra}\n",
                    dir.join(format!("broker-{node}")).display()
                ),
            )
            .unwrap();
            confs.push(conf.to_string_lossy().into_owned());
            addrs.push(format!("{ip}:{PORT}"));
        }
        let mut g = Group {
            dir: dir.to_owned(),
            net,
            controllers,
            controller_addrs,
            ctl,
            _namesrv: namesrv,
            ns,
            brokers: (0..brokers).map(|_| None).collect(),
            confs,
            addrs,
            admin,
        };
        for node in 0..brokers {
            g.start_broker(node);
            // The first broker is made master before the others join.
            if node == 0 {
                g.wait_master(0).await;
            }
        }
        let all: Vec<i64> = (1..=brokers as i64).collect();
        g.wait_sync_state_set(&all).await;
        g.admin
            .create_topic(
                TopicTarget::Broker(g.addrs[0].clone()),
                &TopicConfig::new(TOPIC, 4, 4, 6),
            )
            .await
            .unwrap();
        until("the topic routed", || async {
            g.admin.topic_route(TOPIC).await.ok().map(|_| ())
        })
        .await;
        g
    }

    pub fn start_broker(&mut self, node: usize) {
        let bin = binary("mqbroker").unwrap();
        let logs = self.dir.join("logs");
        let d = self
            .net
            .spawn(
                node,
                &format!("broker-{node}"),
                &bin,
                &["-c", &self.confs[node]],
                &logs,
            )
            .unwrap();
        self.brokers[node] = Some(d);
    }

    pub fn kill_broker(&mut self, node: usize) {
        self.brokers[node].take().expect("running").kill().unwrap();
    }

    /// SIGTERM: the broker's own orderly shutdown.
    pub fn stop_broker(&mut self, node: usize) {
        let status = self.brokers[node]
            .take()
            .expect("running")
            .terminate(Duration::from_secs(20))
            .unwrap();
        assert!(status.success(), "broker-{node} stopped with {status}");
    }

    pub fn broker_log(&self, node: usize) -> String {
        std::fs::read_to_string(self.dir.join(format!("logs/broker-{node}.log")))
            .unwrap_or_default()
    }

    pub fn kill_controller(&mut self, i: usize) {
        self.controllers[i].take().expect("running").kill().unwrap();
    }

    pub fn stop_controller(&mut self, i: usize) {
        self.controllers[i]
            .take()
            .expect("running")
            .terminate(Duration::from_secs(20))
            .unwrap();
    }

    pub fn start_controller(&mut self, i: usize) {
        let d = controller_start(&self.dir, i, &self.controller_addrs[i]).unwrap();
        self.controllers[i] = Some(d);
    }

    /// The controller leader's index, once the controllers have one.
    pub async fn controller_leader(&self) -> usize {
        until("a controller leader", || async {
            let leader = self.admin.controller_leader(&self.ctl).await.ok()?;
            self.controller_addrs.iter().position(|a| *a == leader)
        })
        .await
    }

    /// Waits until controller `i`, started again, follows a leader of the group.
    pub async fn wait_controller_rejoined(&self, i: usize) {
        until(&format!("controller n{i} back under a leader"), || async {
            let m = self
                .admin
                .controller_metadata(&self.controller_addrs[i])
                .await
                .ok()?;
            m.controller_leader_address
                .filter(|a| !a.is_empty())
                .map(|_| ())
        })
        .await;
    }

    /// The lagging-slave fault: the slave (node 1) is cut off until the master (node 0) drops
    /// it from the SyncStateSet and has acknowledged 100 of `load`'s sends alone; then the
    /// master is SIGKILLed and the slave is back on the network. Returns the time of the kill
    /// once the slave has asked to be elected and been refused (it lacks what the master
    /// acknowledged alone; enableElectUncleanMaster=false).
    pub async fn kill_master_behind_lagging_slave(&mut self, load: &Load) -> Instant {
        self.net.cut(1).unwrap();
        self.wait_sync_state_set(&[1]).await;
        load.wait_more_acks(100, "sends acknowledged by the master alone")
            .await;
        self.kill_broker(0);
        let killed = Instant::now();
        self.net.heal(1).unwrap();
        until("the slave's election refused", || async {
            self.broker_log(1)
                .contains("no master could be elected")
                .then_some(())
        })
        .await;
        killed
    }

    /// The group's master as the name server routes it.
    pub async fn master(&self) -> Option<String> {
        let info = self.admin.cluster_info().await.ok()?;
        info.broker_addr_table
            .get(GROUP)?
            .broker_addrs
            .get(&0)
            .cloned()
    }

    pub async fn wait_master(&self, node: usize) {
        until(&format!("broker-{node} routed as master"), || async {
            (self.master().await.as_deref() == Some(self.addrs[node].as_str())).then_some(())
        })
        .await;
    }

    /// (master broker id, master epoch, SyncStateSet) at the controllers.
    pub async fn replicas(&self) -> Option<(Option<i64>, i32, Vec<i64>)> {
        let info = self
            .admin
            .sync_state_data(&self.ctl, &[GROUP.to_owned()])
            .await
            .ok()?;
        let r = info.replicas_info_table.get(GROUP)?;
        let mut set: Vec<i64> = r.in_sync_replicas.iter().map(|m| m.broker_id).collect();
        set.sort_unstable();
        Some((r.master_broker_id, r.master_epoch, set))
    }

    pub async fn wait_sync_state_set(&self, ids: &[i64]) {
        until(&format!("SyncStateSet {ids:?}"), || async {
            (self.replicas().await?.2 == ids).then_some(())
        })
        .await;
    }

    /// Per queue: (min, max) offsets of the topic on `addr`.
    pub async fn queues(&self, addr: &str) -> BTreeMap<i32, (i64, i64)> {
        match self.admin.topic_stats(addr, TOPIC).await {
            Ok(s) => s
                .offset_table
                .iter()
                .map(|(q, o)| (q.queue_id, (o.min_offset, o.max_offset)))
                .collect(),
            Err(_) => BTreeMap::new(),
        }
    }

    /// Waits until every broker holds the same queues (no replica diverged) and all of them
    /// are in the SyncStateSet again.
    pub async fn wait_replicas_equal(&self) {
        let all: Vec<i64> = (1..=self.addrs.len() as i64).collect();
        until(
            "every replica with the master's queues, all in sync",
            || async {
                let first = self.queues(&self.addrs[0]).await;
                let mut same = !first.is_empty();
                for a in &self.addrs[1..] {
                    same &= self.queues(a).await == first;
                }
                (same && self.replicas().await?.2 == all).then_some(())
            },
        )
        .await;
    }

    pub async fn shutdown(self) {
        self.admin.shutdown().await;
    }
}

/// Whether the name server routes a master for the topic.
async fn master_routed(admin: &Admin) -> Option<()> {
    let route = admin.topic_route(TOPIC).await.ok()?;
    route
        .broker_datas
        .iter()
        .any(|b| b.broker_addrs.contains_key(&0))
        .then_some(())
}

/// One acknowledged send.
#[derive(Debug, Clone)]
pub struct Ack {
    pub body: String,
    /// Its offset message id.
    pub offset_msg_id: String,
    /// When the answer came.
    pub at: Instant,
    /// The broker that stored it (from the offset message id).
    pub stored_by: String,
}

/// Four producers sending without pause (SYNC, 3 s timeout) and two push consumers of one
/// group, all through the name server.
pub struct Load {
    stop: Arc<AtomicBool>,
    acks: Arc<Mutex<Vec<Ack>>>,
    producers: Vec<tokio::task::JoinHandle<()>>,
    consumers: Vec<PushConsumer>,
    /// What the consumers received: (queue, offset) -> body.
    seen: Arc<Mutex<BTreeMap<(i32, i64), String>>>,
    /// Two different bodies received at one queue offset.
    clash: Arc<Mutex<Vec<String>>>,
}

impl Load {
    /// Starts the load on `g`'s topic (through `g`'s name server and admin client).
    pub async fn start(g: &Group) -> Load {
        let ns = g.ns.as_str();
        let stop = Arc::new(AtomicBool::new(false));
        let acks: Arc<Mutex<Vec<Ack>>> = Arc::default();
        let mut producers = Vec::new();
        for k in 0..4 {
            let p = Producer::builder()
                .group(format!("PG-netns-{k}"))
                .name_server(ns)
                .send_timeout(Duration::from_secs(3))
                .build()
                .await
                .unwrap();
            let (stop, acks, admin) = (stop.clone(), acks.clone(), g.admin.clone());
            producers.push(tokio::spawn(async move {
                let mut i = 0;
                while !stop.load(Ordering::Acquire) {
                    let body = format!("p{k}-{i}");
                    i += 1;
                    match p.send(Message::new(TOPIC, body.clone())).await {
                        Ok(r) if r.status == SendStatus::SendOk => {
                            let stored_by =
                                rmq_common::msg_id::decode_offset_msg_id(&r.offset_msg_id)
                                    .map(|(a, _)| a.to_string())
                                    .unwrap_or_default();
                            acks.lock().push(Ack {
                                body,
                                offset_msg_id: r.offset_msg_id.clone(),
                                at: Instant::now(),
                                stored_by,
                            });
                        }
                        // Stored, not acknowledged as replicated: nothing to wait for.
                        Ok(_) => {}
                        // No master to take it: go on once the name server routes one (the
                        // old master until it is unregistered, then its successor).
                        Err(_) => {
                            until("a master routed for the topic", || master_routed(&admin)).await
                        }
                    }
                }
                p.shutdown().await;
            }));
        }
        let seen: Arc<Mutex<BTreeMap<(i32, i64), String>>> = Arc::default();
        let clash: Arc<Mutex<Vec<String>>> = Arc::default();
        let mut consumers = Vec::new();
        for c in 0..2 {
            let (sink, clash) = (seen.clone(), clash.clone());
            consumers.push(
                PushConsumer::builder()
                    .group("CG-netns")
                    .instance_name(format!("c{c}"))
                    .name_server(ns)
                    .consume_from(ConsumeFrom::FirstOffset)
                    .rebalance_interval(Duration::from_millis(500))
                    .subscribe(TOPIC, "*")
                    .listener_concurrently(move |msgs| {
                        let mut g = sink.lock();
                        for m in msgs {
                            let body = String::from_utf8_lossy(&m.body).into_owned();
                            if let Some(old) = g.insert((m.queue_id, m.queue_offset), body.clone())
                            {
                                if old != body {
                                    clash.lock().push(format!(
                                        "{}/{}: {old} vs {body}",
                                        m.queue_id, m.queue_offset
                                    ));
                                }
                            }
                        }
                        ConsumeConcurrentlyStatus::ConsumeSuccess
                    })
                    .build()
                    .await
                    .unwrap(),
            );
        }
        Load {
            stop,
            acks,
            producers,
            consumers,
            seen,
            clash,
        }
    }

    pub fn acked(&self) -> usize {
        self.acks.lock().len()
    }

    /// Waits until `n` more sends than now are acknowledged.
    pub async fn wait_more_acks(&self, n: usize, what: &str) {
        let target = self.acked() + n;
        until(what, || async { (self.acked() >= target).then_some(()) }).await;
    }

    /// The first acknowledgement after `since` of a message stored by `addr`.
    pub fn first_ack_by(&self, addr: &str, since: Instant) -> Option<Instant> {
        self.acks
            .lock()
            .iter()
            .find(|a| a.at > since && a.stored_by == addr)
            .map(|a| a.at)
    }

    /// Waits for an acknowledgement by `addr` after `since`; the time from `since` to it.
    pub async fn recovery(&self, addr: &str, since: Instant) -> Duration {
        let at = until(&format!("a send acknowledged by {addr}"), || async {
            self.first_ack_by(addr, since)
        })
        .await;
        at.duration_since(since)
    }

    /// Stops producers and consumers without checking anything.
    pub async fn shutdown(mut self) {
        self.stop_producers().await;
        for c in self.consumers {
            c.shutdown().await;
        }
    }

    /// Stops the producers (each finishes the send it is in).
    pub async fn stop_producers(&mut self) {
        self.stop.store(true, Ordering::Release);
        for p in self.producers.drain(..) {
            p.await.unwrap();
        }
    }

    /// After [`Load::stop_producers`]: waits until the consumers have received every
    /// acknowledged message, and checks what they got: one body per queue offset, each
    /// acknowledged message at one offset only, each producer's messages in send order within
    /// a queue. Returns the number of acknowledged sends.
    pub async fn check(self) -> usize {
        assert!(self.producers.is_empty(), "stop the producers first");
        let acked: BTreeSet<String> = self.acks.lock().iter().map(|a| a.body.clone()).collect();
        let seen = self.seen.clone();
        let missing = || -> Vec<String> {
            let got: BTreeSet<String> = seen.lock().values().cloned().collect();
            acked.difference(&got).cloned().collect()
        };
        let consumed = poll_within(Duration::from_secs(90), || {
            let done = missing().is_empty();
            async move { done.then_some(()) }
        })
        .await;
        if consumed.is_none() {
            let m = missing();
            let acks = self.acks.lock();
            let detail: Vec<&Ack> = acks
                .iter()
                .filter(|a| m.contains(&a.body))
                .take(20)
                .collect();
            panic!("{} acknowledged sends never consumed: {detail:?}", m.len());
        }
        for c in self.consumers {
            c.shutdown().await;
        }
        assert!(self.clash.lock().is_empty(), "{:?}", self.clash.lock());
        let seen = self.seen.lock().clone();
        let mut offsets: BTreeMap<&str, Vec<(i32, i64)>> = BTreeMap::new();
        for (at, body) in &seen {
            offsets.entry(body.as_str()).or_default().push(*at);
        }
        let twice: Vec<_> = offsets
            .iter()
            .filter(|(b, at)| at.len() > 1 && acked.contains(**b))
            .collect();
        assert!(
            twice.is_empty(),
            "acknowledged messages at two queue offsets: {twice:?}"
        );
        // Per queue, in offset order, each producer's sequence numbers only grow.
        let mut last: BTreeMap<(i32, &str), u64> = BTreeMap::new();
        for ((queue, offset), body) in &seen {
            let (producer, seq) = body.split_once('-').unwrap();
            let seq: u64 = seq.parse().unwrap();
            if let Some(prev) = last.insert((*queue, producer), seq) {
                assert!(
                    seq > prev,
                    "queue {queue} offset {offset}: {body} after {producer}-{prev}"
                );
            }
        }
        acked.len()
    }
}
