#!/usr/bin/env python3
"""Consistency checks on the conformance vectors. It computes no expected figure: it only checks
that the hand-written figures of each vector agree with each other (line sums, paid =
subtotal - discount - redeemed, money written with the currency's minor units, field order),
so a typo in a hand calculation is caught before the engine is run.

Usage: python3 tests/vectors/tools/lint.py [FILES...]   (default: every vector); exit 1 on a problem.
"""
import os
import sys
from decimal import Decimal

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import canon  # noqa: E402

QUOTE_KEYS = ["policy_digest", "member_id", "currency", "tier", "subtotal", "tier_discount",
              "redeemed_points", "redeemed_amount", "max_redeemable_points", "total",
              "earned_points", "lines", "applied_rules", "notes", "digest"]
LINE_KEYS = ["id", "subtotal", "tier_discount", "redeemed_amount", "paid", "earn_basis"]
ERROR_CODES = {"invalid_policy", "invalid_request", "amount_overflow", "limit_exceeded",
               "redemption_exceeds_limit", "redemption_below_minimum", "redemption_step_mismatch",
               "redemption_not_available", "member_not_active", "unknown_tier",
               "duplicate_event_id", "unknown_order", "refund_exceeds_order", "unknown_reward",
               "insufficient_points", "unknown_policy"}
NOTE_ORDER = ["no_tier_benefits", "no_earning", "excluded_lines", "earning_capped"]
WARNING_CODES = {"level_without_benefits", "rule_never_applies", "review_with_lifetime_window",
                 "redemption_min_above_cap"}


def money(s, mu, where, problems):
    if not isinstance(s, str):
        problems.append(f"{where}: money must be a string, got {s!r}")
        return Decimal(0)
    frac = s.split(".")[1] if "." in s else ""
    if len(frac) != mu or (mu == 0 and "." in s):
        problems.append(f"{where}: {s!r} is not written with exactly {mu} minor units")
    return Decimal(s)


