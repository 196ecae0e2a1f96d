//! The console's JSON API over real HTTP against a real cluster: name server, broker and
//! `mqconsole` as processes, clients from `rmq_client`.
#![allow(clippy::unwrap_used)]

mod support;

use std::sync::Arc;
use std::time::Duration;

use parking_lot::Mutex;
use reqwest::{Method, StatusCode};
use rmq_client::Message;
use serde_json::{json, Value};
use support::until::until_within;
use support::{group_row, rows, topic_names, users_file, Api, Cluster};

const WAIT: Duration = Duration::from_secs(30);

/// Percent-encodes everything but letters and digits (client ids hold `@` and `#`).
fn enc(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'a'..=b'z' | b'A'..=b'Z' | b'0'..=b'9' | b'-' | b'_' | b'.' => (b as char).to_string(),
            _ => format!("%{b:02X}"),
        })
        .collect()
}

fn count(v: &Value, key: &str) -> usize {
    rows(v, key).len()
}

/// POSTs `form` to `path`, which must answer `status`: the answer.
async fn refused(api: &Api, path: &str, form: Value, status: StatusCode) -> Value {
    let (s, body) = api.call(Method::POST, path, Some(form)).await.unwrap();
    assert_eq!(s, status, "POST {path}: {body}");
    body
}

/// POSTs `form` to `path`, which must refuse it as bad input: the field it names.
async fn bad_field(api: &Api, path: &str, form: Value) -> String {
    let body = refused(api, path, form, StatusCode::BAD_REQUEST).await;
    body["field"].as_str().unwrap_or("<none>").to_owned()
}

