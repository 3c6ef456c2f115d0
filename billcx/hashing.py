"""Stable hashes: identical across runs, machines, processes and library versions.

polars' own ``hash`` is not stable across versions, so keys, shards and experiment arms are
derived from BLAKE2b over UTF-8 text, computed once per distinct value.
"""

from __future__ import annotations

import hashlib

import polars as pl


def stable_hash(text: str, *, salt: str = "") -> int:
    """64-bit unsigned BLAKE2b hash of ``salt`` + NUL + ``text``."""
    digest = hashlib.blake2b(f"{salt}\x00{text}".encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big")


def stable_hash_series(values: pl.Series, *, salt: str = "") -> pl.Series:
    """Stable 64-bit hashes of a string series (nulls stay null); hashes each distinct value once."""
    uniq = values.unique().drop_nulls()
    mapping = pl.DataFrame(
        {"v": uniq, "h": pl.Series([stable_hash(v, salt=salt) for v in uniq.to_list()], dtype=pl.UInt64)}
    )
    return (
        values.to_frame("v").join(mapping, on="v", how="left", maintain_order="left")["h"].alias(values.name)
    )


def digest_hex(*parts: str, length: int = 16) -> str:
    """Hex SHA-256 of NUL-joined parts, truncated to ``length`` characters (for ids and keys)."""
    return hashlib.sha256("\x00".join(parts).encode()).hexdigest()[:length]
