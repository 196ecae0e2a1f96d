//! Message lookups: by offset message id, by client id (`UNIQ_KEY`), by key, at a queue
//! offset, and by store-time range.
//!
//! Lookup by id follows Java's `MQAdminImpl`: an id that decodes as an offset message id is
//! read with VIEW_MESSAGE_BY_ID from the store address embedded in it; otherwise (or if that
//! fails) it is taken as a `UNIQ_KEY` and looked up with QUERY_MESSAGE on every broker of the
//! topic. The broker's index matches key hashes only, so results are re-filtered by key here.
//! A time range is read as Apache's console does: search each queue's offsets for the two times,
//! then pull what lies between. A queue is read with [`Admin::pull_queue`], as Apache's
//! `printMsg` reads it with a pull consumer. Every body is returned decompressed.

use rmq_common::msg_id::decode_offset_msg_id;
use rmq_common::record::decode_messages;
use rmq_common::time::now_millis;
use rmq_common::{MessageExt, MessageQueue};
use rmq_remoting::header::{
    pull_sys_flag, PullMessageRequestHeader, PullMessageResponseHeader, QueryMessageRequestHeader,
    ViewMessageRequestHeader, UNIQUE_MSG_QUERY_FLAG,
};
use rmq_remoting::{RequestCode, ResponseCode};

use super::rpc::{bad, request};
use super::Admin;
use crate::compress::decompress_message;
use crate::consumer::pull_result::{process_pull_response, PullResult};
use crate::consumer::subscription::build_subscription;
use crate::error::{ClientError, Result};

/// Consumer group the admin pulls as; it never commits.
const ADMIN_PULL_GROUP: &str = "TOOLS_CONSUMER";
/// Messages per pull when reading a range.
const PULL_BATCH: i32 = 32;

/// What a pull of one queue offset found.
#[derive(Debug)]
pub enum PullOne {
    /// The message at that offset.
    Found(Box<MessageExt>),
    /// No message at that offset; the queue's current range (`-1` when unknown).
    NotFound {
        /// First offset held.
        min_offset: i64,
        /// Next offset to be written.
        max_offset: i64,
    },
}

/// What one pull found: messages, or the queue's range.
enum Pulled {
    Messages(Vec<MessageExt>),
    Nothing { min_offset: i64, max_offset: i64 },
}

impl Admin {
    /// VIEW_MESSAGE_BY_ID (33) on the store address inside an offset message id.
    pub async fn view_message(&self, offset_msg_id: &str) -> Result<MessageExt> {
        let (store, offset) = decode_offset_msg_id(offset_msg_id).ok_or_else(|| {
            ClientError::InvalidMessage(format!("{offset_msg_id:?} is not an offset message id"))
        })?;
        let addr = store.to_string();
        let h = ViewMessageRequestHeader {
            offset,
            ..Default::default()
        };
        let reply = self
            .call(&addr, request(RequestCode::ViewMessageById, &h))
            .await?;
        let mut msgs = decode_messages(reply.raw()).map_err(|e| bad(&addr, e))?;
        let mut m = msgs
            .pop()
            .ok_or_else(|| bad(&addr, "empty VIEW_MESSAGE_BY_ID body"))?;
        decompress_message(&mut m, self.instance.options.max_inflated_body);
        Ok(m)
    }

    /// A message by id: an offset message id first, else a `UNIQ_KEY` in `topic`.
    pub async fn query_message_by_id(&self, topic: &str, id: &str) -> Result<MessageExt> {
        if decode_offset_msg_id(id).is_some() {
            match self.view_message(id).await {
                Ok(m) => return Ok(m),
                Err(e) => tracing::debug!(id, error = %e, "not an offset id here; trying UNIQ_KEY"),
            }
        }
        let found = self.query(topic, id, 32, 0, i64::MAX, true).await?;
        found.into_iter().next().ok_or_else(|| ClientError::Broker {
            addr: self.instance.name_server_list(),
            code: ResponseCode::QueryNotFound,
            remark: format!("no message {id} in topic {topic}"),
        })
    }

    /// QUERY_MESSAGE (12): messages of `topic` whose KEYS contain `key`, stored between the two
    /// times (ms; `i64::MAX` for "until now"), at most `max_num` per broker.
    pub async fn query_message_by_key(
        &self,
        topic: &str,
        key: &str,
        max_num: i32,
        begin_ms: i64,
        end_ms: i64,
    ) -> Result<Vec<MessageExt>> {
        self.query(topic, key, max_num, begin_ms, end_ms, false)
            .await
    }

    /// Messages of `topic` stored in `[begin_ms, end_ms)`, at most `max` in all, queue by queue.
    pub async fn query_message_by_time(
        &self,
        topic: &str,
        begin_ms: i64,
        end_ms: i64,
        max: usize,
    ) -> Result<Vec<MessageExt>> {
        let route = self.topic_route(topic).await?;
        let mut out = Vec::new();
        for b in &route.broker_datas {
            let Some(addr) = b.master_addr() else {
                continue;
            };
            let queues = route
                .queue_datas
                .iter()
                .find(|q| q.broker_name == b.broker_name)
                .map_or(0, |q| q.read_queue_nums);
            for queue_id in 0..queues {
                let mut offset = self.search_offset(addr, topic, queue_id, begin_ms).await?;
                let end = self.search_offset(addr, topic, queue_id, end_ms).await?;
                while offset < end && out.len() < max {
                    let batch = match self
                        .pull_at(addr, topic, queue_id, offset, PULL_BATCH)
                        .await?
                    {
                        Pulled::Messages(m) if !m.is_empty() => m,
                        _ => break,
                    };
                    for mut m in batch {
                        offset = offset.max(m.queue_offset + 1);
                        if (begin_ms..end_ms).contains(&m.store_timestamp) && out.len() < max {
                            decompress_message(&mut m, self.instance.options.max_inflated_body);
                            out.push(m);
                        }
                    }
                }
            }
        }
        Ok(out)
    }

