#!/usr/bin/env bash
# bench.sh runs the wsbench scenarios against wsrouter and the reference floor
# server (../shared/floor) on this machine and prints a table of medians.
#
# Every run gets a freshly started server, a private redis-server and the
# same load; the raw JSON lines go to $RESULTS. Scenarios:
#   burst   CLIENTS clients, 1 topic, BURST_MESSAGES messages as fast as possible
#           (its connect phase also gives idle RSS per connection and the
#           connect+subscribe time of CLIENTS clients)
#   steady  CLIENTS clients, 1 topic, STEADY_RATE msg/s for STEADY_SECONDS
#   topics  TOPICS topics x PER_TOPIC clients, TOPIC_MESSAGES messages
# TODO: scenario "authorized": a service with an authorizer pointing to a
# tiny local HTTP server, to measure subscribe throughput with a callback.
#
# Environment (defaults in brackets):
#   SERVERS [floor wsrouter]   SCENARIOS [burst steady topics]   RUNS [3]
#   CLIENTS [10000]  BURST_MESSAGES [200]  STEADY_RATE [5]  STEADY_SECONDS [10]
#   TOPICS [1000]  PER_TOPIC [10]  TOPIC_MESSAGES [20000]  PAYLOAD [100]
#   REDIS_PORT [6390]  RUN_TIMEOUT [5m]  RESULTS [/tmp/wsbench-DATE.jsonl]
#   FLOOR_SRC [REPO/../shared/floor]  FLOOR_BIN [/tmp/floor]
# A quick run: SERVERS=floor RUNS=1 CLIENTS=1000 TOPICS=100 scripts/bench.sh
set -euo pipefail

root=$(git rev-parse --show-toplevel)
SERVERS=${SERVERS:-floor wsrouter}
SCENARIOS=${SCENARIOS:-burst steady topics}
RUNS=${RUNS:-3}
CLIENTS=${CLIENTS:-10000}
BURST_MESSAGES=${BURST_MESSAGES:-200}
STEADY_RATE=${STEADY_RATE:-5}
STEADY_SECONDS=${STEADY_SECONDS:-10}
TOPICS=${TOPICS:-1000}
PER_TOPIC=${PER_TOPIC:-10}
TOPIC_MESSAGES=${TOPIC_MESSAGES:-20000}
PAYLOAD=${PAYLOAD:-100}
REDIS_PORT=${REDIS_PORT:-6390}
RUN_TIMEOUT=${RUN_TIMEOUT:-5m}
RESULTS=${RESULTS:-${TMPDIR:-/tmp}/wsbench-$(date +%Y%m%d-%H%M%S).jsonl}
FLOOR_SRC=${FLOOR_SRC:-$root/../shared/floor}
FLOOR_BIN=${FLOOR_BIN:-/tmp/floor}

tmp=$(mktemp -d "${TMPDIR:-/tmp}/wsbench.XXXXXX")
pids=()

cleanup() {
	local p
	for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
	for p in "${pids[@]}"; do wait "$p" 2>/dev/null || true; done
	rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

log() { printf '%s\n' "$*" >&2; }
die() { log "bench: $*"; exit 1; }

# forget PID: drop it from the cleanup list once it has been reaped.
forget() {
	local keep=() p
	for p in "${pids[@]}"; do [[ $p == "$1" ]] || keep+=("$p"); done
	pids=("${keep[@]}")
}

port_open() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

# free_port FROM: the first loopback port at or above FROM nobody listens on.
free_port() {
	local p
	for ((p = $1; p < $1 + 200; p++)); do
		port_open "$p" || { echo "$p"; return; }
	done
	die "no free port in $1..$(($1 + 199))"
}

# wait_port PORT PID LOG: wait until PID listens on PORT, at most 10 s.
wait_port() {
	local i
	for ((i = 0; i < 100; i++)); do
		port_open "$1" && return
		kill -0 "$2" 2>/dev/null || { tail -n 20 "$3" >&2; die "process $2 exited before listening on $1"; }
		sleep 0.1
	done
	tail -n 20 "$3" >&2
	die "nothing listens on port $1 after 10s"
}

# start_server NAME: start a fresh server; sets server_pid and server_url.
start_server() {
	local port logf
	port=$(free_port 9300)
	logf="$tmp/$1.log"
	case $1 in
	floor)
		"$FLOOR_BIN" -addr "127.0.0.1:$port" -redis "127.0.0.1:$redis_port" -queue 4096 >"$logf" 2>&1 &
		;;
	wsrouter)
		cat >"$tmp/wsrouter.yaml" <<-EOF
			listen: 127.0.0.1:$port
			redis: {url: "redis://127.0.0.1:$redis_port/0"}
			metrics: {listen: ""}
			log: {level: warn}
			websocket: {send_queue: 4096, events_per_second: 100000, events_burst: 100000, max_message_bytes: 65536}
			services:
			  bench: {require_authentication: false}
		EOF
		"$tmp/wsrouter" -config "$tmp/wsrouter.yaml" >"$logf" 2>&1 &
		;;
	*) die "unknown server $1 (want floor or wsrouter)" ;;
	esac
	server_pid=$!
	pids+=("$server_pid")
	server_url="ws://127.0.0.1:$port/"
	wait_port "$port" "$server_pid" "$logf"
}

