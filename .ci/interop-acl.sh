#!/usr/bin/env bash
# ACL 1.0 with two independently written remoting clients: ali-ons 3.12.0 (npm, signs in
# lib/channel.js) and PyPI rocketmq 0.4.4 (rocketmq-client-cpp 1.0.1, set_session_credentials)
# against the debug mqnamesrv + mqbroker with aclEnable=true. Each client must get an allowed
# account's messages through and back, and be refused NO_PERMISSION with a wrong secret and with an
# account that has no PUB on the topic (interop/acl/*). A missing runtime or client install fails
# the run: nothing is skipped. Exit status: the number of failed checks.
#
# Env: RMQ_BIN_DIR (default ${CARGO_TARGET_DIR:-target}/debug) holds mqnamesrv, mqbroker, mqadmin;
#      INTEROP_HOME (default ~/.cache/rmq-interop) holds the installed clients (../shared/interop/run
#      installs them there, and so does this script when they are missing); TIMEOUT_S per client
#      (default 90).
set -u
cd "$(dirname "$0")/.."
bin="${RMQ_BIN_DIR:-${CARGO_TARGET_DIR:-target}/debug}"
home=${INTEROP_HOME:-$HOME/.cache/rmq-interop}
timeout_s=${TIMEOUT_S:-90}
# The broker also listens on broker_port-2 (VIP channel) and broker_port+1 (HA); gRPC is off.
ns_port=31876 broker_port=32911

for tool in mqnamesrv mqbroker mqadmin; do
  if [ ! -x "$bin/$tool" ]; then
    echo "interop-acl: FAIL: $bin/$tool missing; build it with cargo build --workspace (or set RMQ_BIN_DIR)"
    exit 1
  fi
done
for tool in node npm python3; do
  if ! command -v $tool >/dev/null; then
    echo "interop-acl: FAIL: $tool not found; run .ci/install-tools.sh"
    exit 1
  fi
done
# The clients, installed where ../shared/interop/run puts them (.ci/interop.sh usually has).
if [ ! -f "$home/node/node_modules/ali-ons/package.json" ]; then
  mkdir -p "$home/node"
  if ! (cd "$home/node" && { [ -f package.json ] || npm init -y >/dev/null; } \
        && npm install --no-audit --no-fund ali-ons@3.12.0 >/dev/null 2>&1) \
      || [ ! -f "$home/node/node_modules/ali-ons/package.json" ]; then
    echo "interop-acl: FAIL: could not install ali-ons@3.12.0 into $home/node (npm registry reachable?)"
    exit 1
  fi
fi
if ! "$home/venv/bin/python" -c 'import rocketmq.client' 2>/dev/null; then
  if ! { python3 -m venv "$home/venv" && "$home/venv/bin/pip" install -q rocketmq==0.4.4; } >/dev/null 2>&1 \
      || ! "$home/venv/bin/python" -c 'import rocketmq.client' 2>/dev/null; then
    echo "interop-acl: FAIL: could not install PyPI rocketmq==0.4.4 into $home/venv (PyPI reachable?)"
    exit 1
  fi
fi

for port in $ns_port $broker_port; do
  if (exec 3<>/dev/tcp/127.0.0.1/$port) 2>/dev/null; then
    echo "interop-acl: FAIL: port $port is already in use"
    exit 1
  fi
done

