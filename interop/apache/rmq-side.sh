#!/usr/bin/env bash
# rmq's own tools and examples against a running RocketMQ cluster — above all Apache's own
# daemons (interop/apache/daemons.sh): rmq's mqadmin, the cargo examples of rmq-client and
# `cargo xtask bench -n`, each a named check that reads what the program PRINTED, not only its
# exit status.
#
#   interop/apache/rmq-side.sh NAMESRV [part ...]      # parts: mqadmin examples bench console (default all)
#
#   interop/apache/daemons.sh start 5.5.0 /tmp/rmqside-5 21876 22911
#   interop/apache/rmq-side.sh 127.0.0.1:21876
#   interop/apache/daemons.sh stop /tmp/rmqside-5
#
# Nothing is built here: the binaries come from RMQ_BIN_DIR (default target/debug: mqadmin and
# xtask there, the examples in examples/), built beforehand with
# `cargo build --workspace --examples`. A missing binary is a FAIL of every check that needs it.
#
# Parts:
#   mqadmin   clusterList clusterList-tps updateTopic topicList topicList-cluster topicRoute
#             sendMessage topicStatus queryMsgByKey queryMsgById queryMsgById-clientId
#             queryMsgByUniqueKey queryMsgByOffset allocateMQ cleanExpiredCQ deleteExpiredCommitLog
#             updateSubGroup consumerConnection consumerStatus consumerProgress
#             consumerProgress-all resetOffsetByTime brokerStatus getBrokerConfig
#             updateBrokerConfig updateKvConfig updateTopic-order topicClusterList wipeWritePerm
#             (with addWritePerm) deleteSubGroup deleteTopic, on a fresh topic and groups. The producer and push_consumer examples are the fixture
#             (messages with keys, a live consumer). A subcommand rmq's mqadmin does not have
#             (mqadmin --help) is a FAIL.
#   examples  producer push_consumer push_consumer-commit batch_producer ordered_producer
#             orderly_consumer async_producer pull_consumer delay_producer broadcast_consumer
#             transaction_producer retry_consumer, each on a fresh topic (created with rmq's
#             mqadmin updateTopic, 4 queues) and group, with exact counts: a consumer must get
#             exactly the messages its producer sent. Examples that run until Ctrl-C are stopped
#             with SIGINT once their output shows what was expected (or their deadline passes).
#   bench     `xtask bench -n NAMESRV -m RMQ_SIDE_BENCH_MESSAGES (default 64, at least 32)
#             --no-micro --no-build` with RMQ_BIN_DIR's examples/bench (CARGO_TARGET_DIR points
#             xtask's target/release at RMQ_BIN_DIR); the result table must show every phase for
#             both body sizes, with the send phases' exact counts and non-zero rates. The
#             target/bench/results.md xtask writes is moved here, the one there before kept.
#   console   rmq's mqconsole (no login, loopback) on the cluster, through its JSON API:
#             console-start console-cluster console-overview console-topic console-send
#             console-by-key console-by-id console-stats console-group.
#
# The cluster is RMQ_SIDE_CLUSTER (default DefaultCluster), its master RMQ_SIDE_BROKER (default
# broker-a, brokerId 0). The broker's default messageDelayLevel is assumed (level 2 = 5 s, level
# 3 = 10 s): RMQ_SIDE_DELAY_LEVEL / RMQ_SIDE_DELAY_MS change the delay_producer check.
# Unresolved transactions wait for the broker's check (transactionCheckInterval: 60 s on Apache
# 4.9.7, 30 s on 5.5.0), within RMQ_SIDE_TX_TIMEOUT seconds (default 150).
# Each check prints PASS name, or FAIL name: reason | the first line that shows the problem
# (output: file); every output is kept under interop/apache/target/rmq-side/NAMESRV/PART/
# (example runs get HOME there too, for the broadcasting offsets). Exit status: the number of
# failed checks.
set -u
cd "$(dirname "$0")/../.."
repo=$(pwd)
ns=${1:?usage: rmq-side.sh NAMESRV [part ...]   (parts: mqadmin examples bench console)}
shift
all_parts=(mqadmin examples bench console)
if [ $# -gt 0 ]; then parts=("$@"); else parts=("${all_parts[@]}"); fi
for p in "${parts[@]}"; do
  case " ${all_parts[*]} " in *" $p "*) ;; *) echo "rmq-side: unknown part $p (known: ${all_parts[*]})"; exit 2 ;; esac
