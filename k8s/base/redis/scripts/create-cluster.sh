#!/usr/bin/env bash
# The one-off Job that forms the Redis Cluster (command: ["bash", "/scripts/create-cluster.sh"]).
# Idempotent: when the cluster already exists it does nothing and exits 0.
#
# 1. Waits (bounded by REDIS_CREATE_TIMEOUT, 300 s) until every pod name
#    ($REDIS_STATEFULSET-$i.$REDIS_HEADLESS_SERVICE$REDIS_DNS_SUFFIX, i < REDIS_CLUSTER_SIZE)
#    resolves and answers PING.
# 2. If any node knows another node, reports cluster_state:ok or has slots assigned, the cluster
#    exists: exit 0 without touching it.
# 3. Else `redis-cli --cluster create <ip:port>... --cluster-replicas $REDIS_REPLICAS --cluster-yes`,
#    then waits (same bound) until every node reports cluster_state:ok.
# Exit status: 0 done or nothing to do, 1 timed out or the create failed (the Job retries).
#
# Environment (shared with start.sh): REDIS_CLUSTER_SIZE (6), REDIS_REPLICAS (1),
# REDIS_STATEFULSET (redis-cluster), REDIS_HEADLESS_SERVICE (redis-cluster-headless),
# REDIS_DNS_SUFFIX (''), REDIS_PORT (6379), REDIS_PASSWORD (optional), REDIS_CREATE_TIMEOUT (300).
set -u

REDIS_PORT=${REDIS_PORT:-6379}
REDIS_CLUSTER_SIZE=${REDIS_CLUSTER_SIZE:-6}
REDIS_REPLICAS=${REDIS_REPLICAS:-1}
REDIS_STATEFULSET=${REDIS_STATEFULSET:-redis-cluster}
REDIS_HEADLESS_SERVICE=${REDIS_HEADLESS_SERVICE:-redis-cluster-headless}
REDIS_DNS_SUFFIX=${REDIS_DNS_SUFFIX:-}
REDIS_CREATE_TIMEOUT=${REDIS_CREATE_TIMEOUT:-300}
if [ -n "${REDIS_PASSWORD:-}" ]; then export REDISCLI_AUTH=$REDIS_PASSWORD; fi

log() { echo "create-cluster.sh: $*" >&2; }
resolve() { getent hosts "$1" 2>/dev/null | awk '{ print $1; exit }'; }
rcli() { local host=$1; shift; redis-cli -h "$host" -p "$REDIS_PORT" "$@" 2>/dev/null; }
# (printf | awk, not a here-string: the Job's root filesystem is read-only, no temp files.)
info_field() { printf '%s\n' "$1" | awk -F: -v k="$2" '$1 == k { sub(/\r$/, "", $2); print $2 }'; }
# An IPv6 address needs brackets in redis-cli's ip:port.
hostport() { case $1 in *:*) echo "[$1]:$REDIS_PORT" ;; *) echo "$1:$REDIS_PORT" ;; esac; }

deadline=$(($(date +%s) + REDIS_CREATE_TIMEOUT))
ips=()
while :; do
  ips=()
  missing=""
  i=0
  while [ "$i" -lt "$REDIS_CLUSTER_SIZE" ]; do
    name="$REDIS_STATEFULSET-$i.$REDIS_HEADLESS_SERVICE$REDIS_DNS_SUFFIX"
    ip=$(resolve "$name")
    if [ -n "$ip" ] && [ "$(rcli "$ip" ping)" = "PONG" ]; then ips+=("$ip"); else missing="$missing $name"; fi
    i=$((i + 1))
  done
  [ -z "$missing" ] && break
  if [ "$(date +%s)" -ge "$deadline" ]; then
    log "gave up after ${REDIS_CREATE_TIMEOUT}s: not resolved or not answering PING:$missing"
    exit 1
  fi
  sleep 1
done
log "every pod answers: ${ips[*]}"

for ip in "${ips[@]}"; do
  info=$(rcli "$ip" cluster info)
  known=$(info_field "$info" cluster_known_nodes)
  state=$(info_field "$info" cluster_state)
  assigned=$(info_field "$info" cluster_slots_assigned)
  if [ "${known:-1}" -gt 1 ] || [ "$state" = ok ] || [ "${assigned:-0}" -gt 0 ]; then
    log "the cluster exists ($ip: cluster_state:$state, cluster_known_nodes:$known, cluster_slots_assigned:$assigned); nothing to do"
    exit 0
  fi
done

targets=()
for ip in "${ips[@]}"; do targets+=("$(hostport "$ip")"); done
log "creating the cluster: ${targets[*]} with $REDIS_REPLICAS replica(s) per master"
if ! redis-cli --cluster create "${targets[@]}" --cluster-replicas "$REDIS_REPLICAS" --cluster-yes; then
  log "redis-cli --cluster create failed"
  exit 1
fi

while :; do
  notok=""
  for ip in "${ips[@]}"; do
    [ "$(info_field "$(rcli "$ip" cluster info)" cluster_state)" = ok ] || notok="$notok $ip"
  done
  if [ -z "$notok" ]; then
    log "cluster_state:ok on every node"
    exit 0
  fi
  if [ "$(date +%s)" -ge "$deadline" ]; then
    log "gave up after ${REDIS_CREATE_TIMEOUT}s: cluster_state not ok on:$notok"
    exit 1
  fi
  sleep 1
done
