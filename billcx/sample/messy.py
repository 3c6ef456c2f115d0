"""The messy variant: the same exports carrying the defects real billing exports have.

:func:`messify` takes generated data (or a folder of clean exports) and returns the files rewritten
with a small, deterministic share of defective rows -- see :data:`billcx.sample.defects.CATALOGUE`
for every kind, the file and column it touches and what ingest is expected to do with it -- plus
the exact list of defects with their line numbers (header = line 1, as an editor shows it).
:func:`write_messy` writes the files and that list as ``defects.json``.

Besides the catalogued defects the files differ in encoding details real exports have, which are
not errors: ``customers.csv`` starts with a UTF-8 byte-order mark and ``invoices.csv`` has CRLF
line ends.
"""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import polars as pl

from billcx.atomic import write_bytes
from billcx.errors import InputError
from billcx.sample.defects import CATALOGUE, Context, DefectKind
from billcx.sample.generator import SampleData
from billcx.sample.settings import stream
from billcx.sample.writer import EXPORT_TABLES, csv_bytes, export_text, tables

BOM = "\ufeff"
_LINE_ENDS = {"invoices": "\r\n"}
_KEYS = {"customers": "customer_id", "invoices": "invoice_id", "payments": "payment_id",
         "events": "customer_id"}


@dataclass(frozen=True)
class Defect:
    """One defect placed in a messy file.

    Attributes:
        file: file name (``invoices.csv``).
        line: line in that file as an editor shows it (header = 1).
        column: contract column touched; empty for whole-line defects.
        kind: defect kind from the catalogue.
        expect: what ingest does with it (reject, nulled, derive, normalise, collapse, skip, keep).
        code: the code ``billcx ingest`` reports for it; empty when it is fixed silently.
        value: the cell as written (whole-line defects: the row's key, or empty).
    """

    file: str
    line: int
    column: str
    kind: str
    expect: str
    code: str
    value: str


@dataclass(frozen=True)
class MessyFile:
    """One messy export file in memory."""

    name: str
    content: bytes
    data_rows: int  # rows holding data (duplicates included; blank and header lines excluded)


@dataclass(frozen=True)
class MessyExport:
    """The messy files and the defects they carry."""

    seed: int
    files: tuple[MessyFile, ...]
    defects: tuple[Defect, ...]

    def counts(self) -> dict[tuple[str, str], int]:
        """Number of defects per (file, kind)."""
        return dict(Counter((d.file, d.kind) for d in self.defects))


def _read_folder(folder: Path) -> dict[str, pl.DataFrame]:
    out = {}
    for table in EXPORT_TABLES:
        path = folder / f"{table.file_stem}.csv"
        if not path.is_file():
            raise InputError(f"{path}: missing; expected the {table.name} export here",
                             hint="write clean exports first: billcx sample --out DIR")
        frame = pl.read_csv(path, infer_schema=False)
        missing = [c for c in table.names if c not in frame.columns]
        if missing:
            raise InputError(f"{path}: missing columns {', '.join(missing)}",
                             hint="messify reads exports written by billcx sample")
        out[table.name] = frame.select(table.names)
    return out


def _needs_quotes(frame: pl.DataFrame) -> np.ndarray:
    """Rows with a cell the CSV writer would quote (line-level edits avoid them)."""
    flags = [frame[c].fill_null("").str.contains(r'[,"\r\n]') for c in frame.columns]
    return np.logical_or.reduce([f.to_numpy() for f in flags]) if flags else np.zeros(frame.height, bool)


