#!/usr/bin/env bash
# The overload yardstick of docs/reliability.md: 500 connections on the most
# expensive search, and in the same run two low-rate clients on /healthz and
# on a cheap related lookup, each with wrk (Debian's wrk), for SECS seconds.
# First the two low-rate clients run alone for SECS/2 seconds: the floor that
# the machine, as loaded at the time, allows.
# Usage: bash docs/bench/overload.sh [seconds] [-- serve flags...]
# BIN=path runs that binary instead of building this tree (for a baseline).
# VARY=1 makes every flood request a different query (a random number added
# to its text), so that none is answered from the answer cache.
set -euo pipefail
cd "$(dirname "$0")/../.."
secs=${1:-20}; shift || true
[ "${1:-}" = "--" ] && shift
port=18092; base=http://127.0.0.1:$port
tmp=$(mktemp -d); pid=
trap '[ -n "$pid" ] && kill $pid 2>/dev/null; rm -rf "$tmp"' EXIT
bin=${BIN:-}
if [ -z "$bin" ]; then go build -o "$tmp/paperrec" ./cmd/paperrec; bin=$tmp/paperrec; fi
"$bin" serve --addr 127.0.0.1:$port "$@" 2>"$tmp/log" &
pid=$!
for _ in $(seq 1 200); do
	code=$(curl -s -o /dev/null -w '%{http_code}' $base/readyz || true)
	[ "$code" = 200 ] && break
	# a binary without /readyz: wait for /healthz to show papers
	curl -sf $base/healthz 2>/dev/null | grep -q '"papers"' && [ "$code" = 404 ] && break
	sleep 0.1
done
heavy="$base/v1/search?q=normalizing+flows+for+lattice+gauge+theory&k=100&diversity=1"
cheap="$base/v1/papers/naturalness-and-fisher-information/related"
# The floor: the two low-rate clients alone, on this machine as loaded now.
# The low-rate clients wait up to 30 s for an answer: wrk leaves requests that
# time out (2 s by default) out of its latency figures.
wrk -t1 -c2 -d"$((secs/2))s" --timeout 30s --latency "$base/healthz" >"$tmp/health0" 2>&1 &
f1=$!
wrk -t1 -c2 -d"$((secs/2))s" --timeout 30s --latency "$cheap" >"$tmp/cheap0" 2>&1 &
f2=$!
wait $f1 $f2
flood=()
if [ -n "${VARY:-}" ]; then
	cat >"$tmp/vary.lua" <<'LUA'
math.randomseed(7)
request = function()
  return wrk.format("GET", "/v1/search?q=normalizing+flows+for+lattice+gauge+theory+" .. math.random(1, 1000000000) .. "&k=100&diversity=1")
end
LUA
	flood=(-s "$tmp/vary.lua")
fi
wrk -t2 -c500 -d"${secs}s" --latency "${flood[@]}" "$heavy" >"$tmp/heavy" 2>&1 &
w1=$!
sleep 1 # let the flood build up first
wrk -t1 -c2 -d"$((secs-2))s" --timeout 30s --latency "$base/healthz" >"$tmp/health" 2>&1 &
w2=$!
wrk -t1 -c2 -d"$((secs-2))s" --timeout 30s --latency "$cheap" >"$tmp/cheap" 2>&1 &
w3=$!
wait $w1 $w2 $w3
# Right after the flood's clients are gone: is anything still at work?
sleep 0.2
curl -s $base/metrics 2>/dev/null | grep -E '^paperrec_(requests_at_work|requests_shed_total|http_requests_in_flight) ' || true
summary() { # name file
	echo "== $1"
	grep -E 'Latency  |Requests/sec|requests in|Non-2xx|Socket errors' "$2" | sed 's/^ */  /'
	grep -E '^ +(50|90|99)%' "$2" | tr -s ' ' | sed 's/^ /  p/' | paste -sd' '
}
summary "floor: healthz alone, 2 connections" "$tmp/health0"
summary "floor: related lookup alone, 2 connections" "$tmp/cheap0"
summary "flood: 500 connections, search k=100 diversity=1" "$tmp/heavy"
summary "healthz, 2 connections" "$tmp/health"
summary "related lookup, 2 connections" "$tmp/cheap"
echo "log: $(wc -c <"$tmp/log") bytes, $(grep -c 'msg=request' "$tmp/log") request lines"
grep -o 'status=[0-9]*' "$tmp/log" | sort | uniq -c | sort -rn | head -5 | sed 's/^/  /'
# The slowest request the server finished, as its log line says.
grep -o 'took=[0-9.]*[mµn]*s' "$tmp/log" | sed 's/took=//' | awk '
	/ms$/ {v=$0+0} /µs$/ {v=($0+0)/1000} /ns$/ {v=($0+0)/1e6} /[0-9]s$/ && !/ms$/ && !/µs$/ && !/ns$/ {v=($0+0)*1000}
	{if (v>m) m=v} END {printf "slowest logged request: %.1f ms\n", m}'
