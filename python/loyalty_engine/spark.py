"""Simulate (SPEC §5) over a Spark DataFrame of member histories.

``simulate(df, draft, baseline, as_of, expected_redemption)`` replays each partition's members
with the engine inside ``mapInArrow`` (one :class:`loyalty_engine.Simulation` per task), returns
each partition's exact partial sums as opaque bytes, and merges them on the driver with the
engine. Nothing is summed by Spark (no ``sum``, no accumulators): a task that fails and is
retried contributes only the output of its successful attempt, so retries, speculation,
partitioning and row order never change the report — it is byte for byte what ``loyalty
simulate`` prints for the same members.

The DataFrame holds either

- one row per member: a string column (``member_col``, default ``"member"``) with the member's
  JSON line ``{"member": {…}, "events": […]}`` — what ``loyalty generate`` writes and
  ``loyalty simulate --members`` reads — and optionally a whole-number column (``index_col``)
  with the member's 0-based line number, which numbers rejected members (``members[i]``) as
  the CLI does; :func:`read_members` reads an NDJSON file into such a DataFrame; or
- one row per event: use :func:`members_from_events` first to group them into member lines.

Requires pyspark, pandas ≥ 2.2 and pyarrow (``pip install loyalty-engine[spark]``); the engine
(this package) must be installed on the executors' Python too.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any, Iterator, Mapping, Optional, Union

from . import LoyaltyError, Simulation, _setup_text

__all__ = ["simulate", "read_members", "members_from_events", "partials"]

Policy = Union[Mapping[str, Any], str]

_PARTIAL_SCHEMA = "partial binary, members long"


def _partition_fn(setup: str, has_index: bool, member_col: str, index_col: Optional[str]):
    """The function mapInArrow runs on each partition: every member into one Simulation, then
    one row with its partial sums. Only plain strings are captured (pickled to executors)."""

    def run(batches: Iterator[Any]) -> Iterator[Any]:
        import pyarrow as pa

        sim = Simulation(request=setup)
        added = 0
        rows = 0
        for batch in batches:
            members = batch.column(batch.schema.get_field_index(member_col)).to_pylist()
            if has_index:
                indexes = batch.column(batch.schema.get_field_index(index_col)).to_pylist()
                if any(i is None for i in indexes):
                    raise LoyaltyError(
                        "invalid_request", f"column {index_col} has a null member index", index_col
                    )
            else:
                indexes = list(range(rows, rows + len(members)))
            rows += len(members)
            added += sim.add_indexed(indexes, members)
        yield pa.RecordBatch.from_pydict(
            {"partial": [sim.partial()], "members": [added]},
            schema=pa.schema([("partial", pa.binary()), ("members", pa.int64())]),
        )

    return run


def partials(
    df: Any,
    draft: Policy,
    baseline: Optional[Policy] = None,
    as_of: Optional[str] = None,
    expected_redemption: Union[str, Decimal, None] = None,
    *,
    member_col: str = "member",
    index_col: Optional[str] = "index",
) -> Any:
    """The DataFrame of partial sums (``partial: binary, members: long``, one row per input
    partition) that :func:`simulate` collects and merges. Lazy: nothing runs until an action.

    The setup is checked on the driver first (a bad policy raises :class:`LoyaltyError` here,
    not in a task). ``index_col=None`` (or a DataFrame without that column) numbers members
    0, 1, … within each partition: fine without rejections, but a rejected member's
    ``members[i]`` then is not its line number — give an index column (``read_members`` does).
    """
    setup = _setup_text(draft, baseline, as_of, expected_redemption)
    Simulation(request=setup)  # raises LoyaltyError now for a bad policy, as_of, …
    columns = set(df.columns)
    if member_col not in columns:
        raise LoyaltyError(
            "invalid_request", f"the DataFrame has no column {member_col!r}", member_col
        )
    has_index = index_col is not None and index_col in columns
    selected = df.select(member_col, index_col) if has_index else df.select(member_col)
    if has_index:
        from pyspark.sql import functions as F

        selected = selected.withColumn(index_col, F.col(index_col).cast("long"))
    return selected.mapInArrow(
        _partition_fn(setup, has_index, member_col, index_col if has_index else None),
        _PARTIAL_SCHEMA,
    )


def simulate(
    df: Any,
    draft: Policy,
    baseline: Optional[Policy] = None,
    as_of: Optional[str] = None,
    expected_redemption: Union[str, Decimal, None] = None,
    *,
    member_col: str = "member",
    index_col: Optional[str] = "index",
    decimal: bool = False,
) -> dict:
    """The simulate report (SPEC §5) of the members in ``df``, computed partition by partition
    with ``mapInArrow`` and merged exactly on the driver. See the module documentation."""
    rows = partials(
        df,
        draft,
        baseline,
        as_of,
        expected_redemption,
        member_col=member_col,
        index_col=index_col,
    ).collect()
    total = Simulation(
        request=_setup_text(draft, baseline, as_of, expected_redemption), decimal=decimal
    )
    for row in rows:
        total.merge(row["partial"])
    expected = sum(row["members"] for row in rows)
    if total.progress != expected:
        raise LoyaltyError(
            "invalid_request",
            f"the partial sums cover {total.progress} members, the tasks counted {expected}",
            "",
        )
    return total.finish()


def read_members(spark: Any, path: str, min_partitions: Optional[int] = None) -> Any:
    """An NDJSON member file (``loyalty generate``'s output) as a DataFrame
    ``(index: long, member: string)``, ``index`` being the 0-based line number — how ``loyalty
    simulate --members`` numbers members. Blank lines are kept (the engine skips them)."""
    from pyspark.sql.types import LongType, StringType, StructField, StructType

    lines = spark.sparkContext.textFile(path, min_partitions)
    schema = StructType(
        [StructField("index", LongType(), False), StructField("member", StringType(), True)]
    )
    return spark.createDataFrame(lines.zipWithIndex().map(lambda p: (p[1], p[0])), schema)


def members_from_events(
    events: Any,
    member_col: str = "member",
    event_col: str = "event",
    order_col: str = "seq",
    index_col: Optional[str] = None,
) -> Any:
    """Groups a DataFrame of one row per event into one row per member, ready for
    :func:`simulate`: ``member_col`` is the member object's JSON text (the same on each of its
    rows), ``event_col`` one event's JSON text, ``order_col`` the event's position in the
    member's history (events are written in that order); a member without events has one row
    whose event is null (what a left join of members with events gives). ``index_col`` (optional, the same on
    each of a member's rows) is carried over as ``index``. The result has columns ``member``
    (the member line ``{"member":…,"events":[…]}``) and, with ``index_col``, ``index``."""
    from pyspark.sql import functions as F

    keys = [member_col] + ([index_col] if index_col else [])
    grouped = events.groupBy(*keys).agg(
        # A row whose event is null stands for a member without events (a left join of the
        # members table with the events table gives one): collect_list skips the null.
        F.sort_array(
            F.collect_list(
                F.when(F.col(event_col).isNotNull(), F.struct(F.col(order_col), F.col(event_col)))
            )
        ).alias("_ev")
    )
    line = F.concat(
        F.lit('{"member":'),
        F.col(member_col),
        F.lit(',"events":['),
        F.array_join(F.transform(F.col("_ev"), lambda e: e[event_col]), ","),
        F.lit("]}"),
    )
    out = grouped.select(
        *([F.col(index_col).cast("long").alias("index")] if index_col else []),
        line.alias("member"),
    )
    return out
