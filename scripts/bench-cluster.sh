#!/usr/bin/env bash
# bench-cluster.sh compares one wsrouter node on one Redis with the same
# node on a 3-master Redis Cluster (scripts/redis-cluster.sh), on this
# machine, and measures the CPU each Redis spends per million publishes.
# It prints one line per run (wsbench's JSON plus the Redis CPU) and keeps
# them in $RESULTS.
#
# Scenarios (each run gets a freshly started router):
#   burst   CLIENTS clients on 1 topic, BURST_MESSAGES messages at once
#   topics  TOPICS topics x PER_TOPIC clients, TOPIC_MESSAGES messages at once
#   publish TOPICS topics x 1 client, PUBLISH_MESSAGES messages at once: the
#           Redis CPU per million publishes (redis_cpu_s, one figure per
#           Redis process: the single server, or each master)
#
# Environment (defaults in brackets):
#   RUNS [3]  SCENARIOS [burst topics publish]  CLIENTS [2000]  BURST_MESSAGES [200]  TOPICS [200]  PER_TOPIC [10]
#   TOPIC_MESSAGES [20000]  PUBLISH_MESSAGES [300000]  PAYLOAD [100]  REDIS_PORT [6391]  CLUSTER_PORT [7300]
#   RESULTS [/tmp/wsbench-cluster-DATE.jsonl]
set -euo pipefail
cd "$(dirname "$0")/.."

RUNS=${RUNS:-3}
SCENARIOS=${SCENARIOS:-burst topics publish}
CLIENTS=${CLIENTS:-2000}
BURST_MESSAGES=${BURST_MESSAGES:-200}
TOPICS=${TOPICS:-200}
PER_TOPIC=${PER_TOPIC:-10}
TOPIC_MESSAGES=${TOPIC_MESSAGES:-20000}
PUBLISH_MESSAGES=${PUBLISH_MESSAGES:-300000}
PAYLOAD=${PAYLOAD:-100}
REDIS_PORT=${REDIS_PORT:-6391}
CLUSTER_PORT=${CLUSTER_PORT:-7300}
RESULTS=${RESULTS:-${TMPDIR:-/tmp}/wsbench-cluster-$(date +%Y%m%d-%H%M%S).jsonl}

tmp=$(mktemp -d)
redis_pid=""
router_pid=""
cleanup() {
  [ -n "$router_pid" ] && kill "$router_pid" 2>/dev/null || true
  [ -n "$redis_pid" ] && kill "$redis_pid" 2>/dev/null || true
  PORT=$CLUSTER_PORT DIR="$tmp/cluster" scripts/redis-cluster.sh stop >/dev/null 2>&1 || true
  rm -rf "$tmp"
}
trap cleanup EXIT

go build -o "$tmp/wsrouter" ./cmd/wsrouter
go build -o "$tmp/wsbench" ./cmd/wsbench

redis-server --port "$REDIS_PORT" --bind 127.0.0.1 --save "" --appendonly no \
  --client-output-buffer-limit "pubsub 0 0 0" >"$tmp/redis.log" 2>&1 &
redis_pid=$!
PORT=$CLUSTER_PORT DIR="$tmp/cluster" scripts/redis-cluster.sh start >/dev/null
for p in $(seq "$CLUSTER_PORT" $((CLUSTER_PORT + 5))); do
  redis-cli -p "$p" config set client-output-buffer-limit "pubsub 0 0 0" >/dev/null
done
sleep 0.5

# free_port prints a loopback port that was free a moment ago.
free_port() { python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }

# cpu_ticks PID...: user+system clock ticks of the processes, one per line.
cpu_ticks() { for pid in "$@"; do awk '{print $14 + $15}' "/proc/$pid/stat"; done; }
masters() { redis-cli -p "$CLUSTER_PORT" cluster nodes | awk '/master/ {split($2, a, "[:@]"); print a[2]}'; }
pid_of_port() { cat "$tmp/cluster/$1/redis.pid"; }

