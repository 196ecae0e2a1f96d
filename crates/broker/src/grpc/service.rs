//! `MessagingService`: each RPC checks the caller's metadata and hands over to its module. RPCs
//! rmq does not serve yet answer NOT_IMPLEMENTED in their Status, naming the RPC.

use std::pin::Pin;
use std::sync::Arc;

use futures::{Stream, StreamExt};
use rmq_proto::v2::messaging_service_server::MessagingService;
use rmq_proto::v2::{
    pull_message_response, receive_message_response, AckMessageRequest, AckMessageResponse,
    ChangeInvisibleDurationRequest, ChangeInvisibleDurationResponse, EndTransactionRequest,
    EndTransactionResponse, ForwardMessageToDeadLetterQueueRequest,
    ForwardMessageToDeadLetterQueueResponse, GetOffsetRequest, GetOffsetResponse, HeartbeatRequest,
    HeartbeatResponse, NotifyClientTerminationRequest, NotifyClientTerminationResponse,
    PullMessageRequest, PullMessageResponse, QueryAssignmentRequest, QueryAssignmentResponse,
    QueryOffsetRequest, QueryOffsetResponse, QueryRouteRequest, QueryRouteResponse,
    RecallMessageRequest, RecallMessageResponse, ReceiveMessageRequest, ReceiveMessageResponse,
    SendMessageRequest, SendMessageResponse, SyncLiteSubscriptionRequest,
    SyncLiteSubscriptionResponse, TelemetryCommand, UpdateOffsetRequest, UpdateOffsetResponse,
};
use tonic::{Request, Response, Status};

use super::access::{self, Touches};
use super::metadata::{caller, Caller};
use super::status::{not_implemented, ok};
use super::{
    assignment, consume, offsets, polling, pull, receive, route, send, telemetry, transaction,
};
use crate::acl::Gate;
use crate::context::BrokerContext;

pub struct Messaging {
    ctx: Arc<BrokerContext>,
    acl: Option<Gate>,
}

impl Messaging {
    pub fn new(ctx: Arc<BrokerContext>, acl: Option<Gate>) -> Self {
        Messaging { ctx, acl }
    }

    /// The caller of `req` once its metadata is acceptable and the ACL (when on) lets it in.
    fn caller<T: Touches>(&self, req: &Request<T>) -> Result<Caller, rmq_proto::v2::Status> {
        let who = caller(req)?;
        access::check(self.acl.as_ref(), &who, req)?;
        Ok(who)
    }
}

type BoxStream<T> = Pin<Box<dyn Stream<Item = Result<T, Status>> + Send + 'static>>;

/// A server stream of one item.
fn once<T: Send + 'static>(item: T) -> BoxStream<T> {
    Box::pin(futures::stream::iter([Ok(item)]))
}

/// A server stream of the frames `frames` computes.
fn stream_of<T: Send + 'static>(
    frames: impl std::future::Future<Output = Vec<T>> + Send + 'static,
) -> BoxStream<T> {
    Box::pin(
        futures::stream::once(frames).flat_map(|v| futures::stream::iter(v.into_iter().map(Ok))),
    )
}

/// Answers `$resp` with `$status` when the caller's metadata is not acceptable.
macro_rules! check_caller {
    ($self:ident, $req:expr, $resp:ident) => {
        match $self.caller(&$req) {
            Ok(c) => c,
            Err(s) => {
                let mut r = $resp::default();
                r.status = Some(s);
                return Ok(Response::new(r));
            }
        }
    };
}

/// The whole answer of an RPC not served yet.
macro_rules! unimplemented_rpc {
    ($name:literal, $resp:ident) => {{
        let mut r = $resp::default();
        r.status = Some(not_implemented($name));
        Ok(Response::new(r))
    }};
}

#[tonic::async_trait]
impl MessagingService for Messaging {
    async fn query_route(
        &self,
        request: Request<QueryRouteRequest>,
    ) -> Result<Response<QueryRouteResponse>, Status> {
        check_caller!(self, request, QueryRouteResponse);
        Ok(Response::new(
            route::query_route(&self.ctx, request.get_ref()).await,
        ))
    }

    async fn heartbeat(
        &self,
        request: Request<HeartbeatRequest>,
    ) -> Result<Response<HeartbeatResponse>, Status> {
        check_caller!(self, request, HeartbeatResponse);
        Ok(Response::new(HeartbeatResponse { status: Some(ok()) }))
    }

    async fn send_message(
        &self,
        request: Request<SendMessageRequest>,
    ) -> Result<Response<SendMessageResponse>, Status> {
        let who = check_caller!(self, request, SendMessageResponse);
        Ok(Response::new(
            send::send_message(&self.ctx, &who, request.into_inner()).await,
        ))
    }

    async fn query_assignment(
        &self,
        request: Request<QueryAssignmentRequest>,
    ) -> Result<Response<QueryAssignmentResponse>, Status> {
        let who = check_caller!(self, request, QueryAssignmentResponse);
        Ok(Response::new(
            assignment::query_assignment(&self.ctx, &who, request.into_inner()).await,
        ))
    }

    type ReceiveMessageStream = BoxStream<ReceiveMessageResponse>;

