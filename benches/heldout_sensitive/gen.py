#!/usr/bin/env python3
"""Held-out sensitive-data traffic made with Faker (not with apitap's own builder).

usage: gen.py OUT_DIR SEED CALLS

Each call is one TCP connection with one planted value (or a hard negative) in a header,
the query, a JSON or form request body, or a JSON response body (sometimes gzip, sometimes
chunked), among realistic neighbouring fields (names, street addresses, prices, ids,
timestamps, free text). Values come from Faker's providers in ten locales, secrets follow
their vendors' published formats. labels.json maps each call's client port to the
(type, location) pairs it must yield; score.py compares them with apitap's events.
"""
import base64, datetime, gzip, hashlib, hmac, json, os, random, string, struct, sys, urllib.parse, uuid

from faker import Faker

# Some Faker providers iterate over sets: string hashing must be fixed for the same seed to
# give the same traffic, so the generator re-executes itself with it fixed.
if os.environ.get("PYTHONHASHSEED") != "0":
    os.environ["PYTHONHASHSEED"] = "0"
    os.execv(sys.executable, [sys.executable] + sys.argv)

out_dir, seed, calls = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
rng = random.Random(seed)
Faker.seed(seed)
LOCALES = ["en_US", "en_GB", "de_DE", "fr_FR", "es_ES", "it_IT", "nl_NL", "pt_BR", "en_IN", "en_AU"]
fakers = {l: Faker(l) for l in LOCALES}
us = fakers["en_US"]
# Dates end at a fixed day (Faker's default is today): the same seed gives the same traffic.
END = datetime.datetime(2026, 1, 1)
os.makedirs(out_dir, exist_ok=True)


sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
from pcap_writer import Pcap  # noqa: E402  (benches/pcap_writer.py)


def rand_str(alphabet, n):
    return "".join(rng.choice(alphabet) for _ in range(n))


ALNUM = string.ascii_letters + string.digits
B64 = ALNUM + "+/"


def fmt_card(n):
    style = rng.random()
    if style < 0.5:
        return n
    sep = " " if style < 0.8 else "-"
    if len(n) == 15:
        return sep.join([n[:4], n[4:10], n[10:]])
    return sep.join(n[i:i + 4] for i in range(0, len(n), 4))


def card():
    t = rng.choice(["visa16", "mastercard", "amex", "discover", "jcb16", "diners", "visa16", "mastercard"])
    return fmt_card(us.credit_card_number(card_type=t))


def b64url(b):
    return base64.urlsafe_b64encode(b).rstrip(b"=").decode()


def jwt():
    alg = rng.choice(["HS256", "RS256", "ES256"])
    now = 1_767_225_600
    claims = {"sub": str(rng.randrange(10**6)), "iat": now - 60, "exp": now + rng.choice([300, 900, 3600]),
              "iss": rng.choice(["https://auth.example.com", "https://login.acme.io/", "accounts.example.org"])}
    if rng.random() < 0.5:
        claims["scope"] = "read write"
    h = b64url(json.dumps({"alg": alg, "typ": "JWT"}).encode())
    p = b64url(json.dumps(claims).encode())
    sig = b64url(rng.randbytes(32 if alg != "RS256" else 256))
    return f"{h}.{p}.{sig}"


def pem():
    kind = rng.choice(["RSA PRIVATE KEY", "PRIVATE KEY", "EC PRIVATE KEY", "OPENSSH PRIVATE KEY"])
    body = base64.b64encode(rng.randbytes(rng.choice([121, 609, 1190]))).decode()
    lines = "\n".join(body[i:i + 64] for i in range(0, len(body), 64))
    return f"-----BEGIN {kind}-----\n{lines}\n-----END {kind}-----\n"


def dob():
    d = us.date_between_dates(datetime.date(1936, 1, 1), datetime.date(2008, 1, 1))
    return rng.choice([d.isoformat(), d.strftime("%m/%d/%Y"), d.strftime("%d.%m.%Y"), d.strftime("%Y%m%d")])


def phone():
    f = fakers[rng.choice(LOCALES)]
    if rng.random() < 0.2:  # E.164 as APIs store it (Twilio, Stripe, Auth0)
        return "+1" + "".join(c for c in us.basic_phone_number() if c.isdigit())[-10:]
    return f.phone_number()


