//! TLS on the remoting port from the outside: real `mqnamesrv` and `mqbroker` processes with
//! Apache's `tls.server.mode`. Permissive (the default) serves a plain and a TLS client at once;
//! enforcing serves TLS clients and refuses plain ones; certificate files of one's own are
//! served and checked by a client trusting their CA; a missing key file stops the broker,
//! naming the file.
#![allow(clippy::unwrap_used, clippy::expect_used)]

#[path = "support/collect.rs"]
mod collect;
#[path = "support/until.rs"]
mod until;

use std::path::Path;
use std::time::Duration;

use rmq_client::{Admin, Message, Producer, PushConsumer, TopicConfig, TopicTarget};
use rmq_remoting::{ClientConfig, ClientTls, RemotingClient, RemotingCommand, RequestCode};
use rmq_testkit::{binary, broker_process, free_port, test_dir, Daemon};
use until::until_within;

const LIMIT: Duration = Duration::from_secs(30);

/// A name server with `extra` properties; returns it and its address.
fn namesrv(dir: &Path, extra: &str) -> (Daemon, String) {
    let port = free_port();
    let conf = dir.join("namesrv.properties");
    std::fs::write(
        &conf,
        format!(
            "listenPort={port}\nkvConfigPath={}\n{extra}\n",
            dir.join("kv.json").display()
        ),
    )
    .unwrap();
    let logs = dir.join("logs");
    let conf = conf.to_string_lossy().into_owned();
    let mut d = Daemon::start(
        "namesrv",
        &binary("mqnamesrv").unwrap(),
        &["-c", &conf],
        &logs,
    )
    .unwrap();
    let addr = format!("127.0.0.1:{port}");
    d.wait_listening(addr.parse().unwrap(), Duration::from_secs(20))
        .unwrap();
    (d, addr)
}

async fn create_topic(ns: &str, tls: bool, topic: &str) {
    let admin = Admin::builder()
        .name_server(ns)
        .use_tls(tls)
        .build()
        .await
        .unwrap();
    until_within(LIMIT, "the topic is created", || async {
        admin
            .create_topic(
                TopicTarget::Cluster("DefaultCluster".into()),
                &TopicConfig::new(topic, 4, 4, 6),
            )
            .await
            .ok()
    })
    .await;
    admin.shutdown().await;
}

