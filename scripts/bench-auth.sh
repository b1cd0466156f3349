#!/usr/bin/env bash
# bench-auth.sh measures what signing in and wildcard subscriptions cost,
# all in one run on one machine, each run against a freshly started
# router and one redis-server. Raw JSON lines go to $RESULTS; the medians
# are printed as Markdown (wsbench -summarize).
#
# Stages:
#   signin    SIGNIN_CLIENTS clients connect and subscribe to a service that
#             requires authentication, signing in with a ticket (validated
#             by a callback server), a JWT (HS256, a secret file), or a
#             connect-time check (the same callback server); "none" is a
#             service without authentication, for reference
#   wildcard  WILD_CLIENTS clients on "bench.*" (wildcard_subscriptions)
#             while WILD_MESSAGES messages go to WILD_TOPICS names, next to
#             the same clients on one exact name getting the same messages
#
# Environment (defaults in brackets): STAGES [signin wildcard]
#   SIGNIN_CLIENTS [10000]  WILD_CLIENTS [1000]  WILD_TOPICS [100]
#   WILD_MESSAGES [1000]  REPEAT [3]  REDIS_PORT [6395]  RUN_TIMEOUT [10m]
#   RESULTS [/tmp/wsbench-auth-DATE.jsonl]
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
STAGES=${STAGES:-signin wildcard}
SIGNIN_CLIENTS=${SIGNIN_CLIENTS:-10000}
WILD_CLIENTS=${WILD_CLIENTS:-1000}
WILD_TOPICS=${WILD_TOPICS:-100}
WILD_MESSAGES=${WILD_MESSAGES:-1000}
REPEAT=${REPEAT:-3}
REDIS_PORT=${REDIS_PORT:-6395}
RUN_TIMEOUT=${RUN_TIMEOUT:-10m}
RESULTS=${RESULTS:-${TMPDIR:-/tmp}/wsbench-auth-$(date +%Y%m%d-%H%M%S).jsonl}

# shellcheck source=scripts/servers.sh
script=bench-auth
. "$(dirname "${BASH_SOURCE[0]}")/servers.sh"

# start_router MODE: a fresh router whose service "bench" is set up for
# MODE (none, ticket, jwt, connect, wildcard, exact); sets server_pid and
# server_url.
start_router() {
	local port auth="" svc="require_authentication: true"
	port=$(free_port 9500)
	case $1 in
	none | exact) svc="require_authentication: false" ;;
	wildcard) svc="{require_authentication: false, wildcard_subscriptions: true}" ;;
	ticket) auth="authentication: {ticket: {validation_url: \"$callbacks/ticket\", auth_fields: [user_id]}}" ;;
	jwt) auth="authentication: {jwt: {hmac_secret_file: \"$tmp/jwt.secret\", auth_fields: [sub]}}" ;;
	connect) auth="authentication: {connect: {url: \"$callbacks/connect\", forward_headers: [Cookie]}}" ;;
	*) die "unknown mode $1" ;;
	esac
	[[ $svc == require_* ]] && svc="{$svc}"
	cat >"$tmp/wsrouter.yaml" <<-EOF
		listen: 127.0.0.1:$port
		redis: {url: "redis://127.0.0.1:$redis_port/0"}
		metrics: {listen: ""}
		log: {level: warn}
		http: {max_concurrency: 256}
		websocket: {send_queue: 4096, events_per_second: 100000, events_burst: 100000}
		$auth
		services:
		  bench: $svc
	EOF
	"$tmp/wsrouter" -config "$tmp/wsrouter.yaml" >"$tmp/wsrouter.log" 2>&1 &
	served "$port" "$tmp/wsrouter.log"
}

failed=0
# run MODE SCENARIO WSBENCH-FLAGS...: one run; its JSON line goes to $RESULTS.
run() {
	local mode=$1 scenario=$2 out
	shift 2
	start_router "$mode"
	if out=$("$tmp/wsbench" -url "$server_url" -redis "127.0.0.1:$redis_port" -label "$mode" \
		-scenario "$scenario" -pid "$server_pid" -timeout "$RUN_TIMEOUT" "$@"); then
		head -n 1 <<<"$out" >>"$RESULTS"
		log "$mode: $(tail -n 1 <<<"$out")"
	else
		failed=$((failed + 1))
		log "bench-auth: $mode $scenario failed; router log tail:"
		tail -n 5 "$tmp/wsrouter.log" >&2 || true
	fi
	stop_server
}

cd "$root"
command -v redis-server >/dev/null || die "redis-server is not installed"
ulimit -n "$(ulimit -Hn)"
(($(ulimit -n) >= SIGNIN_CLIENTS + 100)) || die "the open-file limit $(ulimit -n) is below $((SIGNIN_CLIENTS + 100))"

log "bench-auth: building"
go build -o "$tmp/wsbench" ./cmd/wsbench
go build -o "$tmp/wsrouter" ./cmd/wsrouter
head -c 48 /dev/urandom | base64 | tr -d '\n' >"$tmp/jwt.secret"

redis_port=$(free_port "$REDIS_PORT")
redis-server --port "$redis_port" --bind 127.0.0.1 --save '' --appendonly no \
	--client-output-buffer-limit 'pubsub 0 0 0' >"$tmp/redis.log" 2>&1 &
pids+=("$!")
wait_port "$redis_port" "$!" "$tmp/redis.log"
cb_port=$(free_port 9590)
"$tmp/wsbench" -callback-server "127.0.0.1:$cb_port" 2>"$tmp/callbacks.log" &
pids+=("$!")
wait_port "$cb_port" "$!" "$tmp/callbacks.log"
callbacks="http://127.0.0.1:$cb_port"
log "bench-auth: results in $RESULTS; load: $(uptime)"

for stage in $STAGES; do
	for ((i = 0; i < REPEAT; i++)); do
		case $stage in
		signin)
			run none signin -clients "$SIGNIN_CLIENTS" -topics 1 -messages 1
			run ticket signin -clients "$SIGNIN_CLIENTS" -topics 1 -messages 1 -auth ticket
			run jwt signin -clients "$SIGNIN_CLIENTS" -topics 1 -messages 1 -auth jwt -jwt-secret-file "$tmp/jwt.secret"
			run connect signin -clients "$SIGNIN_CLIENTS" -topics 1 -messages 1
			;;
		wildcard)
			run exact wildcard -clients "$WILD_CLIENTS" -topics 1 -messages "$WILD_MESSAGES" -service bench
			run wildcard wildcard -clients "$WILD_CLIENTS" -topics "$WILD_TOPICS" -messages "$WILD_MESSAGES" -wildcard
			;;
		*) die "unknown stage $stage (want signin or wildcard)" ;;
		esac
	done
done
log "bench-auth: load after: $(uptime)"
"$tmp/wsbench" -summarize "$RESULTS" -baseline none
((failed == 0)) || die "$failed runs failed"
