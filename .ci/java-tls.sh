#!/usr/bin/env bash
# TLS with the official Java clients 4.9.8 and 5.5.0 (-Dtls.enable=true): mqnamesrv and mqbroker
# with tls.server.mode=enforcing, so a client that did not speak TLS would get nothing. The
# producer-sync-tags check sends and consumes over TLS to both daemons.
set -u
cd "$(dirname "$0")/.."
bin="${CARGO_TARGET_DIR:-target}/debug"
for tool in java mvn; do
  command -v $tool >/dev/null || { echo "java-tls: FAIL: $tool not found; install it (apt-get install -y openjdk-17-jdk-headless maven)"; exit 1; }
done
[ -x "$bin/mqnamesrv" ] && [ -x "$bin/mqbroker" ] && [ -x "$bin/mqadmin" ] \
  || { echo "java-tls: FAIL: $bin/mqnamesrv, mqbroker or mqadmin missing; cargo build --workspace"; exit 1; }
ns_port=39896 broker_port=40951
work=$(mktemp -d)
ns= broker=
trap 'kill $ns $broker 2>/dev/null; wait $ns $broker 2>/dev/null; rm -rf "$work"' EXIT
printf "listenPort=%s\nkvConfigPath=%s/kv.json\ntls.server.mode=enforcing\n" $ns_port "$work" > "$work/ns.properties"
cat > "$work/broker.properties" <<PROPS
brokerName=broker-a
brokerIP1=127.0.0.1
grpcServerPort=0
listenPort=$broker_port
storePathRootDir=$work/store
mappedFileSizeCommitLog=67108864
tls.server.mode=enforcing
tls.enable=true
PROPS
RMQ_LOG_DIR="$work/logs" "$bin/mqnamesrv" -c "$work/ns.properties" > "$work/ns.out" 2>&1 & ns=$!
RMQ_LOG_DIR="$work/logs" "$bin/mqbroker" -c "$work/broker.properties" -n 127.0.0.1:$ns_port > "$work/broker.out" 2>&1 & broker=$!
# Up when the name server lists the broker, asked over TLS.
up=
for _ in $(seq 1 300); do
  if "$bin/mqadmin" clusterList -n 127.0.0.1:$ns_port --use-tls 2>/dev/null | grep -q "127.0.0.1:$broker_port"; then up=1; break; fi
  sleep 0.2
done
if [ -z "$up" ]; then
  echo "java-tls: FAIL: the broker did not register over TLS within 60 s; broker output:"
  tail -40 "$work/broker.out"
  exit 1
fi
RMQ_JAVA_OPTS="-Dtls.enable=true" interop/java/run.sh 127.0.0.1:$ns_port producer-sync-tags
status=$?
if [ $status -ne 0 ]; then
  echo "--- broker log (last 40 lines)"; tail -40 "$work/broker.out"
fi
exit $status
