//! A topic's route turned into what producers and consumers use (protocol.md 8.3, 8.7):
//! publish queues (writable queues of brokers that have a master, brokers sorted by name) and
//! subscribe queues (readable queues of every broker, sorted as Java's `MessageQueue`).
//!
//! Built once per route fetch and shared read-only (`Arc`), so sends never lock the route table.

use std::collections::{BTreeMap, HashMap};
use std::sync::atomic::{AtomicUsize, Ordering};

use rmq_common::{perm, MessageQueue};
use rmq_remoting::body::{BrokerData, TopicRouteData, MASTER_ID};

/// Queue count Java's producer uses for a topic auto-created from `TBW102`
/// (`defaultTopicQueueNums`).
pub const DEFAULT_TOPIC_QUEUE_NUMS: i32 = 4;

/// A topic's route, as producers and consumers see it.
#[derive(Debug)]
pub struct TopicRoute {
    pub data: TopicRouteData,
    /// Writable queues on brokers with a master, in broker-name order.
    pub publish_queues: Vec<MessageQueue>,
    /// Readable queues on every broker, sorted.
    pub subscribe_queues: Vec<MessageQueue>,
    /// Broker name to its addresses by broker id.
    pub brokers: HashMap<String, BTreeMap<i64, String>>,
    /// Built from the `TBW102` template because the topic does not exist yet.
    pub auto_create: bool,
    /// Round-robin position for queue selection.
    pub(crate) next_queue: AtomicUsize,
}

impl TopicRoute {
    /// The route of `topic` from its route data.
    pub fn new(topic: &str, data: TopicRouteData) -> Self {
        Self::build(topic, data, false)
    }

    /// A route for a topic that does not exist yet, from the `TBW102` template route: at most
    /// [`DEFAULT_TOPIC_QUEUE_NUMS`] queues per broker, so the first send auto-creates the topic.
    pub fn from_template(topic: &str, mut template: TopicRouteData) -> Self {
        for q in &mut template.queue_datas {
            q.read_queue_nums = q.read_queue_nums.min(DEFAULT_TOPIC_QUEUE_NUMS);
            q.write_queue_nums = q.write_queue_nums.min(DEFAULT_TOPIC_QUEUE_NUMS);
        }
        Self::build(topic, template, true)
    }

    fn build(topic: &str, data: TopicRouteData, auto_create: bool) -> Self {
        let brokers: HashMap<String, BTreeMap<i64, String>> = data
            .broker_datas
            .iter()
            .map(|b| (b.broker_name.clone(), b.broker_addrs.clone()))
            .collect();
        let has_master = |name: &str| {
            brokers
                .get(name)
                .is_some_and(|a| a.contains_key(&MASTER_ID))
        };

        let mut queue_datas: Vec<_> = data.queue_datas.iter().collect();
        queue_datas.sort_by(|a, b| a.broker_name.cmp(&b.broker_name));
        let mut publish_queues = Vec::new();
        for q in &queue_datas {
            if perm::is_writeable(q.perm) && has_master(&q.broker_name) {
                for id in 0..q.write_queue_nums.max(0) {
                    publish_queues.push(MessageQueue::new(topic, q.broker_name.clone(), id));
                }
            }
        }
        let mut subscribe_queues = Vec::new();
        for q in &queue_datas {
            if perm::is_readable(q.perm) {
                for id in 0..q.read_queue_nums.max(0) {
                    subscribe_queues.push(MessageQueue::new(topic, q.broker_name.clone(), id));
                }
            }
        }
        subscribe_queues.sort();
        TopicRoute {
            data,
            publish_queues,
            subscribe_queues,
            brokers,
            auto_create,
            next_queue: AtomicUsize::new(0),
        }
    }

    /// The master address of `broker_name`, if the route lists one.
    /// Where to read `broker_name`'s queues: its master, or while the master is gone from the
    /// route its lowest-id slave (`findBrokerAddressInSubscribe`). The flag says "master".
    pub fn subscribe_addr(&self, broker_name: &str) -> Option<(&str, bool)> {
        let addrs = self.brokers.get(broker_name)?;
        if let Some(m) = addrs.get(&MASTER_ID) {
            return Some((m.as_str(), true));
        }
        addrs.values().next().map(|a| (a.as_str(), false))
    }