work=$(mktemp -d)
ns= broker=
trap 'kill $ns $broker 2>/dev/null; wait $ns $broker 2>/dev/null; rm -rf "$work"' EXIT
# Accounts the scripts expect (their defaults). The topics are created by the admin account; the
# client accounts are not admin and only reach their own topic.
cat > "$work/plain_acl.yml" <<'YAML'
accounts:
  - accessKey: rmqadmin
    secretKey: acl-admin-secret
    admin: true
  - accessKey: onsuser
    secretKey: ons-secret
    defaultTopicPerm: DENY
    defaultGroupPerm: SUB
    topicPerms:
      - AclAliOns=PUB|SUB
  - accessKey: onsreader
    secretKey: reader-secret
    defaultTopicPerm: DENY
    defaultGroupPerm: SUB
    topicPerms:
      - AclAliOns=SUB
  - accessKey: cppuser
    secretKey: cpp-secret
    defaultTopicPerm: DENY
    defaultGroupPerm: SUB
    topicPerms:
      - AclCpp=PUB|SUB
  - accessKey: cppreader
    secretKey: cppreader-secret
    defaultTopicPerm: DENY
    defaultGroupPerm: SUB
    topicPerms:
      - AclCpp=SUB
YAML
printf "listenPort=%s\nkvConfigPath=%s/kv.json\n" $ns_port "$work" > "$work/ns.properties"
cat > "$work/broker.properties" <<EOF
brokerName=broker-a
brokerIP1=127.0.0.1
listenPort=$broker_port
grpcServerPort=0
storePathRootDir=$work/store
mappedFileSizeCommitLog=67108864
aclEnable=true
aclFile=$work/plain_acl.yml
EOF
RMQ_LOG_DIR="$work/logs" "$bin/mqnamesrv" -c "$work/ns.properties" > "$work/ns.out" 2>&1 & ns=$!
sleep 1
RMQ_LOG_DIR="$work/logs" "$bin/mqbroker" -c "$work/broker.properties" -n 127.0.0.1:$ns_port > "$work/broker.out" 2>&1 & broker=$!
up=
for _ in $(seq 100); do
  (exec 3<>/dev/tcp/127.0.0.1/$broker_port) 2>/dev/null && { up=1; break; }
  sleep 0.1
done
if [ -z "$up" ] || ! kill -0 $ns $broker 2>/dev/null; then
  echo "interop-acl: FAIL: the daemons did not come up (broker port $broker_port); output:"
  tail -20 "$work/ns.out" "$work/broker.out"
  exit 1
fi

# The topics, created by the admin account (the name server learns them at the broker's next
# registration, which updateTopic triggers); retried while the broker registers.
for topic in AclAliOns AclCpp; do
  created=
  for _ in $(seq 30); do
    if "$bin/mqadmin" updateTopic -n 127.0.0.1:$ns_port -c DefaultCluster -t $topic -r 4 -w 4 \
        --access-key rmqadmin --secret-key acl-admin-secret > "$work/topic-$topic.log" 2>&1; then
      created=1; break
    fi
    sleep 1
  done
  if [ -z "$created" ]; then
    echo "interop-acl: FAIL: updateTopic $topic as rmqadmin:"; cat "$work/topic-$topic.log"
    exit 1
  fi
done

fails=0
run_check() { # NAME COMMAND...: runs one client script, prints its PASS/FAIL line
  local name=$1; shift
  local out
  out=$(NAMESRV_ADDR=127.0.0.1:$ns_port TIMEOUT_S=$timeout_s timeout $((timeout_s + 30)) "$@" 2>&1)
  local status=$?
  if echo "$out" | grep -qE "^(PASS|FAIL) $name"; then
    echo "$out" | grep -E "^(PASS|FAIL) $name"
  else
    echo "FAIL $name: exit status $status without a PASS/FAIL line; output:"
    echo "$out" | tail -20
    status=1
  fi
  if [ $status -ne 0 ] || ! echo "$out" | grep -q "^PASS $name"; then
    fails=$((fails + 1))
  fi
}
NODE_PATH="$home/node/node_modules" run_check ali-ons-acl node interop/acl/ali_ons_acl.js
INTEROP_WORK="$work/cpp-home" run_check cpp-acl "$home/venv/bin/python" interop/acl/cpp_acl.py

echo "interop-acl: $((2 - fails)) passed, $fails failed"
if [ $fails -ne 0 ]; then
  echo "--- broker output (last 40 lines)"; tail -40 "$work/broker.out"
fi
exit $fails
