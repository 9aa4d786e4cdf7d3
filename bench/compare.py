#!/usr/bin/python3
"""Compare paperrec's HNSW with hnswlib on the vectors of issue 11.

For each size, generates (once) 256-d unit vectors from 200 seeded Gaussian
clusters plus 1,000 held-out queries with their exact top 10 (annbench gen),
then runs alternating rounds of `annbench run` (paperrec) and
`hnswlib_run.py` (Debian's python3-hnswlib 0.6.2) on the same files. Each
builds with M 16, efConstruction 200 on 2 threads (wall time) and on 1
thread (CPU time), sweeps ef, takes the smallest ef reaching recall@10 >=
0.95, and times single-thread queries there (CPU time). Ratios are formed
within a round and the median over rounds is reported.

    /usr/bin/python3 bench/compare.py                  # 20k and 100k, 3 rounds
    /usr/bin/python3 bench/compare.py --sizes 20000 --rounds 5
    /usr/bin/python3 bench/compare.py --sizes 100000 --only2 --rounds 5   # 2-thread builds only

Check `uptime` first: 2-thread wall times need both cores free.
"""
import argparse
import json
import os
import statistics
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def sh(args, **kw):
    return subprocess.run(args, check=True, cwd=ROOT, **kw)


def load():
    return os.getloadavg()[0]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--sizes", default="20000,100000")
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--spread", type=float, default=2.0)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--workdir", default="/tmp/annbench-work")
    ap.add_argument("--skip2", action="store_true", help="skip the 2-thread builds")
    ap.add_argument("--only2", action="store_true", help="only time the 2-thread builds (when the machine is quiet)")
    a = ap.parse_args()
    os.makedirs(a.workdir, exist_ok=True)
    exe = os.path.join(a.workdir, "annbench")
    sh(["go", "build", "-o", exe, "./bench/annbench"])
    rev = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True).stdout.strip()
    print(f"# commit {rev}, load average {load():.2f} at start", flush=True)
    extra = ["--skip2"] if a.skip2 else ["--only2"] if a.only2 else []
    tables = []
    for n in [int(s) for s in a.sizes.split(",")]:
        data = os.path.join(a.workdir, f"n{n}-s{a.spread}-seed{a.seed}")
        if not os.path.exists(os.path.join(data, "meta.json")):
            sh([exe, "gen", "-n", str(n), "-spread", str(a.spread), "-seed", str(a.seed), "-out", data])
        rounds = []
        for r in range(a.rounds):
            ours = lambda: json.loads(sh([exe, "run", "-data", data] + ["-" + x.lstrip("-") for x in extra],
                                         capture_output=True, text=True).stdout)
            theirs = lambda: json.loads(sh(["/usr/bin/python3", os.path.join(ROOT, "bench", "hnswlib_run.py"), data] + extra,
                                           capture_output=True, text=True).stdout)
            if r % 2 == 0:
                p, h = ours(), theirs()
            else:
                h, p = theirs(), ours()
            rounds.append((p, h))
            print(f"n={n} round {r + 1} load {load():.2f}", flush=True)
            for x in (p, h):
                print("  " + json.dumps({k: v for k, v in x.items() if k != "recall"}), flush=True)
        tables.append((n, rounds))
    print(f"# load average {load():.2f} at end\n")
    print("| figure | paperrec | hnswlib | paperrec/hnswlib |")
    print("|---|---:|---:|---:|")
    for n, rounds in tables:
        def row(label, key, fmt, higher_better):
            ps = [p[key] for p, _ in rounds]
            hs = [h[key] for _, h in rounds]
            ratios = [pp / hh for pp, hh in zip(ps, hs)]
            rs = statistics.median(ratios)
            note = f"{rs:.2f}" if higher_better else f"{rs:.2f} ({1 / rs:.2f}x faster)" if rs < 1 else f"{rs:.2f} ({rs:.2f}x slower)"
            print(f"| {label}, {n // 1000}k | {fmt(statistics.median(ps))} | {fmt(statistics.median(hs))} | {note} "
                  f"(rounds: {', '.join(f'{x:.2f}' for x in ratios)}) |")
        if not a.only2:
            efs = f"ef {rounds[0][0]['ef']} vs {rounds[0][1]['ef']}"
            row(f"queries/s at recall@10 >= 0.95, 1 thread ({efs})", "qps", lambda v: f"{v:,.0f}", True)
            row("build, 1 thread (CPU s)", "build1_cpu_s", lambda v: f"{v:.1f} s", False)
        if a.only2:
            row("build, 2 threads (wall s)", "build2_wall_s", lambda v: f"{v:.1f} s", False)
            row("build, 2 threads (CPU s)", "build2_cpu_s", lambda v: f"{v:.1f} s", False)
        elif not a.skip2:
            row("build, 2 threads (wall s)", "build2_wall_s", lambda v: f"{v:.1f} s", False)
            ps = [p["recall_at_ef_2thread"] for p, _ in rounds]
            hs = [h["recall_at_ef_2thread"] for _, h in rounds]
            print(f"| recall@10 of the 2-thread graph at that ef, {n // 1000}k | {statistics.median(ps):.4f} | {statistics.median(hs):.4f} | |")


if __name__ == "__main__":
    main()
