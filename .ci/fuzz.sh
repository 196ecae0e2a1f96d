#!/usr/bin/env bash
# The cargo fuzz targets in fuzz/, each run for SECONDS (default 60) from the committed seeds
# (fuzz/seeds/<target>) plus what earlier runs here found (fuzz/corpus/<target>), PARALLEL
# (default 2) at a time.
# Any crash fails the run and leaves the input in fuzz/artifacts/<target>/ with the command that
# replays it. Longer runs: bash .ci/fuzz.sh 600 [PARALLEL] (docs/reliability.md records the
# hours run).
set -euo pipefail
cd "$(dirname "$0")/../fuzz"
seconds="${1:-60}"
parallel="${2:-2}"
if ! rustup toolchain list | grep -q '^nightly'; then
  echo "fuzz: the nightly toolchain is missing; installing it (cargo fuzz needs its sanitizer flags)"
  rustup toolchain install nightly --profile minimal || {
    echo "fuzz: FAIL: could not install the nightly toolchain"; exit 1; }
fi
if ! cargo fuzz --version >/dev/null 2>&1; then
  echo "fuzz: installing cargo-fuzz"
  cargo install cargo-fuzz --version 0.13.2 --locked || {
    echo "fuzz: FAIL: could not install cargo-fuzz from crates.io"; exit 1; }
fi
cargo +nightly fmt --check
# -O: optimised; -a: debug assertions on, so an arithmetic overflow is a crash too.
cargo +nightly fuzz build -O -a
# FUZZ_TARGETS="a b" runs only those.
targets="${FUZZ_TARGETS:-$(cargo +nightly fuzz list)}"
bin=target/x86_64-unknown-linux-gnu/release
run() {
  local t=$1
  mkdir -p "corpus/$t" "artifacts/$t"
  # The built target itself (cargo fuzz run would rebuild first): what ran is what was built.
  if "$bin/$t" "corpus/$t" "seeds/$t" -artifact_prefix="artifacts/$t/" \
      -max_total_time="$seconds" -print_final_stats=1 > "/tmp/fuzz-$t.log" 2>&1; then
    echo "fuzz: $t: $(grep -E '^Done' "/tmp/fuzz-$t.log") ($(grep -E 'stat::number_of_executed_units' "/tmp/fuzz-$t.log" | awk '{print $2}') inputs, corpus $(ls "corpus/$t" | wc -l))"
  else
    echo "fuzz: FAIL: $t crashed; its log follows, the input is in fuzz/artifacts/$t/"
    tail -60 "/tmp/fuzz-$t.log"
    return 1
  fi
}
failed=0
pids=()
for t in $targets; do
  run "$t" & pids+=($!)
  if [ ${#pids[@]} -ge "$parallel" ]; then
    wait "${pids[0]}" || failed=1
    pids=("${pids[@]:1}")
  fi
done
for p in "${pids[@]}"; do wait "$p" || failed=1; done
[ "$failed" -eq 0 ] || { echo "fuzz: FAIL: a target crashed"; exit 1; }
echo "fuzz: $(echo $targets | wc -w) passed, 0 failed"
