"""Pseudonymisation for sharing results: keyed hashes instead of customer ids, contact fields dropped.

The key lives in a file the data owner keeps (``--pseudonymize KEYFILE``).  The same key gives the
same pseudonym for a customer in every output, so shared tables still join; without the key the
ids cannot be recomputed from a list of candidate ids (unlike a plain hash).
"""

from __future__ import annotations

import hashlib
import hmac
from pathlib import Path

import polars as pl

from billcx.errors import UsageError
from billcx.schema import ALL_TABLES

MIN_KEY_BYTES = 16

# Every column the contract marks as personal data, in any table.
PII_COLUMNS: frozenset[str] = frozenset(c for t in ALL_TABLES.values() for c in t.pii)
ID_COLUMNS: tuple[str, ...] = ("customer_id",)


def read_key(path: str | Path) -> bytes:
    """Read a pseudonymisation key file (at least 16 bytes after stripping whitespace)."""
    path = Path(path)
    try:
        key = path.read_bytes().strip()
    except FileNotFoundError:
        raise UsageError(f"--pseudonymize: key file {path} not found",
                         hint="create one with: python3 -c \"import secrets; print(secrets.token_hex(32))\" "
                              "> key.txt") from None
    if len(key) < MIN_KEY_BYTES:
        raise UsageError(f"--pseudonymize: key file {path} holds {len(key)} bytes; need at least "
                         f"{MIN_KEY_BYTES}")
    return key


def pseudonym(value: str, key: bytes) -> str:
    """Keyed pseudonym of one id: ``p_`` + 20 hex characters of HMAC-SHA256."""
    return "p_" + hmac.new(key, value.encode(), hashlib.sha256).hexdigest()[:20]


def pseudonymize(frame: pl.DataFrame, key: bytes, *, id_columns: tuple[str, ...] = ID_COLUMNS,
                 drop: frozenset[str] = PII_COLUMNS) -> pl.DataFrame:
    """Replace id columns with keyed pseudonyms and drop personal-data columns.

    Args:
        frame: any billcx output table.
        key: secret key bytes (see :func:`read_key`).
        id_columns: columns whose values are replaced (each distinct value hashed once).
        drop: columns removed entirely (contact details, names, addresses, recipients).

    Returns:
        A new frame with the same rows in the same order.
    """
    out = frame.drop([c for c in frame.columns if c in drop])
    for col in id_columns:
        if col not in out.columns:
            continue
        uniq = out[col].unique().drop_nulls().to_list()
        mapping = {v: pseudonym(str(v), key) for v in uniq}
        out = out.with_columns(pl.col(col).cast(pl.String).replace_strict(mapping, default=None).alias(col))
    return out
