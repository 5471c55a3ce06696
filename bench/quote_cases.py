"""Writes bench/quote_cases.json: the requests the quote benchmark times (native and Node).

Three cases: SPEC §2's worked example; issue 17's 10-line cart under 4 earning rules and a tier
multiplier (`ten_lines_5_rules`, the case of the side-by-side benchmark against
json-rules-engine, bench/vs-json-rules-engine.mjs); and a 50-line cart under a policy with 20
rules (multipliers, bonuses, per-item points, gates of every kind). Deterministic: no randomness.
"""
import json, pathlib

here = pathlib.Path(__file__).parent

policy = {
    "schema": 1, "id": "vn-fashion-2026", "currency": "VND", "time_zone": "Asia/Ho_Chi_Minh",
    "earning": {"spend": "100000", "points": 1, "exclude_categories": ["gift_card"],
                "rules": [{"id": "shoes-x2", "when": {"categories": ["shoes"]}, "multiplier": "2"},
                          {"id": "weekend", "when": {"days_of_week": ["sat", "sun"]}, "bonus_points": 10}]},
    "tiers": {"metric": "points", "window": {"rolling_months": 12},
              "levels": [{"id": "member", "name": "Member", "threshold": "0"},
                         {"id": "silver", "name": "Silver", "threshold": "500", "discount_percent": "5"},
                         {"id": "gold", "name": "Gold", "threshold": "1500", "discount_percent": "10", "earn_multiplier": "1.5"}],
              "discount_exclude_categories": ["gift_card"],
              "downgrade": {"review": "anniversary", "retain_months": 12}},
    "redemption": {"point_value": "1000", "min_points": 10, "max_share": "0.5"},
    "expiry": {"kind": "end_of_period", "period": "year", "after": 1},
}
spec_case = {
    "policy": policy,
    "request": {"member": {"id": "m-001", "status": "active", "tier": "silver", "points": 300},
                "cart": {"id": "ord-1", "at": "2026-03-07T10:00:00+07:00", "store": "hcm-01", "channel": "pos",
                         "lines": [{"id": "A", "sku": "TEE-01", "category": "apparel", "quantity": 2, "unit_price": "250000"},
                                   {"id": "B", "sku": "RUN-42", "category": "shoes", "quantity": 1, "unit_price": "1200000"}]},
                "redeem_points": "max"},
}

categories = ["apparel", "shoes", "bags", "accessories", "kids", "sport", "beauty", "home", "gift_card", "outlet"]
rules = []
for i in range(20):
    cat = categories[i % len(categories)]
    kind = i % 4
    when = {"categories": [cat]}
    if i % 5 == 1:
        when["stores"] = ["hcm-01", "hn-02"]
    if i % 5 == 2:
        when["days_of_week"] = ["mon", "tue", "wed", "thu", "fri", "sat"]
    if i % 5 == 3:
        when["min_subtotal"] = "500000"
    if i % 5 == 4:
        when["from"] = "2026-01-01"
        when["until"] = "2027-01-01"
    rule = {"id": f"r{i:02d}", "priority": i % 3, "when": when}
    if kind in (0, 1):
        rule["multiplier"] = ["1.5", "2", "3", "1.25"][i % 4]
    elif kind == 2:
        rule["bonus_points"] = 5 + i
    else:
        rule["points_per_item"] = 1
    rules.append(rule)
big_policy = json.loads(json.dumps(policy))
big_policy["earning"]["rules"] = rules
lines = [{"id": f"L{i:02d}", "sku": f"SKU-{i:03d}", "category": categories[i % len(categories)],
          "quantity": 1 + i % 3, "unit_price": str(99000 + 10000 * i)} for i in range(50)]
big_case = {
    "policy": big_policy,
    "request": {"member": {"id": "m-002", "status": "active", "tier": "gold", "points": 5000},
                "cart": {"id": "ord-2", "at": "2026-03-09T18:30:00+07:00", "store": "hcm-01", "channel": "pos", "lines": lines},
                "redeem_points": "max"},
}
# Issue 17's case: 4 earning rules (shoes ×2, bags ×3, weekend +10, subtotal ≥ 2,000,000 +25)
# and the gold tier's ×1.5; a gold member with 0 points; 10 lines on a Saturday.
ten_policy = {
    "schema": 1, "id": "ten-lines", "currency": "VND", "time_zone": "Asia/Ho_Chi_Minh",
    "earning": {"spend": "100000", "points": 1, "rounding": "floor", "basis": "gross",
                "exclude_categories": ["gift_card"],
                "rules": [{"id": "shoes-x2", "when": {"categories": ["shoes"]}, "multiplier": "2"},
                          {"id": "bags-x3", "when": {"categories": ["bags"]}, "multiplier": "3"},
                          {"id": "weekend", "when": {"days_of_week": ["sat", "sun"]}, "bonus_points": 10},
                          {"id": "big-basket", "when": {"min_subtotal": "2000000"}, "bonus_points": 25}]},
    "tiers": {"metric": "points", "window": "lifetime",
              "levels": [{"id": "member", "name": "Member", "threshold": "0"},
                         {"id": "gold", "name": "Gold", "threshold": "1500", "earn_multiplier": "1.5"}]},
}
ten_categories = ["apparel", "shoes", "bags", "food", "gift_card"]
ten_case = {
    "policy": ten_policy,
    "request": {"member": {"id": "m-010", "status": "active", "tier": "gold", "points": 0},
                "cart": {"id": "ord-10", "at": "2026-03-07T10:00:00+07:00",
                         "lines": [{"id": f"L{i}", "category": ten_categories[i % 5], "quantity": 1 + i % 3,
                                    "unit_price": str(150000 + 37000 * i)} for i in range(10)]}},
}
if __name__ == "__main__":
    out = {"spec_example": spec_case, "ten_lines_5_rules": ten_case, "cart_50_lines_20_rules": big_case}
    (here / "quote_cases.json").write_text(json.dumps(out, indent=1) + "\n")
