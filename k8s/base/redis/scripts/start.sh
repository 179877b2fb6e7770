#!/usr/bin/env bash
# Start script of one Redis Cluster pod (StatefulSet container command: ["bash", "/scripts/start.sh"]).
#
# 1. If $REDIS_DATA_DIR/nodes.conf exists (the pod ran before), the `myself` line's IP becomes
#    $POD_IP (the update-node.sh pattern; the pod came back with a new IP).
# 2. A background loop waits until the server answers PING and, if it knows other nodes (not a
#    fresh node: the create Job forms the cluster), sends CLUSTER MEET to every peer found through
#    the headless Service ($REDIS_STATEFULSET-$i.$REDIS_HEADLESS_SERVICE$REDIS_DNS_SUFFIX, resolved
#    with getent), in bounded rounds until every known node is connected and cluster_state is ok.
#    Gossip alone heals one pod with a new IP; when every pod comes back with a new IP at once
#    nobody can reach anybody at the addresses in nodes.conf, and only a MEET round heals that.
# 3. `exec redis-server`: the server replaces this shell, so it is the container's main process
#    and gets the kubelet's SIGTERM itself (its own clean shutdown, its own exit status; no signal
#    forwarding to get wrong). The meet loop, started before the exec, stops by itself when the
#    server is gone (it watches the server's PID, which is this shell's $$). Its one cost: when
#    it ends, redis-server (its parent after the exec) reaps it at its next fork and logs once
#    "Warning, detected child with unmatched pid" (harmless).
#
# Environment (the contract with the manifests):
#   POD_IP (required; downward API status.podIP)   REDIS_PORT (6379)
#   REDIS_CONF (/etc/redis/redis.conf)             REDIS_DATA_DIR (/data; passed as --dir)
#   REDIS_CLUSTER_SIZE (6)  REDIS_STATEFULSET (redis-cluster)  REDIS_HEADLESS_SERVICE (redis-cluster-headless)
#   REDIS_DNS_SUFFIX ('' : short names through the pod's resolv.conf search domains)
#   REDIS_PASSWORD (optional: requirepass and masterauth, written to a 0600 file, never on argv)
#   REDIS_MEET_ROUNDS (30), REDIS_MEET_INTERVAL (2 s)
# The headless Service should set publishNotReadyAddresses: true, so that peers resolve before
# they are ready (a restart of every pod at once needs the names to heal).
set -u

REDIS_PORT=${REDIS_PORT:-6379}
REDIS_CONF=${REDIS_CONF:-/etc/redis/redis.conf}
REDIS_DATA_DIR=${REDIS_DATA_DIR:-/data}
REDIS_CLUSTER_SIZE=${REDIS_CLUSTER_SIZE:-6}
REDIS_STATEFULSET=${REDIS_STATEFULSET:-redis-cluster}
REDIS_HEADLESS_SERVICE=${REDIS_HEADLESS_SERVICE:-redis-cluster-headless}
REDIS_DNS_SUFFIX=${REDIS_DNS_SUFFIX:-}
REDIS_MEET_ROUNDS=${REDIS_MEET_ROUNDS:-30}
REDIS_MEET_INTERVAL=${REDIS_MEET_INTERVAL:-2}

log() { echo "start.sh: $*" >&2; }

# rewrite_myself_ip FILE IP: the address of the line whose flags (3rd field) include `myself`
# becomes IP; port, cluster bus port and hostname (`ip:port@cport[,hostname]`) are kept, every
# other line is left as it is. Works for IPv6 addresses too (the port is after the last colon).
rewrite_myself_ip() {
  local file=$1 ip=$2 tmp
  tmp="$file.tmp.$$"
  awk -v ip="$ip" '
    $3 ~ /(^|,)myself(,|$)/ {
      at = index($2, "@")
      addr = at ? substr($2, 1, at - 1) : $2
      tail = at ? substr($2, at) : ""
      p = match(addr, /:[0-9]+$/)
      if (p) { $2 = ip substr(addr, p) tail }
    }
    { print }
  ' "$file" >"$tmp" && cat "$tmp" >"$file" && rm -f "$tmp"
}

