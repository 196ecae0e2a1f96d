# Sourced by the ACL scripts (.ci/java-acl.sh, .ci/java-acl2.sh): Apache's own mqadmin
# (MQAdminStartup of rocketmq-tools VERSION, built by the interop/java Maven project) signing
# from $ROCKETMQ_HOME/conf/tools.yml, as Apache's reads it.
#
#   apache_mqadmin_build VERSION            # sets $cp; exits 1 when Maven cannot build it
#   home=$(tool_home NAME AK SK)            # a ROCKETMQ_HOME signing as AK/SK
#   apache_mqadmin HOME NAME ARGS...        # output in $last (target/acl-tools/NAME.out)
#   check NAME REGEX ARGS...                # as $admin_home; PASS when the output matches REGEX
#                                           # and shows no exception; FAIL adds to $status
tools_dir=$(pwd)/interop/java
apache_mqadmin_build() {
  local v=$1 compat=compat-v5
  case $v in 4.*) compat=compat-v4 ;; esac
  mkdir -p "$tools_dir/target/$v"
  if ! (cd "$tools_dir" && mvn -q -B -Drocketmq.version=$v -Dcompat=$compat compile dependency:build-classpath \
      -Dmdep.outputFile=target/$v/classpath.txt > target/$v.build.log 2>&1); then
    echo "apache-mqadmin: FAIL: interop/java $v did not build (Maven Central reachable?)"
    tail -20 "$tools_dir/target/$v.build.log"
    exit 1
  fi
  cp="$tools_dir/target/$v/classes:$(cat "$tools_dir/target/$v/classpath.txt")"
}
tool_home() {
  local home=$tools_dir/target/acl-tools/$1
  mkdir -p "$home/conf" "$home/logs"
  printf 'accessKey: %s\nsecretKey: %s\n' "$2" "$3" > "$home/conf/tools.yml"
  # 4.x reads conf/logback_tools.xml (and fails without it); 5.x is pointed at its file.
  for f in logback_tools.xml rmq.tools.logback.xml; do
    cat > "$home/conf/$f" <<XML
<configuration>
  <appender name="FILE" class="ch.qos.logback.core.FileAppender">
    <file>$home/logs/tools.log</file>
    <encoder><pattern>%d{HH:mm:ss.SSS} %-5level %logger{32} - %msg%n</pattern></encoder>
  </appender>
  <root level="INFO"><appender-ref ref="FILE"/></root>
</configuration>
XML
  done
  echo "$home"
}
apache_mqadmin() {
  local home=$1 name=$2
  shift 2
  last=$tools_dir/target/acl-tools/$name.out
  (cd "$home" && ROCKETMQ_HOME=$home timeout 90 java -Duser.home="$home" \
    -Drmq.logback.configurationFile="$home/conf/rmq.tools.logback.xml" \
    -cp "$cp" org.apache.rocketmq.tools.command.MQAdminStartup "$@" -n 127.0.0.1:$ns_port) > "$last" 2>&1
}
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