class _TablePlan:
    """Rows chosen for each defect of one table, then the file built from them."""

    def __init__(self, name: str, frame: pl.DataFrame, ctx: Context, rng: np.random.Generator) -> None:
        self.name = name
        self.frame = frame
        self.ctx = ctx
        self.rng = rng
        self.used = np.zeros(frame.height, dtype=bool)
        self.updates: dict[str, dict[int, str]] = {}
        self.cells: list[tuple[int, DefectKind, str]] = []  # (row, kind, value)
        # Copies of rows: (source row, kind, changed cells).
        self.extras: list[tuple[int, DefectKind, dict[str, str | None]]] = []
        self.lines: list[tuple[int, DefectKind]] = []  # line-level defects at a row

    def choose(self, kind: DefectKind, mask: np.ndarray, *, fallback: np.ndarray | None = None,
               soft: bool = False) -> np.ndarray:
        """Rows for ``kind`` among ``mask``; short of them, topped up from ``fallback`` (or any row if soft).

        Rows are never shared between defects.  The fallback only matters for tiny samples, where
        e.g. every customer already has invoices and a rejected customer cascades to them.
        """
        want = max(1, round(kind.rate * self.frame.height)) if kind.rate > 0 else 1
        pool = np.flatnonzero(mask & ~self.used)
        if soft and fallback is None:
            fallback = np.ones(self.frame.height, dtype=bool)
        rows = self.rng.choice(pool, size=min(want, len(pool)), replace=False) if len(pool) else pool
        if fallback is not None and len(rows) < want:
            spare = np.flatnonzero(fallback & ~mask & ~self.used)
            top_up = self.rng.choice(spare, size=min(want - len(rows), len(spare)), replace=False)
            rows = np.concatenate([rows, top_up]) if len(spare) else rows
        rows = np.sort(rows).astype(np.int64)
        self.used[rows] = True
        return rows

    def place(self, kind: DefectKind) -> None:
        everything = np.ones(self.frame.height, dtype=bool)
        if kind.rewrite is not None:
            rows = self.choose(kind, kind.eligible(self.ctx) if kind.eligible else everything)
            for row, value in zip(rows, kind.rewrite(self.ctx, rows), strict=True):
                self.updates.setdefault(kind.column, {})[int(row)] = value
                self.cells.append((int(row), kind, value))
        elif kind.kind == "duplicate_identical":
            for row in self.choose(kind, kind.eligible(self.ctx) if kind.eligible else everything):
                self.extras.append((int(row), kind, {}))
        elif kind.kind == "duplicate_conflicting":
            rows = self.choose(kind, kind.eligible(self.ctx) if kind.eligible else everything, soft=True)
            for row in rows:
                self.extras.append((int(row), kind, self._conflict(int(row))))
        else:  # whole-line defects go on rows the writer does not quote
            plain = ~_needs_quotes(self.frame)
            if kind.kind == "ragged_long" and self.name == "customers":
                plain &= self.frame["address_line1"].fill_null("").str.contains(" ").to_numpy()
            preferred = plain & kind.eligible(self.ctx) if kind.eligible else plain
            for row in self.choose(kind, preferred, fallback=plain):
                self.lines.append((int(row), kind))

    def _conflict(self, row: int) -> dict[str, str | None]:
        record = self.frame.row(row, named=True)
        if self.name == "customers":
            email = record["email"]
            return {"email": f"billing.{email}" if email else "billing@example.com"}
        amount = str(record["amount"])
        whole, _, frac = amount.partition(".")
        return {"amount": f"{int(whole) + 10}" + (f".{frac}" if frac else "")}

    def build(self) -> tuple[MessyFile, list[Defect]]:
        frame = self.frame.with_columns([
            pl.Series(col, [vals.get(i, v) for i, v in enumerate(self.frame[col].to_list())], dtype=pl.String)
            for col, vals in self.updates.items()])
        n = frame.height
        # Copies go at a random later position, as a re-exported or re-keyed row would.
        keys = [float(i) for i in range(n)]
        extra_rows = []
        for source, _, changes in self.extras:
            record = frame.row(source, named=True) | changes
            extra_rows.append(record)
            keys.append(float(self.rng.integers(source, n)) + 0.5)
        full = pl.concat([frame, pl.DataFrame(extra_rows, schema=frame.schema)]) if extra_rows else frame
        order = np.argsort(np.array(keys), kind="stable")
        text = csv_bytes(full[order.tolist()]).decode("utf-8")
        header, *rows = text.rstrip("\n").split("\n")
        position = np.empty(len(order), dtype=np.int64)
        position[order] = np.arange(len(order))  # row of `full` -> index in `rows`

        file = f"{self.name}.csv"
        defects: list[Defect] = []
        before: dict[int, list[tuple[str, DefectKind]]] = {}
        for row, kind in self.lines:
            at = int(position[row])
            if kind.kind == "ragged_short":
                rows[at] = rows[at].rsplit(",", 2)[0]
            elif kind.kind == "ragged_long" and self.name == "customers":
                cells = rows[at].split(",")
                i = full.columns.index("address_line1")
                cells[i] = cells[i].replace(" ", ", ", 1)
                rows[at] = ",".join(cells)
            elif kind.kind == "ragged_long":
                rows[at] += ","
            else:
                before.setdefault(at, []).append(("" if kind.kind == "blank_line" else header, kind))
        def note(line: int, kind: DefectKind, value: str) -> None:
            defects.append(Defect(file, line, kind.column, kind.kind, kind.expect, kind.code, value))

        lines = [header]
        line_of = np.empty(len(rows), dtype=np.int64)
        for i, content in enumerate(rows):
            for extra, kind in before.get(i, []):
                lines.append(extra)
                note(len(lines), kind, "")
            lines.append(content)
            line_of[i] = len(lines)
        for row, kind, value in self.cells:
            note(int(line_of[position[row]]), kind, value)
        for j, (_, kind, _) in enumerate(self.extras):
            note(int(line_of[position[n + j]]), kind, str(full[n + j, kind.column or _KEYS[self.name]]))
        for row, kind in self.lines:
            if kind.kind.startswith("ragged"):
                note(int(line_of[position[row]]), kind, str(full[row, _KEYS[self.name]]))
        ending = _LINE_ENDS.get(self.name, "\n")
        body = ending.join(lines) + ending
        if self.name == "customers":
            body = BOM + body
        defects.sort(key=lambda d: (d.line, d.kind))
        return MessyFile(file, body.encode("utf-8"), len(rows)), defects


