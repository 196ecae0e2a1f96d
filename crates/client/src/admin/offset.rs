//! Offset calls: a queue's offset range, a group's committed offsets per queue, search by time,
//! progress, the broker-wide offset tables, and reset.
//!
//! Reset follows Apache's `mqadmin resetOffsetByTime`: first INVOKE_BROKER_TO_RESET_OFFSET
//! (222), with which the broker computes the offsets and moves the group (rmq's and 5.x brokers
//! commit them and move each consumer at its next pull; 4.x brokers push them to the running
//! consumers); where a broker cannot (a 4.x broker with no consumer online, or one that does not
//! know the code) it falls back to writing the committed offsets with UPDATE_CONSUMER_OFFSET,
//! which a running consumer would overwrite on its next commit.

use rmq_common::MessageQueue;
use rmq_remoting::body::{
    ConsumerOffsetSerializeWrapper, DelayOffsetSerializeWrapper, OffsetWrapper, ResetOffsetBody,
};
use rmq_remoting::header::{
    GetMaxOffsetRequestHeader, GetMaxOffsetResponseHeader, GetMinOffsetRequestHeader,
    GetMinOffsetResponseHeader, QueryConsumerOffsetRequestHeader,
    QueryConsumerOffsetResponseHeader, ResetOffsetRequestHeader, SearchOffsetRequestHeader,
    SearchOffsetResponseHeader, UpdateConsumerOffsetRequestHeader,
};
use rmq_remoting::{RequestCode, ResponseCode};

use super::rpc::{bare, request};
use super::Admin;
use crate::error::{ClientError, Result};

/// What a reset did to one queue.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QueueReset {
    /// The queue.
    pub queue: MessageQueue,
    /// The committed offset before, when it was read (the fallback path reads it).
    pub old_offset: Option<i64>,
    /// The offset the group now resumes from.
    pub new_offset: i64,
    /// Whether the broker reset the group itself (222), rather than the committed offset being
    /// overwritten by this client.
    pub pushed_to_consumers: bool,
}

impl Admin {
    /// QUERY_CONSUMER_OFFSET (14) on one broker; `None` when the group has no offset there.
    pub async fn query_consumer_offset(
        &self,
        addr: &str,
        group: &str,
        topic: &str,
        queue_id: i32,
    ) -> Result<Option<i64>> {
        let h = QueryConsumerOffsetRequestHeader {
            consumer_group: group.to_owned(),
            topic: topic.to_owned(),
            queue_id,
            set_zero_if_not_found: Some(false),
            ..Default::default()
        };
        let req = request(RequestCode::QueryConsumerOffset, &h);
        match self
            .call_or_absent(addr, req, &[ResponseCode::QueryNotFound])
            .await?
        {
            Some(r) => Ok(Some(
                r.header::<QueryConsumerOffsetResponseHeader>()?.offset,
            )),
            None => Ok(None),
        }
    }

    /// UPDATE_CONSUMER_OFFSET (15) on one broker, waiting for its answer.
    pub async fn update_consumer_offset(
        &self,
        addr: &str,
        group: &str,
        topic: &str,
        queue_id: i32,
        offset: i64,
    ) -> Result<()> {
        let h = UpdateConsumerOffsetRequestHeader {
            consumer_group: group.to_owned(),
            topic: topic.to_owned(),
            queue_id,
            commit_offset: offset,
            ..Default::default()
        };
        let req = request(RequestCode::UpdateConsumerOffset, &h);
        self.call(addr, req).await.map(drop)
    }

    /// GET_MIN_OFFSET (31) and GET_MAX_OFFSET (30): the first offset a queue on `addr` holds
    /// and the next one to be written.
    pub async fn queue_offset_range(
        &self,
        addr: &str,
        topic: &str,
        queue_id: i32,
    ) -> Result<(i64, i64)> {
        let min = GetMinOffsetRequestHeader {
            topic: topic.to_owned(),
            queue_id,
            ..Default::default()
        };
        let max = GetMaxOffsetRequestHeader {
            topic: topic.to_owned(),
            queue_id,
            ..Default::default()
        };
        let min = self
            .call(addr, request(RequestCode::GetMinOffset, &min))
            .await?
            .header::<GetMinOffsetResponseHeader>()?
            .offset;
        let max = self
            .call(addr, request(RequestCode::GetMaxOffset, &max))
            .await?
            .header::<GetMaxOffsetResponseHeader>()?
            .offset;
        Ok((min, max))
    }

