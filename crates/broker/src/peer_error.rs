//! What goes wrong when the broker talks to another daemon (a name server on registration, the
//! master on a slave's metadata copy). Kept typed so a caller can tell "unreachable" from
//! "refused" from "our own disk failed" instead of matching on text.

use rmq_remoting::json::JsonError;
use rmq_remoting::{RemotingError, RequestCode};

use crate::BrokerError;

#[derive(Debug, thiserror::Error)]
pub enum PeerError {
    #[error(transparent)]
    Remoting(#[from] RemotingError),
    #[error("{request} answered {code} {remark}", request = request.name())]
    Refused {
        request: RequestCode,
        code: i32,
        remark: String,
    },
    #[error("{request} answered an unreadable body: {source}", request = request.name())]
    Body {
        request: RequestCode,
        #[source]
        source: JsonError,
    },
    #[error(transparent)]
    State(#[from] BrokerError),
    #[error("{request} answered an unreadable header: {source}", request = request.name())]
    Header {
        request: RequestCode,
        #[source]
        source: rmq_remoting::header::HeaderError,
    },
    #[error("{addr} did not answer {request} in time", request = request.name())]
    NoAnswer { request: RequestCode, addr: String },
    #[error("no controller of {0} knows a leader (is a majority of them up?)")]
    NoControllerLeader(String),
    #[error(transparent)]
    Identity(#[from] crate::controller_mode::identity::IdentityError),
}
