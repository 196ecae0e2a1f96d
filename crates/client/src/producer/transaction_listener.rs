//! What the application gives a [`TransactionProducer`](super::TransactionProducer): the
//! [`TransactionListener`] and the [`LocalTransactionState`] it answers. A leaf module: the
//! transaction producer and the check service both use these types, and neither defines them
//! for the other.

use std::any::Any;

use rmq_common::{Message, MessageExt};

/// The outcome of a local transaction, as the application reports it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum LocalTransactionState {
    /// Publish the half message.
    CommitMessage,
    /// Drop the half message.
    RollbackMessage,
    /// Not known yet (Java's `UNKNOW`): the broker asks again later through
    /// [`TransactionListener::check_local_transaction`].
    Unknown,
}

impl LocalTransactionState {
    /// The `commitOrRollback` value of END_TRANSACTION (MessageSysFlag transaction bits).
    pub(crate) fn wire(self) -> i32 {
        use rmq_remoting::header::transaction_type;
        match self {
            LocalTransactionState::CommitMessage => transaction_type::COMMIT,
            LocalTransactionState::RollbackMessage => transaction_type::ROLLBACK,
            LocalTransactionState::Unknown => transaction_type::NOT_TYPE,
        }
    }
}

/// What the application implements for a [`TransactionProducer`](super::TransactionProducer).
///
/// Both methods are synchronous, like the consumers' listeners, and both run on a blocking
/// thread (`tokio::task::spawn_blocking`), so a listener may block on a database without
/// stalling the runtime. A panic in either counts as [`LocalTransactionState::Unknown`].
///
/// ```
/// use rmq_client::{LocalTransactionState, Message, MessageExt, TransactionListener};
///
/// struct Orders;
/// impl TransactionListener for Orders {
///     type Arg = u64; // the order id, passed to each send
///     fn execute_local_transaction(&self, _: &Message, order: &u64) -> LocalTransactionState {
///         if *order > 0 { LocalTransactionState::CommitMessage } else { LocalTransactionState::RollbackMessage }
///     }
///     fn check_local_transaction(&self, _: &MessageExt) -> LocalTransactionState {
///         LocalTransactionState::CommitMessage
///     }
/// }
/// ```
pub trait TransactionListener: Send + Sync + 'static {
    /// What [`send_message_in_transaction`](super::TransactionProducer::send_message_in_transaction)
    /// passes on to [`execute_local_transaction`](Self::execute_local_transaction) (`()` if
    /// nothing).
    type Arg: Send + 'static;

    /// Runs the local transaction of a half message that the broker has stored. `msg` carries
    /// its `UNIQ_KEY` (the message id); `arg` is what was passed to the send.
    fn execute_local_transaction(&self, msg: &Message, arg: &Self::Arg) -> LocalTransactionState;

    /// Answers the broker's question about a half message whose outcome it does not know.
    fn check_local_transaction(&self, msg: &MessageExt) -> LocalTransactionState;
}

/// The text of a caught panic.
pub(crate) fn panic_text(panic: &(dyn Any + Send)) -> String {
    panic
        .downcast_ref::<&str>()
        .map(|s| (*s).to_owned())
        .or_else(|| panic.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "panic".to_owned())
}
