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

impl ApiError {
    fn status(&self) -> StatusCode {
        match self {
            ApiError::BadInput { .. } => StatusCode::BAD_REQUEST,
            ApiError::NotLoggedIn => StatusCode::UNAUTHORIZED,
            ApiError::Forbidden(_) => StatusCode::FORBIDDEN,
            ApiError::NotFound(_) => StatusCode::NOT_FOUND,
            ApiError::Cluster(_) => StatusCode::BAD_GATEWAY,
            ApiError::Busy(_) => StatusCode::SERVICE_UNAVAILABLE,
        }
    }

    /// The sentence the API answers.
    pub fn message(&self) -> String {
        match self {
            ApiError::BadInput { message, .. } => message.clone(),
            ApiError::NotLoggedIn => "log in first".to_owned(),
            ApiError::Forbidden(m) | ApiError::NotFound(m) | ApiError::Busy(m) => m.clone(),
            ApiError::Cluster(e) => rmq_runtime::report::one_line(e),
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let body = match &self {
            ApiError::BadInput { field, .. } => {
                serde_json::json!({ "error": self.message(), "field": field })
            }
            _ => serde_json::json!({ "error": self.message() }),
        };
        (self.status(), Json(body)).into_response()
    }
}
