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
here=$(pwd)/interop/java
out=$here/target/5.5.0
mkdir -p "$out"
if ! (cd "$here" && mvn -q -B -Drocketmq.version=5.5.0 -Dcompat=compat-v5 compile dependency:build-classpath \
    -Dmdep.outputFile=target/5.5.0/classpath.txt > target/5.5.0.build.log 2>&1); then
  echo "java-acl2: FAIL: interop/java 5.5.0 did not build (Maven Central reachable?)"
  tail -20 "$here/target/5.5.0.build.log"
  exit 1
fi
cp="$out/classes:$(cat "$out/classpath.txt")"
tool_home() { # NAME ACCESS_KEY SECRET_KEY: a ROCKETMQ_HOME whose conf/tools.yml signs as that user
  local home=$here/target/acl2/$1
  mkdir -p "$home/conf" "$home/logs"
  printf 'accessKey: %s\nsecretKey: %s\n' "$2" "$3" > "$home/conf/tools.yml"
  cat > "$home/conf/rmq.tools.logback.xml" <<XML
<configuration>
  <appender name="FILE" class="ch.qos.logback.core.FileAppender">
    <file>$home/logs/tools.log</file>
    <encoder><pattern>%d{HH:mm:ss.SSS} %-5level %logger{32} - %msg%n</pattern></encoder>
  </appender>
  <root level="INFO"><appender-ref ref="FILE"/></root>
</configuration>
XML
  echo "$home"
}
admin_home=$(tool_home admin rmqadmin admin-secret)
prod_home=$(tool_home javaprod javaprod prod-secret)
# apache_mqadmin HOME NAME ARGS...: output in $here/target/acl2/NAME.out, also in $last
apache_mqadmin() {
  local home=$1 name=$2
  shift 2
  last=$here/target/acl2/$name.out
  (cd "$home" && ROCKETMQ_HOME=$home timeout 90 java -Duser.home="$home" \
    -Drmq.logback.configurationFile="$home/conf/rmq.tools.logback.xml" \
    -cp "$cp" org.apache.rocketmq.tools.command.MQAdminStartup "$@" -n 127.0.0.1:$ns_port) > "$last" 2>&1
}
# check NAME REGEX ARGS...: runs Apache's mqadmin as rmqadmin; PASS when the output matches
# REGEX and shows no exception.
check() {
  local name=$1 want=$2
  shift 2
  apache_mqadmin "$admin_home" "$name" "$@"
  if grep -qE "$want" "$last" && ! grep -qE 'Exception|CODE:' "$last"; then
    echo "PASS apache-mqadmin-$name"
  else
    echo "FAIL apache-mqadmin-$name: $(grep -m1 -E 'Exception|CODE:' "$last" || head -1 "$last") (output: $last)"
    status=$((status + 1))
  fi
}
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
