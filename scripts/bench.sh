#!/usr/bin/env bash
# bench.sh runs the wsbench scenarios against wsrouter and the reference
# floor server (../shared/floor) on this machine, prints a table of medians
# and the performance targets, and writes docs/BENCHMARKS.md.
#
# Every run gets a freshly started server and the same load; one
# redis-server serves all runs. The raw JSON lines go to $RESULTS.
# Scenarios:
#   burst   CLIENTS clients, 1 topic, BURST_MESSAGES messages as fast as possible
#           (its connect phase also gives idle RSS per connection and the
#           connect+subscribe time of CLIENTS clients)
#   steady  CLIENTS clients, 1 topic, STEADY_RATE msg/s for STEADY_SECONDS
#   topics  TOPICS topics x PER_TOPIC clients, TOPIC_MESSAGES messages
# Servers:
#   floor            the reference server, built from FLOOR_SRC (skipped
#                    with a note when that directory does not exist)
#   wsrouter         no callbacks configured
#   wsrouter-timers  the service has an authorizer with renewal and an
#                    on_heartbeat with its period (both long), answered by
#                    `wsbench -callback-server` started by this script
#
# Environment (defaults in brackets):
#   SERVERS [floor wsrouter wsrouter-timers]   SCENARIOS [burst steady topics]
#   RUNS [3]  CLIENTS [10000]  BURST_MESSAGES [200]  STEADY_RATE [5]
#   STEADY_SECONDS [10]  TOPICS [1000]  PER_TOPIC [10]  TOPIC_MESSAGES [20000]
#   PAYLOAD [100]  REDIS_PORT [6390]  RUN_TIMEOUT [5m]
#   ROUTER_GODEBUG []: wsrouter's GODEBUG (e.g. adaptivestackstart=0, see BENCHMARKS.md)
#   RESULTS [/tmp/wsbench-DATE.jsonl]  FLOOR_SRC [REPO/../shared/floor]
#   DOC [docs/BENCHMARKS.md at the default sizes, else none]: the report to
#       write; its part below the "<!-- notes -->" line is kept
# A quick run: RUNS=1 CLIENTS=1000 TOPICS=100 scripts/bench.sh
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
SERVERS=${SERVERS:-floor wsrouter wsrouter-timers}
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
ROUTER_GODEBUG=${ROUTER_GODEBUG-}

# The published report is rewritten only by a run at the published sizes.
sizes="$RUNS $CLIENTS $BURST_MESSAGES $STEADY_RATE $STEADY_SECONDS $TOPICS $PER_TOPIC $TOPIC_MESSAGES $PAYLOAD"
if [[ -z ${DOC+set} ]]; then
	DOC=
	[[ $sizes == "3 10000 200 5 10 1000 10 20000 100" ]] && DOC=$root/docs/BENCHMARKS.md
fi

# shellcheck source=scripts/servers.sh
script=bench
. "$(dirname "${BASH_SOURCE[0]}")/servers.sh"

# wsrouter_config PORT [timers]: the configuration the wsrouter servers run.
wsrouter_config() {
	cat <<-EOF
		listen: 127.0.0.1:$1
		redis: {url: "redis://127.0.0.1:$redis_port/0"}
		metrics: {listen: ""}
		log: {level: warn}
		websocket: {send_queue: 4096, events_per_second: 100000, events_burst: 100000, max_message_bytes: 65536}
		services:
		  bench:
		    require_authentication: false
	EOF
	[[ ${2:-} == timers ]] || return 0
	cat <<-EOF
		    authorizer: http://127.0.0.1:$callback_port/authorize
		    authorization_renewal_period: 1h
		    authorization_renewal_jitter: 10m
		    on_heartbeat: http://127.0.0.1:$callback_port/heartbeat
		    heartbeat_period: 1h
	EOF
}

# start_server NAME: start a fresh server; sets server_pid and server_url.
start_server() {
	local port logf
	port=$(free_port 9300)
	logf="$tmp/$1.log"
	case $1 in
	floor)
		"$tmp/floor" -addr "127.0.0.1:$port" -redis "127.0.0.1:$redis_port" -queue 4096 >"$logf" 2>&1 &
		;;
	wsrouter)
		wsrouter_config "$port" >"$tmp/wsrouter.yaml"
		GODEBUG=$ROUTER_GODEBUG "$tmp/wsrouter" -config "$tmp/wsrouter.yaml" >"$logf" 2>&1 &
		;;
	wsrouter-timers)
		wsrouter_config "$port" timers >"$tmp/wsrouter-timers.yaml"
		GODEBUG=$ROUTER_GODEBUG "$tmp/wsrouter" -config "$tmp/wsrouter-timers.yaml" >"$logf" 2>&1 &
		;;
	*) die "unknown server $1 (want floor, wsrouter or wsrouter-timers)" ;;
	esac
	served "$port" "$logf"
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
for s in $SCENARIOS; do scenario_flags "$s" >/dev/null; done
command -v go >/dev/null || die "go is not installed"
command -v redis-server >/dev/null || die "redis-server is not installed (e.g. apt-get install redis-server)"
ulimit -n "$(ulimit -Hn)"
need=$((CLIENTS > TOPICS * PER_TOPIC ? CLIENTS : TOPICS * PER_TOPIC))
(($(ulimit -n) >= need + 100)) || die "open-file limit $(ulimit -n) is too low for $need clients (raise the hard limit: ulimit -Hn)"
if [[ " $SERVERS " == *" floor "* && ! -d $FLOOR_SRC ]]; then
	log "bench: no reference server at $FLOOR_SRC; measuring wsrouter alone (set FLOOR_SRC for the ratios)"
	SERVERS=$(sed 's/\bfloor\b//' <<<"$SERVERS")
