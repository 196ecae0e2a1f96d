#!/usr/bin/env bash
# Wire-compatibility acceptance: independently written RocketMQ clients (../shared/interop) against
# the debug mqnamesrv + mqbroker that `cargo test --workspace` just built. A missing script or
# runtime, or a client that cannot be installed, fails the run: nothing is skipped.
set -u
cd "$(dirname "$0")/.."
interop=../shared/interop/run
if [ ! -x "$interop" ]; then
  echo "interop: FAIL: $interop not found (CI lays shared/ beside the clone; outside CI, run from a checkout with ../shared)"
  exit 1
fi
for tool in node npm python3; do
  if ! command -v $tool >/dev/null; then
    echo "interop: FAIL: $tool not found; run .ci/install-tools.sh"
    exit 1
  fi
done
bin="${CARGO_TARGET_DIR:-target}/debug"
if [ ! -x "$bin/mqnamesrv" ] || [ ! -x "$bin/mqbroker" ]; then
  echo "interop: $bin/mqnamesrv or mqbroker missing; build them with cargo build --workspace"
  exit 1
fi
work=$(mktemp -d)
trap 'kill $ns $broker 2>/dev/null; wait $ns $broker 2>/dev/null; rm -rf "$work"' EXIT
printf "listenPort=29876\nkvConfigPath=%s/kv.json\n" "$work" > "$work/ns.properties"
printf "brokerName=broker-a\nbrokerIP1=127.0.0.1\nlistenPort=30911\nstorePathRootDir=%s/store\nmappedFileSizeCommitLog=67108864\n" "$work" > "$work/broker.properties"
RMQ_LOG_DIR="$work/logs" "$bin/mqnamesrv" -c "$work/ns.properties" > "$work/ns.out" 2>&1 & ns=$!
sleep 1
RMQ_LOG_DIR="$work/logs" "$bin/mqbroker" -c "$work/broker.properties" -n 127.0.0.1:29876 > "$work/broker.out" 2>&1 & broker=$!
for _ in $(seq 100); do
  (exec 3<>/dev/tcp/127.0.0.1/30911) 2>/dev/null && break
  sleep 0.1
done
out=$(NAMESRV_ADDR=127.0.0.1:29876 TIMEOUT_S=60 "$interop" 2>&1)
status=$?
echo "$out" | grep -E "PASS|FAIL|interop:"
if echo "$out" | grep -q "could not install"; then
  echo "interop: FAIL: a client could not be installed (npm/PyPI unreachable?)"
  exit 1
fi
if [ $status -ne 0 ]; then
  echo "--- broker log"; tail -50 "$work/broker.out"
fi
exit $status
