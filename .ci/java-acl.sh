#!/usr/bin/env bash
# ACL 1.0 with the official Java clients against mqnamesrv + mqbroker with aclEnable=true and
# the accounts the checks expect: the remoting clients 4.9.8 and 5.5.0 signing with
# AclClientRPCHook (`acl-plain`), and the 5.x gRPC client (rocketmq-client-java) with a
# StaticSessionCredentialsProvider on the broker's gRPC port.
set -u
cd "$(dirname "$0")/.."
. .ci/rmq-for-java.sh
acl_dir=$(mktemp -d)
cat > "$acl_dir/plain_acl.yml" <<'YAML'
accounts:
  - accessKey: rmqadmin
    secretKey: admin-secret
    admin: true
  - accessKey: javaprod
    secretKey: prod-secret
    defaultTopicPerm: PUB
    defaultGroupPerm: DENY
  - accessKey: javasub
    secretKey: sub-secret
    defaultTopicPerm: SUB
    defaultGroupPerm: SUB
YAML
ns_port=39886 grpc_port=40981
RMQ_GRPC_PORT=$grpc_port RMQ_BROKER_EXTRA="aclEnable=true
aclFile=$acl_dir/plain_acl.yml" start_rmq_for_java java-acl $ns_port 40931
interop/java/run.sh 127.0.0.1:$ns_port acl-plain
status=$?

# gRPC: javaprod sends; javasub (SUB only) is refused FORBIDDEN, naming the permission.
out=interop/java5/target
mkdir -p $out
if ! mvn -q -B -f interop/java5/pom.xml compile dependency:build-classpath \
    -Dmdep.outputFile=target/classpath.txt > $out/acl-build.log 2>&1; then
  echo "java-acl: FAIL: interop/java5 did not build (Maven Central reachable?)"; tail -20 $out/acl-build.log; exit 1
fi
cp="interop/java5/target/classes:$(cat interop/java5/target/classpath.txt)"
bin="${CARGO_TARGET_DIR:-target}/debug"
"$bin/mqadmin" updateTopic -n 127.0.0.1:$ns_port -c DefaultCluster -t GrpcAcl -r 4 -w 4 \
  --access-key rmqadmin --secret-key admin-secret > $out/acl-topic.log 2>&1 \
  || { echo "java-acl: FAIL: updateTopic as rmqadmin"; cat $out/acl-topic.log; exit 1; }
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
    && grep -q "javasub has no PUB permission" $out/acl-grpc-refused.log; then
  echo "PASS acl-grpc-refused: javasub refused FORBIDDEN, naming the permission"
else
  echo "FAIL acl-grpc-refused: $(grep -m1 -E 'failed|Exception|done' $out/acl-grpc-refused.log) (output: $out/acl-grpc-refused.log)"
  status=$((status + 1))
fi
if [ $status -ne 0 ]; then
  echo "--- broker log (last 60 lines)"; tail -60 "$work/broker.out"
fi
rm -rf "$acl_dir"
exit $status
