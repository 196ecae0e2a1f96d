//! Apache RocketMQ's own daemons, started through `interop/apache/daemons.sh` (jars from Maven
//! Central, the version in `RMQ_APACHE_VERSION`). Dropping one kills it.

use std::path::{Path, PathBuf};
use std::process::Command;

/// One `daemons.sh` work directory: an Apache name server or an Apache broker.
pub struct Apache {
    dir: PathBuf,
    /// Where it listens (`127.0.0.1:port`).
    pub addr: String,
}

/// The Apache version under test; the tests cannot run without one.
pub fn version() -> String {
    std::env::var("RMQ_APACHE_VERSION").unwrap_or_else(|_| {
        panic!(
            "RMQ_APACHE_VERSION is not set: these tests start Apache RocketMQ's daemons; run them \
             with .ci/apache-interop.sh (or set it to 4.9.7 or 5.5.0 and RMQ_JAVA_CP as that \
             script does)"
        )
    })
}

fn script() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../interop/apache/daemons.sh")
}

fn run(args: &[&str], extra_properties: &str) {
    let out = Command::new("bash")
        .arg(script())
        .args(args)
        .env("BROKER_EXTRA_PROPERTIES", extra_properties)
        // The test process owns the daemons: they stop when it exits, even on a panic.
        .env("DAEMONS_OWNER_PID", std::process::id().to_string())
        .output()
        .expect("run interop/apache/daemons.sh");
    assert!(
        out.status.success(),
        "daemons.sh {args:?} failed:\n{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

impl Apache {
    /// Apache's name server on `port`, its files under `dir`.
    pub fn namesrv(dir: &Path, port: u16) -> Apache {
        let d = dir.join(format!("apache-namesrv-{port}"));
        run(
            &[
                "start-namesrv",
                &version(),
                &d.to_string_lossy(),
                &port.to_string(),
            ],
            "",
        );
        Apache {
            dir: d,
            addr: format!("127.0.0.1:{port}"),
        }
    }

    /// Apache's broker on `port` registered with `namesrv` (any name server), with
    /// `properties` (`key=value` lines) over daemons.sh's defaults; returns once the name server
    /// lists it.
    pub fn broker(dir: &Path, namesrv: &str, port: u16, properties: &str) -> Apache {
        let d = dir.join(format!("apache-broker-{port}"));
        run(
            &[
                "start-broker",
                &version(),
                &d.to_string_lossy(),
                namesrv,
                &port.to_string(),
            ],
            properties,
        );
        Apache {
            dir: d,
            addr: format!("127.0.0.1:{port}"),
        }
    }

    /// SIGKILL: the daemon is gone at once, as in a crash.
    pub fn kill(&self) {
        for f in ["broker.pid", "namesrv.pid"] {
            if let Ok(pid) = std::fs::read_to_string(self.dir.join(f)) {
                // Already gone after an earlier kill: nothing to say.
                let _ = Command::new("kill")
                    .args(["-KILL", pid.trim()])
                    .stderr(std::process::Stdio::null())
                    .status();
            }
        }
    }
}

impl Drop for Apache {
    fn drop(&mut self) {
        self.kill();
        let _ = Command::new("bash")
            .arg(script())
            .arg("stop")
            .arg(&self.dir)
            .output();
    }
}
