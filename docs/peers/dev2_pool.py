"""Draw the queries of the second dev yardstick (data/relevance-dev2.json) and pool
their candidates for judging.

Run from the repository root (Debian python3-sklearn 1.2.1):

    go build -o /tmp/paperrec ./cmd/paperrec
    /usr/bin/python3 docs/peers/dev2_pool.py /tmp/paperrec > /tmp/dev2-pool.json

- Queries: a seeded draw (random.Random(20261129)) of 10 papers per area, none of them a
  query of data/relevance-dev.json.
- Pool per query: the top 20 of the engine (`paperrec related ID -k 20 --json`, as built
  at the commit that added this script) and the top 10 of three systems that share no
  code with it:
    tfidf  scikit-learn TfidfVectorizer on title + abstract (English stop words,
           sublinear tf, 1-2-grams), cosine;
    lsa    the same TF-IDF (unigrams) reduced to 150 dimensions by TruncatedSVD
           (seed 0), cosine;
    kp     TfidfVectorizer (1-2-grams, sublinear) on the keyphrase line alone, cosine.
- Output: JSON {query_id: {"title", "area", "candidates": {cand_id: [systems]}}} and, per
  query, "order": the candidates in a seeded shuffle, which is the order they were judged
  in (the judge saw neither the systems nor the ranks).
"""
import json, random, re, subprocess, sys
import numpy as np
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.decomposition import TruncatedSVD

AREAS = ('Theoretical Physics', 'Experimental Physics', 'Foundational AI', 'Astrophysics')
HDR = re.compile(r'^(%s) \w{3} \d{1,2}, \d{4}$' % '|'.join(AREAS))
SEED = 20261129


def load(path):
    papers, cur = [], None
    for l in open(path, encoding='utf-8').read().split('\n'):
        m = HDR.match(l)
        if m:
            cur = {'area': m.group(1), 'lines': []}
            papers.append(cur)
        elif cur is not None and l.strip() and l not in ('Latest', 'All Posts'):
            cur['lines'].append(l.strip())
    out = []
    for p in papers:
        b = p['lines']
        out.append(dict(area=p['area'], title=b[0], authors=b[1], abstract=b[2], kp=b[3] if len(b) > 3 else ''))
    return out


def top(sim, i, k):
    s = sim[i].copy()
    s[i] = -np.inf
    return [int(j) for j in np.argsort(-s, kind='stable')[:k]]


def main():
    binary = sys.argv[1]
    papers = load('data/iaifi-listing.txt')
    ids = [json.loads(l)['id'] for l in subprocess.run(
        [binary, 'export', '-k', '1'], capture_output=True, text=True, check=True).stdout.splitlines()]
    assert len(ids) == len(papers)
    dev = {j['query'].lower() for j in json.load(open('data/relevance-dev.json'))}
    rng = random.Random(SEED)
    queries = []
    for area in AREAS:
        pool = [i for i, p in enumerate(papers) if p['area'] == area and p['title'].lower() not in dev]
        queries += sorted(rng.sample(pool, 10))

    ta = [p['title'] + ' ' + p['abstract'] for p in papers]
    X = TfidfVectorizer(stop_words='english', sublinear_tf=True, ngram_range=(1, 2)).fit_transform(ta)
    sims = {'tfidf': (X @ X.T).toarray()}
    U = TfidfVectorizer(stop_words='english', sublinear_tf=True).fit_transform(ta)
    Z = TruncatedSVD(150, random_state=0).fit_transform(U)
    Z /= np.linalg.norm(Z, axis=1, keepdims=True)
    sims['lsa'] = Z @ Z.T
    K = TfidfVectorizer(sublinear_tf=True, ngram_range=(1, 2)).fit_transform([p['kp'] for p in papers])
    sims['kp'] = (K @ K.T).toarray()

    out = {}
    for i in queries:
        cands = {}
        res = json.loads(subprocess.run([binary, 'related', ids[i], '-k', '20', '--json'],
                                        capture_output=True, text=True, check=True).stdout)
        for r in res['related']:
            cands.setdefault(r['id'], []).append('engine')
        for name, sim in sims.items():
            for j in top(sim, i, 10):
                cands.setdefault(ids[j], []).append(name)
        order = sorted(cands)
        rng.shuffle(order)
        out[ids[i]] = {'title': papers[i]['title'], 'area': papers[i]['area'], 'candidates': cands, 'order': order}
    json.dump(out, sys.stdout, indent=1)


main()