done
command -v timeout >/dev/null || { echo "rmq-side: FAIL: timeout not found (apt-get install -y coreutils)"; exit 1; }
cluster=${RMQ_SIDE_CLUSTER:-DefaultCluster}
broker=${RMQ_SIDE_BROKER:-broker-a}
bin=${RMQ_BIN_DIR:-$repo/target/debug}
bin=$(cd "$bin" 2>/dev/null && pwd || echo "$bin")
build_hint="build with cargo build --workspace --examples"
# One directory per name server, so runs against two clusters at once do not mix.
work=$repo/interop/apache/target/rmq-side/${ns//[^A-Za-z0-9.-]/_}
rm -rf "$work"
mkdir -p "$work/home"
run=$(od -An -N4 -tx4 /dev/urandom | tr -d ' ')

# ---------------------------------------------------------------- results

failed=0
passed=0
last=/dev/null    # the output file the current check judges

# The first line of $1 that shows an error, else its first line.
error_line() {
  [ -s "$1" ] || return 0
  grep -m1 -E '^mqadmin: |[Ee]rror|panicked|timed out after|FAIL' "$1" || head -1 "$1"
}
pass() {
  passed=$((passed + 1))
  echo "PASS $1"
}
fail() { # NAME REASON [OUTPUT_FILE]
  local file=${3:-$last} line=
  failed=$((failed + 1))
  [ "$file" = /dev/null ] || line=$(error_line "$file")
  echo "FAIL $1: $2${line:+ | $line}$([ "$file" = /dev/null ] || echo " (output: ${file#$repo/})")"
}
# A subcommand rmq's mqadmin lacks is a failure: operators type these daily.
skip() {
  fail "$1" "$2" /dev/null
}
# Judges a check by $reason (empty: passed).
result() {
  if [ -z "$reason" ]; then pass "$1"; else fail "$1" "$reason"; fi
}
has() { grep -qE -- "$1" "$last"; }
# Whether binary $2 exists; when not, FAIL check $1 with the build command.
need() {
  [ -x "$2" ] && return 0
  fail "$1" "$2 missing; $build_hint" /dev/null
  return 1
}

# Polls "$@" every 0.5 s until it succeeds or $1 seconds pass.
poll() {
  local secs=$1
  shift
  local deadline=$((SECONDS + secs))
  until "$@"; do
    [ $SECONDS -lt $deadline ] || return 1
    sleep 0.5
  done
}
now_ms() { date +%s%3N; }

# ---------------------------------------------------------------- processes

# Background example runs, stopped on exit (by pid, only ours).
bg_pids=()
cleanup() {
  local p
  for p in "${bg_pids[@]}"; do stop_bg "$p"; done
  bg_pids=()
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# Starts example $1 (its output to file $2) in the background with the rest as arguments; its
# pid in $bg. Examples treat SIGINT as Ctrl-C: they shut down cleanly and print their totals.
start_bg() {
  local name=$1 out=$2
  shift 2
  HOME=$work/home "$bin/examples/$name" "$@" < /dev/null > "$out" 2>&1 &
  bg=$!
  bg_pids+=("$bg")
}
# Ends background pid $1: SIGINT (Ctrl-C), then TERM after 15 s, KILL after 5 more.
stop_bg() {
  local pid=$1 i
  kill -0 "$pid" 2>/dev/null || { wait "$pid" 2>/dev/null; return 0; }
  kill -INT "$pid" 2>/dev/null
  for i in $(seq 150); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
  if kill -0 "$pid" 2>/dev/null; then
    kill -TERM "$pid" 2>/dev/null
    for i in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -KILL "$pid" 2>/dev/null
  fi
  wait "$pid" 2>/dev/null
}
# Waits up to $2 seconds for background pid $1 to exit by itself; its exit status in $bg_rc.
wait_bg() {
  local pid=$1 deadline=$((SECONDS + $2))
  while kill -0 "$pid" 2>/dev/null && [ $SECONDS -lt $deadline ]; do sleep 0.2; done
  if kill -0 "$pid" 2>/dev/null; then
    bg_rc=124
    stop_bg "$pid"
  else
    wait "$pid" 2>/dev/null
    bg_rc=$?
  fi
}
# Runs example $2 in the foreground (output to file $3), at most $1 seconds, SIGINT at the
# deadline; rest: its arguments. Returns its exit status (124: timed out).
ex() {
  local secs=$1 name=$2 out=$3
  shift 3
  HOME=$work/home timeout -s INT -k 15 "$secs" "$bin/examples/$name" "$@" < /dev/null > "$out" 2>&1
  local rc=$?
  [ $rc -ne 124 ] || echo "(timed out after $secs s)" >> "$out"
  return $rc
}
# Lines of file $1 matching ERE $2.
count() { grep -cE -- "$2" "$1" 2>/dev/null; }

# mqadmin NAME ARGS...: rmq's mqadmin against $ns, output (stdout and stderr) in
# $work/mqadmin/NAME.out, also $last; exit status in $rc.
mq() {
  local name=$1
  shift
  last=$work/mqadmin/$name.out
  mkdir -p "$work/mqadmin"
  timeout -k 5 60 "$bin/mqadmin" "$@" -n "$ns" < /dev/null > "$last" 2>&1
  rc=$?
  [ $rc -ne 124 ] || echo "(mqadmin $name timed out after 60 s)" >> "$last"
  return $rc
}
# Creates topic $1 with 4 queues on every master of the cluster (rmq's mqadmin updateTopic), for
# the examples; when that fails the examples still run, on the broker's auto-created topic.
make_topic() {
  local saved=$last
  [ -x "$bin/mqadmin" ] || return 0
  if ! mq "updateTopic-$1" updateTopic -c "$cluster" -t "$1" -r 4 -w 4 || ! has 'create topic to .* success'; then
    echo "note: mqadmin updateTopic -t $1 failed ($(error_line "$last")); the example relies on topic auto-creation"
  fi
  last=$saved
}

# ---------------------------------------------------------------- part mqadmin

mqadmin_part() {
  echo "=== mqadmin: rmq's mqadmin ($bin/mqadmin) against $ns"
  local ex_out=$work/mqadmin
  mkdir -p "$ex_out"
  if ! need mqadmin "$bin/mqadmin"; then return; fi
  local topic=RmqSideAdmin_$run otopic=RmqSideOrder_$run sgroup=SRmqSide_$run cgroup=CRmqSide_$run
  local key=rmqside-key-$run body="rmq-side body $run" tag=RmqSideTag
  local addr= msg_id= offset_id= sent=0 consumer= reason check
  local start_ms
  start_ms=$(now_ms)
  # The subcommands this mqadmin has.
  local commands
  commands=$("$bin/mqadmin" --help 2>/dev/null | awk '/^Commands:/ {on = 1; next} on && /^  [A-Za-z]/ {print $1} on && /^$/ {on = 0}' | tr '\n' ' ')
  present() { case " $commands " in *" $1 "*) return 0 ;; *) return 1 ;; esac; }

  for check in clusterList clusterList-tps updateTopic topicList topicList-cluster topicRoute sendMessage \
      topicStatus queryMsgByKey queryMsgById queryMsgById-clientId queryMsgByUniqueKey queryMsgByOffset \
      allocateMQ cleanExpiredCQ deleteExpiredCommitLog updateSubGroup \
      consumerConnection consumerStatus consumerProgress consumerProgress-all resetOffsetByTime brokerStatus \
      getBrokerConfig updateBrokerConfig updateKvConfig updateTopic-order topicClusterList wipeWritePerm \
      deleteSubGroup deleteTopic; do
    reason=
    last=/dev/null
    case $check in
      clusterList)
        # A broker that just started can miss the first runtime-info call's 5 s timeout (JIT
        # warm-up of a fresh JVM on a busy machine): ask until it answers, for up to 30 s.
        cluster_answered() { mq clusterList clusterList && ! has 'Brokers that did not answer'; }
        poll 30 cluster_answered
        # #Cluster Name #Broker Name #BID #Addr #Version ...: our master (BID 0) and its figures.
        local row
        row=$(awk -v c="$cluster" -v b="$broker" '$1 == c && $2 == b && $3 == 0' "$last")
        addr=$(awk '{print $4}' <<< "$row")
        if [ $rc -ne 0 ]; then reason="exit status $rc"
        elif [ -z "$addr" ]; then reason="no row for cluster $cluster, broker $broker, BID 0"
        elif has 'Brokers that did not answer'; then reason="the broker did not answer GET_BROKER_RUNTIME_INFO"
        elif [ "$(awk '{print $5}' <<< "$row")" = - ]; then reason="no broker version (runtime info) in the row"
        fi
        ;;
      clusterList-tps)
        # #InTPS and #OutTPS (putTps and the transferred-TPS key of the broker's runtime info) are
        # figures, not '-'. A broker only has them some seconds after it started: wait 30 s.
        local tps=
        tps_shown() {
          mq clusterList-tps clusterList -c "$cluster" || return 1
          tps=$(awk -v c="$cluster" -v b="$broker" '$1 == c && $2 == b && $3 == 0 {print $6, $7}' "$last")
          [[ $tps =~ ^[0-9.]+\ [0-9.]+$ ]]
        }
        if ! poll 30 tps_shown; then
          local in_tps out_tps
          read -r in_tps out_tps <<< "$tps"
          reason="#InTPS '${in_tps:-}', #OutTPS '${out_tps:-}' after 30 s (exit status $rc); brokerStatus -b ${addr:-<addr>} has $(
            [ -n "$addr" ] && "$bin/mqadmin" brokerStatus -n "$ns" -b "$addr" 2>/dev/null | awk '$1 ~ /^(putTps|getTransferr?edTps)$/ {printf "%s%s", sep, $1; sep = ", "}')"
        fi
        ;;
      updateTopic)
        mq updateTopic updateTopic -c "$cluster" -t "$topic" -r 4 -w 4
        if [ $rc -ne 0 ]; then reason="exit status $rc"
        elif ! has "^create topic to ${addr:-.*} success\.\$"; then reason="no 'create topic to ${addr:-<addr>} success.'"
        elif ! has "TopicConfig \[topicName=$topic, readQueueNums=4, writeQueueNums=4, perm=RW-"; then reason="no 'TopicConfig [topicName=$topic, readQueueNums=4, writeQueueNums=4, perm=RW-'"
        fi
        ;;
      topicList)
        listed() { mq topicList topicList && grep -qx -- "$topic" "$last"; }
        poll 15 listed || reason="$topic not listed within 15 s (exit status $rc)"
        ;;
      topicList-cluster)
        mq topicList-cluster topicList -c "$cluster"
        if [ $rc -ne 0 ]; then reason="exit status $rc"
        elif ! has "^#Cluster Name +#Topic +#Consumer Group"; then reason="no table header"
        elif ! has "^$cluster +$topic\$"; then reason="no row '$cluster $topic'"
        fi
        ;;
      topicRoute)
        mq topicRoute topicRoute -t "$topic"
        if [ $rc -ne 0 ]; then reason="exit status $rc"
        elif ! has "^$cluster +$broker +0 +${addr:-[^ ]+}\$"; then reason="no broker row '$cluster $broker 0 $addr'"
        elif ! has "^$broker +4 +4 +RW-\$"; then reason="no queue row '$broker 4 4 RW-'"
        fi
        ;;
      sendMessage)
        # To queue 0 of the fresh topic: offset 0 there, for queryMsgByOffset.
        mq sendMessage sendMessage -t "$topic" -p "$body" -k "$key" -c "$tag" -b "$broker" -i 0
        read -r msg_id offset_id < <(awk -v b="$broker" '$1 == b && $2 == 0 && $3 == "SEND_OK" {print $4, $5}' "$last")
        if [ $rc -ne 0 ]; then reason="exit status $rc"
        elif [ -z "${offset_id:-}" ]; then reason="no row '$broker 0 SEND_OK <msgId> <offsetMsgId>'"; msg_id=; offset_id=
        else sent=1
        fi
        # The fixture: 8 messages with keys key-0..key-7 from the producer example, and a
        # push_consumer example of group $cgroup that stays up for consumerConnection.
        if [ -x "$bin/examples/producer" ]; then
          if ex 60 producer "$ex_out/producer.out" -n "$ns" -t "$topic" -c 8; then
            sent=$((sent + $(count "$ex_out/producer.out" '^SendOk msgId=')))
          else
            echo "note: the producer example failed: $(error_line "$ex_out/producer.out") (output: ${ex_out#$repo/}/producer.out)"
          fi
        fi
        if [ -x "$bin/examples/push_consumer" ]; then
          start_bg push_consumer "$ex_out/push_consumer.out" -n "$ns" -t "$topic" -g "$cgroup"
          consumer=$bg
        fi
        ;;
      topicStatus)
        mq topicStatus topicStatus -t "$topic"
        # #Broker Name #QID #Min Offset #Max Offset #Last Updated: max offsets add up to the sends.
        local rows total
        rows=$(awk -v b="$broker" '$1 == b && $2 ~ /^[0-9]+$/ && $4 ~ /^[0-9]+$/' "$last" | wc -l)
        total=$(awk -v b="$broker" '$1 == b && $2 ~ /^[0-9]+$/ && $4 ~ /^[0-9]+$/ {s += $4} END {print s + 0}' "$last")
        if [ $rc -ne 0 ]; then reason="exit status $rc"
        elif [ "$rows" -ne 4 ]; then reason="$rows queue rows of $broker, expected 4"
        elif [ "$total" -ne "$sent" ] || [ "$sent" -eq 0 ]; then reason="max offsets add up to $total; $sent messages were sent (sendMessage + the producer example)"
        fi
        ;;
      queryMsgByKey)
        if [ -z "$msg_id" ]; then reason="no message (sendMessage failed)"; else
          mq queryMsgByKey queryMsgByKey -t "$topic" -k "$key"
          if [ $rc -ne 0 ]; then reason="exit status $rc"
          elif ! has "^$msg_id +0 +0 +[0-9-]+ [0-9:.]+ +$tag\$"; then reason="key $key: no row '$msg_id 0 0 <time> $tag'"
          elif [ "$(count "$last" '^[0-9A-F]{32} ')" -ne 1 ]; then reason="key $key: $(count "$last" '^[0-9A-F]{32} ') rows, expected 1"
          fi
        fi
        ;;
      queryMsgById | queryMsgById-clientId | queryMsgByUniqueKey | queryMsgByOffset)
        if [ -z "$msg_id" ]; then reason="no message (sendMessage failed)"; else
          case $check in
            queryMsgById) mq "$check" queryMsgById -i "$offset_id" ;;
            queryMsgById-clientId) mq "$check" queryMsgById -i "$msg_id" -t "$topic" ;;
            queryMsgByUniqueKey) mq "$check" queryMsgByUniqueKey -i "$msg_id" -t "$topic" ;;
            queryMsgByOffset) mq "$check" queryMsgByOffset -t "$topic" -b "$broker" -i 0 -o 0 ;;
          esac
          if [ $rc -ne 0 ]; then reason="exit status $rc"
          elif ! has "^Message ID: +$msg_id\$"; then reason="no 'Message ID: $msg_id'"
          elif ! has "^OffsetID: +$offset_id\$"; then reason="no 'OffsetID: $offset_id'"
          elif ! has "^Topic: +$topic\$"; then reason="no 'Topic: $topic'"
          elif ! has "^Keys: +\[$key\]\$"; then reason="no 'Keys: [$key]'"
          elif ! has "^Tags: +\[$tag\]\$"; then reason="no 'Tags: [$tag]'"
          elif ! has "^Body: +$body\$"; then reason="no 'Body: $body'"
          fi
        fi
        ;;
      updateSubGroup)
        mq updateSubGroup updateSubGroup -c "$cluster" -g "$sgroup" -r 3
        if [ $rc -ne 0 ]; then reason="exit status $rc"
        elif ! has "^create subscription group to ${addr:-.*} success\.\$"; then reason="no 'create subscription group to ${addr:-<addr>} success.'"
        elif ! has "SubscriptionGroupConfig \[groupName=$sgroup, .*retryMaxTimes=3\]"; then reason="no 'SubscriptionGroupConfig [groupName=$sgroup, ... retryMaxTimes=3]'"
        fi
        ;;
      consumerConnection)
        if ! need consumerConnection "$bin/examples/push_consumer"; then continue; fi
        # The live consumer first gets every message (so it has rebalanced and committed).
        got_all() { [ "$(count "$ex_out/push_consumer.out" '^[0-9A-F]{32} queue=')" -ge "$sent" ]; }
        if ! poll 60 got_all; then
          reason="the push_consumer example (group $cgroup) got $(count "$ex_out/push_consumer.out" '^[0-9A-F]{32} queue=') of $sent messages in 60 s"
          last=$ex_out/push_consumer.out
        else
          mq consumerConnection consumerConnection -g "$cgroup"
          if [ $rc -ne 0 ]; then reason="exit status $rc"
          elif ! has '^[^# ][^ ]* +[0-9.]+:[0-9]+ +RUST +V[0-9_]+$'; then reason="no connection row '<clientId> <addr> RUST V<version>' (Apache's version names)"
          elif ! has "^$topic +\*\$"; then reason="no subscription row '$topic *'"
          elif ! has '^MessageModel: CLUSTERING$'; then reason="no 'MessageModel: CLUSTERING'"
          elif ! has '^ConsumeType: CONSUME_PASSIVELY$'; then reason="no 'ConsumeType: CONSUME_PASSIVELY'"
          fi
        fi
        ;;
      consumerStatus)
        # The live consumer's running info, relayed by Apache's broker.
        if [ -z "$consumer" ]; then reason="no consumer ran (push_consumer example missing)"; else
          mq consumerStatus consumerStatus -g "$cgroup"
          if [ $rc -ne 0 ]; then reason="exit status $rc"
          elif ! has '^Same subscription in the same group of consumer$'; then reason="no 'Same subscription in the same group of consumer'"
          elif ! has '^001 +[^ ]+@[^ ]+ +V[0-9_]+ +[0-9]+$'; then reason="no member row '001 <clientId> V<version> <queues>'"
          fi
        fi
        ;;
      consumerProgress)
        # Offsets are committed every few seconds: wait for a diff of 0 over all $sent messages.
        progressed() {
          mq consumerProgress consumerProgress -g "$cgroup" || return 1
          has '^Consume Diff Total: 0$' || return 1
          [ "$(awk -v t="$topic" -v b="$broker" '$1 == t && $2 == b {s += $4} END {print s + 0}' "$last")" -eq "$sent" ]
        }
        if [ -z "$consumer" ]; then reason="no consumer ran (push_consumer example missing)"
        elif ! poll 30 progressed; then reason="no 'Consume Diff Total: 0' with broker offsets of $topic adding up to $sent within 30 s (exit status $rc)"
        fi
        ;;
      consumerProgress-all)
        mq consumerProgress-all consumerProgress
        if [ $rc -ne 0 ]; then reason="exit status $rc"
        elif ! has '^#Group +#Count +#Version +#Type +#Model +#TPS +#Diff Total$'; then reason="no table header"
        elif [ -z "$consumer" ]; then reason="no consumer ran (push_consumer example missing)"
        elif ! has "^$cgroup +1 +[0-9]+ +CONSUME_PASSIVELY +CLUSTERING +[0-9.]+ +0\$"; then reason="no row '$cgroup 1 <version> CONSUME_PASSIVELY CLUSTERING <tps> 0'"
        fi
        ;;
      resetOffsetByTime)
        if [ -z "$consumer" ]; then reason="no consumer ran (push_consumer example missing)"; else
          # As the command asks: stop the group's consumer first.
          stop_bg "$consumer"
          mq resetOffsetByTime resetOffsetByTime -g "$cgroup" -t "$topic" -s "$start_ms"
          reset_out=$last
          if [ $rc -ne 0 ]; then reason="exit status $rc"
          elif [ "$(awk -v b="$broker" '$1 == b && $2 ~ /^[0-9]+$/ && $4 == 0' "$last" | wc -l)" -ne 4 ]; then reason="not 4 rows '$broker <qid> <old> 0'"
          elif ! has "^Reset group $cgroup on topic $topic to $start_ms "; then reason="no 'Reset group $cgroup on topic $topic to $start_ms'"
          else
            mq consumerProgress-after-reset consumerProgress -g "$cgroup" -t "$topic"
            has "^Consume Diff Total: $sent\$" || reason="consumerProgress after the reset does not show 'Consume Diff Total: $sent'"
            [ -n "$reason" ] || last=$reset_out
          fi
        fi
        ;;
      brokerStatus)
        if [ -z "$addr" ]; then reason="no broker address (clusterList failed)"; else
          mq brokerStatus brokerStatus -b "$addr"
          if [ $rc -ne 0 ]; then reason="exit status $rc"
          elif ! has '^brokerVersionDesc +: +V[0-9]'; then reason="no 'brokerVersionDesc : V...'"
          elif ! has '^msgPutTotalTodayNow +: +[1-9][0-9]*$'; then reason="no non-zero msgPutTotalTodayNow"
          fi
        fi
        ;;
      getBrokerConfig)
        if ! present getBrokerConfig; then skip "$check" "rmq's mqadmin has no getBrokerConfig subcommand"; continue; fi
        if [ -z "$addr" ]; then reason="no broker address (clusterList failed)"; else
          mq getBrokerConfig getBrokerConfig -b "$addr"
          if [ $rc -ne 0 ]; then reason="exit status $rc"
          elif ! has "^brokerName +=? *$broker\$"; then reason="no 'brokerName = $broker'"
          fi
        fi
        ;;
      updateBrokerConfig)
        if ! present updateBrokerConfig || ! present getBrokerConfig; then skip "$check" "rmq's mqadmin has no updateBrokerConfig/getBrokerConfig subcommand"; continue; fi
        if [ -z "$addr" ]; then reason="no broker address (clusterList failed)"; else
          # A harmless key, set one higher and back.
          mq getBrokerConfig-before getBrokerConfig -b "$addr"
          local old
          old=$(awk '$1 == "maxMessageSize" {print $NF}' "$last")
          if [ -z "$old" ]; then reason="getBrokerConfig shows no maxMessageSize"; else
            mq updateBrokerConfig updateBrokerConfig -b "$addr" -k maxMessageSize -v $((old + 1))
            local update_out=$last update_rc=$rc
            mq getBrokerConfig-after getBrokerConfig -b "$addr"
            has "^maxMessageSize +=? *$((old + 1))\$" || reason="getBrokerConfig does not show maxMessageSize = $((old + 1)) after the update"
            mq updateBrokerConfig-restore updateBrokerConfig -b "$addr" -k maxMessageSize -v "$old"
            [ $rc -eq 0 ] || reason="${reason:-restoring maxMessageSize=$old failed}"
            [ $update_rc -eq 0 ] || reason="exit status $update_rc"
            last=$update_out
          fi
        fi
        ;;
      updateKvConfig)
        if ! present updateKvConfig; then skip "$check" "rmq's mqadmin has no updateKvConfig subcommand (its updateTopic -o true writes the KV config; see updateTopic-order)"; continue; fi
        mq updateKvConfig updateKvConfig -s "RMQ_SIDE_$run" -k rmqSideKey -v rmqSideValue
        [ $rc -eq 0 ] || reason="exit status $rc"
        if present deleteKvConfig; then
          local kv_out=$last
          mq deleteKvConfig deleteKvConfig -s "RMQ_SIDE_$run" -k rmqSideKey
          [ $rc -eq 0 ] || reason="${reason:-deleteKvConfig: exit status $rc}"
          last=$kv_out
        fi
        ;;
      updateTopic-order)
        # An ordered topic: the topic on the brokers plus ORDER_TOPIC_CONFIG on the name servers
        # (PUT_KV_CONFIG).
        mq updateTopic-order updateTopic -c "$cluster" -t "$otopic" -r 4 -w 4 -o true
        if [ $rc -ne 0 ]; then reason="exit status $rc"
        elif ! has "^create topic to ${addr:-.*} success\.\$"; then reason="no 'create topic to ${addr:-<addr>} success.'"
        elif ! has "^set cluster orderConf\. orderConf=\[$broker:4\]\$"; then reason="no 'set cluster orderConf. orderConf=[$broker:4]'"
        elif ! has "order=true\]\$"; then reason="no 'order=true]' in the TopicConfig line"
        fi
        local saved=$last saved_rc=$rc
        mq deleteTopic-order deleteTopic -c "$cluster" -t "$otopic"
        last=$saved rc=$saved_rc
        ;;
      allocateMQ)
        # Two members share the topic's queues: each listed, every queue once.
        mq allocateMQ allocateMQ -t "$topic" -i "m1@1,m2@2"
        if [ $rc -ne 0 ]; then reason="exit status $rc"
        elif ! has '"m1@1":\[\{' || ! has '"m2@2":\[\{'; then reason="no queues for m1@1 and m2@2"
        fi
        ;;
      cleanExpiredCQ | deleteExpiredCommitLog)
        # The broker cleans now (nothing is old enough to go: fileReservedTime is 72 h).
        mq "$check" "$check" -c "$cluster"
        if [ $rc -ne 0 ]; then reason="exit status $rc"
        elif ! has '^success$'; then reason="no line 'success'"
        fi
        ;;
      topicClusterList)
        mq topicClusterList topicClusterList -t "$topic"
        if [ $rc -ne 0 ]; then reason="exit status $rc"
        elif ! grep -qx -- "$cluster" "$last"; then reason="no line '$cluster'"
        fi
        ;;
      wipeWritePerm)
        # Out of the write routes and back in (addWritePerm), on the name server itself.
        mq wipeWritePerm wipeWritePerm -b "$broker"
        local wipe_out=$last
        if [ $rc -ne 0 ]; then reason="exit status $rc"
        elif ! grep -qF -- "wipe write perm of broker[$broker] in name server[$ns] OK, " "$last"; then reason="no 'wipe write perm of broker[$broker] in name server[$ns] OK, <topics>'"
        fi
        mq addWritePerm addWritePerm -b "$broker"
        if [ $rc -ne 0 ]; then reason="${reason:-addWritePerm: exit status $rc}"
        elif ! grep -qF -- "add write perm of broker[$broker] in name server[$ns] OK, " "$last"; then reason="${reason:-no 'add write perm of broker[$broker] in name server[$ns] OK, <topics>'}"
        fi
        [ -n "$reason" ] || last=$wipe_out
        ;;
      deleteSubGroup)
        mq deleteSubGroup deleteSubGroup -c "$cluster" -g "$sgroup"
        if [ $rc -ne 0 ]; then reason="exit status $rc"
        elif ! has "^delete subscription group \[$sgroup\] from broker \[${addr:-.*}\] success\.\$"; then reason="no 'delete subscription group [$sgroup] from broker [${addr:-<addr>}] success.'"
        fi
        ;;
      deleteTopic)
        mq deleteTopic deleteTopic -c "$cluster" -t "$topic"
        local deleted_out=$last
        if [ $rc -ne 0 ]; then reason="exit status $rc"
        elif ! has "^delete topic \[$topic\] from cluster \[$cluster\] success\.\$"; then reason="no 'delete topic [$topic] from cluster [$cluster] success.'"
        else
          gone() { mq topicList-after-delete topicList && ! grep -qx -- "$topic" "$last"; }
          poll 15 gone || reason="topicList still lists $topic 15 s after deleteTopic (exit status $rc)"
          [ -n "$reason" ] || last=$deleted_out
        fi
        ;;
    esac
    result "$check"
  done
  [ -z "$consumer" ] || stop_bg "$consumer"
}

