#!/usr/bin/env python3
"""Independent Python implementation of the policy canonical form, `policy_digest` and the
response `digest` (SPEC §0, §7.1, §7.2), used to fill and check the digest fields of the
conformance vectors in tests/vectors/.

This file is a deliberate cross-check of the Rust engine: it is written from the SPEC and the
engine's documented decisions, never from the engine's output. If the engine and this script
disagree on a digest, find out which side is wrong; do not "fix" either one by copying.

It only ever writes the two digest fields (`policy_digest` and `digest`) of a vector's
`expected` object. It never computes or changes a figure.

Usage (from the crate root):
  python3 tests/vectors/tools/canon.py fill  [FILES...]   # fill policy_digest / digest in place
  python3 tests/vectors/tools/canon.py check [FILES...]   # exit 1 if any digest field is wrong
  python3 tests/vectors/tools/canon.py policy FILE        # print canonical policy + digest
  python3 tests/vectors/tools/canon.py digest-response FILE  # print compact response + digest
Without FILES, fill/check walk tests/vectors/**/*.json. `policy` accepts either a bare policy
document or a vector (it then uses request.policy).
"""
from decimal import Decimal
import hashlib
import json
import os
import re
import sys

# ISO 4217 minor units the engine has built in (SPEC §7.5).
BUILTIN_MINOR_UNITS = {
    "VND": 0, "JPY": 0,
    "EUR": 2, "USD": 2, "GBP": 2, "CZK": 2, "HUF": 2, "PLN": 2, "THB": 2, "IDR": 2, "SGD": 2,
}

DECIMAL_RE = re.compile(r"^-?[0-9]+(\.[0-9]+)?$")


class CanonError(Exception):
    pass


def norm_decimal(s, where):
    """Normalized decimal string: no exponent, no '+', no leading zeros, no trailing fractional
    zeros, -0 -> 0 (SPEC §7.2)."""
    if not isinstance(s, str) or not DECIMAL_RE.match(s):
        raise CanonError(f"{where}: not a decimal string: {s!r}")
    neg = s.startswith("-")
    if neg:
        s = s[1:]
    if "." in s:
        ip, fp = s.split(".", 1)
    else:
        ip, fp = s, ""
    ip = ip.lstrip("0") or "0"
    fp = fp.rstrip("0")
    out = ip + ("." + fp if fp else "")
    if out == "0":
        return "0"
    return ("-" if neg else "") + out


def opt_decimal(v, where):
    return None if v is None else norm_decimal(v, where)


def take(obj, allowed, where):
    if not isinstance(obj, dict):
        raise CanonError(f"{where}: expected an object")
    unknown = [k for k in obj if k not in allowed]
    if unknown:
        raise CanonError(f"{where}: unknown field(s) {unknown}")
    return obj


def canon_when(w, where):
    if w is None:
        w = {}
    keys = ["categories", "skus", "stores", "channels", "tiers", "days_of_week",
            "min_subtotal", "from", "until"]
    take(w, keys, where)
    out = {}
    for k in keys:
        v = w.get(k)
        if k == "min_subtotal":
            v = opt_decimal(v, f"{where}.min_subtotal")
        out[k] = v  # from/until kept exactly as written
    return out


def canon_rule(r, where):
    take(r, ["id", "priority", "when", "multiplier", "bonus_points", "points_per_item"], where)
    return {
        "id": r["id"],
        "priority": r.get("priority", 0),
        "when": canon_when(r.get("when"), f"{where}.when"),
        "multiplier": opt_decimal(r.get("multiplier"), f"{where}.multiplier"),
        "bonus_points": r.get("bonus_points"),
        "points_per_item": r.get("points_per_item"),
    }


def canon_earning(e, where):
    take(e, ["spend", "points", "rounding", "basis", "exclude_categories", "pending_days",
             "max_points_per_order", "rules"], where)
    return {
        "spend": norm_decimal(e["spend"], f"{where}.spend"),
        "points": e["points"],
        "rounding": e.get("rounding", "floor"),
        "basis": e.get("basis", "paid"),
        "exclude_categories": e.get("exclude_categories", []),
        "pending_days": e.get("pending_days", 0),
        "max_points_per_order": e.get("max_points_per_order"),
        "rules": [canon_rule(r, f"{where}.rules[{i}]") for i, r in enumerate(e.get("rules", []))],
    }


DEFAULT_TIERS = {
    "levels": [{"id": "member", "name": "Member", "threshold": "0"}],
}


