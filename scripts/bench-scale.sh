#!/usr/bin/env bash
# bench-scale.sh measures how wsrouter's costs grow with the work, against
# the reference floor server (../shared/floor) in the same run, and what
# permessage-deflate costs. It prints one Markdown row per run
# (wsbench -summarize -scale) and keeps the raw JSON lines in $RESULTS.
#
# Stages (each run gets a freshly started server; one redis-server serves
# all of them):
#   conns        SIZES clients on one topic, a steady stream of STEADY_RATE
#                msg/s for STEADY_SECONDS: idle RSS per connection,
#                connect+subscribe time, deliveries/s and p99 per size
#   subs         SUBS_CLIENTS clients with each of SUBS subscriptions per
#                client (one gets the stream, the others nothing), steady
#   payload      PAYLOAD_CLIENTS clients, messages of each of PAYLOADS bytes
#                as fast as possible, PAYLOAD_MB megabytes of deliveries
#                (at least 20 and at most 200 messages)
#   compression  wsrouter only, with each websocket.compression of
#                COMPRESSION, COMP_CLIENTS clients offering it, messages of
#                JSON records of each of COMP_PAYLOADS bytes as fast as
#                possible, COMP_MB megabytes of deliveries (20 to 1000
#                messages); compression_min_bytes is COMP_MIN_BYTES
#
# A size the open-file limits cannot hold (this shell's hard limit, which
# the servers and wsbench inherit) is skipped with what to raise. Above
# 20,000 clients wsbench spreads its sockets over 127.0.0.2, 127.0.0.3, …
# so that no source address runs out of ephemeral ports.
#
# Environment (defaults in brackets):
#   STAGES [conns subs payload compression]   SERVERS [floor wsrouter]
#   SIZES [1000 10000 50000 100000]  STEADY_RATE [1]  STEADY_SECONDS [20]
#   SUBS [1 10 100]  SUBS_CLIENTS [2000]
#   PAYLOADS [100 4096 65536]  PAYLOAD_CLIENTS [1000]  PAYLOAD_MB [400]
#   COMPRESSION [none no_context_takeover context_takeover]
#   COMP_PAYLOADS [100 1024 16384]  COMP_CLIENTS [500]  COMP_MB [100]
#   COMP_MIN_BYTES [0]  REDIS_PORT [6391]  RUN_TIMEOUT [10m]
#   ROUTER_GODEBUG []: wsrouter's GODEBUG (e.g. adaptivestackstart=0, see BENCHMARKS.md)
#   RESULTS [/tmp/wsbench-scale-DATE.jsonl]  FLOOR_SRC [REPO/../shared/floor]
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
STAGES=${STAGES:-conns subs payload compression}
SERVERS=${SERVERS:-floor wsrouter}
SIZES=${SIZES:-1000 10000 50000 100000}
STEADY_RATE=${STEADY_RATE:-1}
STEADY_SECONDS=${STEADY_SECONDS:-20}
SUBS=${SUBS:-1 10 100}
SUBS_CLIENTS=${SUBS_CLIENTS:-2000}
PAYLOADS=${PAYLOADS:-100 4096 65536}
PAYLOAD_CLIENTS=${PAYLOAD_CLIENTS:-1000}
PAYLOAD_MB=${PAYLOAD_MB:-400}
COMPRESSION=${COMPRESSION:-none no_context_takeover context_takeover}
COMP_PAYLOADS=${COMP_PAYLOADS:-100 1024 16384}
COMP_CLIENTS=${COMP_CLIENTS:-500}
COMP_MB=${COMP_MB:-100}
COMP_MIN_BYTES=${COMP_MIN_BYTES:-0}
REDIS_PORT=${REDIS_PORT:-6391}
RUN_TIMEOUT=${RUN_TIMEOUT:-10m}
RESULTS=${RESULTS:-${TMPDIR:-/tmp}/wsbench-scale-$(date +%Y%m%d-%H%M%S).jsonl}
FLOOR_SRC=${FLOOR_SRC:-$root/../shared/floor}
ROUTER_GODEBUG=${ROUTER_GODEBUG-}

# shellcheck source=scripts/servers.sh
script=bench-scale
. "$(dirname "${BASH_SOURCE[0]}")/servers.sh"

# start_server NAME [COMPRESSION]: start a fresh server; sets server_pid
# and server_url.
start_server() {
	local port logf
	port=$(free_port 9400)
	logf="$tmp/$1.log"
	case $1 in
	floor)
		"$tmp/floor" -addr "127.0.0.1:$port" -redis "127.0.0.1:$redis_port" -queue 4096 >"$logf" 2>&1 &
		;;
	wsrouter)
		cat >"$tmp/wsrouter.yaml" <<-EOF
			listen: 127.0.0.1:$port
			redis: {url: "redis://127.0.0.1:$redis_port/0"}
			metrics: {listen: ""}
			log: {level: warn}
			websocket: {send_queue: 4096, events_per_second: 100000, events_burst: 100000, max_message_bytes: 65536,
			  compression: ${2:-none}, compression_min_bytes: $COMP_MIN_BYTES}
			services:
			  bench:
			    require_authentication: false
		EOF
		GODEBUG=$ROUTER_GODEBUG "$tmp/wsrouter" -config "$tmp/wsrouter.yaml" >"$logf" 2>&1 &
		;;
	*) die "unknown server $1 (want floor or wsrouter)" ;;
	esac
	served "$port" "$logf"
}

