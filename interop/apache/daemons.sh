#!/usr/bin/env bash
# Apache RocketMQ's own name server and broker, from the jars Maven Central serves, as the
# reference to run rmq's checks against.
#
#   interop/apache/daemons.sh start VERSION WORKDIR NS_PORT BROKER_PORT [EXTRA_BROKER_PROPERTIES_FILE]
#   interop/apache/daemons.sh start-namesrv VERSION WORKDIR NS_PORT
#   interop/apache/daemons.sh start-broker VERSION WORKDIR NAMESRV BROKER_PORT [EXTRA_BROKER_PROPERTIES_FILE]
#   interop/apache/daemons.sh stop WORKDIR
#
# start lays out a ROCKETMQ_HOME in WORKDIR (conf/ with the logging files Apache's startups read,
# namesrv.properties, broker.properties, store/, logs/), starts NamesrvStartup and BrokerStartup
# in the background and returns once both ports accept connections AND the name server lists the
# broker (GET_BROKER_CLUSTER_INFO, what `mqadmin clusterList` asks). It fails with the logs' last
# lines when that does not happen within DAEMONS_START_TIMEOUT seconds (default 60).
# start-namesrv starts only the name server; start-broker only a broker, registered with any
# name server NAMESRV (rmq's too: the mixed clusters of interop/apache/mixed). A slave is a
# start-broker with brokerId/brokerRole among the extra properties.
#
# Extra broker.properties lines (they override the defaults written here): the file named by the
# fifth argument and/or the BROKER_EXTRA_PROPERTIES variable (newline-separated key=value lines).
#
# stop ends the two daemons by the pids recorded in WORKDIR (TERM, then KILL after 30 s; Apache's
# broker takes 10-15 s to shut down) and returns once they are gone. The daemons never outlive
# their owner: a watchdog stops them within a second of the process that ran `start` exiting
# (DAEMONS_OWNER_PID, default the caller; 0 disables it, then only `stop` ends them). Callers
# still run `stop` from an EXIT trap, as interop/apache/baseline.sh does.
#
# Versions: 4.9.7 (the newest 4.x whose rocketmq-namesrv and rocketmq-broker are on Maven
# Central; 4.9.8 published only the client and tools) and 5.5.0 (5.5.1 lacks rocketmq-namesrv,
# -client and -tools there). Other variables: JAVA (default java, a JDK 17 or newer),
# DAEMONS_HEAP (default 256m), BROKER_NAME (broker-a), BROKER_CLUSTER (DefaultCluster).
set -u
here=$(cd "$(dirname "$0")" && pwd)

die() {
  echo "apache-daemons: FAIL: $*" >&2
  exit 1
}

usage() {
  echo "usage: daemons.sh start VERSION WORKDIR NS_PORT BROKER_PORT [EXTRA_BROKER_PROPERTIES_FILE]" >&2
  echo "       daemons.sh start-namesrv VERSION WORKDIR NS_PORT" >&2
  echo "       daemons.sh start-broker VERSION WORKDIR NAMESRV BROKER_PORT [EXTRA_BROKER_PROPERTIES_FILE]" >&2
  echo "       daemons.sh stop WORKDIR" >&2
  exit 2
}

java=${JAVA:-java}

# Prints the classpath file of VERSION, resolving it with Maven the first time.
classpath_file() {
  local v=$1 out=$here/target/$1/classpath.txt
  # Resolve again when the file is missing, older than the pom, or names a jar that is not there
  # (a classpath.txt from another machine or a cleaned ~/.m2).
  local stale=0 jar
  if [ ! -s "$out" ] || [ "$here/pom.xml" -nt "$out" ]; then
    stale=1
  else
    while IFS= read -r -d: jar; do
      [ -e "$jar" ] || { stale=1; break; }
    done < <(cat "$out"; echo :)
  fi
  if [ $stale = 1 ]; then
    command -v mvn >/dev/null || die "mvn not found; install Maven (apt-get install -y maven)"
    mkdir -p "$here/target/$v"
    if ! mvn -q -B -f "$here/pom.xml" -Drocketmq.version="$v" dependency:build-classpath \
        -Dmdep.outputFile="$out" > "$here/target/$v.resolve.log" 2>&1; then
      grep -m1 -oE 'Could not (find|resolve|transfer) artifact [^ ]+|Could not resolve dependencies.*' "$here/target/$v.resolve.log" >&2
      rm -f "$out"
      die "could not resolve Apache RocketMQ $v's namesrv, broker and tools from Maven Central (network? version published? 4.9.7 and 5.5.0 are); full log: $here/target/$v.resolve.log"
    fi
  fi
  echo "$out"
}

