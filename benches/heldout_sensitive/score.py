#!/usr/bin/env python3
"""Per-class precision and recall of apitap's `sensitive[]` against gen.py's labels.

usage: score.py OUT_DIR EVENTS.jsonl [--misses N] [--also FILE...]

A detection counts when its (type, location) is a call's label; any other detection is a
false positive of its type, except items marked test_data (documented samples such as
AKIAIOSFODNN7EXAMPLE or sk_test_ keys are reported as test data by design). --misses prints
N examples of each kind of error. It also counts the planted values (not the negatives) found raw in the events and in the
files after --also (the log, the state files): in default (redacted) mode there must be none.
"""
import collections, json, sys

out_dir, events = sys.argv[1], sys.argv[2]
show = int(sys.argv[sys.argv.index("--misses") + 1]) if "--misses" in sys.argv else 0
labels = json.load(open(f"{out_dir}/labels.json"))
got, schemes = {}, {}
for line in open(events):
    e = json.loads(line)
    if e.get("event_type") != "http":
        continue
    k = f"{e['src_ip']}:{e['src_port']}"
    got[k] = [(s["type"], s["location"], s.get("field"), s.get("test_data", False)) for s in e.get("sensitive", [])]
    schemes[k] = e.get("auth", {}).get("scheme")
tp, fp, fn = collections.Counter(), collections.Counter(), collections.Counter()
ex = collections.defaultdict(list)
missing = 0
for k, lab in labels.items():
    if k not in got:
        missing += 1
        continue
    want = {tuple(x) for x in lab["expected"]}
    # The request's credential is reported where it travels: not a planted value.
    carried = {(c[0], c[1].lower()) for c in lab["carriers"]} - {(lab["loc"], lab["field"].lower())}
    items = [g for g in got[k] if (g[1], (g[2] or "").lower()) not in carried]
    have = {(t, l) for (t, l, _, test) in items}
    tested = {(t, l) for (t, l, _, test) in items if test}
    for w in want:
        if w in have:
            tp[w[0]] += 1
        else:
            fn[w[0]] += 1
            ex[("miss", w[0])].append((lab["field"], lab["loc"], lab["value"], got[k]))
    for h in have - want - tested:
        fp[h[0]] += 1
        ex[("fp", h[0])].append((lab["value_kind"], lab["field"], lab["loc"], lab["value"], [g for g in got[k] if (g[0], g[1]) == h]))
print(f"calls {len(labels)}, without an http event {missing}")
print(f"{'type':16s} {'tp':>5s} {'fn':>5s} {'fp':>5s} {'recall':>7s} {'precision':>9s}")
for t in sorted(set(tp) | set(fn) | set(fp)):
    r = tp[t] / (tp[t] + fn[t]) if tp[t] + fn[t] else float("nan")
    p = tp[t] / (tp[t] + fp[t]) if tp[t] + fp[t] else float("nan")
    print(f"{t:16s} {tp[t]:5d} {fn[t]:5d} {fp[t]:5d} {r:7.3f} {p:9.3f}")
auth_ok = sum(1 for k, lab in labels.items() if schemes.get(k) in lab["auth"])
print(f"auth.scheme: {auth_ok} of {len(labels)} right ({auth_ok / len(labels):.4f})")
confusion = collections.Counter((lab["auth"][0], schemes.get(k)) for k, lab in labels.items() if schemes.get(k) not in lab["auth"])
for (want, have), n in confusion.most_common():
    print(f"  auth {want} seen as {have}: {n}")
text = open(events).read()
if "--also" in sys.argv:
    for f in sys.argv[sys.argv.index("--also") + 1:]:
        text += open(f, errors="replace").read()
leaked = [lab for lab in labels.values() if lab["value_kind"] != "negative"
          and any(len(c) >= 6 and c in text for c in {lab["value"], json.dumps(lab["value"])[1:-1]})]
print(f"planted values found raw in the output: {len(leaked)}")
for (kind, t), xs in sorted(ex.items()):
    for x in xs[:show]:
        print(kind, t, x)
