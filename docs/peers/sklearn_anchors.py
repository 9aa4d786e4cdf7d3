"""Reproduce the scikit-learn anchors of issue 3 on the dev judgments.

Run: /usr/bin/python3 docs/peers/sklearn_anchors.py [QRELS]  (Debian python3-sklearn 1.2.1)
Reads data/iaifi-listing.txt and QRELS (default data/relevance-dev.json); prints nDCG@10 and P@10
computed as paperrec's eval does (gain 2^g-1, ideal from all judged candidates,
unjudged results gain 0).
"""
import json, math, re, sys
import numpy as np
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.decomposition import TruncatedSVD

HDR = re.compile(r'^(Theoretical Physics|Experimental Physics|Foundational AI|Astrophysics) \w{3} \d{1,2}, \d{4}$')

def load(path):
    lines = open(path, encoding='utf-8').read().split('\n')
    papers, cur = [], None
    for l in lines:
        if HDR.match(l):
            cur = []
            papers.append(cur)
        elif cur is not None and l.strip() and l not in ('Latest', 'All Posts'):
            cur.append(l.strip())
    return [dict(title=b[0], abstract=b[2], kp=b[3] if len(b) > 3 else '') for b in papers]

def ndcg(rank, grades, k=10):
    dcg = sum((2 ** grades.get(t, 0) - 1) / math.log2(i + 2) for i, t in enumerate(rank[:k]))
    ideal = sorted(grades.values(), reverse=True)[:k]
    idcg = sum((2 ** g - 1) / math.log2(i + 2) for i, g in enumerate(ideal))
    p = sum(1 for t in rank[:k] if grades.get(t, 0) >= 1) / k
    return dcg / idcg if idcg else 0, p

def score(sim, papers, qrels):
    titles = [p['title'] for p in papers]
    idx = {t: i for i, t in enumerate(titles)}
    nd, pp = [], []
    for q, grades in qrels.items():
        i = idx[q]
        s = sim[i].copy(); s[i] = -np.inf
        order = np.argsort(-s, kind='stable')
        rank = [titles[j] for j in order[:10]]
        a, b = ndcg(rank, grades); nd.append(a); pp.append(b)
    return np.mean(nd), np.mean(pp)

def main():
    papers = load('data/iaifi-listing.txt')
    qrels = {}
    for j in json.load(open(sys.argv[1] if len(sys.argv) > 1 else 'data/relevance-dev.json')):
        qrels.setdefault(j['query'], {})[j['candidate']] = j['grade']
    ta = [p['title'] + ' ' + p['abstract'] for p in papers]
    tak = [p['title'] + ' ' + p['abstract'] + ' ' + p['kp'] for p in papers]
    runs = {
        'tfidf-defaults(title+abstract)': TfidfVectorizer().fit_transform(ta),
        'tfidf-tuned(stop,sublinear,1-2gram)': TfidfVectorizer(stop_words='english', sublinear_tf=True, ngram_range=(1, 2)).fit_transform(ta),
        'tfidf-tuned+keyphrases': TfidfVectorizer(stop_words='english', sublinear_tf=True, ngram_range=(1, 2)).fit_transform(tak),
    }
    for name, X in runs.items():
        sim = (X @ X.T).toarray()
        print('%-40s nDCG@10 %.3f  P@10 %.3f' % ((name,) + score(sim, papers, qrels)))
    X = TfidfVectorizer(stop_words='english', sublinear_tf=True).fit_transform(ta)
    Z = TruncatedSVD(150, random_state=0).fit_transform(X)
    Z /= np.linalg.norm(Z, axis=1, keepdims=True)
    print('%-40s nDCG@10 %.3f  P@10 %.3f' % (('lsa-150',) + score(Z @ Z.T, papers, qrels)))

main()
