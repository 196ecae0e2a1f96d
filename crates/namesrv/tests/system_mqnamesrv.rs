//! System tests of the real `mqnamesrv` binary: started as a child process on a free port with a
//! temp KV path and log dir, spoken to over the wire, stopped with SIGTERM.

#![allow(clippy::unwrap_used)]

#[path = "../../client/tests/support/until.rs"]
mod poll;

use std::net::SocketAddr;
use std::path::Path;
use std::process::Command;
use std::time::Duration;

use rmq_common::TopicConfig;
use rmq_remoting::body::{JsonBody, RegisterBrokerBody, TopicRouteData};
use rmq_remoting::header::{GetRouteInfoRequestHeader, RegisterBrokerRequestHeader};
use rmq_remoting::{ClientConfig, RemotingClient, RemotingCommand, RequestCode};
use rmq_testkit::{free_port, test_dir, Daemon};

const BIN: &str = env!("CARGO_BIN_EXE_mqnamesrv");

fn write_config(dir: &Path, port: u16) -> String {
    let conf = dir.join("namesrv.properties");
    std::fs::write(
        &conf,
        format!(
            "listenPort={port}\nbindAddress=127.0.0.1\nkvConfigPath={}\nnoSuchKey=1\n",
            dir.join("kv/kvConfig.json").display()
        ),
    )
    .unwrap();
    conf.display().to_string()
}

/// Starts `mqnamesrv -c conf` logging under `logs`; returns it once each of `ports` listens,
/// and a runtime to talk to it.
fn start_listening(conf: &str, logs: &Path, ports: &[u16]) -> (Daemon, tokio::runtime::Runtime) {
    let log_dir = logs.display().to_string();
    let mut daemon = Daemon::start(
        "mqnamesrv",
        Path::new(BIN),
        &["-c", conf, "--log-dir", &log_dir],
        logs,
    )
    .unwrap();
    for p in ports {
        let addr: SocketAddr = format!("127.0.0.1:{p}").parse().unwrap();
        daemon
            .wait_listening(addr, Duration::from_secs(10))
            .unwrap();
    }
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    (daemon, runtime)
}

#[test]
fn serves_routes_and_stops_cleanly_on_sigterm() {
    let dir = test_dir("mqnamesrv-system");
    let port = free_port();
    let conf = write_config(dir.path(), port);
    let logs = dir.path().join("logs");
    let (daemon, runtime) = start_listening(&conf, &logs, &[port]);
    let addr: SocketAddr = format!("127.0.0.1:{port}").parse().unwrap();

    runtime.block_on(async {
        let client = RemotingClient::new(ClientConfig::default());
        let mut body = RegisterBrokerBody::default();
        for t in ["TopicTest", "TBW102"] {
            body.topic_config_serialize_wrapper
                .topic_config_table
                .insert(t.into(), TopicConfig::new(t, 4, 4, 6));
        }
        let header = RegisterBrokerRequestHeader {
            broker_name: "broker-a".into(),
            broker_addr: "127.0.0.1:10911".into(),
            cluster_name: "DefaultCluster".into(),
            ha_server_addr: "127.0.0.1:10912".into(),
            broker_id: 0,
            ..Default::default()
        };
        let reg =
            RemotingCommand::request(RequestCode::RegisterBroker, &header).with_body(body.encode());
        let timeout = Duration::from_secs(3);
        let r = client
            .invoke(&addr.to_string(), reg, timeout)
            .await
            .unwrap();
        assert_eq!(r.code, 0, "{:?}", r.remark);
        let q = RemotingCommand::request(
            RequestCode::GetRouteinfoByTopic,
            &GetRouteInfoRequestHeader {
                topic: "TopicTest".into(),
                ..Default::default()
            },
        );
        let r = client.invoke(&addr.to_string(), q, timeout).await.unwrap();
        assert_eq!(r.code, 0);
        let route = TopicRouteData::from_json_bytes(&r.body).unwrap();
        assert_eq!(route.broker_datas[0].broker_addrs[&0], "127.0.0.1:10911");
        client.shutdown().await;
    });

    let log = daemon.log_text();
    assert!(
        log.contains("The Name Server boot success. serializeType=JSON"),
        "{log}"
    );
    assert!(
        log.contains("noSuchKey"),
        "unknown key not warned about:\n{log}"
    );
    let status = daemon.terminate(Duration::from_secs(10)).unwrap();
    assert_eq!(status.code(), Some(0), "exit status {status}");
    let file_log = std::fs::read_to_string(logs.join("namesrv.log")).unwrap();
    assert!(file_log.contains("name server stopped"), "{file_log}");
}

#[test]
fn port_in_use_is_one_line_and_exit_code_1() {
    let dir = test_dir("mqnamesrv-port");
    let taken = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = taken.local_addr().unwrap().port();
    let conf = write_config(dir.path(), port);
    let out = Command::new(BIN)
        .args(["-c", &conf, "--log-dir"])
        .arg(dir.path().join("logs"))
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
    assert!(stderr.contains(&format!("port {port}")), "{stderr}");
    assert!(!stderr.contains("panicked"), "{stderr}");
}

