"""Which rows of a sharded ingest belong to the shard: every row read belongs to exactly one shard.

A row that was parsed into a typed row has a customer id and belongs to that customer's shard
(:mod:`billcx.shard`), whatever happens to it later (kept, collapsed, rejected by a cross-table
check).  A row rejected while parsing never had a valid customer id: it belongs to shard 0, so the
union of the N shards' rejects is the unsharded run's and each reject is reported exactly once.
"""

from __future__ import annotations

from dataclasses import dataclass

import polars as pl

from billcx.ingest.readers import IDX
from billcx.shard import Shard, shard_ids

SRC = "__src"
_MINE = "__mine"


def owners(frame: pl.LazyFrame) -> pl.DataFrame | None:
    """``src, __idx, customer_id`` of a file's typed rows (None when the file has no customer id).

    Held in memory for the whole run (about 30 bytes per row): a sharded ingest does not stream.
    """
    if "customer_id" not in frame.collect_schema().names():
        return None
    return frame.select(pl.col(SRC).cast(pl.Int32), pl.col(IDX).cast(pl.UInt32), "customer_id").collect(
        engine="streaming"
    )


@dataclass(frozen=True)
class ShardCut:
    """The rows of one shard, from the typed rows' owners (see the module doc).

    Attributes:
        shard: the shard kept.
        owned: ``src, __idx, __mine`` for every typed row of every file.
    """

    shard: Shard
    owned: pl.DataFrame

    @classmethod
    def build(cls, parts: list[pl.DataFrame], shard: Shard) -> ShardCut:
        """From the :func:`owners` of every file."""
        frame = (
            pl.concat(parts)
            if parts
            else pl.DataFrame(schema={SRC: pl.Int32, IDX: pl.UInt32, "customer_id": pl.String})
        )
        ids = shard_ids(frame["customer_id"], shard)
        mine = pl.col("customer_id").is_in(ids.implode())
        if shard.index == 0:
            mine = mine | pl.col("customer_id").is_null()
        return cls(shard, frame.select(SRC, IDX, mine.fill_null(False).alias(_MINE)))

    def issues(self, issues: pl.DataFrame) -> pl.DataFrame:
        """The issues of rows in the shard (``issues`` has ``src, __idx``)."""
        joined = issues.join(
            self.owned.rename({SRC: "src"}), on=["src", IDX], how="left", maintain_order="left"
        )
        keep = pl.col(_MINE).fill_null(self.shard.index == 0)
        return joined.filter(keep).drop(_MINE)

    def rows_elsewhere(self, src: int, rows_read: int) -> int:
        """Rows of file ``src`` that belong to other shards."""
        of_file = self.owned.filter(pl.col(SRC) == src)
        typed, mine = of_file.height, int(of_file[_MINE].sum())
        untyped = rows_read - typed
        return (typed - mine) + (untyped if self.shard.index != 0 else 0)

    def rows(self, frame: pl.LazyFrame) -> pl.LazyFrame:
        """The rows of a table (with ``customer_id``) that belong to the shard."""
        every = frame.select(pl.col("customer_id").unique()).collect(engine="streaming")["customer_id"]
        ids = shard_ids(every, self.shard)
        return frame.filter(pl.col("customer_id").is_in(ids.implode()))
