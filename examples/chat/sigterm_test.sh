#!/usr/bin/env bash
# Each server starts on a free port (--port 0), serves the client, and exits
# 0 within seconds of SIGTERM.
set -euo pipefail
chat_server=$1 echo_server=$2 client=$3
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
for server in "$chat_server" "$echo_server"; do
  "$server" --port 0 >"$out/server.log" 2>&1 &
  pid=$!
  for _ in $(seq 100); do grep -q listening "$out/server.log" && break; sleep 0.05; done
  port=$(sed -n 's/.*127.0.0.1:\([0-9]*\).*/\1/p' "$out/server.log")
  [[ -n $port ]] || { echo "$server did not say its port"; cat "$out/server.log"; exit 1; }
  if [[ $server == "$chat_server" ]]; then
    printf 'hello\n' | timeout 10 "$client" --port "$port" --room test >"$out/client.log"
    grep -q "in room test" "$out/client.log" || { echo "the client did not join"; cat "$out/client.log"; exit 1; }
  fi
  kill -TERM "$pid"
  for _ in $(seq 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.05; done
  if kill -0 "$pid" 2>/dev/null; then echo "$server still runs 5 s after SIGTERM"; kill -9 "$pid"; exit 1; fi
  wait "$pid" || { echo "$server exited with $?"; cat "$out/server.log"; exit 1; }
  echo "$(basename "$server"): served on port $port, stopped on SIGTERM"
done
