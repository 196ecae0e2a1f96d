//! What a remoting request needs: Apache's mapping of request codes to the topics and groups
//! they touch, with the ACL 1.0 permission (`PlainAccessResource.parse`) and the ACL 2.0
//! actions (`DefaultAuthorizationContextBuilder`, the `@RocketMQAction` of each header) each
//! needs, plus the request codes only a 1.0 admin account may send. Codes not listed need a
//! valid signature and nothing more.

use rmq_remoting::body::{HeartbeatData, LockBatchRequestBody, SubscriptionGroupConfig};
use rmq_remoting::json::JsonBody;
use rmq_remoting::{RemotingCommand, RequestCode};

use super::action::Actions;
use super::perm::{ANY, PUB, SUB};

const RETRY_PREFIX: &str = "%RETRY%";

/// A topic, a consumer group, or the broker's cluster (2.0 admin requests).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Resource {
    Topic(String),
    Group(String),
    Cluster,
}

impl std::fmt::Display for Resource {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Resource::Topic(t) => write!(f, "topic {t}"),
            Resource::Group(g) => write!(f, "group {g}"),
            Resource::Cluster => f.write_str("the cluster"),
        }
    }
}

/// One resource a request touches: the 1.0 permission it needs (0: 1.0 does not check it) and
/// the 2.0 actions, any one of which will do (none: 2.0 does not check it).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Need {
    pub resource: Resource,
    pub perm: u8,
    pub actions: Actions,
}

/// What one request needs.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Needed {
    /// ACL 1.0: only an admin account may send it.
    pub admin: bool,
    pub resources: Vec<Need>,
}

/// The 2.0 actions that stand for a 1.0 permission.
fn actions_of(perm: u8) -> Actions {
    match perm {
        PUB => Actions::PUB,
        SUB => Actions::SUB,
        ANY => Actions::PUB.or(Actions::SUB).or(Actions::GET),
        _ => Actions::PUB.or(Actions::SUB),
    }
}

impl Needed {
    /// Adds `resource` with a 1.0 permission and the 2.0 action that matches it.
    pub(crate) fn add(&mut self, resource: Resource, perm: u8) {
        self.add_as(resource, perm, actions_of(perm));
    }

    /// Adds `resource` for ACL 2.0 only.
    pub(crate) fn add_v2(&mut self, resource: Resource, actions: Actions) {
        self.add_as(resource, 0, actions);
    }

    /// Adds `resource`; a group's retry topic counts as the group, as in Apache; an empty name
    /// is left out.
    pub(crate) fn add_as(&mut self, resource: Resource, perm: u8, actions: Actions) {
        let resource = match resource {
            Resource::Topic(t) => match t.strip_prefix(RETRY_PREFIX) {
                Some(group) => Resource::Group(group.to_owned()),
                None => Resource::Topic(t),
            },
            other => other,
        };
        match &resource {
            Resource::Topic(t) | Resource::Group(t) if t.is_empty() => {}
            _ => self.resources.push(Need {
                resource,
                perm,
                actions,
            }),
        }
    }

    /// A send to `topic`: PUB on it, or SUB on the group when it is a group's retry topic
    /// (a consumer sending a message back).
    fn send(&mut self, topic: &str, group: &str) {
        match topic.strip_prefix(RETRY_PREFIX) {
            Some(retry_group) if !retry_group.is_empty() => {
                self.add(Resource::Group(retry_group.to_owned()), SUB)
            }
            Some(_) => self.add(Resource::Group(group.to_owned()), SUB),
            None => self.add(Resource::Topic(topic.to_owned()), PUB),
        }
    }
}

/// The request codes Apache reserves for 1.0 admin accounts (`Permission.ADMIN_CODE`), the
/// batch form of topic creation, the two that delete store files on request, the codes that edit or reveal `plain_acl.yml` (secrets
/// included), and the 2.0 user and ACL management codes.
fn admin_only(code: RequestCode) -> bool {
    matches!(
        code,
        RequestCode::UpdateAndCreateTopic
            | RequestCode::UpdateAndCreateTopicList
            | RequestCode::UpdateBrokerConfig
            | RequestCode::DeleteTopicInBroker
            | RequestCode::DeleteExpiredCommitlog
            | RequestCode::CleanExpiredConsumequeue
            | RequestCode::UpdateAndCreateSubscriptionGroup
            | RequestCode::DeleteSubscriptionGroup
            | RequestCode::AuthCreateUser
            | RequestCode::AuthUpdateUser
            | RequestCode::AuthDeleteUser
            | RequestCode::AuthGetUser
            | RequestCode::AuthListUser
            | RequestCode::AuthCreateAcl
            | RequestCode::AuthUpdateAcl
            | RequestCode::AuthDeleteAcl
            | RequestCode::AuthGetAcl
            | RequestCode::AuthListAcl
            | RequestCode::UpdateAndCreateAclConfig
            | RequestCode::DeleteAclConfig
            | RequestCode::UpdateGlobalWhiteAddrsConfig
            | RequestCode::GetBrokerClusterAclConfig
    )
}

