#!/usr/bin/env python3
"""Labelled traffic from real OpenAPI descriptions (the APIs.guru directory): a pcap and labels.json.

usage: gen.py OUT_DIR SEED N_APIS CALLS_PER_API spec.json...
"""
import json, random, struct, sys, os, re, uuid, urllib.parse

out_dir, seed, n_apis, calls_per_api = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
specs = sys.argv[5:]
rng = random.Random(seed)
os.makedirs(out_dir, exist_ok=True)

WORDS = ("alice bob carol dave erin frank grace heidi ivan judy mallory octocat linux react "
         "hello-world my-project docs website backend frontend infra terraform kube api-gateway "
         "payments billing search data-pipeline main develop release staging production eu-west "
         "us-east marketing sales support engineering blue green red acme globex initech "
         "widget gadget sprocket alpha beta gamma delta north south summer winter").split()


sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
from pcap_writer import Pcap  # noqa: E402  (benches/pcap_writer.py)


def resolve(spec, obj):
    seen = 0
    while isinstance(obj, dict) and "$ref" in obj and seen < 10:
        ref = obj["$ref"]
        if not ref.startswith("#/"):
            return {}
        cur = spec
        for part in ref[2:].split("/"):
            cur = cur.get(part.replace("~1", "/").replace("~0", "~"), {}) if isinstance(cur, dict) else {}
        obj = cur
        seen += 1
    return obj if isinstance(obj, dict) else {}


def value_maker(name, schema):
    """A generator of realistic values for one path parameter (its own cardinality)."""
    t = schema.get("type")
    fmt = schema.get("format", "")
    enum = schema.get("enum")
    lname = name.lower()
    if enum:
        vals = [str(e) for e in enum if str(e)]
        return lambda: rng.choice(vals) if vals else "x"
    if t in ("integer", "number") or lname.endswith(("_number", "num")):
        hi = rng.choice([100, 10_000, 1_000_000])
        return lambda: str(rng.randint(1, hi))
    if fmt == "uuid" or "uuid" in lname or "guid" in lname:
        return lambda: str(uuid.UUID(int=rng.getrandbits(128), version=4))
    if fmt in ("date",):
        return lambda: "2025-%02d-%02d" % (rng.randint(1, 12), rng.randint(1, 28))
    if fmt == "date-time":
        return lambda: "2025-%02d-%02dT10:00:00Z" % (rng.randint(1, 12), rng.randint(1, 28))
    if fmt == "email" or "email" in lname:
        return lambda: "%s@example.com" % rng.choice(WORDS)
    if lname.endswith("id") or lname.endswith("_id") or lname.endswith("key") or lname in ("sha", "ref", "hash"):
        style = rng.choice(["int", "hex", "prefixed", "alnum"])
        if style == "int":
            return lambda: str(rng.randint(1, 10_000_000))
        if style == "hex":
            return lambda: "%024x" % rng.getrandbits(96)
        if style == "prefixed":
            pre = lname[:3] if len(lname) >= 3 else "obj"
            return lambda: pre + "_" + "".join(rng.choice("ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz0123456789") for _ in range(14))
        return lambda: "".join(rng.choice("abcdefghijklmnopqrstuvwxyz0123456789") for _ in range(10))
    # Word-like slugs (names, owners, repos, regions): a pool of its own size.
    k = rng.choice([3, 5, 8, 12, 20, 40])
    pool = rng.sample(WORDS, min(k, len(WORDS)))
    return lambda: rng.choice(pool)


labels = []
pc = Pcap(os.path.join(out_dir, "traffic.pcap"), rng)
chosen = []
for path in specs:
    try:
        spec = json.load(open(path))
    except Exception:
        continue
    paths = spec.get("paths") or {}
    if not (5 <= len(paths) <= 400):
        continue
    chosen.append((path, spec))
rng.shuffle(chosen)
chosen = chosen[:n_apis]
server_n = 0
for path, spec in chosen:
    server_n += 1
    host = None
    base = ""
    if spec.get("servers"):
        u = urllib.parse.urlparse(str(spec["servers"][0].get("url", "")))
        host, base = u.hostname, u.path.rstrip("/")
        if "{" in (base or ""):
            base = ""
    elif spec.get("host"):
        host, base = spec["host"], (spec.get("basePath") or "").rstrip("/")
    if not host or "{" in host:
        host = "api%d.example.net" % server_n
    server_ip = "10.9.%d.%d" % (server_n // 250, 1 + server_n % 250)
    ops = []
    for p, item in spec["paths"].items():
        if not isinstance(item, dict) or not p.startswith("/"):
            continue
        common = item.get("parameters", [])
        for m in ("get", "post", "put", "patch", "delete"):
            op = item.get(m)
            if not isinstance(op, dict):
                continue
            params = {}
            for prm in list(common) + list(op.get("parameters", [])):
                prm = resolve(spec, prm)
                if prm.get("in") == "path":
                    sch = resolve(spec, prm.get("schema") or prm)
                    params[prm.get("name", "")] = value_maker(prm.get("name", ""), sch)
            ops.append((m.upper(), p, params))
    if not ops:
        continue
    # Zipf-skewed popularity.
    rng.shuffle(ops)
    weights = [1.0 / (i + 1) ** 1.1 for i in range(len(ops))]
    for _ in range(calls_per_api):
        method, p, params = rng.choices(ops, weights)[0]
        def fill(m):
            name = m.group(1)
            mk = params.get(name)
            v = mk() if mk else rng.choice(WORDS)
            return urllib.parse.quote(v, safe="@:-._~")
        concrete = re.sub(r"\{([^}]*)\}", fill, p)
        full = base + concrete
        tpl = base + p
        body = b'{"ok":true}'
        req = ("%s %s HTTP/1.1\r\nHost: %s\r\nUser-Agent: eval/1.0\r\nAccept: application/json\r\n\r\n" % (method, full, host)).encode()
        resp = b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n" % len(body) + body
        client = "192.168.%d.%d" % (rng.randint(0, 3), rng.randint(1, 250))
        pc.conn(client, rng.randint(20000, 60000), server_ip, req, resp)
        labels.append({"host": host, "method": method, "template": tpl, "path": full, "api": os.path.basename(path)})
pc.close()
json.dump(labels, open(os.path.join(out_dir, "labels.json"), "w"))
print("apis", len(chosen), "calls", len(labels), file=sys.stderr)
