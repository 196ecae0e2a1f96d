#!/usr/bin/env bash
# Apache's mqadmin (rocketmq-tools 4.9.8 and 5.5.0) against the mqnamesrv + mqbroker that
# `cargo build --workspace` built, started the way .ci/java-interop.sh starts them (other ports,
# so both can run). interop/java/mqadmin.sh runs the commands; every check reads the command's
# output. A missing JDK/Maven or a failed download fails the run with what to install.
#
#   bash .ci/mqadmin-interop.sh [check ...]
#
# Every check passes against Apache's own daemons of the same major version
# (interop/apache/baseline.sh 4.9.7 -- mqadmin, 5.5.0 -- mqadmin); results in
# docs/compatibility.md. Run by .ci/run after the Java suite. Exit status: the number of failed checks.
set -u
cd "$(dirname "$0")/.."
bin="${CARGO_TARGET_DIR:-target}/debug"
for tool in java mvn; do
  if ! command -v $tool >/dev/null; then
    echo "mqadmin-interop: FAIL: $tool not found; install it (apt-get install -y openjdk-17-jdk-headless maven)"
    exit 1
  fi
done
if [ ! -x "$bin/mqnamesrv" ] || [ ! -x "$bin/mqbroker" ]; then
  echo "mqadmin-interop: FAIL: $bin/mqnamesrv or mqbroker missing; build them with cargo build --workspace"
  exit 1
fi
work=$(mktemp -d)
ns= broker=
trap 'kill $ns $broker 2>/dev/null; wait $ns $broker 2>/dev/null; rm -rf "$work"' EXIT
ns_port=${MQADMIN_NS_PORT:-49876}
broker_port=${MQADMIN_BROKER_PORT:-50911}
printf "listenPort=%s\nkvConfigPath=%s/kv.json\n" $ns_port "$work" > "$work/ns.properties"
{
  echo "brokerName=broker-a"
  echo "brokerIP1=127.0.0.1"
  echo "listenPort=$broker_port"
  echo "storePathRootDir=$work/store"
  echo "mappedFileSizeCommitLog=67108864"
  echo "maxMessageSize=65536"
  echo "messageDelayLevel=1s 1s 1s 1s 1s 1s 1s 1s 1s 1s 1s 1s 1s 1s 1s 1s 1s 1s"
  echo "transactionCheckInterval=2000"
  echo "transactionTimeOut=1000"
} > "$work/broker.properties"
RMQ_LOG_DIR="$work/logs" "$bin/mqnamesrv" -c "$work/ns.properties" > "$work/ns.out" 2>&1 & ns=$!
RMQ_LOG_DIR="$work/logs" "$bin/mqbroker" -c "$work/broker.properties" -n 127.0.0.1:$ns_port > "$work/broker.out" 2>&1 & broker=$!
# Up when the name server lists the broker (what clusterList asks), 60 s at most.
if ! java interop/apache/WaitForBroker.java 127.0.0.1:$ns_port 127.0.0.1:$broker_port 60000 $ns $broker; then
  echo "mqadmin-interop: FAIL: rmq did not come up; broker output:"
  tail -40 "$work/broker.out"
  exit 1
fi
interop/java/mqadmin.sh 127.0.0.1:$ns_port "$@"
status=$?
if [ $status -ne 0 ]; then
  echo "--- requests rmq's broker did not support (from its log)"
  grep -hiE 'not supported|unsupported' "$work/broker.out" "$work"/logs/* 2>/dev/null | sort | uniq -c | sort -rn | head -20
  echo "--- name server log (last 20 lines)"; tail -20 "$work/ns.out"
  echo "--- broker log (last 40 lines)"; tail -40 "$work/broker.out"
  cp -r "$work/logs" interop/java/target/mqadmin/rmq-logs 2>/dev/null
  cp "$work/broker.out" "$work/ns.out" interop/java/target/mqadmin/ 2>/dev/null
fi
exit $status
