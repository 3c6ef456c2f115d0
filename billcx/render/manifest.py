"""The manifest: one row per rendered message (and hand-over task), as the MANIFEST contract says.

A sender reads it to send each message exactly once: ``message_key`` is the idempotency key,
``path`` the file (``email/<key>.eml``, ``letters/<key>.pdf``) or the table row (``sms.csv``,
``push.csv``, ``tasks.csv``), ``sha256`` and ``bytes`` check the file (for SMS and push: the
UTF-8 text).  Task rows have no file hash: they are instructions for a person.
"""

from __future__ import annotations

from typing import Any

import polars as pl

from billcx.schema import MANIFEST


def manifest_frame(rows: list[tuple[Any, ...]]) -> pl.DataFrame:
    """MANIFEST rows (tuples in contract order) as a frame, sorted by message key."""
    if not rows:
        return MANIFEST.empty()
    frame = pl.DataFrame(rows, schema=MANIFEST.schema, orient="row")
    return frame.sort("message_key")


def task_manifest_rows(tasks: pl.DataFrame) -> list[dict[str, Any]]:
    """Manifest rows for schedule rows with channel ``task`` (they point at tasks.csv)."""
    rows = []
    for r in tasks.iter_rows(named=True):
        rows.append({"message_key": r["message_key"], "customer_id": r["customer_id"], "channel": "task",
                     "kind": r["kind"], "send_at_utc": r["send_at_utc"], "send_at_local": r["send_at_local"],
                     "timezone": r["timezone"], "recipient": None, "subject": None, "path": "tasks.csv",
                     "sha256": None, "bytes": None, "sms_encoding": None, "sms_segments": None,
                     "locale": None, "template": r["template"], "template_sha256": None})
    return rows