# peer_names: the DNS names of every pod of the StatefulSet.
peer_names() {
  local i=0
  while [ "$i" -lt "$REDIS_CLUSTER_SIZE" ]; do
    echo "$REDIS_STATEFULSET-$i.$REDIS_HEADLESS_SERVICE$REDIS_DNS_SUFFIX"
    i=$((i + 1))
  done
}

resolve() { getent hosts "$1" 2>/dev/null | awk '{ print $1; exit }'; }

rcli() { redis-cli -h 127.0.0.1 -p "$REDIS_PORT" "$@" 2>/dev/null; }

# cluster_healed: cluster_state:ok and every node this one knows is connected and not failing.
cluster_healed() {
  rcli cluster info | grep -q '^cluster_state:ok' || return 1
  ! rcli cluster nodes | awk '$8 != "connected" || $3 ~ /fail|noaddr|handshake/ { bad = 1 } END { exit !bad }'
}

meet_loop() {
  local server_pid=$1 tries=0 round=0 known name ip
  # Wait (bounded: 120 s) for the server to answer PING.
  until [ "$(rcli ping)" = "PONG" ]; do
    kill -0 "$server_pid" 2>/dev/null || return 0
    tries=$((tries + 1))
    [ "$tries" -ge 240 ] && { log "meet: the server never answered PING; giving up"; return 0; }
    sleep 0.5
  done
  known=$(rcli cluster info | awk -F: '/^cluster_known_nodes:/ { print $2 + 0 }')
  if [ "${known:-0}" -le 1 ]; then
    log "meet: a fresh node (knows no other node); the create Job forms the cluster"
    return 0
  fi
  while [ "$round" -lt "$REDIS_MEET_ROUNDS" ]; do
    kill -0 "$server_pid" 2>/dev/null || return 0
    if [ "$round" -gt 0 ] && cluster_healed; then
      log "meet: cluster_state ok and every known node connected after $round round(s)"
      return 0
    fi
    round=$((round + 1))
    for name in $(peer_names); do
      ip=$(resolve "$name")
      [ -n "$ip" ] || continue
      [ "$ip" = "$POD_IP" ] && continue
      rcli cluster meet "$ip" "$REDIS_PORT" >/dev/null
    done
    sleep "$REDIS_MEET_INTERVAL"
  done
  log "meet: still not healed after $REDIS_MEET_ROUNDS rounds; gossip goes on without help"
}

main() {
  : "${POD_IP:?POD_IP must be set (downward API: status.podIP)}"
  mkdir -p "$REDIS_DATA_DIR"
  if [ -f "$REDIS_DATA_DIR/nodes.conf" ]; then
    log "nodes.conf found: its myself address becomes $POD_IP"
    rewrite_myself_ip "$REDIS_DATA_DIR/nodes.conf" "$POD_IP"
  fi

  local conf=$REDIS_CONF
  if [ -n "${REDIS_PASSWORD:-}" ]; then
    export REDISCLI_AUTH=$REDIS_PASSWORD
    # Redis' config syntax: a double-quoted string with \\ and \" escaped.
    local q
    q=$(printf '%s' "$REDIS_PASSWORD" | sed -e 's/\\/\\\\/g' -e 's/"/\\"/g')
    conf="$REDIS_DATA_DIR/.auth.conf"
    (umask 077 && printf 'include %s\nrequirepass "%s"\nmasterauth "%s"\n' "$REDIS_CONF" "$q" "$q" >"$conf")
  fi

  # $$ is this shell, which becomes redis-server at the exec below.
  meet_loop "$$" &
  exec redis-server "$conf" --port "$REDIS_PORT" --dir "$REDIS_DATA_DIR" \
    --cluster-announce-ip "$POD_IP"
}

# Sourced (by the unit test) with START_SH_LIB=1: define the functions only.
if [ "${START_SH_LIB:-0}" != 1 ]; then main "$@"; fi