# The JVM's major version (17, 25, ...).
java_major() {
  "$java" -version 2>&1 | awk -F'"' '/version/ {print $2; exit}' | awk -F. '{print ($1 == "1") ? $2 : $1}'
}

# A logback configuration that writes everything at INFO to one file. Apache's 5.x rewrites the
# ch.qos.logback class names to its shaded copy when it loads the file, so one text serves both.
write_logback() {
  cat > "$1" <<EOF
<configuration>
  <appender name="FILE" class="ch.qos.logback.core.FileAppender">
    <file>$2</file>
    <encoder><pattern>%d{yyyy-MM-dd HH:mm:ss.SSS} %-5level [%thread] %logger{32} - %msg%n</pattern></encoder>
  </appender>
  <root level="INFO"><appender-ref ref="FILE"/></root>
</configuration>
EOF
}

# True while something accepts TCP connections on 127.0.0.1:$1.
port_open() {
  (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null
}

# Ends pid $1 if it is still one of ours (its command line names WORKDIR $2): TERM, then KILL.
end_pid() {
  local pid=$1 dir=$2
  [ -n "$pid" ] || return 0
  kill -0 "$pid" 2>/dev/null || return 0
  tr '\0' ' ' < "/proc/$pid/cmdline" 2>/dev/null | grep -qF -- "$dir" || return 0
  kill -TERM "$pid" 2>/dev/null
  for _ in $(seq 300); do
    kill -0 "$pid" 2>/dev/null || return 0
    sleep 0.1
  done
  echo "apache-daemons: pid $pid did not stop within 30 s of TERM; killing it" >&2
  kill -KILL "$pid" 2>/dev/null
  for _ in $(seq 50); do
    kill -0 "$pid" 2>/dev/null || return 0
    sleep 0.1
  done
}

stop() {
  local dir
  dir=$(cd "${1:?usage: daemons.sh stop WORKDIR}" 2>/dev/null && pwd) || die "no such WORKDIR $1"
  local watchdog
  watchdog=$(cat "$dir/watchdog.pid" 2>/dev/null)
  rm -f "$dir/watchdog.pid"
  # The watchdog may be the one calling stop: only end it when it is not our parent.
  if [ -n "$watchdog" ] && [ "$watchdog" != "$PPID" ]; then
    kill "$watchdog" 2>/dev/null
  fi
  end_pid "$(cat "$dir/broker.pid" 2>/dev/null)" "$dir"
  end_pid "$(cat "$dir/namesrv.pid" 2>/dev/null)" "$dir"
  rm -f "$dir/broker.pid" "$dir/namesrv.pid"
}

show_logs() {
  local dir=$1 f
  for f in "$dir/namesrv.out" "$dir/broker.out" "$dir"/logs/*.log; do
    [ -s "$f" ] || continue
    echo "--- $f (last 30 lines)" >&2
    tail -30 "$f" >&2
  done
}

# The JVM command line shared by both daemons: sets `jvm` and `cp` for VERSION.
jvm_for() {
  local version=$1 dir=$2
  command -v "$java" >/dev/null || die "$java not found; install a JDK 17 (apt-get install -y openjdk-17-jdk-headless)"
  local major
  major=$(java_major)
  [ -n "$major" ] && [ "$major" -ge 17 ] || die "$java is Java ${major:-unknown}; these scripts expect a JDK 17 or newer"
  local cp_file
  cp_file=$(classpath_file "$version") || exit 1
  cp=$(cat "$cp_file")
  local heap=${DAEMONS_HEAP:-256m}
  jvm=(-server "-Xms$heap" "-Xmx$heap" -XX:-OmitStackTraceInFastThrow "-Duser.home=$dir")
  # Apache's broker judges the disk by the whole filesystem: above 85 % used it deletes store
  # files forcibly, above 90 % it refuses every send as "disk full". On a shared test machine
  # that is everyone's usage, not the broker's; the checks move both limits to 98/99 %
  # (system properties of Apache's DefaultMessageStore, 4.x and 5.x alike).
  jvm+=(-Drocketmq.broker.diskSpaceCleanForciblyRatio=0.98 -Drocketmq.broker.diskSpaceWarningLevelRatio=0.99)
  # Apache's bin/runserver.sh and runbroker.sh pass no module flags (checked from 4.9.0 to 5.3.3):
  # they were written for JDK 8 and 11, where reflective access into java.base only warns. On
  # JDK 17, 4.x's MappedFile.clean() (run when a mapped file is destroyed, e.g. by deleteTopic)
  # calls DirectByteBuffer.attachment()/cleaner() and then jdk.internal.ref.Cleaner.clean()
  # reflectively, and fails with InaccessibleObjectException without these two. 5.x frees
  # buffers through netty's Unsafe-based cleaner and needs none.
  case $version in
    4.*) jvm+=(--add-opens java.base/java.nio=ALL-UNNAMED --add-exports java.base/jdk.internal.ref=ALL-UNNAMED) ;;
  esac
}

# Lays out ROCKETMQ_HOME in $1 (made absolute in `dir`); refuses a WORKDIR with daemons in it.
layout() {
  mkdir -p "$1" || die "cannot create $1"
  dir=$(cd "$1" && pwd)
  if [ -e "$dir/broker.pid" ] || [ -e "$dir/namesrv.pid" ]; then
    die "$dir already has daemons (pid files); run daemons.sh stop $dir first"
  fi
  mkdir -p "$dir/conf" "$dir/logs" "$dir/store" "$dir/namesrv"
  local role
  for role in namesrv broker tools; do
    write_logback "$dir/conf/logback_$role.xml" "$dir/logs/$role.log"      # 4.x: ROCKETMQ_HOME/conf
    write_logback "$dir/conf/rmq.$role.logback.xml" "$dir/logs/$role.log"   # 5.x: -Drmq.logback.configurationFile
  done
}

ports_free() {
  local p
  for p in "$@"; do
    port_open "$p" && die "port $p is already in use on 127.0.0.1"
  done
  return 0
}

launch_namesrv() {
  local ns_port=$1
  {
    echo "listenPort=$ns_port"
    echo "kvConfigPath=$dir/namesrv/kvConfig.json"
    echo "configStorePath=$dir/namesrv/namesrv.properties"
  } > "$dir/conf/namesrv.properties"
  : > "$dir/namesrv.out"
  ROCKETMQ_HOME=$dir "$java" "${jvm[@]}" "-Drmq.logback.configurationFile=$dir/conf/rmq.namesrv.logback.xml" \
    -cp "$cp" org.apache.rocketmq.namesrv.NamesrvStartup -c "$dir/conf/namesrv.properties" \
    < /dev/null > "$dir/namesrv.out" 2>&1 &
  echo $! > "$dir/namesrv.pid"
}

launch_broker() {
  local namesrv=$1 broker_port=$2 extra_file=$3
  {
    echo "brokerClusterName=${BROKER_CLUSTER:-DefaultCluster}"
    echo "brokerName=${BROKER_NAME:-broker-a}"
    echo "brokerId=0"
    echo "brokerIP1=127.0.0.1"
    echo "listenPort=$broker_port"
    echo "namesrvAddr=$namesrv"
    echo "storePathRootDir=$dir/store"
    echo "storePathCommitLog=$dir/store/commitlog"
    echo "mappedFileSizeCommitLog=67108864"
    echo "mappedFileSizeConsumeQueue=600000"
    echo "autoCreateTopicEnable=true"
    if [ -n "${BROKER_EXTRA_PROPERTIES:-}" ]; then printf '%s\n' "$BROKER_EXTRA_PROPERTIES"; fi
    if [ -n "$extra_file" ]; then cat "$extra_file"; fi
  } > "$dir/conf/broker.properties"
  : > "$dir/broker.out"
  ROCKETMQ_HOME=$dir "$java" "${jvm[@]}" "-Drmq.logback.configurationFile=$dir/conf/rmq.broker.logback.xml" \
    -cp "$cp" org.apache.rocketmq.broker.BrokerStartup -c "$dir/conf/broker.properties" \
    < /dev/null > "$dir/broker.out" 2>&1 &
  echo $! > "$dir/broker.pid"
}

# Polls the owner once a second; stops the daemons when it is gone (or stop already ran).
start_watchdog() {
  local owner=${DAEMONS_OWNER_PID:-$PPID}
  [ "$owner" != 0 ] || return 0
  (
    trap '' INT HUP
    alive() { [ -e "$dir/broker.pid" ] || [ -e "$dir/namesrv.pid" ]; }
    while kill -0 "$owner" 2>/dev/null && alive; do sleep 1; done
    alive && "$here/daemons.sh" stop "$dir"
  ) < /dev/null > /dev/null 2>&1 &
  echo $! > "$dir/watchdog.pid"
}

# Waits until every port in $4.. accepts connections and, when $2 (a broker address) is set,
# until the name server $3 lists it; stops everything with the logs on failure.
wait_started() {
  local version=$1 broker_addr=$2 namesrv=$3
  shift 3
  local pids=() f
  for f in "$dir/namesrv.pid" "$dir/broker.pid"; do
    [ -e "$f" ] && pids+=("$(cat "$f")")
  done
  local timeout=${DAEMONS_START_TIMEOUT:-60}
  local deadline=$((SECONDS + timeout)) p pid ready
  while :; do
    ready=1
    for p in "$@"; do port_open "$p" || ready=0; done
    [ $ready = 1 ] && break
    for pid in "${pids[@]}"; do
      if ! kill -0 "$pid" 2>/dev/null; then
        show_logs "$dir"; stop "$dir"
        die "Apache $version: a daemon exited during startup (logs above, all in $dir)"
      fi
    done
    if [ $SECONDS -ge $deadline ]; then
      show_logs "$dir"; stop "$dir"
      die "Apache $version: ports $* not open after ${timeout} s (logs above, all in $dir)"
    fi
    sleep 0.2
  done
  [ -n "$broker_addr" ] || return 0
  local left=$(( (deadline - SECONDS) * 1000 ))
  [ $left -gt 1000 ] || left=1000
  if ! "$java" "$here/WaitForBroker.java" "$namesrv" "$broker_addr" "$left" "${pids[@]}" \
      > "$dir/wait.out" 2>&1; then
    cat "$dir/wait.out" >&2
    show_logs "$dir"; stop "$dir"
    die "Apache $version: broker $broker_addr not registered with the name server $namesrv within ${timeout} s"
  fi
}

start() {
  [ $# -ge 4 ] || usage
  local version=$1 ns_port=$3 broker_port=$4 extra_file=${5:-}
  [ -z "$extra_file" ] || [ -r "$extra_file" ] || die "extra broker properties file $extra_file not readable"
  local dir cp jvm
  jvm_for "$version" "$2"
  # The broker also listens on BROKER_PORT-2 (its VIP channel) and BROKER_PORT+1 (HA).
  ports_free "$ns_port" "$broker_port" $((broker_port - 2)) $((broker_port + 1))
  layout "$2"
  launch_namesrv "$ns_port"
  launch_broker "127.0.0.1:$ns_port" "$broker_port" "$extra_file"
  start_watchdog
  wait_started "$version" "127.0.0.1:$broker_port" "127.0.0.1:$ns_port" "$ns_port" "$broker_port"
  {
    echo "VERSION=$version"
    echo "NAMESRV=127.0.0.1:$ns_port"
    echo "BROKER=127.0.0.1:$broker_port"
    echo "NAMESRV_PID=$(cat "$dir/namesrv.pid")"
    echo "BROKER_PID=$(cat "$dir/broker.pid")"
  } > "$dir/daemons.env"
  echo "apache-daemons: Apache RocketMQ $version up: name server 127.0.0.1:$ns_port (pid $(cat "$dir/namesrv.pid")), broker ${BROKER_NAME:-broker-a} 127.0.0.1:$broker_port (pid $(cat "$dir/broker.pid")); logs in $dir/logs; stop with: $here/daemons.sh stop $dir"
}

start_namesrv() {
  [ $# -eq 3 ] || usage
  local version=$1 ns_port=$3
  local dir cp jvm
  jvm_for "$version" "$2"
  ports_free "$ns_port"
  layout "$2"
  launch_namesrv "$ns_port"
  start_watchdog
  wait_started "$version" "" "" "$ns_port"
  {
    echo "VERSION=$version"
    echo "NAMESRV=127.0.0.1:$ns_port"
    echo "NAMESRV_PID=$(cat "$dir/namesrv.pid")"
  } > "$dir/daemons.env"
  echo "apache-daemons: Apache RocketMQ $version name server up on 127.0.0.1:$ns_port (pid $(cat "$dir/namesrv.pid")); stop with: $here/daemons.sh stop $dir"
}

start_broker() {
  [ $# -ge 4 ] || usage
  local version=$1 namesrv=$3 broker_port=$4 extra_file=${5:-}
  [ -z "$extra_file" ] || [ -r "$extra_file" ] || die "extra broker properties file $extra_file not readable"
  local dir cp jvm
  jvm_for "$version" "$2"
  ports_free "$broker_port" $((broker_port - 2)) $((broker_port + 1))
  layout "$2"
  launch_broker "$namesrv" "$broker_port" "$extra_file"
  start_watchdog
  wait_started "$version" "127.0.0.1:$broker_port" "$namesrv" "$broker_port"
  {
    echo "VERSION=$version"
    echo "NAMESRV=$namesrv"
    echo "BROKER=127.0.0.1:$broker_port"
    echo "BROKER_PID=$(cat "$dir/broker.pid")"
  } > "$dir/daemons.env"
  echo "apache-daemons: Apache RocketMQ $version broker ${BROKER_NAME:-broker-a} up on 127.0.0.1:$broker_port (pid $(cat "$dir/broker.pid")), registered with $namesrv; stop with: $here/daemons.sh stop $dir"
}

case "${1:-}" in
  start) shift; start "$@" ;;
  start-namesrv) shift; start_namesrv "$@" ;;
  start-broker) shift; start_broker "$@" ;;
  stop) shift; [ $# -eq 1 ] || usage; stop "$1" ;;
  *) usage ;;
esac
