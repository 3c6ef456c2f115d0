"""Planning one input file: read it as text, decide its table, its columns and how to parse them.

Everything decided here ends up in the report: which table and why, the encoding and delimiter
and how they were found, which columns came from the mapping, their names or an alias, which
were ignored, and any separator detected from the first rows.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import polars as pl

from billcx.errors import InputError, UsageError
from billcx.ingest.aliases import (
    Resolution,
    choose_table,
    closest,
    missing_required,
    resolve_columns,
)
from billcx.ingest.amounts import MoneyOptions, detect_decimal
from billcx.ingest.dates import DEFAULT_DATE_FORMATS, DEFAULT_INSTANT_FORMATS, DateOptions
from billcx.ingest.mapping import Effective, MappingSpec, effective
from billcx.ingest.parse import ParseOptions, Target
from billcx.ingest.readers import RawSource, ReadOptions, position_name, read_source
from billcx.schema import INPUT_TABLES, Kind, Table


@dataclass(frozen=True)
class SourceSpec:
    """One input file, optionally with the table it feeds (overrides detection).

    Attributes:
        path: the file.
        table: ``customers``, ``invoices``, ``payments`` or ``events``; None to detect.
        name: how the file is named in rejects and the report (default: the path as given).
    """

    path: Path
    table: str | None = None
    name: str | None = None

    @property
    def display(self) -> str:
        """The name used in messages, rejects and the report."""
        return self.name if self.name is not None else str(self.path)


@dataclass(frozen=True)
class SourcePlan:
    """Everything needed to read one file into its table.

    Attributes:
        src: position of the file among the inputs.
        name: the file as named in rejects and the report.
        raw: the text reader.
        table: the contract table it feeds, and ``table_by`` how that was decided.
        resolution: its columns' mapping onto the table.
        targets: one per output column, in file order.
        options: parse settings.
        currency_source: raw column holding the currency (None: the mapping's default_currency).
        notes: plain sentences for the report (what was detected or assumed).
    """

    src: int
    name: str
    raw: RawSource
    table: Table
    table_by: str
    resolution: Resolution
    targets: tuple[Target, ...]
    options: ParseOptions
    currency_source: str | None
    notes: tuple[str, ...] = field(default=())

    def source_name(self, target: str) -> str:
        """Input column name feeding ``target`` (the contract name itself when none does)."""
        feed = self.resolution.feed(target)
        return feed.source if feed is not None else target


def plan_source(
    src: int, spec: SourceSpec, mapping: MappingSpec, *, encoding: str | None, sample_rows: int, workdir: Path
) -> SourcePlan:
    """Read ``spec``'s header and first rows and decide how to ingest it.

    Raises:
        UsageError: missing file, unknown table name.
        InputError: unreadable file, unknown table, missing required columns.
        ConfigError: the mapping names unknown columns.
    """
    name = spec.display
    base = spec.path.name
    found = mapping.file_spec(base)
    fspec = found[1] if found else None
    table_hint = spec.table or (fspec.table if fspec else None)
    if spec.table is not None and spec.table not in INPUT_TABLES:
        raise UsageError(f"{name}: unknown table {spec.table!r}; expected one of {', '.join(INPUT_TABLES)}")
    layered = effective(mapping, base, table_hint) if table_hint else effective(mapping, base, "")
    enc, enc_by = (encoding, "flag") if encoding else (layered.parse.encoding, "mapping")
    raw = read_source(
        spec.path,
        name=name,
        workdir=workdir,
        options=ReadOptions(enc, enc_by, layered.parse.delimiter, layered.parse.sheet),
    )
    table_name, table_by = _decide_table(spec, fspec, raw, mapping, name)
    table = INPUT_TABLES[table_name]
    eff = effective(mapping, base, table_name)
    resolution = resolve_columns(raw.header, table, eff)
    default_currency = eff.parse.default_currency
    missing = missing_required(resolution, table, default_currency=default_currency)
    if missing:
        raise _missing_error(name, table, raw.header, missing)
    sample = raw.frame.head(sample_rows).collect()
    options, notes = _options(eff, raw, resolution, sample)
    targets = tuple(
        Target(
            f.target,
            f.column,
            position_name(f.position),
            f.values,
            f.strict,
            f.formats,
            default_currency if f.column.kind is Kind.CURRENCY and not f.carried else None,
        )
        for f in resolution.feeds
    )
    currency = resolution.feed("currency")
    return SourcePlan(
        src,
        name,
        raw,
        table,
        table_by,
        resolution,
        targets,
        options,
        position_name(currency.position) if currency else None,
        (*raw.notes, *notes),
    )


def _decide_table(
    spec: SourceSpec, fspec: object, raw: RawSource, mapping: MappingSpec, name: str
) -> tuple[str, str]:
    if spec.table is not None:
        return spec.table, "argument"
    table = getattr(fspec, "table", None)
    if table is not None:
        return table, "mapping"
    chosen = choose_table(raw.header, spec.path.name, mapping)
    if chosen is not None:
        return chosen
    shown = ", ".join(h for h in raw.header[:12] if h.strip()) or "(no names)"
    raise InputError(
        f"{name}: cannot tell which table this file feeds; its header has {shown}",
        hint="name the file customers/invoices/payments/events.csv, or add "
        f'[files."{spec.path.name}"] table = "invoices" to the mapping',
    )


def _missing_error(name: str, table: Table, header: tuple[str, ...], missing: list[str]) -> InputError:
    parts = []
    first_hint = None
    for col in missing:
        near = closest(col, header, table)
        parts.append(f"{col} (closest found: {near!r})" if near else col)
        if near and first_hint is None:
            first_hint = f'map it in a mapping file: [tables.{table.name}.columns] "{near}" = "{col}"'
    found = ", ".join(repr(h) for h in header if h.strip()) or "no named columns"
    return InputError(
        f"{name}: missing required {table.name} column{'s' if len(missing) > 1 else ''} "
        f"{', '.join(parts)}; found {found}",
        hint=first_hint or f"the {table.name} table needs {', '.join(table.required)}",
    )


def _options(
    eff: Effective, raw: RawSource, res: Resolution, sample: pl.DataFrame
) -> tuple[ParseOptions, list[str]]:
    p = eff.parse
    notes: list[str] = []
    decimal = p.decimal
    if decimal is None:
        money_cols = [position_name(f.position) for f in res.feeds if f.column.kind is Kind.MONEY]
        values = pl.concat([sample[c] for c in money_cols if c in sample.columns]) if money_cols else None
        decimal, why = detect_decimal(values) if values is not None and len(values) else (".", "")
        if why:
            notes.append(why)
    naive = p.naive_timezone
    dates = DateOptions(p.date_formats or DEFAULT_DATE_FORMATS, p.dayfirst, naive, raw.excel_serials)
    instants = DateOptions(p.instant_formats or DEFAULT_INSTANT_FORMATS, None, naive)
    money = MoneyOptions(decimal, p.thousands, p.money_unit or "major")
    return ParseOptions(dates, instants, money, p.default_currency), notes
