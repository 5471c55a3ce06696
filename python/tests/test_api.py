"""The dict API around the engine: errors, Decimal money, the Simulation partial sums."""

from __future__ import annotations

import json
from decimal import Decimal

import pytest

import loyalty_engine as le
from conftest import VECTORS, compact

WORKED = json.loads((VECTORS / "quote" / "001-spec-worked-example.json").read_text("utf-8"))
POLICY = WORKED["request"]["policy"]
QUOTE = {k: v for k, v in WORKED["request"].items() if k not in ("op", "policy")}
SIM = json.loads(
    (VECTORS / "simulate" / "008-rejected-members-left-out.json").read_text("utf-8")
)
SETUP = {k: v for k, v in SIM["request"].items() if k not in ("op", "members")}
MEMBERS = SIM["request"]["members"]


def test_engine_answers_the_worked_example():
    engine = le.Engine(POLICY)
    assert engine.policy_digest == WORKED["expected"]["policy_digest"]
    got = engine.quote(QUOTE)
    assert compact(got) == compact(WORKED["expected"])
    # Money is str, points are int.
    assert isinstance(got["total"], str) and isinstance(got["earned_points"], int)
    # JSON text in gives the same answer.
    assert engine.quote(compact(QUOTE)) == got
    assert engine.validate() == le.validate(POLICY)


def test_decimal_on_request():
    got = le.Engine(POLICY, decimal=True).quote(QUOTE)
    plain = le.Engine(POLICY).quote(QUOTE)
    assert got["total"] == Decimal(plain["total"]) and isinstance(got["total"], Decimal)
    assert got["earned_points"] == plain["earned_points"]
    # Decimal in a request is written as its fixed-point text ("1E+6" would be refused).
    cart = json.loads(compact(QUOTE), parse_float=Decimal)
    line = cart["cart"]["lines"][0]
    line["unit_price"] = Decimal(line["unit_price"]).scaleb(0)
    assert le.Engine(POLICY).quote(cart) == plain
    assert le.to_json({"a": Decimal("1E+6")}) == '{"a":"1000000"}'


def test_errors_are_loyalty_errors_with_code_and_path():
    with pytest.raises(le.LoyaltyError) as e:
        le.Engine({**POLICY, "currency": "XXX"})
    assert e.value.code == "invalid_policy"
    assert e.value.path == "policy.currency"
    bad = json.loads(compact(QUOTE))
    bad["cart"]["lines"][0]["unit_price"] = 12.5
    with pytest.raises(le.LoyaltyError) as e:
        le.Engine(POLICY).quote(bad)
    assert (e.value.code, e.value.path) == ("invalid_request", "cart.lines[0].unit_price")
    assert e.value.to_dict()["error"]["path"] == "cart.lines[0].unit_price"
    # Not JSON at all: the same coded error, never a Python exception of another kind.
    with pytest.raises(le.LoyaltyError) as e:
        le.Engine(POLICY).quote("{not json")
    assert e.value.code == "invalid_request"
    with pytest.raises(le.LoyaltyError) as e:
        le.Engine(POLICY).quote({"cart": {1, 2}})
    assert e.value.code == "invalid_request"
    assert "cannot be written as JSON" in e.value.message


def test_eval_line():
    assert le.eval_line("   ") is None
    out = json.loads(le.eval_line('{"op":"nope"}'))
    assert out["error"]["code"] == "invalid_request" and out["error"]["path"] == "op"


def test_simulation_partials_merge_to_the_whole_report():
    whole = le.simulate({k: v for k, v in SIM["request"].items() if k != "op"})
    assert compact(whole) == compact(SIM["expected"])
    a, b = le.Simulation(request=SETUP), le.Simulation(request=SETUP)
    # Members 0, 2, 4 in one worker and 1, 3 in the other, each with its own index.
    assert a.add_indexed([0, 2, 4], [compact(MEMBERS[i]) for i in (0, 2, 4)]) == 3
    assert b.add_indexed([1, 3], [MEMBERS[1], MEMBERS[3]]) == 2
    pa, pb = a.partial(), b.partial()
    assert isinstance(pa, bytes)
    # partial() takes the sums out: a second partial is empty.
    empty = a.partial()
    total = le.Simulation(request=SETUP).merge(pb, empty, pa)
    assert total.progress == 5
    assert compact(total.finish()) == compact(SIM["expected"])


def test_simulation_from_parts_and_blank_lines():
    s = le.Simulation(
        SETUP["policy"], SETUP.get("baseline"), SETUP["as_of"], SETUP.get("expected_redemption")
    )
    # A blank line keeps its number: the rejected paths are the same as without it? No — they
    # move by one, as in `loyalty simulate`.
    text = "\n".join(compact(m) for m in MEMBERS[:2]) + "\n\n" + "\n".join(
        compact(m) for m in MEMBERS[2:]
    )
    assert s.add(text) == 5
    report = s.finish()
    assert [r["error"]["path"].split(".")[0] for r in report["rejected"]] == [
        "members[1]",
        "members[3]",
        "members[4]",
        "members[5]",
    ]


def test_partial_errors():
    s = le.Simulation(request=SETUP)
    with pytest.raises(le.LoyaltyError) as e:
        s.merge(b"not a partial")
    assert e.value.code == "invalid_request"
    with pytest.raises(le.LoyaltyError) as e:
        s.merge(b"\xff")
    assert e.value.code == "invalid_request"
    # Partial sums of a simulation with a baseline do not merge into one without.
    other = le.Simulation(
        request={**SETUP, "baseline": SETUP["policy"]}
    )
    other.add([MEMBERS[0]])
    with pytest.raises(le.LoyaltyError) as e:
        s.merge(other.partial())
    assert (e.value.code, e.value.path) == ("invalid_request", "baseline")
    s.finish()
    with pytest.raises(le.LoyaltyError) as e:
        s.add([MEMBERS[0]])
    assert e.value.message == "the simulation has already finished"
    with pytest.raises(le.LoyaltyError):
        le.Simulation(request=SETUP).add_at("", -1)
    with pytest.raises(le.LoyaltyError) as e:
        le.Simulation(request={**SETUP, "as_of": "soon"})
    assert e.value.path == "as_of"


def test_generate_is_the_cli_text(loyalty_bin):
    import subprocess

    opts = {"members": 25, "seed": 3, "months": 4, "profile": "sk-grocery"}
    cli = subprocess.run(
        [str(loyalty_bin), "generate", "--members", "25", "--seed", "3", "--months", "4",
         "--profile", "sk-grocery"],
        check=True, capture_output=True, text=True,
    ).stdout
    assert le.generate(opts) == cli
    with pytest.raises(le.LoyaltyError) as e:
        le.generate({**opts, "profile": "moon"})
    assert e.value.path == "profile"
