#!/usr/bin/env bash
# A/B of slotgate's hot path: two builds in front of one local cluster, alternating
# redis-benchmark GET -P 16 and -P 1 rounds; prints slotgate's CPU per request (utime+stime
# from /proc/PID/stat) per round.
#   bash bench/load/ab.sh DIST_A DIST_B [ROUNDS]    (DIST_*: a build's dist/ folder)
# Ports: SLOTGATE_AB_BASE_PORT (default 15901) for the 3 masters, +60/+61 for the two proxies,
# +62 for B's admin port (B is started with its admin listener; A with what its CLI and
# environment give: SLOTGATE_ADMIN_ENABLED=false turns it off when A is a build that has one).
# SLOTGATE_THREADS=1: one process each, so /proc/PID/stat holds all of its CPU (builds without
# the option ignore the variable).
set -euo pipefail
A=$1; B=$2; ROUNDS=${3:-5}
BASE=${SLOTGATE_AB_BASE_PORT:-15901}
DIR=$(mktemp -d /tmp/slotgate-ab-XXXX)
HERE=$(cd "$(dirname "$0")/../.." && pwd)
CLI=(node "$HERE/dist/src/tools/local-cluster-cli.js")
TICK=$(getconf CLK_TCK)
PIDS=()
cleanup() {
  for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done
  "${CLI[@]}" stop --dir "$DIR/cluster" >/dev/null 2>&1 || true
  rm -rf "$DIR"
}
trap cleanup EXIT
"${CLI[@]}" start --masters 3 --replicas 0 --base-port "$BASE" --dir "$DIR/cluster" >/dev/null
SEEDS="127.0.0.1:$BASE 127.0.0.1:$((BASE + 1)) 127.0.0.1:$((BASE + 2))"
# shellcheck disable=SC2086
SLOTGATE_THREADS=1 node "$A/src/main.js" --bind 127.0.0.1 --port $((BASE + 60)) --log-level warn $SEEDS >"$DIR/a.log" 2>&1 & PIDS+=($!); PID_A=$!
# shellcheck disable=SC2086
SLOTGATE_THREADS=1 node "$B/src/main.js" --bind 127.0.0.1 --port $((BASE + 61)) --admin-enabled true --admin-bind 127.0.0.1 --admin-port $((BASE + 62)) --log-level warn $SEEDS >"$DIR/b.log" 2>&1 & PIDS+=($!); PID_B=$!
for port in $((BASE + 60)) $((BASE + 61)); do
  for _ in $(seq 100); do redis-cli -p "$port" ping >/dev/null 2>&1 && break; sleep 0.1; done
done
cpu() { awk '{print $14 + $15}' "/proc/$1/stat"; }
run() { # label pid port pipeline requests
  local before after rps
  before=$(cpu "$2")
  rps=$(redis-benchmark -p "$3" -t get -P "$4" -n "$5" -c 50 -d 64 -r 100000 -q 2>/dev/null | tr '\r' '\n' | awk '/requests per second/ {print $2}' | tail -1)
  after=$(cpu "$2")
  awk -v l="$1" -v p="$4" -v b="$before" -v a="$after" -v n="$5" -v t="$TICK" -v r="$rps" \
    'BEGIN { printf "%s GET -P %s: %.2f us/request, %s rps\n", l, p, (a - b) / t / n * 1e6, r }'
}
# Who goes first alternates by round, so a slow spell of the machine does not favour one build.
for round in $(seq "$ROUNDS"); do
  echo "round $round"
  for p in 16 1; do
    n=$([ "$p" = 1 ] && echo 200000 || echo 1000000)
    if [ $((round % 2)) = 1 ]; then
      run A "$PID_A" $((BASE + 60)) "$p" "$n"; run B "$PID_B" $((BASE + 61)) "$p" "$n"
    else
      run B "$PID_B" $((BASE + 61)) "$p" "$n"; run A "$PID_A" $((BASE + 60)) "$p" "$n"
    fi
  done
done
curl -s "http://127.0.0.1:$((BASE + 62))/metrics" | grep -E '^slotgate_commands_total\{command="get"' || true
