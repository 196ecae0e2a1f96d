#!/usr/bin/env bash
# The reference run: rmq's Java checks against Apache's own daemons. For each Apache version it
# starts a name server + broker with the broker settings .ci/java-interop.sh gives rmq, runs the
# official-client suite (interop/java/run.sh, every check, both client versions) and Apache's
# mqadmin checks (interop/java/mqadmin.sh), and stops the daemons, also on failure or Ctrl-C.
#
#   interop/apache/baseline.sh                     # Apache 4.9.7 and 5.5.0
#   interop/apache/baseline.sh 5.5.0 -- suite      # one version, only the client suite
#   interop/apache/baseline.sh 4.9.7 -- mqadmin    # only the mqadmin checks
#
# Ports: BASELINE_NS_PORT (default 29876) and BASELINE_BROKER_PORT (default 30911; the broker
# also takes the port - 2 and + 1). Logs: interop/apache/target/baseline/VERSION/. Results are
# summarised in docs/compatibility.md ("Against Apache's own daemons"). Exit status: the failed
# checks, added up.
set -u
cd "$(dirname "$0")/../.."
repo=$(pwd)
versions=()
parts="suite mqadmin"
while [ $# -gt 0 ]; do
  case $1 in
    --) shift; parts="$*"; break ;;
    *) versions+=("$1"); shift ;;
  esac
done
[ ${#versions[@]} -gt 0 ] || versions=(4.9.7 5.5.0)
ns_port=${BASELINE_NS_PORT:-29876}
broker_port=${BASELINE_BROKER_PORT:-30911}

work=
stop_daemons() {
  if [ -n "$work" ]; then
    interop/apache/daemons.sh stop "$work"
    work=
  fi
}
trap stop_daemons EXIT
trap 'exit 130' INT TERM

# What .ci/java-interop.sh gives rmq's broker; Apache's keys have the same names.
extra=$(mktemp)
trap 'stop_daemons; rm -f "$extra"' EXIT
cat > "$extra" <<'EOF'
maxMessageSize=65536
messageDelayLevel=1s 1s 1s 1s 1s 1s 1s 1s 1s 1s 1s 1s 1s 1s 1s 1s 1s 1s
transactionCheckInterval=2000
transactionTimeOut=1000
EOF

status=0
for v in "${versions[@]}"; do
  logs=$repo/interop/apache/target/baseline/$v
  rm -rf "$logs"
  mkdir -p "$logs"
  work=$logs/daemons
  if ! interop/apache/daemons.sh start "$v" "$work" "$ns_port" "$broker_port" "$extra"; then
    echo "FAIL apache-$v: the daemons did not start"
    work=
    status=$((status + 1))
    continue
  fi
  for part in $parts; do
    case $part in
      suite)
        echo "=== Apache $v daemons: interop/java/run.sh (official clients)"
        DELAY_LEVEL_2_MS=1000 interop/java/run.sh "127.0.0.1:$ns_port" 2>&1 | tee "$logs/suite.txt"
        status=$((status + ${PIPESTATUS[0]}))
        cp interop/java/target/*.run.log "$logs/" 2>/dev/null
        ;;
      mqadmin)
        echo "=== Apache $v daemons: interop/java/mqadmin.sh (Apache's mqadmin)"
        interop/java/mqadmin.sh "127.0.0.1:$ns_port" 2>&1 | tee "$logs/mqadmin.txt"
        status=$((status + ${PIPESTATUS[0]}))
        cp -r interop/java/target/mqadmin "$logs/mqadmin-out" 2>/dev/null
        ;;
      *) echo "baseline: unknown part $part (suite, mqadmin)"; status=$((status + 1)) ;;
    esac
  done
  stop_daemons
done
exit $status
