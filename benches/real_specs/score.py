#!/usr/bin/env python3
"""Scores apitap's learned endpoints against labels.json. usage: score.py DIR export.json"""
import json, re, sys, collections

d = sys.argv[1]
labels = json.load(open(d + "/labels.json"))
exp = json.load(open(sys.argv[2]))
eps = exp.get("endpoints", exp) if isinstance(exp, dict) else exp


def blank(t):
    t = re.sub(r"\{[^}]*\}", "{}", t)
    return t.rstrip("/") or "/"


want = collections.Counter()
for l in labels:
    want[(l["host"], l["method"], blank(l["template"]))] += 1
got = collections.Counter()
for e in eps:
    key = (e.get("host"), e.get("method"), blank(e.get("endpoint") or e.get("template") or ""))
    got[key] += e.get("calls", 1)
W, G = set(want), set(got)
tp = len(W & G)
p = tp / len(G) if G else 0
r = tp / len(W) if W else 0
f1 = 2 * p * r / (p + r) if p + r else 0
print("labelled %d learned %d  P %.3f R %.3f F1 %.3f" % (len(W), len(G), p, r, f1))
# call-weighted recall
cw = sum(want[k] for k in W & G) / sum(want.values())
print("call-weighted recall %.3f" % cw)
if "-v" in sys.argv:
    by_api = {}
    for l in labels:
        by_api.setdefault(l["host"], l["api"])
    print("--- learned, not labelled (first 60)")
    for k in sorted(G - W)[:int(sys.argv[-1]) if sys.argv[-1].isdigit() else 60]:
        print("  ", k, got[k])
    print("--- labelled, not learned (first 60)")
    for k in sorted(W - G)[:int(sys.argv[-1]) if sys.argv[-1].isdigit() else 60]:
        print("  ", k, want[k])
