//! The clients connected to this broker (`ConsumerManager` and `ProducerManager`): which
//! connections belong to which consumer and producer groups, what each consumer group subscribes
//! to, and when a group's membership changes (so its members rebalance).
//!
//! A channel is keyed by its connection id; the heartbeat refreshes it, and it leaves its groups
//! when the connection closes, when the client unregisters, or when it stays silent for
//! `channelExpiredTimeout` (120 s).

use std::collections::HashMap;
use std::time::{Duration, Instant};

use parking_lot::RwLock;
use rmq_remoting::body::{ConsumeFromWhere, ConsumeType, MessageModel, SubscriptionData};
use rmq_remoting::{ConnectionHandle, ConnectionId, LanguageCode};

/// One client connection as a group member.
#[derive(Clone, Debug)]
pub struct ClientChannel {
    pub handle: ConnectionHandle,
    pub client_id: String,
    pub language: LanguageCode,
    pub version: i32,
    pub last_update: Instant,
}

/// A consumer group's members and subscriptions.
#[derive(Clone, Debug)]
pub struct ConsumerGroupInfo {
    pub channels: HashMap<ConnectionId, ClientChannel>,
    pub subscriptions: HashMap<String, SubscriptionData>,
    pub consume_type: ConsumeType,
    pub message_model: MessageModel,
    pub consume_from_where: ConsumeFromWhere,
}

/// What a consumer registration changed.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct RegisterOutcome {
    pub new_channel: bool,
    pub subscription_changed: bool,
}

/// Everything needed to register a consumer channel.
pub struct ConsumerRegistration<'a> {
    pub group: &'a str,
    pub channel: ClientChannel,
    pub consume_type: ConsumeType,
    pub message_model: MessageModel,
    pub consume_from_where: ConsumeFromWhere,
    pub subscriptions: Vec<SubscriptionData>,
}

#[derive(Default)]
pub struct ConsumerManager {
    groups: RwLock<HashMap<String, ConsumerGroupInfo>>,
}

impl ConsumerManager {
    /// Registers or refreshes a consumer channel and its group's subscriptions.
    pub fn register(&self, reg: ConsumerRegistration<'_>) -> RegisterOutcome {
        let mut groups = self.groups.write();
        let info = groups
            .entry(reg.group.to_owned())
            .or_insert_with(|| ConsumerGroupInfo {
                channels: HashMap::new(),
                subscriptions: HashMap::new(),
                consume_type: reg.consume_type,
                message_model: reg.message_model,
                consume_from_where: reg.consume_from_where,
            });
        info.consume_type = reg.consume_type;
        info.message_model = reg.message_model;
        info.consume_from_where = reg.consume_from_where;
        let id = reg.channel.handle.id();
        let new_channel = match info.channels.get_mut(&id) {
            Some(existing) => {
                existing.last_update = reg.channel.last_update;
                existing.client_id = reg.channel.client_id;
                false
            }
            None => {
                info.channels.insert(id, reg.channel);
                true
            }
        };
        let mut subscription_changed = false;
        for sub in reg.subscriptions {
            match info.subscriptions.get(&sub.topic) {
                Some(old)
                    if old.sub_string == sub.sub_string
                        && old.expression_type == sub.expression_type =>
                {
                    // Same expression: only keep the newest version.
                    if sub.sub_version > old.sub_version {
                        info.subscriptions.insert(sub.topic.clone(), sub);
                    }
                }
                _ => {
                    subscription_changed = true;
                    info.subscriptions.insert(sub.topic.clone(), sub);
                }
            }
        }
        RegisterOutcome {
            new_channel,
            subscription_changed,
        }
    }

    /// Removes a channel from one group; returns whether it was a member.
    pub fn unregister(&self, group: &str, id: ConnectionId) -> bool {
        let mut groups = self.groups.write();
        let Some(info) = groups.get_mut(group) else {
            return false;
        };
        let removed = info.channels.remove(&id).is_some();
        if info.channels.is_empty() {
            groups.remove(group);
        }
        removed
    }

    /// Removes a closed connection from every group; returns the groups it left.
    pub fn on_connection_closed(&self, id: ConnectionId) -> Vec<String> {
        let mut groups = self.groups.write();
        let mut left = Vec::new();
        groups.retain(|name, info| {
            if info.channels.remove(&id).is_some() {
                left.push(name.clone());
            }
            !info.channels.is_empty()
        });
        left
    }

    /// Removes channels silent for longer than `timeout`; returns (group, channel) pairs removed.
    pub fn expire(&self, now: Instant, timeout: Duration) -> Vec<(String, ClientChannel)> {
        let mut groups = self.groups.write();
        let mut expired = Vec::new();
        groups.retain(|name, info| {
            info.channels.retain(|_, ch| {
                let keep = now.saturating_duration_since(ch.last_update) <= timeout;
                if !keep {
                    expired.push((name.clone(), ch.clone()));
                }
                keep
            });
            !info.channels.is_empty()
        });
        expired
    }

