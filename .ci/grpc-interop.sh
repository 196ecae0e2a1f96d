#!/usr/bin/env bash
# The official RocketMQ 5.x clients (Java rocketmq-client-java from Maven Central, Python
# rocketmq-python-client from PyPI, gRPC) against
# mqbroker's own gRPC port: no proxy. Its producer sends over TLS (the client's default; the
# broker presents a self-signed certificate) and over plaintext, normal and FIFO messages, and
# rmq's remoting consumer (examples/push_consumer) must receive every one exactly once. Its
# SimpleConsumer (receive, ack, changeInvisibleDuration, redelivery after the invisible time)
# and PushConsumer (tag filter, a failed delivery retried) consume messages sent over gRPC and
# over remoting; Apache's admin API reaches a PushConsumer through the broker (thread dump,
# consume on request).
set -u
cd "$(dirname "$0")/.."
. .ci/rmq-for-java.sh
ns_port=41876 broker_port=42911 grpc_port=42081
RMQ_BROKER_EXTRA="minInvisibleTimeMillsForRecv=1000" RMQ_GRPC_PORT=$grpc_port start_rmq_for_java grpc-interop $ns_port $broker_port
bin="${CARGO_TARGET_DIR:-target}/debug"
[ -x "$bin/examples/push_consumer" ] || { echo "grpc-interop: FAIL: $bin/examples/push_consumer missing; cargo build --examples"; exit 1; }
out=interop/java5/target
mkdir -p $out
if ! mvn -q -B -f interop/java5/pom.xml compile dependency:build-classpath \
    -Dmdep.outputFile=target/classpath.txt > $out/build.log 2>&1; then
  echo "grpc-interop: FAIL: interop/java5 did not build (Maven Central reachable?)"; tail -20 $out/build.log; exit 1
fi
cp="interop/java5/target/classes:$(cat interop/java5/target/classpath.txt)"
"$bin/mqadmin" updateTopic -n 127.0.0.1:$ns_port -c DefaultCluster -t GrpcInterop -r 4 -w 4 > $out/topic.log 2>&1 \
  || { echo "grpc-interop: FAIL: updateTopic"; cat $out/topic.log; exit 1; }
status=0
run() { # NAME SSL PREFIX COUNT [GROUP]  (TX: commit or rollback, sends in transactions)
  local name=$1 ssl=$2 prefix=$3 count=$4 group=${5:-}
  if timeout 120 java -Drmq.ssl=$ssl -Drmq.prefix=$prefix -Drmq.transaction=${TX:-} -cp "$cp" rmq.interop5.Produce 127.0.0.1:$grpc_port GrpcInterop $count $group \
      > $out/$name.log 2>&1 && grep -q "^done sent=$count\$" $out/$name.log; then
    echo "PASS $name: $count sent"
  else
    echo "FAIL $name: $(grep -m1 -E 'failed|Exception' $out/$name.log) (output: $out/$name.log)"
    status=$((status + 1))
  fi
}
run producer-tls true tls 10
run producer-plaintext false plain 5
run producer-fifo-tls true fifo 5 order-group-1
TX=commit run transaction-commit true txc 3
TX=rollback run transaction-rollback true txr 3
TX=unknown run transaction-checked-back true txu 2
# Every committed message sent over gRPC, read back over remoting, each once.
# A marker sent last over remoting: once it arrives, a rolled-back message would have too.
"$bin/mqadmin" sendMessage -n 127.0.0.1:$ns_port -t GrpcInterop -p marker > $out/marker.log 2>&1 \
  || { echo "grpc-interop: FAIL: marker send"; cat $out/marker.log; exit 1; }
timeout 60 "$bin/examples/push_consumer" -n 127.0.0.1:$ns_port -t GrpcInterop -g CG-grpc-interop --count 26 \
  > $out/consumer.log 2>&1
