#!/usr/bin/env python3
"""Seeds the fuzz corpora from the conformance vectors (tests/vectors/**/*.json):

  corpus/eval/     every vector's request line (all ops) and a few NDJSON edge cases
  corpus/ndjson/   the request lines joined as small NDJSON streams
  corpus/policy/   every policy in a request
  corpus/replay/   replay/progress requests without op and policy
  corpus/verify/   verify requests without op and policy
  corpus/member_line/  every replay/progress vector's member and events, every simulate
                   vector's members (add generated ones: loyalty generate … | split -l 1)

Usage: python3 fuzz/seed.py   (from the repository root or fuzz/)
"""
import hashlib, json, os, sys

here = os.path.dirname(os.path.abspath(__file__))
root = os.path.dirname(here)
vectors = os.path.join(root, "tests", "vectors")


def put(target, data):
    d = os.path.join(here, "corpus", target)
    os.makedirs(d, exist_ok=True)
    if isinstance(data, str):
        data = data.encode("utf-8")
    with open(os.path.join(d, hashlib.sha1(data).hexdigest()), "wb") as f:
        f.write(data)


def compact(v):
    return json.dumps(v, separators=(",", ":"), ensure_ascii=False)


lines = []
for d, _, files in sorted(os.walk(vectors)):
    if os.path.basename(d) == "tools":
        continue
    for name in sorted(files):
        if not name.endswith(".json"):
            continue
        with open(os.path.join(d, name), encoding="utf-8") as f:
            vec = json.load(f)
        req = vec.get("request")
        if not isinstance(req, dict):
            continue
        line = compact(req)
        lines.append(line)
        put("eval", line)
        if isinstance(req.get("policy"), dict):
            put("policy", compact(req["policy"]))
        rest = {k: v for k, v in req.items() if k not in ("op", "policy")}
        if req.get("op") in ("replay", "progress"):
            put("replay", compact(rest))
            put("member_line", compact({"member": req.get("member"), "events": req.get("events")}))
        if req.get("op") == "simulate":
            for m in req.get("members") or []:
                put("member_line", compact(m))
        if req.get("op") == "verify":
            put("verify", compact(rest))
        if req.get("op") == "quote":
            # A verify request the fuzzer can mutate into every kind of mismatch.
            exp = vec.get("expected", {})
            if "error" not in exp:
                put("verify", compact({"request": rest, "response": exp}))

for i in range(0, len(lines), 3):
    chunk = lines[i:i + 3]
    put("ndjson", "\n".join(chunk) + "\n")
    put("ndjson", "\r\n\n".join(chunk))
put("ndjson", b"\xff\n\n   \n{}\r\n" + b"x" * 100 + b"\n[]")
print(f"seeded from {len(lines)} vectors")
