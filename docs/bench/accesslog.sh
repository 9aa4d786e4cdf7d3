#!/usr/bin/env bash
# What the access log costs: requests per second under wrk (16 connections)
# with the log written to a file, for each --access-log mode, and for a
# baseline binary (BASE=path, e.g. one built from the commit before buffered
# logging), interleaved ROUNDS times. ROUTE=healthz (the cheapest answer,
# where the log weighs most) or related (every paper in turn).
# Usage: [ROUTE=healthz] [BASE=bin] bash docs/bench/accesslog.sh [seconds] [rounds]
set -euo pipefail
cd "$(dirname "$0")/../.."
secs=${1:-10}; rounds=${2:-3}
port=18096; base=http://127.0.0.1:$port
tmp=$(mktemp -d); pid=
trap '[ -n "$pid" ] && kill $pid 2>/dev/null; rm -rf "$tmp"' EXIT
go build -o "$tmp/paperrec" ./cmd/paperrec
start() { # binary flags...
	local bin=$1; shift
	"$bin" serve --addr 127.0.0.1:$port "$@" 2>"$tmp/log" &
	pid=$!
	for _ in $(seq 1 200); do curl -sf $base/healthz 2>/dev/null | grep -q '"papers"' && return; sleep 0.1; done
}
stop() { kill $pid; wait $pid 2>/dev/null || true; pid=; }
start "$tmp/paperrec"
curl -s "$base/v1/papers?limit=1000" | /usr/bin/python3 -c 'import json,sys; print("\n".join(p["id"] for p in json.load(sys.stdin)["papers"]))' >"$tmp/ids.txt"
stop
configs=("all" "sampled" "off")
[ -n "${BASE:-}" ] && configs+=("baseline")
for r in $(seq 1 "$rounds"); do
	for c in "${configs[@]}"; do
		if [ "$c" = baseline ]; then start "$BASE"; else start "$tmp/paperrec" --access-log "$c"; fi
		if [ "${ROUTE:-related}" = healthz ]; then
			rps=$(wrk -t2 -c16 -d"${secs}s" $base/healthz | awk '/Requests\/sec/ {print $2}')
		else
			rps=$(IDS="$tmp/ids.txt" wrk -t2 -c16 -d"${secs}s" -s docs/bench/related.lua $base | awk '/Requests\/sec/ {print $2}')
		fi
		stop
		echo "$c round $r: $rps req/s, log $(wc -c <"$tmp/log") bytes"
	done
done
