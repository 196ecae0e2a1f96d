//! `cargo xtask dist`: a tarball laid out like Apache RocketMQ's binary distribution, so its
//! install steps work unchanged: untar, link, `nohup sh bin/mqnamesrv &`,
//! `nohup sh bin/mqbroker -n localhost:9876 -c conf/2m-2s-async/broker-a.properties &`,
//! `sh bin/mqshutdown broker`.
//!
//! Layout of `target/dist/rmq-<version>/`: `bin/` the sh entry points (from `deploy/bin/`),
//! `libexec/` the release binaries they run (stripped), `conf/` the deployment-mode configs, `README.md`.

use std::path::Path;
use std::process::Command;

use anyhow::{bail, Context, Result};

use crate::build::{build_release, release_dir, workspace_root};

#[derive(clap::Args)]
pub struct DistArgs {
    /// Use the existing release binaries.
    #[arg(long)]
    no_build: bool,
}

const BINARIES: &[&str] = &[
    "mqnamesrv",
    "mqbroker",
    "mqcontroller",
    "mqshutdown",
    "mqadmin",
];

fn copy_dir(from: &Path, to: &Path) -> Result<()> {
    std::fs::create_dir_all(to)?;
    for e in std::fs::read_dir(from)? {
        let e = e?;
        let target = to.join(e.file_name());
        if e.file_type()?.is_dir() {
            copy_dir(&e.path(), &target)?;
        } else {
            std::fs::copy(e.path(), &target)?;
        }
    }
    Ok(())
}

/// Strips symbols and debug info from a shipped binary (the release profile keeps line tables
/// for local backtraces; a distribution does not need them and is several times smaller).
fn strip(binary: &Path) -> Result<()> {
    let status = Command::new("strip")
        .arg(binary)
        .status()
        .context("running strip (binutils); install it to build a distribution")?;
    if !status.success() {
        bail!("strip {} failed ({status})", binary.display());
    }
    Ok(())
}

pub fn run(args: DistArgs) -> Result<()> {
    let root = workspace_root();
    if !args.no_build {
        build_release()?;
    }
    let version = env!("CARGO_PKG_VERSION");
    let name = format!("rmq-{version}");
    let dist = root.join("target/dist");
    let top = dist.join(&name);
    let _ = std::fs::remove_dir_all(&top);
    std::fs::create_dir_all(top.join("libexec"))?;
    for b in BINARIES {
        let from = release_dir().join(b);
        if !from.exists() {
            bail!("{} is missing; run without --no-build", from.display());
        }
        let to = top.join("libexec").join(b);
        std::fs::copy(&from, &to)?;
        strip(&to)?;
    }
    copy_dir(&root.join("deploy/bin"), &top.join("bin"))?;
    copy_dir(&root.join("deploy/conf"), &top.join("conf"))?;
    std::fs::write(
        top.join("README.md"),
        format!(
            "# rmq {version}\n\n\
             A RocketMQ-compatible name server and broker. Install and run as with Apache RocketMQ:\n\n\
             \x20   tar -xzf {name}.tar.gz && ln -s {name} rocketmq && cd rocketmq\n\
             \x20   mkdir -p ~/store ~/logs/rocketmqlogs\n\
             \x20   nohup sh bin/mqnamesrv &\n\
             \x20   nohup sh bin/mqbroker -n localhost:9876 -c conf/broker.conf &\n\
             \x20   sh bin/mqadmin clusterList -n localhost:9876\n\
             \x20   sh bin/mqshutdown broker && sh bin/mqshutdown namesrv\n\n\
             conf/ holds the deployment modes (2m-noslave, 2m-2s-async, 2m-2s-sync, controller); logs go to\n\
             ~/logs/rocketmqlogs and the store to ~/store unless the config says otherwise.\n"
        ),
    )?;
    let tarball = dist.join(format!("{name}.tar.gz"));
    let status = Command::new("tar")
        .current_dir(&dist)
        .args(["-czf"])
        .arg(&tarball)
        .arg(&name)
        .status()
        .context("running tar")?;
    if !status.success() {
        bail!("tar failed");
    }
    println!("{}", tarball.display());
    Ok(())
}
