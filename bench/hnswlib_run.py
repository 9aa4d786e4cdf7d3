#!/usr/bin/python3
"""Measure hnswlib on a set written by `annbench gen`, as annbench run does.

Prints one JSON line: build times with 1 thread (CPU) and 2 threads (wall),
recall@k over the shared ef grid, the smallest ef reaching the target and the
single-thread queries per second of CPU time there. Uses Debian's
python3-hnswlib (0.6.2): run it with /usr/bin/python3.
"""
import json
import os
import statistics
import sys
import time

import hnswlib
import numpy as np

EF_GRID = [10, 12, 14, 16, 18, 20, 24, 28, 32, 36, 40, 48, 56, 64, 72, 80, 96,
           112, 128, 160, 192, 224, 256, 320, 384, 448, 512, 640, 768, 1024]


def load(d):
    m = json.load(open(os.path.join(d, "meta.json")))
    base = np.fromfile(os.path.join(d, "base.f32"), dtype="<f4").reshape(m["N"], m["Dim"])
    queries = np.fromfile(os.path.join(d, "queries.f32"), dtype="<f4").reshape(m["Queries"], m["Dim"])
    truth = np.fromfile(os.path.join(d, "truth.i32"), dtype="<u4").reshape(m["Queries"], m["K"])
    return m, base, queries, truth


def build(base, threads, M, efc):
    idx = hnswlib.Index(space="cosine", dim=base.shape[1])
    idx.init_index(max_elements=base.shape[0], M=M, ef_construction=efc, random_seed=100)
    ids = np.arange(base.shape[0])
    c0, w0 = time.process_time(), time.perf_counter()
    idx.add_items(base, ids, num_threads=threads)
    return idx, time.perf_counter() - w0, time.process_time() - c0


def recall(idx, queries, truth, k):
    labels, _ = idx.knn_query(queries, k=k, num_threads=1)
    hit = sum(len(set(labels[i]) & set(truth[i])) for i in range(len(queries)))
    return hit / (len(queries) * k)


def qps(idx, queries, k, passes):
    rates = []
    for _ in range(passes):
        c0 = time.process_time()
        idx.knn_query(queries, k=k, num_threads=1)
        rates.append(len(queries) / (time.process_time() - c0))
    return statistics.median(rates)


def main():
    import argparse
    ap = argparse.ArgumentParser()
    ap.add_argument("data")
    ap.add_argument("--target", type=float, default=0.95)
    ap.add_argument("--passes", type=int, default=3)
    ap.add_argument("--skip2", action="store_true")
    ap.add_argument("--only2", action="store_true", help="only time the 2-thread build")
    ap.add_argument("--m", type=int, default=16)
    ap.add_argument("--efc", type=int, default=200)
    a = ap.parse_args()
    m, base, queries, truth = load(a.data)
    k = m["K"]
    res = {"lib": "hnswlib", "n": m["N"], "recall": {}}
    idx2 = None
    if not a.skip2:
        idx2, wall, cpu = build(base, 2, a.m, a.efc)
        res["build2_wall_s"], res["build2_cpu_s"] = wall, cpu
    if a.only2:
        print(json.dumps(res), flush=True)
        return
    idx, wall, cpu = build(base, 1, a.m, a.efc)
    res["build1_wall_s"], res["build1_cpu_s"] = wall, cpu
    ef = 0
    for e in EF_GRID:
        idx.set_ef(e)
        r = recall(idx, queries, truth, k)
        res["recall"][str(e)] = r
        if r >= a.target:
            ef, res["recall_at_ef"] = e, r
            break
    if ef == 0:
        sys.exit("recall target not reached")
    res["ef"] = ef
    idx.set_ef(ef)
    res["qps"] = qps(idx, queries, k, a.passes)
    if idx2 is not None:
        idx2.set_ef(ef)
        res["recall_at_ef_2thread"] = recall(idx2, queries, truth, k)
    print(json.dumps(res), flush=True)


if __name__ == "__main__":
    main()
