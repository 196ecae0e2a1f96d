//! QueryAssignment: which queues a push consumer receives from. As Apache's proxy answers: one
//! assignment per master that has readable queues of the topic (queue id -1, every queue of that
//! broker), or, for a FIFO group, one per readable queue.

use rmq_proto::v2::{
    Assignment, Code, MessageQueue, Permission, QueryAssignmentRequest, QueryAssignmentResponse,
    QueryRouteRequest,
};

use super::metadata::Caller;
use super::route::query_route;
use super::status::{ok, status};
use crate::context::BrokerContext;

pub async fn query_assignment(
    ctx: &BrokerContext,
    caller: &Caller,
    req: QueryAssignmentRequest,
) -> QueryAssignmentResponse {
    let group = req
        .group
        .as_ref()
        .map(|g| g.name.as_str())
        .unwrap_or_default();
    let fifo = ctx
        .groups()
        .get(&caller.namespaced(group))
        .is_some_and(|g| g.consume_message_orderly);
    let route = query_route(
        ctx,
        &QueryRouteRequest {
            topic: req.topic.clone(),
            endpoints: req.endpoints.clone(),
        },
    )
    .await;
    if route
        .status
        .as_ref()
        .is_some_and(|s| s.code != Code::Ok as i32)
    {
        return QueryAssignmentResponse {
            status: route.status,
            assignments: Vec::new(),
        };
    }
    let readable = |q: &MessageQueue| {
        q.permission == Permission::Read as i32 || q.permission == Permission::ReadWrite as i32
    };
    let mut assignments: Vec<Assignment> = Vec::new();
    for q in route.message_queues.into_iter().filter(readable) {
        if fifo {
            assignments.push(Assignment {
                message_queue: Some(q),
            });
            continue;
        }
        let broker = q.broker.as_ref().map(|b| b.name.clone());
        let seen = assignments.iter().any(|a| {
            a.message_queue
                .as_ref()
                .and_then(|m| m.broker.as_ref())
                .map(|b| b.name.clone())
                == broker
        });
        if !seen {
            assignments.push(Assignment {
                message_queue: Some(MessageQueue { id: -1, ..q }),
            });
        }
    }
    if assignments.is_empty() {
        return QueryAssignmentResponse {
            status: Some(status(Code::Forbidden, "no readable queue")),
            assignments,
        };
    }
    QueryAssignmentResponse {
        status: Some(ok()),
        assignments,
    }
}
