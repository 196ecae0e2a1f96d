//! A real cluster (name server, broker) and `mqconsole` as processes, and an HTTP client of
//! the console's API that keeps the session cookie and sends the CSRF token.

#![allow(dead_code)]

#[path = "../../../client/tests/support/until.rs"]
pub mod until;

pub mod browser;

use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use anyhow::{bail, Context, Result};
use parking_lot::Mutex;
use reqwest::{Method, StatusCode};
use rmq_client::{
    ConsumeConcurrentlyStatus, ConsumeFrom, Producer, PushConsumer, PushConsumerBuilder,
};
use rmq_testkit::{broker_process, console_process, namesrv_process, test_dir, Daemon};
use serde_json::{json, Value};
use tempfile::TempDir;

pub struct Cluster {
    pub dir: TempDir,
    pub namesrv: String,
    pub broker: String,
    pub url: String,
    pub console: Daemon,
    _daemons: Vec<Daemon>,
}

/// Broker settings that make retries and DLQ quick to see.
const BROKER_EXTRA: &str =
    "messageDelayLevel=1s 1s 1s 1s 1s 1s 1s 1s 1s 1s 1s 1s 1s 1s 1s 1s 1s 1s\n";

impl Cluster {
    /// A name server, a broker and a console (sampling every second) with `console_args`.
    pub fn start(console_args: &[&str]) -> Result<Cluster> {
        Cluster::start_with(console_args, "")
    }

    /// [`Cluster::start`] with `broker_extra` properties lines for the broker.
    pub fn start_with(console_args: &[&str], broker_extra: &str) -> Result<Cluster> {
        let dir = test_dir("rmq-console-");
        let (ns, namesrv) = namesrv_process(dir.path(), "namesrv")?;
        let extra = format!("{BROKER_EXTRA}{broker_extra}\n");
        let (b, broker) = broker_process(dir.path(), "broker-a", &namesrv, &extra)?;
        let mut args = vec!["--sample-interval", "1"];
        args.extend_from_slice(console_args);
        let (console, url) = console_process(dir.path(), &namesrv, &args)?;
        Ok(Cluster {
            dir,
            namesrv,
            broker,
            url,
            console,
            _daemons: vec![b, ns],
        })
    }

    pub fn path(&self) -> &Path {
        self.dir.path()
    }

    /// A started producer of `group` that heartbeats twice a second, so the brokers (and the
    /// console's producers page) know it at once.
    pub async fn producer(&self, group: &str) -> Producer {
        Producer::builder()
            .name_server(&self.namesrv)
            .group(group)
            .heartbeat_interval(Duration::from_millis(500))
            .build()
            .await
            .expect("producer")
    }

    /// A push consumer of `group` on `topic` from its first message, giving up after one try
    /// (a failed message goes straight to the DLQ); each delivery is recorded in `seen` as
    /// `topic:body`, and `fail` makes every delivery fail.
    pub fn consumer(
        &self,
        group: &str,
        topic: &str,
        fail: bool,
        seen: Arc<Mutex<Vec<String>>>,
    ) -> PushConsumerBuilder {
        PushConsumer::builder()
            .name_server(&self.namesrv)
            .group(group)
            .subscribe(topic, "*")
            .consume_from(ConsumeFrom::FirstOffset)
            .max_reconsume_times(0)
            .listener_concurrently(move |msgs| {
                let mut s = seen.lock();
                for m in msgs {
                    let body = String::from_utf8_lossy(&m.message.body);
                    s.push(format!("{}:{body}", m.message.topic));
                }
                match fail {
                    true => ConsumeConcurrentlyStatus::ReconsumeLater,
                    false => ConsumeConcurrentlyStatus::ConsumeSuccess,
                }
            })
    }
}

/// The entries of the list `key` of an API answer (none when it is absent).
pub fn rows<'a>(v: &'a Value, key: &str) -> &'a [Value] {
    v[key].as_array().map_or(&[], Vec::as_slice)
}

