//! [`ClientError`]: everything the client can report, each variant naming what it was about
//! (topic, broker address, sizes, codes) so a log line is enough to act on.

use rmq_remoting::{RemotingError, ResponseCode};

/// The client's error type.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ClientError {
    #[error("invalid client configuration: {0}")]
    Config(String),
    #[error("the client is shut down")]
    ShutDown,
    #[error("no route for topic {topic:?} (name servers tried: {name_servers})")]
    NoRoute { topic: String, name_servers: String },
    #[error("no name server answered (tried {name_servers}): {last_error}")]
    NameServerUnavailable {
        name_servers: String,
        last_error: String,
    },
    #[error("the message body is {size} bytes; the limit is {max} bytes")]
    MessageTooLarge { size: usize, max: usize },
    #[error("invalid message: {0}")]
    InvalidMessage(String),
    #[error("broker {addr} is busy: {remark}")]
    BrokerBusy { addr: String, remark: String },
    #[error("request to broker {addr} timed out after {millis} ms")]
    Timeout { addr: String, millis: u64 },
    #[error("broker {addr} answered {code}: {remark}")]
    Broker {
        addr: String,
        code: ResponseCode,
        remark: String,
    },
    #[error("no address known for broker {0:?}")]
    BrokerNotFound(String),
    #[error("the brokers of topic {topic:?} do not list {client_id} in group {group:?} yet")]
    NotAMember {
        group: String,
        topic: String,
        client_id: String,
    },
    #[error("bad response from {addr}: {reason}")]
    BadResponse { addr: String, reason: String },
    #[error("sending failed after {attempts} attempts: {last}")]
    SendFailed {
        attempts: usize,
        #[source]
        last: Box<ClientError>,
    },
    #[error("offset file {path}: {source}")]
    OffsetFile {
        path: String,
        #[source]
        source: std::io::Error,
    },
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

pub type Result<T, E = ClientError> = std::result::Result<T, E>;
