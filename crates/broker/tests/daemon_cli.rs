//! The `mqbroker` binary from the outside: where it logs (the `--log-dir` flag, the `logDir`
//! key), the broker name on every log line, and the one-line errors for a log directory that
//! cannot be created and for a taken HA port.
#![allow(clippy::unwrap_used)]

use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

use rmq_testkit::{free_port, test_dir, Daemon};

const BIN: &str = env!("CARGO_BIN_EXE_mqbroker");

/// A master config with a free port and its store under `dir`, plus `extra` lines.
fn write_config(dir: &Path, name: &str, port: u16, extra: &str) -> String {
    let conf = dir.join(format!("{name}.properties"));
    std::fs::write(
        &conf,
        format!(
            "brokerName={name}\nbrokerIP1=127.0.0.1\nlistenPort={port}\nstorePathRootDir={}\n\
             namesrvAddr=127.0.0.1:1\nmappedFileSizeCommitLog=4194304\n\
             mappedFileSizeConsumeQueue=60000\nmaxIndexNum=2000\nmaxHashSlotNum=200\n\
             grpcServerPort=0\n{extra}\n",
            dir.join(name).join("store").display()
        ),
    )
    .unwrap();
    conf.display().to_string()
}

/// Polls until `path` contains `needle`.
fn wait_for_text(path: &Path, needle: &str, within: Duration) -> String {
    let deadline = Instant::now() + within;
    loop {
        let text = std::fs::read_to_string(path).unwrap_or_default();
        if text.contains(needle) {
            return text;
        }
        assert!(
            Instant::now() < deadline,
            "{} has no {needle:?} after {within:?}:\n{text}",
            path.display()
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}

#[test]
fn log_dir_flag_and_property_put_broker_log_there_with_the_broker_name() {
    let dir = test_dir("mqbroker-logdir");
    let out = dir.path().join("out");
    for (name, by_flag) in [("broker-flag", true), ("broker-prop", false)] {
        let logs = dir.path().join(format!("{name}-logs"));
        let port = free_port();
        let extra = if by_flag {
            String::new()
        } else {
            format!("logDir={}", logs.display())
        };
        let conf = write_config(dir.path(), name, port, &extra);
        let flag = logs.display().to_string();
        let mut args = vec!["-c", conf.as_str()];
        if by_flag {
            args.extend(["--log-dir", flag.as_str()]);
        }
        let mut d = Daemon::start(name, Path::new(BIN), &args, &out).unwrap();
        d.wait_listening(
            format!("127.0.0.1:{port}").parse().unwrap(),
            Duration::from_secs(20),
        )
        .unwrap();
        let log = wait_for_text(&logs.join("broker.log"), "broker started", T);
        let prefix = format!("[{name}] ");
        assert!(
            log.lines().all(|l| l.starts_with(&prefix)),
            "a line without {prefix:?}:\n{log}"
        );
        let status = d.terminate(T).unwrap();
        assert!(status.success(), "{status}");
        wait_for_text(&logs.join("broker.log"), "broker stopped", T);
    }
}

const T: Duration = Duration::from_secs(20);

#[test]
fn a_log_dir_that_cannot_be_created_is_one_line_naming_it() {
    let dir = test_dir("mqbroker-badlog");
    let file = dir.path().join("a-file");
    std::fs::write(&file, "").unwrap();
    let logs = file.join("logs");
    let conf = write_config(dir.path(), "broker-x", free_port(), "");
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

#[test]
fn a_taken_ha_port_is_named_as_the_ha_port() {
    let dir = test_dir("mqbroker-ha-port");
    // Find a port whose successor is free, then hold the successor.
    let (port, _held) = loop {
        let port = free_port();
        if let Ok(l) = std::net::TcpListener::bind(("0.0.0.0", port + 1)) {
            break (port, l);
        }
    };
    let ha = port + 1;
    let conf = write_config(dir.path(), "broker-ha", port, "");
    let out = Command::new(BIN)
        .args(["-c", &conf, "--log-dir"])
        .arg(dir.path().join("logs"))
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
    assert!(
        stderr.contains(&format!("port {ha} is the HA port")),
        "{stderr}"
    );
    assert!(stderr.contains(&format!("0.0.0.0:{ha}")), "{stderr}");
}
