//! `mqshutdown` against the real `mqnamesrv` binary. Always with `--pid`, so that only the
//! daemon this test started is ever signalled, never another engineer's.

#![allow(clippy::unwrap_used)]

use std::process::Command;
use std::time::Duration;

use rmq_testkit::{free_port, Daemon};

fn mqshutdown(args: &[&str]) -> (Option<i32>, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_mqshutdown"))
        .args(args)
        .output()
        .unwrap();
    (
        out.status.code(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn stops_the_name_server_it_is_pointed_at() {
    let dir = rmq_testkit::test_dir("mqshutdown");
    let port = free_port();
    let conf = dir.path().join("namesrv.properties");
    std::fs::write(
        &conf,
        format!(
            "listenPort={port}\nkvConfigPath={}\n",
            dir.path().join("kv.json").display()
        ),
    )
    .unwrap();
    let bin = rmq_testkit::binary("mqnamesrv").unwrap();
    let logs = dir.path().join("logs");
    let mut d = Daemon::start(
        "namesrv",
        &bin,
        &[
            "-c",
            conf.to_str().unwrap(),
            "--log-dir",
            logs.to_str().unwrap(),
        ],
        &logs,
    )
    .unwrap();
    d.wait_listening(
        format!("127.0.0.1:{port}").parse().unwrap(),
        Duration::from_secs(20),
    )
    .unwrap();
    let pid = d.pid().to_string();

    // The wrong daemon kind: nothing to do, success as in Apache's script.
    let (code, out, _) = mqshutdown(&["broker", "--pid", &pid]);
    assert_eq!((code, out.as_str()), (Some(0), "No mqbroker running.\n"));

    let (code, out, err) = mqshutdown(&["namesrv", "--pid", &pid, "--timeout", "20"]);
    assert_eq!(code, Some(0), "stdout: {out}\nstderr: {err}");
    assert_eq!(
        out,
        format!(
            "The mqnamesrv({pid}) is running...\nSend shutdown request to mqnamesrv({pid}) OK\n\
             The mqnamesrv({pid}) has exited.\n"
        ),
        "stderr: {err}"
    );
    let status = d.terminate(Duration::from_secs(5)).unwrap();
    assert!(
        status.success(),
        "mqnamesrv exited with {status} after SIGTERM"
    );

    // Gone now: the same pid is no mqnamesrv.
    let (code, out, _) = mqshutdown(&["namesrv", "--pid", &pid]);
    assert_eq!((code, out.as_str()), (Some(0), "No mqnamesrv running.\n"));
}

#[test]
fn a_pid_that_is_not_the_daemon_is_left_alone() {
    let me = std::process::id().to_string();
    let (code, out, _) = mqshutdown(&["namesrv", "--pid", &me]);
    assert_eq!((code, out.as_str()), (Some(0), "No mqnamesrv running.\n"));
}