stop_server() {
	kill "$server_pid" 2>/dev/null || true
	wait "$server_pid" 2>/dev/null || true
	forget "$server_pid"
}

# scenario_flags NAME: the wsbench load flags of a scenario.
scenario_flags() {
	case $1 in
	burst) echo "-clients $CLIENTS -topics 1 -messages $BURST_MESSAGES -rate 0" ;;
	steady) echo "-clients $CLIENTS -topics 1 -messages $((STEADY_RATE * STEADY_SECONDS)) -rate $STEADY_RATE" ;;
	topics) echo "-clients $((TOPICS * PER_TOPIC)) -topics $TOPICS -messages $TOPIC_MESSAGES -rate 0" ;;
	*) die "unknown scenario $1 (want burst, steady or topics)" ;;
	esac
}

cd "$root"
ulimit -n "$(ulimit -Hn)"
for s in $SCENARIOS; do scenario_flags "$s" >/dev/null; done

log "bench: building"
go build -o "$tmp/wsbench" ./cmd/wsbench
for s in $SERVERS; do
	case $s in
	floor) (cd "$FLOOR_SRC" && go build -o "$FLOOR_BIN" .) ;;
	wsrouter) go build -o "$tmp/wsrouter" ./cmd/wsrouter ;;
	*) die "unknown server $s (want floor or wsrouter)" ;;
	esac
done

redis_port=$(free_port "$REDIS_PORT")
# No output-buffer limit for Pub/Sub clients: a burst must reach the server
# under test rather than have Redis cut its subscriber connection.
redis-server --port "$redis_port" --bind 127.0.0.1 --save '' --appendonly no \
	--client-output-buffer-limit 'pubsub 0 0 0' >"$tmp/redis.log" 2>&1 &
redis_pid=$!
pids+=("$redis_pid")
wait_port "$redis_port" "$redis_pid" "$tmp/redis.log"
log "bench: redis on 127.0.0.1:$redis_port, results in $RESULTS"

failed=0
for scenario in $SCENARIOS; do
	# shellcheck disable=SC2207 # the flags are plain words
	flags=($(scenario_flags "$scenario"))
	for ((run = 1; run <= RUNS; run++)); do
		for server in $SERVERS; do
			start_server "$server"
			if out=$("$tmp/wsbench" -url "$server_url" -redis "127.0.0.1:$redis_port" \
				-label "$server" -scenario "$scenario" -pid "$server_pid" \
				-payload "$PAYLOAD" -timeout "$RUN_TIMEOUT" "${flags[@]}"); then
				head -n 1 <<<"$out" >>"$RESULTS"
				log "run $run/$RUNS $(tail -n 1 <<<"$out")"
			else
				failed=$((failed + 1))
				log "run $run/$RUNS $server $scenario failed; server log tail:"
				tail -n 5 "$tmp/$server.log" >&2 || true
			fi
			kill -0 "$server_pid" 2>/dev/null || log "bench: $server exited during the run"
			stop_server
		done
	done
done

echo
echo "Medians over $RUNS run(s) (min–max), from $RESULTS."
echo "Idle memory is the burst rows' RSS KiB/conn; connect time of $CLIENTS clients is their connect+subscribe s."
echo
if [[ -s $RESULTS ]]; then
	"$tmp/wsbench" -summarize "$RESULTS" -baseline floor
fi
((failed == 0)) || die "$failed run(s) failed"
