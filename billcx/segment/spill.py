"""Prepared chunks waiting for the population: held in memory, or spilled to disk.

A chunk's scoring inputs (behaviour, RFM values, open invoices and their features, the typical
next invoice) can only be scored once every chunk has been prepared and the population fitted.
Holding them all would make memory follow the export again (about 1 GiB per million customers),
so when there are several chunks each one is written to uncompressed Arrow IPC files in a
temporary folder (cheap to write and read back) and read again when its turn comes.  The folder
is removed when the store is closed, also after an error.
"""

from __future__ import annotations

import dataclasses
import shutil
import tempfile
from pathlib import Path
from types import TracebackType

import polars as pl

from billcx.segment.fit import Prepared, Scoring


class ChunkStore:
    """Prepared chunks by index; spilled to ``<folder>/billcx-segment-*`` when ``spill`` is set.

    Use as a context manager: the spill folder lives as long as the ``with`` block.  Only the
    scoring inputs are kept: training rows and the purchase summary are for the fit, which reads
    them first (a chunk comes back with an empty summary).
    """

    def __init__(self, *, spill: bool, folder: Path | None = None) -> None:
        self.spill = spill
        self.folder = folder
        self._dir: Path | None = None
        self._held: dict[int, Prepared] = {}

    def __enter__(self) -> ChunkStore:
        if self.spill:
            if self.folder is not None:
                self.folder.mkdir(parents=True, exist_ok=True)
            self._dir = Path(tempfile.mkdtemp(prefix="billcx-segment-", dir=self.folder))
        return self

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None,
                 trace: TracebackType | None) -> None:
        self._held.clear()
        if self._dir is not None:
            shutil.rmtree(self._dir, ignore_errors=True)
            self._dir = None

    def _path(self, index: int, name: str) -> Path:
        assert self._dir is not None, "use the store in a with block"
        return self._dir / f"chunk-{index:05d}-{name}.arrow"

    def put(self, index: int, prepared: Prepared) -> None:
        """Keep chunk ``index`` (without its training rows and summary) until :meth:`take`."""
        kept = dataclasses.replace(prepared, training=None, summary=prepared.summary.clear())
        if not self.spill:
            self._held[index] = kept
            return
        for name, frame in _frames(kept).items():
            frame.write_ipc(self._path(index, name), compression="uncompressed")
        # Only the small parts stay in memory; empty frames keep each table's schema.
        self._held[index] = _with_frames(kept, {n: f.clear() for n, f in _frames(kept).items()})

    def take(self, index: int) -> Prepared:
        """Chunk ``index`` as it was put (read back from disk when spilled), then forgotten."""
        kept = self._held.pop(index)
        if not self.spill:
            return kept
        frames: dict[str, pl.DataFrame] = {}
        for name in _frames(kept):
            path = self._path(index, name)
            frames[name] = pl.read_ipc(path)
            path.unlink()
        return _with_frames(kept, frames)


def _frames(prepared: Prepared) -> dict[str, pl.DataFrame]:
    """The per-customer and per-invoice frames of a chunk, by name."""
    frames = {"behaviour": prepared.behaviour, "rfm": prepared.rfm}
    if prepared.scoring is not None:
        s = prepared.scoring
        frames.update(open_invoices=s.open_invoices, open_features=s.open_features,
                      next_invoice=s.next_invoice)
    return frames


def _with_frames(prepared: Prepared, frames: dict[str, pl.DataFrame]) -> Prepared:
    """``prepared`` with the frames of :func:`_frames` replaced."""
    scoring: Scoring | None = None
    if prepared.scoring is not None:
        scoring = dataclasses.replace(prepared.scoring, open_invoices=frames["open_invoices"],
                                      open_features=frames["open_features"],
                                      next_invoice=frames["next_invoice"])
    return dataclasses.replace(prepared, behaviour=frames["behaviour"], rfm=frames["rfm"], scoring=scoring)
