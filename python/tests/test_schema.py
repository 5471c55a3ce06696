"""The JSON Schemas shipped in the package against the engine (jsonschema, Draft 2020-12).

- The package ships the same files as schema/ (what `cargo test --features schema --test
  schema` checks against the Rust types).
- Every vector whose policy the engine accepts has a schema-valid policy, and every vector
  whose policy is schema-invalid is an `invalid_policy` answer; every vector answered without
  an error has a schema-valid request and a schema-valid answer.
- Mutations of every vector's policy (unknown keys, missing required keys, wrong types,
  out-of-range integers, strings outside an enum or pattern, at every place in the document;
  plus seeded random stacked ones): whenever the schema refuses the mutated policy, the engine refuses
  it too.
"""

from __future__ import annotations

import copy
import json
import random

import pytest
from jsonschema import Draft202012Validator

import loyalty_engine as le
from conftest import ROOT, VECTORS, compact, vector_files

NAMES = [
    "error",
    "member-history",
    "policy",
    "progress-response",
    "quote-request",
    "quote-response",
    "replay-request",
    "replay-response",
    "simulate-request",
    "simulate-response",
    "validate-response",
    "verify-request",
    "verify-response",
]


def validator(name):
    schema = le.schema(name)
    Draft202012Validator.check_schema(schema)
    return Draft202012Validator(schema)


POLICY = validator("policy")


