"""The typed result of a render: the manifest, failures, SMS / push / task rows and the file bodies."""

from __future__ import annotations

import hashlib
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import IO

import polars as pl

from billcx.exitcodes import ExitCode

SPOOL_BYTES = 32 * 1024 * 1024


class BodyStore:
    """Append-only store of rendered file bodies (``.eml``, ``.pdf``) keyed by bundle path.

    Bodies stay in memory up to 32 MiB, then spill to an anonymous temporary file, so rendering
    100,000 emails does not hold half a gigabyte.  Used by one thread; reads seek.
    """

    def __init__(self) -> None:
        self._file: IO[bytes] = tempfile.SpooledTemporaryFile(max_size=SPOOL_BYTES)  # noqa: SIM115
        self._index: dict[str, tuple[int, int, str]] = {}
        self._end = 0

    def add(self, path: str, data: bytes, sha256: str | None = None) -> None:
        """Store ``data`` as the body of bundle path ``path`` (paths are unique).

        ``sha256`` is its hex digest when the caller has it already (the manifest's); else it is
        computed here.  The bundle's SHA256SUMS lists it.
        """
        if path in self._index:
            raise ValueError(f"duplicate bundle path {path}")
        self._file.seek(self._end)
        self._file.write(data)
        self._index[path] = (self._end, len(data), sha256 or hashlib.sha256(data).hexdigest())
        self._end += len(data)

    def get(self, path: str) -> bytes:
        """The body stored for ``path``."""
        offset, length, _ = self._index[path]
        self._file.seek(offset)
        return self._file.read(length)

    def items(self) -> Iterator[tuple[str, bytes, str]]:
        """``(path, body, sha256 hex digest)`` in insertion order."""
        for path, (offset, length, sha) in list(self._index.items()):
            self._file.seek(offset)
            yield path, self._file.read(length), sha

    def paths(self) -> list[str]:
        """Stored paths in insertion order."""
        return list(self._index)

    def __len__(self) -> int:
        return len(self._index)

    def __contains__(self, path: object) -> bool:
        return path in self._index

    def __iter__(self) -> Iterator[tuple[str, bytes]]:
        for path, data, _ in self.items():
            yield path, data

    @property
    def nbytes(self) -> int:
        """Total size of the stored bodies."""
        return self._end


@dataclass(frozen=True)
class RenderCounts:
    """What happened to each schedule row.

    Attributes:
        scheduled: rows in the schedule.
        holdout: rows of the holdout arm: counted, never rendered.
        rendered: messages rendered (email, SMS, letter, push).
        tasks: hand-over rows written to tasks.csv.
        failed: messages that could not be rendered (see failures).
        by_channel: rendered messages per channel.
        sms_segments: segments of all SMS together (what the gateway bills).
        template_fallbacks: messages whose template id was missing and used the kind's template.
        lines_hidden: messages whose invoice lines did not add up to amount_due, so only the total
            was shown.
        sms_over_budget: SMS longer than ``settings.sms_segment_budget`` segments (rendered, but
            ``templates lint`` would have flagged their template).
    """

    scheduled: int = 0
    holdout: int = 0
    rendered: int = 0
    tasks: int = 0
    failed: int = 0
    by_channel: dict[str, int] = field(default_factory=dict)
    sms_segments: int = 0
    template_fallbacks: int = 0
    lines_hidden: int = 0
    sms_over_budget: int = 0


@dataclass(frozen=True)
class RenderResult:
    """Everything a render produced, ready for :func:`billcx.render.write_bundle`.

    Attributes:
        manifest: MANIFEST rows (one per rendered message and task), sorted by message key.
        failures: FAILURES rows, sorted by message key.
        sms: SMS_OUTBOX rows, sorted by message key.
        push: PUSH_OUTBOX rows, sorted by message key.
        tasks: TASKS rows, sorted by message key.
        counts: what happened to each schedule row.
        bodies: the ``.eml`` and ``.pdf`` files by bundle path.
    """

    manifest: pl.DataFrame
    failures: pl.DataFrame
    sms: pl.DataFrame
    push: pl.DataFrame
    tasks: pl.DataFrame
    counts: RenderCounts
    bodies: BodyStore

    @property
    def ok(self) -> bool:
        """No message failed."""
        return self.counts.failed == 0

    @property
    def exit_code(self) -> ExitCode:
        """DATA (1) when any message failed, else OK."""
        return ExitCode.OK if self.ok else ExitCode.DATA

    def body(self, message_key: str) -> bytes:
        """The rendered file of an email or letter message (KeyError when it has none)."""
        rows = self.manifest.filter(pl.col("message_key") == message_key)["path"].to_list()
        if not rows or rows[0] not in self.bodies:
            raise KeyError(message_key)
        return self.bodies.get(rows[0])

    def report(self) -> dict[str, object]:
        """A JSON-able summary (counts, first failures) for ``--report-format json``."""
        c = self.counts
        return {
            "ok": self.ok,
            "scheduled": c.scheduled, "holdout": c.holdout, "rendered": c.rendered, "tasks": c.tasks,
            "failed": c.failed, "by_channel": dict(sorted(c.by_channel.items())),
            "sms_segments": c.sms_segments, "template_fallbacks": c.template_fallbacks,
            "lines_hidden": c.lines_hidden, "sms_over_budget": c.sms_over_budget,
            "failures": self.failures.head(20).select("message_key", "template", "code", "error").to_dicts(),
        }
