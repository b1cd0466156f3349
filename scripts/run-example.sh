#!/usr/bin/env bash
# run-example.sh is `make run`: it checks the ports it needs are free,
# builds the router and the books example, starts the example app, then
# the router with config.example.yaml (which starts an embedded Redis),
# prints the URL to open, and stops both on Ctrl-C (exit 0), on any other
# signal, or when either exits.
#
# Environment (defaults in brackets): GO [go]  BIN [bin]
#   CONFIG [config.example.yaml]  APP_LISTEN [127.0.0.1:8080]
#   REDIS_ADDR [127.0.0.1:6379]  WS_URL [ws://127.0.0.1:9000/]
# REDIS_ADDR is where the app publishes. With a CONFIG whose redis.url is
# "embedded", the router's embedded Redis is moved there too; with a real
# Redis URL in CONFIG, point REDIS_ADDR at that Redis.
set -euo pipefail
cd "$(dirname "$0")/.."

GO=${GO:-go}
BIN=${BIN:-bin}
CONFIG=${CONFIG:-config.example.yaml}
APP_LISTEN=${APP_LISTEN:-127.0.0.1:8080}
REDIS_ADDR=${REDIS_ADDR:-127.0.0.1:6379}
WS_URL=${WS_URL:-ws://127.0.0.1:9000/}

# Ctrl-C is how the demo is meant to end, also while it builds.
trap 'exit 0' INT

say() { echo "run-example: $*" >&2; }
die() { say "$*"; exit 1; }

# port_open HOST:PORT succeeds when something accepts connections there.
port_open() { (exec 3<>"/dev/tcp/${1%:*}/${1##*:}") 2>/dev/null; }

[ -f "$CONFIG" ] || die "no configuration file $CONFIG (set CONFIG=FILE)"
ws_addr=${WS_URL#*://}
ws_addr=${ws_addr%%/*}

# Check the ports before building anything: a taken port is the usual
# reason a second `make run` fails.
embedded=false
if grep -Eq '^[[:space:]]+url:[[:space:]]*"?embedded"?[[:space:]]*(#.*)?$' "$CONFIG"; then
  embedded=true
fi
if $embedded && port_open "$REDIS_ADDR"; then
  die "$REDIS_ADDR is in use (a Redis server already running?), and $CONFIG starts its own Redis there.
  Stop it, or move the demo's Redis: make run REDIS_ADDR=127.0.0.1:6380
  (or use that Redis: make run CONFIG=FILE, with redis.url: redis://$REDIS_ADDR/0 in FILE)"
fi
if ! $embedded && ! port_open "$REDIS_ADDR"; then
  die "nothing listens on $REDIS_ADDR, the Redis $CONFIG is meant to use (set REDIS_ADDR=HOST:PORT)"
fi
listens=$(sed -nE 's/^[[:space:]]*listen:[[:space:]]*"?([^"#[:space:]]+)"?.*/\1/p' "$CONFIG")
for addr in "$APP_LISTEN" "$ws_addr" $listens; do
  if port_open "$addr"; then
    die "$addr is in use (another make run still going?); stop what listens there, or change APP_LISTEN, WS_URL or $CONFIG"
  fi
done

mkdir -p "$BIN"
version=$(git describe --tags --always --dirty 2>/dev/null || echo dev)
"$GO" build -ldflags "-X main.version=$version" -o "$BIN/wsrouter" ./cmd/wsrouter
"$GO" build -o "$BIN/books" ./examples/books

router_config=$CONFIG
tmp_config=""
if $embedded && [ "$REDIS_ADDR" != 127.0.0.1:6379 ]; then
  # Move the embedded Redis. The router then watches this copy, so edits
  # to $CONFIG are not reloaded while it runs.
  tmp_config=$(mktemp "${TMPDIR:-/tmp}/wsrouter-run.XXXXXX.yaml")
  sed -E "s|^([[:space:]]+url:[[:space:]]*)\"?embedded\"?|\1\"embedded://$REDIS_ADDR\"|" "$CONFIG" >"$tmp_config"
  router_config=$tmp_config
fi

# The children get their own process groups (set -m), so a signal to this
# script's group reaches only the script, and stop() ends them in order:
# the router first (its unsubscribe callbacks go to the app), then the
# app. stop() ignores further signals: a second one (make forwards
# SIGTERM, a user presses Ctrl-C twice) must not cut it short and leave a
# process holding a port.
set -m
app_pid=""
router_pid=""
stopping=false
stop() {
  $stopping && return
  stopping=true
  trap '' INT TERM HUP QUIT
  for pid in $router_pid $app_pid; do
    kill -TERM "$pid" 2>/dev/null || continue
    for _ in $(seq 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -KILL "$pid" 2>/dev/null || true
  done
  wait 2>/dev/null || true
  [ -z "$tmp_config" ] || rm -f "$tmp_config"
}
trap stop EXIT
trap 'stop; exit 0' INT # Ctrl-C is how the demo is meant to end
trap 'stop; exit 143' TERM
trap 'stop; exit 129' HUP
trap 'stop; exit 131' QUIT

"$BIN/books" -listen "$APP_LISTEN" -redis "$REDIS_ADDR" -ws "$WS_URL" &
app_pid=$!
"$BIN/wsrouter" -config "$router_config" &
router_pid=$!

for _ in $(seq 150); do
  for pid in $app_pid $router_pid; do
    kill -0 "$pid" 2>/dev/null || die "a process exited at start (see its error above)"
  done
  if port_open "$APP_LISTEN" && port_open "$ws_addr"; then
    echo
    echo "open http://$APP_LISTEN/   (in two tabs: edits show live in both; Ctrl-C stops)"
    echo
    break
  fi
  sleep 0.1
done

# Run until either process exits (or a signal).
wait -n "$app_pid" "$router_pid" || true
say "a process exited; stopping"
exit 1