def iban():
    f = fakers[rng.choice(["de_DE", "fr_FR", "en_GB", "nl_NL", "es_ES", "it_IT", "pt_BR"])]
    v = f.iban()
    if rng.random() < 0.4:
        v = " ".join(v[i:i + 4] for i in range(0, len(v), 4))
    return v


# type -> (value maker, field names, locations it may go to)
BODY = ["request.body", "response.body"]
ANY = ["request.query", "request.header", "request.body", "response.body"]
CLASSES = {
    "email": (lambda: rng.choice([us.email(), fakers[rng.choice(LOCALES)].free_email(), us.company_email()]),
              ["email", "emailAddress", "contact_email", "user_email", "mail", "owner"], ANY),
    "credit_card": (card, ["card_number", "cardNumber", "pan", "cc", "payment_card", "number"], BODY),
    "us_ssn": (lambda: us.ssn() if rng.random() < 0.7 else us.ssn().replace("-", ""),
               ["ssn", "social_security_number", "taxpayer_id", "socialSecurityNumber"], BODY + ["request.query"]),
    "phone": (phone, ["phone", "phoneNumber", "mobile", "telephone", "contact_phone", "cell"], ANY),
    "iban": (iban, ["iban", "bank_account", "account_iban", "payoutAccount"], BODY),
    "jwt": (jwt, ["access_token", "id_token", "token", "session"], BODY),
    "aws_access_key": (lambda: rng.choice(["AKIA", "ASIA"]) + rand_str(string.ascii_uppercase + "234567", 16),
                       ["aws_access_key_id", "accessKeyId", "key_id"], BODY + ["request.query"]),
    "aws_secret_key": (lambda: rand_str(B64, 40), ["aws_secret_access_key", "secretAccessKey", "SecretAccessKey"], BODY),
    "github_token": (lambda: rng.choice(["ghp_", "gho_", "ghs_", "ghu_"]) + rand_str(ALNUM, 36)
                     if rng.random() < 0.8 else "github_pat_" + rand_str(ALNUM, 22) + "_" + rand_str(ALNUM, 59),
                     ["token", "github_token", "gh_token", "value"], BODY + ["request.header"]),
    "slack_token": (lambda: rng.choice(["xoxb", "xoxp"]) + "-" + rand_str(string.digits, 12) + "-" + rand_str(string.digits, 13)
                    + "-" + rand_str(ALNUM, 24), ["slack_token", "token", "bot_token"], BODY),
    "stripe_key": (lambda: rng.choice(["sk_live_", "rk_live_"]) + rand_str(ALNUM, rng.choice([24, 99])),
                   ["stripe_key", "secret_key", "apiKey"], BODY),
    "google_api_key": (lambda: "AIza" + rand_str(ALNUM + "-_", 35), ["key", "api_key", "googleApiKey"], ANY),
    "private_key": (pem, ["private_key", "privateKey", "key", "pem"], BODY),
    "password": (lambda: us.password(length=rng.choice([8, 10, 12, 16])), ["password", "passwd", "new_password", "pwd", "user_password"],
                 ["request.body"]),
    "ipv4": (lambda: us.ipv4_public(), ["ip", "ip_address", "client_ip", "last_login_ip", "remote_addr"], BODY),
    "date_of_birth": (dob, ["dob", "date_of_birth", "birthdate", "birthDate", "birthday"], BODY),
}