run() { # run MODE SCENARIO CLIENTS TOPICS MESSAGES
  local mode=$1 scenario=$2 clients=$3 topics=$4 messages=$5
  local ws_port metrics_port redis_section pids=() redis_arg
  ws_port=$(free_port)
  metrics_port=$(free_port)
  if [ "$mode" = single ]; then
    redis_section="  url: redis://127.0.0.1:$REDIS_PORT/0"
    pids=("$redis_pid")
    redis_arg=(-redis "127.0.0.1:$REDIS_PORT")
  else
    redis_section="  cluster: {addrs: [127.0.0.1:$CLUSTER_PORT]}"
    for p in $(masters); do pids+=("$(pid_of_port "$p")"); done
    redis_arg=(-redis "127.0.0.1:$CLUSTER_PORT" -redis-cluster)
  fi
  cat >"$tmp/wsrouter.yaml" <<EOF
listen: 127.0.0.1:$ws_port
metrics: {listen: 127.0.0.1:$metrics_port}
websocket: {events_per_second: 100000, events_burst: 100000, send_queue: 100000}
redis:
$redis_section
log: {level: warn}
services:
  bench: {require_authentication: false}
EOF
  "$tmp/wsrouter" -config "$tmp/wsrouter.yaml" >"$tmp/router.log" 2>&1 &
  router_pid=$!
  for _ in $(seq 1 200); do
    curl -fs "http://127.0.0.1:$metrics_port/readyz" >/dev/null 2>&1 && break
    sleep 0.05
  done
  if ! curl -fs "http://127.0.0.1:$metrics_port/readyz" >/dev/null 2>&1; then
    echo "bench-cluster: the router did not become ready:" >&2
    tail -n 20 "$tmp/router.log" >&2
    exit 1
  fi
  local before after out ports=()
  if [ "$mode" = single ]; then ports=("$REDIS_PORT"); else mapfile -t ports < <(masters); fi
  for p in "${ports[@]}"; do redis-cli -p "$p" config resetstat >/dev/null; done
  mapfile -t before < <(cpu_ticks "${pids[@]}")
  out=$("$tmp/wsbench" -url "ws://127.0.0.1:$ws_port/" "${redis_arg[@]}" -label "wsrouter-$mode" \
    -scenario "$scenario" -clients "$clients" -topics "$topics" -messages "$messages" \
    -payload "$PAYLOAD" -pid "$router_pid" -json-only)
  mapfile -t after < <(cpu_ticks "${pids[@]}")
  # usec_per_call of (S)PUBLISH on each Redis: the command alone, without
  # reading it or writing to subscribers and replicas.
  local percall=""
  for p in "${ports[@]}"; do
    percall="$percall$(redis-cli -p "$p" info commandstats | tr -d '\r' | awk -F'[=,]' '/^cmdstat_s?publish:/ {printf "%s", $6}') "
  done
  local dropped
  dropped=$(curl -fs "http://127.0.0.1:$metrics_port/metrics" | awk '/^wsrouter_dropped_total/ {n += $2} END {print n + 0}')
  kill "$router_pid"; wait "$router_pid" 2>/dev/null || true; router_pid=""
  local hz cpu=""
  hz=$(getconf CLK_TCK)
  for i in "${!pids[@]}"; do
    cpu="$cpu$(awk -v a="${after[$i]}" -v b="${before[$i]}" -v hz="$hz" 'BEGIN {printf "%.2f", (a - b) / hz}') "
  done
  echo "{\"mode\":\"$mode\",\"scenario\":\"$scenario\",\"redis_cpu_s\":\"${cpu% }\",\"router_dropped\":$dropped,\"publish_usec_per_call\":\"${percall% }\",\"load\":\"$(cut -d' ' -f1-3 /proc/loadavg)\",\"wsbench\":$out}" | tee -a "$RESULTS"
}

for _ in $(seq 1 "$RUNS"); do
  for mode in single cluster; do
    for scenario in $SCENARIOS; do
      case $scenario in
        burst) run "$mode" burst "$CLIENTS" 1 "$BURST_MESSAGES" ;;
        topics) run "$mode" topics $((TOPICS * PER_TOPIC)) "$TOPICS" "$TOPIC_MESSAGES" ;;
        publish) run "$mode" publish "$TOPICS" "$TOPICS" "$PUBLISH_MESSAGES" ;;
      esac
    done
  done
done
echo "bench-cluster: results in $RESULTS" >&2
