# Sourced by .ci/java-interop.sh and .ci/mqadmin-interop.sh: checks for a JDK, Maven and the
# debug daemons, then starts mqnamesrv + mqbroker with the settings the Java checks are written
# for (a small maxMessageSize, 1 s delay levels, quick transaction check-backs, SQL92 filters on)
# and waits until the name server lists the broker. Stops both when the calling script exits.
#
#   start_rmq_for_java NAME NS_PORT BROKER_PORT   # sets $work, $ns, $broker
#   (RMQ_GRPC_PORT: the broker's grpcServerPort; default 0, no gRPC. RMQ_BROKER_EXTRA: more
#   broker.properties lines)
start_rmq_for_java() {
  local name=$1 ns_port=$2 broker_port=$3
  local bin="${CARGO_TARGET_DIR:-target}/debug"
  for tool in java mvn; do
    if ! command -v $tool >/dev/null; then
      echo "$name: FAIL: $tool not found; install it (apt-get install -y openjdk-17-jdk-headless maven)"
      exit 1
    fi
  done
  if [ ! -x "$bin/mqnamesrv" ] || [ ! -x "$bin/mqbroker" ]; then
    echo "$name: FAIL: $bin/mqnamesrv or mqbroker missing; build them with cargo build --workspace"
    exit 1
  fi
  work=$(mktemp -d)
  ns= broker=
  trap 'kill $ns $broker 2>/dev/null; wait $ns $broker 2>/dev/null; rm -rf "$work"' EXIT
  printf "listenPort=%s\nkvConfigPath=%s/kv.json\n" $ns_port "$work" > "$work/ns.properties"
  {
    echo "brokerName=broker-a"
    echo "brokerIP1=127.0.0.1"
    echo "grpcServerPort=${RMQ_GRPC_PORT:-0}"
    echo "listenPort=$broker_port"
    echo "storePathRootDir=$work/store"
    echo "mappedFileSizeCommitLog=67108864"
    echo "maxMessageSize=65536"
    echo "messageDelayLevel=1s 1s 1s 1s 1s 1s 1s 1s 1s 1s 1s 1s 1s 1s 1s 1s 1s 1s"
    echo "transactionCheckInterval=2000"
    echo "transactionTimeOut=1000"
    echo "enablePropertyFilter=true"
    printf '%s\n' "${RMQ_BROKER_EXTRA:-}"
  } > "$work/broker.properties"
  RMQ_LOG_DIR="$work/logs" "$bin/mqnamesrv" -c "$work/ns.properties" > "$work/ns.out" 2>&1 & ns=$!
  RMQ_LOG_DIR="$work/logs" "$bin/mqbroker" -c "$work/broker.properties" -n 127.0.0.1:$ns_port > "$work/broker.out" 2>&1 & broker=$!
  # Up when the name server lists the broker (what the clients ask first), 60 s at most.
  if ! java interop/apache/WaitForBroker.java 127.0.0.1:$ns_port 127.0.0.1:$broker_port 60000 $ns $broker; then
    echo "$name: FAIL: rmq did not come up; broker output:"
    tail -40 "$work/broker.out"
    exit 1
  fi
}
