"""Writing the send bundle: every file into a temporary folder, then one atomic swap.

Layout::

    BUNDLE/
      manifest.jsonl      exact values, one JSON object per message (for programs)
      manifest.csv        the same for people (spreadsheet-safe)
      email/<key>.eml     one RFC 5322 file per email
      letters/<key>.pdf   one PDF per letter
      sms.csv             E.164 number, text, encoding, segments ...
      push.csv            title, body, link per push notification
      tasks.csv           hand-overs to a person
      failures.csv        messages that could not be rendered, and why
      SHA256SUMS          checksums of every other file (``sha256sum -c`` format), written last

File names derive from message keys only (validated: letters, digits, ``.``, ``_``, ``-``), never
from customer fields.  CSV files are formula-safe (billcx.export): a text cell starting with
``= + - @`` gets an apostrophe, except the E.164 ``to`` column of sms.csv, which is validated as
``+`` and digits and must reach gateways unchanged.  Instants are written as ``YYYY-MM-DDTHH:MM:SSZ``.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
from pathlib import Path

import polars as pl

from billcx.atomic import atomic_dir
from billcx.errors import UsageError
from billcx.export import neutralise_formulas, to_csv_bytes
from billcx.render.result import BodyStore, RenderResult
from billcx.render.tables import FAILURES, TASKS
from billcx.schema import MANIFEST

BUNDLE_MARKER = "manifest.jsonl"
_ISO = "%Y-%m-%dT%H:%M:%SZ"


def _iso_instants(frame: pl.DataFrame) -> pl.DataFrame:
    cols = [pl.col(n).dt.strftime(_ISO) for n, t in frame.schema.items() if isinstance(t, pl.Datetime)]
    return frame.with_columns(cols) if cols else frame


_JSON = json.JSONEncoder(ensure_ascii=False)  # what json.dumps(ensure_ascii=False) builds per call
_BATCH_ROWS = 4096


def _write_jsonl(root: Path, rel: str, frame: pl.DataFrame, sums: dict[str, str]) -> None:
    """One JSON object per row, written in batches (never a second copy of the whole manifest)."""
    digest = hashlib.sha256()
    encode = _JSON.encode
    with open(root / rel, "wb") as fh:
        for batch in _iso_instants(frame).iter_slices(_BATCH_ROWS):
            data = "".join([encode(row) + "\n" for row in batch.iter_rows(named=True)]).encode("utf-8")
            fh.write(data)
            digest.update(data)
    sums[rel] = digest.hexdigest()


def _csv(frame: pl.DataFrame, *, keep: tuple[str, ...] = ()) -> bytes:
    buf = io.BytesIO()
    neutralise_formulas(_iso_instants(frame), skip=keep).write_csv(buf)
    return buf.getvalue()


def _write(root: Path, rel: str, data: bytes, sums: dict[str, str]) -> None:
    path = root / rel
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    sums[rel] = hashlib.sha256(data).hexdigest()


def _write_bodies(root: Path, bodies: BodyStore, sums: dict[str, str]) -> None:
    """Every stored body as its own new file (the folder is fresh: ``O_EXCL``).

    Tens of thousands of small files: plain ``os`` calls on string paths, each folder made once,
    and the checksum the store kept when the body was rendered.
    """
    base = os.fspath(root)
    made: set[str] = set()
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0)
    for rel, data, sha in bodies.items():
        folder = os.path.dirname(rel)
        if folder not in made:
            os.makedirs(os.path.join(base, folder), exist_ok=True)
            made.add(folder)
        fd = os.open(os.path.join(base, rel), flags, 0o666)
        try:
            view = memoryview(data)
            while view:
                view = view[os.write(fd, view):]
        finally:
            os.close(fd)
        sums[rel] = sha


def _flush_to_disk(root: Path) -> None:
    """Make the written files durable before the folder is swapped in.

    One fsync per file costs ~5 ms on common disks, minutes for 100,000 emails, so the whole
    file system is flushed once instead (``os.sync``); where that does not exist each file is
    fsynced.
    """
    if hasattr(os, "sync"):
        os.sync()
        return
    for path in root.rglob("*"):
        if path.is_file():
            with open(path, "rb+") as fh:
                os.fsync(fh.fileno())


def bundle_files(result: RenderResult) -> dict[str, bytes]:
    """The bundle's CSV files, by path."""
    return {
        "manifest.csv": to_csv_bytes(_iso_instants(result.manifest), table=MANIFEST),
        "sms.csv": _csv(result.sms, keep=("to",)),
        "push.csv": _csv(result.push),
        "tasks.csv": to_csv_bytes(_iso_instants(result.tasks), table=TASKS),
        "failures.csv": to_csv_bytes(result.failures, table=FAILURES),
    }


def write_bundle(result: RenderResult, out_dir: str | Path) -> Path:
    """Write ``result`` as a bundle folder, replacing ``out_dir`` atomically.

    Args:
        result: what :func:`billcx.render.render` returned.
        out_dir: the bundle folder; an earlier bundle there is replaced as a whole.

    Returns:
        The bundle path.

    Raises:
        UsageError: ``out_dir`` exists, is not empty and is not a billcx bundle (it is never
            replaced: that would delete someone's files).
    """
    out = Path(out_dir)
    if out.exists():
        if not out.is_dir():
            raise UsageError(f"{out}: exists and is not a folder", hint="choose a new --out folder")
        if any(out.iterdir()) and not (out / BUNDLE_MARKER).is_file():
            raise UsageError(f"{out}: folder is not empty and is not a billcx bundle; refusing to "
                             "replace it", hint="choose a new or empty --out folder")
    sums: dict[str, str] = {}
    with atomic_dir(out) as tmp:
        (tmp / "email").mkdir()
        (tmp / "letters").mkdir()
        _write_bodies(tmp, result.bodies, sums)
        _write_jsonl(tmp, BUNDLE_MARKER, result.manifest, sums)
        for rel, data in bundle_files(result).items():
            _write(tmp, rel, data, sums)
        lines = "".join(f"{sums[p]}  {p}\n" for p in sorted(sums))
        _write(tmp, "SHA256SUMS", lines.encode("ascii"), {})
        _flush_to_disk(tmp)
    return out
