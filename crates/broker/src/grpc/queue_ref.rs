//! The (group, topic, queue) an offset-based RPC names, checked against this broker: the
//! topic exists here, the queue is one of its read queues, and the queue is this broker's.

use rmq_common::topic::TopicConfig;
use rmq_proto::v2::{Code, MessageQueue, Resource, Status};

use super::metadata::Caller;
use super::status::status;
use crate::context::BrokerContext;

/// A queue of this broker, named as the broker stores it (namespace applied).
pub struct QueueRef {
    pub topic: String,
    pub queue_id: i32,
    pub config: TopicConfig,
}

impl QueueRef {
    pub fn parse(
        ctx: &BrokerContext,
        caller: &Caller,
        mq: Option<&MessageQueue>,
    ) -> Result<QueueRef, Status> {
        let Some(mq) = mq else {
            return Err(status(Code::BadRequest, "the message queue is missing"));
        };
        let bare = mq.topic.as_ref().map_or("", |t| t.name.as_str());
        if bare.is_empty() {
            return Err(status(Code::IllegalTopic, "the topic is empty"));
        }
        let here = ctx.broker_name();
        if let Some(b) = mq
            .broker
            .as_ref()
            .filter(|b| !b.name.is_empty() && b.name != here)
        {
            return Err(status(
                Code::BadRequest,
                format!(
                    "the queue belongs to broker {}, this is broker {here}; call that broker's endpoints from the route",
                    b.name
                ),
            ));
        }
        let topic = caller.namespaced(bare);
        let Some(config) = ctx.topics().get(&topic) else {
            return Err(status(
                Code::TopicNotFound,
                format!("topic {topic} does not exist on broker {here}"),
            ));
        };
        if mq.id < 0 || mq.id >= config.read_queue_nums {
            return Err(status(
                Code::BadRequest,
                format!(
                    "queue {} of topic {topic} does not exist on broker {here}: it has read queues 0..{}",
                    mq.id, config.read_queue_nums
                ),
            ));
        }
        Ok(QueueRef {
            topic,
            queue_id: mq.id,
            config,
        })
    }
}

/// The consumer group a request names, namespaced, or ILLEGAL_CONSUMER_GROUP when empty.
pub fn group_name(caller: &Caller, group: Option<&Resource>) -> Result<String, Status> {
    match group.map_or("", |g| g.name.as_str()) {
        "" => Err(status(
            Code::IllegalConsumerGroup,
            "the consumer group is empty",
        )),
        g => Ok(caller.namespaced(g)),
    }
}
