# ports.sh: loopback port helpers for the scripts that start servers
# (bench.sh, soak.sh). Source it after defining die.

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
