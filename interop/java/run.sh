#!/usr/bin/env bash
# The Java conformance suite: Apache's official Java client (4.9.8 and the newest 5.x from Maven
# Central) against a running name server + broker.
#
#   interop/java/run.sh NAMESRV [check ...]       # both versions
#   JAVA_CLIENT_VERSIONS=4.9.8 interop/java/run.sh 127.0.0.1:9876
#
# The broker under test must run with maxMessageSize=65536 (see .ci/java-interop.sh, which starts
# one); DELAY_LEVEL_2_MS says what its delay level 2 is (default 5000, Apache's); RMQ_JAVA_OPTS
# adds JVM options (-Dtls.enable=true). Exit status: failed checks plus failed versions.
set -u
cd "$(dirname "$0")"
ns=${1:?usage: run.sh NAMESRV [check ...]}
shift
for tool in java mvn; do
  command -v $tool >/dev/null || { echo "java-interop: $tool not found; install a JDK 17 and Maven (apt-get install openjdk-17-jdk-headless maven)"; exit 1; }
done
versions=${JAVA_CLIENT_VERSIONS:-"4.9.8 5.5.0"}
# A fresh clone has no target/ (gitignored): the build logs below go there.
mkdir -p target
status=0
for v in $versions; do
  case $v in 4.*) compat=compat-v4 ;; *) compat=compat-v5 ;; esac
  out=target/$v
  if ! mvn -q -B -Drocketmq.version=$v -Dcompat=$compat compile dependency:build-classpath \
      -Dmdep.outputFile=$out/classpath.txt > $out.build.log 2>&1; then
    echo "FAIL java-client-$v: the suite did not build (Maven Central reachable?); last lines:"
    tail -20 $out.build.log
    status=$((status + 1))
    continue
  fi
  # shellcheck disable=SC2086 # RMQ_JAVA_OPTS holds several -D options
  java ${RMQ_JAVA_OPTS:-} -Drmq.delayLevel2Ms="${DELAY_LEVEL_2_MS:-5000}" -Dlogback.configurationFile=logback.xml -Drocketmq.client.logUseSlf4j=true \
    -cp "$out/classes:$(cat $out/classpath.txt)" rmq.interop.Main "$ns" "$@" \
    > $out.run.log 2>&1
  rc=$?
  grep -E '^(java client|PASS|FAIL|[0-9]+ passed)' $out.run.log | sed "s/^/[$v] /"
  if [ $rc -ne 0 ]; then
    echo "[$v] exit $rc; full output in interop/java/$out.run.log"
    status=$((status + rc))
  fi
done
exit $status
