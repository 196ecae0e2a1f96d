//! What the API answers when something is wrong, and why the console cannot start.

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use rmq_client::ClientError;

/// Why the console cannot start.
#[derive(Debug, thiserror::Error)]
pub enum ConsoleError {
    #[error("cannot listen on {addr}: {source}")]
    Listen {
        addr: std::net::SocketAddr,
        source: std::io::Error,
    },
    #[error(
        "--listen {0} is not a loopback address, and without --users FILE the console has no \
         login; give it a users file (see `mqconsole --hash-password`) or listen on 127.0.0.1"
    )]
    OpenWithoutLogin(std::net::SocketAddr),
    #[error("users file {path}: {reason}")]
    Users { path: String, reason: String },
    #[error("cannot reach the cluster's name servers: {0}")]
    Admin(#[from] ClientError),
    #[error("HTTP server: {0}")]
    Serve(std::io::Error),
}

/// An API error: the status and one sentence naming what is wrong (and the form field, for bad
/// input), as `{"error": ..., "field": ...}`.
#[derive(Debug)]
pub enum ApiError {
    /// A field of the request is refused; nothing was sent to the cluster.
    BadInput {
        field: &'static str,
        message: String,
    },
    /// No session: log in first.
    NotLoggedIn,
    /// Logged in, but not allowed (read-only user, missing CSRF token).
    Forbidden(String),
    /// No such topic, group or message.
    NotFound(String),
    /// The cluster answered with an error, or did not answer.
    Cluster(ClientError),
    /// Too many sessions, or a similar limit.
    Busy(String),
}

pub type ApiResult<T> = Result<T, ApiError>;

impl ApiError {
    pub fn bad(field: &'static str, message: impl Into<String>) -> Self {
        ApiError::BadInput {
            field,
            message: message.into(),
        }
    }
}

impl From<ClientError> for ApiError {
    fn from(e: ClientError) -> Self {
        ApiError::Cluster(e)
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let (status, error, field) = match self {
            ApiError::BadInput { field, message } => {
                (StatusCode::BAD_REQUEST, message, Some(field))
            }
            ApiError::NotLoggedIn => (StatusCode::UNAUTHORIZED, "log in first".to_owned(), None),
            ApiError::Forbidden(m) => (StatusCode::FORBIDDEN, m, None),
            ApiError::NotFound(m) => (StatusCode::NOT_FOUND, m, None),
            ApiError::Cluster(e) => (
                StatusCode::BAD_GATEWAY,
                rmq_runtime::report::one_line(&e),
                None,
            ),
            ApiError::Busy(m) => (StatusCode::SERVICE_UNAVAILABLE, m, None),
        };
        let body = match field {
            Some(f) => serde_json::json!({ "error": error, "field": f }),
            None => serde_json::json!({ "error": error }),
        };
        (status, Json(body)).into_response()
    }
}
