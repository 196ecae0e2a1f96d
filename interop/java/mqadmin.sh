#!/usr/bin/env bash
# Apache's own mqadmin (org.apache.rocketmq.tools.command.MQAdminStartup from rocketmq-tools
# 4.9.8 and 5.5.0, Maven Central) against a running name server + broker: the commands operators
# type daily, each a named check that reads the command's OUTPUT. MQAdminStartup exits 0 when a
# command fails and prints the exception instead, so an output with "Exception" or "CODE:" fails
# the check whatever the exit status.
#
#   interop/java/mqadmin.sh NAMESRV [check ...]            # both tool versions, every check
#   MQADMIN_VERSIONS=4.9.8 interop/java/mqadmin.sh 127.0.0.1:9876 clusterList topicList
#
# A fixture (rmq.interop.Fixture, same client version as the tool) creates a topic, sends
# FIXTURE_MESSAGES (default 20) messages with keys and keeps a producer group and a push-consumer
# group alive while the checks run, for the commands that need live clients. The cluster is
# MQADMIN_CLUSTER (default DefaultCluster); the checks use its master with brokerId 0.
# Checks: clusterList updateTopic topicList topicRoute topicStatus deleteTopic updateSubGroup
# consumerProgress consumerConnection consumerStatus producerConnection queryMsgById
# queryMsgByKey brokerStatus getBrokerConfig updateBrokerConfig resetOffsetByTime updateKvConfig
# statsAll printMsg.
# Each prints PASS or FAIL with the reason and, on FAIL, the first line that shows the error; the
# full output of every command is kept under interop/java/target/mqadmin/VERSION/. Exit status:
# the number of failed checks (plus versions that did not build).
#
# It lives here, beside run.sh, because it is the same Maven project: rocketmq-tools and the
# client are already its dependencies (4.9.8's tools are on Maven Central even though 4.9.8's
# daemons are not), the fixture is one more class of it, and one build per version serves both.
set -u
cd "$(dirname "$0")"
here=$(pwd)
ns=${1:?usage: mqadmin.sh NAMESRV [check ...]}
shift
for tool in java mvn timeout; do
  command -v $tool >/dev/null || { echo "mqadmin: FAIL: $tool not found; install a JDK 17, Maven and coreutils (apt-get install -y openjdk-17-jdk-headless maven coreutils)"; exit 1; }
done
all_checks=(clusterList updateTopic topicList topicRoute topicStatus deleteTopic updateSubGroup
  consumerProgress consumerConnection consumerStatus producerConnection queryMsgById queryMsgByKey
  brokerStatus getBrokerConfig updateBrokerConfig resetOffsetByTime updateKvConfig statsAll printMsg)
if [ $# -gt 0 ]; then checks=("$@"); else checks=("${all_checks[@]}"); fi
for c in "${checks[@]}"; do
  case " ${all_checks[*]} " in *" $c "*) ;; *) echo "mqadmin: unknown check $c (known: ${all_checks[*]})"; exit 2 ;; esac
done
versions=${MQADMIN_VERSIONS:-"4.9.8 5.5.0"}
cluster=${MQADMIN_CLUSTER:-DefaultCluster}
count=${FIXTURE_MESSAGES:-20}
mkdir -p target

fixture_pid=
cleanup() {
  if [ -n "$fixture_pid" ] && kill -0 "$fixture_pid" 2>/dev/null; then
    kill "$fixture_pid" 2>/dev/null
    wait "$fixture_pid" 2>/dev/null
  fi
  fixture_pid=
}
trap cleanup EXIT

# Polls "$@" (a command) every 0.5 s until it succeeds or $1 seconds pass.
poll() {
  local secs=$1
  shift
  local deadline=$((SECONDS + secs))
  until "$@"; do
    [ $SECONDS -lt $deadline ] || return 1
    sleep 0.5
  done
}

status=0
for v in $versions; do
  case $v in 4.*) compat=compat-v4 ;; *) compat=compat-v5 ;; esac
  out=target/$v
  mkdir -p "$out"
  if ! mvn -q -B -Drocketmq.version=$v -Dcompat=$compat compile dependency:build-classpath \
      -Dmdep.outputFile=$out/classpath.txt > $out.build.log 2>&1; then
    echo "FAIL mqadmin-$v: the tools did not build (Maven Central reachable?); last lines:"
    tail -20 $out.build.log
    status=$((status + 1))
    continue
  fi
  cp="$here/$out/classes:$(cat $out/classpath.txt)"
  # A ROCKETMQ_HOME for the tool: 4.x's MQAdminStartup configures logback from
  # $ROCKETMQ_HOME/conf/logback_tools.xml (and fails without it), 5.x is pointed at its file with
  # -Drmq.logback.configurationFile. user.home is moved there too (client logs, /tmp-free runs),
  # and commands run from it (consumerStatus writes one file per client into the working directory).
  home=$here/target/mqadmin/$v
  rm -rf "$home"
  mkdir -p "$home/conf" "$home/logs" "$home/out" "$home/fixture"
  for f in logback_tools.xml rmq.tools.logback.xml rmq.client.logback.xml; do
    cat > "$home/conf/$f" <<EOF
