//! Real-process helpers for the system tests: the `mqnamesrv` and `mqbroker` binaries started
//! from the shipped `deploy/conf` files (with this host's ports and paths), and the few remoting
//! calls the tests use to look at a cluster from the outside.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use rmq_remoting::body::TopicRouteData;
use rmq_remoting::header::{CreateTopicRequestHeader, GetRouteInfoRequestHeader};
use rmq_remoting::json::JsonBody;
use rmq_remoting::{RemotingClient, RemotingCommand, RequestCode, ResponseCode};
use rmq_testkit::{free_port, Daemon};

const T: Duration = Duration::from_secs(10);

/// Starts `mqnamesrv` on a free port; returns it and its address.
pub fn namesrv_process(dir: &Path, name: &str) -> (Daemon, String) {
    rmq_testkit::namesrv_process(dir, name).unwrap()
}

/// `deploy/conf/<mode>/<name>.properties` with a free port, a store under `dir/<name>/store`,
/// small files, and `extra` lines appended (later keys win). Returns the file and the port.
pub fn shipped_conf(dir: &Path, mode: &str, name: &str, extra: &str) -> (PathBuf, u16) {
    let shipped = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../deploy/conf")
        .join(mode)
        .join(format!("{name}.properties"));
    let port = free_port();
    let mut text = std::fs::read_to_string(shipped).unwrap();
    text.push_str(&format!(
        "\nbrokerIP1=127.0.0.1\nlistenPort={port}\nstorePathRootDir={}\n\
         mappedFileSizeCommitLog=16777216\nmappedFileSizeConsumeQueue=1200000\n\
         maxIndexNum=200000\nmaxHashSlotNum=20000\ngrpcServerPort=0\n{extra}\n",
        dir.join(name).join("store").display()
    ));
    let conf = dir.join(format!("{name}.properties"));
    std::fs::write(&conf, text).unwrap();
    (conf, port)
}

/// Starts `mqbroker -c conf -n namesrv` and waits until it listens on `port`.
pub fn broker_process(dir: &Path, log_name: &str, conf: &Path, namesrv: &str, port: u16) -> Daemon {
    let bin = Path::new(env!("CARGO_BIN_EXE_mqbroker"));
    let args = ["-c", conf.to_str().unwrap(), "-n", namesrv];
    let mut d = Daemon::start(log_name, bin, &args, &dir.join("logs")).unwrap();
    d.wait_listening(
        format!("127.0.0.1:{port}").parse().unwrap(),
        Duration::from_secs(20),
    )
    .unwrap();
    d
}

/// The topic's route from a name server (standard JSON), if it has one.
pub async fn route(c: &RemotingClient, namesrv: &str, topic: &str) -> Option<TopicRouteData> {
    let h = GetRouteInfoRequestHeader {
        topic: topic.into(),
        accept_standard_json_only: Some(true),
        rpc: Default::default(),
    };
    let resp = c
        .invoke(
            namesrv,
            RemotingCommand::request(RequestCode::GetRouteinfoByTopic, &h),
            T,
        )
        .await
        .ok()?;
    if resp.response_code() != ResponseCode::Success {
        return None;
    }
    TopicRouteData::from_json_bytes(&resp.body).ok()
}

/// Polls `f` every 100 ms until it holds, failing the test after `within`.
pub async fn wait_until<F, Fut>(what: &str, within: Duration, mut f: F)
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    let deadline = Instant::now() + within;
    while !f().await {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// UPDATE_AND_CREATE_TOPIC on one broker, read/write with `queues` queues.
pub async fn create_topic(c: &RemotingClient, broker: &str, topic: &str, queues: i32) {
    let h = CreateTopicRequestHeader {
        topic: topic.into(),
        default_topic: "TBW102".into(),
        read_queue_nums: queues,
        write_queue_nums: queues,
        perm: 6,
        topic_filter_type: Default::default(),
        topic_sys_flag: Some(0),
        order: false,
        attributes: None,
        force: None,
        rpc: Default::default(),
    };
    let r = c
        .invoke(
            broker,
            RemotingCommand::request(RequestCode::UpdateAndCreateTopic, &h),
            T,
        )
        .await
        .unwrap();
    assert_eq!(r.response_code(), ResponseCode::Success, "{:?}", r.remark);
}