async fn producer(ns: &str, tls: bool) -> Producer {
    Producer::builder()
        .group(if tls {
            "TlsProducers"
        } else {
            "PlainProducers"
        })
        .name_server(ns)
        .use_tls(tls)
        .retry_times_when_send_failed(0)
        .build()
        .await
        .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn permissive_serves_plain_and_tls_clients_at_once() {
    let dir = test_dir("tls-permissive");
    let (_ns_d, ns) = namesrv(dir.path(), "");
    let (_b_d, _) = broker_process(dir.path(), "broker-a", &ns, "").unwrap();
    create_topic(&ns, false, "TlsMixed").await;
    let (plain, tls) = (producer(&ns, false).await, producer(&ns, true).await);
    for i in 0..10 {
        plain
            .send(Message::new("TlsMixed", format!("plain-{i}")))
            .await
            .unwrap();
        tls.send(Message::new("TlsMixed", format!("tls-{i}")))
            .await
            .unwrap();
    }
    let (consumer, got) = collect::collecting(
        PushConsumer::builder()
            .group("TlsConsumers")
            .name_server(&ns)
            .use_tls(true)
            .subscribe("TlsMixed", "*"),
    )
    .await;
    until_within(LIMIT, "a TLS consumer receives all 20", || async {
        (got.lock().len() >= 20).then_some(())
    })
    .await;
    let got = got.lock().clone();
    assert!(
        got.iter().any(|b| b.starts_with("plain-")) && got.iter().any(|b| b.starts_with("tls-"))
    );
    consumer.shutdown().await;
    plain.shutdown().await;
    tls.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn enforcing_refuses_plain_clients() {
    let dir = test_dir("tls-enforcing");
    let (_ns_d, ns) = namesrv(dir.path(), "tls.server.mode=enforcing");
    let (_b_d, broker) = broker_process(
        dir.path(),
        "broker-a",
        &ns,
        "tls.server.mode=enforcing\ntls.enable=true",
    )
    .unwrap();
    create_topic(&ns, true, "TlsOnly").await;
    let tls = producer(&ns, true).await;
    until_within(LIMIT, "a TLS producer sends", || async {
        tls.send(Message::new("TlsOnly", "over tls")).await.ok()
    })
    .await;
    tls.shutdown().await;

    // A plain client gets no answer from either daemon: the connection is closed.
    let plain = RemotingClient::new(ClientConfig::default());
    for addr in [&ns, &broker] {
        let e = plain
            .invoke(
                addr,
                RemotingCommand::new_request(RequestCode::GetBrokerRuntimeInfo),
                Duration::from_secs(5),
            )
            .await
            .expect_err("a plain request to an enforcing port must fail");
        assert!(!e.to_string().is_empty());
    }
    // mqadmin with --use-tls works.
    let out = std::process::Command::new(binary("mqadmin").unwrap())
        .args(["clusterList", "-n", &ns, "--use-tls"])
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success() && text.contains("broker-a"),
        "{text}{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn own_certificate_files_are_served_and_a_missing_key_stops_the_broker() {
    let dir = test_dir("tls-files");
    let generated =
        rcgen::generate_simple_self_signed(vec!["localhost".to_owned(), "127.0.0.1".to_owned()])
            .unwrap();
    let (cert, key) = (dir.path().join("broker.pem"), dir.path().join("broker.key"));
    std::fs::write(&cert, generated.cert.pem()).unwrap();
    std::fs::write(&key, generated.signing_key.serialize_pem()).unwrap();
    let (_ns_d, ns) = namesrv(dir.path(), "");
    let extra = format!(
        "tls.server.mode=enforcing\ntls.server.certPath={}\ntls.server.keyPath={}\n",
        cert.display(),
        key.display()
    );
    let (_b_d, broker) = broker_process(dir.path(), "broker-a", &ns, &extra).unwrap();
    // A client that checks the server's certificate against it (the broker's own CA).
    let checking = RemotingClient::new(ClientConfig {
        tls: Some(ClientTls::trusting(&cert).unwrap()),
        ..ClientConfig::default()
    });
    let r = checking
        .invoke(
            &broker,
            RemotingCommand::new_request(RequestCode::GetBrokerRuntimeInfo),
            Duration::from_secs(5),
        )
        .await
        .unwrap();
    assert!(r.is_success(), "{r:?}");

    // An expired certificate is served, and logged as expired, naming the file.
    let mut params = rcgen::CertificateParams::new(vec!["localhost".to_owned()]).unwrap();
    params.not_before = rcgen::date_time_ymd(2001, 1, 1);
    params.not_after = rcgen::date_time_ymd(2002, 1, 1);
    let old_key = rcgen::KeyPair::generate().unwrap();
    let old = params.self_signed(&old_key).unwrap();
    let (old_cert, old_key_file) = (dir.path().join("old.pem"), dir.path().join("old.key"));
    std::fs::write(&old_cert, old.pem()).unwrap();
    std::fs::write(&old_key_file, old_key.serialize_pem()).unwrap();
    let extra = format!(
        "tls.server.certPath={}\ntls.server.keyPath={}\n",
        old_cert.display(),
        old_key_file.display()
    );
    let (expired, _) = broker_process(dir.path(), "broker-c", &ns, &extra).unwrap();
    // The port accepts (the kernel's backlog) a moment before the broker has read its TLS files.
    let log = until_within(LIMIT, "the broker logs the expired certificate", || async {
        Some(expired.log_text()).filter(|l| l.contains("EXPIRED"))
    })
    .await;
    assert!(log.contains("old.pem"), "{log}");

    // A broker whose key file is missing does not start, and says which file.
    let missing = dir.path().join("nope.key");
    let extra = format!(
        "tls.server.certPath={}\ntls.server.keyPath={}\n",
        cert.display(),
        missing.display()
    );
    // Its port may accept (the kernel's backlog) for the moment before it reads the files and
    // exits, so the answer is either a failed start or a log that says why it stopped.
    let text = match broker_process(dir.path(), "broker-b", &ns, &extra) {
        Err(e) => format!("{e:#}"),
        Ok((d, _)) => {
            until_within(LIMIT, "the broker says why it stops", || async {
                Some(d.log_text()).filter(|l| l.contains("nope.key"))
            })
            .await
        }
    };
    assert!(
        text.contains("nope.key") && text.contains("No such file"),
        "{text}"
    );
}