/// What `request` needs; an error names a body that cannot be read.
pub fn needed(request: &RemotingCommand) -> Result<Needed, String> {
    use RequestCode as C;
    let code = request.request_code();
    let field = |name: &str| request.ext_fields.get(name).unwrap_or("").to_owned();
    let topic = |name: &str| Resource::Topic(field(name));
    let group = |name: &str| Resource::Group(field(name));
    let sub_or = |a: Actions| Actions::SUB.or(a);
    let mut n = Needed {
        admin: admin_only(code),
        resources: Vec::new(),
    };
    match code {
        C::SendMessage | C::SendReplyMessage => n.send(&field("topic"), &field("producerGroup")),
        C::SendMessageV2 | C::SendBatchMessage | C::SendReplyMessageV2 => {
            n.send(&field("b"), &field("a"))
        }
        C::ConsumerSendMsgBack => n.add(group("group"), SUB),
        C::PullMessage
        | C::LitePullMessage
        | C::PopMessage
        | C::AckMessage
        | C::ChangeMessageInvisibleTime => {
            n.add(topic("topic"), SUB);
            n.add(group("consumerGroup"), SUB);
        }
        C::UpdateConsumerOffset => {
            n.add_as(topic("topic"), SUB, sub_or(Actions::UPDATE));
            n.add_as(group("consumerGroup"), SUB, sub_or(Actions::UPDATE));
        }
        C::QueryConsumerOffset => {
            n.add_v2(topic("topic"), sub_or(Actions::GET));
            n.add_v2(group("consumerGroup"), sub_or(Actions::GET));
        }
        C::QueryMessage => n.add_as(topic("topic"), SUB, sub_or(Actions::GET)),
        C::UnregisterClient => n.add(group("consumerGroup"), SUB),
        C::GetConsumerListByGroup => n.add_as(group("consumerGroup"), SUB, sub_or(Actions::GET)),
        C::EndTransaction => n.add_v2(topic("topic"), Actions::PUB),
        C::HeartBeat => {
            let data = HeartbeatData::from_json_bytes(&request.body)
                .map_err(|e| format!("the HEART_BEAT body cannot be read: {e}"))?;
            for consumer in &data.consumer_data_set {
                n.add(Resource::Group(consumer.group_name.clone()), SUB);
                for sub in &consumer.subscription_data_set {
                    n.add(Resource::Topic(sub.topic.clone()), SUB);
                }
            }
        }
        C::LockBatchMq | C::UnlockBatchMq => {
            let body = LockBatchRequestBody::from_json_bytes(&request.body)
                .map_err(|e| format!("the {} body cannot be read: {e}", code.name()))?;
            n.add_v2(Resource::Group(body.consumer_group), Actions::SUB);
            for mq in body.mq_set {
                n.add_v2(Resource::Topic(mq.topic), Actions::SUB);
            }
        }
        // Offsets and times of a topic's queues: consumers ask them, so Sub will do too.
        C::GetMaxOffset
        | C::GetMinOffset
        | C::GetEarliestMsgStoretime
        | C::SearchOffsetByTimestamp => n.add_v2(topic("topic"), sub_or(Actions::GET)),
        C::GetTopicConfig | C::GetTopicStatsInfo | C::QueryTopicConsumeByWho => {
            n.add_v2(topic("topic"), Actions::GET)
        }
        C::GetConsumeStats | C::GetConsumerConnectionList | C::GetConsumerRunningInfo => {
            n.add_v2(group("consumerGroup"), Actions::GET)
        }
        C::UpdateAndCreateTopic => n.add_v2(topic("topic"), Actions::CREATE),
        C::DeleteTopicInBroker => n.add_v2(topic("topic"), Actions::DELETE),
        C::UpdateAndCreateSubscriptionGroup => {
            let body = SubscriptionGroupConfig::from_json_bytes(&request.body)
                .map_err(|e| format!("the group config body cannot be read: {e}"))?;
            n.add_v2(
                Resource::Group(body.group_name),
                Actions::CREATE.or(Actions::UPDATE),
            );
        }
        C::DeleteSubscriptionGroup => n.add_v2(group("groupName"), Actions::DELETE),
        C::InvokeBrokerToResetOffset => {
            n.add_v2(topic("topic"), Actions::UPDATE);
            n.add_v2(group("group"), Actions::UPDATE);
        }
        C::UpdateAndCreateTopicList
        | C::UpdateBrokerConfig
        | C::AuthCreateUser
        | C::AuthUpdateUser
        | C::AuthDeleteUser
        | C::AuthCreateAcl
        | C::AuthUpdateAcl
        | C::AuthDeleteAcl => n.add_v2(Resource::Cluster, Actions::UPDATE),
        C::AuthGetUser
        | C::AuthListUser
        | C::AuthGetAcl
        | C::AuthListAcl
        | C::GetBrokerConfig
        | C::GetProducerConnectionList
        | C::GetAllTopicConfig
        | C::GetAllSubscriptionGroupConfig
        | C::GetAllConsumerOffset
        | C::GetAllDelayOffset
        | C::ViewBrokerStatsData => n.add_v2(Resource::Cluster, Actions::GET),
        _ => {}
    }
    Ok(n)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pairs(n: &Needed) -> Vec<(Resource, u8)> {
        n.resources
            .iter()
            .map(|need| (need.resource.clone(), need.perm))
            .collect()
    }

    #[test]
    fn v2_actions_follow_apache() {
        let create = RemotingCommand::new_request(RequestCode::UpdateAndCreateTopic)
            .with_ext_field("topic", "T");
        let n = needed(&create).unwrap();
        assert_eq!(n.resources[0].actions, Actions::CREATE);
        assert_eq!(
            n.resources[0].perm, 0,
            "1.0 decides topic creation by the admin flag"
        );
        let users = RemotingCommand::new_request(RequestCode::AuthListUser);
        assert_eq!(
            needed(&users).unwrap().resources[0].resource,
            Resource::Cluster
        );
        let route_like =
            RemotingCommand::new_request(RequestCode::GetMaxOffset).with_ext_field("topic", "T");
        assert!(Actions::SUB.grants(needed(&route_like).unwrap().resources[0].actions));
    }

    #[test]
    fn sends_pulls_and_admin_codes() {
        let send = RemotingCommand::new_request(RequestCode::SendMessageV2)
            .with_ext_field("a", "PG")
            .with_ext_field("b", "T");
        assert_eq!(
            pairs(&needed(&send).unwrap()),
            vec![(Resource::Topic("T".into()), PUB)]
        );
        let back = RemotingCommand::new_request(RequestCode::SendMessageV2)
            .with_ext_field("a", "PG")
            .with_ext_field("b", "%RETRY%G");
        assert_eq!(
            pairs(&needed(&back).unwrap()),
            vec![(Resource::Group("G".into()), SUB)]
        );
        let pull = RemotingCommand::new_request(RequestCode::PullMessage)
            .with_ext_field("topic", "T")
            .with_ext_field("consumerGroup", "G");
        let n = needed(&pull).unwrap();
        assert!(!n.admin);
        assert_eq!(n.resources.len(), 2);
        let create = RemotingCommand::new_request(RequestCode::UpdateAndCreateTopic);
        assert!(needed(&create).unwrap().admin);
    }

    #[test]
    fn a_heartbeat_needs_its_groups_and_topics() {
        let body = br#"{"clientID":"c","consumerDataSet":[{"groupName":"G","subscriptionDataSet":[{"topic":"T","subString":"*"},{"topic":"%RETRY%G","subString":"*"}]}],"producerDataSet":[]}"#;
        let hb = RemotingCommand::new_request(RequestCode::HeartBeat).with_body(&body[..]);
        assert_eq!(
            pairs(&needed(&hb).unwrap()),
            vec![
                (Resource::Group("G".into()), SUB),
                (Resource::Topic("T".into()), SUB),
                (Resource::Group("G".into()), SUB)
            ]
        );
        let bad = RemotingCommand::new_request(RequestCode::HeartBeat).with_body(&b"{"[..]);
        assert!(needed(&bad).unwrap_err().contains("HEART_BEAT"));
    }
}
