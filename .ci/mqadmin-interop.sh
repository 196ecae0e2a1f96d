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
. .ci/rmq-for-java.sh
ns_port=${MQADMIN_NS_PORT:-49876}
start_rmq_for_java mqadmin-interop $ns_port ${MQADMIN_BROKER_PORT:-50911}
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
