#!/usr/bin/env bash
# The official RocketMQ 5.x Java client (rocketmq-client-java from Maven Central, gRPC) against
# mqbroker's own gRPC port: no proxy. Its producer sends over TLS (the client's default; the
# broker presents a self-signed certificate) and over plaintext, normal and FIFO messages, and
# rmq's remoting consumer (examples/push_consumer) must receive every one exactly once.
# ReceiveMessage (POP) is not served yet, so the 5.x consumers are not checked here.
set -u
cd "$(dirname "$0")/.."
. .ci/rmq-for-java.sh
ns_port=41876 broker_port=42911 grpc_port=42081
RMQ_GRPC_PORT=$grpc_port start_rmq_for_java grpc-interop $ns_port $broker_port
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
echo "grpc-interop: $status failed"
exit $status
