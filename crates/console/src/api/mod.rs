//! The JSON API (`API.md` beside `Cargo.toml` lists every route and its answer).

mod cluster;
mod groups;
mod messages;
mod topics;
pub mod validate;
mod view;

use std::sync::Arc;

use axum::routing::{get, post};
use axum::Router;

use crate::auth;
use crate::state::Console;

/// Every `/api` route; all but login pass the auth guard.
pub fn routes(console: Arc<Console>) -> Router {
    let guarded = Router::new()
        .route("/api/session", get(auth::session))
        .route("/api/logout", post(auth::logout))
        .route(
            "/api/namesrv",
            get(cluster::namesrv).post(cluster::switch_namesrv),
        )
        .route("/api/overview", get(cluster::overview))
        .route("/api/cluster", get(cluster::cluster))
        .route(
            "/api/broker/config",
            get(cluster::broker_config).post(cluster::update_broker_config),
        )
        .route("/api/topics", get(topics::list).post(topics::create))
        .route("/api/topics/{name}", axum::routing::delete(topics::delete))
        .route("/api/topics/{name}/route", get(topics::route))
        .route("/api/topics/{name}/stats", get(topics::stats))
        .route("/api/topics/{name}/consumers", get(topics::consumers))
        .route("/api/topics/{name}/send", post(topics::send))
        .route("/api/groups", get(groups::list).post(groups::create))
        .route(
            "/api/groups/{group}",
            get(groups::detail).delete(groups::delete),
        )
        .route("/api/groups/{group}/clients/{client}", get(groups::client))
        .route("/api/groups/{group}/reset", post(groups::reset))
        .route("/api/groups/{group}/skip", post(groups::skip))
        .route("/api/producers", get(groups::producers))
        .route("/api/messages", get(messages::list))
        .route("/api/messages/by-key", get(messages::by_key))
        .route("/api/messages/by-id", get(messages::by_id))
        .route("/api/messages/resend", post(messages::resend))
        .route("/api/dlq", get(messages::dlq))
        .route("/api/dlq/export", get(messages::dlq_export))
        .route("/api/dlq/resend", post(messages::dlq_resend))
        .route_layer(axum::middleware::from_fn_with_state(
            console.clone(),
            auth::guard,
        ));
    Router::new()
        .route("/api/login", post(auth::login))
        .merge(guarded)
        .with_state(console)
}
