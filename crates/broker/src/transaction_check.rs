//! The transaction check service (`TransactionalMessageCheckService`): walks the half queue
//! every `transactionCheckInterval`; half messages with an op record are done; those older than
//! `transactionTimeOut` are re-appended with one more check count and their producer group is
//! asked (CHECK_TRANSACTION_STATE); after `transactionCheckMax` checks a message is parked in
//! `TRANS_CHECK_MAX_TIME_TOPIC`. The scan position is the consumer offset of the internal group
//! `CID_RMQ_SYS_TRANS`, so it survives restarts.
//!
//! It is handed the handles it uses, not the broker context.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use rmq_common::message::{decode_properties, encode_properties, keys, Properties};
use rmq_common::record::{encode_record, peek_record, Peek, RecordFields, RecordView};
use rmq_common::time::now_millis;
use rmq_common::topic::RMQ_SYS_TRANS_HALF_TOPIC;
use rmq_remoting::header::CheckTransactionStateRequestHeader;
use rmq_remoting::{RemotingCommand, RequestCode};
use rmq_store::{AcceptAll, MessageStore, PutMessage};
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

use crate::clients::ProducerManager;
use crate::offsets::ConsumerOffsets;
use crate::op_log::OpLog;
use crate::orphan_check::OrphanCheck;
use crate::registration_wanted::RegistrationWanted;
use crate::topics::TopicConfigs;
use crate::transaction::write_op;

/// Internal group whose offset on the half topic is the check service's progress.
pub const CHECK_GROUP: &str = "CID_RMQ_SYS_TRANS";
/// Where messages go after `transactionCheckMax` unanswered checks.
pub const CHECK_MAX_TIME_TOPIC: &str = "TRANS_CHECK_MAX_TIME_TOPIC";

/// What the check service uses.
pub struct TransactionCheck {
    pub store: Arc<MessageStore>,
    pub op_log: Arc<OpLog>,
    /// Holds the scan position as the offset of [`CHECK_GROUP`].
    pub offsets: Arc<ConsumerOffsets>,
    /// Whom to ask about a transaction.
    pub producers: Arc<ProducerManager>,
    /// For creating [`CHECK_MAX_TIME_TOPIC`].
    pub topics: Arc<TopicConfigs>,
    pub registration: RegistrationWanted,
    pub store_host: SocketAddr,
    pub broker_name: String,
    /// `transactionTimeOut`, ms.
    pub timeout_ms: i64,
    /// `transactionCheckMax`.
    pub check_max: i32,
    /// `transactionCheckInterval`.
    pub interval: Duration,
}

impl TransactionCheck {
    /// Starts the check service (masters only), owned by `tasks`.
    /// Restarted after a panic (`supervise.rs`); the scan position is kept in the offsets.
    pub fn start(self, tasks: &TaskTracker, shutdown: CancellationToken) {
        let this = std::sync::Arc::new(self);
        let stop = shutdown.clone();
        crate::supervise::spawn_supervised(
            tasks,
            shutdown,
            "transaction check".into(),
            move || {
                let (this, stop) = (this.clone(), stop.clone());
                async move {
                    loop {
                        tokio::select! {
                            _ = tokio::time::sleep(this.interval) => {}
                            _ = stop.cancelled() => return,
                        }
                        this.check_once().await;
                    }
                }
            },
        );
    }