    pub fn master_addr(&self, broker_name: &str) -> Option<&str> {
        self.brokers
            .get(broker_name)
            .and_then(|a| a.get(&MASTER_ID))
            .map(String::as_str)
    }

    /// Advances the round-robin position and returns the previous one.
    pub(crate) fn next_index(&self) -> usize {
        self.next_queue.fetch_add(1, Ordering::Relaxed)
    }
}

/// Whether two route datas describe the same route (ignoring order), to skip needless rebuilds.
pub fn same_route(a: &TopicRouteData, b: &TopicRouteData) -> bool {
    let key = |d: &TopicRouteData| {
        let mut q = d.queue_datas.clone();
        q.sort_by(|x, y| x.broker_name.cmp(&y.broker_name));
        let mut bd: Vec<BrokerData> = d.broker_datas.clone();
        bd.sort_by(|x, y| x.broker_name.cmp(&y.broker_name));
        (q, bd)
    };
    key(a) == key(b)
}

#[cfg(test)]
mod tests {
    use super::*;
    use rmq_remoting::body::QueueData;

    fn broker(name: &str, addrs: &[(i64, &str)]) -> BrokerData {
        BrokerData {
            broker_addrs: addrs.iter().map(|(i, a)| (*i, (*a).to_owned())).collect(),
            broker_name: name.into(),
            cluster: "C".into(),
            ..Default::default()
        }
    }

    fn queues(name: &str, perm: i32, r: i32, w: i32) -> QueueData {
        QueueData {
            broker_name: name.into(),
            perm,
            read_queue_nums: r,
            write_queue_nums: w,
            topic_sys_flag: 0,
        }
    }

    #[test]
    fn publish_and_subscribe_queues() {
        let data = TopicRouteData {
            broker_datas: vec![
                broker("b", &[(0, "2.2.2.2:10911")]),
                broker("a", &[(0, "1.1.1.1:10911"), (1, "1.1.1.2:10911")]),
                broker("c", &[(1, "3.3.3.3:10911")]), // slave only
                broker("d", &[(0, "4.4.4.4:10911")]),
            ],
            queue_datas: vec![
                queues("b", 6, 2, 2),
                queues("a", 6, 3, 2),
                queues("c", 6, 1, 1),
                queues("d", perm::READ, 1, 1), // read-only
            ],
            ..Default::default()
        };
        let r = TopicRoute::new("T", data);
        let ids: Vec<_> = r
            .publish_queues
            .iter()
            .map(|q| format!("{}{}", q.broker_name, q.queue_id))
            .collect();
        assert_eq!(ids, ["a0", "a1", "b0", "b1"]);
        let subs: Vec<_> = r
            .subscribe_queues
            .iter()
            .map(|q| format!("{}{}", q.broker_name, q.queue_id))
            .collect();
        assert_eq!(subs, ["a0", "a1", "a2", "b0", "b1", "c0", "d0"]);
        assert_eq!(r.master_addr("a"), Some("1.1.1.1:10911"));
        assert_eq!(r.master_addr("c"), None);
        assert_eq!(r.subscribe_addr("a"), Some(("1.1.1.1:10911", true)));
        assert_eq!(r.subscribe_addr("c"), Some(("3.3.3.3:10911", false)));
        assert_eq!(r.subscribe_addr("zz"), None);
        assert!(!r.auto_create);
    }

    #[test]
    fn template_route_caps_queue_count() {
        let data = TopicRouteData {
            broker_datas: vec![broker("a", &[(0, "1.1.1.1:10911")])],
            queue_datas: vec![queues("a", 7, 8, 8)],
            ..Default::default()
        };
        let r = TopicRoute::from_template("New", data.clone());
        assert!(r.auto_create);
        assert_eq!(r.publish_queues.len(), 4);
        assert!(r.publish_queues.iter().all(|q| q.topic == "New"));
        let mut reordered = data.clone();
        reordered.broker_datas.reverse();
        assert!(same_route(&data, &reordered));
    }
}