    pub fn group(&self, group: &str) -> Option<ConsumerGroupInfo> {
        self.groups.read().get(group).cloned()
    }

    pub fn subscription(&self, group: &str, topic: &str) -> Option<SubscriptionData> {
        self.groups
            .read()
            .get(group)
            .and_then(|g| g.subscriptions.get(topic).cloned())
    }

    /// Whether the group has registered at all (live members).
    pub fn has_group(&self, group: &str) -> bool {
        self.groups.read().contains_key(group)
    }

    /// Client ids of a group's live members, sorted.
    pub fn client_ids(&self, group: &str) -> Vec<String> {
        let groups = self.groups.read();
        let mut ids: Vec<String> = groups
            .get(group)
            .map(|g| g.channels.values().map(|c| c.client_id.clone()).collect())
            .unwrap_or_default();
        ids.sort();
        ids.dedup();
        ids
    }

    /// The live connection of `client_id` in `group`.
    pub fn channel(&self, group: &str, client_id: &str) -> Option<ClientChannel> {
        self.groups.read().get(group).and_then(|g| {
            g.channels
                .values()
                .find(|c| c.client_id == client_id && !c.handle.is_closed())
                .cloned()
        })
    }

    /// Connections of a group's members, for NOTIFY_CONSUMER_IDS_CHANGED.
    pub fn handles(&self, group: &str) -> Vec<ConnectionHandle> {
        self.groups
            .read()
            .get(group)
            .map(|g| g.channels.values().map(|c| c.handle.clone()).collect())
            .unwrap_or_default()
    }

    /// Groups whose members subscribe to `topic`.
    pub fn groups_subscribing(&self, topic: &str) -> Vec<String> {
        self.groups
            .read()
            .iter()
            .filter(|(_, g)| g.subscriptions.contains_key(topic))
            .map(|(n, _)| n.clone())
            .collect()
    }

    pub fn group_names(&self) -> Vec<String> {
        self.groups.read().keys().cloned().collect()
    }
}

/// Producer groups and their connections (used to ask a producer about a transaction).
#[derive(Default)]
pub struct ProducerManager {
    groups: RwLock<HashMap<String, HashMap<ConnectionId, ClientChannel>>>,
    /// Producers reached another way than a remoting connection (gRPC clients).
    pub check_backs: crate::orphan_check::CheckBacks,
}

impl ProducerManager {
    pub fn register(&self, group: &str, channel: ClientChannel) {
        let mut groups = self.groups.write();
        groups
            .entry(group.to_owned())
            .or_default()
            .insert(channel.handle.id(), channel);
    }

    pub fn unregister(&self, group: &str, id: ConnectionId) {
        let mut groups = self.groups.write();
        if let Some(g) = groups.get_mut(group) {
            g.remove(&id);
            if g.is_empty() {
                groups.remove(group);
            }
        }
    }

    pub fn on_connection_closed(&self, id: ConnectionId) {
        let mut groups = self.groups.write();
        groups.retain(|_, g| {
            g.remove(&id);
            !g.is_empty()
        });
    }

    pub fn expire(&self, now: Instant, timeout: Duration) -> Vec<ClientChannel> {
        let mut groups = self.groups.write();
        let mut expired = Vec::new();
        groups.retain(|_, g| {
            g.retain(|_, ch| {
                let keep = now.saturating_duration_since(ch.last_update) <= timeout;
                if !keep {
                    expired.push(ch.clone());
                }
                keep
            });
            !g.is_empty()
        });
        expired
    }

    /// The group's connections; `None` when the group has none.
    pub fn channels(&self, group: &str) -> Option<Vec<ClientChannel>> {
        self.groups
            .read()
            .get(group)
            .map(|g| g.values().cloned().collect())
    }

    /// The live connection of the producer client `client_id`, whatever its group (Apache's
    /// `findChannel`): where a reply to that client's request goes. A scan of the producers;
    /// replies are rare next to sends.
    pub fn channel_of_client(&self, client_id: &str) -> Option<ClientChannel> {
        self.groups
            .read()
            .values()
            .flat_map(|g| g.values())
            .filter(|c| c.client_id == client_id && !c.handle.is_closed())
            .max_by_key(|c| c.last_update)
            .cloned()
    }

    /// A live connection of the group, if any.
    pub fn any_channel(&self, group: &str) -> Option<ClientChannel> {
        self.groups
            .read()
            .get(group)
            .and_then(|g| g.values().find(|c| !c.handle.is_closed()).cloned())
    }
}
