//! The one release build every command shares.
//!
//! Cargo unifies features over the packages a command selects, and over dev-dependencies when an
//! example is built. `cargo build -p rmq-broker` and `cargo run --example producer` therefore
//! compile tokio, serde and everything above them with different features, into different
//! artifacts: each new command of the README used to rebuild the world. So `up`, `cluster`,
//! `bench` and `dist` all run exactly `cargo build --release --bins --examples` at the workspace
//! root (every member selected, dev-dependency features on because examples are built), and the
//! README runs the results from `target/release/` or with `cargo run --release --example ...`
//! at the root, which selects the same packages and the same features: nothing is rebuilt after
//! the first command. Checked by building `--bins --examples` and then running
//! `cargo run --example producer` at the root: cargo compiled nothing. The opposite,
//! `cargo run --bin mqadmin`, resolves without dev-dependencies (tokio without `test-util`, serde
//! without `alloc`, ...) and would rebuild, so the README runs the tools from `target/release/`.

use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{bail, Context, Result};

/// The workspace root (the parent of `xtask/`).
pub fn workspace_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .map(Path::to_path_buf)
        .unwrap_or_else(|| PathBuf::from("."))
}

/// `target/release`, where the shared build puts the binaries (examples under `examples/`).
pub fn release_dir() -> PathBuf {
    std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| workspace_root().join("target"))
        .join("release")
}

/// Builds every binary and example of the workspace in release mode (see the module docs for
/// why it is always this exact command).
pub fn build_release() -> Result<()> {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    eprintln!(
        "building the release binaries and examples (cargo build --release --bins --examples) ..."
    );
    let status = Command::new(cargo)
        .current_dir(workspace_root())
        .args(["build", "--release", "--bins", "--examples"])
        .status()
        .context("running cargo build")?;
    if !status.success() {
        bail!("cargo build --release --bins --examples failed");
    }
    Ok(())
}