def test_the_package_ships_the_schemas():
    assert le.schema_names() == NAMES
    for name in NAMES:
        shipped = le.schema(name)
        assert shipped == json.loads((ROOT / "schema" / f"{name}.json").read_text("utf-8"))
        assert shipped["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    with pytest.raises(KeyError):
        le.schema("nope")


def vectors():
    for path in vector_files():
        yield path.relative_to(VECTORS), json.loads(path.read_text("utf-8"))


REQUEST_SCHEMA = {
    "quote": "quote-request",
    "replay": "replay-request",
    "progress": "replay-request",
    "verify": "verify-request",
    "simulate": "simulate-request",
}
RESPONSE_SCHEMA = {
    "validate": "validate-response",
    "quote": "quote-response",
    "replay": "replay-response",
    "progress": "progress-response",
    "verify": "verify-response",
    "simulate": "simulate-response",
}


def test_every_vector_against_the_schemas():
    validators = {n: validator(n) for n in NAMES}
    counts = {"policy valid": 0, "policy invalid and refused": 0, "request": 0, "answer": 0}
    for name, v in vectors():
        request, expected = v["request"], v["expected"]
        op = request.get("op")
        error = expected.get("error") if isinstance(expected, dict) else None
        if "error" in expected:
            assert not validators["error"].is_valid({"error": {"code": "nope", "message": "", "path": ""}})
            assert validators["error"].is_valid(expected), name
        # The policy, the baseline, and the policy versions of a replay (SPEC §3.1).
        policies = [request.get("policy"), request.get("baseline")]
        versions = request.get("policies")
        if isinstance(versions, list):
            policies += [v.get("policy") if isinstance(v, dict) and "policy" in v else v for v in versions]
        policies = [p for p in policies if isinstance(p, dict)]
        for policy in policies:
            if POLICY.is_valid(policy):
                counts["policy valid"] += 1
            else:
                # The schema refuses it: so does the engine.
                assert error is not None and error["code"] == "invalid_policy", name
                counts["policy invalid and refused"] += 1
        if error is None:
            for policy in policies:
                assert POLICY.is_valid(policy), (name, list(POLICY.iter_errors(policy))[:1])
            if op in REQUEST_SCHEMA:
                # `policy` / `policies` (versions) are the engine's, not part of the request body.
                rest = {k: v for k, v in request.items() if k != "op" and (op == "simulate" or k not in ("policy", "policies"))}
                if op == "simulate":
                    # Members the engine rejected (listed in the answer) may break the schema;
                    # every member it accepted must not.
                    bad = {int(r["error"]["path"].split("]")[0][len("members["):]) for r in expected["rejected"]}
                    rest["members"] = [m for i, m in enumerate(rest["members"]) if i not in bad]
                errs = list(validators[REQUEST_SCHEMA[op]].iter_errors(rest))
                assert not errs, (name, errs[:1])
                counts["request"] += 1
            assert validators[RESPONSE_SCHEMA[op]].is_valid(expected), (
                name,
                list(validators[RESPONSE_SCHEMA[op]].iter_errors(expected))[:1],
            )
            counts["answer"] += 1
    # Most vectors have valid policies; some are policy errors the schema already sees.
    assert counts["policy valid"] > 150, counts
    assert counts["policy invalid and refused"] >= 5, counts
    assert counts["request"] > 100 and counts["answer"] > 100, counts


def test_member_lines_of_loyalty_generate_are_schema_valid():
    member = validator("member-history")
    text = le.generate({"members": 40, "seed": 5, "months": 6, "profile": "sk-grocery"})
    for line in text.splitlines():
        assert member.is_valid(json.loads(line))


# ------------------------------------------------------------------ mutations

WRONG_VALUES = [None, True, "x", "", -1, 0, 1.5, 10**20, [], {}, "1e3", "-0.5", "2026-13-01T00:00:00Z"]


def places(value, path=()):
    """Every (path, value) in a JSON document."""
    yield path, value
    if isinstance(value, dict):
        for k, v in value.items():
            yield from places(v, path + (k,))
    elif isinstance(value, list):
        for i, v in enumerate(value):
            yield from places(v, path + (i,))


def replaced(doc, path, new):
    out = copy.deepcopy(doc)
    if not path:
        return new
    target = out
    for p in path[:-1]:
        target = target[p]
    target[path[-1]] = new
    return out


def mutations(policy, rng):
    """Mutated copies of a policy: at every place, unknown keys, removed keys, wrong values."""
    for path, value in places(policy):
        if isinstance(value, dict):
            yield replaced(policy, path, {**value, "zz_unknown": 1})
            for k in value:
                yield replaced(policy, path, {kk: vv for kk, vv in value.items() if kk != k})
        elif isinstance(value, list):
            yield replaced(policy, path, [])
            if value:
                yield replaced(policy, path, value + [rng.choice(WRONG_VALUES)])
        # Three of the wrong values at each place (seeded), so every kind is tried everywhere
        # across the vectors while the test stays fast.
        for wrong in rng.sample(WRONG_VALUES, 3):
            yield replaced(policy, path, wrong)
        if isinstance(value, int) and not isinstance(value, bool):
            for delta in (-1, 1, 2**53):
                yield replaced(policy, path, value + delta)


def engine_refuses(policy) -> bool:
    try:
        le.validate(policy)
    except le.LoyaltyError as e:
        assert e.code in ("invalid_policy", "limit_exceeded"), e
        return True
    return False


def test_schema_invalid_mutations_of_every_vector_policy_are_refused_by_the_engine():
    rng = random.Random(20261206)
    seen = set()
    schema_invalid = schema_valid = 0
    for name, v in vectors():
        policy = v["request"].get("policy")
        if not isinstance(policy, dict) or not POLICY.is_valid(policy):
            continue
        key = compact(policy)
        if key in seen:
            continue
        seen.add(key)
        for mutated in mutations(policy, rng):
            if POLICY.is_valid(mutated):
                schema_valid += 1
                continue
            schema_invalid += 1
            assert engine_refuses(mutated), (
                name,
                compact(mutated),
                list(POLICY.iter_errors(mutated))[:1],
            )
    assert len(seen) > 50
    assert schema_invalid > 5_000, (schema_invalid, schema_valid)


def test_random_stacked_mutations_are_refused_when_schema_invalid():
    """A property test: 2-4 random mutations stacked on a random vector policy, 1500 times."""
    rng = random.Random(7)
    policies = [
        v["request"]["policy"]
        for _, v in vectors()
        if isinstance(v["request"].get("policy"), dict) and POLICY.is_valid(v["request"]["policy"])
    ]
    refused = 0
    for _ in range(1500):
        doc = rng.choice(policies)
        for _ in range(rng.randint(2, 4)):
            options = list(places(doc))
            path, value = rng.choice(options)
            choice = rng.random()
            if isinstance(value, dict) and value and choice < 0.3:
                k = rng.choice(list(value))
                doc = replaced(doc, path, {kk: vv for kk, vv in value.items() if kk != k})
            elif isinstance(value, dict) and choice < 0.4:
                doc = replaced(doc, path, {**value, rng.choice(["zz", "Schema", "ids"]): 1})
            else:
                doc = replaced(doc, path, rng.choice(WRONG_VALUES + [rng.randint(-5, 5)]))
        if not POLICY.is_valid(doc):
            refused += 1
            assert engine_refuses(doc), compact(doc)
    assert refused > 1000
