#!/usr/bin/env bash
# soak.sh runs the soak test (cmd/wssoak) against a freshly started router:
# a private redis-server on a free loopback port (the embedded Redis when
# no redis-server is installed), bin/wsrouter with a no-auth service
# "soak" and metrics on, then wssoak with the router's PID. Everything
# listens on 127.0.0.1 and everything started is stopped on exit.
#
# Usage: scripts/soak.sh [wssoak flags]       e.g. scripts/soak.sh -duration 2m
# Environment (defaults in brackets):
#   DURATION [10m]   CLIENTS [200]   TOPICS [50]   RATE [200]
#   PORT_BASE [9300]: ports are looked for from here up
#   WSROUTER [built from ./cmd/wsrouter into a temporary directory]
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
DURATION=${DURATION:-10m}
CLIENTS=${CLIENTS:-200}
TOPICS=${TOPICS:-50}
RATE=${RATE:-200}
PORT_BASE=${PORT_BASE:-9300}
WSROUTER=${WSROUTER:-}

# shellcheck source=scripts/servers.sh
script=soak
. "$(dirname "${BASH_SOURCE[0]}")/servers.sh"

cd "$root"
if [[ -z $WSROUTER ]]; then
	WSROUTER=$tmp/wsrouter
	go build -o "$WSROUTER" ./cmd/wsrouter
fi
go build -o "$tmp/wssoak" ./cmd/wssoak

redis_port=$(free_port "$PORT_BASE")
ws_port=$(free_port $((redis_port + 1)))
metrics_port=$(free_port $((ws_port + 1)))

if command -v redis-server >/dev/null; then
	redis_url="redis://127.0.0.1:$redis_port/0"
	redis-server --port "$redis_port" --bind 127.0.0.1 --save '' --appendonly no \
		--protected-mode no >"$tmp/redis.log" 2>&1 &
	pids+=($!)
	wait_port "$redis_port" "$!" "$tmp/redis.log"
else
	log "soak: no redis-server on PATH; the router runs the embedded Redis"
	redis_url="embedded://127.0.0.1:$redis_port"
fi

cat >"$tmp/wsrouter.yaml" <<EOF
listen: 127.0.0.1:$ws_port
websocket:
  events_per_second: 1000
  events_burst: 1000
redis:
  url: $redis_url
  channel_prefix: "soak:"
metrics:
  listen: 127.0.0.1:$metrics_port
log: {level: warn, format: text}
shutdown_timeout: 10s
services:
  soak:
    require_authentication: false
EOF

"$WSROUTER" -config "$tmp/wsrouter.yaml" >"$tmp/wsrouter.log" 2>&1 &
router_pid=$!
pids+=("$router_pid")
wait_port "$ws_port" "$router_pid" "$tmp/wsrouter.log"
# Ready once Redis is connected and the delivery probe passed.
for ((i = 0; i < 100; i++)); do
	[[ $(curl -fsS "http://127.0.0.1:$metrics_port/readyz" 2>/dev/null) == ready ]] && break
	sleep 0.1
done
log "soak: router pid $router_pid on 127.0.0.1:$ws_port, redis $redis_url, $DURATION"

status=0
"$tmp/wssoak" -url "ws://127.0.0.1:$ws_port/" -redis "127.0.0.1:$redis_port" -prefix "soak:" \
	-service soak -metrics "http://127.0.0.1:$metrics_port/metrics" -pid "$router_pid" \
	-duration "$DURATION" -clients "$CLIENTS" -topics "$TOPICS" -rate "$RATE" "$@" || status=$?
kill -0 "$router_pid" 2>/dev/null || { status=1; log "soak: the router exited during the run"; }
if ((status != 0)); then
	log "soak: router log tail:"
	tail -n 20 "$tmp/wsrouter.log" >&2 || true
fi
exit "$status"