def canon_tiers(t, where):
    if t is None:
        t = DEFAULT_TIERS
    take(t, ["metric", "window", "levels", "discount_exclude_categories", "downgrade"], where)
    levels = []
    for i, lv in enumerate(t["levels"]):
        lw = f"{where}.levels[{i}]"
        take(lv, ["id", "name", "threshold", "discount_percent", "earn_multiplier"], lw)
        levels.append({
            "id": lv["id"],
            "name": lv["name"],
            "threshold": norm_decimal(lv["threshold"], f"{lw}.threshold"),
            "discount_percent": norm_decimal(lv.get("discount_percent", "0"), f"{lw}.discount_percent"),
            "earn_multiplier": norm_decimal(lv.get("earn_multiplier", "1"), f"{lw}.earn_multiplier"),
        })
    window = t.get("window", "lifetime")
    if isinstance(window, dict):
        take(window, ["rolling_months"], f"{where}.window")
        window = {"rolling_months": window["rolling_months"]}
    d = t.get("downgrade", {})
    take(d, ["review", "retain_months", "max_steps"], f"{where}.downgrade")
    return {
        "metric": t.get("metric", "points"),
        "window": window,
        "levels": levels,
        "discount_exclude_categories": t.get("discount_exclude_categories", []),
        "downgrade": {
            "review": d.get("review", "never"),
            "retain_months": d.get("retain_months", 0),
            "max_steps": d.get("max_steps"),
        },
    }


def canon_redemption(r, where):
    if r is None:
        return None
    take(r, ["point_value", "min_points", "step", "max_share", "max_points_per_order"], where)
    return {
        "point_value": norm_decimal(r["point_value"], f"{where}.point_value"),
        "min_points": r.get("min_points", 1),
        "step": r.get("step", 1),
        "max_share": norm_decimal(r.get("max_share", "1"), f"{where}.max_share"),
        "max_points_per_order": r.get("max_points_per_order"),
    }


def canon_reward(r, where):
    take(r, ["id", "name", "points", "min_tier"], where)
    return {"id": r["id"], "name": r["name"], "points": r["points"], "min_tier": r.get("min_tier")}


EXPIRY_FIELDS = {"never": [], "after": ["months"], "end_of_period": ["period", "after"],
                 "inactivity": ["months"]}


def canon_expiry(x, where):
    if x is None:
        x = {"kind": "never"}
    kind = x.get("kind")
    if kind not in EXPIRY_FIELDS:
        raise CanonError(f"{where}.kind: unknown expiry kind {kind!r}")
    take(x, ["kind"] + EXPIRY_FIELDS[kind], where)
    out = {"kind": kind}
    for k in EXPIRY_FIELDS[kind]:
        out[k] = x[k]
    return out


def canon_policy(p):
    """The canonical form (a dict in canonical key order) of a parsed policy document."""
    take(p, ["schema", "id", "currency", "minor_units", "time_zone", "money_rounding", "earning",
             "tiers", "redemption", "rewards", "expiry", "expiry_notice_days", "members",
             "refunds"], "policy")
    cur = p["currency"]
    if "minor_units" in p:
        mu = p["minor_units"]
    elif cur in BUILTIN_MINOR_UNITS:
        mu = BUILTIN_MINOR_UNITS[cur]
    else:
        raise CanonError(f"policy.currency: unknown currency {cur!r} and no minor_units")
    members = p.get("members", {})
    take(members, ["inactive_earns", "unassigned_card_earns"], "policy.members")
    refunds = p.get("refunds", {})
    take(refunds, ["clawback"], "policy.refunds")
    return {
        "schema": p["schema"],
        "id": p["id"],
        "currency": cur,
        "minor_units": mu,
        "time_zone": p["time_zone"],
        "money_rounding": p.get("money_rounding", "half_up"),
        "earning": canon_earning(p["earning"], "policy.earning"),
        "tiers": canon_tiers(p.get("tiers"), "policy.tiers"),
        "redemption": canon_redemption(p.get("redemption"), "policy.redemption"),
        "rewards": [canon_reward(r, f"policy.rewards[{i}]") for i, r in enumerate(p.get("rewards", []))],
        "expiry": canon_expiry(p.get("expiry"), "policy.expiry"),
        "expiry_notice_days": p.get("expiry_notice_days", 30),
        "members": {
            "inactive_earns": members.get("inactive_earns", False),
            "unassigned_card_earns": members.get("unassigned_card_earns", True),
        },
        "refunds": {"clawback": refunds.get("clawback", "unlimited")},
    }


def compact(obj):
    """SPEC §7.1 compact JSON: no white space, UTF-8, escaping only '"', '\\' and U+0000-U+001F
    (short forms \\n \\r \\t \\b \\f, else \\u00xx lower-case). Python's json module with
    ensure_ascii=False does exactly that."""
    return json.dumps(obj, separators=(",", ":"), ensure_ascii=False, allow_nan=False)


