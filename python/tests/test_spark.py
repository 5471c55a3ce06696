"""loyalty_engine.spark.simulate in a local Spark (one session for every test in this file).

The master is local[2,2]: two worker threads, and a failed task is retried once. Every report is
compared, as JSON text, with what `loyalty simulate` prints for the same NDJSON file: the members
come from `loyalty generate` (via the package's generate, which is the same text) plus a blank
line, a line that is not JSON and a member the policy rejects, so `rejected` and its
`members[i]` paths are checked too.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

pyspark = pytest.importorskip("pyspark")

import loyalty_engine as le  # noqa: E402
from loyalty_engine import spark as les  # noqa: E402
from conftest import ROOT, compact  # noqa: E402

DRAFT = ROOT / "docs" / "examples" / "vn-fashion-draft.json"
BASELINE = ROOT / "docs" / "examples" / "vn-fashion-baseline.json"
AS_OF = "2026-10-01T00:00:00+07:00"
EXPECTED = "0.7"
MEMBERS = 300


@pytest.fixture(scope="module")
def spark():
    from pyspark.sql import SparkSession

    os.environ["PYSPARK_PYTHON"] = sys.executable
    os.environ["PYSPARK_DRIVER_PYTHON"] = sys.executable
    session = (
        SparkSession.builder.master("local[2,2]")
        .appName("loyalty-engine-tests")
        .config("spark.ui.enabled", "false")
        .config("spark.sql.shuffle.partitions", "4")
        .config("spark.sql.execution.arrow.maxRecordsPerBatch", "64")
        .config("spark.driver.memory", "1g")
        .getOrCreate()
    )
    session.sparkContext.setLogLevel("ERROR")
    yield session
    session.stop()


@pytest.fixture(scope="module")
def members_file(tmp_path_factory):
    """300 generated members with, inserted: a blank line (line 10), a line that is not JSON
    (line 20) and a member whose second event repeats the first one's id (line 30)."""
    text = le.generate({"members": MEMBERS, "seed": 7, "months": 6, "profile": "vn-fashion"})
    lines = text.splitlines()
    bad_member = next(m for m in map(json.loads, lines) if len(m["events"]) >= 2)
    bad_member["member"]["id"] = "m-duplicate-event"
    bad_member["events"][1]["id"] = bad_member["events"][0]["id"]
    lines.insert(10, "")
    lines.insert(20, '{"member": not json')
    lines.insert(30, compact(bad_member))
    path = tmp_path_factory.mktemp("members") / "members.ndjson"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


@pytest.fixture(scope="module")
def cli_report(members_file, loyalty_bin):
    out = subprocess.run(
        [
            str(loyalty_bin),
            "simulate",
            "--policy",
            str(DRAFT),
            "--baseline",
            str(BASELINE),
            "--members",
            str(members_file),
            "--as-of",
            AS_OF,
            "--expected-redemption",
            EXPECTED,
        ],
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    return out.strip()


def run(df, **kw):
    return compact(
        les.simulate(
            df,
            DRAFT.read_text("utf-8"),
            BASELINE.read_text("utf-8"),
            AS_OF,
            EXPECTED,
            **kw,
        )
    )


def test_the_cli_report_has_members_and_rejections(cli_report):
    report = json.loads(cli_report)
    # The 300 generated members are accepted; the blank line is no member; the unreadable line
    # and the duplicate event id are rejected at their line numbers (0-based).
    assert report["members"] == MEMBERS
    rejected = [(r["member_id"], r["error"]["code"], r["error"]["path"]) for r in report["rejected"]]
    assert rejected == [
        (None, "invalid_request", "members[20].member"),
        ("m-duplicate-event", "duplicate_event_id", "members[30].events[1].id"),
    ]
    assert report["diff"] is not None


@pytest.mark.parametrize("partitions", [1, 3, 8])
def test_same_report_as_the_cli(spark, members_file, cli_report, partitions):
    df = les.read_members(spark, str(members_file)).repartition(partitions)
    assert df.rdd.getNumPartitions() == partitions
    assert run(df) == cli_report


def test_shuffled_input(spark, members_file, cli_report):
    from pyspark.sql import functions as F

    df = les.read_members(spark, str(members_file)).orderBy(F.rand(seed=11)).repartition(5)
    first = [r["index"] for r in df.limit(5).collect()]
    assert first != [0, 1, 2, 3, 4]
    assert run(df) == cli_report


def test_a_task_that_fails_once_is_retried_and_changes_nothing(spark, members_file, cli_report, tmp_path):
    """Each task's first attempt feeds its first batch into the simulation and then fails;
    local[2,2] retries it. The half-counted attempt's partial is never seen by the driver."""
    marker = str(tmp_path / "failed-attempts")
    os.makedirs(marker)

    def fail_first_attempt(batches):
        from pyspark import TaskContext

        ctx = TaskContext.get()
        for n, batch in enumerate(batches):
            yield batch
            if ctx.attemptNumber() == 0 and n == 0:
                open(os.path.join(marker, f"p{ctx.partitionId()}"), "w").close()
                raise RuntimeError("injected failure on the first attempt")

    base = les.read_members(spark, str(members_file)).repartition(3)
    flaky = base.mapInArrow(fail_first_attempt, base.schema)
    assert run(flaky) == cli_report
    # Every one of the three tasks failed once (and so was retried).
    assert sorted(os.listdir(marker)) == ["p0", "p1", "p2"]


def test_one_row_per_event(spark, members_file, cli_report):
    """Histories stored one row per event, grouped by members_from_events."""
    rows = []
    for i, line in enumerate(members_file.read_text("utf-8").splitlines()):
        try:
            m = json.loads(line)
        except json.JSONDecodeError:
            continue
        for seq, ev in enumerate(m["events"]):
            rows.append((i, compact(m["member"]), seq, compact(ev)))
        if not m["events"]:
            rows.append((i, compact(m["member"]), None, None))
    assert any(r[3] is None for r in rows), "some generated member has no events"
    events = spark.createDataFrame(rows, "line long, member string, seq int, event string")
    df = les.members_from_events(events, index_col="line")
    got = json.loads(run(df))
    want = json.loads(cli_report)
    # The unreadable line cannot be written as events: every other figure is the CLI's.
    assert [r["member_id"] for r in got["rejected"]] == ["m-duplicate-event"]
    want["rejected"] = [r for r in want["rejected"] if r["member_id"] is not None]
    assert compact(got) == compact(want)


def test_a_bad_policy_fails_on_the_driver(spark, members_file):
    df = les.read_members(spark, str(members_file))
    with pytest.raises(le.LoyaltyError) as e:
        les.simulate(df, {"schema": "nope"}, None, AS_OF)
    assert e.value.code == "invalid_policy"
    assert e.value.path.startswith("policy")
    with pytest.raises(le.LoyaltyError) as e:
        les.simulate(df, DRAFT.read_text("utf-8"), None, "yesterday")
    assert (e.value.code, e.value.path) == ("invalid_request", "as_of")