# 10 + 5 + 5 + 3 + 2 committed (2 by the check-back); the 3 rolled back never arrive.
got=$(grep -cE ' body=(tls|plain|fifo|txc|txu|txr)-[0-9]+$' $out/consumer.log)
distinct=$(grep -oE ' body=(tls|plain|fifo|txc|txu)-[0-9]+$' $out/consumer.log | sort -u | wc -l)
if [ "$got" = 25 ] && [ "$distinct" = 25 ] && grep -q ' body=marker$' $out/consumer.log; then
  echo "PASS remoting-consumer: 25 of 25 gRPC-sent committed messages, each once, none rolled back"
else
  echo "FAIL remoting-consumer: $got deliveries, $distinct distinct of 25, marker $(grep -c ' body=marker$' $out/consumer.log) (output: $out/consumer.log)"
  status=$((status + 1))
fi
# FIFO: one message group, so one queue, in the order sent.
fifo=$(grep -E ' body=fifo-[0-9]+$' $out/consumer.log)
queues=$(echo "$fifo" | grep -o 'queue=[0-9]*' | sort -u | wc -l)
# Stored order (by queue offset), whatever order the concurrent consumer printed them in.
order=$(echo "$fifo" | sed -E 's/.* offset=([0-9]+) .*body=fifo-([0-9]+)$/\1 \2/' | sort -n | cut -d' ' -f2 | tr '\n' ' ')
if [ "$queues" = 1 ] && [ "$order" = "0 1 2 3 4 " ]; then
  echo "PASS fifo: the message group on one queue, in order"
else
  echo "FAIL fifo: $queues queues, order [$order] (output: $out/consumer.log)"
  status=$((status + 1))
fi

# 5.x consumers. SIMPLE/PUSH NAME TOPIC GROUP COUNT TAGS [java -D...]: PASS when the consumer
# reports COUNT distinct bodies done, and the probe body (-0) came back as attempt 2.
consume() {
  local kind=$1 name=$2 topic=$3 group=$4 count=$5 tags=$6; shift 6
  if timeout 120 java "$@" -cp "$cp" rmq.interop5.$kind 127.0.0.1:$grpc_port $topic $group $count "$tags" \
      > $out/$name.log 2>&1 && grep -qE "^done (acked|consumed)=$count\$" $out/$name.log \
      && grep -qE "^(received|consumed) [a-z]+-0 attempt=2" $out/$name.log; then
    echo "PASS $name: $count consumed, the probe delivered again as attempt 2"
  else
    echo "FAIL $name: $(grep -m1 -E 'failed|Exception' $out/$name.log) (output: $out/$name.log)"
    status=$((status + 1))
  fi
}
topic() {
  "$bin/mqadmin" updateTopic -n 127.0.0.1:$ns_port -c DefaultCluster -t $1 -r 4 -w 4 > $out/topic-$1.log 2>&1 \
    || { echo "grpc-interop: FAIL: updateTopic $1"; cat $out/topic-$1.log; exit 1; }
}
send_remoting() { # TOPIC TAG BODY...
  local t=$1 tag=$2; shift 2
  for b in "$@"; do
    "$bin/mqadmin" sendMessage -n 127.0.0.1:$ns_port -t $t -c $tag -p $b > $out/send-$b.log 2>&1 \
      || { echo "grpc-interop: FAIL: remoting send $b"; cat $out/send-$b.log; exit 1; }
  done
}
topic GrpcSimple; topic GrpcExpire; topic GrpcPush; topic GrpcDelay
# gRPC-sent and remoting-sent messages alike (6 + 2), the probe made visible again by the client.
timeout 120 java -Drmq.prefix=simple -cp "$cp" rmq.interop5.Produce 127.0.0.1:$grpc_port GrpcSimple 6 > $out/simple-produce.log 2>&1 \
  || { echo "FAIL simple-produce (output: $out/simple-produce.log)"; status=$((status + 1)); }
