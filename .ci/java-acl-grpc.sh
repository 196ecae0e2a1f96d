# Sourced by .ci/java-acl.sh (ACL 1.0) and .ci/java-acl2.sh (ACL 2.0): the official 5.x gRPC
# client (rocketmq-client-java, interop/java5) against the running broker's gRPC port. rmq's
# mqadmin creates the topic as rmqadmin; javaprod's 5 sends pass; javasub's send is refused
# FORBIDDEN with a message matching $3.
#
#   grpc_acl_checks NS_PORT GRPC_PORT REFUSAL_REGEX   # adds failures to $status
grpc_acl_checks() {
  local ns_port=$1 grpc_port=$2 refusal=$3
  local out=interop/java5/target
  mkdir -p $out
  if ! mvn -q -B -f interop/java5/pom.xml compile dependency:build-classpath \
      -Dmdep.outputFile=target/classpath.txt > $out/acl-build.log 2>&1; then
    echo "java-acl: FAIL: interop/java5 did not build (Maven Central reachable?)"; tail -20 $out/acl-build.log
    status=$((status + 1))
    return
  fi
  local cp="interop/java5/target/classes:$(cat interop/java5/target/classpath.txt)"
  local bin="${CARGO_TARGET_DIR:-target}/debug"
  if ! "$bin/mqadmin" updateTopic -n 127.0.0.1:$ns_port -c DefaultCluster -t GrpcAcl -r 4 -w 4 \
      --access-key rmqadmin --secret-key admin-secret > $out/acl-topic.log 2>&1; then
    echo "FAIL acl-grpc-topic: updateTopic as rmqadmin: $(tail -1 $out/acl-topic.log)"
    status=$((status + 1))
    return
  fi
  if timeout 120 java -Drmq.ssl=false -Drmq.ak=javaprod -Drmq.sk=prod-secret -cp "$cp" rmq.interop5.Produce \
      127.0.0.1:$grpc_port GrpcAcl 5 > $out/acl-grpc-allowed.log 2>&1 && grep -q "^done sent=5\$" $out/acl-grpc-allowed.log; then
    echo "PASS acl-grpc-allowed: 5 sent by javaprod"
  else
    echo "FAIL acl-grpc-allowed: $(grep -m1 -E 'failed|Exception' $out/acl-grpc-allowed.log) (output: $out/acl-grpc-allowed.log)"
    status=$((status + 1))
  fi
  timeout 120 java -Drmq.ssl=false -Drmq.ak=javasub -Drmq.sk=sub-secret -cp "$cp" rmq.interop5.Produce \
    127.0.0.1:$grpc_port GrpcAcl 1 > $out/acl-grpc-refused.log 2>&1
  if grep -q "^failed after 0" $out/acl-grpc-refused.log && grep -q "FORBIDDEN\|Forbidden\|403" $out/acl-grpc-refused.log \
      && grep -qE "$refusal" $out/acl-grpc-refused.log; then
    echo "PASS acl-grpc-refused: javasub refused FORBIDDEN, naming the permission"
  else
    echo "FAIL acl-grpc-refused: $(grep -m1 -E 'failed|Exception|done' $out/acl-grpc-refused.log) (output: $out/acl-grpc-refused.log)"
    status=$((status + 1))
  fi
}