# Hard negatives: (value maker, field names). None of them may be flagged.
NEGATIVES = [
    (lambda: str(uuid.UUID(int=rng.getrandbits(128))), ["id", "request_id", "trace_id"]),
    (lambda: us.iso8601(end_datetime=END), ["created_at", "updated", "timestamp"]),
    (lambda: str(rng.randrange(1_600_000_000_000, 1_800_000_000_000)), ["ts", "time_ms", "createdAt"]),
    (lambda: bad_luhn(), ["order_number", "orderId", "invoice", "tracking_number"]),
    (lambda: rng.choice(["v1.2.3", "2.14.0", "10.0.19041.1", "1.0.0-beta.2", "4.18.2"]), ["version", "build", "sdk_version"]),
    (lambda: hashlib.sha1(rng.randbytes(8)).hexdigest(), ["etag", "commit", "sha"]),
    (lambda: hashlib.sha256(rng.randbytes(8)).hexdigest(), ["checksum", "digest", "hash"]),
    (lambda: base64.b64encode(rng.randbytes(30)).decode(), ["nonce", "cursor", "page_token"]),
    (lambda: "AKIAIOSFODNN7EXAMPLE", ["example_key"]),
    (lambda: us.isbn13(), ["isbn"]),
    (lambda: us.postcode(), ["zip", "postal_code"]),
    (lambda: str(rng.randrange(1000, 99999999)), ["quantity", "count", "total", "page"]),
    (lambda: f"{rng.randrange(1, 9999)}.{rng.randrange(0, 99):02d}", ["price", "amount"]),
    (lambda: us.ean13(), ["barcode", "gtin"]),
    (lambda: us.hex_color(), ["color"]),
    (lambda: us.user_agent(), ["user_agent"]),
    (lambda: us.url(), ["homepage", "website"]),
    (lambda: us.mac_address(), ["mac"]),
    (lambda: "sk_test_" + rand_str(ALNUM, 24), ["stripe_test_key"]),
    (lambda: rng.choice(["user@localhost", "admin@internal", "name@host.invalidtld", "a@b", "@handle", "x@y.z"]),
     ["contact", "login", "handle"]),
    (lambda: bad_iban(), ["account", "reference"]),
    (lambda: base64.b64encode(rng.randbytes(30)).decode(), ["signature", "sig", "hmac"]),
    (lambda: ".".join(rand_str(ALNUM, n) for n in (8, 12, 10)), ["state", "session_state"]),
    (lambda: us.date(pattern=rng.choice(["%m/%d/%Y", "%Y-%m-%d", "%d.%m.%Y"]), end_datetime=END), ["appointment_date", "due", "expires_on"]),
    (lambda: "1Z" + rand_str(string.ascii_uppercase + string.digits, 16), ["tracking"]),
    (lambda: f"{us.latitude()},{us.longitude()}", ["location", "coords"]),
    (lambda: rng.choice(["127.0.0.1", "0.0.0.0", "255.255.255.0"]), ["bind", "netmask"]),
    (lambda: us.paragraph(nb_sentences=3) + f" Ref {rng.randrange(10**8, 10**9)}, build {rng.randrange(1000, 9999)}.", ["comment", "text"]),
    (lambda: f"{rng.randrange(100, 999)}-{rng.randrange(10, 99)}-{rng.randrange(1000, 9999)}-{rng.randrange(10, 99)}", ["part_no", "sku"]),
]


def bad_iban():
    """A real-looking IBAN whose check digits are wrong."""
    v = fakers[rng.choice(["de_DE", "fr_FR", "en_GB"])].iban()
    while True:
        w = v[:2] + "%02d" % rng.randrange(2, 99) + v[4:]
        if int("".join(str(int(c, 36)) for c in w[4:] + w[:4])) % 97 != 1:
            return w


def bad_luhn():
    while True:
        n = str(rng.choice([4, 5, 3, 6])) + rand_str(string.digits, 15)
        s = 0
        for i, ch in enumerate(reversed(n)):
            d = int(ch)
            if i % 2:
                d = d * 2 - 9 if d > 4 else d * 2
            s += d
        if s % 10:
            return n


def background(f):
    """Realistic neighbours: personal but not in the class list, and look-alike numbers."""
    return {
        "id": rng.randrange(1, 10**7),
        "name": f.name(),
        "company": f.company(),
        "street": f.street_address(),
        "city": f.city(),
        "created_at": us.iso8601(end_datetime=END),
        "price": round(rng.uniform(1, 5000), 2),
        "currency": rng.choice(["USD", "EUR", "GBP"]),
        "description": f.sentence(nb_words=12),
        "active": rng.random() < 0.5,
        "tags": [f.word() for _ in range(rng.randrange(0, 4))],
    }


