"""Sharding by a stable hash of the customer id: N processes can split one run.

Shard ``I/N`` holds the customers whose ``stable_hash(customer_id, salt="shard") % N == I``; the
union of the N shards is the whole, and a customer's shard never depends on the run or machine.
"""

from __future__ import annotations

from dataclasses import dataclass

import polars as pl

from billcx.hashing import stable_hash_series


@dataclass(frozen=True)
class Shard:
    """Shard ``index`` of ``count`` (0-based)."""

    index: int
    count: int

    def __str__(self) -> str:
        return f"{self.index}/{self.count}"


def shard_ids(ids: pl.Series, shard: Shard) -> pl.Series:
    """The distinct ids of ``ids`` that belong to ``shard``."""
    uniq = ids.unique().drop_nulls().sort()
    keep = (stable_hash_series(uniq, salt="shard") % shard.count) == shard.index
    return uniq.filter(keep)


def filter_shard(frame: pl.LazyFrame, ids: pl.Series, shard: Shard | None,
                 column: str = "customer_id") -> pl.LazyFrame:
    """Rows of ``frame`` whose ``column`` is in ``ids`` (already the shard's ids); all rows if no shard."""
    if shard is None:
        return frame
    return frame.join(pl.LazyFrame({column: ids}), on=column, how="semi")
