//! Master and slave sessions wired through a simulated network (raft-rs style): random
//! appends, partial deliveries, heartbeats and disconnects, then a check that the slave's log is
//! exactly the master's from where it started. No sockets, no clocks, fully reproducible.
#![allow(clippy::unwrap_used)]

use std::time::{Duration, Instant};

use proptest::prelude::*;

use crate::config::HaConfig;
use crate::master_session::{MasterAction, MasterSession};
use crate::slave_session::SlaveSession;
use crate::wire::{encode_report, ReportDecoder, TransferHeader};

const FILE: usize = 64;

#[derive(Debug, Clone)]
enum Op {
    Append(usize),
    MasterSend,
    ToSlave(usize),
    ToMaster(usize),
    Tick(u64),
    Disconnect,
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        (1usize..150).prop_map(Op::Append),
        Just(Op::MasterSend),
        (1usize..80).prop_map(Op::ToSlave),
        (1usize..20).prop_map(Op::ToMaster),
        (1u64..3000).prop_map(Op::Tick),
        Just(Op::Disconnect),
    ]
}

struct Link {
    master: MasterSession,
    decoder: ReportDecoder,
    slave: SlaveSession,
    to_slave: Vec<u8>,
    to_master: Vec<u8>,
}

struct World {
    cfg: HaConfig,
    now: Instant,
    master_log: Vec<u8>,
    slave_start: Option<i64>,
    slave_log: Vec<u8>,
    link: Option<Link>,
    acked: i64,
}

impl World {
    fn slave_max(&self) -> i64 {
        self.slave_start
            .map_or(0, |s| s + self.slave_log.len() as i64)
    }

    fn connect(&mut self) {
        let slave = SlaveSession::new(&self.cfg, self.slave_max(), self.now);
        let first = encode_report(slave.initial_report()).to_vec();
        self.link = Some(Link {
            master: MasterSession::new(&self.cfg, self.now),
            decoder: ReportDecoder::new(),
            slave,
            to_slave: Vec::new(),
            to_master: first,
        });
    }

    fn master_send(&mut self) {
        let Some(l) = self.link.as_mut() else { return };
        let max = self.master_log.len() as i64;
        match l.master.poll(max, FILE, self.now) {
            MasterAction::Transfer { offset, len } => {
                let h = TransferHeader { offset, size: len };
                l.to_slave.extend_from_slice(&h.encode());
                let at = offset as usize;
                l.to_slave.extend_from_slice(&self.master_log[at..at + len]);
                l.master.on_sent(offset, len, self.now);
            }
            MasterAction::Heartbeat { offset } => {
                let h = TransferHeader { offset, size: 0 };
                l.to_slave.extend_from_slice(&h.encode());
                l.master.on_sent(offset, 0, self.now);
            }
            MasterAction::AwaitReport | MasterAction::Idle { .. } => {}
        }
    }

    fn deliver_to_slave(&mut self, n: usize) {
        let Some(l) = self.link.as_mut() else { return };
        let n = n.min(l.to_slave.len());
        let bytes: Vec<u8> = l.to_slave.drain(..n).collect();
        l.slave.feed(&bytes, self.now);
        loop {
            let max = self
                .slave_start
                .map_or(0, |s| s + self.slave_log.len() as i64);
            let l = self.link.as_mut().unwrap();
            match l.slave.next_frame(max) {
                Ok(Some(f)) => {
                    if !f.data.is_empty() {
                        if self.slave_start.is_none() {
                            assert_eq!(f.offset % FILE as i64, 0, "empty slave starts at a file");
                            self.slave_start = Some(f.offset);
                        }
                        self.slave_log.extend_from_slice(&f.data);
                    }
                }
                Ok(None) => break,
                Err(e) => panic!("protocol error on a faithful link: {e}"),
            }
        }
        let max = self.slave_max();
        let l = self.link.as_mut().unwrap();
        if let Some(r) = l.slave.after_append(max, self.now) {
            l.to_master.extend_from_slice(&encode_report(r));
        }
    }

    fn deliver_to_master(&mut self, n: usize) {
        let Some(l) = self.link.as_mut() else { return };
        let n = n.min(l.to_master.len());
        let bytes: Vec<u8> = l.to_master.drain(..n).collect();
        if let Some(r) = l.decoder.feed(&bytes).unwrap() {
            l.master.on_report(r);
            assert!(r <= self.slave_max(), "ACK beyond what the slave has");
            self.acked = self.acked.max(r);
        }
    }

    fn tick(&mut self, ms: u64) {
        self.now += Duration::from_millis(ms);
        let Some(l) = self.link.as_mut() else { return };
        match l.slave.poll_timers(self.now) {
            crate::SlaveTimer::Report(r) => l.to_master.extend_from_slice(&encode_report(r)),
            crate::SlaveTimer::Expired { .. } => self.link = None,
            crate::SlaveTimer::Wait { .. } => {}
        }
    }
}

proptest! {
    #[test]
    fn slave_log_is_always_a_faithful_suffix(
        ops in proptest::collection::vec(op(), 1..120),
        prefill in 0usize..300,
    ) {
        let cfg = HaConfig {
            transfer_batch_size: 40,
            send_heartbeat_interval: Duration::from_millis(1000),
            housekeeping_interval: Duration::from_millis(4000),
            ..HaConfig::default()
        };
        let mut w = World {
            cfg,
            now: Instant::now(),
            master_log: (0..prefill).map(|i| i as u8).collect(),
            slave_start: None,
            slave_log: Vec::new(),
            link: None,
            acked: 0,
        };
        w.connect();
        for op in ops {
            match op {
                Op::Append(n) => {
                    let base = w.master_log.len();
                    w.master_log.extend((0..n).map(|i| (base + i) as u8));
                }
                Op::MasterSend => w.master_send(),
                Op::ToSlave(n) => w.deliver_to_slave(n),
                Op::ToMaster(n) => w.deliver_to_master(n),
                Op::Tick(ms) => w.tick(ms),
                Op::Disconnect => w.link = None,
            }
            if w.link.is_none() {
                w.connect();
            }
        }
        // Let the link drain: everything the master has reaches the slave and is acknowledged.
        for _ in 0..10_000 {
            w.master_send();
            w.deliver_to_slave(usize::MAX);
            w.deliver_to_master(usize::MAX);
        }
        match w.slave_start {
            Some(start) => {
                prop_assert_eq!(&w.slave_log[..], &w.master_log[start as usize..]);
                prop_assert_eq!(w.acked, w.master_log.len() as i64);
            }
            // An empty slave starts at the master's last file boundary: if the master sits
            // exactly on one, there is nothing to send yet.
            None => prop_assert_eq!(w.master_log.len() % FILE, 0),
        }
    }
}
