#!/usr/bin/env bash
# rmq against Apache RocketMQ's own daemons (jars from Maven Central), for each Apache version:
#   1. rmq_client's cluster tests (crates/client/tests/cluster) in external mode against an
#      Apache name server + broker: the tests named below, each must run and pass;
#   2. rmq's mqadmin, the examples and `xtask bench -n` against the same daemons
#      (interop/apache/rmq-side.sh);
#   3. mixed clusters (crates/client/tests/mixed): an rmq broker with Apache's name server and
#      the reverse, an rmq slave of an Apache master and the reverse, with the official Java
#      client and rmq_client producing and consuming on one topic; and (5.x only) two Apache
#      brokers in controller mode failed over by three of rmq's mqcontrollers.
# A missing JDK/Maven, a failed download or a daemon that does not start fails the run; nothing
# is skipped.
#
#   .ci/apache-interop.sh                 # 4.9.7 and 5.5.0
#   .ci/apache-interop.sh 5.5.0           # one version
#   APACHE_PARTS="cluster mixed" .ci/apache-interop.sh 4.9.7
set -u
cd "$(dirname "$0")/.."
repo=$(pwd)
versions=("$@")
[ ${#versions[@]} -gt 0 ] || versions=(4.9.7 5.5.0)
parts=${APACHE_PARTS:-"cluster rmq-side mixed"}
for tool in java mvn cargo; do
  command -v $tool >/dev/null || { echo "apache-interop: FAIL: $tool not found (.ci/install-tools.sh installs a JDK 17 and Maven)"; exit 1; }
done

# rmq's binaries and examples for rmq-side.sh and the mixed tests (a no-op after .ci/run's tests).
cargo build -q --workspace --bins --examples || { echo "apache-interop: FAIL: cargo build"; exit 1; }

# rmq_client's cluster tests that run against Apache's daemons, by name. The others need what an
# external cluster cannot give (docs/compatibility.md, "rmq's own checks against Apache's
# daemons", says which and why); Cluster::start fails a test run against the wrong cluster.
CLUSTER_TESTS=(
  admin::cluster_topic_message_and_kv_calls admin::group_and_offset_calls
  clustering::three_members_each_message_once_and_rebalance
  clustering::dropping_a_consumer_stops_it_and_the_group_forgets_it
  clustering::broadcasting_every_member_sees_every_message
  offsets::offsets_resume_after_restart offsets::pull_consumer_poll_commit_seek
  offsets::pull_consumer_pause_resume_seek_ends_and_commit_chosen_queues
  offsets::shutdown_commits_listener_calls_in_progress offsets::first_commits_of_many_queues_all_land
  offsets::shutdown_during_rebalance_rounds_commits_what_was_consumed
  operator::running_info_and_consume_directly_reach_the_consumer
  request_reply::requests_get_their_replies_sequential_concurrent_and_by_callback
  request_reply::an_unanswered_request_times_out_and_a_reply_to_nobody_is_refused
  operator::reset_while_consuming_redelivers_server_side
  orderly::per_key_order_with_random_failures
  orderly::a_message_failing_past_the_max_goes_to_the_dlq_and_order_goes_on
  produce_consume::send_and_receive_with_tag_filter produce_consume::auto_created_topic_oneway_and_errors
  produce_consume::name_server_failover
  retry::reconsume_later_redelivers_through_the_retry_topic
  retry::past_max_reconsume_times_the_message_goes_to_the_dlq retry::dlq_route_is_announced_at_once
  sql92::sql92_selects_by_properties_from_the_backlog_and_while_waiting
  transaction::a_restarted_producer_of_the_group_resolves_the_check
)
# Apache 5.x writes a transaction's end to its op queue in batches (transactionOpBatchInterval,
# 3 s), so with the tests' 500 ms transactionTimeOut its check also asks about committed and
# rolled-back transactions; the test that counts the checks runs against 4.x only.
CLUSTER_TESTS_4=(transaction::commit_rollback_and_unknown_resolved_by_the_check)

# What the cluster tests need from the broker (Cluster::start checks it with GET_BROKER_CONFIG).
cluster_props=$(mktemp)
cat > "$cluster_props" <<'EOF'
messageDelayLevel=1s 1s 1s 1s 1s 1s 1s 1s 1s 1s 1s 1s 1s 1s 1s 1s 1s 1s
transactionCheckInterval=500
transactionTimeOut=500
enablePropertyFilter=true
EOF
# rmq-side.sh runs the examples as a user would: Apache's defaults, but checks every 5 s instead
# of every 30-60 s. (With a transactionTimeOut shorter than 5.x's op-log batching, 3 s, a 5.x
# broker also asks about transactions it was already told and commits them again.)
side_props=$(mktemp)
echo "transactionCheckInterval=5000" > "$side_props"

work=
stop_daemons() {
  if [ -n "$work" ]; then interop/apache/daemons.sh stop "$work"; work=; fi
}
trap 'stop_daemons; rm -f "$cluster_props" "$side_props"' EXIT
trap 'exit 130' INT TERM

# The official Java client of the same line, built once per version: RMQ_JAVA_CP for the
# mixed tests. A copy of interop/java keeps its target/ apart from the Java suite's.
java_classpath() {
  local client=$1 compat=$2 dir=$repo/interop/apache/target/java-client
  mkdir -p "$dir"
  cp -r interop/java/pom.xml interop/java/src "$dir/"
  if ! mvn -q -B -f "$dir/pom.xml" -Drocketmq.version="$client" -Dcompat="$compat" compile \
      dependency:build-classpath -Dmdep.outputFile="$dir/target/$client/classpath.txt" \
      > "$dir/$client.build.log" 2>&1; then
    echo "apache-interop: FAIL: interop/java did not build with client $client (Maven Central reachable?); log: $dir/$client.build.log" >&2
    tail -20 "$dir/$client.build.log" >&2
    return 1
  fi
  echo "$dir/target/$client/classes:$(cat "$dir/target/$client/classpath.txt")"
}

# Runs a cargo test target with exactly the named tests and fails unless all of them ran.
run_named() {
  local label=$1 want=$2 log=$3
  shift 3
  "$@" > "$log" 2>&1
  local rc=$?
  grep -E '^test .* \.\.\. |^test result' "$log" | sed "s/^/[$label] /"
  local passed
  passed=$(grep -oE 'test result: [a-zA-Z]+\. [0-9]+ passed' "$log" | grep -oE '[0-9]+' | head -1)
  if [ $rc -ne 0 ] || [ "${passed:-0}" != "$want" ]; then
    echo "[$label] FAIL: $want tests should run and pass, ${passed:-0} passed (exit $rc); output: $log"
    grep -E -A8 '^---- .* stdout ----' "$log" | head -60
    return 1
  fi
}

# Starts Apache's name server + broker of version $1 in $2 with the properties file $3.
start_daemons() {
  work=$2
  if ! interop/apache/daemons.sh start "$1" "$work" $ns_port $broker_port "$3"; then
    echo "apache-interop: FAIL: Apache $1's daemons did not start"
    work=
    return 1
  fi
}

status=0
ns_port=${APACHE_NS_PORT:-35876}
broker_port=${APACHE_BROKER_PORT:-36911}
for v in "${versions[@]}"; do
  logs=$repo/interop/apache/target/ci/$v
  rm -rf "$logs"
  mkdir -p "$logs"
  case $v in 4.*) client=4.9.8 compat=compat-v4 ;; *) client=$v compat=compat-v5 ;; esac
  for part in $parts; do
    case $part in
      cluster)
        echo "=== Apache $v: rmq_client's cluster tests against Apache's name server + broker"
        start_daemons "$v" "$logs/cluster-daemons" "$cluster_props" || { status=$((status + 1)); continue; }
        tests=("${CLUSTER_TESTS[@]}")
        case $v in 4.*) tests+=("${CLUSTER_TESTS_4[@]}") ;; esac
        RMQ_TEST_NAMESRV=127.0.0.1:$ns_port run_named "apache-$v cluster" ${#tests[@]} "$logs/cluster.log" \
          cargo test -p rmq-client --test cluster -- --exact --test-threads=1 "${tests[@]}" \
          || status=$((status + 1))
        stop_daemons
        ;;
      rmq-side)
        echo "=== Apache $v: rmq's mqadmin, examples and bench (interop/apache/rmq-side.sh)"
        start_daemons "$v" "$logs/rmq-side-daemons" "$side_props" || { status=$((status + 1)); continue; }
        interop/apache/rmq-side.sh 127.0.0.1:$ns_port 2>&1 \
          | tee "$logs/rmq-side.log" | grep -E '^(PASS|FAIL)' | sed "s/^/[apache-$v rmq-side] /"
        rc=${PIPESTATUS[0]}
        [ "$rc" = 0 ] || { echo "[apache-$v rmq-side] FAIL: $rc checks failed; output: $logs/rmq-side.log"; status=$((status + rc)); }
        stop_daemons
        ;;
      mixed)
        echo "=== Apache $v: mixed clusters (crates/client/tests/mixed, Java client $client)"
        if ! cp=$(java_classpath "$client" "$compat"); then status=$((status + 1)); continue; fi
        # Apache 4.x has no controller mode: its brokers cannot fail over through rmq's
        # controllers, so that one test runs against 5.x only.
        if [ "${v%%.*}" -ge 5 ]; then want=8 skip=(); else want=7 skip=(--skip failover::); fi
        RMQ_APACHE_VERSION=$v RMQ_JAVA_CP=$cp run_named "apache-$v mixed" $want "$logs/mixed.log" \
          cargo test -p rmq-client --test mixed -- --ignored --test-threads=1 "${skip[@]}" \
          || status=$((status + 1))
        ;;
      *) echo "apache-interop: unknown part $part (cluster rmq-side mixed)"; status=$((status + 1)) ;;
    esac
  done
  stop_daemons
done
exit $status
