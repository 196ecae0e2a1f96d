//! The broker's Prometheus endpoint, scraped over real HTTP.
#![allow(clippy::unwrap_used)]

mod common;

use common::*;
use rmq_remoting::header::{pull_sys_flag, UpdateConsumerOffsetRequestHeader};
use rmq_remoting::{RemotingCommand, RequestCode, ResponseCode};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

async fn scrape(port: u16) -> String {
    let mut s = tokio::net::TcpStream::connect(("127.0.0.1", port))
        .await
        .unwrap();
    s.write_all(b"GET /metrics HTTP/1.1\r\nHost: localhost\r\n\r\n")
        .await
        .unwrap();
    let mut out = String::new();
    s.read_to_string(&mut out).await.unwrap();
    out
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn metrics_count_traffic_and_lag() {
    let dir = tempfile::tempdir().unwrap();
    let port = rmq_testkit::free_port();
    let broker = start(config(
        dir.path(),
        &[
            ("metricsExporterType", "PROM"),
            ("metricsPromExporterHost", "127.0.0.1"),
            ("metricsPromExporterPort", &port.to_string()),
        ],
    ))
    .await;
    let addr = broker.local_addr().to_string();
    let c = client();
    for _ in 0..3 {
        let r = c
            .invoke(&addr, send_request("Measured", 0, b"12345", None), TIMEOUT)
            .await
            .unwrap();
        assert_eq!(r.response_code(), ResponseCode::Success);
    }
    // Pull until all three are in the consume queue (dispatch follows the append).
    loop {
        let r = pull_until_found(&c, &addr, || {
            pull_request(
                "GM",
                "Measured",
                0,
                0,
                pull_sys_flag::SUBSCRIPTION,
                0,
                Some("*"),
            )
        })
        .await;
        let h: rmq_remoting::header::PullMessageResponseHeader = r.decode_header().unwrap();
        if h.max_offset == 3 {
            break;
        }
    }
    c.invoke(&addr, heartbeat("c1", "GM", "Measured", "*"), TIMEOUT)
        .await
        .unwrap();
    let upd = UpdateConsumerOffsetRequestHeader {
        consumer_group: "GM".into(),
        topic: "Measured".into(),
        queue_id: 0,
        commit_offset: 1,
        rpc: Default::default(),
    };
    c.invoke(
        &addr,
        RemotingCommand::request(RequestCode::UpdateConsumerOffset, &upd),
        TIMEOUT,
    )
    .await
    .unwrap();
    let text = scrape(port).await;
    assert!(text.starts_with("HTTP/1.1 200"), "{text}");
    assert!(
        text.contains(r#"rmq_broker_messages_in_total{topic="Measured"} 3"#),
        "{text}"
    );
    assert!(
        text.contains(r#"rmq_broker_bytes_in_total{topic="Measured"} 15"#),
        "{text}"
    );
    let out: u64 = text
        .lines()
        .find_map(|l| l.strip_prefix(r#"rmq_broker_messages_out_total{topic="Measured"} "#))
        .and_then(|v| v.trim().parse().ok())
        .unwrap_or(0);
    assert!(out >= 3, "pulled messages are counted: {text}");
    assert!(
        text.contains(r#"rmq_broker_consumer_lag_messages{group="GM",topic="Measured"} 2"#),
        "{text}"
    );
    assert!(
        text.contains(r#"rmq_broker_request_duration_seconds_count{code="SEND_MESSAGE_V2"} 3"#),
        "{text}"
    );
    broker.shutdown().await;
}