    /// SEARCH_OFFSET_BY_TIMESTAMP (29): the first offset stored at or after `timestamp_ms`.
    pub async fn search_offset(
        &self,
        addr: &str,
        topic: &str,
        queue_id: i32,
        timestamp_ms: i64,
    ) -> Result<i64> {
        let h = SearchOffsetRequestHeader {
            topic: topic.to_owned(),
            queue_id,
            timestamp: timestamp_ms,
            ..Default::default()
        };
        let reply = self
            .call(addr, request(RequestCode::SearchOffsetByTimestamp, &h))
            .await?;
        Ok(reply.header::<SearchOffsetResponseHeader>()?.offset)
    }

    /// GET_ALL_CONSUMER_OFFSET (43): every committed offset of one broker.
    pub async fn all_consumer_offsets(&self, addr: &str) -> Result<ConsumerOffsetSerializeWrapper> {
        self.call(addr, bare(RequestCode::GetAllConsumerOffset))
            .await?
            .body()
    }

    /// GET_ALL_DELAY_OFFSET (45): the delivery progress of every delay level of one broker.
    pub async fn all_delay_offsets(&self, addr: &str) -> Result<DelayOffsetSerializeWrapper> {
        self.call(addr, bare(RequestCode::GetAllDelayOffset))
            .await?
            .body()
    }

    /// Consumer progress computed from GET_MAX_OFFSET and QUERY_CONSUMER_OFFSET per queue
    /// (works with brokers that lack GET_CONSUME_STATS). `consumer_offset` is -1 when none is
    /// stored.
    pub async fn consumer_progress(
        &self,
        group: &str,
        topic: &str,
    ) -> Result<Vec<(MessageQueue, OffsetWrapper)>> {
        let route =
            self.instance
                .update_route(topic)
                .await?
                .ok_or_else(|| ClientError::NoRoute {
                    topic: topic.to_owned(),
                    name_servers: self.instance.name_server_list(),
                })?;
        let mut out = Vec::with_capacity(route.subscribe_queues.len());
        for mq in &route.subscribe_queues {
            let broker_offset = self.instance.max_offset(mq).await?;
            let consumer_offset = self
                .instance
                .query_consumer_offset(group, mq)
                .await?
                .unwrap_or(-1);
            out.push((
                mq.clone(),
                OffsetWrapper {
                    broker_offset,
                    consumer_offset,
                    ..Default::default()
                },
            ));
        }
        Ok(out)
    }

    /// Resets `group`'s offsets on `topic` to the first message stored at or after
    /// `timestamp_ms`, on every master of the topic. Without `force`, a queue only moves
    /// backwards. See the module doc for the two paths.
    pub async fn reset_offset_by_time(
        &self,
        group: &str,
        topic: &str,
        timestamp_ms: i64,
        force: bool,
    ) -> Result<Vec<QueueReset>> {
        let route = self.topic_route(topic).await?;
        let mut out = Vec::new();
        let mut brokers: Vec<_> = route.broker_datas.iter().collect();
        brokers.sort_by(|a, b| a.broker_name.cmp(&b.broker_name));
        for b in brokers {
            let Some(addr) = b.master_addr() else {
                continue;
            };
            let h = ResetOffsetRequestHeader {
                topic: topic.to_owned(),
                group: group.to_owned(),
                queue_id: Some(-1),
                timestamp: timestamp_ms,
                is_force: force,
                ..Default::default()
            };
            let req = request(RequestCode::InvokeBrokerToResetOffset, &h);
            let fallback = [
                ResponseCode::ConsumerNotOnline,
                ResponseCode::RequestCodeNotSupported,
            ];
            if let Some(reply) = self.call_or_absent(addr, req, &fallback).await? {
                let body: ResetOffsetBody = reply.body()?;
                out.extend(
                    body.offset_table
                        .into_iter()
                        .map(|(queue, new_offset)| QueueReset {
                            queue,
                            old_offset: None,
                            new_offset,
                            pushed_to_consumers: true,
                        }),
                );
                continue;
            }
            let queues = route
                .queue_datas
                .iter()
                .find(|q| q.broker_name == b.broker_name)
                .map_or(0, |q| q.read_queue_nums);
            for queue_id in 0..queues {
                let found = self
                    .search_offset(addr, topic, queue_id, timestamp_ms)
                    .await?;
                let old_offset = self
                    .query_consumer_offset(addr, group, topic, queue_id)
                    .await?;
                let new_offset = match old_offset {
                    Some(old) if !force && found >= old => old,
                    _ => found,
                };
                self.update_consumer_offset(addr, group, topic, queue_id, new_offset)
                    .await?;
                out.push(QueueReset {
                    queue: MessageQueue::new(topic, b.broker_name.clone(), queue_id),
                    old_offset,
                    new_offset,
                    pushed_to_consumers: false,
                });
            }
        }
        Ok(out)
    }
}