def lint_quote(vec, problems):
    req, exp = vec["request"], vec["expected"]
    if list(exp) != QUOTE_KEYS:
        problems.append(f"expected keys {list(exp)} != {QUOTE_KEYS}")
        return
    pol = canon.canon_policy(req["policy"])
    mu = pol["minor_units"]
    if exp["currency"] != pol["currency"]:
        problems.append("currency differs from the policy")
    if exp["member_id"] != req["member"]["id"]:
        problems.append("member_id differs from the request")
    level_ids = [lv["id"] for lv in pol["tiers"]["levels"]]
    want_tier = req["member"].get("tier", level_ids[0])
    if exp["tier"] != want_tier:
        problems.append(f"tier {exp['tier']!r}, snapshot says {want_tier!r}")
    cart_lines = req["cart"]["lines"]
    if [ln["id"] for ln in exp["lines"]] != [ln["id"] for ln in cart_lines]:
        problems.append("line ids differ from the cart (order matters)")
        return
    tot = {k: Decimal(0) for k in ("subtotal", "tier_discount", "redeemed_amount", "paid")}
    for i, (ln, cl) in enumerate(zip(exp["lines"], cart_lines)):
        w = f"lines[{i}]"
        if list(ln) != LINE_KEYS:
            problems.append(f"{w}: keys {list(ln)} != {LINE_KEYS}")
            continue
        v = {k: money(ln[k], mu, f"{w}.{k}", problems) for k in LINE_KEYS[1:]}
        if v["subtotal"] != cl["quantity"] * Decimal(cl["unit_price"]):
            problems.append(f"{w}: subtotal != quantity x unit_price")
        if v["paid"] != v["subtotal"] - v["tier_discount"] - v["redeemed_amount"]:
            problems.append(f"{w}: paid != subtotal - tier_discount - redeemed_amount")
        if v["paid"] < 0 or v["tier_discount"] < 0 or v["redeemed_amount"] < 0:
            problems.append(f"{w}: negative amount")
        basis = {"paid": v["paid"], "after_discount": v["subtotal"] - v["tier_discount"],
                 "gross": v["subtotal"]}[pol["earning"]["basis"]]
        excluded = cl.get("category") in pol["earning"]["exclude_categories"]
        if v["earn_basis"] not in ({Decimal(0)} if excluded else {Decimal(0), basis}):
            problems.append(f"{w}: earn_basis {ln['earn_basis']} is neither 0 nor the {pol['earning']['basis']} basis")
        if cl.get("category") in pol["tiers"]["discount_exclude_categories"] and v["tier_discount"] != 0:
            problems.append(f"{w}: discount on a discount-excluded line")
        for k in tot:
            tot[k] += v[k]
    top = {k: money(exp[k], mu, k, problems) for k in ("subtotal", "tier_discount", "redeemed_amount", "total")}
    for k in ("subtotal", "tier_discount", "redeemed_amount"):
        if top[k] != tot[k]:
            problems.append(f"{k} {top[k]} != sum of lines {tot[k]}")
    if top["total"] != top["subtotal"] - top["tier_discount"] - top["redeemed_amount"] or top["total"] != tot["paid"]:
        problems.append("total != subtotal - tier_discount - redeemed_amount (or != sum of paid)")
    red = pol["redemption"]
    if red is None:
        if exp["redeemed_points"] or exp["max_redeemable_points"]:
            problems.append("redemption without a redemption section")
    else:
        if top["redeemed_amount"] != exp["redeemed_points"] * Decimal(red["point_value"]):
            problems.append("redeemed_amount != redeemed_points x point_value")
        if exp["max_redeemable_points"] % red["step"]:
            problems.append("max_redeemable_points is not a multiple of step")
        if 0 < exp["max_redeemable_points"] < red["min_points"]:
            problems.append("max_redeemable_points is below min_points but not 0")
    if exp["redeemed_points"] > exp["max_redeemable_points"]:
        problems.append("redeemed_points > max_redeemable_points")
    rp = req.get("redeem_points", 0)
    if rp == "max" and exp["redeemed_points"] != exp["max_redeemable_points"]:
        problems.append("'max' must redeem max_redeemable_points")
    if isinstance(rp, int) and exp["redeemed_points"] != rp:
        problems.append("redeemed_points differs from the request")
    if req["member"]["status"] != "active":
        if Decimal(exp["tier_discount"]) != 0:
            problems.append("tier discount for a non-active member")
    rule_ids = [r["id"] for r in pol["earning"]["rules"]]
    prio = {r["id"]: (-r["priority"], i) for i, r in enumerate(pol["earning"]["rules"])}
    ar = exp["applied_rules"]
    for a in ar:
        if list(a) != ["rule", "lines", "effect"] or a["rule"] not in rule_ids:
            problems.append(f"bad applied_rules entry {a}")
            return
        ids = [ln["id"] for ln in cart_lines]
        if [i for i in ids if i in a["lines"]] != a["lines"]:
            problems.append(f"applied_rules {a['rule']}: lines not in cart order")
    if [a["rule"] for a in ar] != sorted((a["rule"] for a in ar), key=lambda r: prio[r]):
        problems.append("applied_rules not ordered by priority desc, then policy order")
    codes = [n["code"] for n in exp["notes"]]
    if codes != sorted(codes, key=NOTE_ORDER.index):
        problems.append("notes out of order")
    if "no_earning" in codes and (exp["earned_points"] or ar or any(Decimal(ln["earn_basis"]) for ln in exp["lines"])):
        problems.append("no_earning but points, rules or earn_basis")


def lint(path):
    problems = []
    try:
        _, vec = canon.load(path)
    except Exception as e:  # noqa: BLE001
        return [f"cannot load: {e}"]
    keys = list(vec)
    if keys not in (["description", "request", "expected"], ["description", "notes", "request", "expected"]):
        problems.append(f"top-level keys {keys}")
    if not isinstance(vec.get("description"), str) or not vec["description"].strip():
        problems.append("empty description")
    req, exp = vec.get("request", {}), vec.get("expected", {})
    op = req.get("op")
    folder = os.path.basename(os.path.dirname(path))
    if op != folder:
        problems.append(f"op {op!r} in folder {folder!r}")
    if "error" in exp:
        e = exp["error"]
        if list(exp) != ["error"] or list(e) != ["code", "message", "path"]:
            problems.append("error object shape")
        elif e["code"] not in ERROR_CODES:
            problems.append(f"unknown error code {e['code']}")
        return problems
    try:
        if op == "quote":
            lint_quote(vec, problems)
        elif op == "validate":
            if list(exp) != ["policy_digest", "warnings"]:
                problems.append("validate response keys")
            for w in exp.get("warnings", []):
                if list(w) != ["code", "message", "path"] or w["code"] not in WARNING_CODES:
                    problems.append(f"bad warning {w}")
    except (KeyError, TypeError, canon.CanonError) as e:
        problems.append(f"{type(e).__name__}: {e}")
    return problems


def main(args):
    files = canon.vector_files(args)
    bad = 0
    for p in files:
        for prob in lint(p):
            bad += 1
            print(f"{os.path.relpath(p)}: {prob}")
    print(f"{len(files)} vectors, {bad} problem(s)")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
