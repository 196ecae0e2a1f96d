#!/usr/bin/env bash
# The official Java clients (Apache RocketMQ 4.9.8 and 5.5.0 from Maven Central) against the
# mqnamesrv + mqbroker that `cargo test --workspace` just built. A missing JDK/Maven or a failed
# download fails the run with what to install; nothing is skipped.
#
# CHECKS lists the checks that must pass. Checks the suite has but rmq does not pass yet are named
# in docs/compatibility.md (issue "Conformance with the official Java clients"); move each here
# when it passes.
set -u
cd "$(dirname "$0")/.."
CHECKS=(
  producer-sync-tags producer-async producer-oneway producer-batch producer-delay-level producer-auto-create
  producer-oversize-refused orderly-selector-second-member transaction-commit-rollback-checkback
  push-broadcasting push-retry-then-dlq push-consume-from-timestamp
  lite-pull-subscribe-commit lite-pull-assign-seek pull-consumer-offsets
  admin-subscription-groups admin-query-by-key-and-id admin-kv-config
  admin-cluster-topic-crud admin-consume-stats-connections admin-producer-connections
  admin-reset-offset-live admin-broker-runtime-and-config
)
# Checks named on the command line run instead (to try one while fixing it).
if [ $# -gt 0 ]; then CHECKS=("$@"); fi
bin="${CARGO_TARGET_DIR:-target}/debug"
for tool in java mvn; do
  if ! command -v $tool >/dev/null; then
    echo "java-interop: FAIL: $tool not found; install it (apt-get install -y openjdk-17-jdk-headless maven)"
    exit 1
  fi
done
if [ ! -x "$bin/mqnamesrv" ] || [ ! -x "$bin/mqbroker" ]; then
  echo "java-interop: FAIL: $bin/mqnamesrv or mqbroker missing; build them with cargo build --workspace"
  exit 1
fi
work=$(mktemp -d)
trap 'kill $ns $broker 2>/dev/null; wait $ns $broker 2>/dev/null; rm -rf "$work"' EXIT
ns_port=39876
broker_port=40911
printf "listenPort=%s\nkvConfigPath=%s/kv.json\n" $ns_port "$work" > "$work/ns.properties"
{
  echo "brokerName=broker-a"
  echo "brokerIP1=127.0.0.1"
  echo "listenPort=$broker_port"
  echo "storePathRootDir=$work/store"
  echo "mappedFileSizeCommitLog=67108864"
  # What the suite's checks are written for: a small maxMessageSize, 1 s delay levels, quick
  # transaction check-backs.
  echo "maxMessageSize=65536"
  echo "messageDelayLevel=1s 1s 1s 1s 1s 1s 1s 1s 1s 1s 1s 1s 1s 1s 1s 1s 1s 1s"
  echo "transactionCheckInterval=2000"
  echo "transactionTimeOut=1000"
} > "$work/broker.properties"
RMQ_LOG_DIR="$work/logs" "$bin/mqnamesrv" -c "$work/ns.properties" > "$work/ns.out" 2>&1 & ns=$!
RMQ_LOG_DIR="$work/logs" "$bin/mqbroker" -c "$work/broker.properties" -n 127.0.0.1:$ns_port > "$work/broker.out" 2>&1 & broker=$!
for _ in $(seq 200); do
  (exec 3<>/dev/tcp/127.0.0.1/$broker_port) 2>/dev/null && break
  sleep 0.1
done
DELAY_LEVEL_2_MS=1000 interop/java/run.sh 127.0.0.1:$ns_port "${CHECKS[@]}"
status=$?
if [ $status -ne 0 ]; then
  echo "--- broker log (last 60 lines)"; tail -60 "$work/broker.out"
fi
exit $status