# ---------------------------------------------------------------- part examples

examples_part() {
  echo "=== examples: rmq-client's examples ($bin/examples) against $ns"
  local out=$work/examples
  mkdir -p "$out"
  local t_push=RmqSidePush_$run t_batch=RmqSideBatch_$run t_order=RmqSideOrder_$run
  local t_async=RmqSideAsync_$run t_tx=RmqSideTx_$run t_delay=RmqSideDelay_$run
  local t_bcast=RmqSideBroadcast_$run t_retry=RmqSideRetry_$run
  local t
  for t in $t_push $t_batch $t_order $t_async $t_tx $t_delay $t_bcast $t_retry; do make_topic "$t"; done
  local reason rc

  # The two slow ones start first and run while the others do: transactions wait for the
  # broker's check, retries for the delay schedule (level 3, 10 s).
  local tx_producer= tx_consumer= retry_consumer= tx_started=$SECONDS
  local tx_count=6       # i % 3: 0 commit, 1 rollback, 2 unknown (then committed by the check)
  local tx_expect="order-0 order-2 order-3 order-5"
  if [ -x "$bin/examples/transaction_producer" ] && [ -x "$bin/examples/push_consumer" ]; then
    start_bg push_consumer "$out/transaction_consumer.out" -n "$ns" -t "$t_tx" -g "CRmqSideTx_$run"
    tx_consumer=$bg
    start_bg transaction_producer "$out/transaction_producer.out" -n "$ns" -t "$t_tx" \
      -g "PRmqSideTx_$run" -c $tx_count --wait "${RMQ_SIDE_TX_TIMEOUT:-150}"
    tx_producer=$bg
  fi
  local retry_count=3
  if [ -x "$bin/examples/retry_consumer" ] && [ -x "$bin/examples/producer" ]; then
    if ex 60 producer "$out/retry_producer.out" -n "$ns" -t "$t_retry" -c $retry_count; then
      start_bg retry_consumer "$out/retry_consumer.out" -n "$ns" -t "$t_retry" \
        -g "CRmqSideRetry_$run" --fail 1 --count $retry_count
      retry_consumer=$bg
    fi
  fi

  # producer, then push_consumer: exactly the message ids the producer printed.
  reason=
  last=$out/producer.out
  if need producer "$bin/examples/producer"; then
    ex 60 producer "$last" -n "$ns" -t "$t_push" -c 10
    rc=$?
    if [ $rc -ne 0 ]; then reason="exit status $rc"
    elif [ "$(count "$last" "^SendOk msgId=[0-9A-F]{32} queue=MessageQueue \[topic=$t_push, brokerName=[^,]+, queueId=[0-3]\] offset=[0-9]+\$")" -ne 10 ]; then
      reason="$(count "$last" '^SendOk ') 'SendOk msgId=... queue=MessageQueue [topic=$t_push, ...] offset=...' lines, expected 10"
    fi
    result producer
    sed -nE 's/^SendOk msgId=([0-9A-F]{32}) .*/\1/p' "$last" | sort > "$out/producer.ids"
  fi
  reason=
  last=$out/push_consumer.out
  if need push_consumer "$bin/examples/push_consumer"; then
    if [ ! -s "$out/producer.ids" ]; then reason="nothing to consume (the producer check failed)"; last=/dev/null; else
      ex 60 push_consumer "$last" -n "$ns" -t "$t_push" -g "CRmqSidePush_$run" --count 10
      rc=$?
      sed -nE 's/^([0-9A-F]{32}) queue=.*/\1/p' "$last" | sort > "$out/push_consumer.ids"
      if [ $rc -ne 0 ]; then reason="exit status $rc"
      elif ! has '^received 10$'; then reason="no 'received 10'"
      elif ! cmp -s "$out/producer.ids" "$out/push_consumer.ids"; then
        reason="the message ids received ($(wc -l < "$out/push_consumer.ids"), $(sort -u "$out/push_consumer.ids" | wc -l) distinct) are not the 10 the producer sent"
      elif [ "$(count "$last" "body=Hello RocketMQ [0-9]\$")" -ne 10 ]; then reason="not 10 'body=Hello RocketMQ <i>' lines"
      fi
    fi
    result push_consumer
  fi
  # push_consumer-commit: the push_consumer above stopped by itself after its 10 messages (the
  # listener wakes main, which shuts the consumer down); it commits every consumed offset on the
  # way out, so its group lags by nothing and a restarted member gets no message twice.
  reason=
  last=/dev/null
  if [ ! -s "$out/push_consumer.ids" ]; then
    fail push_consumer-commit "no consumption to judge (the push_consumer example did not run or received nothing)" /dev/null
  elif need push_consumer-commit "$bin/mqadmin"; then
    committed() { mq "examples-consumerProgress-CRmqSidePush_$run" consumerProgress -g "CRmqSidePush_$run" -t "$t_push" && has '^Consume Diff Total: 0$'; }
    poll 5 committed || reason="after the push_consumer example (group CRmqSidePush_$run) exited, consumerProgress shows $(grep -m1 '^Consume Diff Total' "$last" || echo "no 'Consume Diff Total'")"
    if [ -n "$reason" ]; then
      local lag
      lag=$(awk -v t="$t_push" '$1 == t && $6 > 0 {printf "%squeue %s committed %s of %s", sep, $3, $5, $4; sep = ", "}' "$last")
      [ -z "$lag" ] || reason="$reason ($lag)"
    fi
    result push_consumer-commit
  fi

  # batch_producer: one SEND_BATCH_MESSAGE of 16, then all 16 consumed, once each.
  reason=
  last=$out/batch_producer.out
  if need batch_producer "$bin/examples/batch_producer"; then
    ex 60 batch_producer "$last" -n "$ns" -t "$t_batch" -b 16
    rc=$?
    if [ $rc -ne 0 ]; then reason="exit status $rc"
    elif ! has "^SendOk: 16 messages from offset 0 on MessageQueue \[topic=$t_batch, "; then reason="no 'SendOk: 16 messages from offset 0 on MessageQueue [topic=$t_batch, ...'"
    elif ! need batch_producer "$bin/examples/push_consumer"; then reason=counted
    else
      local c_out=$out/batch_consumer.out
      ex 60 push_consumer "$c_out" -n "$ns" -t "$t_batch" -g "CRmqSideBatch_$run" --count 16
      rc=$?
      if [ $rc -ne 0 ]; then reason="push_consumer: exit status $rc"; last=$c_out
      elif [ "$(sed -nE 's/.* body=(batch message [0-9]+)$/\1/p' "$c_out" | sort -u | wc -l)" -ne 16 ] || ! grep -q '^received 16$' "$c_out"; then
        reason="push_consumer did not receive the 16 batch messages exactly once ($(count "$c_out" 'body=batch message') lines, $(sed -nE 's/.* body=(batch message [0-9]+)$/\1/p' "$c_out" | sort -u | wc -l) distinct)"
        last=$c_out
      fi
    fi
    [ "$reason" = counted ] || result batch_producer
  fi

  # ordered_producer: 5 orders x 4 steps, each order on one queue; orderly_consumer: every order's
  # steps in send order, from that queue.
  reason=
  last=$out/ordered_producer.out
  local ordered_ok=0
  if need ordered_producer "$bin/examples/ordered_producer"; then
    ex 60 ordered_producer "$last" -n "$ns" -t "$t_order"
    rc=$?
    if [ $rc -ne 0 ]; then reason="exit status $rc"
    elif [ "$(count "$last" '^order-[0-4] (created|paid|shipped|done) -> queue [0-3]$')" -ne 20 ]; then reason="not 20 'order-<k> <step> -> queue <q>' lines"
    elif [ "$(awk '/^order-/ {print $1, $5}' "$last" | sort -u | wc -l)" -ne 5 ]; then reason="an order's messages went to more than one queue"
    else ordered_ok=1
    fi
    result ordered_producer
  fi
  reason=
  last=$out/orderly_consumer.out
  if need orderly_consumer "$bin/examples/orderly_consumer"; then
    if [ $ordered_ok = 0 ]; then reason="nothing to consume (the ordered_producer check failed)"; last=/dev/null; else
      ex 60 orderly_consumer "$last" -n "$ns" -t "$t_order" -g "CRmqSideOrderly_$run" --count 20
      rc=$?
      # "queue=Q offset=O order-K STEP": per order, the queue the producer used and the steps in order.
      local wrong
      wrong=$(awk 'NR == FNR { if ($1 ~ /^order-/) q[$1] = $5; next }
                   $3 ~ /^order-/ { split($1, a, "="); n[$3]++; seq[$3] = seq[$3] " " $4
                                    if (a[2] != q[$3]) bad = bad " " $3 "@queue" a[2] }
                   END { for (k in q) if (n[k] != 4 || seq[k] != " created paid shipped done") bad = bad " " k ":" seq[k]
                         print bad }' "$out/ordered_producer.out" "$last")
      if [ $rc -ne 0 ]; then reason="exit status $rc"
      elif [ "$(count "$last" '^queue=[0-3] offset=[0-9]+ order-[0-4] ')" -ne 20 ]; then reason="$(count "$last" '^queue=') messages received, expected 20"
      elif [ -n "${wrong// /}" ]; then reason="out of order or on another queue than sent:$wrong"
      fi
    fi
    result orderly_consumer
  fi

  # async_producer: 100 sends in flight plus one with a callback; pull_consumer gets those 101.
  reason=
  last=$out/async_producer.out
  local async_ok=0
  if need async_producer "$bin/examples/async_producer"; then
    ex 60 async_producer "$last" -n "$ns" -t "$t_async" -c 100 --in-flight 16
    rc=$?
    if [ $rc -ne 0 ]; then reason="exit status $rc"
    elif ! has '^callback send: Ok\("[0-9A-F]{32}"\)$'; then reason="no 'callback send: Ok(\"<msgId>\")'"
    elif ! has '^100 sent, 0 failed in '; then reason="no '100 sent, 0 failed'"
    else async_ok=1
    fi
    result async_producer
  fi
  reason=
  last=$out/pull_consumer.out
  if need pull_consumer "$bin/examples/pull_consumer"; then
    if [ $async_ok = 0 ]; then reason="nothing to pull (the async_producer check failed)"; last=/dev/null; else
      ex 60 pull_consumer "$last" -n "$ns" -t "$t_async" -g "CRmqSidePull_$run" --count 101
      rc=$?
      local distinct
      distinct=$(grep -E '^queue=[0-3] offset=[0-9]+ (async [0-9]+|with callback)$' "$last" | cut -d' ' -f3- | sort -u | wc -l)
      if [ $rc -ne 0 ]; then reason="exit status $rc"
      elif ! has '^received 101$'; then reason="no 'received 101'"
      elif [ "$distinct" -ne 101 ]; then reason="$distinct distinct bodies, expected 101 ('async 0'..'async 99', 'with callback')"
      fi
    fi
    result pull_consumer
  fi

  # delay_producer: a push_consumer proven live by one plain message, then one message at delay
  # level RMQ_SIDE_DELAY_LEVEL; it must arrive no earlier than 80 % of RMQ_SIDE_DELAY_MS.
  reason=
  last=$out/delay_producer.out
  local level=${RMQ_SIDE_DELAY_LEVEL:-2} delay_ms=${RMQ_SIDE_DELAY_MS:-5000}
  if need delay_producer "$bin/examples/delay_producer" && need delay_producer "$bin/examples/push_consumer" \
      && need delay_producer "$bin/examples/producer"; then
    local d_out=$out/delay_consumer.out
    start_bg push_consumer "$d_out" -n "$ns" -t "$t_delay" -g "CRmqSideDelay_$run"
    local d_consumer=$bg
    ex 60 producer "$out/delay_warmup.out" -n "$ns" -t "$t_delay" -c 1
    local warm_id
    warm_id=$(sed -nE 's/^SendOk msgId=([0-9A-F]{32}) .*/\1/p' "$out/delay_warmup.out")
    if [ -z "$warm_id" ]; then reason="the plain warm-up message was not sent"; last=$out/delay_warmup.out
    elif ! poll 60 grep -q "^$warm_id " "$d_out"; then reason="the push_consumer did not get the plain warm-up message within 60 s"; last=$d_out
    else
      ex 60 delay_producer "$last" -n "$ns" -t "$t_delay" -l "$level"
      rc=$?
      local d_id
      d_id=$(sed -nE "s/^SendOk msgId=([0-9A-F]{32}) \(delivered after delay level $level\)\$/\1/p" "$last")
      if [ $rc -ne 0 ]; then reason="exit status $rc"
      elif [ -z "$d_id" ]; then reason="no 'SendOk msgId=<id> (delivered after delay level $level)'"
      else
        local deadline=$((SECONDS + delay_ms / 1000 + 30)) got_ms=
        while [ $SECONDS -lt $deadline ]; do
          if grep -q "^$d_id " "$d_out"; then got_ms=$(now_ms); break; fi
          sleep 0.1
        done
        local sent_ms
        sent_ms=$(sed -nE "s/^$d_id .* body=sent at ([0-9]+) ms\$/\1/p" "$d_out")
        if [ -z "$got_ms" ]; then reason="the delayed message $d_id did not arrive within $((delay_ms / 1000 + 30)) s"; last=$d_out
        elif [ -z "$sent_ms" ]; then reason="the delayed message arrived without its 'sent at <ms> ms' body"; last=$d_out
        elif [ $((got_ms - sent_ms)) -lt $((delay_ms * 8 / 10)) ]; then reason="delivered $((got_ms - sent_ms)) ms after sending; level $level is $delay_ms ms"; last=$d_out
        elif [ "$(count "$d_out" '^[0-9A-F]{32} queue=')" -ne 2 ]; then reason="the consumer got $(count "$d_out" '^[0-9A-F]{32} queue=') messages, expected 2 (warm-up + delayed)"; last=$d_out
        else echo "  (delay level $level: delivered $((got_ms - sent_ms)) ms after sending)"
        fi
      fi
    fi
    stop_bg "$d_consumer"
    result delay_producer
  fi

  # broadcast_consumer: two members of one broadcasting group each get all 5 messages.
  reason=
  last=$out/broadcast_consumer-one.out
  if need broadcast_consumer "$bin/examples/broadcast_consumer" && need broadcast_consumer "$bin/examples/producer"; then
    if ! ex 60 producer "$out/broadcast_producer.out" -n "$ns" -t "$t_bcast" -c 5; then
      reason="the producer example failed"; last=$out/broadcast_producer.out
    else
      sed -nE 's/^SendOk msgId=([0-9A-F]{32}) .*/\1/p' "$out/broadcast_producer.out" | sort > "$out/broadcast.ids"
      local one two
      start_bg broadcast_consumer "$out/broadcast_consumer-one.out" -n "$ns" -t "$t_bcast" -g "CRmqSideBcast_$run" -i one --count 5
      one=$bg
      start_bg broadcast_consumer "$out/broadcast_consumer-two.out" -n "$ns" -t "$t_bcast" -g "CRmqSideBcast_$run" -i two --count 5
      two=$bg
      local member
      for member in one two; do
        if [ $member = one ]; then wait_bg "$one" 60; else wait_bg "$two" 60; fi
        last=$out/broadcast_consumer-$member.out
        sed -nE 's/^([0-9A-F]{32}) Hello RocketMQ [0-9]+$/\1/p' "$last" | sort > "$out/broadcast-$member.ids"
        if [ $bg_rc -eq 124 ]; then reason="member $member: got $(wc -l < "$out/broadcast-$member.ids") of 5 within 60 s"
        elif [ $bg_rc -ne 0 ]; then reason="member $member: exit status $bg_rc"
        elif ! cmp -s "$out/broadcast.ids" "$out/broadcast-$member.ids"; then reason="member $member did not get exactly the 5 messages sent ($(wc -l < "$out/broadcast-$member.ids") lines)"
        fi
        [ -z "$reason" ] || break
      done
    fi
    result broadcast_consumer
  fi

  # transaction_producer (started first): 6 half messages; the committed and the checked ones
  # (order-0, -2, -3, -5) reach the consumer, the rolled back ones (order-1, -4) never do.
  reason=
  last=$out/transaction_producer.out
  if need transaction_producer "$bin/examples/transaction_producer" && need transaction_producer "$bin/examples/push_consumer"; then
    local tx_deadline=$((tx_started + ${RMQ_SIDE_TX_TIMEOUT:-150}))
    tx_all() { [ "$(sed -nE 's/.* body=(order-[0-9]+)$/\1/p' "$out/transaction_consumer.out" | sort -u | tr '\n' ' ')" = "$tx_expect " ]; }
    while [ $SECONDS -lt $tx_deadline ] && ! tx_all && kill -0 "$tx_producer" 2>/dev/null; do sleep 0.5; done
    local tx_waited=$((SECONDS - tx_started))
    # Nothing is committed once the producer is gone (no one answers a check). A marker on
    # every queue, sent after that: once all four arrived, anything committed before them (a
    # duplicate, a rolled-back order) has arrived too.
    stop_bg "$tx_producer"
    local q markers_sent=0
    for q in 0 1 2 3; do
      "$bin/mqadmin" sendMessage -n "$ns" -t "$t_tx" -b "$broker" -i $q -p "tx-marker-$q" \
        >> "$out/transaction_markers.out" 2>&1 && markers_sent=$((markers_sent + 1))
    done
    tx_markers_in() { [ "$(count "$out/transaction_consumer.out" ' body=tx-marker-[0-3]$')" -ge 4 ]; }
    poll 30 tx_markers_in
    local markers_got
    markers_got=$(count "$out/transaction_consumer.out" ' body=tx-marker-[0-3]$')
    stop_bg "$tx_consumer"
    local got
    got=$(sed -nE 's/.* body=(order-[0-9]+)$/\1/p' "$out/transaction_consumer.out" | sort | tr '\n' ' ')
    if [ $markers_sent -ne 4 ] || [ "$markers_got" -ne 4 ]; then
      reason="markers: $markers_sent of 4 sent, $markers_got arrived within 30 s"; last=$out/transaction_markers.out
    elif [ "$(count "$last" '^half message [0-9A-F]{32} stored in MessageQueue \[topic=.*\] at [0-9]+: ')" -ne $tx_count ]; then
      reason="$(count "$last" '^half message ') 'half message <id> stored in ...' lines, expected $tx_count"
    elif [ "$(count "$last" '^local transaction of .* -> CommitMessage$')" -ne 2 ] || [ "$(count "$last" '^local transaction of .* -> RollbackMessage$')" -ne 2 ] \
        || [ "$(count "$last" '^local transaction of .* -> Unknown$')" -ne 2 ]; then
      reason="not 2 local transactions of each state (CommitMessage, RollbackMessage, Unknown)"
    elif ! has '^broker asks about [0-9A-F]{32} \(order-2\) -> CommitMessage$' || ! has '^broker asks about [0-9A-F]{32} \(order-5\) -> CommitMessage$'; then
      reason="the broker's check (CHECK_TRANSACTION_STATE) of order-2 and order-5 is not shown within $tx_waited s"
    elif [ "$got" != "$tx_expect " ]; then
      reason="the consumer got [${got% }], expected exactly [$tx_expect]"; last=$out/transaction_consumer.out
    else echo "  (transactions resolved by the broker's check within $tx_waited s)"
    fi
    result transaction_producer
  fi

  # retry_consumer (started first): each of 3 messages fails once (RECONSUME_LATER), comes back
  # through %RETRY%group (the client shows it under its own topic again, as Java's does) with
  # reconsume_times=1 and is accepted.
  reason=
  last=$out/retry_consumer.out
  if need retry_consumer "$bin/examples/retry_consumer" && need retry_consumer "$bin/examples/producer"; then
    if [ -z "$retry_consumer" ]; then reason="the producer example failed"; last=$out/retry_producer.out; else
      wait_bg "$retry_consumer" 90
      local ids
      ids=$(sed -nE 's/^SendOk msgId=([0-9A-F]{32}) .*/\1/p' "$out/retry_producer.out")
      local id
      for id in $ids; do
        if [ "$(count "$last" "^$id topic=$t_retry reconsume_times=0 body=Hello RocketMQ [0-9]+ -> RECONSUME_LATER\$")" -ne 1 ]; then
          reason="message $id: not one first delivery (reconsume_times=0 -> RECONSUME_LATER)"; break
        elif [ "$(count "$last" "^$id topic=$t_retry reconsume_times=1 body=Hello RocketMQ [0-9]+ -> OK\$")" -ne 1 ]; then
          reason="message $id: not one redelivery (topic=$t_retry, as Java restores it from %RETRY%, reconsume_times=1 -> OK)"; break
        fi
      done
      if [ -n "$reason" ]; then :
      elif [ $bg_rc -ne 0 ]; then reason="exit status $bg_rc$([ $bg_rc -ne 124 ] || echo ' (not done within 90 s)')"
      elif ! has "^accepted $retry_count\$"; then reason="no 'accepted $retry_count'"
      elif [ "$(count "$last" ' -> (OK|RECONSUME_LATER)$')" -ne $((2 * retry_count)) ]; then reason="$(count "$last" ' -> (OK|RECONSUME_LATER)$') deliveries, expected $((2 * retry_count))"
      fi
    fi
    result retry_consumer
  fi
}

# ---------------------------------------------------------------- part bench

bench_part() {
  echo "=== bench: xtask bench -n $ns (client benchmark, examples/bench from $bin)"
  local out=$work/bench
  mkdir -p "$out"
  reason=
  last=$out/bench.out
  need bench "$bin/xtask" || return
  need bench "$bin/examples/bench" || return
  # xtask runs CARGO_TARGET_DIR/release/examples/bench: point that at RMQ_BIN_DIR's build.
  mkdir -p "$out/target"
  ln -sfn "$bin" "$out/target/release"
  # It also writes target/bench/results.md at the workspace root: keep the one there and move
  # this run's into our directory.
  local results=$repo/target/bench/results.md saved= had_dir=0
  [ ! -d "$repo/target/bench" ] || had_dir=1
  if [ -e "$results" ]; then saved=$out/results.md.saved; cp -p "$results" "$saved"; fi
  CARGO_TARGET_DIR=$out/target timeout -k 10 900 "$bin/xtask" bench -n "$ns" \
    -m "${RMQ_SIDE_BENCH_MESSAGES:-64}" --no-micro --no-build < /dev/null > "$last" 2>&1
  local rc=$?
  [ $rc -ne 124 ] || echo "(xtask bench timed out after 900 s)" >> "$last"
  [ -e "$results" ] && mv "$results" "$out/results.md"
  [ -z "$saved" ] || mv "$saved" "$results"
  [ $had_dir = 1 ] || rmdir "$repo/target/bench" 2>/dev/null
  # The phases' message counts follow from -m (M): sync M/4, async M, batches of 32 M/32*32,
  # then the consumer gets at least all of those plus the first send.
  local m=${RMQ_SIDE_BENCH_MESSAGES:-64}
  local -A want=(
    ['sync send, 1 in flight']=$((m / 4))
    ['async send, 32 in flight']=$m
    ['batch send, 32 per batch']=$((m / 32 * 32))
    ['push consume of the backlog']=$((1 + m / 4 + m + m / 32 * 32))
    ['end to end at']=1
  )
  # Per body size: the five phases, each "| phase | messages | msgs/s | p50 | p99 | p999 |".
  local size phase bad=
  for size in 1024 100; do
    if ! grep -qF "## cluster $ns, $size B bodies" "$last"; then bad="$bad; no '## cluster $ns, $size B bodies' table"; continue; fi
    for phase in 'sync send, 1 in flight' 'async send, 32 in flight' 'batch send, 32 per batch' \
        'push consume of the backlog' 'end to end at'; do
      local row
      row=$(awk -v s="## cluster $ns, $size B bodies" -v p="| $phase" 'index($0, "## ") == 1 {on = ($0 == s)} on && index($0, p) == 1 {print; exit}' "$last")
      if [ -z "$row" ]; then bad="$bad; $size B: no '$phase' row"; continue; fi
      local n rate
      n=$(awk -F'|' '{gsub(/ /, "", $3); print $3}' <<< "$row")
      rate=$(awk -F'|' '{gsub(/ /, "", $4); print $4}' <<< "$row")
      if ! [[ $n =~ ^[0-9]+$ && $rate =~ ^[0-9]+$ ]] || [ "$rate" -eq 0 ]; then
        bad="$bad; $size B '$phase': $n messages at $rate msgs/s"
      elif [ "$phase" = 'push consume of the backlog' ] && [ "$n" -lt "${want[$phase]}" ]; then
        bad="$bad; $size B '$phase': $n messages, expected at least ${want[$phase]}"
      elif [ "$phase" = 'end to end at' ] && [ "$n" -lt 1 ]; then
        bad="$bad; $size B '$phase': no message received"
      elif [ "$phase" != 'push consume of the backlog' ] && [ "$phase" != 'end to end at' ] && [ "$n" -ne "${want[$phase]}" ]; then
        bad="$bad; $size B '$phase': $n messages, expected ${want[$phase]}"
      else
        echo "  ($size B, $phase: $n messages, $rate msgs/s)"
      fi
    done
  done
  if [ $rc -ne 0 ]; then reason="exit status $rc${bad:+$bad}"
  elif [ -n "$bad" ]; then reason=${bad#; }
  fi
  result bench
}

# ---------------------------------------------------------------- part console

# api NAME METHOD PATH [JSON]: the console's answer in $work/console/NAME.json, also $last; the
# HTTP status in $status.
api() {
  local name=$1 method=$2 path=$3 body=${4:-}
  last=$work/console/$name.json
  local args=(-s -o "$last" -w '%{http_code}' -X "$method" -H "X-CSRF-Token: $csrf")
  [ -z "$body" ] || args+=(-H 'Content-Type: application/json' -d "$body")
  status=$(curl "${args[@]}" "$console_url$path" 2>>"$work/console/curl.err") || status=000
}
# py EXPR: EXPR (Python, with `j` the JSON in $last) printed; empty when it fails.
py() { python3 -c "import json,sys; j=json.load(open(sys.argv[1])); print($1)" "$last" 2>/dev/null; }
# The console's answer to GET $2 judged by Python expression $3 (true: PASS), polled up to 30 s.
api_until() {
  local name=$1 path=$2 expr=$3
  poll 30 eval 'api "$name" GET "$path" && [ "$(py "$expr")" = True ]'
}

console_part() {
  local exe=$bin/mqconsole
  need console-start "$exe" || return 0
  mkdir -p "$work/console"
  local port out=$work/console/console.out
  port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
  console_url=http://127.0.0.1:$port
  csrf=
  "$exe" -n "$ns" --listen "127.0.0.1:$port" --sample-interval 1 < /dev/null > "$out" 2>&1 &
  bg_pids+=("$!")
  last=$out
  if ! poll 30 eval 'api session GET /api/session && [ "$status" = 200 ]'; then
    fail console-start "no answer on $console_url within 30 s" "$out"
    return 0
  fi
  csrf=$(py 'j["csrf"]')
  pass console-start

  reason=
  api_until cluster /api/cluster "any(b['brokerName'] == '$broker' and 'MASTER' in (b.get('role') or '') and b.get('version') for b in j['brokers'])" \
    || reason="broker $broker is not listed as a master with a version"
  result console-cluster
  reason=
  api_until overview /api/overview "all(n['up'] for n in j['namesrvs']) and any(b['brokerName'] == '$broker' and b['up'] for b in j['brokers'])" \
    || reason="name server or broker not shown up"
  result console-overview

  local topic=ConsoleSide$run key=console-key-$run group=CG-console-$run
  reason=
  api topic-create POST /api/topics "{\"name\":\"$topic\",\"cluster\":\"$cluster\",\"readQueues\":4,\"writeQueues\":4}"
  if [ "$status" != 200 ]; then reason="create answered $status"
  elif ! api_until topic-listed "/api/topics?kind=normal" "any(t['name'] == '$topic' for t in j['topics'])"; then
    reason="$topic not listed as a normal topic"
  fi
  result console-topic
  reason=
  api send POST "/api/topics/$topic/send" "{\"key\":\"$key\",\"tag\":\"TagC\",\"body\":\"from the console $run\"}"
  local msg_id offset_id
  msg_id=$(py 'j["msgId"]')
  offset_id=$(py 'j["offsetMsgId"]')
  [ "$status" = 200 ] && [ "$(py 'j["status"]')" = SEND_OK ] || reason="send answered $status"
  result console-send
  reason=
  api_until by-key "/api/messages/by-key?topic=$topic&key=$key" "[m['msgId'] for m in j['messages']] == ['$msg_id']" \
    || reason="message $msg_id not found by key $key"
  result console-by-key
  reason=
  api by-id GET "/api/messages/by-id?topic=$topic&id=$offset_id"
  [ "$status" = 200 ] && [ "$(py 'j["body"]["text"]')" = "from the console $run" ] && [ "$(py 'j["tags"]')" = TagC ] \
    || reason="message by offset id $offset_id: status $status"
  result console-by-id
  reason=
  api_until stats "/api/topics/$topic/stats" "sum(q['maxOffset'] for q in j['queues']) == 1 and len(j['queues']) == 4" \
    || reason="queue stats do not show 4 queues holding 1 message"
  result console-stats
  reason=
  api group-create POST /api/groups "{\"group\":\"$group\",\"cluster\":\"$cluster\"}"
  if [ "$status" != 200 ]; then reason="create group answered $status"
  elif ! api_until groups /api/groups "any(g['group'] == '$group' for g in j['groups'])"; then
    reason="$group not listed"
  fi
  api group-delete DELETE "/api/groups/$group"
  result console-group
}

for part in "${parts[@]}"; do
  case $part in
    mqadmin) mqadmin_part ;;
    examples) examples_part ;;
    bench) bench_part ;;
    console) console_part ;;
  esac
done
cleanup
echo "rmq-side: $passed passed, $failed failed against $ns (outputs in ${work#$repo/})"
exit $failed
