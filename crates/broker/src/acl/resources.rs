//! What a remoting request needs from an account: Apache's `PlainAccessResource.parse` mapping
//! of request codes to topics and groups (with the permission each needs), plus the request codes
//! only an admin account may send. Codes not listed need a valid signature and nothing more.

use rmq_remoting::body::HeartbeatData;
use rmq_remoting::json::JsonBody;
use rmq_remoting::{RemotingCommand, RequestCode};

use super::perm::{PUB, SUB};

const RETRY_PREFIX: &str = "%RETRY%";

/// A topic or a consumer group.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Resource {
    Topic(String),
    Group(String),
}

impl std::fmt::Display for Resource {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Resource::Topic(t) => write!(f, "topic {t}"),
            Resource::Group(g) => write!(f, "group {g}"),
        }
    }
}

/// What one request needs.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Needed {
    pub admin: bool,
    pub resources: Vec<(Resource, u8)>,
}

impl Needed {
    /// Adds `resource`; a group's retry topic counts as the group, as in Apache.
    pub(crate) fn add(&mut self, resource: Resource, perm: u8) {
        let resource = match resource {
            Resource::Topic(t) => match t.strip_prefix(RETRY_PREFIX) {
                Some(group) => Resource::Group(group.to_owned()),
                None => Resource::Topic(t),
            },
            group => group,
        };
        match &resource {
            Resource::Topic(t) | Resource::Group(t) if t.is_empty() => {}
            _ => self.resources.push((resource, perm)),
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

/// The request codes Apache reserves for admin accounts (`Permission.ADMIN_CODE`), and the
/// batch form of topic creation.
fn admin_only(code: RequestCode) -> bool {
    matches!(
        code,
        RequestCode::UpdateAndCreateTopic
            | RequestCode::UpdateAndCreateTopicList
            | RequestCode::UpdateBrokerConfig
            | RequestCode::DeleteTopicInBroker
            | RequestCode::UpdateAndCreateSubscriptionGroup
            | RequestCode::DeleteSubscriptionGroup
    )
}

/// What `request` needs; an error names a body that cannot be read.
pub fn needed(request: &RemotingCommand) -> Result<Needed, String> {
    let code = request.request_code();
    let field = |name: &str| request.ext_fields.get(name).unwrap_or("").to_owned();
    let mut n = Needed {
        admin: admin_only(code),
        resources: Vec::new(),
    };
    match code {
        RequestCode::SendMessage | RequestCode::SendReplyMessage => {
            n.send(&field("topic"), &field("producerGroup"))
        }
        RequestCode::SendMessageV2
        | RequestCode::SendBatchMessage
        | RequestCode::SendReplyMessageV2 => n.send(&field("b"), &field("a")),
        RequestCode::ConsumerSendMsgBack => n.add(Resource::Group(field("group")), SUB),
        RequestCode::PullMessage
        | RequestCode::LitePullMessage
        | RequestCode::PopMessage
        | RequestCode::AckMessage
        | RequestCode::ChangeMessageInvisibleTime
        | RequestCode::UpdateConsumerOffset => {
            n.add(Resource::Topic(field("topic")), SUB);
            n.add(Resource::Group(field("consumerGroup")), SUB);
        }
        RequestCode::QueryMessage => n.add(Resource::Topic(field("topic")), SUB),
        RequestCode::UnregisterClient | RequestCode::GetConsumerListByGroup => {
            n.add(Resource::Group(field("consumerGroup")), SUB)
        }
        RequestCode::HeartBeat => {
            let data = HeartbeatData::from_json_bytes(&request.body)
                .map_err(|e| format!("the HEART_BEAT body cannot be read: {e}"))?;
            for consumer in &data.consumer_data_set {
                n.add(Resource::Group(consumer.group_name.clone()), SUB);
                for sub in &consumer.subscription_data_set {
                    n.add(Resource::Topic(sub.topic.clone()), SUB);
                }
            }
        }
        _ => {}
    }
    Ok(n)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sends_pulls_and_admin_codes() {
        let send = RemotingCommand::new_request(RequestCode::SendMessageV2)
            .with_ext_field("a", "PG")
            .with_ext_field("b", "T");
        assert_eq!(
            needed(&send).unwrap().resources,
            vec![(Resource::Topic("T".into()), PUB)]
        );
        let back = RemotingCommand::new_request(RequestCode::SendMessageV2)
            .with_ext_field("a", "PG")
            .with_ext_field("b", "%RETRY%G");
        assert_eq!(
            needed(&back).unwrap().resources,
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
            needed(&hb).unwrap().resources,
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
