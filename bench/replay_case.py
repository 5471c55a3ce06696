"""Writes bench/replay_case.json: one member with 1,000 events over three years (the replay
benchmark's input, used natively and in Node). Deterministic: a fixed LCG, no clock.

Mix: ~85 % purchases (1–4 lines, some redeeming points), refunds of earlier purchases,
adjustments, rewards; SPEC §1's policy with pending days and year-end expiry, so expiry,
availability and anniversary reviews all happen between events.
"""
import copy, json, pathlib

import quote_cases
from datetime import datetime, timedelta, timezone

here = pathlib.Path(__file__).parent
# SPEC §1's policy as the quote benchmark uses it, plus pending days and a reward.
policy = copy.deepcopy(quote_cases.policy)
policy["earning"]["pending_days"] = 7
policy["rewards"] = [{"id": "tote-bag", "name": "Tote bag", "points": 300, "min_tier": "silver"}]
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