#[test]
fn bad_value_names_key_and_value_and_print_config_works() {
    let dir = test_dir("mqnamesrv-config");
    let conf = dir.path().join("bad.properties");
    std::fs::write(&conf, "scanNotActiveBrokerInterval=soon\n").unwrap();
    let out = Command::new(BIN)
        .arg("-c")
        .arg(&conf)
        .arg("-p")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("scanNotActiveBrokerInterval") && stderr.contains("soon"),
        "{stderr}"
    );

    std::fs::write(&conf, "listenPort=9999\n").unwrap();
    let out = Command::new(BIN)
        .arg("-c")
        .arg(&conf)
        .arg("-p")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0));
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(stdout.lines().any(|l| l == "listenPort=9999"), "{stdout}");
    assert!(stdout.lines().all(|l| l.contains('=')), "{stdout}");
}

#[test]
fn log_dir_property_puts_namesrv_log_there() {
    let dir = test_dir("mqnamesrv-logdir");
    let port = free_port();
    let logs = dir.path().join("from-property");
    let conf = dir.path().join("ns.properties");
    std::fs::write(
        &conf,
        format!(
            "listenPort={port}\nbindAddress=127.0.0.1\nkvConfigPath={}\nlogDir={}\n",
            dir.path().join("kv.json").display(),
            logs.display()
        ),
    )
    .unwrap();
    let conf = conf.display().to_string();
    let out = dir.path().join("out");
    let mut daemon = Daemon::start("mqnamesrv", Path::new(BIN), &["-c", &conf], &out).unwrap();
    daemon
        .wait_listening(
            format!("127.0.0.1:{port}").parse().unwrap(),
            Duration::from_secs(10),
        )
        .unwrap();
    let status = daemon.terminate(Duration::from_secs(10)).unwrap();
    assert_eq!(status.code(), Some(0), "exit status {status}");
    let file_log = std::fs::read_to_string(logs.join("namesrv.log")).unwrap();
    assert!(file_log.contains("name server stopped"), "{file_log}");
    assert!(
        !file_log.contains("logDir"),
        "logDir warned about:\n{file_log}"
    );
}

#[test]
fn a_log_dir_that_cannot_be_created_is_one_line_naming_it() {
    let dir = test_dir("mqnamesrv-badlog");
    let file = dir.path().join("a-file");
    std::fs::write(&file, "").unwrap();
    let logs = file.join("logs");
    let conf = write_config(dir.path(), free_port());
    let out = Command::new(BIN)
        .args(["-c", &conf, "--log-dir"])
        .arg(&logs)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
    assert!(stderr.contains(&logs.display().to_string()), "{stderr}");
}

/// `enableControllerInNamesrv=true`: one process serves routes on `listenPort` and a controller
/// on its address in `controllerDLegerPeers`, configured from the same file; unknown keys are
/// still named; SIGTERM stops both.
#[test]
fn embedded_controller_answers_beside_the_name_server() {
    let dir = test_dir("mqnamesrv-controller");
    let (port, controller_port) = (free_port(), free_port());
    let conf = dir.path().join("namesrv.properties");
    std::fs::write(
        &conf,
        format!(
            "listenPort={port}\nkvConfigPath={}\nenableControllerInNamesrv=true\n\
             controllerDLegerGroup=embedded\ncontrollerDLegerPeers=n0-127.0.0.1:{controller_port}\n\
             controllerDLegerSelfId=n0\ncontrollerStorePath={}\nnoSuchKey=1\n",
            dir.path().join("kv.json").display(),
            dir.path().join("controller").display()
        ),
    )
    .unwrap();
    let conf = conf.display().to_string();
    let logs = dir.path().join("logs");
    let (daemon, runtime) = start_listening(&conf, &logs, &[port, controller_port]);
    runtime.block_on(async {
        let client = RemotingClient::new(ClientConfig::default());
        let controller = format!("127.0.0.1:{controller_port}");
        let timeout = Duration::from_secs(3);
        // A group of one elects itself at once; wait for that fact.
        let h = poll::until_within(
            Duration::from_secs(20),
            "the embedded controller leading",
            || async {
                let req = RemotingCommand::new_request(RequestCode::ControllerGetMetadataInfo);
                let r = client.invoke(&controller, req, timeout).await.ok()?;
                let h: rmq_remoting::header::GetMetaDataResponseHeader = r.decode_header().ok()?;
                (h.is_leader == Some(true)).then_some(h)
            },
        )
        .await;
        assert_eq!(h.group.as_deref(), Some("embedded"));
        assert_eq!(h.controller_leader_address, Some(controller.clone()));
        let req = RemotingCommand::new_request(RequestCode::GetBrokerClusterInfo);
        let r = client
            .invoke(&format!("127.0.0.1:{port}"), req, timeout)
            .await
            .unwrap();
        assert_eq!(r.code, 0, "{:?}", r.remark);
        client.shutdown().await;
    });
    let log = daemon.log_text();
    assert!(
        log.contains("noSuchKey"),
        "unknown key not warned about:\n{log}"
    );
    assert!(!log.contains("controllerDLegerPeers\" ignored"), "{log}");
    let status = daemon.terminate(Duration::from_secs(10)).unwrap();
    assert_eq!(status.code(), Some(0), "exit status {status}");
}
