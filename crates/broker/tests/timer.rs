//! Timer messages across a SIGKILL: a broker process holding timer messages is killed before
//! they are due and started again; every message still reaches its topic, none before its time,
//! and the metrics show the backlog draining (`rmq_timer_backlog_messages`) and every delivery
//! (`rmq_timer_delivered_messages`, `rmq_timer_delivery_lag_seconds`).
#![allow(clippy::unwrap_used)]

mod common;
#[path = "../../client/tests/support/until.rs"]
mod poll;

use std::collections::BTreeMap;
use std::time::Duration;

use bytes::Bytes;
use common::cluster::create_topic;
use common::{client, pull_request, send_request_with, TIMEOUT};
use poll::until_within as until;
use rmq_common::message::keys;
use rmq_common::record::decode_messages;
use rmq_remoting::header::pull_sys_flag;
use rmq_remoting::ResponseCode;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

const TOPIC: &str = "TimerAfterKill";
const COUNT: usize = 20;

async fn scrape(port: u16) -> Option<String> {
    let mut s = tokio::net::TcpStream::connect(("127.0.0.1", port))
        .await
        .ok()?;
    s.write_all(b"GET /metrics HTTP/1.1\r\nHost: localhost\r\n\r\n")
        .await
        .ok()?;
    let mut out = String::new();
    s.read_to_string(&mut out).await.ok()?;
    Some(out)
}

/// The value of the sample line starting with `name ` (no labels).
fn sample(text: &str, name: &str) -> Option<f64> {
    text.lines()
        .find_map(|l| l.strip_prefix(name)?.strip_prefix(' '))
        .and_then(|v| v.trim().parse().ok())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn timer_messages_survive_a_sigkill_and_are_never_early() {
    let dir = rmq_testkit::test_dir("timer-kill");
    let (_ns, ns) = rmq_testkit::namesrv_process(dir.path(), "namesrv").unwrap();
    let metrics = rmq_testkit::free_port();
    let extra = format!(
        "metricsExporterType=PROM\nmetricsPromExporterHost=127.0.0.1\nmetricsPromExporterPort={metrics}\n"
    );
    let (broker, addr) = rmq_testkit::broker_process(dir.path(), "broker-a", &ns, &extra).unwrap();
    let c = client();
    create_topic(&c, &addr, TOPIC, 1).await;

    // Due 4-6 s from now, well after the kill and restart below start.
    let now = rmq_common::time::now_millis();
    let mut due = BTreeMap::new();
    for i in 0..COUNT {
        let at = now + 4_000 + (i as i64) * 100;
        let body = format!("t{i}");
        let at_s = at.to_string();
        let req = send_request_with(TOPIC, 0, b"", None, &[(keys::TIMER_DELIVER_MS, &at_s)])
            .with_body(Bytes::from(body.clone()));
        let r = c.invoke(&addr, req, TIMEOUT).await.unwrap();
        assert_eq!(r.response_code(), ResponseCode::Success, "{:?}", r.remark);
        due.insert(body, at);
    }
    let waiting = until(Duration::from_secs(10), "the backlog gauge", || async {
        let text = scrape(metrics).await?;
        let b = sample(&text, "rmq_timer_backlog_messages")?;
        (b >= COUNT as f64).then_some(b)
    })
    .await;
    assert_eq!(
        waiting, COUNT as f64,
        "timer messages waiting before the kill"
    );

    broker.kill().unwrap();
    let _broker = rmq_testkit::broker_restart(dir.path(), "broker-a", &ns, &addr).unwrap();

    // Every message reaches its topic, once, not before its time.
    let mut got: BTreeMap<String, i64> = BTreeMap::new();
    let deadline = tokio::time::Instant::now() + Duration::from_secs(60);
    while got.len() < COUNT {
        assert!(
            tokio::time::Instant::now() < deadline,
            "after the restart only {} of {COUNT} timer messages arrived: {got:?}",
            got.len()
        );
        let req = pull_request(
            "TimerReader",
            TOPIC,
            0,
            got.len() as i64,
            pull_sys_flag::SUBSCRIPTION | pull_sys_flag::SUSPEND,
            1_000,
            Some("*"),
        );
        let Ok(r) = c.invoke(&addr, req, TIMEOUT).await else {
            continue;
        };
        if r.response_code() != ResponseCode::Success {
            continue;
        }
        for m in decode_messages(&r.body).unwrap() {
            let body = String::from_utf8_lossy(&m.message.body).into_owned();
            assert!(
                got.insert(body.clone(), m.store_timestamp).is_none(),
                "{body} twice"
            );
        }
    }
    for (body, stored) in &got {
        let at = due[body];
        assert!(
            *stored >= at,
            "{body} stored in its topic at {stored}, {} ms before its time",
            at - stored
        );
    }
    let text = until(
        Duration::from_secs(10),
        "the metrics after delivery",
        || async {
            let text = scrape(metrics).await?;
            (sample(&text, "rmq_timer_backlog_messages")? == 0.0
                && sample(&text, "rmq_timer_delivered_messages_total")? >= COUNT as f64)
                .then_some(text)
        },
    )
    .await;
    assert!(
        sample(&text, "rmq_timer_delivery_lag_seconds_count").unwrap_or(0.0) >= COUNT as f64,
        "{text}"
    );
}
