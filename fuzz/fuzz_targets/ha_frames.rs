//! What crosses the HA port: the master's transfer frames as the slave cuts and checks them
//! (fed in two reads, appended as a slave would), and the slave's reports and hello as the master
//! decodes them and its session decides what to send next.
#![no_main]

use std::time::Instant;

use libfuzzer_sys::fuzz_target;
use rmq_ha::wire::{ReportDecoder, TransferHeader, HEADER_SIZE};
use rmq_ha::{HaConfig, MasterAction, MasterSession, SlaveSession};

fuzz_target!(|data: &[u8]| {
    let Some((&start, data)) = data.split_first() else {
        return;
    };
    // The slave's own CommitLog end: 0 or somewhere the master's frames may or may not match.
    let mut local_max = i64::from(start) * 4096;
    let now = Instant::now();
    let mut s = SlaveSession::new(&HaConfig::default(), local_max, now);
    let split = data.len() / 3;
    for chunk in [&data[..split], &data[split..]] {
        s.feed(chunk, now);
        loop {
            match s.next_frame(local_max) {
                Ok(Some(frame)) => {
                    // A frame is only handed out when it continues the slave's log (an empty
                    // slave starts wherever the master's first frame does).
                    assert!(local_max == 0 || frame.offset == local_max);
                    if !frame.is_heartbeat() {
                        if local_max == 0 {
                            local_max = frame.offset;
                        }
                        local_max += frame.data.len() as i64;
                    }
                }
                Ok(None) => break,
                Err(_) => return,
            }
        }
        let _ = s.after_append(local_max, now);
        let _ = s.master_offset();
    }

    // The master's side: reports decoded, each one driving what is sent next.
    let master_max = i64::from(start) * 1000;
    let mut reports = ReportDecoder::new();
    let mut m = MasterSession::new(&HaConfig::default(), now);
    for chunk in data.chunks(5) {
        match reports.feed(chunk) {
            Ok(Some(offset)) => m.on_report(offset),
            Ok(None) => {}
            Err(_) => break,
        }
        match m.poll(master_max, 4096, now) {
            MasterAction::Transfer { offset, len } => {
                assert!(offset >= 0 && offset < master_max && len > 0);
                assert!(offset + len as i64 <= master_max);
                m.on_sent(offset, len, now);
            }
            MasterAction::Heartbeat { offset } => m.on_sent(offset, 0, now),
            MasterAction::AwaitReport | MasterAction::Idle { .. } => {}
        }
    }
    let _ = reports.broker_id();

    if let Some(h) = data.get(..HEADER_SIZE) {
        let mut b = [0u8; HEADER_SIZE];
        b.copy_from_slice(h);
        if let Ok(t) = TransferHeader::decode(&b) {
            assert_eq!(TransferHeader::decode(&t.encode()).ok(), Some(t));
        }
    }
});
