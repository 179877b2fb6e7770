#!/usr/bin/env bash
# `npm run demo`: a local Redis Cluster (3 masters, 3 replicas) and slotgate in front of it.
# Installs what is missing on Debian, builds, starts the cluster, then runs slotgate in the
# foreground. Ctrl-C (or slotgate exiting) stops slotgate and the cluster.
#
# Env: SLOTGATE_DEMO_PORT (7777) slotgate's port; SLOTGATE_DEMO_BASE_PORT (7001) first node port.
set -euo pipefail
cd "$(dirname "$0")/.."

PORT="${SLOTGATE_DEMO_PORT:-7777}"
BASE_PORT="${SLOTGATE_DEMO_BASE_PORT:-7001}"
CLUSTER_DIR=.slotgate/demo-cluster
CLUSTER_CLI=(node dist/src/tools/local-cluster-cli.js)

# --- prerequisites ------------------------------------------------------------------------
bash scripts/setup.sh

# --- cleanup, armed before anything is started ---------------------------------------------
SLOTGATE_PID=""
cleaned=0
cleanup() {
  [ "$cleaned" = 1 ] && return
  cleaned=1
  # Ctrl-C also ends a `| tee` reading our output: a message to it must not abort the clean-up.
  trap '' PIPE
  if [ -n "$SLOTGATE_PID" ] && kill -0 "$SLOTGATE_PID" 2>/dev/null; then
    echo "==> stopping slotgate (pid $SLOTGATE_PID)" || true
    kill -TERM "$SLOTGATE_PID" 2>/dev/null || true
    # slotgate drains in-flight requests on SIGTERM; give it 10 s before forcing it.
    for _ in $(seq 100); do kill -0 "$SLOTGATE_PID" 2>/dev/null || break; sleep 0.1; done
    kill -KILL "$SLOTGATE_PID" 2>/dev/null || true
  fi
  echo "==> stopping the cluster" || true
  "${CLUSTER_CLI[@]}" stop --dir "$CLUSTER_DIR" >/dev/null || true
}
trap cleanup EXIT
trap 'cleanup; exit 130' INT
trap 'cleanup; exit 143' TERM

# --- cluster -------------------------------------------------------------------------------
echo "==> starting a 3-master/3-replica cluster on ports $BASE_PORT-$((BASE_PORT + 5)) in $CLUSTER_DIR"
"${CLUSTER_CLI[@]}" start --masters 3 --replicas 1 --base-port "$BASE_PORT" --dir "$CLUSTER_DIR"

# --- slotgate ------------------------------------------------------------------------------
cat <<EOF

==> slotgate is starting on port $PORT. In another terminal:
      redis-cli -p $PORT
      redis-cli -p $PORT set hello world && redis-cli -p $PORT get hello
    Cluster status: ${CLUSTER_CLI[*]} status --dir $CLUSTER_DIR
    Press Ctrl-C to stop slotgate and the cluster.

EOF
# Own session (setsid), so Ctrl-C reaches only this script, whose trap then sends slotgate a
# single SIGTERM: slotgate treats a second signal as "exit now, skip draining".
SETSID=()
if command -v setsid >/dev/null; then SETSID=(setsid); fi
# Bound to loopback: the demo cluster has no password, nothing else should reach it.
"${SETSID[@]}" node dist/src/main.js --port "$PORT" --bind 127.0.0.1 \
  "127.0.0.1:$BASE_PORT" "127.0.0.1:$((BASE_PORT + 1))" "127.0.0.1:$((BASE_PORT + 2))" &
SLOTGATE_PID=$!
status=0
wait "$SLOTGATE_PID" || status=$?
echo "==> slotgate exited with status $status"
exit "$status"
