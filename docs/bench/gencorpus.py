"""Write a synthetic JSON Lines corpus of N papers for scale benchmarks.

Each paper recombines sentences of 2-3 bundled abstracts (mostly from one area),
so vocabulary and topic structure look like the real corpus. Seeded.
Usage: /usr/bin/python3 docs/bench/gencorpus.py N OUT.jsonl [REQUESTS.jsonl]
"""
import json, random, re, sys

HDR = re.compile(r'^(Theoretical Physics|Experimental Physics|Foundational AI|Astrophysics) \w{3} \d{1,2}, (\d{4})$')

def load(path):
    lines = open(path, encoding='utf-8').read().split('\n')
    out, cur = [], None
    for l in lines:
        m = HDR.match(l)
        if m:
            cur = {'cat': m[1], 'year': m[2], 'body': []}
            out.append(cur)
        elif cur is not None and l.strip() and l not in ('Latest', 'All Posts'):
            cur['body'].append(l.strip())
    return out

def main():
    n, path = int(sys.argv[1]), sys.argv[2]
    rng = random.Random(42)
    src = load('data/iaifi-listing.txt')
    by_cat = {}
    for p in src:
        by_cat.setdefault(p['cat'], []).append(p)
    with open(path, 'w') as f:
        for i in range(n):
            cat = rng.choice(sorted(by_cat))
            parents = rng.sample(by_cat[cat], 2) + [rng.choice(src)]
            sents = []
            for p in parents:
                s = re.split(r'(?<=[.!?])\s+', p['body'][2])
                sents += rng.sample(s, max(1, len(s) // 2))
            rng.shuffle(sents)
            title = ' '.join(parents[0]['body'][0].split()[:rng.randint(4, 9)]) + ' ' + rng.choice(parents[1]['body'][0].split())
            rec = {'id': 'syn%06d' % i, 'title': title, 'abstract': ' '.join(sents[:8]),
                   'date': '%s-%02d-%02d' % (parents[0]['year'], rng.randint(1, 12), rng.randint(1, 28))}
            f.write(json.dumps(rec) + '\n')
    if len(sys.argv) > 3:
        with open(sys.argv[3], 'w') as f:
            for q in range(50):
                ids = rng.sample(range(n), 251)
                f.write(json.dumps({'query': 'syn%06d' % ids[0], 'candidates': ['syn%06d' % j for j in ids[1:]]}) + '\n')

main()
