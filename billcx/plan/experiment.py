"""Experiment arms: a stable share of customers per ladder is held out (recorded, not sent).

The arm of a customer on a ladder is decided by a BLAKE2b hash of the customer id salted with the
policy's experiment salt and the ladder name, so it is the same on every run and machine, differs
between ladders, and changes only when the salt or the share changes.  Holdout rows stay in the
schedule (``arm = "holdout"``) so the lift of reminders can be measured later; senders skip them.
"""

from __future__ import annotations

import polars as pl

from billcx.hashing import stable_hash_series
from billcx.plan.frames import attach

_SPACE = 2**64


def holdout_threshold(share: float) -> int:
    """Hashes below this value (out of 2**64) are in the holdout arm."""
    return max(0, min(int(share * _SPACE), _SPACE - 1))


def assign_arms(
    frame: pl.DataFrame, shares: dict[str, float], *, salt: str, id_col: str = "customer_id"
) -> pl.DataFrame:
    """Add ``arm`` (``treatment`` or ``holdout``) to rows with ``customer_id`` and ``ladder``.

    Args:
        frame: rows to assign.
        shares: holdout share per ladder (ladders not listed have none).
        salt: the experiment salt.
        id_col: column holding the customer's text id (what is hashed); ``customer_id`` by default.

    Returns:
        ``frame`` with an ``arm`` column, row order kept.
    """
    keys = ["customer_id", "ladder"]
    pairs = frame.select(*keys, _id=pl.col(id_col)).unique(keys)
    held: list[pl.DataFrame] = []
    for ladder, share in sorted(shares.items()):
        if share <= 0:
            continue
        sub = pairs.filter(pl.col("ladder") == ladder)
        if sub.is_empty():
            continue
        hashed = stable_hash_series(sub["_id"], salt=f"{salt}\x00{ladder}")
        held.append(sub.filter(hashed < holdout_threshold(share)).select(keys))
    holdout = pl.concat(held) if held else pairs.select(keys).clear()
    return attach(frame, holdout.with_columns(arm=pl.lit("holdout")), on=keys).with_columns(
        pl.col("arm").fill_null("treatment")
    )