async fn create_topic(api: &Api, name: &str, queues: i32) {
    api.post(
        "/api/topics",
        json!({"name": name, "readQueues": queues, "writeQueues": queues}),
    )
    .await
    .unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn login_roles_and_csrf_guard_every_change() {
    let dir = rmq_testkit::test_dir("rmq-console-users-");
    let users = users_file(dir.path()).unwrap();
    let c = Cluster::start(&["--users", &users]).unwrap();

    // No session: nothing but login.
    let anon = Api::new(&c.url);
    let (s, _) = anon.call(Method::GET, "/api/session", None).await.unwrap();
    assert_eq!(s, StatusCode::UNAUTHORIZED);
    let (s, _) = anon.call(Method::GET, "/api/topics", None).await.unwrap();
    assert_eq!(s, StatusCode::UNAUTHORIZED);
    let (s, body) = anon
        .call(
            Method::POST,
            "/api/login",
            Some(json!({"user": "admin", "password": "nope"})),
        )
        .await
        .unwrap();
    assert_eq!(s, StatusCode::UNAUTHORIZED, "{body}");

    // The read-only user sees, and is refused every change.
    let viewer = Api::login(&c.url, "viewer", "viewer-pw").await.unwrap();
    assert_eq!(
        viewer.get("/api/session").await.unwrap()["role"],
        "readonly"
    );
    viewer.get("/api/cluster").await.unwrap();
    let form = json!({"name": "ByViewer", "readQueues": 4, "writeQueues": 4});
    let body = refused(&viewer, "/api/topics", form, StatusCode::FORBIDDEN).await;
    assert!(body["error"].to_string().contains("read-only"), "{body}");

    // The admin without the CSRF token is refused; with it, the change is made and logged.
    let mut admin = Api::login(&c.url, "admin", "admin-pw").await.unwrap();
    let csrf = admin.csrf.take();
    let form = json!({"name": "ByAdmin", "readQueues": 4, "writeQueues": 4});
    let body = refused(&admin, "/api/topics", form, StatusCode::FORBIDDEN).await;
    assert!(body["error"].to_string().contains("x-csrf-token"), "{body}");
    admin.csrf = csrf;
    create_topic(&admin, "ByAdmin", 4).await;
    let topics = admin.get("/api/topics?kind=normal").await.unwrap();
    let names = topic_names(&topics);
    assert!(
        names.contains(&"ByAdmin") && !names.contains(&"ByViewer"),
        "{names:?}"
    );
    until_within(
        WAIT,
        "the change is logged with the user's name",
        || async {
            let log = c.console.log_text();
            log.lines()
                .any(|l| {
                    l.contains("console change")
                        && l.contains("user=\"admin\"")
                        && l.contains("/api/topics")
                })
                .then_some(())
        },
    )
    .await;

    // Logged out, the session is gone.
    admin.ok(Method::POST, "/api/logout", None).await.unwrap();
    let (s, _) = admin.call(Method::GET, "/api/session", None).await.unwrap();
    assert_eq!(s, StatusCode::UNAUTHORIZED);
}

/// Runs `mqconsole args`, which must refuse to start (exit code 1): what it said on stderr.
fn refused_at_start(args: &[&str]) -> String {
    let out = std::process::Command::new(rmq_testkit::binary("mqconsole").unwrap())
        .args(args)
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr).into_owned();
    assert_eq!(out.status.code(), Some(1), "{err}");
    err
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_a_users_file_it_answers_loopback_only() {
    let c = Cluster::start(&[]).unwrap();
    let api = Api::local(&c.url).await.unwrap();
    let s = api.get("/api/session").await.unwrap();
    assert_eq!(
        (s["user"].as_str(), s["loginRequired"].as_bool()),
        (Some("local"), Some(false))
    );
    assert!(
        c.console.log_text().contains("no --users file"),
        "{}",
        c.console.log_text()
    );
    // A page from another site that resolves its name to 127.0.0.1 is refused.
    let resp = reqwest::Client::new()
        .get(format!("{}/api/session", c.url))
        .header("Host", "evil.example:80")
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::FORBIDDEN);
    let resp = reqwest::Client::new()
        .post(format!("{}/api/login", c.url))
        .header("Host", "evil.example:80")
        .json(&json!({"user": "x", "password": "y"}))
        .send()
        .await
        .unwrap();
    assert_eq!(
        resp.status(),
        StatusCode::FORBIDDEN,
        "no CSRF token for a foreign host"
    );

    // Listening beyond loopback without login is refused at start, saying what to do.
    let err = refused_at_start(&["-n", &c.namesrv, "--listen", "0.0.0.0:0"]);
    assert!(err.contains("--users") && err.contains("0.0.0.0"), "{err}");

    // A users file with a plain-text password is refused, naming the user.
    let users = c.path().join("plain.properties");
    std::fs::write(&users, "admin=admin:hunter2\n").unwrap();
    let users = users.to_string_lossy();
    let err = refused_at_start(&[
        "-n",
        &c.namesrv,
        "--listen",
        "127.0.0.1:0",
        "--users",
        &users,
    ]);
    assert!(
        err.contains("\"admin\"") && err.contains("--hash-password"),
        "{err}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn topics_test_messages_and_lookups() {
    let c = Cluster::start(&[]).unwrap();
    let api = Api::local(&c.url).await.unwrap();

    // Bad input: the field is named, nothing reaches the cluster.
    for (form, field) in [
        (
            json!({"name": "bad name", "readQueues": 4, "writeQueues": 4}),
            "name",
        ),
        (
            json!({"name": "Neg", "readQueues": -1, "writeQueues": 4}),
            "readQueues",
        ),
        (
            json!({"name": "Big", "readQueues": 4, "writeQueues": 5000}),
            "writeQueues",
        ),
        (
            json!({"name": "Perm", "readQueues": 4, "writeQueues": 4, "perm": 7}),
            "perm",
        ),
    ] {
        assert_eq!(bad_field(&api, "/api/topics", form).await, field);
    }
    let all = api.get("/api/topics").await.unwrap();
    let names = topic_names(&all);
    assert!(
        !names.iter().any(|n| ["Neg", "Big", "Perm"].contains(n)),
        "{names:?}"
    );

    // Create a FIFO topic: listed under its kind, routed at once, with 4 queues.
    api.post(
        "/api/topics",
        json!({"name": "ConsoleFifo", "readQueues": 4, "writeQueues": 4, "messageType": "FIFO"}),
    )
    .await
    .unwrap();
    let fifo = api.get("/api/topics?kind=fifo").await.unwrap();
    assert_eq!(fifo["topics"][0]["name"], "ConsoleFifo", "{fifo}");
    let route = api.get("/api/topics/ConsoleFifo/route").await.unwrap();
    assert_eq!(route["queueDatas"][0]["writeQueueNums"], 4, "{route}");
    let system = api.get("/api/topics?kind=system").await.unwrap();
    assert!(system.to_string().contains("TBW102"), "{system}");

    // A test message, found by key, by both ids and by time.
    let sent = api
        .post(
            "/api/topics/ConsoleFifo/send",
            json!({"tag": "TagA", "key": "order-1", "body": "{\"n\":1}"}),
        )
        .await
        .unwrap();
    assert_eq!(sent["status"], "SEND_OK", "{sent}");
    let msg_id = sent["msgId"].as_str().unwrap().to_owned();
    let offset_id = sent["offsetMsgId"].as_str().unwrap().to_owned();
    let by_key = until_within(WAIT, "the message is found by key", || async {
        let v = api
            .get("/api/messages/by-key?topic=ConsoleFifo&key=order-1")
            .await
            .ok()?;
        (count(&v, "messages") == 1).then_some(v)
    })
    .await;
    assert_eq!(by_key["messages"][0]["msgId"], msg_id.as_str());
    for id in [&msg_id, &offset_id] {
        let m = api
            .get(&format!("/api/messages/by-id?topic=ConsoleFifo&id={id}"))
            .await
            .unwrap();
        assert_eq!(m["msgId"], msg_id.as_str(), "{m}");
        assert_eq!(m["tags"], "TagA");
        assert_eq!(m["body"]["text"], "{\"n\":1}");
        assert_eq!(m["body"]["json"], "{\n  \"n\": 1\n}");
        assert_eq!(m["body"]["hex"], "7b226e223a317d");
    }
    let (s, body) = api
        .call(
            Method::GET,
            "/api/messages/by-id?topic=ConsoleFifo&id=C0A8000100002A9F0000000000FFFFFF",
            None,
        )
        .await
        .unwrap();
    assert_eq!(s, StatusCode::NOT_FOUND, "{body}");
    let page = api.get("/api/messages?topic=ConsoleFifo").await.unwrap();
    assert_eq!(page["messages"][0]["msgId"], msg_id.as_str(), "{page}");
    assert_eq!(page["more"], false);

    // Queue offsets: one message in the queue it went to.
    let stats = api.get("/api/topics/ConsoleFifo/stats").await.unwrap();
    let queues = stats["queues"].as_array().unwrap();
    assert_eq!(queues.len(), 4, "{stats}");
    let max: i64 = queues
        .iter()
        .map(|q| q["maxOffset"].as_i64().unwrap())
        .sum();
    assert_eq!(max, 1, "{stats}");

    // Delete: gone from the list.
    api.ok(Method::DELETE, "/api/topics/ConsoleFifo", None)
        .await
        .unwrap();
    until_within(WAIT, "the deleted topic leaves the list", || async {
        let v = api.get("/api/topics").await.ok()?;
        (!v.to_string().contains("\"ConsoleFifo\"")).then_some(())
    })
    .await;
}

async fn backlog(api: &Api, group: &str) -> Option<i64> {
    api.get(&format!("/api/groups/{group}")).await.ok()?["backlog"].as_i64()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn consumer_backlog_reset_skip_and_dead_letters() {
    let c = Cluster::start(&[]).unwrap();
    let api = Api::local(&c.url).await.unwrap();
    create_topic(&api, "ConsoleOrders", 2).await;
    let producer = c.producer("PG-console").await;
    let before = rmq_common::time::now_millis() - 1;
    for i in 0..10 {
        producer
            .send(Message::new("ConsoleOrders", format!("m{i}")))
            .await
            .unwrap();
    }

    // A consumer drains the backlog; the group shows its client and a backlog of 0.
    let seen = Arc::new(Mutex::new(Vec::new()));
    let consumer = c
        .consumer("CG-console", "ConsoleOrders", false, seen.clone())
        .build()
        .await
        .unwrap();
    until_within(WAIT, "the backlog falls to 0", || async {
        let d = api.get("/api/groups/CG-console").await.ok()?;
        (d["backlog"] == 0 && count(&d, "clients") == 1 && count(&d, "queues") >= 2).then_some(())
    })
    .await;
    let list = api.get("/api/groups").await.unwrap();
    let row = group_row(&list, "CG-console");
    assert!(row.is_some_and(|g| g["clients"] == 1), "{list}");
    let d = api.get("/api/groups/CG-console").await.unwrap();
    let client = d["clients"][0]["clientId"].as_str().unwrap().to_owned();
    // The topic names its consumers; the group's consume TPS is measured by the sampler.
    let consumers = api
        .get("/api/topics/ConsoleOrders/consumers")
        .await
        .unwrap();
    assert_eq!(consumers["groups"][0]["group"], "CG-console", "{consumers}");
    assert_eq!(consumers["groups"][0]["backlog"], 0, "{consumers}");
    until_within(WAIT, "a measured consume TPS for the group", || async {
        let l = api.get("/api/groups").await.ok()?;
        group_row(&l, "CG-console")?["tps"].as_f64().map(|_| ())
    })
    .await;
    // Paging by time: ten messages, four to a page, newest first.
    let p0 = api
        .get("/api/messages?topic=ConsoleOrders&pageSize=4")
        .await
        .unwrap();
    let p2 = api
        .get("/api/messages?topic=ConsoleOrders&pageSize=4&page=2")
        .await
        .unwrap();
    assert_eq!(
        (count(&p0, "messages"), p0["more"].as_bool()),
        (4, Some(true)),
        "{p0}"
    );
    assert_eq!(
        (count(&p2, "messages"), p2["more"].as_bool()),
        (2, Some(false)),
        "{p2}"
    );
    assert!(
        p0["messages"][0]["storeTimestamp"].as_i64()
            >= p2["messages"][1]["storeTimestamp"].as_i64()
    );
    // Resend one message to the group: it comes back to this group only, under its topic.
    let one = p0["messages"][0]["msgId"].as_str().unwrap().to_owned();
    let body = api
        .get(&format!("/api/messages/by-id?topic=ConsoleOrders&id={one}"))
        .await
        .unwrap()["body"]["text"]
        .as_str()
        .unwrap()
        .to_owned();
    let before_resend = seen.lock().len();
    let r = api
        .post(
            "/api/messages/resend",
            json!({"topic": "ConsoleOrders", "id": one, "group": "CG-console"}),
        )
        .await
        .unwrap();
    assert_eq!(r["status"], "SEND_OK", "{r}");
    until_within(WAIT, "the resent message is consumed again", || async {
        let s = seen.lock();
        s[before_resend..]
            .contains(&format!("ConsoleOrders:{body}"))
            .then_some(())
    })
    .await;
    let running = api
        .get(&format!("/api/groups/CG-console/clients/{}", enc(&client)))
        .await
        .unwrap();
    assert!(
        running["subscriptionSet"]
            .to_string()
            .contains("ConsoleOrders"),
        "{running}"
    );
    consumer.shutdown().await;

    // Reset to before the sends: the backlog comes back; a time in the future is refused.
    assert_eq!(
        bad_field(
            &api,
            "/api/groups/CG-console/reset",
            json!({"topic": "ConsoleOrders", "timestamp": before + 86_400_000})
        )
        .await,
        "timestamp"
    );
    api.post(
        "/api/groups/CG-console/reset",
        json!({"topic": "ConsoleOrders", "timestamp": before}),
    )
    .await
    .unwrap();
    until_within(WAIT, "the backlog comes back after the reset", || async {
        (backlog(&api, "CG-console").await? == 10).then_some(())
    })
    .await;
    // The sampler records it over time.
    until_within(WAIT, "the backlog series has the reset", || async {
        let d = api.get("/api/groups/CG-console").await.ok()?;
        d["series"]
            .as_array()?
            .iter()
            .any(|p| p[1] == 10)
            .then_some(())
    })
    .await;
    // Skip it.
    api.post(
        "/api/groups/CG-console/skip",
        json!({"topic": "ConsoleOrders"}),
    )
    .await
    .unwrap();
    until_within(WAIT, "the backlog is skipped", || async {
        (backlog(&api, "CG-console").await? == 0).then_some(())
    })
    .await;

    // A group that fails every message (max reconsume 0) sends it to its DLQ.
    let failed = Arc::new(Mutex::new(Vec::new()));
    let failing = c
        .consumer("CG-dlq", "ConsoleOrders", true, failed.clone())
        .build()
        .await
        .unwrap();
    let dlq = until_within(WAIT, "ten messages in the DLQ", || async {
        let v = api.get("/api/dlq?group=CG-dlq").await.ok()?;
        (count(&v, "messages") == 10).then_some(v)
    })
    .await;
    failing.shutdown().await;
    let (s, ctype, lines) = api.text("/api/dlq/export?group=CG-dlq").await.unwrap();
    assert_eq!(
        (s, ctype.as_str()),
        (StatusCode::OK, "application/x-ndjson")
    );
    assert_eq!(lines.lines().count(), 10, "{lines}");
    for l in lines.lines() {
        let m: Value = serde_json::from_str(l).unwrap();
        assert_eq!(m["topic"], "%DLQ%CG-dlq", "{m}");
    }
    // Resend two of them: the group, now succeeding, gets them again under the original topic.
    let ids: Vec<String> = dlq["messages"].as_array().unwrap()[..2]
        .iter()
        .map(|m| m["msgId"].as_str().unwrap().to_owned())
        .collect();
    let bodies: Vec<String> = futures_bodies(&api, &ids).await;
    let r = api
        .post("/api/dlq/resend", json!({"group": "CG-dlq", "ids": ids}))
        .await
        .unwrap();
    assert!(
        r["results"]
            .as_array()
            .unwrap()
            .iter()
            .all(|x| x["ok"] == true),
        "{r}"
    );
    let again = Arc::new(Mutex::new(Vec::new()));
    let healed = c
        .consumer("CG-dlq", "ConsoleOrders", false, again.clone())
        .build()
        .await
        .unwrap();
    until_within(
        WAIT,
        "the resent dead letters are consumed again",
        || async {
            let s = again.lock();
            bodies
                .iter()
                .all(|b| s.contains(&format!("ConsoleOrders:{b}")))
                .then_some(())
        },
    )
    .await;
    healed.shutdown().await;
    producer.shutdown().await;
}

async fn futures_bodies(api: &Api, ids: &[String]) -> Vec<String> {
    let mut out = Vec::new();
    for id in ids {
        let m = api
            .get(&format!(
                "/api/messages/by-id?topic=%25DLQ%25CG-dlq&id={}",
                enc(id)
            ))
            .await
            .unwrap();
        out.push(m["body"]["text"].as_str().unwrap().to_owned());
    }
    out
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn overview_cluster_producers_and_name_servers() {
    let c = Cluster::start(&[]).unwrap();
    let api = Api::local(&c.url).await.unwrap();
    create_topic(&api, "ConsoleBusy", 2).await;
    let producer = c.producer("PG-busy").await;

    // The sampler measures traffic: keep sending until the overview shows this topic's TPS.
    let overview = until_within(
        WAIT,
        "put TPS and the busy topic on the overview",
        || async {
            producer.send(Message::new("ConsoleBusy", "x")).await.ok()?;
            let v = api.get("/api/overview").await.ok()?;
            let put = v["series"]["put"].as_array()?;
            let busy = v["topTopicsByTraffic"]
                .as_array()?
                .iter()
                .any(|t| t["name"] == "ConsoleBusy" && t["value"].as_f64() > Some(0.0));
            (put.iter().any(|p| p[1].as_f64() > Some(0.0)) && busy).then_some(v)
        },
    )
    .await;
    assert_eq!(overview["brokers"][0]["up"], true, "{overview}");
    assert_eq!(overview["namesrvs"][0]["up"], true, "{overview}");
    // System topics are not traffic users care about.
    assert!(
        !overview["topTopicsByTraffic"]
            .to_string()
            .contains("TBW102"),
        "{overview}"
    );

    let cluster = api.get("/api/cluster").await.unwrap();
    let b = &cluster["brokers"][0];
    assert_eq!(
        (b["addr"].as_str(), b["role"].as_str()),
        (Some(c.broker.as_str()), Some("ASYNC_MASTER")),
        "{cluster}"
    );
    assert!(
        b["version"].as_str().unwrap().starts_with("rmq"),
        "{cluster}"
    );
    assert!(
        b.get("epoch").is_none(),
        "no controller mode, no epoch: {cluster}"
    );

    // Broker config: read, change, read back.
    let cfg = api
        .get(&format!("/api/broker/config?addr={}", c.broker))
        .await
        .unwrap();
    assert_eq!(cfg["config"]["brokerName"], "broker-a");
    api.post(
        "/api/broker/config",
        json!({"addr": c.broker, "changes": {"maxMessageSize": "2097152"}}),
    )
    .await
    .unwrap();
    let cfg = api
        .get(&format!("/api/broker/config?addr={}", c.broker))
        .await
        .unwrap();
    assert_eq!(cfg["config"]["maxMessageSize"], "2097152");

    // Consumer groups: a bad name is refused by field; created, listed, deleted.
    assert_eq!(
        bad_field(&api, "/api/groups", json!({"group": "no spaces"})).await,
        "group"
    );
    assert_eq!(
        bad_field(
            &api,
            "/api/groups",
            json!({"group": "CG-made", "retryMaxTimes": -3})
        )
        .await,
        "retryMaxTimes"
    );
    api.post(
        "/api/groups",
        json!({"group": "CG-made", "retryMaxTimes": 3}),
    )
    .await
    .unwrap();
    let listed = |v: &Value| group_row(v, "CG-made").is_some();
    assert!(listed(&api.get("/api/groups").await.unwrap()));
    api.ok(Method::DELETE, "/api/groups/CG-made", None)
        .await
        .unwrap();
    assert!(!listed(&api.get("/api/groups").await.unwrap()));

    // Producers by group.
    until_within(WAIT, "the producer's connection is listed", || async {
        let conns = api.get("/api/producers?group=PG-busy").await.ok()?;
        (conns["connections"][0]["clientId"].as_str() == Some(producer.client_id())).then_some(())
    })
    .await;

    // Name servers: a second one, switched to; a bad address is refused by field.
    let (_ns2, second) = rmq_testkit::namesrv_process(c.path(), "namesrv2").unwrap();
    assert_eq!(
        bad_field(&api, "/api/namesrv", json!({"addr": "nowhere"})).await,
        "addr"
    );
    let switched = api
        .post("/api/namesrv", json!({"addr": second}))
        .await
        .unwrap();
    assert_eq!(switched["current"], second.as_str());
    assert_eq!(count(&switched, "list"), 2, "{switched}");
    // That name server knows no broker.
    let overview = api.get("/api/overview").await.unwrap();
    assert_eq!(count(&overview, "brokers"), 0, "{overview}");
    producer.shutdown().await;
}

/// With ACL on the broker, the console signs as the account it is given: topic creation (an
/// admin request) and a test message go through.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn with_acl_the_console_signs_as_its_account() {
    let acl = tempfile::tempdir().unwrap();
    let file = acl.path().join("plain_acl.yml");
    std::fs::write(
        &file,
        "accounts:\n  - accessKey: conadmin\n    secretKey: console-secret\n    admin: true\n",
    )
    .unwrap();
    let c = Cluster::start_with(
        &["--access-key", "conadmin", "--secret-key", "console-secret"],
        &format!("aclEnable=true\naclFile={}", file.display()),
    )
    .unwrap();
    let api = Api::local(&c.url).await.unwrap();
    create_topic(&api, "ConsoleAcl", 2).await;
    let sent = until_within(WAIT, "the console sends to the new topic", || async {
        api.post("/api/topics/ConsoleAcl/send", json!({"body": "signed"}))
            .await
            .ok()
            .filter(|s| s["status"] == "SEND_OK")
    })
    .await;
    assert!(sent["msgId"].as_str().is_some(), "{sent}");
    let all = api.get("/api/topics").await.unwrap();
    assert!(topic_names(&all).contains(&"ConsoleAcl"), "{all}");
}
