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

# Apache's mqadmin 4.9.8 edits and reads plain_acl.yml through rmq's broker.
. .ci/apache-mqadmin.sh
apache_mqadmin_build 4.9.8
admin_home=$(tool_home admin rmqadmin admin-secret)
addr=127.0.0.1:40931
check updateAclConfig "create or update plain access config to $addr success" \
  updateAclConfig -b $addr -a javanew -s javanew-secret -i PUB -t 'JNoWrite=DENY'
if grep -q "accessKey: javanew" "$acl_dir/plain_acl.yml"; then
  echo "PASS acl-file-edited: javanew is in plain_acl.yml"
else
  echo "FAIL acl-file-edited: javanew is not in plain_acl.yml"; status=$((status + 1))
fi
check clusterAclConfigVersion "broker-a" clusterAclConfigVersion -c DefaultCluster
check updateGlobalWhiteAddr "update global white remote addresses to $addr success" \
  updateGlobalWhiteAddr -b $addr -g '10.10.103.*'
check deleteAclConfig "delete plain access config account from $addr success" \
  deleteAclConfig -b $addr -a javanew

# gRPC: javaprod sends; javasub (SUB only) is refused FORBIDDEN, naming the permission.
. .ci/java-acl-grpc.sh
grpc_acl_checks $ns_port $grpc_port "javasub has no PUB permission"
if [ $status -ne 0 ]; then
  echo "--- broker log (last 60 lines)"; tail -60 "$work/broker.out"
fi
rm -rf "$acl_dir"
exit $status
