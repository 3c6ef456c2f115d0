"""Frame helpers for the plan's wide tables (messages carry ~40 columns, lists among them).

A join gathers every column of both sides; on the wide message table that copy, not the key
matching, is most of a join's cost.  Adding a few looked-up columns is cheaper done on the key
column alone and put next to the untouched wide columns.
"""

from __future__ import annotations

import polars as pl


def attach(frame: pl.DataFrame, lookup: pl.DataFrame, *, on: str | list[str]) -> pl.DataFrame:
    """``frame`` with ``lookup``'s other columns added by a left join, ``frame``'s rows and order kept.

    The same as ``frame.join(lookup, on=on, how="left", maintain_order="left")`` when ``lookup``
    has at most one row per key, without copying ``frame``'s columns.

    Args:
        frame: the rows to extend.
        lookup: one row per key (null where a row of ``frame`` has no match).
        on: key column(s), present in both.

    Returns:
        ``frame`` plus ``lookup``'s non-key columns.

    Raises:
        ValueError: ``lookup`` has a key more than once.
    """
    keys = [on] if isinstance(on, str) else list(on)
    found = frame.select(keys).join(lookup, on=keys, how="left", maintain_order="left")
    if found.height != frame.height:
        raise ValueError(f"attach: the lookup table has duplicate keys on {keys}")
    return frame.with_columns(found.drop(keys))