<configuration>
  <appender name="FILE" class="ch.qos.logback.core.FileAppender">
    <file>$home/logs/tools.log</file>
    <encoder><pattern>%d{HH:mm:ss.SSS} %-5level [%thread] %logger{32} - %msg%n</pattern></encoder>
  </appender>
  <root level="INFO"><appender-ref ref="FILE"/></root>
</configuration>
EOF
  done
  run=$(od -An -N4 -tx4 /dev/urandom | tr -d ' ')
  topic=MqadminTopic_$run            # created, inspected and deleted by the checks
  ftopic=MqadminFixture_$run         # the fixture's topic, with messages
  pgroup=PMqadmin_$run
  cgroup=CMqadmin_$run
  sgroup=SMqadmin_$run               # created by updateSubGroup
  kvns=MQADMIN_NS_$run
  state=$home/fixture

  # mqadmin NAME ARGS...: runs the tool, output in $home/out/NAME.out (also echoed to $last).
  mqadmin() {
    local name=$1
    shift
    last=$home/out/$name.out
    (cd "$home" && ROCKETMQ_HOME=$home timeout 90 java -Duser.home="$home" \
      -Drmq.logback.configurationFile="$home/conf/rmq.tools.logback.xml" \
      -cp "$cp" org.apache.rocketmq.tools.command.MQAdminStartup "$@" -n "$ns") > "$last" 2>&1
    local rc=$?
    [ $rc -ne 124 ] || echo "(mqadmin $name timed out after 90 s)" >> "$last"
    return 0
  }
  # The first line that shows the command failed, if any.
  error_line() {
    grep -m1 -E 'Exception|CODE:|command failed|timed out after|Unrecognized option|Missing required option' "$1"
  }
  # Checks: each sets $reason when it fails.
  passed=0
  failed=0
  result() { # NAME
    local err
    err=$(error_line "$last" 2>/dev/null)
    if [ -z "$reason" ] && [ -n "$err" ]; then reason="the output shows an error"; fi
    if [ -z "$reason" ]; then
      passed=$((passed + 1))
      echo "[$v] PASS $1"
    else
      failed=$((failed + 1))
      echo "[$v] FAIL $1: $reason${err:+ | $err} (output: interop/java/${last#$here/})"
    fi
  }
  has() { grep -qE -- "$1" "$last"; }

  echo "[$v] mqadmin (rocketmq-tools $v) against $ns"
  # The fixture, with the same client version as the tool.
  java -Dlogback.configurationFile=logback.xml -Drocketmq.client.logUseSlf4j=true -Duser.home="$home" \
    -Drmq.logback.configurationFile="$home/conf/rmq.client.logback.xml" -Drmq.cluster="$cluster" \
    -cp "$cp" rmq.interop.Fixture "$ns" "$ftopic" "$pgroup" "$cgroup" "$count" "$state" \
    > "$home/fixture.log" 2>&1 < /dev/null &
  fixture_pid=$!
  fixture_ok=1
  if ! poll 90 test -e "$state/ready"; then
    fixture_ok=0
    echo "[$v] fixture not ready in 90 s (checks that need live clients will fail); last lines of its log:"
    tail -15 "$home/fixture.log" | sed "s/^/[$v]   /"
  fi
  received() { cat "$state/received" 2>/dev/null || echo 0; }
  poll 60 bash -c "[ \"\$(cat '$state/received' 2>/dev/null || echo 0)\" -ge $count ]" \
    || echo "[$v] fixture consumer received $(received) of $count in 60 s"
  broker_name=
  broker_addr=

  for check in "${checks[@]}"; do
    reason=
    last=/dev/null
    case $check in
      clusterList)
        mqadmin clusterList clusterList
        # #Cluster Name #Broker Name #BID #Addr ...: the master (BID 0) of our cluster.
        read -r broker_name broker_addr < <(awk -v c="$cluster" '$1 == c && $3 == 0 {print $2, $4; exit}' "$last")
        if [ -z "$broker_addr" ]; then reason="no master of cluster $cluster listed"; fi
        ;;
      updateTopic)
        mqadmin updateTopic updateTopic -c "$cluster" -t "$topic" -r 4 -w 4
        has "create topic to .* success" || reason="no 'create topic to ... success'"
        ;;
      topicList)
        listed() { mqadmin topicList topicList; grep -qx -- "$topic" "$last"; }
        poll 15 listed || reason="$topic (made by updateTopic) not listed within 15 s"
        ;;
      topicRoute)
        mqadmin topicRoute topicRoute -t "$ftopic"
        has "\"brokerName\" *: *\"${broker_name:-.}" || reason="no brokerName in the route"
        [ -n "$reason" ] || has '"writeQueueNums" *: *4' || reason="route does not show writeQueueNums 4"
        ;;
      topicStatus)
        mqadmin topicStatus topicStatus -t "$ftopic"
        # #Broker Name #QID #Min Offset #Max Offset #Last Updated: max offsets add up to the sends.
        rows=$(awk '$2 ~ /^[0-9]+$/ && $4 ~ /^[0-9]+$/' "$last" | wc -l)
        total=$(awk '$2 ~ /^[0-9]+$/ && $4 ~ /^[0-9]+$/ {s += $4} END {print s + 0}' "$last")
        [ "$rows" -eq 4 ] || reason="$rows queue rows, expected 4"
        [ -n "$reason" ] || [ "$total" -eq "$count" ] || reason="max offsets add up to $total, the fixture sent $count"
        ;;
      deleteTopic)
        mqadmin deleteTopic deleteTopic -c "$cluster" -t "$topic"
        if ! has "delete topic \[$topic\] from cluster \[$cluster\] success"; then
          reason="no 'delete topic [...] from cluster [...] success'"
        elif ! has "delete topic \[$topic\] from NameServer success"; then
          reason="no 'delete topic [...] from NameServer success'"
        else
          deleted_out=$last
          gone() { mqadmin topicList-after-delete topicList; has 'Exception|CODE:' && return 1; ! grep -qx -- "$topic" "$last"; }
          poll 15 gone || reason="topicList still lists $topic 15 s after deleteTopic"
          [ -n "$reason" ] || last=$deleted_out
        fi
        ;;
      updateSubGroup)
        mqadmin updateSubGroup updateSubGroup -c "$cluster" -g "$sgroup" -r 3
        has "create subscription group to .* success" || reason="no 'create subscription group to ... success'"
        [ -n "$reason" ] || has "$sgroup" || reason="the group's config is not printed"
        ;;
      consumerProgress)
        # 4.x prints "Diff Total: N", 5.x "Consume Diff Total: N".
        progress() { mqadmin consumerProgress consumerProgress -g "$cgroup"; has "^(Consume )?Diff Total: 0\$" && has "^$ftopic "; }
        poll 30 progress || reason="no 'Diff Total: 0' with the fixture topic's queues within 30 s"
        ;;
      consumerConnection)
        mqadmin consumerConnection consumerConnection -g "$cgroup"
        has "$ftopic" || reason="the subscription to $ftopic is not listed"
        [ -n "$reason" ] || has 'CLUSTERING' || reason="no MessageModel CLUSTERING"
        [ -n "$reason" ] || has ' JAVA ' || reason="no JAVA client connection"
        ;;
      consumerStatus)
        mqadmin consumerStatus consumerStatus -g "$cgroup"
        has 'Rebalance OK' || reason="no 'Rebalance OK' (the broker relays GET_CONSUMER_RUNNING_INFO to the client)"
        ;;
      producerConnection)
        mqadmin producerConnection producerConnection -g "$pgroup" -t "$ftopic"
        has '^[0-9]{4} .* JAVA ' || reason="no producer connection row"
        ;;
      queryMsgById)
        read -r _ _ offset_id key < <(sed -n 4p "$state/sent" 2>/dev/null)
        if [ -z "${offset_id:-}" ]; then
          reason="the fixture recorded no message ids"
        else
          case $v in 4.*) extra=() ;; *) extra=(-t "$ftopic") ;; esac   # 5.x requires -t
          mqadmin queryMsgById queryMsgById -i "$offset_id" "${extra[@]}"
          has "^Topic: +$ftopic\$" || reason="message $offset_id: no 'Topic: $ftopic'"
          [ -n "$reason" ] || has "^Keys: +\[$key\]" || reason="message $offset_id: no 'Keys: [$key]'"
        fi
        ;;
      queryMsgByKey)
        read -r _ unique_id _ key < <(sed -n 6p "$state/sent" 2>/dev/null)
        if [ -z "${unique_id:-}" ]; then
          reason="the fixture recorded no message ids"
        else
          mqadmin queryMsgByKey queryMsgByKey -t "$ftopic" -k "$key"
          has "^$unique_id " || reason="key $key: message $unique_id not listed"
        fi
        ;;
      brokerStatus)
        if [ -z "$broker_addr" ]; then reason="no broker address (clusterList failed)"; else
          mqadmin brokerStatus brokerStatus -b "$broker_addr"
          has '^msgPutTotalTodayNow +: +[0-9]+' || reason="no msgPutTotalTodayNow"
          [ -n "$reason" ] || has '^brokerVersionDesc +: ' || reason="no brokerVersionDesc"
        fi
        ;;
      getBrokerConfig)
        if [ -z "$broker_addr" ]; then reason="no broker address (clusterList failed)"; else
          mqadmin getBrokerConfig getBrokerConfig -b "$broker_addr"
          has "^brokerName +=  $broker_name\$" || reason="no 'brokerName = $broker_name'"
          [ -n "$reason" ] || has '^brokerClusterName +=  ' || reason="no brokerClusterName"
        fi
        ;;
      updateBrokerConfig)
        if [ -z "$broker_addr" ]; then reason="no broker address (clusterList failed)"; else
          mqadmin getBrokerConfig-before getBrokerConfig -b "$broker_addr"
          old=$(awk '$1 == "maxMessageSize" {print $3}' "$last")
          if [ -z "$old" ]; then reason="getBrokerConfig shows no maxMessageSize"; else
            new=$((old + 1))
            mqadmin updateBrokerConfig updateBrokerConfig -b "$broker_addr" -k maxMessageSize -v $new
            update_out=$last
            if ! has "update broker config success, $broker_addr"; then
              reason="no 'update broker config success, $broker_addr'"
            else
              mqadmin getBrokerConfig-after getBrokerConfig -b "$broker_addr"
              has "^maxMessageSize +=  $new\$" || reason="getBrokerConfig does not show maxMessageSize = $new after the update"
              mqadmin updateBrokerConfig-restore updateBrokerConfig -b "$broker_addr" -k maxMessageSize -v "$old"
              [ -n "$reason" ] || has "update broker config success" || reason="restoring maxMessageSize=$old failed"
              [ -n "$reason" ] || last=$update_out
            fi
          fi
        fi
        ;;
      resetOffsetByTime)
        start_ms=$(cat "$state/start_ms" 2>/dev/null)
        before=$(received)
        if [ -z "$start_ms" ] || [ "$fixture_ok" = 0 ]; then reason="the fixture is not running"; else
          mqadmin resetOffsetByTime resetOffsetByTime -g "$cgroup" -t "$ftopic" -s "$start_ms"
          # 4.x: "rollback consumer offset by specified group[...]", 5.x: "start reset consumer offset by specified, group[...]".
          if ! has '(rollback|start reset) consumer offset by specified,? group' || ! has "^$broker_name +[0-9]+ +[0-9]+"; then
            reason="no 'rollback consumer offset by specified group' with the queues reset"
          elif ! poll 45 bash -c "[ \"\$(cat '$state/received' 2>/dev/null || echo 0)\" -ge $((before + count)) ]"; then
            reason="the live consumer did not get the $count messages again within 45 s (received $before before, $(received) after)"
          fi
        fi
        ;;
      updateKvConfig)
        mqadmin updateKvConfig updateKvConfig -s "$kvns" -k mqadminKey -v mqadminValue
        kv_out=$last
        if ! has 'create or update kv config to namespace success'; then
          reason="no 'create or update kv config to namespace success'"
        else
          mqadmin deleteKvConfig deleteKvConfig -s "$kvns" -k mqadminKey
          has 'delete kv config from namespace success' || reason="cleanup: no 'delete kv config from namespace success'"
          [ -n "$reason" ] || last=$kv_out
        fi
        ;;
      statsAll)
        # #Topic #Consumer Group #Accumulation #InTPS #OutTPS #InMsg24Hour #OutMsg24Hour: the
        # fixture's topic and group with everything sent counted in, and at least that out once
        # consumed (more after resetOffsetByTime made the consumer read it all again)
        # (VIEW_BROKER_STATS_DATA; the broker samples its counters every 10 s).
        counted() {
          mqadmin statsAll statsAll -t "$ftopic"
          awk -v t="$ftopic" -v g="$cgroup" -v n="$count" \
            '$1 == t && $2 == g && $(NF-1) == n && $NF >= n {ok = 1} END {exit !ok}' "$last"
        }
        poll 40 counted || reason="no line '$ftopic $cgroup ... $count >=$count' within 40 s"
        ;;
      printMsg)
        # One "MSGID: ... BODY: ..." line per stored message of every queue.
        mqadmin printMsg printMsg -t "$ftopic" -d true
        n=$(grep -c '^MSGID: ' "$last")
        [ "$n" -eq "$count" ] || reason="$n messages printed, the fixture sent $count"
        ;;
    esac
    result "$check"
  done
  cleanup
  echo "[$v] $passed passed, $failed failed"
  status=$((status + failed))
done
exit $status
