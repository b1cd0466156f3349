# servers.sh: what the scripts that start servers share (bench.sh,
# bench-auth.sh, bench-scale.sh, soak.sh): a temporary directory and the
# started processes, both cleaned up on exit; log and die; loopback ports.
# Source it with script set to the name its messages start with:
#   script=bench
#   . "$(dirname "${BASH_SOURCE[0]}")/servers.sh"
# Add each started process's PID to pids.

tmp=$(mktemp -d "${TMPDIR:-/tmp}/$script.XXXXXX")
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
die() { log "$script: $*"; exit 1; }

# served PORT LOG: take the process just started in the background ($!)
# as the server: server_pid, stopped on exit, and server_url; wait until
# it listens on PORT (LOG is shown if it exits first).
served() {
	server_pid=$!
	pids+=("$server_pid")
	server_url="ws://127.0.0.1:$1/"
	wait_port "$1" "$server_pid" "$2"
}

# stop_server: stop the server started last and forget it.
stop_server() {
	kill "$server_pid" 2>/dev/null || true
	wait "$server_pid" 2>/dev/null || true
	forget "$server_pid"
}

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