fi

log "bench: building"
go build -o "$tmp/wsbench" ./cmd/wsbench
for s in $SERVERS; do
	case $s in
	floor) (cd "$FLOOR_SRC" && go build -o "$tmp/floor" .) ;;
	wsrouter | wsrouter-timers) [[ -x $tmp/wsrouter ]] || go build -o "$tmp/wsrouter" ./cmd/wsrouter ;;
	*) die "unknown server $s (want floor, wsrouter or wsrouter-timers)" ;;
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

callback_port=
if [[ " $SERVERS " == *" wsrouter-timers "* ]]; then
	callback_port=$(free_port 9200)
	"$tmp/wsbench" -callback-server "127.0.0.1:$callback_port" >"$tmp/callbacks.log" 2>&1 &
	pids+=("$!")
	wait_port "$callback_port" "$!" "$tmp/callbacks.log"
fi

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
[[ -s $RESULTS ]] || die "no run succeeded"

summary=$("$tmp/wsbench" -summarize "$RESULTS" -baseline floor -only floor,wsrouter)
timers=
if [[ " $SERVERS " == *" wsrouter-timers "* && " $SERVERS " == *" wsrouter "* ]]; then
	timers=$("$tmp/wsbench" -summarize "$RESULTS" -baseline wsrouter -only wsrouter,wsrouter-timers)
fi
goals=$("$tmp/wsbench" -summarize "$RESULTS" -goals -baseline floor -candidate wsrouter -timers-label wsrouter-timers)

echo
echo "Medians over $RUNS run(s) (min–max), from $RESULTS."
echo "Idle memory is the burst rows' RSS KiB/conn; connect time of $CLIENTS clients is their connect+subscribe s."
echo
echo "$summary"
if [[ -n $timers ]]; then
	echo
	echo "Timers configured (wsrouter-timers) against none (wsrouter):"
	echo
	echo "$timers"
fi
echo
echo "$goals"

# machine: a short description of this machine for the report.
machine() {
	local cpu n mem
	cpu=$(lscpu 2>/dev/null | sed -n 's/^Model name: *//p' | head -n 1)
	n=$(nproc 2>/dev/null || echo "?")
	mem=$(free -h 2>/dev/null | awk '/^Mem:/ {print $2}')
	echo "${cpu:-unknown CPU}, $n CPUs, ${mem:-?} RAM; $(uname -sr); $(go version | cut -d' ' -f3-); $(redis-server --version | cut -d' ' -f1-3)"
}

write_doc() {
	local notes=""
	if [[ -f $DOC ]] && grep -q '^<!-- notes -->$' "$DOC"; then
		notes=$(sed -n '/^<!-- notes -->$/,$p' "$DOC" | tail -n +2)
	fi
	mkdir -p "$(dirname "$DOC")"
	{
		echo "# Benchmarks"
		echo
		echo "<!-- Written by scripts/bench.sh (make bench); the part below the notes line is kept. -->"
		echo
		echo "Measured $(date -u +%Y-%m-%d) on $(machine)."
		echo "The load tool runs on the same machine and shares its cores with the server and Redis:"
		echo "compare the ratios, not the absolute numbers."
		echo
		echo "## Targets"
		echo
		echo "$goals"
		echo
		echo "## wsrouter and the reference server"
		echo
		echo "Medians over $RUNS runs (min–max) of $CLIENTS clients; \`burst\` also gives the idle RSS"
		echo "per connection (after connect, before publishing) and the connect+subscribe time."
		echo
		echo "$summary"
		if [[ -n $timers ]]; then
			echo
			echo "## Timers configured"
			echo
			echo "\`wsrouter-timers\` is wsrouter whose service has an authorizer with"
			echo "\`authorization_renewal_period: 1h\` and an \`on_heartbeat\` with \`heartbeat_period: 1h\`,"
			echo "answered by \`wsbench -callback-server\`; the ratio column divides by plain \`wsrouter\`."
			echo "Its connect+subscribe time includes one authorizer round trip per subscribe."
			echo
			echo "$timers"
		fi
		echo
		echo "## Machine"
		echo
		echo '```'
		lscpu 2>/dev/null | grep -E '^(Architecture|CPU\(s\)|Model name|Thread|Core|Socket|L[123]|Hypervisor)' || true
		echo
		free -h 2>/dev/null || true
		echo '```'
		echo
		echo "## Commands"
		echo
		echo '```'
		echo "make bench        # = scripts/bench.sh"
		echo "# each run, against a freshly started server:"
		for s in $SCENARIOS; do
			echo "wsbench -url ws://127.0.0.1:PORT/ -redis 127.0.0.1:PORT -label SERVER -scenario $s -pid SERVER_PID -payload $PAYLOAD $(scenario_flags "$s")"
		done
		echo "# the servers:"
		echo "floor -addr 127.0.0.1:PORT -redis 127.0.0.1:PORT -queue 4096"
		echo "GODEBUG=$ROUTER_GODEBUG wsrouter -config wsrouter.yaml"
		echo "wsbench -callback-server 127.0.0.1:PORT   # the service of wsrouter-timers"
		echo '```'
		echo
		echo "The wsrouter-timers configuration; plain wsrouter's service ends at \`require_authentication\`:"
		echo
		echo '```yaml'
		redis_port=REDIS_PORT callback_port=CALLBACK_PORT wsrouter_config PORT timers
		echo '```'
		echo
		echo "<!-- notes -->"
		if [[ -n $notes ]]; then
			echo "$notes"
		fi
	} >"$DOC.tmp"
	mv "$DOC.tmp" "$DOC"
	log "bench: wrote $DOC"
}

if [[ -n $DOC ]]; then
	write_doc
fi
((failed == 0)) || die "$failed run(s) failed"
