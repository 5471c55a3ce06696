"""Writes bench/replay_case.json: one member with 1,000 events over three years (the replay
benchmark's input, used natively and in Node). Deterministic: a fixed LCG, no clock.

Mix: ~85 % purchases (1–4 lines, some redeeming points), refunds of earlier purchases,
adjustments, rewards; SPEC §1's policy with pending days and year-end expiry, so expiry,
availability and anniversary reviews all happen between events.
"""
import json, pathlib
from datetime import datetime, timedelta, timezone

here = pathlib.Path(__file__).parent
policy = {
    "schema": 1, "id": "vn-fashion-2026", "currency": "VND", "time_zone": "Asia/Ho_Chi_Minh",
    "earning": {"spend": "100000", "points": 1, "exclude_categories": ["gift_card"], "pending_days": 7,
                "rules": [{"id": "shoes-x2", "when": {"categories": ["shoes"]}, "multiplier": "2"},
                          {"id": "weekend", "when": {"days_of_week": ["sat", "sun"]}, "bonus_points": 10}]},
    "tiers": {"metric": "points", "window": {"rolling_months": 12},
              "levels": [{"id": "member", "name": "Member", "threshold": "0"},
                         {"id": "silver", "name": "Silver", "threshold": "500", "discount_percent": "5"},
                         {"id": "gold", "name": "Gold", "threshold": "1500", "discount_percent": "10", "earn_multiplier": "1.5"}],
              "discount_exclude_categories": ["gift_card"],
              "downgrade": {"review": "anniversary", "retain_months": 12}},
    "redemption": {"point_value": "1000", "min_points": 10, "max_share": "0.5"},
    "rewards": [{"id": "tote-bag", "name": "Tote bag", "points": 300, "min_tier": "silver"}],
    "expiry": {"kind": "end_of_period", "period": "year", "after": 1},
}
state = 12345
def rnd(n):
    global state
    state = (state * 6364136223846793005 + 1442695040888963407) % 2**64
    return (state >> 33) % n

tz = timezone(timedelta(hours=7))
t = datetime(2023, 1, 2, 10, 0, tzinfo=tz)
cats = [("apparel", 250000), ("shoes", 1200000), ("bags", 650000), ("gift_card", 500000)]
events, purchases = [], []
for i in range(1000):
    t += timedelta(minutes=60 + rnd(3000))
    at = t.isoformat()
    r = rnd(100)
    if r < 85 or not purchases:
        lines = []
        for j in range(1 + rnd(4)):
            c, p = cats[rnd(len(cats))]
            lines.append({"id": f"L{j}", "category": c, "quantity": 1 + rnd(2), "unit_price": str(p + 10000 * rnd(20))})
        e = {"id": f"e{i}", "type": "purchase", "at": at, "cart": {"lines": lines}}
        if rnd(5) == 0:
            e["redeem_points"] = "max"
        events.append(e); purchases.append((e["id"], lines))
    elif r < 92:
        oid, lines = purchases[rnd(len(purchases))]
        events.append({"id": f"e{i}", "type": "refund", "at": at, "order_id": oid,
                       "lines": [{"line_id": lines[0]["id"], "quantity": 1}]})
        purchases = [p for p in purchases if p[0] != oid]
    elif r < 97:
        events.append({"id": f"e{i}", "type": "adjust", "at": at, "points": rnd(40) - 10, "reason": "service"})
    else:
        events.append({"id": f"e{i}", "type": "adjust", "at": at, "points": 5, "reason": "birthday"})
case = {"policy": policy,
        "request": {"member": {"id": "m-bench", "status": "active", "joined_at": "2023-01-01T00:00:00+07:00"},
                    "events": events, "as_of": (t + timedelta(days=1)).isoformat()}}
(here / "replay_case.json").write_text(json.dumps(case) + "\n")
print(len(events), "events from", events[0]["at"], "to", events[-1]["at"])
