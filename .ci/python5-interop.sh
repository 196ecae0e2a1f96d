#!/usr/bin/env bash
# The official RocketMQ 5.x Python client (PyPI rocketmq-python-client 5.1.2, gRPC) against a
# broker that serves apache.rocketmq.v2.MessagingService itself: FIFO order, delay messages,
# transactions (commit, rollback, check-back), SimpleConsumer invisible time
# (change_invisible_duration, redelivery) and a PushConsumer tag filter. See
# interop/python5/checks.py for what each check sends and expects.
#
#   bash .ci/python5-interop.sh NS_ADDR GRPC_ENDPOINT [CHECK...]
#
# NS_ADDR (else $NAMESRV_ADDR): the name server mqadmin creates the topics and the FIFO consumer
# group through; GRPC_ENDPOINT (else $PY5_ENDPOINT): host:port of the broker's gRPC port, which
# should run with minInvisibleTimeMillsForRecv=1000 and quick transaction check-backs (as
# .ci/grpc-interop.sh starts it). Installs the client into its own venv
# (~/.cache/rmq-interop/py5-venv, or $PY5_VENV) when missing. Prints one PASS/FAIL line per check;
# the exit code is the number of failures. Client logs: $PY5_OUT (default a fresh temp folder).
set -u
cd "$(dirname "$0")/.."
name=python5-interop
ns=${1:-${NAMESRV_ADDR:-}}
endpoint=${2:-${PY5_ENDPOINT:-}}
if [ -z "$ns" ] || [ -z "$endpoint" ]; then
  echo "$name: FAIL: usage: bash .ci/python5-interop.sh NS_ADDR GRPC_ENDPOINT [CHECK...]"
  exit 1
fi
shift $(($# < 2 ? $# : 2))
checks=("$@")
[ ${#checks[@]} -gt 0 ] || checks=(py-fifo py-delay py-transaction py-simple-invisible py-push-filter)
bin="${CARGO_TARGET_DIR:-target}/debug"
version=5.1.2
venv="${PY5_VENV:-$HOME/.cache/rmq-interop/py5-venv}"
out="${PY5_OUT:-$(mktemp -d "${TMPDIR:-/tmp}/rmq-python5-interop.XXXXXX")}"
mkdir -p "$out/home"

if [ ! -x "$bin/mqadmin" ]; then
  echo "$name: FAIL: $bin/mqadmin missing; build it with cargo build --workspace"
  exit 1
fi

# The client, importable, in the pinned version. HOME redirected: importing it creates its log folder.
installed() {
  HOME="$out/home" "$venv/bin/python" -c "
import importlib.metadata as md, sys
from rocketmq import Producer, SimpleConsumer, PushConsumer, TransactionChecker
sys.exit(md.version('rocketmq-python-client') != '$version')" 2>/dev/null
}
if ! installed; then
  if ! command -v python3 > /dev/null; then
    echo "$name: FAIL: python3 not found; install it (apt-get install -y python3 python3-venv)"
    exit 1
  fi
  if ! python3 -m venv "$venv" > "$out/install.log" 2>&1; then
    echo "$name: FAIL: python3 -m venv $venv failed (python3-venv installed?):"
    tail -20 "$out/install.log"
    exit 1
  fi
  if ! "$venv/bin/pip" install -q "rocketmq-python-client==$version" >> "$out/install.log" 2>&1 || ! installed; then
    echo "$name: FAIL: pip install rocketmq-python-client==$version into $venv failed (PyPI reachable?):"
    tail -20 "$out/install.log"
    exit 1
  fi
fi

# Topics with no message.type attribute: the broker accepts every message type on them.
topic() { # TOPIC [mqadmin option...]
  local t=$1; shift
  "$bin/mqadmin" updateTopic -n "$ns" -c DefaultCluster -t "$t" -r 4 -w 4 "$@" > "$out/topic-$t.log" 2>&1 \
    || { echo "$name: FAIL: mqadmin updateTopic $t:"; tail -20 "$out/topic-$t.log"; exit 1; }
}
topic Py5Fifo -o true
topic Py5Delay
topic Py5Tx
topic Py5Simple
topic Py5Push
# The FIFO SimpleConsumer's group consumes orderly; a new name each run.
fifo_group="GID-py5-fifo-$(date +%s)-$$"
"$bin/mqadmin" updateSubGroup -n "$ns" -c DefaultCluster -g "$fifo_group" -o true > "$out/group.log" 2>&1 \
  || { echo "$name: FAIL: mqadmin updateSubGroup $fifo_group:"; tail -20 "$out/group.log"; exit 1; }

INTEROP_WORK="$out/home" timeout 600 "$venv/bin/python" interop/python5/checks.py \
  --endpoint "$endpoint" --fifo-topic Py5Fifo --fifo-group "$fifo_group" --delay-topic Py5Delay \
  --tx-topic Py5Tx --simple-topic Py5Simple --push-topic Py5Push "${checks[@]}" \
  2> "$out/checks.err" | tee "$out/checks.out"
rc=${PIPESTATUS[0]}
status=$(grep -c '^FAIL ' "$out/checks.out")
# A check with no line at all (the script crashed or was killed) is a failure too.
for c in "${checks[@]}"; do
  if ! grep -qE "^(PASS|FAIL) $c:" "$out/checks.out"; then
    echo "FAIL $c: no result (checks.py exit $rc; $(tail -1 "$out/checks.err"); output: $out)"
    status=$((status + 1))
  fi
done
echo "$name: $status failed (client log: $out/home/logs/rocketmq_python/rocketmq_client.log)"
exit "$status"