def xml_escape(v):
    return str(v).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def http_request(method, path, query, headers, body, ctype):
    lines = [f"{method} {path}{'?' + query if query else ''} HTTP/1.1", "Host: api.heldout.example",
             "User-Agent: " + rng.choice(["python-requests/2.32.3", "okhttp/4.12.0", "curl/8.5.0", "axios/1.7.2"]),
             "Accept: application/json"]
    lines += [f"{k}: {v}" for k, v in headers]
    if body is not None:
        lines += [f"Content-Type: {ctype}", f"Content-Length: {len(body)}"]
    return ("\r\n".join(lines) + "\r\n\r\n").encode() + (body or b"")


def http_response(body):
    hdr = ["HTTP/1.1 200 OK", "Content-Type: application/json; charset=utf-8", "Cache-Control: no-store"]
    if rng.random() < 0.25:
        body = gzip.compress(body, mtime=0)
        hdr.append("Content-Encoding: gzip")
    if rng.random() < 0.25:
        hdr.append("Transfer-Encoding: chunked")
        chunks, i = b"", 0
        while i < len(body):
            n = rng.randrange(50, 800)
            chunks += b"%x\r\n" % len(body[i:i + n]) + body[i:i + n] + b"\r\n"
            i += n
        return ("\r\n".join(hdr) + "\r\n\r\n").encode() + chunks + b"0\r\n\r\n"
    hdr.append(f"Content-Length: {len(body)}")
    return ("\r\n".join(hdr) + "\r\n\r\n").encode() + body


def auth():
    """A credential as real clients send it, and the scheme apitap must name."""
    k = rng.choice(["bearer", "basic", "digest", "api_key_header", "api_key_query", "cookie", "aws_sigv4", "none"])
    if k == "bearer":
        return k, [("Authorization", "Bearer " + rng.choice([jwt(), rand_str(ALNUM, 40), "ya29." + rand_str(ALNUM + "-_", 60)]))], ""
    if k == "basic":
        u = f"{us.user_name()}:{us.password()}"
        return k, [("Authorization", "Basic " + base64.b64encode(u.encode()).decode())], ""
    if k == "digest":
        return k, [("Authorization", f'Digest username="{us.user_name()}", realm="api", nonce="{rand_str(ALNUM, 32)}", '
                                     f'uri="/api", response="{hashlib.md5(rng.randbytes(8)).hexdigest()}", qop=auth, nc=00000001, '
                                     f'cnonce="{rand_str(ALNUM, 16)}"')], ""
    if k == "api_key_header":
        return k, [(rng.choice(["X-API-Key", "x-api-key", "Api-Key", "X-Api-Token", "apikey"]), rand_str(ALNUM, 32))], ""
    if k == "api_key_query":
        return k, [], urllib.parse.urlencode({rng.choice(["api_key", "apikey", "apiKey", "key"]): rand_str(ALNUM, 32)})
    if k == "cookie":
        name = rng.choice(["session", "sessionid", "JSESSIONID", "PHPSESSID", "connect.sid", "_app_session", "sid"])
        return k, [("Cookie", f"_ga=GA1.2.{rng.randrange(10**9)}.{rng.randrange(10**9)}; {name}={rand_str(ALNUM, 32)}; theme=dark")], ""
    if k == "aws_sigv4":
        return k, [("X-Amz-Date", "20260101T000000Z"),
                   ("Authorization", f"AWS4-HMAC-SHA256 Credential=AKIA{rand_str(string.ascii_uppercase + '234567', 16)}/20260101/us-east-1/"
                                     f"execute-api/aws4_request, SignedHeaders=host;x-amz-date, Signature={hashlib.sha256(rng.randbytes(8)).hexdigest()}")], ""
    return k, [], ""