def messify(source: SampleData | str | Path, *, seed: int) -> MessyExport:
    """Rewrite clean exports with the realistic defects of the catalogue, deterministically.

    Args:
        source: generated data, or a folder holding the clean ``customers.csv``, ``invoices.csv``,
            ``payments.csv`` and ``events.csv`` that :func:`write_exports` wrote.
        seed: chooses which rows carry which defect; the same source and seed give the same bytes.

    Returns:
        The messy files (in memory) and every defect placed, with its line number.

    Raises:
        InputError: a folder lacks one of the four exports or a contract column.
    """
    if isinstance(source, SampleData):
        frames = {name: export_text(frame, next(t for t in EXPORT_TABLES if t.name == name))
                  for name, frame in tables(source).items()}
    else:
        frames = _read_folder(Path(source))
    rng = stream(seed, "messy")
    ctx = Context(frames=frames, rng=rng)
    files, defects = [], []
    for table in EXPORT_TABLES:
        plan = _TablePlan(table.name, frames[table.name], ctx, rng)
        for kind in CATALOGUE:
            if kind.table == table.name:
                plan.place(kind)
        file, found = plan.build()
        files.append(file)
        defects.extend(found)
    return MessyExport(seed=seed, files=tuple(files), defects=tuple(defects))


def write_messy(messy: MessyExport, out_dir: str | Path) -> list[Path]:
    """Write the messy files and ``defects.json`` (every defect with file, line, column, kind) atomically.

    Args:
        messy: what :func:`messify` returned.
        out_dir: target folder (created if missing).

    Returns:
        The paths written: the four CSV files, then ``defects.json``.
    """
    out = Path(out_dir)
    paths = []
    for file in messy.files:
        write_bytes(out / file.name, file.content)
        paths.append(out / file.name)
    manifest = {
        "seed": messy.seed,
        "files": {f.name: {"data_rows": f.data_rows} for f in messy.files},
        "defects": [d.__dict__ for d in messy.defects],
    }
    write_bytes(out / "defects.json", (json.dumps(manifest, indent=1, ensure_ascii=False) + "\n").encode())
    paths.append(out / "defects.json")
    return paths


def defect_markdown(messy: MessyExport) -> str:
    """The catalogue as a Markdown table with the number of defects of each kind in ``messy``."""
    counts = messy.counts()
    out = ["| file | defect | column | what | ingest | code | count |", "|---|---|---|---|---|---|---|"]
    for kind in CATALOGUE:
        column = f"`{kind.column}`" if kind.column else "whole line"
        code = f"`{kind.code}`" if kind.code else "-"
        out.append(f"| `{kind.file}` | `{kind.kind}` | {column} | {kind.description.replace('|', '/')} | "
                   f"{kind.expect} | {code} | {counts.get((kind.file, kind.kind), 0)} |")
    return "\n".join(out) + "\n"