    /// PULL_MESSAGE (11) of the one message at `offset` of a queue on `addr`, without
    /// suspending or committing.
    pub async fn pull_one(
        &self,
        addr: &str,
        topic: &str,
        queue_id: i32,
        offset: i64,
    ) -> Result<PullOne> {
        match self.pull_at(addr, topic, queue_id, offset, 1).await? {
            Pulled::Messages(msgs) => match msgs.into_iter().find(|m| m.queue_offset == offset) {
                Some(mut m) => {
                    decompress_message(&mut m, self.instance.options.max_inflated_body);
                    Ok(PullOne::Found(Box::new(m)))
                }
                None => Err(bad(
                    addr,
                    format!("the pull of offset {offset} returned other offsets"),
                )),
            },
            Pulled::Nothing {
                min_offset,
                max_offset,
            } => Ok(PullOne::NotFound {
                min_offset,
                max_offset,
            }),
        }
    }

    /// PULL_MESSAGE (11) of up to `max` messages of `queue` (on the broker at `addr`) from
    /// `offset`, those matching the tag expression `expression` (`*` or `TagA || TagB`), without
    /// suspending or committing: Java's `DefaultMQPullConsumer.pull`. The status says whether
    /// messages were found, none matched, or the queue ends there; `next_begin_offset` is where
    /// to go on.
    pub async fn pull_queue(
        &self,
        addr: &str,
        queue: &MessageQueue,
        expression: &str,
        offset: i64,
        max: i32,
    ) -> Result<PullResult> {
        let sub = build_subscription(&queue.topic, expression);
        let h = PullMessageRequestHeader {
            consumer_group: ADMIN_PULL_GROUP.to_owned(),
            topic: queue.topic.clone(),
            queue_id: queue.queue_id,
            queue_offset: offset,
            max_msg_nums: max,
            sys_flag: pull_sys_flag::SUBSCRIPTION,
            commit_offset: 0,
            suspend_timeout_millis: 0,
            subscription: Some(sub.sub_string.clone()),
            sub_version: sub.sub_version,
            expression_type: Some(sub.expression_type().to_owned()),
            ..Default::default()
        };
        let resp = self
            .send(addr, request(RequestCode::PullMessage, &h))
            .await?;
        process_pull_response(addr, &resp, &sub, self.instance.options.max_inflated_body)
    }

    async fn pull_at(
        &self,
        addr: &str,
        topic: &str,
        queue_id: i32,
        offset: i64,
        max_nums: i32,
    ) -> Result<Pulled> {
        let h = PullMessageRequestHeader {
            consumer_group: ADMIN_PULL_GROUP.to_owned(),
            topic: topic.to_owned(),
            queue_id,
            queue_offset: offset,
            max_msg_nums: max_nums,
            sys_flag: pull_sys_flag::SUBSCRIPTION,
            commit_offset: 0,
            suspend_timeout_millis: 0,
            subscription: Some("*".to_owned()),
            sub_version: 0,
            expression_type: Some("TAG".to_owned()),
            ..Default::default()
        };
        let resp = self
            .send(addr, request(RequestCode::PullMessage, &h))
            .await?;
        match ResponseCode::from(resp.code) {
            ResponseCode::Success => decode_messages(&resp.body)
                .map(Pulled::Messages)
                .map_err(|e| bad(addr, e)),
            ResponseCode::PullNotFound
            | ResponseCode::PullOffsetMoved
            | ResponseCode::PullRetryImmediately => {
                let (min_offset, max_offset) = resp
                    .decode_header::<PullMessageResponseHeader>()
                    .map_or((-1, -1), |h| (h.min_offset, h.max_offset));
                Ok(Pulled::Nothing {
                    min_offset,
                    max_offset,
                })
            }
            _ => Err(ClientError::from_response(addr, &resp)),
        }
    }

    async fn query(
        &self,
        topic: &str,
        key: &str,
        max_num: i32,
        begin: i64,
        end: i64,
        uniq: bool,
    ) -> Result<Vec<MessageExt>> {
        let route = self.topic_route(topic).await?;
        let end = if end == i64::MAX {
            now_millis() + 60_000
        } else {
            end
        };
        let mut out = Vec::new();
        for b in &route.broker_datas {
            let Some(addr) = b
                .master_addr()
                .or_else(|| b.broker_addrs.values().next().map(String::as_str))
            else {
                continue;
            };
            let h = QueryMessageRequestHeader {
                topic: topic.to_owned(),
                key: key.to_owned(),
                max_num,
                begin_timestamp: begin,
                end_timestamp: end,
                ..Default::default()
            };
            let mut req = request(RequestCode::QueryMessage, &h);
            if uniq {
                req = req.with_ext_field(UNIQUE_MSG_QUERY_FLAG, "true");
            }
            // The broker scans its index; give it more than one RPC's time.
            let timeout = self.instance.options.rpc_timeout * 5;
            let resp = self.instance.invoke(addr, req, timeout).await?;
            match ResponseCode::from(resp.code) {
                ResponseCode::Success => {}
                ResponseCode::QueryNotFound => continue,
                _ => return Err(ClientError::from_response(addr, &resp)),
            }
            for mut m in decode_messages(&resp.body).map_err(|e| bad(addr, e))? {
                let hit = if uniq {
                    m.message.uniq_key() == Some(key)
                } else {
                    m.message.keys().any(|k| k == key)
                };
                if hit && m.message.topic == topic {
                    decompress_message(&mut m, self.instance.options.max_inflated_body);
                    out.push(m);
                }
            }
        }
        Ok(out)
    }
}
