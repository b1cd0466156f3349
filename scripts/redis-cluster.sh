#!/usr/bin/env bash
# redis-cluster.sh starts or stops a local Redis Cluster for development and
# tests: 3 masters and 3 replicas of redis-server on loopback ports
# PORT..PORT+5, created with `redis-cli --cluster create --cluster-replicas 1`.
#
#   scripts/redis-cluster.sh start   # prints the addresses once the cluster is ok
#   scripts/redis-cluster.sh stop    # stops the six servers, removes DIR; safe to repeat
#
# Point wsrouter at it with
#
#   redis:
#     cluster: {addrs: [127.0.0.1:7000, 127.0.0.1:7001, 127.0.0.1:7002]}
#
# Environment (defaults in brackets):
#   PORT [7000]          first port; the servers use PORT..PORT+5
#   DIR  [${TMPDIR:-/tmp}/wsrouter-cluster-PORT]   data, logs and pid files
#   NODE_TIMEOUT [2000]  cluster-node-timeout in ms: how long a master may be
#                        silent before its replica is promoted (replicas may
#                        always take over: cluster-replica-validity-factor 0)
set -euo pipefail

PORT="${PORT:-7000}"
DIR="${DIR:-${TMPDIR:-/tmp}/wsrouter-cluster-$PORT}"
NODE_TIMEOUT="${NODE_TIMEOUT:-2000}"
ports=()
for i in 0 1 2 3 4 5; do ports+=($((PORT + i))); done

die() { echo "redis-cluster: $*" >&2; exit 1; }

# running PORT: is the server we started on PORT alive?
running() {
  local pidfile="$DIR/$1/redis.pid"
  [ -f "$pidfile" ] && kill -0 "$(cat "$pidfile")" 2>/dev/null
}

# wait_for PORT CHECK...: run redis-cli on PORT until its output matches.
wait_for() {
  local port=$1 want=$2; shift 2
  for _ in $(seq 1 200); do
    if redis-cli -p "$port" "$@" 2>/dev/null | grep -q "$want"; then return 0; fi
    sleep 0.05
  done
  return 1
}

start() {
  command -v redis-server >/dev/null || die "redis-server is not on PATH"
  command -v redis-cli >/dev/null || die "redis-cli is not on PATH"
  local all_running=1
  for p in "${ports[@]}"; do running "$p" || all_running=0; done
  if [ "$all_running" = 1 ] && redis-cli -p "$PORT" cluster info 2>/dev/null | grep -q 'cluster_state:ok'; then
    echo "redis-cluster: already running in $DIR"
  else
    stop >/dev/null
    mkdir -p "$DIR"
    for p in "${ports[@]}"; do
      mkdir -p "$DIR/$p"
      redis-server --port "$p" --bind 127.0.0.1 --protected-mode no \
        --cluster-enabled yes --cluster-config-file nodes.conf \
        --cluster-node-timeout "$NODE_TIMEOUT" --cluster-replica-validity-factor 0 \
        --save "" --appendonly no --dir "$DIR/$p" \
        --daemonize yes --pidfile "$DIR/$p/redis.pid" --logfile "$DIR/$p/redis.log"
    done
    for p in "${ports[@]}"; do
      wait_for "$p" PONG ping || die "redis-server on port $p did not start (see $DIR/$p/redis.log)"
    done
    local addrs=()
    for p in "${ports[@]}"; do addrs+=("127.0.0.1:$p"); done
    redis-cli --cluster create "${addrs[@]}" --cluster-replicas 1 --cluster-yes >"$DIR/create.log" 2>&1 ||
      die "redis-cli --cluster create failed (see $DIR/create.log)"
    for p in "${ports[@]}"; do
      wait_for "$p" 'cluster_state:ok' cluster info || die "the cluster did not become ok on port $p"
    done
    # Every node must know the three masters before a client asks it, and
    # every replica must have synced, or it could not take over.
    for p in "${ports[@]}"; do
      for _ in $(seq 1 200); do
        [ "$(redis-cli -p "$p" cluster shards 2>/dev/null | grep -c '^master$')" -ge 3 ] && break
        sleep 0.05
      done
      if redis-cli -p "$p" role 2>/dev/null | head -n 1 | grep -q slave; then
        wait_for "$p" 'master_link_status:up' info replication || die "the replica on port $p did not sync"
      fi
    done
  fi
  echo "redis-cluster: masters and replicas on 127.0.0.1:${ports[0]}-${ports[5]} (data in $DIR)"
}

stop() {
  for p in "${ports[@]}"; do
    local pidfile="$DIR/$p/redis.pid"
    if running "$p"; then
      local pid
      pid=$(cat "$pidfile")
      kill "$pid" 2>/dev/null || true
      for _ in $(seq 1 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.05; done
      kill -9 "$pid" 2>/dev/null || true
    fi
  done
  rm -rf "$DIR"
  echo "redis-cluster: stopped"
}

case "${1:-}" in
  start) start ;;
  stop) stop ;;
  *) die "usage: $0 start|stop" ;;
esac
