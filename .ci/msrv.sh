#!/usr/bin/env bash
# The workspace builds (tests and benches included) with the oldest Rust it claims:
# `rust-version` in Cargo.toml. Installs that toolchain with rustup when missing; a failed
# install fails CI with what to do.
set -eu
cd "$(dirname "$0")/.."
msrv=$(sed -n 's/^rust-version = "\(.*\)"/\1/p' Cargo.toml)
if [ -z "$msrv" ]; then
  echo "msrv: FAIL: no rust-version in Cargo.toml [workspace.package]"
  exit 1
fi
if ! rustup run "$msrv" rustc --version >/dev/null 2>&1; then
  rustup toolchain install "$msrv" --profile minimal || {
    echo "msrv: FAIL: could not install Rust $msrv with rustup (needs static.rust-lang.org)"
    exit 1
  }
fi
# A target dir of its own: another compiler's artifacts would evict the main build's.
CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-target}/msrv-$msrv" cargo "+$msrv" check --workspace --all-targets --quiet
echo "msrv: workspace builds with Rust $msrv"
