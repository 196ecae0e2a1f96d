#!/usr/bin/env bash
# ACL 1.0 with the official Java clients (4.9.8 and 5.5.0, AclClientRPCHook from rocketmq-acl):
# mqnamesrv + mqbroker with aclEnable=true and the accounts the `acl-plain` check expects.
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
ns_port=39886
RMQ_BROKER_EXTRA="aclEnable=true
aclFile=$acl_dir/plain_acl.yml" start_rmq_for_java java-acl $ns_port 40931
interop/java/run.sh 127.0.0.1:$ns_port acl-plain
status=$?
if [ $status -ne 0 ]; then
  echo "--- broker log (last 60 lines)"; tail -60 "$work/broker.out"
fi
rm -rf "$acl_dir"
exit $status
