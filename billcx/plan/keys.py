"""Message keys: stable identifiers derived from what a message is, never from when billcx ran.

A key is the SHA-256 (truncated to 20 hex characters, 80 bits) of the customer, the sorted invoice
ids, the currency, the ladder, the step and the planned local send date.  The same message planned
by tomorrow's run has the same key, so senders can use it for idempotency.
"""

from __future__ import annotations

import hashlib

import polars as pl

KEY_LENGTH = 20
_KEY_BYTES = (KEY_LENGTH + 1) // 2


def message_keys(frame: pl.DataFrame) -> pl.Series:
    """Keys for rows with ``customer_id, invoice_ids, currency, ladder, step, date`` (local date).

    Returns:
        A String series named ``message_key``, aligned with ``frame``.
    """
    identity = frame.select(
        pl.concat_str(
            [
                pl.col("customer_id"),
                pl.col("invoice_ids").list.join(","),
                pl.col("currency").fill_null(""),
                pl.col("ladder"),
                pl.col("step"),
                pl.col("date").dt.strftime("%Y-%m-%d"),
            ],
            separator="\x1f",
        ).alias("identity")
    )["identity"]
    # SHA-256 of the UTF-8 text, as ``billcx.hashing.digest_hex(identity, length=KEY_LENGTH)`` gives
    # it, but one tight loop over bytes (the identities are unique: a key per message) and the hex
    # text made by polars: half the time of a Python call and a hex string per message.
    sha256 = hashlib.sha256
    digests = [sha256(v).digest()[:_KEY_BYTES] for v in identity.cast(pl.Binary).to_list()]
    hexed = pl.Series(digests, dtype=pl.Binary).bin.encode("hex").str.slice(0, KEY_LENGTH)
    return hexed.alias("message_key")
