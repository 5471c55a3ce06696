"""Shared fixtures: the repository's paths, the conformance vectors, the `loyalty` CLI."""

from __future__ import annotations

import json
import os
import pathlib
import subprocess

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[2]
VECTORS = ROOT / "tests" / "vectors"


def vector_files() -> list:
    """Every *.json under tests/vectors/ except the tools, sorted by path."""
    return sorted(p for p in VECTORS.rglob("*.json") if "tools" not in p.parts)


def compact(value) -> str:
    """JSON text as JSON.stringify writes it (what the Node tests compare)."""
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False)


def loyalty_binary() -> pathlib.Path:
    """The `loyalty` CLI: $LOYALTY_BIN, else target/release/loyalty (built by scripts/build.sh),
    else built here with `cargo build --release --bin loyalty`."""
    env = os.environ.get("LOYALTY_BIN")
    if env:
        return pathlib.Path(env)
    for candidate in (ROOT / "target" / "release" / "loyalty",):
        if candidate.exists():
            return candidate
    subprocess.run(
        ["cargo", "build", "--release", "--bin", "loyalty"], cwd=ROOT, check=True
    )
    return ROOT / "target" / "release" / "loyalty"


@pytest.fixture(scope="session")
def loyalty_bin() -> pathlib.Path:
    return loyalty_binary()
