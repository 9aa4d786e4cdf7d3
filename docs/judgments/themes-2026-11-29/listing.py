#!/usr/bin/env python3
"""Write the blind listings of docs/themes.md ("Two independent blind judges").

Usage: listing.py PAPERS.json THEMES.json SEED OUT
PAPERS.json: GET /v1/papers?limit=1000 of `paperrec serve` (titles, areas, keyphrases);
THEMES.json: themes/testdata/themes.json of a commit (before: ed63515, now: this tree).
Themes are shuffled with random.Random(SEED); judge 1 had seeds 11 (before, "A")
and 12 (now, "B"), judge 2 seeds 13 (now, "A2") and 14 (before, "B2").
"""
import json
import random
import sys

papers = {p["id"]: p for p in json.load(open(sys.argv[1]))["papers"]}
clusters = json.load(open(sys.argv[2]))["clusters"]
order = list(range(len(clusters)))
random.Random(int(sys.argv[3])).shuffle(order)
out, k = [], 0
for o in order:
    c = clusters[o]
    tag = "OUTLIERS" if c.get("outlier") or c["id"] == -1 else "T%02d" % k
    if tag != "OUTLIERS":
        k += 1
    out.append("\n## %s  (%d papers)  label: %s\n   terms: %s" % (tag, c["size"], c["label"], "; ".join(t["term"] for t in c["terms"])))
    for m in c["members"]:
        p = papers[m]
        t = " ".join(p["title"].split())
        if len(t) > 110:
            t = t[:110] + "…"
        out.append("   %-4.4s %s  [%s]" % (p["category"], t, "; ".join((p.get("keywords") or [])[:3])))
open(sys.argv[4], "w").write("\n".join(out) + "\n")
