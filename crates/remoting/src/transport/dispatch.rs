//! Request processors, the context they see, connection lifecycle hooks, and the per-request
//! task that turns a processor's result into a response.

use std::collections::HashMap;
use std::future::Future;
use std::net::SocketAddr;
use std::panic::AssertUnwindSafe;
use std::sync::Arc;

use futures::future::BoxFuture;
use futures::FutureExt;

use super::{ConnectionHandle, ConnectionId};
use crate::header::HeaderError;
use crate::json::JsonError;
use crate::protocol::{RemotingCommand, ResponseCode, FLAG_RESPONSE};

/// What a processor returns: a response, `None` for no reply now (oneway requests, or a
/// processor that answers later through [`RequestContext::connection`]), or an error that the
/// server turns into an error response.
pub type ProcessResult = Result<Option<RemotingCommand>, ProcessError>;

/// A processor's failure. Header and body errors become SYSTEM_ERROR responses whose remark is
/// the error text (as Apache answers a `RemotingCommandException`); `Response` picks the code.
#[derive(Debug, thiserror::Error)]
pub enum ProcessError {
    #[error(transparent)]
    Header(#[from] HeaderError),
    #[error(transparent)]
    Body(#[from] JsonError),
    #[error("{remark}")]
    Response { code: i32, remark: String },
}

impl ProcessError {
    /// An error response with this code and remark.
    pub fn response(code: impl Into<i32>, remark: impl Into<String>) -> Self {
        ProcessError::Response {
            code: code.into(),
            remark: remark.into(),
        }
    }

    fn code(&self) -> i32 {
        match self {
            ProcessError::Response { code, .. } => *code,
            _ => ResponseCode::SystemError.code(),
        }
    }
}

/// Handles the requests of one or more codes.
///
/// Implemented for closures `Fn(RequestContext, RemotingCommand) -> impl Future<Output =
/// ProcessResult>`, so small processors need no struct. The future is `'static`: clone what it
/// needs out of `self` (processors usually hold an `Arc` of their service).
pub trait RequestProcessor: Send + Sync + 'static {
    fn process(
        &self,
        ctx: RequestContext,
        request: RemotingCommand,
    ) -> BoxFuture<'static, ProcessResult>;
}

impl<F, Fut> RequestProcessor for F
where
    F: Fn(RequestContext, RemotingCommand) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = ProcessResult> + Send + 'static,
{
    fn process(
        &self,
        ctx: RequestContext,
        request: RemotingCommand,
    ) -> BoxFuture<'static, ProcessResult> {
        Box::pin(self(ctx, request))
    }
}

/// Told when connections open and close (the name server drops a broker as soon as its
/// connection closes; the broker tracks client channels).
pub trait ConnectionListener: Send + Sync + 'static {
    fn on_connected(&self, _connection: &ConnectionHandle) {}
    fn on_closed(&self, _id: ConnectionId, _peer: SocketAddr) {}
}

impl<T: ConnectionListener> ConnectionListener for Arc<T> {
    fn on_connected(&self, connection: &ConnectionHandle) {
        (**self).on_connected(connection);
    }
    fn on_closed(&self, id: ConnectionId, peer: SocketAddr) {
        (**self).on_closed(id, peer);
    }
}

/// Sees every request before its processor does (the broker's ACL). A refusal is answered with
/// the error's code and remark, and the connection stays open.
pub trait RequestGuard: Send + Sync + 'static {
    fn check(&self, ctx: &RequestContext, request: &RemotingCommand) -> Result<(), ProcessError>;
}

/// What a processor knows about the request's connection.
#[derive(Clone, Debug)]
pub struct RequestContext {
    connection: ConnectionHandle,
}

impl RequestContext {
    pub(crate) fn new(connection: ConnectionHandle) -> Self {
        RequestContext { connection }
    }

    pub fn peer_addr(&self) -> SocketAddr {
        self.connection.peer_addr()
    }

    pub fn connection_id(&self) -> ConnectionId {
        self.connection.id()
    }

    /// The connection: send requests to the peer, or a late response.
    pub fn connection(&self) -> &ConnectionHandle {
        &self.connection
    }
}

/// The processors and hooks a connection dispatches to.
#[derive(Default, Clone)]
pub(crate) struct Dispatcher {
    pub(crate) processors: HashMap<i32, Arc<dyn RequestProcessor>>,
    pub(crate) default: Option<Arc<dyn RequestProcessor>>,
    pub(crate) listener: Option<Arc<dyn ConnectionListener>>,
    pub(crate) guard: Option<Arc<dyn RequestGuard>>,
}

impl Dispatcher {
    fn processor(&self, code: i32) -> Option<&Arc<dyn RequestProcessor>> {
        self.processors.get(&code).or(self.default.as_ref())
    }

    /// Runs one request to completion and sends its response, if any.
    pub(crate) async fn handle(self: Arc<Self>, ctx: RequestContext, request: RemotingCommand) {
        let oneway = request.is_oneway();
        let opaque = request.opaque;
        let serialize_type = request.serialize_type;
        let code = request.code;
        let checked = match &self.guard {
            Some(guard) => guard.check(&ctx, &request),
            None => Ok(()),
        };
        let result = match self.processor(code) {
            _ if checked.is_err() => checked.map(|()| None),
            // The call itself runs inside catch_unwind too: a processor's synchronous part may
            // run on the connection's reader task.
            Some(p) => AssertUnwindSafe(async { p.process(ctx.clone(), request).await })
                .catch_unwind()
                .await
                .unwrap_or_else(|_| {
                    tracing::error!(code, "request processor panicked");
                    Err(ProcessError::response(
                        ResponseCode::SystemError,
                        "request processor panicked",
                    ))
                }),
            None => {
                report_unsupported(code, &ctx);
                Err(ProcessError::response(
                    ResponseCode::RequestCodeNotSupported,
                    format!(" request type {code} not supported"),
                ))
            }
        };
        let mut response = match result {
            Ok(Some(response)) => response,
            Ok(None) => return,
            Err(e) => {
                tracing::debug!(code, error = %e, "request failed");
                RemotingCommand::new_response(e.code(), Some(e.to_string()))
            }
        };
        if oneway {
            return;
        }
        response.opaque = opaque;
        response.flag |= FLAG_RESPONSE;
        response.serialize_type = serialize_type;
        // A closed connection has nowhere to send it; that is not this request's error.
        let _ = ctx.connection().send(response).await;
    }
}

/// Logs the first request of each unsupported code (at most 256 distinct codes are remembered,
/// so a peer sending random codes cannot grow memory), naming the code and the peer: an
/// operator sees at once which feature a client expected.
fn report_unsupported(code: i32, ctx: &RequestContext) {
    static SEEN: std::sync::Mutex<Vec<i32>> = std::sync::Mutex::new(Vec::new());
    let first = match SEEN.lock() {
        Ok(mut seen) if !seen.contains(&code) && seen.len() < 256 => {
            seen.push(code);
            true
        }
        _ => false,
    };
    if first {
        tracing::warn!(
            code,
            name = crate::RequestCode::from(code).name(),
            peer = %ctx.peer_addr(),
            "request code not supported; answering REQUEST_CODE_NOT_SUPPORTED (logged once per code)"
        );
    }
}
