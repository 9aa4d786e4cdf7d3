#!/usr/bin/env bash
# The live-corpus yardsticks of docs/live.md: real paperrec servers on a data
# directory (--data, bbolt) or on PostgreSQL (--store, replicas), measured
# through the HTTP API by docs/bench/livebench.
# Usage: bash docs/bench/live.sh [sections...]
#   writes    write latency and throughput, one paper per POST, 1 and 4 writers, --data and --store
#   batches   write throughput, 100 papers per POST, --data and --store
#   lag       time until a write through A is visible on replica B (--store)
#   refit     refit time, swap pause and reads during it, bundled corpus, --data and --store
#             (B adopts A's snapshot; writes through B during A's refit reach A)
#   catchup   a replica down while 10,000 changes are written comes back: time to ready
#   reads     read throughput of one replica against three (--store)
#   big       refit and adopt at 50,000 papers (--store; slow, needs ~4 GB)
# Default: every section but big. REPS=n repeats each measurement (default 3).
# PAPERREC_TEST_POSTGRES names the database (default the local test one).
# Each run uses schemas of its own, dropped at the end.
set -euo pipefail
cd "$(dirname "$0")/../.."
reps=${REPS:-3}
dsn=${PAPERREC_TEST_POSTGRES:-postgres://postgres@127.0.0.1:5432/test?sslmode=disable}
export PAPERREC_API_TOKEN=livebench-token-0123456789abcdef
tmp=$(mktemp -d)
schemas=()
cleanup() {
	for p in $(jobs -p); do kill "$p" 2>/dev/null || true; done
	wait 2>/dev/null || true
	for s in "${schemas[@]}"; do psql -q "$dsn" -c "DROP SCHEMA IF EXISTS $s CASCADE" 2>/dev/null || true; done
	rm -rf "$tmp"
}
trap cleanup EXIT
go build -o "$tmp/paperrec" ./cmd/paperrec
go build -o "$tmp/livebench" ./docs/bench/livebench
# Papers to write: abstracts recombined from the bundled ones (seeded).
/usr/bin/python3 docs/bench/gencorpus.py 12000 "$tmp/new.jsonl"
lb() { "$tmp/livebench" "$@"; }

# start NAME ARGS...: start a server on a free port; sets URL_NAME and PID_NAME.
port=18300
start() {
	local name=$1; shift
	port=$((port + 1))
	"$tmp/paperrec" serve --addr 127.0.0.1:$port --access-log off "$@" 2>"$tmp/$name.log" &
	local pid=$!
	printf -v "PID_$name" %s "$pid"
	printf -v "URL_$name" %s "http://127.0.0.1:$port"
	for _ in $(seq 1 6000); do
		curl -sf "http://127.0.0.1:$port/readyz" >/dev/null 2>&1 && return 0
		kill -0 "$pid" 2>/dev/null || { cat "$tmp/$name.log"; return 1; }
		sleep 0.05
	done
	echo "$name not ready"; return 1
}
# stop NAME: SIGTERM, which writes out the buffered log; down NAME: SIGKILL.
stop() { local p="PID_$1"; kill "${!p}" 2>/dev/null || true; wait "${!p}" 2>/dev/null || true; }
down() { local p="PID_$1"; kill -9 "${!p}" 2>/dev/null || true; wait "${!p}" 2>/dev/null || true; }
# logged NAME: wait until the server's buffered log lines are out (200 ms).
logged() { sleep 0.5; }
newschema() { schema=livebench_$(head -c6 /dev/urandom | od -An -tx1 | tr -d ' \n'); schemas+=("$schema"); }
# since LOG FROM TO: seconds between the first log lines matching FROM and TO.
since() {
	/usr/bin/python3 - "$@" <<'EOF'
import re, sys, datetime
log, a, b = sys.argv[1:]
def at(pat):
    for l in open(log):
        if pat in l:
            return datetime.datetime.fromisoformat(re.search(r'time=(\S+)', l)[1].replace('Z', '+00:00'))
ta, tb = at(a), at(b)
print('%.3f' % (tb - ta).total_seconds() if ta and tb else 'n/a')
EOF
}
echo "# $(date -u +%FT%TZ) $(nproc) cores, load average: $(cut -d' ' -f1-3 /proc/loadavg)"

section_writes() {
	for r in $(seq 1 "$reps"); do
		echo "== writes, round $r (load $(cut -d' ' -f1 /proc/loadavg))"
		rm -rf "$tmp/data"
		start D --data "$tmp/data" --refit-after -1
		lb write -url "$URL_D" -n 300 -c 1 -papers "$tmp/new.jsonl" | sed 's/^/data  /'
		lb write -url "$URL_D" -n 600 -c 4 -papers "$tmp/new.jsonl" | sed 's/^/data  /'
		stop D
		newschema
		start P --store "$dsn" --store-schema "$schema" --refit-after -1
		lb write -url "$URL_P" -n 300 -c 1 -papers "$tmp/new.jsonl" | sed 's/^/store /'
		lb write -url "$URL_P" -n 600 -c 4 -papers "$tmp/new.jsonl" | sed 's/^/store /'
		stop P
	done
}

section_batches() {
	for r in $(seq 1 "$reps"); do
		echo "== batches of 100, round $r (load $(cut -d' ' -f1 /proc/loadavg))"
		rm -rf "$tmp/data"
		start D --data "$tmp/data" --refit-after -1
		lb write -url "$URL_D" -n 20 -c 1 -batch 100 -papers "$tmp/new.jsonl" | sed 's/^/data  /'
		stop D
		newschema
		start P --store "$dsn" --store-schema "$schema" --refit-after -1
		lb write -url "$URL_P" -n 20 -c 1 -batch 100 -papers "$tmp/new.jsonl" | sed 's/^/store /'
		stop P
	done
}

section_lag() {
	for r in $(seq 1 "$reps"); do
		echo "== replication lag, round $r (load $(cut -d' ' -f1 /proc/loadavg))"
		newschema
		start A --store "$dsn" --store-schema "$schema" --refit-after -1
		start B --store "$dsn" --store-schema "$schema" --refit-after -1
		lb write -url "$URL_A" -follower "$URL_B" -n 300 -c 1 -papers "$tmp/new.jsonl"
		stop A; stop B
	done
}

section_refit() {
	echo "== refit, bundled corpus, --data (load $(cut -d' ' -f1 /proc/loadavg))"
	rm -rf "$tmp/data"
	start D --data "$tmp/data" --refit-after -1
	lb refit -url "$URL_D" -n $((reps * 2)) -papers "$tmp/new.jsonl"
	stop D
	grep -o 'msg="refit swapped in".*' "$tmp/D.log" | grep -o 'took=[^ ]* swap_pause=[^ ]*'
	grep -o 'msg="snapshot saved".*' "$tmp/D.log" | grep -o 'took=[^ ]*' | tail -n +2 | sed 's/^/  save /'
	echo "== refit, bundled corpus, --store: A refits, B loads A's snapshot (load $(cut -d' ' -f1 /proc/loadavg))"
	newschema
	start A --store "$dsn" --store-schema "$schema" --refit-after -1
	start B --store "$dsn" --store-schema "$schema" --refit-after -1
	lb refit -url "$URL_A" -n $((reps * 2)) -papers "$tmp/new.jsonl" -via "$URL_B"
	logged; stop A; stop B
	echo "A:"; grep -o 'msg="snapshot saved".*' "$tmp/A.log" | grep -o 'took=[^ ]*' | tail -n +2 | sed 's/^/  save /'
	grep -o 'msg="refit swapped in".*' "$tmp/A.log" | grep -o 'took=[^ ]* swap_pause=[^ ]*' | sed 's/^/  /'
	echo "B:"; grep -o 'msg="snapshot of another replica loaded".*' "$tmp/B.log" | grep -o 'took=[^ ]* swap_pause=[^ ]*' | sed 's/^/  /'
}

section_catchup() {
	for r in $(seq 1 "$reps"); do
		echo "== catch-up of 10,000 changes, round $r (load $(cut -d' ' -f1 /proc/loadavg))"
		newschema
		start A --store "$dsn" --store-schema "$schema" --refit-after -1
		start B --store "$dsn" --store-schema "$schema" --refit-after -1
		down B
		lb write -url "$URL_A" -n 100 -c 1 -batch 100 -papers "$tmp/new.jsonl" | sed -n 1,3p
		t0=$(date +%s.%N)
		start B --store "$dsn" --store-schema "$schema" --refit-after -1
		t1=$(date +%s.%N)
		echo "B back: $(curl -s "$URL_B/healthz")"
		logged
		echo "B: start to ready $(awk "BEGIN{printf \"%.2f\", $t1 - $t0}") s (polled every 50 ms); in its log: serving -> ready $(since "$tmp/B.log" 'msg=serving' 'msg=ready') s, of which to the snapshot loaded $(since "$tmp/B.log" 'msg=serving' 'snapshot loaded') s and the catch-up $(since "$tmp/B.log" 'snapshot loaded' 'msg=ready') s"
		stop A; stop B
	done
}

section_reads() {
	echo "== reads: one replica against three (load $(cut -d' ' -f1 /proc/loadavg))"
	newschema
	start A --store "$dsn" --store-schema "$schema" --refit-after -1
	start B --store "$dsn" --store-schema "$schema" --refit-after -1
	start C --store "$dsn" --store-schema "$schema" --refit-after -1
	for r in $(seq 1 "$reps"); do
		echo "-- round $r (load $(cut -d' ' -f1 /proc/loadavg))"
		lb read -url "$URL_A" -c 8 -d 15s
		lb read -url "$URL_A,$URL_B,$URL_C" -c 8 -d 15s
	done
	stop A; stop B; stop C
}

section_big() {
	echo "== 50,000 papers, --store (load $(cut -d' ' -f1 /proc/loadavg))"
	[ -f /tmp/syn50k.jsonl ] || /usr/bin/python3 docs/bench/gencorpus.py 50000 /tmp/syn50k.jsonl
	newschema
	start A --store "$dsn" --store-schema "$schema" --corpus /tmp/syn50k.jsonl --refit-after -1
	logged
	grep -o 'msg="engine fitted".*\|msg="snapshot saved".*\|msg="store seeded".*' "$tmp/A.log" | sed 's/^/A start: /'
	echo "A: serving -> ready $(since "$tmp/A.log" 'msg=serving' 'msg=ready') s"
	start B --store "$dsn" --store-schema "$schema" --corpus /tmp/syn50k.jsonl --refit-after -1
	logged
	echo "B: serving -> ready $(since "$tmp/B.log" 'msg=serving' 'msg=ready') s (loads A's snapshot)"
	grep -o 'msg="snapshot loaded".*' "$tmp/B.log" | sed 's/^/B start: /'
	ps -o rss=,args= -p "$PID_A" -p "$PID_B" | awk '{printf "RSS %.0f MB\n", $1/1024}' | head -2
	lb refit -url "$URL_A" -n "$reps" -papers "$tmp/new.jsonl" -via "$URL_B"
	logged
	echo "A:"; grep -o 'msg="snapshot saved".*' "$tmp/A.log" | grep -o 'took=[^ ]*' | tail -n +2 | sed 's/^/  save /'
	grep -o 'msg="engine fitted".*' "$tmp/A.log" | grep -o 'took=[^ ]*' | tail -n +2 | sed 's/^/  fit /'
	grep -o 'msg="refit swapped in".*' "$tmp/A.log" | grep -o 'took=[^ ]* swap_pause=[^ ]*' | sed 's/^/  /'
	echo "B:"; grep -o 'msg="snapshot of another replica loaded".*' "$tmp/B.log" | grep -o 'took=[^ ]* swap_pause=[^ ]*' | sed 's/^/  /'
	psql -At "$dsn" -c "SELECT 'snapshot bytes ' || max(size) FROM $schema.snapshots"
	lb write -url "$URL_A" -follower "$URL_B" -n 100 -c 1 -papers "$tmp/new.jsonl"
	ps -o rss=,args= -p "$PID_A" -p "$PID_B" | awk '{printf "RSS %.0f MB\n", $1/1024}' | head -2
	stop A; stop B
}

sections=("$@")
[ ${#sections[@]} -eq 0 ] && sections=(writes batches lag refit catchup reads)
for s in "${sections[@]}"; do "section_$s"; done
echo "# done, load average: $(cut -d' ' -f1-3 /proc/loadavg)"