send_remoting GrpcSimple TagA remoting-1 remoting-2
consume Simple simple-consumer GrpcSimple GID-simple 8 TagA
# A probe left unacked comes back once its 2 s invisible time runs out.
timeout 120 java -Drmq.prefix=expire -cp "$cp" rmq.interop5.Produce 127.0.0.1:$grpc_port GrpcExpire 3 > $out/expire-produce.log 2>&1 \
  || { echo "FAIL expire-produce (output: $out/expire-produce.log)"; status=$((status + 1)); }
consume Simple simple-consumer-expiry GrpcExpire GID-expire 3 '*' -Drmq.expire=true -Drmq.invisible=2000
# Delay messages (a delivery timestamp 2 s ahead) reach a SimpleConsumer.
timeout 120 java -Drmq.prefix=delay -Drmq.delay=2000 -cp "$cp" rmq.interop5.Produce 127.0.0.1:$grpc_port GrpcDelay 3 > $out/delay-produce.log 2>&1 \
  || { echo "FAIL delay-produce (output: $out/delay-produce.log)"; status=$((status + 1)); }
consume Simple delay-consumer GrpcDelay GID-delay 3 '*'
# PushConsumer with a tag filter: TagA from both protocols; TagB must never reach it.
send_remoting GrpcPush TagB tagb-1 tagb-2
timeout 120 java -Drmq.prefix=push -cp "$cp" rmq.interop5.Produce 127.0.0.1:$grpc_port GrpcPush 5 > $out/push-produce.log 2>&1 \
  || { echo "FAIL push-produce (output: $out/push-produce.log)"; status=$((status + 1)); }
send_remoting GrpcPush TagA rpush-1 rpush-2
consume Push push-consumer GrpcPush GID-push 7 TagA
if grep -q 'tag=TagB' $out/push-consumer.log; then
  echo "FAIL push-consumer-filter: a TagB message reached a TagA subscription (output: $out/push-consumer.log)"
  status=$((status + 1))
else
  echo "PASS push-consumer-filter: no TagB message reached the TagA subscription"
fi
# Apache's admin API asks a 5.x PushConsumer, through the broker and the consumer's Telemetry
# stream, for its running info with a thread dump and to consume a message on request
# (mqadmin consumerStatus -s, queryMsgById -d).
topic GrpcRelay
if timeout 120 java -cp "$cp" rmq.interop5.Relay 127.0.0.1:$ns_port 127.0.0.1:$grpc_port GrpcRelay GID-relay \
    > $out/relay.log 2>&1 && grep -q '^done$' $out/relay.log; then
  echo "PASS admin-relay: $(grep -m1 '^jstack' $out/relay.log); $(grep -m1 '^consumeDirectly' $out/relay.log)"
else
  echo "FAIL admin-relay: $(grep -m1 -E 'failed|Exception' $out/relay.log) (output: $out/relay.log)"
  status=$((status + 1))
fi
# The official 5.x Python client (PyPI rocketmq-python-client 5.1.2, installed by the shared
# interop runner): 100 TagA messages and 20 TagB decoys sent, the TagA ones received by a
# SimpleConsumer with a tag filter and acked.
topic TopicTestPy5
if PROXY_ENDPOINT=127.0.0.1:$grpc_port TOPIC=TopicTestPy5 ../shared/interop/run grpc-python > $out/python.log 2>&1; then
  echo "PASS python-client: $(grep -m1 '^PASS' $out/python.log)"
else
  echo "FAIL python-client: $(grep -m1 -E '^FAIL|could not' $out/python.log) (output: $out/python.log)"
  status=$((status + 1))
fi
# The Python client beyond produce/consume: FIFO order, delay messages never early,
# transactions with a check-back, change_invisible_duration and redelivery, PushConsumer tag
# filter (interop/python5/checks.py).
PY5_OUT=$out/python5 bash .ci/python5-interop.sh 127.0.0.1:$ns_port 127.0.0.1:$grpc_port
status=$((status + $?))
echo "grpc-interop: $status failed"
exit $status
