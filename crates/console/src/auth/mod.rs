//! Who may do what: login against the users file, the session cookie, the CSRF token on every
//! change, the read-only role, and the audit line for every change.
//!
//! Without a users file there is no login: every request is the admin `local`, the console
//! listens on loopback only (checked at start), and requests must name a loopback host in
//! `Host` (a page on another site cannot reach the console through DNS rebinding).

pub mod sessions;
pub mod users;

use std::sync::Arc;

use axum::extract::{Request, State};
use axum::http::{header, HeaderMap, HeaderValue, Method, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::Deserialize;

use crate::error::{ApiError, ApiResult};
use crate::state::Console;
use sessions::{same_token, Session, Sessions};
use users::{Role, Users};

/// The session cookie's name.
pub const COOKIE: &str = "rmq_console";
/// The header that carries the CSRF token on every change.
pub const CSRF_HEADER: &str = "x-csrf-token";

/// Password checks running at once: each argon2 check takes ~19 MiB and tens of milliseconds,
/// so a flood of logins queues here instead of growing memory.
const PARALLEL_CHECKS: usize = 2;

pub struct Auth {
    /// None: no login (loopback only).
    users: Option<Users>,
    sessions: Sessions,
    /// The one session of the no-login mode.
    local: Session,
    checks: tokio::sync::Semaphore,
}

impl Auth {
    pub fn new(users: Option<Users>) -> Auth {
        Auth {
            users,
            sessions: Sessions::default(),
            local: Session::new("local", Role::Admin),
            checks: tokio::sync::Semaphore::new(PARALLEL_CHECKS),
        }
    }

    pub fn login_required(&self) -> bool {
        self.users.is_some()
    }

    fn session_of(&self, headers: &HeaderMap) -> ApiResult<Session> {
        if !self.login_required() {
            if !loopback_host(headers) {
                return Err(ApiError::Forbidden(
                    "without a users file the console answers only requests to a loopback host \
                     (127.0.0.1, localhost)"
                        .into(),
                ));
            }
            return Ok(self.local.clone());
        }
        let token = cookie(headers, COOKIE).ok_or(ApiError::NotLoggedIn)?;
        self.sessions.get(&token).ok_or(ApiError::NotLoggedIn)
    }
}

/// Every `/api` request but login passes here: a session, and for a change the CSRF token and
/// the admin role; changes are logged with the user's name and the answer's status.
pub async fn guard(State(console): State<Arc<Console>>, mut req: Request, next: Next) -> Response {
    let session = match console.auth.session_of(req.headers()) {
        Ok(s) => s,
        Err(e) => return e.into_response(),
    };
    let change = !matches!(*req.method(), Method::GET | Method::HEAD);
    if change && req.uri().path() != "/api/logout" {
        let sent = req
            .headers()
            .get(CSRF_HEADER)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("");
        if !same_token(sent, &session.csrf) {
            return ApiError::Forbidden(format!(
                "missing or wrong {CSRF_HEADER} header: reload the page (the token comes with \
                 GET /api/session)"
            ))
            .into_response();
        }
        if session.role != Role::Admin {
            return ApiError::Forbidden(format!(
                "user {:?} is read-only and cannot change anything",
                session.user
            ))
            .into_response();
        }
    }
    let (method, path) = (req.method().clone(), req.uri().path().to_owned());
    let user = session.user.clone();
    req.extensions_mut().insert(session);
    let resp = next.run(req).await;
    if change {
        tracing::info!(user, %method, path, status = resp.status().as_u16(), "console change");
    }
    resp
}

#[derive(serde::Serialize)]
#[serde(rename_all = "camelCase")]
struct SessionView {
    user: String,
    role: Role,
    csrf: String,
    login_required: bool,
}

fn view(console: &Console, s: &Session) -> SessionView {
    SessionView {
        user: s.user.clone(),
        role: s.role,
        csrf: s.csrf.clone(),
        login_required: console.auth.login_required(),
    }
}

/// GET /api/session (behind the guard).
pub async fn session(
    State(console): State<Arc<Console>>,
    axum::Extension(s): axum::Extension<Session>,
) -> Response {
    Json(view(&console, &s)).into_response()
}

#[derive(Deserialize)]
pub struct LoginForm {
    user: String,
    password: String,
}

/// POST /api/login: the only change without a session.
pub async fn login(
    State(console): State<Arc<Console>>,
    headers: HeaderMap,
    Json(form): Json<LoginForm>,
) -> ApiResult<Response> {
    let Some(users) = &console.auth.users else {
        let local = console.auth.session_of(&headers)?;
        return Ok(Json(view(&console, &local)).into_response());
    };
    let _permit = console
        .auth
        .checks
        .acquire()
        .await
        .map_err(|_| ApiError::Busy("the console is stopping".to_owned()))?;
    // argon2 takes tens of milliseconds of CPU: let the runtime move other tasks off this
    // worker meanwhile (the daemon's runtime is multi-threaded).
    let role = tokio::task::block_in_place(|| users.check(&form.user, &form.password));
    let Some(role) = role else {
        tracing::warn!(user = form.user, "console login refused");
        return Ok((
            StatusCode::UNAUTHORIZED,
            Json(serde_json::json!({"error": "wrong user name or password"})),
        )
            .into_response());
    };
    let session = Session::new(form.user.clone(), role);
    let body = view(&console, &session);
    let token =
        console.auth.sessions.open(session).ok_or_else(|| {
            ApiError::Busy("too many sessions are open; try again later".to_owned())
        })?;
    tracing::info!(user = form.user, "console login");
    let cookie = format!("{COOKIE}={token}; HttpOnly; SameSite=Strict; Path=/");
    let mut resp = Json(body).into_response();
    if let Ok(v) = HeaderValue::from_str(&cookie) {
        resp.headers_mut().insert(header::SET_COOKIE, v);
    }
    Ok(resp)
}

/// POST /api/logout.
pub async fn logout(State(console): State<Arc<Console>>, headers: HeaderMap) -> Response {
    if let Some(token) = cookie(&headers, COOKIE) {
        console.auth.sessions.close(&token);
    }
    let mut resp = StatusCode::NO_CONTENT.into_response();
    resp.headers_mut().insert(
        header::SET_COOKIE,
        HeaderValue::from_static("rmq_console=; HttpOnly; SameSite=Strict; Path=/; Max-Age=0"),
    );
    resp
}

fn cookie(headers: &HeaderMap, name: &str) -> Option<String> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|kv| kv.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v.to_owned())
}

fn loopback_host(headers: &HeaderMap) -> bool {
    let Some(host) = headers.get(header::HOST).and_then(|h| h.to_str().ok()) else {
        return false;
    };
    let name = match host.strip_prefix('[') {
        Some(rest) => rest.split(']').next().unwrap_or(""),
        None => host.rsplit_once(':').map_or(host, |(h, _)| h),
    };
    name == "localhost"
        || name
            .parse::<std::net::IpAddr>()
            .is_ok_and(|ip| ip.is_loopback())
}
