//! Answering the broker's CHECK_TRANSACTION_STATE (protocol.md 2.4, 8.8 step 7): the
//! listener's `check_local_transaction` runs on a blocking thread, and its answer goes back as
//! END_TRANSACTION (`fromTransactionCheck=true`) on the connection the check came on, with the
//! offsets the broker named — whichever instance of the group sent the half message.

use std::panic::AssertUnwindSafe;
use std::sync::Arc;

use futures::FutureExt;
use rmq_common::message::keys;
use rmq_common::MessageExt;
use rmq_remoting::header::{CheckTransactionStateRequestHeader, EndTransactionRequestHeader};
use rmq_remoting::{RemotingCommand, RequestCode};

use super::transaction_listener::{panic_text, LocalTransactionState, TransactionListener};
use crate::server_requests::{CheckRequest, TransactionCheck};

/// END_TRANSACTION, a oneway request.
pub(crate) fn end_transaction_request(header: &EndTransactionRequestHeader) -> RemotingCommand {
    RemotingCommand::request(RequestCode::EndTransaction, header).with_oneway()
}

/// The END_TRANSACTION answering a check (Java's `checkTransactionState`).
pub(crate) fn check_answer(
    group: &str,
    check: &CheckTransactionStateRequestHeader,
    msg: &MessageExt,
    state: LocalTransactionState,
) -> EndTransactionRequestHeader {
    let msg_id = msg
        .message
        .uniq_key()
        .map(str::to_owned)
        .or_else(|| check.msg_id.clone())
        .unwrap_or_else(|| msg.msg_id());
    EndTransactionRequestHeader {
        topic: check
            .topic
            .clone()
            .or_else(|| Some(msg.message.topic.clone())),
        producer_group: group.to_owned(),
        tran_state_table_offset: check.tran_state_table_offset,
        commit_log_offset: check.commit_log_offset,
        commit_or_rollback: state.wire(),
        from_transaction_check: Some(true),
        msg_id,
        transaction_id: check.transaction_id.clone(),
        rpc: Default::default(),
    }
}

/// The callback installed in the client instance for checks of `group`.
pub(crate) fn check_handler<L: TransactionListener>(
    group: String,
    listener: Arc<L>,
) -> TransactionCheck {
    let group: Arc<str> = group.into();
    Arc::new(move |req: CheckRequest| {
        let (group, listener) = (group.clone(), listener.clone());
        answer(group, listener, req).boxed()
    })
}

async fn answer<L: TransactionListener>(group: Arc<str>, listener: Arc<L>, req: CheckRequest) {
    let CheckRequest {
        connection,
        header,
        message,
    } = req;
    if let Some(pgroup) = message.message.property(keys::PGROUP) {
        if pgroup != &*group {
            tracing::warn!(pgroup, group = %group, "transaction check for another producer group; ignored");
            return;
        }
    }
    let checked = tokio::task::spawn_blocking(move || {
        let state = std::panic::catch_unwind(AssertUnwindSafe(|| {
            listener.check_local_transaction(&message)
        }))
        .unwrap_or_else(|panic| {
            tracing::error!(panic = %panic_text(panic.as_ref()), "check_local_transaction panicked; the outcome stays unknown");
            LocalTransactionState::Unknown
        });
        (state, message)
    })
    .await;
    let Ok((state, message)) = checked else {
        return; // the runtime is shutting down
    };
    let end = check_answer(&group, &header, &message, state);
    tracing::debug!(msg_id = %end.msg_id, ?state, "answering transaction check");
    if let Err(e) = connection.send_oneway(end_transaction_request(&end)).await {
        tracing::warn!(msg_id = %end.msg_id, error = %e, "could not answer a transaction check; the broker asks again");
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rmq_common::Message;

    #[test]
    fn answer_uses_the_check_offsets_and_the_uniq_key() {
        let m = MessageExt {
            message: Message::new("Real", "b")
                .with_property("UNIQ_KEY", "U1")
                .with_property("PGROUP", "TG"),
            queue_id: 0,
            store_size: 0,
            queue_offset: 0,
            sys_flag: 0,
            born_timestamp: 0,
            born_host: "127.0.0.1:1".parse().unwrap(),
            store_timestamp: 0,
            store_host: "127.0.0.1:10911".parse().unwrap(),
            commit_log_offset: 999,
            body_crc: 0,
            reconsume_times: 0,
            prepared_transaction_offset: 0,
        };
        let check = CheckTransactionStateRequestHeader {
            topic: Some("Real".into()),
            tran_state_table_offset: 7,
            commit_log_offset: 1234,
            msg_id: Some("U1".into()),
            transaction_id: Some("U1".into()),
            offset_msg_id: None,
            rpc: Default::default(),
        };
        let e = check_answer("TG", &check, &m, LocalTransactionState::CommitMessage);
        assert_eq!(e.producer_group, "TG");
        assert_eq!((e.tran_state_table_offset, e.commit_log_offset), (7, 1234));
        assert_eq!(e.commit_or_rollback, 8);
        assert_eq!(e.from_transaction_check, Some(true));
        assert_eq!(e.msg_id, "U1");
        assert_eq!(e.transaction_id.as_deref(), Some("U1"));
        let r = check_answer("TG", &check, &m, LocalTransactionState::RollbackMessage);
        assert_eq!(r.commit_or_rollback, 12);
        let u = check_answer("TG", &check, &m, LocalTransactionState::Unknown);
        assert_eq!(u.commit_or_rollback, 0);
    }
}