def sha256_tag(text):
    return "sha256:" + hashlib.sha256(text.encode("utf-8")).hexdigest()


def policy_digest(policy):
    return sha256_tag(compact(canon_policy(policy)))


def response_digest(expected):
    """Digest of a quote response: the compact response without its last member `digest`."""
    keys = list(expected)
    if not keys or keys[-1] != "digest":
        raise CanonError("expected response does not end with a `digest` field")
    body = {k: expected[k] for k in keys[:-1]}
    return sha256_tag(compact(body))


def load(path):
    with open(path, encoding="utf-8") as f:
        text = f.read()
    return text, json.loads(text, parse_float=Decimal)


def wanted(vec):
    """The digest fields a vector should hold: {'policy_digest': ..., 'digest': ...} (each only
    when present in the expected object); {} for error responses."""
    exp = vec["expected"]
    if "error" in exp:
        return {}
    out = {}
    if "policy_digest" in exp:
        out["policy_digest"] = policy_digest(policy_in_force(vec["request"]))
    if "digest" in exp:
        filled = dict(exp)
        if "policy_digest" in out:
            filled["policy_digest"] = out["policy_digest"]
        out["digest"] = response_digest(filled)
    return out


def policy_in_force(request):
    """The request's policy, or with `policies` (SPEC §3.1) the version in force at `as_of`: the
    last whose `effective_at` is at or before it (the first applies from the beginning)."""
    if "policies" not in request:
        return request["policy"]
    as_of = instant(request["as_of"])
    chosen = request["policies"][0]["policy"]
    for v in request["policies"][1:]:
        if instant(v["effective_at"]) <= as_of:
            chosen = v["policy"]
    return chosen


def instant(text):
    """An RFC 3339 instant as an aware datetime (an offset is required)."""
    import datetime
    t = datetime.datetime.fromisoformat(text.replace("Z", "+00:00"))
    if t.tzinfo is None:
        raise CanonError(f"instant without offset: {text!r}")
    return t


FIELD_RE = {
    k: re.compile(r'("%s"\s*:\s*)"[^"]*"' % k) for k in ("policy_digest", "digest")
}


def fill_text(text, want):
    """Rewrites only the string values of `"policy_digest"` / `"digest"` keys in the text (they
    occur only in `expected`), keeping the file's layout."""
    # Only inside `expected` (a request's purchases may name a policy version by its digest).
    keys = list(re.finditer(r'"expected"\s*:', text))
    at = keys[-1].start() if keys else 0
    head, text = text[:at], text[at:]
    for k, v in want.items():
        text, n = FIELD_RE[k].subn(lambda m: m.group(1) + '"' + v + '"', text)
        if n != 1:
            raise CanonError(f"expected exactly one {k!r} field in the file, found {n}")
    return head + text


def vector_files(args):
    if args:
        return args
    root = os.path.normpath(os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
    out = []
    for d, _, files in os.walk(root):
        if os.path.basename(d) == "tools":
            continue
        out += [os.path.join(d, f) for f in files if f.endswith(".json")]
    return sorted(out)


def main(argv):
    if len(argv) < 2:
        print(__doc__)
        return 2
    cmd, args = argv[1], argv[2:]
    if cmd == "policy":
        _, doc = load(args[0])
        pol = doc["request"]["policy"] if "request" in doc else doc
        print(compact(canon_policy(pol)))
        print(policy_digest(pol))
        return 0
    if cmd == "digest-response":
        _, doc = load(args[0])
        exp = doc.get("expected", doc)
        print(compact({k: v for k, v in exp.items() if k != "digest"}))
        print(response_digest(exp))
        return 0
    if cmd not in ("fill", "check"):
        print(__doc__)
        return 2
    bad = 0
    for path in vector_files(args):
        try:
            text, vec = load(path)
            want = wanted(vec)
            have = {k: vec["expected"].get(k) for k in want}
            if have == want:
                continue
            if cmd == "check":
                bad += 1
                for k in want:
                    if have[k] != want[k]:
                        print(f"{path}: {k} is {have[k]!r}, canon.py computes {want[k]!r}")
            else:
                new = fill_text(text, want)
                _, again = load_text(new)
                assert {k: again["expected"].get(k) for k in want} == want
                with open(path, "w", encoding="utf-8") as f:
                    f.write(new)
                print(f"filled {path}")
        except (CanonError, KeyError, ValueError, TypeError) as e:
            bad += 1
            print(f"{path}: {type(e).__name__}: {e}")
    return 1 if bad else 0


def load_text(text):
    return text, json.loads(text, parse_float=Decimal)


if __name__ == "__main__":
    sys.exit(main(sys.argv))
