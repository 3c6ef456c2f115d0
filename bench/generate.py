"""Benchmark datasets: about N invoice rows of realistic billing exports, generated once and cached.

Every dataset comes from :mod:`billcx.sample` (the product's own generator) with a fixed seed::

    bench/data/<rows>/
        csv/        customers.csv invoices.csv payments.csv events.csv  -- as a billing system exports them
        parquet/    the same tables in contract types (also a valid clean folder for CleanData.load)
        meta.json   settings, row counts, generator fingerprint, generation wall/CPU time and peak RSS

The history is 21 months long, which gives about 20 invoices per customer across the generator's
mix of billing cadences; the customer count is ``rows / 20.2``.  Sizes above ``--chunk-customers``
are generated in chunks (each with its own derived seed) so that 100M rows never sit in memory at
once; in that case every identifier gets a chunk prefix (``K003C0000001``) to stay unique.

Usage::

    python bench/generate.py --rows 1000000          # cached: a second call returns at once
    python bench/generate.py --rows 100000000          # 20 chunks of 250k customers
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import resource
import shutil
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

if __package__ in (None, ""):  # run as ``python bench/generate.py``
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import polars as pl

from billcx.atomic import atomic_dir, write_text
from billcx.hashing import digest_hex
from billcx.sample import SampleData, SampleSettings, export_text, generate, write_exports
from billcx.sample.writer import EXPORT_TABLES, csv_bytes, tables
from billcx.schema import Kind, Table

log = logging.getLogger(__name__)

BENCH_DIR = Path(__file__).resolve().parent
DATA_DIR = BENCH_DIR / "data"
REPO_DIR = BENCH_DIR.parent
SEED = 20240607
MONTHS = 21
INVOICES_PER_CUSTOMER = 20.2  # measured with MONTHS = 21 over the generator's cadence mix
DEFAULT_CHUNK_CUSTOMERS = 250_000  # ~5M invoice rows, ~5.5 GB peak while generating
FORMAT_VERSION = 1


@dataclass(frozen=True)
class Dataset:
    """A generated benchmark dataset on disk.

    Attributes:
        rows: the requested number of invoice rows (the folder name).
        root: ``bench/data/<rows>``.
        csv: folder of CSV exports (what ``billcx ingest`` reads).
        parquet: folder of Parquet exports in contract types (a clean folder).
        meta: what ``meta.json`` holds (settings, counts, generation cost).
    """

    rows: int
    root: Path
    csv: Path
    parquet: Path
    meta: dict[str, Any]


def customers_for(rows: int) -> int:
    """The number of customers that gives about ``rows`` invoices."""
    if rows < 1:
        raise ValueError(f"rows must be >= 1, found {rows}")
    return max(1, round(rows / INVOICES_PER_CUSTOMER))


def generator_fingerprint() -> str:
    """A digest of the generator's and contract's source, so a changed generator invalidates the cache."""
    import billcx.sample
    import billcx.schema

    sources = sorted(Path(billcx.sample.__file__).parent.glob("*.py")) + [Path(billcx.schema.__file__)]
    return digest_hex(str(FORMAT_VERSION), *(p.read_text(encoding="utf-8") for p in sources))


def _settings(customers: int, seed: int, events: bool) -> SampleSettings:
    return SampleSettings(customers=customers, seed=seed, months=MONTHS, events=events)


def _chunk_sizes(customers: int, chunk: int) -> list[int]:
    full, rest = divmod(customers, chunk)
    return [chunk] * full + ([rest] if rest else [])


def _prefix_ids(frame: pl.DataFrame, table: Table, tag: str) -> pl.DataFrame:
    ids = [c.name for c in table.columns if c.kind is Kind.ID and c.name in frame.columns]
    return frame.with_columns((pl.lit(tag) + pl.col(c)).alias(c) for c in ids)


def _append_chunk(data: SampleData, tag: str, csv_dir: Path, part_dir: Path, first: bool) -> dict[str, int]:
    """Append one chunk's tables to the CSV files and write its Parquet parts."""
    counts: dict[str, int] = {}
    for name, frame in tables(data).items():
        table = next(t for t in EXPORT_TABLES if t.name == name)
        frame = _prefix_ids(frame, table, tag)
        body = csv_bytes(export_text(frame, table))
        if not first:
            body = body.split(b"\n", 1)[1]  # header only once
        with open(csv_dir / f"{table.file_stem}.csv", "ab") as out:
            out.write(body)
        frame.write_parquet(
            part_dir / f"{table.file_stem}.{tag}.parquet", compression="zstd", statistics=True
        )
        counts[name] = frame.height
    return counts


