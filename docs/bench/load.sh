#!/usr/bin/env bash
# Load test of the real server on the bundled corpus with wrk (Debian's wrk).
# Usage: bash docs/bench/load.sh [seconds] [connections]
set -euo pipefail
cd "$(dirname "$0")/../.."
secs=${1:-20}; conns=${2:-16}
tmp=$(mktemp -d); trap 'kill $pid 2>/dev/null; rm -rf "$tmp"' EXIT
go build -o "$tmp/paperrec" ./cmd/paperrec
"$tmp/paperrec" serve --addr 127.0.0.1:18090 2>"$tmp/log" &
pid=$!
for _ in $(seq 1 100); do curl -sf 127.0.0.1:18090/readyz >/dev/null && break; sleep 0.2; done  # /healthz answers before the engine is loaded
curl -s '127.0.0.1:18090/v1/papers?limit=1000' | /usr/bin/python3 -c 'import json,sys; print("\n".join(p["id"] for p in json.load(sys.stdin)["papers"]))' > "$tmp/ids.txt"
echo "== related, every paper in turn (k=10)"
IDS="$tmp/ids.txt" wrk -t2 -c"$conns" -d"${secs}s" --latency -s docs/bench/related.lua http://127.0.0.1:18090 | sed -n '1,20p'
echo "== search"
wrk -t2 -c"$conns" -d"${secs}s" --latency 'http://127.0.0.1:18090/v1/search?q=normalizing+flows+for+lattice+gauge+theory&k=10' | sed -n '1,20p'
echo "== healthz (the floor: Gin and net/http alone)"
wrk -t2 -c"$conns" -d"${secs}s" --latency http://127.0.0.1:18090/healthz | sed -n '1,20p'
grep -o 'took=[^ ]*' "$tmp/log" | head -1 | sed 's/^/build /'