    /// One pass over the half queue.
    async fn check_once(&self) {
        self.op_log.catch_up(&self.store);
        let half_topic = RMQ_SYS_TRANS_HALF_TOPIC;
        let min = self.store.min_offset_in_queue(half_topic, 0);
        let mut offset = self
            .offsets
            .query(CHECK_GROUP, half_topic, 0)
            .unwrap_or(0)
            .max(min);
        let end = self.store.max_offset_in_queue(half_topic, 0);
        let timeout_ms = self.timeout_ms;
        let check_max = self.check_max;
        let started = now_millis();
        'scan: while offset < end && now_millis() - started < 60_000 {
            let got = self
                .store
                .get_message(half_topic, 0, offset, 32, i32::MAX, &AcceptAll);
            if got.messages.is_empty() {
                if got.next_begin_offset > offset {
                    offset = got.next_begin_offset;
                    continue;
                }
                break;
            }
            for (rec, &half_offset) in got.messages.iter().zip(&got.queue_offsets) {
                if half_offset >= end {
                    break 'scan;
                }
                if self.op_log.is_done(half_offset) {
                    offset = half_offset + 1;
                    continue;
                }
                let Ok(Peek::Record(half)) = peek_record(rec, false) else {
                    offset = half_offset + 1;
                    continue;
                };
                let props = decode_properties(half.properties);
                let immunity_ms = props
                    .get(keys::CHECK_IMMUNITY_TIME_IN_SECONDS)
                    .and_then(|s| s.parse::<i64>().ok())
                    .map_or(timeout_ms, |s| (s * 1000).max(timeout_ms));
                if now_millis() - half.born_timestamp.max(half.store_timestamp) < immunity_ms
                    && !props.contains_key(keys::TRANSACTION_CHECK_TIMES)
                {
                    break 'scan; // younger messages follow
                }
                let times: i32 = props
                    .get(keys::TRANSACTION_CHECK_TIMES)
                    .and_then(|t| t.parse().ok())
                    .unwrap_or(0);
                if times >= check_max {
                    self.park_unresolved(&half, half_offset).await;
                } else if let Err(e) = self.recheck(&half, props, times + 1).await {
                    tracing::warn!(error = %e, "transaction check failed; will retry next round");
                    break 'scan;
                }
                offset = half_offset + 1;
            }
        }
        self.offsets.commit(CHECK_GROUP, half_topic, 0, offset);
        self.op_log.prune_below(offset);
    }

    /// Re-appends the half message with one more check count and asks its producer group.
    async fn recheck(
        &self,
        half: &RecordView<'_>,
        mut props: Properties,
        times: i32,
    ) -> Result<(), String> {
        props.insert(keys::TRANSACTION_CHECK_TIMES.into(), times.to_string());
        let mut again = PutMessage::again(
            half,
            RMQ_SYS_TRANS_HALF_TOPIC.into(),
            0,
            encode_properties(&props),
            self.store_host,
        );
        again.prepared_transaction_offset = 0;
        let a = self.store.put_message(again).await.stored()?;
        let Some(group) = props.get(keys::PGROUP) else {
            return Ok(());
        };
        // The producer sees the message under its real topic.
        let real_topic = props.get(keys::REAL_TOPIC).cloned().unwrap_or_default();
        let Some(channel) = self.producers.any_channel(group) else {
            let check = OrphanCheck {
                real_topic,
                queue_id: props
                    .get(keys::REAL_QID)
                    .and_then(|q| q.parse().ok())
                    .unwrap_or(0),
                message_id: props.get(keys::UNIQ_KEY).cloned().unwrap_or_default(),
                commit_log_offset: a.wrote_offset,
                queue_offset: a.logics_offset,
                properties: props.clone(),
                body: Bytes::copy_from_slice(half.body()),
                compressed: half.sys_flag & rmq_common::sysflag::message::COMPRESSED != 0,
                born_timestamp: half.born_timestamp,
                born_host: half.born_host,
                store_timestamp: a.store_timestamp,
            };
            if !self.producers.check_backs.ask(group, &check) {
                tracing::debug!(group = %group, "no live producer to check a transaction with");
            }
            return Ok(());
        };
        let uniq = props.get(keys::UNIQ_KEY).cloned();
        let body_props = encode_properties(&props);
        let mut body = bytes::BytesMut::new();
        encode_record(
            &RecordFields {
                topic: &real_topic,
                queue_id: props
                    .get(keys::REAL_QID)
                    .and_then(|q| q.parse().ok())
                    .unwrap_or(0),
                flag: half.flag,
                queue_offset: a.logics_offset,
                physical_offset: a.wrote_offset,
                sys_flag: half.sys_flag,
                born_timestamp: half.born_timestamp,
                born_host: half.born_host,
                store_timestamp: a.store_timestamp,
                store_host: self.store_host,
                reconsume_times: half.reconsume_times,
                prepared_transaction_offset: 0,
                body: half.body(),
                properties: &body_props,
            },
            &mut body,
        )
        .map_err(|e| e.to_string())?;
        let header = CheckTransactionStateRequestHeader {
            topic: Some(real_topic),
            tran_state_table_offset: a.logics_offset,
            commit_log_offset: a.wrote_offset,
            msg_id: uniq.clone(),
            transaction_id: uniq,
            offset_msg_id: Some(a.msg_id.clone()),
            rpc: rmq_remoting::header::RpcFields {
                bname: Some(self.broker_name.clone()),
                ..Default::default()
            },
        };
        let cmd = RemotingCommand::request(RequestCode::CheckTransactionState, &header)
            .with_body(body.freeze());
        if let Err(e) = channel.handle.send_oneway(cmd).await {
            tracing::debug!(error = %e, "could not send a transaction check");
        }
        Ok(())
    }

    async fn park_unresolved(&self, half: &RecordView<'_>, half_offset: i64) {
        let msg = PutMessage {
            topic: CHECK_MAX_TIME_TOPIC.into(),
            queue_id: 0,
            flag: half.flag,
            body: Bytes::copy_from_slice(half.body()),
            properties: half.properties.to_owned(),
            sys_flag: half.sys_flag,
            born_timestamp: half.born_timestamp,
            born_host: half.born_host,
            store_host: self.store_host,
            reconsume_times: half.reconsume_times,
            prepared_transaction_offset: 0,
        };
        let _ = self.topics.ensure(
            CHECK_MAX_TIME_TOPIC,
            1,
            rmq_common::perm::READ | rmq_common::perm::WRITE,
            &self.registration,
        );
        let r = self.store.put_message(msg).await;
        if r.status.is_stored() {
            tracing::warn!(
                half_offset,
                "transaction was never resolved by its producer; parked in TRANS_CHECK_MAX_TIME_TOPIC"
            );
            write_op(&self.store, &self.op_log, self.store_host, half_offset).await;
        }
    }
}