def _generate_into(folder: Path, *, customers: int, seed: int, events: bool, chunk: int) -> dict[str, int]:
    csv_dir, parquet_dir = folder / "csv", folder / "parquet"
    csv_dir.mkdir()
    parquet_dir.mkdir()
    sizes = _chunk_sizes(customers, chunk)
    if len(sizes) == 1:
        data = generate(_settings(customers, seed, events))
        write_exports(data, csv_dir, fmt="csv")
        write_exports(data, parquet_dir, fmt="parquet")
        return data.counts()
    parts = folder / "parts"
    parts.mkdir()
    totals: dict[str, int] = {}
    for k, size in enumerate(sizes):
        started = time.perf_counter()
        # Each chunk draws from its own seed; ids get a chunk tag so they stay unique and sorted.
        data = generate(_settings(size, seed * 1000 + k, events))
        counts = _append_chunk(data, f"K{k:03d}", csv_dir, parts, first=k == 0)
        del data
        for name, n in counts.items():
            totals[name] = totals.get(name, 0) + n
        print(
            f"chunk {k + 1}/{len(sizes)}: {counts['invoices']:,} invoices in "
            f"{time.perf_counter() - started:.1f} s",
            file=sys.stderr,
            flush=True,
        )
    for table in EXPORT_TABLES:
        files = sorted(parts.glob(f"{table.file_stem}.K*.parquet"))
        # The chunks are each sorted and their tags sort in chunk order, so the union stays sorted.
        pl.scan_parquet(files).sink_parquet(
            parquet_dir / f"{table.file_stem}.parquet",
            compression="zstd",
            statistics=True,
            maintain_order=True,
        )
    shutil.rmtree(parts)
    return totals


def _read_meta(root: Path) -> dict[str, Any] | None:
    try:
        meta: dict[str, Any] = json.loads((root / "meta.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return meta


def dataset(
    rows: int,
    *,
    seed: int = SEED,
    events: bool = True,
    data_dir: Path = DATA_DIR,
    chunk_customers: int = DEFAULT_CHUNK_CUSTOMERS,
    force: bool = False,
) -> Dataset:
    """Return the cached dataset of about ``rows`` invoices, generating it first when needed.

    A cached dataset is reused only when its seed, options and generator fingerprint match, so a
    changed generator never silently benchmarks stale data.

    Args:
        rows: target number of invoice rows.
        seed: generator seed.
        events: also generate message-engagement events (part of a realistic export).
        data_dir: where datasets live (``bench/data``, git-ignored).
        chunk_customers: generate at most this many customers at a time (bounds memory).
        force: regenerate even when a matching dataset is cached.

    Returns:
        The :class:`Dataset` (paths and metadata).

    Raises:
        ValueError: ``rows`` or ``chunk_customers`` below 1.
    """
    if chunk_customers < 1:
        raise ValueError(f"chunk_customers must be >= 1, found {chunk_customers}")
    root = data_dir / str(rows)
    customers = customers_for(rows)
    wanted = {
        "format_version": FORMAT_VERSION,
        "rows": rows,
        "customers": customers,
        "seed": seed,
        "months": MONTHS,
        "events": events,
        "chunks": len(_chunk_sizes(customers, chunk_customers)),
        "fingerprint": generator_fingerprint(),
    }
    meta = None if force else _read_meta(root)
    if meta is not None and all(meta.get(k) == v for k, v in wanted.items()):
        return Dataset(rows, root, root / "csv", root / "parquet", meta)
    log.info("generating %s invoice rows (%s customers) into %s", rows, customers, root)
    before = resource.getrusage(resource.RUSAGE_SELF)
    started = time.perf_counter()
    with atomic_dir(root) as tmp:
        counts = _generate_into(tmp, customers=customers, seed=seed, events=events, chunk=chunk_customers)
        after = resource.getrusage(resource.RUSAGE_SELF)
        meta = {
            **wanted,
            "counts": counts,
            "chunk_customers": chunk_customers,
            "generation": {
                "wall_s": round(time.perf_counter() - started, 3),
                "cpu_s": round(after.ru_utime + after.ru_stime - before.ru_utime - before.ru_stime, 3),
                # ru_maxrss is the process peak; generation is all this process does.
                "peak_rss_mb": round(after.ru_maxrss / 1024, 1),
            },
            "bytes": {
                p.relative_to(tmp).as_posix(): p.stat().st_size for p in sorted(tmp.rglob("*")) if p.is_file()
            },
        }
        write_text(tmp / "meta.json", json.dumps(meta, indent=2, sort_keys=True) + "\n")
    return Dataset(rows, root, root / "csv", root / "parquet", meta)


def main(argv: list[str] | None = None) -> int:
    """Command line: generate (or find) a dataset and print its meta.json."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--rows", type=int, required=True, help="target number of invoice rows")
    parser.add_argument("--seed", type=int, default=SEED)
    parser.add_argument("--no-events", action="store_true", help="skip engagement events")
    parser.add_argument("--data-dir", type=Path, default=DATA_DIR)
    parser.add_argument(
        "--chunk-customers",
        type=int,
        default=DEFAULT_CHUNK_CUSTOMERS,
        help="generate at most this many customers at a time (memory bound)",
    )
    parser.add_argument("--force", action="store_true", help="regenerate even if cached")
    args = parser.parse_args(argv)
    try:
        ds = dataset(
            args.rows,
            seed=args.seed,
            events=not args.no_events,
            data_dir=args.data_dir,
            chunk_customers=args.chunk_customers,
            force=args.force,
        )
    except ValueError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    print(json.dumps({"root": os.fspath(ds.root), **ds.meta}, indent=2, sort_keys=True))
    return 0


if __name__ == "__main__":
    sys.exit(main())
