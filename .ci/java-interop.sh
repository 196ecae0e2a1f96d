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
  push-broadcasting push-retry-then-dlq push-consume-from-timestamp push-sql92 request-reply
  lite-pull-subscribe-commit lite-pull-assign-seek pull-consumer-offsets
  admin-subscription-groups admin-query-by-key-and-id admin-kv-config
  admin-cluster-topic-crud admin-consume-stats-connections admin-producer-connections
  admin-reset-offset-live admin-broker-runtime-and-config
)
# Checks named on the command line run instead (to try one while fixing it).
if [ $# -gt 0 ]; then CHECKS=("$@"); fi
. .ci/rmq-for-java.sh
ns_port=39876
start_rmq_for_java java-interop $ns_port 40911
DELAY_LEVEL_2_MS=1000 interop/java/run.sh 127.0.0.1:$ns_port "${CHECKS[@]}"
status=$?
# POP over remoting exists from the 5.x client on.
if [ $# -eq 0 ]; then
  JAVA_CLIENT_VERSIONS=5.5.0 interop/java/run.sh 127.0.0.1:$ns_port pop-remoting
  status=$((status + $?))
fi
if [ $status -ne 0 ]; then
  echo "--- broker log (last 60 lines)"; tail -60 "$work/broker.out"
fi
exit $status
