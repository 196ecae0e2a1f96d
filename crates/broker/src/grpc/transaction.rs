//! Transactions over gRPC: the transaction id handed to a 5.x producer, and EndTransaction.
//!
//! The id carries what END_TRANSACTION needs (the half message's CommitLog offset and its
//! offset in the half queue) besides the message id, so the broker keeps no table of open
//! transactions; clients treat it as opaque. As in Apache's proxy, the producer group of a gRPC
//! transaction is its topic.

use rmq_common::message::keys;
use rmq_common::sysflag::message as msg_flag;
use rmq_proto::v2::{
    telemetry_command, Code, EndTransactionRequest, EndTransactionResponse, Message, MessageType,
    RecoverOrphanedTransactionCommand, Resource, SystemProperties, TelemetryCommand,
    TransactionResolution,
};

use super::message_view::{body_digest, body_encoding, timestamp, user_properties};
use super::metadata::Caller;
use super::status::{from_process_error, ok, status};
use crate::context::BrokerContext;
use crate::orphan_check::OrphanCheck;
use crate::processor::end_transaction::end;

/// `<commitlog offset hex>-<half queue offset hex>-<message id>`.
pub fn encode_id(commit_log_offset: i64, queue_offset: i64, message_id: &str) -> String {
    format!("{commit_log_offset:X}-{queue_offset:X}-{message_id}")
}

/// The offsets in an id made by [`encode_id`].
pub fn decode_id(id: &str) -> Option<(i64, i64)> {
    let mut parts = id.splitn(3, '-');
    let commit_log = i64::from_str_radix(parts.next()?, 16).ok()?;
    let queue = i64::from_str_radix(parts.next()?, 16).ok()?;
    parts.next()?;
    Some((commit_log, queue))
}

/// The producer group of a gRPC transaction on `topic` (namespaced like the topic).
pub fn producer_group(caller: &Caller, topic: &str) -> String {
    caller.namespaced(topic)
}

pub async fn end_transaction(
    ctx: &BrokerContext,
    caller: &Caller,
    req: &EndTransactionRequest,
) -> EndTransactionResponse {
    let Some((commit_log_offset, queue_offset)) = decode_id(&req.transaction_id) else {
        return EndTransactionResponse {
            status: Some(status(
                Code::InvalidTransactionId,
                format!(
                    "transaction id {:?} was not made by this broker",
                    req.transaction_id
                ),
            )),
        };
    };
    let topic = req
        .topic
        .as_ref()
        .map(|t| t.name.as_str())
        .unwrap_or_default();
    let decision = match TransactionResolution::try_from(req.resolution) {
        Ok(TransactionResolution::Commit) => msg_flag::TRANSACTION_COMMIT_TYPE,
        Ok(TransactionResolution::Rollback) => msg_flag::TRANSACTION_ROLLBACK_TYPE,
        _ => msg_flag::TRANSACTION_NOT_TYPE,
    };
    let group = producer_group(caller, topic);
    let st = match end(ctx, &group, commit_log_offset, queue_offset, decision).await {
        Ok(()) => ok(),
        Err(e) => from_process_error(&e),
    };
    EndTransactionResponse { status: Some(st) }
}

/// The Telemetry command that asks a 5.x producer to resolve an orphaned transaction.
pub fn recovery_command(check: &OrphanCheck) -> TelemetryCommand {
    let p = &check.properties;
    let message = Message {
        topic: Some(Resource {
            resource_namespace: String::new(),
            name: check.real_topic.clone(),
        }),
        user_properties: user_properties(p),
        system_properties: Some(SystemProperties {
            tag: p.get(keys::TAGS).cloned(),
            keys: p
                .get(keys::KEYS)
                .map(|k| k.split(keys::KEY_SEPARATOR).map(str::to_owned).collect())
                .unwrap_or_default(),
            message_id: check.message_id.clone(),
            message_type: MessageType::Transaction as i32,
            born_timestamp: Some(timestamp(check.born_timestamp)),
            born_host: check.born_host.ip().to_string(),
            store_timestamp: Some(timestamp(check.store_timestamp)),
            queue_id: check.queue_id,
            body_digest: Some(body_digest(&check.body)),
            body_encoding: body_encoding(check.compressed),
            ..SystemProperties::default()
        }),
        body: check.body.to_vec(),
    };
    TelemetryCommand {
        status: None,
        command: Some(
            telemetry_command::Command::RecoverOrphanedTransactionCommand(
                RecoverOrphanedTransactionCommand {
                    message: Some(message),
                    transaction_id: encode_id(
                        check.commit_log_offset,
                        check.queue_offset,
                        &check.message_id,
                    ),
                },
            ),
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn id_round_trip_and_garbage() {
        let id = encode_id(0x1234, 7, "01ABC-DEF");
        assert_eq!(decode_id(&id), Some((0x1234, 7)));
        assert_eq!(decode_id("not-an-id"), None);
        assert_eq!(decode_id(""), None);
        assert_eq!(decode_id("12-34"), None);
    }
}
