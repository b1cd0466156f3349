#!/usr/bin/env bash
# run-example.sh is `make run`: it builds the router and the books example,
# starts the example app, then the router with config.example.yaml (which
# starts an embedded Redis on 127.0.0.1:6379), prints the URL to open, and
# stops both on Ctrl-C or when either exits.
#
# Environment (defaults in brackets): GO [go]  BIN [bin]
#   CONFIG [config.example.yaml]  APP_LISTEN [127.0.0.1:8080]
#   REDIS_ADDR [127.0.0.1:6379]  WS_URL [ws://127.0.0.1:9000/]
set -euo pipefail
cd "$(dirname "$0")/.."

GO=${GO:-go}
BIN=${BIN:-bin}
CONFIG=${CONFIG:-config.example.yaml}
APP_LISTEN=${APP_LISTEN:-127.0.0.1:8080}
REDIS_ADDR=${REDIS_ADDR:-127.0.0.1:6379}
WS_URL=${WS_URL:-ws://127.0.0.1:9000/}

mkdir -p "$BIN"
"$GO" build -o "$BIN/wsrouter" ./cmd/wsrouter
"$GO" build -o "$BIN/books" ./examples/books

# Own process groups for the children: Ctrl-C reaches this script only,
# and the trap stops the router first (its unsubscribe callbacks go to the
# app), then the app.
set -m
app_pid=""
router_pid=""
stop() {
  trap - EXIT INT TERM
  for pid in $router_pid $app_pid; do
    if kill -0 "$pid" 2>/dev/null; then
      kill -TERM "$pid" 2>/dev/null || true
      for _ in $(seq 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
      kill -KILL "$pid" 2>/dev/null || true
    fi
  done
  wait 2>/dev/null || true
}
trap stop EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

"$BIN/books" -listen "$APP_LISTEN" -redis "$REDIS_ADDR" -ws "$WS_URL" &
app_pid=$!
"$BIN/wsrouter" -config "$CONFIG" &
router_pid=$!

# port_open HOST:PORT succeeds when something accepts connections there.
port_open() { (exec 3<>"/dev/tcp/${1%:*}/${1##*:}") 2>/dev/null; }

ws_addr=${WS_URL#*://}
ws_addr=${ws_addr%%/*}
for _ in $(seq 150); do
  for pid in $app_pid $router_pid; do
    kill -0 "$pid" 2>/dev/null || { echo "run-example: a process exited at start (see its error above)" >&2; exit 1; }
  done
  if port_open "$APP_LISTEN" && port_open "$ws_addr"; then
    echo
    echo "open http://$APP_LISTEN/   (in two tabs: edits show live in both; Ctrl-C stops)"
    echo
    break
  fi
  sleep 0.1
done

# Run until either process exits (or Ctrl-C).
wait -n "$app_pid" "$router_pid" || true
echo "run-example: a process exited; stopping" >&2
