#!/usr/bin/env bash
# Writes the compatibility matrix (markdown) from the logs of the last run.sh: one row per
# check, one column per Java client version, PASS/FAIL with the failure reason, and the rmq
# commit measured. Usage: interop/java/matrix.sh > docs/compatibility-java.md
set -eu
cd "$(dirname "$0")"
versions=$(ls target/*.run.log 2>/dev/null | sed 's|target/||; s|.run.log||' | sort -V)
[ -n "$versions" ] || { echo "matrix: no target/*.run.log; run run.sh first" >&2; exit 1; }
commit=$(git rev-parse --short HEAD 2>/dev/null || echo unknown)
echo "| check | $(echo $versions | sed 's/ / | /g') |"
echo "|---$(for v in $versions; do printf '|---'; done)|"
checks=$(for v in $versions; do grep -hoE '^(PASS|FAIL) [a-z0-9-]+' target/$v.run.log | awk '{print $2}'; done | awk '!seen[$0]++')
for c in $checks; do
  row="| $c"
  for v in $versions; do
    line=$(grep -E "^(PASS|FAIL) $c( |$)" target/$v.run.log | head -1)
    case "$line" in
      PASS*) row="$row | PASS" ;;
      FAIL*) reason=$(echo "$line" | sed 's/^[^:]*: //' | cut -c1-90 | sed 's/|/\\|/g'); row="$row | FAIL: $reason" ;;
      *) row="$row | not run" ;;
    esac
  done
  echo "$row |"
done
echo
echo "Measured on rmq commit $commit, $(date -u +%Y-%m-%d)."