    async fn receive_message(
        &self,
        request: Request<ReceiveMessageRequest>,
    ) -> Result<Response<Self::ReceiveMessageStream>, Status> {
        let who = match self.caller(&request) {
            Ok(c) => c,
            Err(s) => {
                return Ok(Response::new(once(ReceiveMessageResponse {
                    content: Some(receive_message_response::Content::Status(s)),
                })))
            }
        };
        let deadline = polling::call_deadline(request.metadata());
        let frames = receive::receive(self.ctx.clone(), who, request.into_inner(), deadline);
        Ok(Response::new(stream_of(frames)))
    }

    async fn ack_message(
        &self,
        request: Request<AckMessageRequest>,
    ) -> Result<Response<AckMessageResponse>, Status> {
        let who = check_caller!(self, request, AckMessageResponse);
        Ok(Response::new(
            consume::ack(&self.ctx, &who, request.into_inner()).await,
        ))
    }

    async fn forward_message_to_dead_letter_queue(
        &self,
        request: Request<ForwardMessageToDeadLetterQueueRequest>,
    ) -> Result<Response<ForwardMessageToDeadLetterQueueResponse>, Status> {
        let who = check_caller!(self, request, ForwardMessageToDeadLetterQueueResponse);
        Ok(Response::new(
            consume::forward_to_dlq(&self.ctx, &who, request.into_inner()).await,
        ))
    }

    type PullMessageStream = BoxStream<PullMessageResponse>;

    async fn pull_message(
        &self,
        request: Request<PullMessageRequest>,
    ) -> Result<Response<Self::PullMessageStream>, Status> {
        let who = match self.caller(&request) {
            Ok(c) => c,
            Err(s) => {
                return Ok(Response::new(once(PullMessageResponse {
                    content: Some(pull_message_response::Content::Status(s)),
                })))
            }
        };
        let deadline = polling::call_deadline(request.metadata());
        let frames = pull::pull(self.ctx.clone(), who, request.into_inner(), deadline);
        Ok(Response::new(stream_of(frames)))
    }

    async fn update_offset(
        &self,
        request: Request<UpdateOffsetRequest>,
    ) -> Result<Response<UpdateOffsetResponse>, Status> {
        let who = check_caller!(self, request, UpdateOffsetResponse);
        Ok(Response::new(offsets::update_offset(
            &self.ctx,
            &who,
            request.get_ref(),
        )))
    }

    async fn get_offset(
        &self,
        request: Request<GetOffsetRequest>,
    ) -> Result<Response<GetOffsetResponse>, Status> {
        let who = check_caller!(self, request, GetOffsetResponse);
        Ok(Response::new(offsets::get_offset(
            &self.ctx,
            &who,
            request.get_ref(),
        )))
    }

    async fn query_offset(
        &self,
        request: Request<QueryOffsetRequest>,
    ) -> Result<Response<QueryOffsetResponse>, Status> {
        let who = check_caller!(self, request, QueryOffsetResponse);
        Ok(Response::new(offsets::query_offset(
            &self.ctx,
            &who,
            request.get_ref(),
        )))
    }

    async fn end_transaction(
        &self,
        request: Request<EndTransactionRequest>,
    ) -> Result<Response<EndTransactionResponse>, Status> {
        let who = check_caller!(self, request, EndTransactionResponse);
        Ok(Response::new(
            transaction::end_transaction(&self.ctx, &who, request.get_ref()).await,
        ))
    }

    type TelemetryStream = telemetry::TelemetryStream;

    async fn telemetry(
        &self,
        request: Request<tonic::Streaming<TelemetryCommand>>,
    ) -> Result<Response<Self::TelemetryStream>, Status> {
        let who = match self.caller(&request) {
            Ok(c) => c,
            Err(s) => {
                return Ok(Response::new(once(TelemetryCommand {
                    status: Some(s),
                    command: None,
                })))
            }
        };
        Ok(Response::new(telemetry::telemetry(
            self.ctx.clone(),
            who,
            request.into_inner(),
        )))
    }

    async fn notify_client_termination(
        &self,
        request: Request<NotifyClientTerminationRequest>,
    ) -> Result<Response<NotifyClientTerminationResponse>, Status> {
        check_caller!(self, request, NotifyClientTerminationResponse);
        Ok(Response::new(NotifyClientTerminationResponse {
            status: Some(ok()),
        }))
    }

    async fn change_invisible_duration(
        &self,
        request: Request<ChangeInvisibleDurationRequest>,
    ) -> Result<Response<ChangeInvisibleDurationResponse>, Status> {
        let who = check_caller!(self, request, ChangeInvisibleDurationResponse);
        Ok(Response::new(
            consume::change_invisible(&self.ctx, &who, request.into_inner()).await,
        ))
    }

    async fn recall_message(
        &self,
        _request: Request<RecallMessageRequest>,
    ) -> Result<Response<RecallMessageResponse>, Status> {
        unimplemented_rpc!("RecallMessage", RecallMessageResponse)
    }

    async fn sync_lite_subscription(
        &self,
        _request: Request<SyncLiteSubscriptionRequest>,
    ) -> Result<Response<SyncLiteSubscriptionResponse>, Status> {
        unimplemented_rpc!("SyncLiteSubscription", SyncLiteSubscriptionResponse)
    }
}
