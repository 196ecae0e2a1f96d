#!/usr/bin/env bash
# Installs what the test suite needs beyond the Rust toolchain, when it is missing: Node.js and
# Python for the independently written clients, a JDK 17 and Maven for the official Java
# clients, Chromium and its WebDriver for the console's browser tests, libfaketime for the
# clock-jump tests. Debian's packages; a failure stops CI with the package that could not be
# installed.
set -eu
need=()
command -v node >/dev/null || need+=(nodejs npm)
command -v python3 >/dev/null || need+=(python3 python3-pip python3-venv)
command -v java >/dev/null || need+=(openjdk-17-jdk-headless)
command -v mvn >/dev/null || need+=(maven)
[ -x /usr/bin/chromium ] || need+=(chromium)
[ -x /usr/bin/chromedriver ] || need+=(chromium-driver)
[ -e /usr/lib/x86_64-linux-gnu/faketime/libfaketime.so.1 ] || need+=(libfaketime)
if [ ${#need[@]} -eq 0 ]; then
  echo "tools: node $(node --version), $(python3 --version), java $(java -version 2>&1 | head -1 | cut -d'"' -f2), maven $(mvn -v 2>/dev/null | head -1 | awk '{print $3}'), $(/usr/bin/chromium --version 2>/dev/null)"
  exit 0
fi
echo "tools: installing ${need[*]}"
if ! { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need[@]}"; }; then
  echo "tools: FAIL: could not install ${need[*]} with apt-get; install them and run again"
  exit 1
fi