/// The topic names of a `/api/topics` answer.
pub fn topic_names(v: &Value) -> Vec<&str> {
    rows(v, "topics")
        .iter()
        .filter_map(|t| t["name"].as_str())
        .collect()
}

/// The row of `group` in a `/api/groups` answer.
pub fn group_row<'a>(v: &'a Value, group: &str) -> Option<&'a Value> {
    rows(v, "groups").iter().find(|g| g["group"] == group)
}

/// Writes a users file with `admin` (password `admin-pw`) and `viewer` (`viewer-pw`).
pub fn users_file(dir: &Path) -> Result<String> {
    let path = dir.join("users.properties");
    let text = format!(
        "# mqconsole users: name=role:argon2 hash\nadmin=admin:{}\nviewer=readonly:{}\n",
        rmq_console::hash_password("admin-pw").map_err(anyhow::Error::msg)?,
        rmq_console::hash_password("viewer-pw").map_err(anyhow::Error::msg)?,
    );
    std::fs::write(&path, text)?;
    Ok(path.to_string_lossy().into_owned())
}

/// The console's API as the page uses it.
pub struct Api {
    pub base: String,
    http: reqwest::Client,
    pub csrf: Option<String>,
}

impl Api {
    pub fn new(base: &str) -> Api {
        Api {
            base: base.to_owned(),
            http: reqwest::Client::builder()
                .cookie_store(true)
                .timeout(Duration::from_secs(30))
                .build()
                .expect("http client"),
            csrf: None,
        }
    }

    /// Logs in (or, without login, reads the session) and keeps the CSRF token.
    pub async fn login(base: &str, user: &str, password: &str) -> Result<Api> {
        let mut api = Api::new(base);
        let (status, body) = api
            .call(
                Method::POST,
                "/api/login",
                Some(json!({"user": user, "password": password})),
            )
            .await?;
        if status != StatusCode::OK {
            bail!("login as {user}: {status} {body}");
        }
        api.csrf = body["csrf"].as_str().map(str::to_owned);
        Ok(api)
    }

    /// The session of a console without login.
    pub async fn local(base: &str) -> Result<Api> {
        let mut api = Api::new(base);
        let body = api.ok(Method::GET, "/api/session", None).await?;
        api.csrf = body["csrf"].as_str().map(str::to_owned);
        Ok(api)
    }

    /// Any request: the status and the JSON answer (Null when there is none).
    pub async fn call(
        &self,
        method: Method,
        path: &str,
        body: Option<Value>,
    ) -> Result<(StatusCode, Value)> {
        let mut req = self.http.request(method, format!("{}{path}", self.base));
        if let Some(t) = &self.csrf {
            req = req.header("X-CSRF-Token", t);
        }
        if let Some(b) = body {
            req = req.json(&b);
        }
        let resp = req.send().await.with_context(|| path.to_owned())?;
        let status = resp.status();
        let text = resp.text().await?;
        let value = serde_json::from_str(&text).unwrap_or(Value::String(text));
        Ok((status, value))
    }

    /// A request that must succeed: its JSON answer.
    pub async fn ok(&self, method: Method, path: &str, body: Option<Value>) -> Result<Value> {
        let (status, value) = self.call(method.clone(), path, body).await?;
        if !status.is_success() {
            bail!("{method} {path}: {status} {value}");
        }
        Ok(value)
    }

    pub async fn get(&self, path: &str) -> Result<Value> {
        self.ok(Method::GET, path, None).await
    }

    pub async fn post(&self, path: &str, body: Value) -> Result<Value> {
        self.ok(Method::POST, path, Some(body)).await
    }

    /// The raw text of a GET (exports).
    pub async fn text(&self, path: &str) -> Result<(StatusCode, String, String)> {
        let resp = self.http.get(format!("{}{path}", self.base)).send().await?;
        let status = resp.status();
        let ctype = resp
            .headers()
            .get("content-type")
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
            .to_owned();
        Ok((status, ctype, resp.text().await?))
    }
}
