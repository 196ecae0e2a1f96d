#!/usr/bin/env bash
# ACL 2.0 with Apache's own tools and clients, against mqnamesrv + mqbroker with
# authenticationEnabled=true, authorizationEnabled=true and the super user rmqadmin from
# initAuthenticationUser:
#   1. Apache's mqadmin 5.5.0 (rocketmq-tools, signing from $ROCKETMQ_HOME/conf/tools.yml as
#      Apache's does) creates the users javaprod and javasub and their ACLs (javaprod: Pub on
#      Topic:*; javasub: Sub on Topic:* and Group:*), reads them back, and is refused when it
#      signs as a normal user;
#   2. the same `acl-plain` check as ACL 1.0 runs with the Java clients 4.9.8 and 5.5.0
#      (AclClientRPCHook signs for 2.0 as for 1.0): allowed sends and consumes pass; a wrong
#      secret, an unknown user and a missing permission get NO_PERMISSION;
#   3. the 5.x gRPC client sends as javaprod and is refused FORBIDDEN as javasub.
# Exit status: the number of failed checks.
set -u
cd "$(dirname "$0")/.."
. .ci/rmq-for-java.sh
ns_port=39986 grpc_port=41081 broker_port=41031
RMQ_GRPC_PORT=$grpc_port RMQ_BROKER_EXTRA='authenticationEnabled=true
authorizationEnabled=true
initAuthenticationUser={"username":"rmqadmin","password":"admin-secret"}' \
  start_rmq_for_java java-acl2 $ns_port $broker_port
status=0
addr=127.0.0.1:$broker_port

# Apache's mqadmin 5.5.0, from the interop/java Maven project.
. .ci/apache-mqadmin.sh
apache_mqadmin_build 5.5.0
admin_home=$(tool_home admin rmqadmin admin-secret)
prod_home=$(tool_home javaprod javaprod prod-secret)
check createUser-b "create user to $addr success" createUser -b $addr -u javaprod -p prod-secret
check createUser-c "create user to $addr success" createUser -c DefaultCluster -u javasub -p sub-secret
check createAcl-b "create acl to $addr success" createAcl -b $addr -s User:javaprod -r 'Topic:*' -a Pub -d Allow
check createAcl-c "create acl to $addr success" createAcl -c DefaultCluster -s User:javasub -r 'Topic:*,Group:*' -a Sub -d Allow
check getUser "javasub +sub-secret +Normal +enable" getUser -b $addr -u javasub
check listUser "javaprod" listUser -c DefaultCluster
check listAcl "User:javasub +Custom +Group:\*" listAcl -b $addr -s User:javasub
check getAcl "User:javaprod +Custom +Topic:\* +\[?Pub\]? +.*Allow" getAcl -b $addr -s User:javaprod
# Signed as a normal user, user management is refused by the broker (Cluster Update).
apache_mqadmin "$prod_home" createUser-refused createUser -b $addr -u mallory -p x
if grep -q "CODE: 16" "$last" && grep -q "User:javaprod" "$last"; then
  echo "PASS apache-mqadmin-createUser-refused: NO_PERMISSION for javaprod"
else
  echo "FAIL apache-mqadmin-createUser-refused: $(head -3 "$last" | tr '\n' ' ') (output: $last)"
  status=$((status + 1))
fi

# The Java clients with AclClientRPCHook, as users of ACL 2.0.
interop/java/run.sh 127.0.0.1:$ns_port acl-plain
status=$((status + $?))

# gRPC: javaprod sends; javasub (Sub only) is refused FORBIDDEN, naming the action.
. .ci/java-acl-grpc.sh
grpc_acl_checks $ns_port $grpc_port "User:javasub has no permission to Pub"
if [ $status -ne 0 ]; then
  echo "--- broker log (last 60 lines)"; tail -60 "$work/broker.out"
fi
exit $status
