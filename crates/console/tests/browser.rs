//! The console in a real browser (headless Chromium over WebDriver) against a real cluster:
//! log in, look at every page, create a topic (a bad name is refused next to the field), send
//! a test message and find it by key and by id, watch a consumer's backlog fall to zero, reset
//! its offset and see the backlog come back, resend a dead letter, and see that a read-only
//! user is offered no change. Screenshots of each page go to `target/console-screenshots/`.
#![allow(clippy::unwrap_used)]

mod support;

use std::sync::Arc;
use std::time::Duration;

use parking_lot::Mutex;
use rmq_client::Message;
use support::browser::Browser;
use support::until::until_within;
use support::{users_file, Api, Cluster};

const WAIT: Duration = Duration::from_secs(30);

async fn login(b: &Browser, user: &str, password: &str) {
    b.open("").await.unwrap();
    b.fill("login-user", user).await;
    b.fill("login-password", password).await;
    b.click("login-submit").await;
    b.wait_text("#whoami", "logged in", |t| t.starts_with(user))
        .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_operator_works_through_every_page() {
    let dir = rmq_testkit::test_dir("rmq-console-browser-");
    let users = users_file(dir.path()).unwrap();
    let c = Cluster::start(&["--users", &users]).unwrap();
    let api = Api::login(&c.url, "admin", "admin-pw").await.unwrap();
    let b = Browser::start(&c.url, &c.path().join("logs"))
        .await
        .unwrap();

    // A wrong password is answered on the form; the right one opens the overview.
    b.open("").await.unwrap();
    b.fill("login-user", "admin").await;
    b.fill("login-password", "wrong").await;
    b.click("login-submit").await;
    b.wait_text("#login-error", "a refused login says so", |t| !t.is_empty())
        .await;
    b.shot("login").await;
    login(&b, "admin", "admin-pw").await;
    b.page("overview").await;
    b.wait_text("#overview-brokers", "the broker is listed up", |t| {
        t.contains(&c.broker)
    })
    .await;

    b.click("nav-cluster").await;
    b.page("cluster").await;
    b.wait_text("#cluster-brokers", "the broker's role", |t| {
        t.contains("ASYNC_MASTER")
    })
    .await;

    // Topics: a name Apache would refuse is answered next to the field and never sent.
    b.click("nav-topics").await;
    b.page("topics").await;
    b.fill("topic-name", "bad name").await;
    b.click("topic-create").await;
    b.wait_text(
        "#err-topic-name",
        "the bad name is refused by the field",
        |t| !t.is_empty(),
    )
    .await;
    b.fill("topic-name", "WebOrders").await;
    b.fill("topic-read-queues", "-2").await;
    b.click("topic-create").await;
    b.wait_text(
        "#err-topic-readQueues",
        "a negative queue count is refused",
        |t| !t.is_empty(),
    )
    .await;
    let topics = api.get("/api/topics").await.unwrap().to_string();
    assert!(
        !topics.contains("bad name") && !topics.contains("WebOrders"),
        "{topics}"
    );
    b.fill("topic-read-queues", "2").await;
    b.fill("topic-write-queues", "2").await;
    b.click("topic-create").await;
    b.click_css("#topic-list tr[data-topic=\"WebOrders\"] a")
        .await;
    b.css("#topic-detail").await;

    // A test message, then find it by key and by id.
    b.fill("send-key", "web-key-1").await;
    b.fill("send-body", "hello from the browser").await;
    b.click("send-submit").await;
    let sent = b.css("#send-result[data-msg-id]").await;
    let msg_id = sent.attr("data-msg-id").await.unwrap().unwrap();
    let offset_id = sent.attr("data-offset-msg-id").await.unwrap().unwrap();
    b.wait_text("#topic-stats", "the queue stats show the message", |t| {
        t.contains('1')
    })
    .await;
    b.shot("topic-detail").await;

    b.click("nav-messages").await;
    b.page("messages").await;
    b.fill("msg-key-topic", "WebOrders").await;
    b.fill("msg-key", "web-key-1").await;
    b.click("msg-by-key").await;
    b.css(&format!("#msg-results tr[data-msg-id=\"{msg_id}\"]"))
        .await;
    b.fill("msg-id-topic", "WebOrders").await;
    b.fill("msg-id", &offset_id).await;
    b.click("msg-by-id").await;
    b.wait_text("#msg-body", "the message body by id", |t| {
        t == "hello from the browser"
    })
    .await;
    b.shot("messages").await;

    // A consumer's backlog falls to zero; reset to before the sends and it comes back.
    let producer = c.producer("PG-web").await;
    for i in 0..20 {
        producer
            .send(Message::new("WebOrders", format!("order-{i}")))
            .await
            .unwrap();
    }
    let seen = Arc::new(Mutex::new(Vec::new()));
    let reader = c
        .consumer("CG-web", "WebOrders", false, seen.clone())
        .build()
        .await
        .unwrap();
    b.open("#/consumers/CG-web").await.unwrap();
    b.wait_text("#group-backlog", "the backlog falls to zero", |t| t == "0")
        .await;
    b.wait_text("#group-clients", "the consumer is listed", |t| {
        t.contains("@")
    })
    .await;
    reader.shutdown().await;
    b.shot("consumer-detail").await;
    b.set_value("reset-topic", "WebOrders").await;
    b.set_value("reset-timestamp", "2020-01-01T00:00").await;
    b.click("reset-submit").await;
    b.wait_text(
        "#group-backlog",
        "the backlog comes back after the reset",
        |t| t == "21",
    )
    .await;
    b.click("nav-consumers").await;
    b.page("consumers").await;
    b.css("#group-list tr[data-group=\"CG-web\"]").await;

    b.click("nav-producers").await;
    b.page("producers").await;
    b.fill("producer-group", "PG-web").await;
    b.click("producer-search").await;
    b.wait_text("#producer-connections", "the producer's connection", |t| {
        t.contains(producer.client_id())
    })
    .await;
    b.shot("producers").await;

    // A group that fails every message fills its DLQ; resend one from the page and the group,
    // now succeeding, consumes it again.
    let failed = Arc::new(Mutex::new(Vec::new()));
    let failing = c
        .consumer("CG-webdlq", "WebOrders", true, failed.clone())
        .build()
        .await
        .unwrap();
    until_within(WAIT, "21 dead letters", || async {
        let v = api
            .get("/api/dlq?group=CG-webdlq&begin=0&pageSize=100")
            .await
            .ok()?;
        (v["messages"].as_array()?.len() == 21).then_some(())
    })
    .await;
    failing.shutdown().await;
    b.click("nav-dlq").await;
    b.page("dlq").await;
    b.fill("dlq-group", "CG-webdlq").await;
    b.click("dlq-search").await;
    let first = b.css("#dlq-results tr[data-msg-id] input.dlq-select").await;
    let resent_id = first.attr("value").await.unwrap().unwrap();
    first.click().await.unwrap();
    b.click("dlq-resend").await;
    b.wait_text("#dlq-resend-result", "the resend succeeded", |t| {
        t.contains("ok")
    })
    .await;
    b.shot("dlq").await;
    let body = api
        .get(&format!(
            "/api/messages/by-id?topic=%25DLQ%25CG-webdlq&id={resent_id}"
        ))
        .await
        .unwrap()["body"]["text"]
        .as_str()
        .unwrap()
        .to_owned();
    let again = Arc::new(Mutex::new(Vec::new()));
    let healed = c
        .consumer("CG-webdlq", "WebOrders", false, again.clone())
        .build()
        .await
        .unwrap();
    until_within(WAIT, "the resent dead letter is consumed again", || async {
        again
            .lock()
            .contains(&format!("WebOrders:{body}"))
            .then_some(())
    })
    .await;
    healed.shutdown().await;

    b.click("nav-namesrv").await;
    b.page("namesrv").await;
    b.wait_text("#namesrv-current", "the name server in use", |t| {
        t.contains(&c.namesrv)
    })
    .await;

    // The overview's charts fill from the sampler.
    b.click("nav-overview").await;
    b.wait_text(
        "#top-topics-traffic",
        "WebOrders among the busiest topics",
        |t| t.contains("WebOrders"),
    )
    .await;
    b.page("overview").await;

    // A read-only user sees the pages but is offered no change.
    b.click("logout").await;
    b.css("#login-form").await;
    login(&b, "viewer", "viewer-pw").await;
    b.click("nav-topics").await;
    b.page("topics").await;
    assert!(
        !b.displayed("#topic-create").await,
        "a read-only user is offered topic creation"
    );
    b.shot("topics-readonly").await;

    producer.shutdown().await;
    let _ = b.client.close().await;
}
