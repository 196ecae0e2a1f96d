//! [`ClientError`]: everything the client can report, each variant naming what it was about
//! (topic, broker address, sizes, codes) so a log line is enough to act on.

use rmq_remoting::{RemotingError, ResponseCode};

/// The client's error type.
///
/// ```
/// # fn demo(e: rmq_client::ClientError) {
/// use rmq_client::{ClientError, ResponseCode};
/// match e {
///     ClientError::NoRoute { topic, .. } => eprintln!("create {topic} first"),
///     e if e.response_code() == Some(ResponseCode::SystemBusy) => eprintln!("back off: {e}"),
///     e => eprintln!("{e}"),
/// }
/// # }
/// ```
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ClientError {
    /// A builder was given settings that cannot work (no name server, a zero period, ...).
    #[error("invalid client configuration: {0}")]
    Config(String),
    /// The client was shut down (or its last handle dropped) before the call.
    #[error("the client is shut down")]
    ShutDown,
    /// No name server knows the topic, and it could not be auto-created.
    #[error("no route for topic {topic:?} (name servers tried: {name_servers})")]
    NoRoute {
        /// The topic.
        topic: String,
        /// The name servers asked, `;`-separated.
        name_servers: String,
    },
    /// No name server answered.
    #[error("no name server answered (tried {name_servers}): {last_error}")]
    NameServerUnavailable {
        /// The name servers tried, `;`-separated.
        name_servers: String,
        /// What the last one failed with.
        last_error: String,
    },
    /// The body is over the producer's `max_message_size`.
    #[error("the message body is {size} bytes; the limit is {max} bytes")]
    MessageTooLarge {
        /// The body size.
        size: usize,
        /// The limit.
        max: usize,
    },
    /// The message cannot be sent as it is (empty topic, mixed topics in a batch, ...).
    #[error("invalid message: {0}")]
    InvalidMessage(String),
    /// The broker answered SYSTEM_BUSY (flow control); retry later.
    #[error("broker {addr} is busy: {remark}")]
    BrokerBusy {
        /// The broker's address.
        addr: String,
        /// The broker's remark.
        remark: String,
    },
    /// The cluster is not known to the name servers.
    #[error(
        "cluster {cluster:?} is not known to the name servers (known: {})",
        if known.is_empty() { "none".to_owned() } else { known.join(", ") }
    )]
    UnknownCluster {
        /// The cluster asked for.
        cluster: String,
        /// The clusters the name servers do know.
        known: Vec<String>,
    },
    /// No answer within the RPC timeout.
    #[error("request to broker {addr} timed out after {millis} ms")]
    Timeout {
        /// The peer's address.
        addr: String,
        /// The timeout.
        millis: u64,
    },
    /// A request ([`Producer::request`](crate::Producer::request)) was stored but no reply
    /// came in time: no responder consumed it, or the reply could not be pushed back.
    #[error("send request message to <{topic}> OK, but wait reply message timeout, {millis}ms (correlation id {correlation_id})")]
    RequestTimeout {
        /// The request's topic.
        topic: String,
        /// How long the request waited in all.
        millis: u64,
        /// The request's `CORRELATION_ID`.
        correlation_id: String,
    },
    /// The broker answered with an error code.
    #[error("broker {addr} answered {code}: {remark}")]
    Broker {
        /// The broker's address.
        addr: String,
        /// The response code.
        code: ResponseCode,
        /// The broker's remark.
        remark: String,
    },
    /// No route names an address for this broker.
    #[error("no address known for broker {0:?}")]
    BrokerNotFound(String),
    /// The brokers do not list this consumer in its group yet (its heartbeat is on the way).
    #[error("the brokers of topic {topic:?} do not list {client_id} in group {group:?} yet")]
    NotAMember {
        /// The consumer group.
        group: String,
        /// The topic whose brokers were asked.
        topic: String,
        /// This client's id.
        client_id: String,
    },
    /// An answer could not be decoded.
    #[error("bad response from {addr}: {reason}")]
    BadResponse {
        /// The peer's address.
        addr: String,
        /// What was wrong with it.
        reason: String,
    },
    /// Every attempt of a send failed; `last` is the last failure.
    #[error("sending failed after {attempts} attempts: {last}")]
    SendFailed {
        /// How many attempts were made.
        attempts: usize,
        /// The last attempt's error.
        #[source]
        last: Box<ClientError>,
    },
    /// A broadcasting consumer's local offset file could not be read or written.
    #[error("offset file {path}: {source}")]
    OffsetFile {
        /// The file.
        path: String,
        /// The I/O error.
        #[source]
        source: std::io::Error,
    },
    /// A transport failure (connect, closed connection, bad frame); see [`RemotingError`].
    #[error(transparent)]
    Remoting(RemotingError),
}

impl From<RemotingError> for ClientError {
    fn from(e: RemotingError) -> Self {
        match e {
            RemotingError::Timeout { addr, millis } => ClientError::Timeout { addr, millis },
            RemotingError::Shutdown { .. } => ClientError::ShutDown,
            other => ClientError::Remoting(other),
        }
    }
}

impl ClientError {
    /// An error for a non-success response from `addr`.
    pub(crate) fn from_response(addr: &str, cmd: &rmq_remoting::RemotingCommand) -> Self {
        let code = ResponseCode::from(cmd.code);
        let remark = cmd.remark.clone().unwrap_or_default();
        if code == ResponseCode::SystemBusy {
            ClientError::BrokerBusy {
                addr: addr.to_owned(),
                remark,
            }
        } else {
            ClientError::Broker {
                addr: addr.to_owned(),
                code,
                remark,
            }
        }
    }

    /// The broker's response code, if this is a broker answer.
    pub fn response_code(&self) -> Option<ResponseCode> {
        match self {
            ClientError::Broker { code, .. } => Some(*code),
            ClientError::BrokerBusy { .. } => Some(ResponseCode::SystemBusy),
            _ => None,
        }
    }

    /// Whether the failure was talking to the peer (connect, timeout, closed connection), as
    /// opposed to an answer it gave.
    pub fn is_transport(&self) -> bool {
        matches!(self, ClientError::Timeout { .. } | ClientError::Remoting(_))
    }
}

/// The client's result type.
pub type Result<T, E = ClientError> = std::result::Result<T, E>;
