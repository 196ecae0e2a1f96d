//! The name server's Prometheus endpoint, scraped over real HTTP.
#![allow(clippy::unwrap_used)]

use rmq_remoting::{ClientConfig, RemotingClient, RemotingCommand, RequestCode};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

#[tokio::test]
async fn requests_and_topics_are_exposed() {
    let dir = tempfile::tempdir().unwrap();
    let port = rmq_testkit::free_port();
    let config = rmq_namesrv::NamesrvConfig {
        kv_config_path: dir.path().join("kv.json"),
        bind_address: "127.0.0.1".into(),
        listen_port: 0,
        metrics_exporter_type: "PROM".into(),
        metrics_prom_exporter_host: "127.0.0.1".into(),
        metrics_prom_exporter_port: port,
        ..Default::default()
    };
    let listener = rmq_namesrv::bind(&config).await.unwrap();
    let ns = rmq_namesrv::start(config, listener).await.unwrap();
    let c = RemotingClient::new(ClientConfig::default());
    c.invoke(
        &ns.local_addr().to_string(),
        RemotingCommand::new_request(RequestCode::GetBrokerClusterInfo),
        std::time::Duration::from_secs(5),
    )
    .await
    .unwrap();
    let mut s = tokio::net::TcpStream::connect(("127.0.0.1", port))
        .await
        .unwrap();
    s.write_all(b"GET /metrics HTTP/1.1\r\n\r\n").await.unwrap();
    let mut text = String::new();
    s.read_to_string(&mut text).await.unwrap();
    assert!(
        text.contains(r#"rmq_namesrv_requests_total{code="GET_BROKER_CLUSTER_INFO"} 1"#),
        "{text}"
    );
    assert!(text.contains("rmq_namesrv_topics 0"), "{text}");
    ns.shutdown().await;
}
