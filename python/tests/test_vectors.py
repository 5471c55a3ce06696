"""The conformance vectors (tests/vectors/) through the Python package, byte for byte.

As in tests/node/vectors.test.mjs, for every vector:
  (a) eval_line(compact(request)) is exactly compact(expected) (the CLI contract);
  (b) the dict API gives the same JSON: op quote/replay/progress/verify →
      Engine(policy).<op>(rest), validate → validate(policy), simulate → simulate(request)
      (a raised LoyaltyError compared as compact(err.to_dict()));
  (c) op simulate with members and an answer that is not an error: Simulation fed one member
      per add, and Simulations of two members each merged through partial() bytes, give it too.
"""

from __future__ import annotations

import json

import pytest

import loyalty_engine as le
from conftest import VECTORS, compact, vector_files

FILES = vector_files()


def test_there_are_vectors():
    # Hand-counted from the directories at the time of writing: quote, replay, progress,
    # validate, verify and simulate all have vectors.
    kinds = {p.relative_to(VECTORS).parts[0] for p in FILES}
    assert {"quote", "replay", "progress", "validate", "verify", "simulate"} <= kinds
    assert len(FILES) > 100


def load(path):
    vector = json.loads(path.read_text("utf-8"))
    assert set(vector) <= {"description", "notes", "request", "expected"}, path
    return vector


def via_dict_api(request: dict):
    """The dict API's answer as compact JSON; None if there is no dict form for it."""
    op = request.get("op")
    policy = request.get("policy")
    rest = {k: v for k, v in request.items() if k not in ("op", "policy")}

    def as_line(run):
        try:
            return compact(run())
        except le.LoyaltyError as e:
            return compact(e.to_dict())

    if op == "validate" and isinstance(policy, dict) and not rest:
        return as_line(lambda: le.validate(policy))
    if op == "simulate":
        return as_line(lambda: le.simulate({k: v for k, v in request.items() if k != "op"}))
    if op in ("quote", "replay", "progress", "verify") and isinstance(policy, dict):
        try:
            engine = le.Engine(policy)
        except le.LoyaltyError as e:
            return compact(e.to_dict())
        return as_line(lambda: getattr(engine, op)(rest))
    return None


@pytest.mark.parametrize("path", FILES, ids=[str(p.relative_to(VECTORS)) for p in FILES])
def test_vector(path):
    vector = load(path)
    request, expected = vector["request"], compact(vector["expected"])
    # (a) the CLI contract
    assert le.eval_line(compact(request)) == expected, vector["description"]
    # (b) the dict API
    got = via_dict_api(request)
    if got is not None:
        assert got == expected, vector["description"]
    # (c) the streaming and partial-sums forms of simulate
    members = request.get("members")
    if request.get("op") == "simulate" and isinstance(members, list) and "error" not in vector["expected"]:
        setup = {k: v for k, v in request.items() if k not in ("op", "members")}
        single = le.Simulation(request=setup)
        for m in members:
            single.add([m])
        assert compact(single.finish()) == expected
        parts = []
        for i in range(0, len(members), 2):
            worker = le.Simulation(request=setup)
            worker.add_at([compact(m) for m in members[i : i + 2]], i)
            parts.append(worker.partial())
        merged = le.Simulation(request=setup)
        # Merged in reverse: the report does not depend on the order.
        merged.merge(*reversed(parts))
        assert merged.progress == len(members)
        assert compact(merged.finish()) == expected