def one_call(i):
    f = fakers[rng.choice(LOCALES)]
    negative = rng.random() < 0.3
    if negative:
        make, names = rng.choice(NEGATIVES)
        kind, locs = None, ["request.query", "request.body", "response.body"]
    else:
        kind = rng.choice(list(CLASSES))
        make, names, locs = CLASSES[kind]
    value, field, loc = make(), rng.choice(names), rng.choice(locs)
    path = rng.choice(["/api/v1/users", "/api/v2/accounts/%d" % rng.randrange(1, 99999), "/v1/customers",
                       "/api/profile", "/api/v1/payments", "/internal/settings"])
    query, headers, req_body, ctype = "", [], None, None
    resp_obj = background(f)
    method = "GET"
    if loc == "request.query":
        query = urllib.parse.urlencode({"page": rng.randrange(1, 9), field: value})
    elif loc == "request.header":
        hname = {"email": "X-User-Email", "phone": "X-Caller-Phone", "github_token": "X-GitHub-Token",
                 "google_api_key": "X-Goog-Api-Key"}.get(kind, "X-Debug-" + field.title().replace("_", "-"))
        headers.append((hname, value))
    elif loc == "request.body":
        method = rng.choice(["POST", "PUT", "PATCH"])
        obj = background(f)
        if kind == "password":
            obj = {"username": f.user_name(), field: value, "remember_me": True}
        r = rng.random()
        if r < 0.1:
            obj[field] = value
            b = "----apitapBoundary" + rand_str(ALNUM, 16)
            parts = "".join(f'--{b}\r\nContent-Disposition: form-data; name="{k}"\r\n\r\n'
                            f'{v if not isinstance(v, (list, dict)) else json.dumps(v)}\r\n' for k, v in obj.items())
            req_body, ctype = (parts + f"--{b}--\r\n").encode(), f"multipart/form-data; boundary={b}"
        elif r < 0.2:
            obj[field] = value
            inner = "".join(f"<{k}>{xml_escape(v)}</{k}>" for k, v in obj.items() if not isinstance(v, (list, dict)))
            req_body, ctype = f'<?xml version="1.0" encoding="UTF-8"?><request>{inner}</request>'.encode(), "application/xml"
        elif r < 0.4:
            obj[field] = value
            req_body, ctype = urllib.parse.urlencode({k: v if not isinstance(v, (list, dict)) else json.dumps(v)
                                                      for k, v in obj.items()}).encode(), "application/x-www-form-urlencoded"
        else:
            if rng.random() < 0.5:
                obj[field] = value
            else:
                obj["details"] = {field: value, "note": f.sentence(nb_words=6)}
            req_body, ctype = json.dumps(obj).encode(), "application/json"
    else:
        if rng.random() < 0.5:
            resp_obj[field] = value
        else:
            resp_obj = {"data": [background(f) for _ in range(rng.randrange(0, 3))] + [dict(background(f), **{field: value})],
                        "page": 1}
    resp = http_response(json.dumps(resp_obj).encode())
    scheme, auth_headers, auth_query = auth()
    headers = auth_headers + headers
    if auth_query:
        query = auth_query + ("&" + query if query else "")
    # Where the credential travels: apitap reports it there too (a JWT, a password, a key).
    carriers = [["request.header", h.lower()] for h, _ in auth_headers if h.lower() not in ("x-amz-date",)]
    carriers += [["request.query", q.split("=")[0]] for q in auth_query.split("&") if q]
    if scheme == "cookie":
        carriers.append(["request.header", "cookie"])
    # A key planted in a header or the query is itself an API-key credential.
    schemes_ok = [scheme]
    if not negative and loc == "request.header" and kind in ("google_api_key", "github_token"):
        schemes_ok.append("api_key_header")
    if not negative and loc == "request.query" and kind in ("google_api_key", "aws_access_key"):
        schemes_ok.append("api_key_query")
    req = http_request(method, path, query, headers, req_body, ctype)
    expected = [] if negative else [[kind, loc]]
    return req, resp, expected, {"value_kind": "negative" if negative else kind, "field": field, "loc": loc,
                                 "value": value, "auth": schemes_ok, "carriers": carriers}


pcap = Pcap(os.path.join(out_dir, "traffic.pcap"), rng)
labels = {}
for i in range(calls):
    req, resp, expected, info = one_call(i)
    client = "10.9.%d.%d" % (i // 250 % 250, i % 250 + 1)
    port = 20000 + i % 40000
    pcap.conn(client, port, "10.8.0.1", req, resp)
    labels[f"{client}:{port}"] = {"expected": expected, **info}
pcap.close()
json.dump(labels, open(os.path.join(out_dir, "labels.json"), "w"), indent=0)