failed=0
# run SERVER SCENARIO COMPRESSION WSBENCH-FLAGS...: one run against a fresh
# server; its JSON line goes to $RESULTS.
run() {
	local server=$1 scenario=$2 comp=$3 out
	shift 3
	start_server "$server" "$comp"
	if out=$("$tmp/wsbench" -url "$server_url" -redis "127.0.0.1:$redis_port" -label "$server" \
		-scenario "$scenario" -pid "$server_pid" -timeout "$RUN_TIMEOUT" -compression "$comp" "$@"); then
		head -n 1 <<<"$out" >>"$RESULTS"
		log "$(tail -n 1 <<<"$out")"
	else
		failed=$((failed + 1))
		log "bench-scale: $server $scenario $* failed; server log tail:"
		tail -n 5 "$tmp/$server.log" >&2 || true
	fi
	stop_server
}

# messages MB CLIENTS PAYLOAD LOW HIGH: how many messages make MB megabytes
# of deliveries, within LOW..HIGH.
messages() {
	local n=$(($1 * 1000000 / ($2 * $3)))
	echo $((n < $4 ? $4 : n > $5 ? $5 : n))
}

# fits N: whether N clients fit this shell's open-file limit (the servers
# and wsbench inherit it); says what to raise when not.
fits() {
	(($(ulimit -n) >= $1 + 100)) && return 0
	log "bench-scale: skipping $1 clients: the open-file limit is $(ulimit -n) (hard $(ulimit -Hn)), and the server and wsbench each need $(($1 + 100))."
	log "  Raise the hard limit of the shell that runs this: as root \`ulimit -Hn $(($1 + 100))\` (a container's is set from outside it,"
	log "  e.g. docker run --ulimit nofile=$(($1 + 100)):$(($1 + 100))), LimitNOFILE= in a systemd unit, or nofile in /etc/security/limits.conf."
	return 1
}

cd "$root"
command -v go >/dev/null || die "go is not installed"
command -v redis-server >/dev/null || die "redis-server is not installed (e.g. apt-get install redis-server)"
ulimit -n "$(ulimit -Hn)"
if [[ " $SERVERS " == *" floor "* && ! -d $FLOOR_SRC ]]; then
	log "bench-scale: no reference server at $FLOOR_SRC; measuring wsrouter alone (set FLOOR_SRC for the ratios)"
	SERVERS=$(sed 's/\bfloor\b//' <<<"$SERVERS")
fi

log "bench-scale: building"
go build -o "$tmp/wsbench" ./cmd/wsbench
go build -o "$tmp/wsrouter" ./cmd/wsrouter
if [[ " $SERVERS " == *" floor "* ]]; then
	(cd "$FLOOR_SRC" && go build -o "$tmp/floor" .)
fi

redis_port=$(free_port "$REDIS_PORT")
redis-server --port "$redis_port" --bind 127.0.0.1 --save '' --appendonly no \
	--client-output-buffer-limit 'pubsub 0 0 0' >"$tmp/redis.log" 2>&1 &
pids+=("$!")
wait_port "$redis_port" "$!" "$tmp/redis.log"
log "bench-scale: redis on 127.0.0.1:$redis_port, results in $RESULTS; load: $(uptime)"

steady="-topics 1 -rate $STEADY_RATE -messages $((STEADY_RATE * STEADY_SECONDS))"
for stage in $STAGES; do
	case $stage in
	conns)
		for n in $SIZES; do
			fits "$n" || continue
			# shellcheck disable=SC2086 # the flags are plain words
			for s in $SERVERS; do run "$s" conns none -clients "$n" $steady; done
		done
		;;
	subs)
		fits "$SUBS_CLIENTS" || continue
		for k in $SUBS; do
			# shellcheck disable=SC2086
			for s in $SERVERS; do run "$s" subs none -clients "$SUBS_CLIENTS" -subs "$k" $steady; done
		done
		;;
	payload)
		fits "$PAYLOAD_CLIENTS" || continue
		for p in $PAYLOADS; do
			for s in $SERVERS; do
				run "$s" payload none -clients "$PAYLOAD_CLIENTS" -topics 1 -rate 0 -payload "$p" \
					-messages "$(messages "$PAYLOAD_MB" "$PAYLOAD_CLIENTS" "$p" 20 200)"
			done
		done
		;;
	compression)
		fits "$COMP_CLIENTS" || continue
		for p in $COMP_PAYLOADS; do
			for c in $COMPRESSION; do
				run wsrouter compression "$c" -clients "$COMP_CLIENTS" -topics 1 -rate 0 -payload "$p" -records \
					-messages "$(messages "$COMP_MB" "$COMP_CLIENTS" "$p" 20 1000)"
			done
		done
		;;
	*) die "unknown stage $stage (want conns, subs, payload or compression)" ;;
	esac
done
[[ -s $RESULTS ]] || die "no run succeeded"

echo
echo "One row per run, from $RESULTS; load at the end: $(uptime)"
echo
"$tmp/wsbench" -summarize "$RESULTS" -scale
((failed == 0)) || die "$failed run(s) failed"
