"""Message keys: stable identifiers derived from what a message is, never from when billcx ran.

A key is the SHA-256 (truncated to 20 hex characters, 80 bits) of the customer, the sorted invoice
ids, the currency, the ladder, the step and the planned local send date.  The same message planned
by tomorrow's run has the same key, so senders can use it for idempotency.
"""

from __future__ import annotations

import polars as pl

from billcx.hashing import digest_hex

KEY_LENGTH = 20


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
    # One hash per distinct identity; the same content always gives the same key.
    uniq = identity.unique(maintain_order=True)
    mapping = pl.DataFrame(
        {"identity": uniq, "message_key": [digest_hex(v, length=KEY_LENGTH) for v in uniq.to_list()]}
    )
    return identity.to_frame().join(mapping, on="identity", how="left", maintain_order="left")["message_key"]
