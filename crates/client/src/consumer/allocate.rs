//! `AllocateMessageQueueAveragely` (protocol.md 8.3): every member sorts the queues and the client
//! ids the same way and takes a contiguous block, so each queue has exactly one owner without any
//! coordination beyond agreeing on the member list.

use rmq_common::MessageQueue;

/// The queues `client_id` owns among `all` queues shared by `clients`. Both inputs are sorted
/// here, so callers may pass them in any order. A client not in `clients` gets nothing.
pub fn allocate_averagely(
    client_id: &str,
    all: &[MessageQueue],
    clients: &[String],
) -> Vec<MessageQueue> {
    let mut mqs = all.to_vec();
    mqs.sort();
    mqs.dedup();
    let mut cids = clients.to_vec();
    cids.sort();
    cids.dedup();
    let Some(index) = cids.iter().position(|c| c == client_id) else {
        return Vec::new();
    };
    let (n, c) = (mqs.len(), cids.len());
    if n == 0 {
        return Vec::new();
    }
    let rem = n % c;
    let avg = if n <= c {
        1
    } else if rem > 0 && index < rem {
        n / c + 1
    } else {
        n / c
    };
    let start = if rem > 0 && index < rem {
        index * avg
    } else {
        index * avg + rem
    };
    let range = avg.min(n.saturating_sub(start));
    mqs.into_iter().skip(start).take(range).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use std::collections::BTreeMap;

    fn queues(brokers: usize, per: i32) -> Vec<MessageQueue> {
        (0..brokers)
            .flat_map(|b| (0..per).map(move |q| MessageQueue::new("T", format!("broker-{b}"), q)))
            .collect()
    }

    #[test]
    fn matches_java_blocks() {
        let mqs = queues(1, 8);
        let cids: Vec<String> = ["c", "a", "b"].iter().map(|s| s.to_string()).collect();
        let ids = |c: &str| -> Vec<i32> {
            allocate_averagely(c, &mqs, &cids)
                .iter()
                .map(|q| q.queue_id)
                .collect()
        };
        // 8 queues, 3 clients: 3, 3, 2 in client-id order.
        assert_eq!(ids("a"), [0, 1, 2]);
        assert_eq!(ids("b"), [3, 4, 5]);
        assert_eq!(ids("c"), [6, 7]);
        assert!(ids("z").is_empty());
        // More clients than queues: one each, the rest nothing.
        let few = queues(1, 2);
        assert_eq!(allocate_averagely("a", &few, &cids).len(), 1);
        assert_eq!(allocate_averagely("c", &few, &cids).len(), 0);
    }

    proptest! {
        #[test]
        fn every_queue_has_exactly_one_owner(
            brokers in 1usize..4,
            per in 0i32..17,
            n_clients in 1usize..9,
            seed in any::<u64>(),
        ) {
            let mqs = queues(brokers, per);
            let cids: Vec<String> = (0..n_clients).map(|i| format!("10.0.0.{i}@{}", seed % 97 + i as u64)).collect();
            let mut owners: BTreeMap<MessageQueue, usize> = BTreeMap::new();
            for c in &cids {
                // Every member sees the lists in its own order; the result must not depend on it.
                let mut shuffled_q = mqs.clone();
                let k = (seed as usize) % shuffled_q.len().max(1);
                shuffled_q.rotate_left(k);
                let mut shuffled_c = cids.clone();
                shuffled_c.reverse();
                let mine = allocate_averagely(c, &shuffled_q, &shuffled_c);
                prop_assert_eq!(&mine, &allocate_averagely(c, &mqs, &cids));
                for q in mine {
                    *owners.entry(q).or_default() += 1;
                }
            }
            prop_assert_eq!(owners.len(), mqs.len());
            prop_assert!(owners.values().all(|n| *n == 1));
        }
    }
}
