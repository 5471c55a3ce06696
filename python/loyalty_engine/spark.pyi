# Type stubs of loyalty_engine.spark (see spark.py for the documentation).
from decimal import Decimal
from typing import Any, Mapping, Optional, Union

Policy = Union[Mapping[str, Any], str]
DataFrame = Any  # pyspark.sql.DataFrame (pyspark is an optional dependency)
SparkSession = Any

def simulate(
    df: DataFrame,
    draft: Policy,
    baseline: Optional[Policy] = ...,
    as_of: Optional[str] = ...,
    expected_redemption: Union[str, Decimal, None] = ...,
    *,
    member_col: str = ...,
    index_col: Optional[str] = ...,
    decimal: bool = ...,
) -> dict: ...
def partials(
    df: DataFrame,
    draft: Policy,
    baseline: Optional[Policy] = ...,
    as_of: Optional[str] = ...,
    expected_redemption: Union[str, Decimal, None] = ...,
    *,
    member_col: str = ...,
    index_col: Optional[str] = ...,
) -> DataFrame: ...
def read_members(spark: SparkSession, path: str, min_partitions: Optional[int] = ...) -> DataFrame: ...
def members_from_events(
    events: DataFrame,
    member_col: str = ...,
    event_col: str = ...,
    order_col: str = ...,
    index_col: Optional[str] = ...,
) -> DataFrame: ...
