"""The mapping file: how a real export's columns and conventions map onto the data contract.

A mapping is TOML read through :func:`billcx.config.from_mapping` into the frozen
:class:`MappingSpec`, so unknown keys are errors with a did-you-mean.  Sections, from general to
specific (a later one overrides an earlier one, key by key):

* ``[defaults]``: parse settings for every file (encoding, delimiter, dates, money...).
* ``[tables.<table>]``: settings and ``columns`` for every file feeding that table.
* ``[files."<glob>"]``: settings, ``columns`` and ``table`` for files whose name matches.
* ``[derive]``: what is derived when an export lacks it (customers, payments, status...).

docs/ingest.md documents every key with examples.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import fnmatch
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import polars as pl

from billcx.config import from_mapping, read_toml, suggest
from billcx.errors import ConfigError
from billcx.ingest.encoding import canonical_codec
from billcx.money import is_currency
from billcx.schema import CUSTOMERS, INPUT_TABLES, Column, Kind, Table

TableName = Literal["customers", "invoices", "payments", "events"]
CARRIED_PREFIX = "customers."
DECIMALS = (".", ",")
THOUSANDS = (",", ".", " ", "'", "\u00a0", "\u202f", "")


@dataclass(frozen=True)
class ColumnSpec:
    """What one input column becomes.

    Attributes:
        to: contract column (``amount``), a customer attribute carried by an invoice or payment
            export (``customers.country``), or several of them when ``values`` maps one input value
            to several fields.  Empty: recognise the column by its name or an alias.
        values: value map applied before parsing (``{ Yes = true, No = false }``); with several
            targets each value is a list with one item per target.
        formats: date or timestamp formats for this column (strftime), tried in order.
        ignore: a reason to leave the column out on purpose (said in the report).
    """

    to: str | tuple[str, ...] = ""
    values: dict[str, Any] = field(default_factory=dict)
    formats: tuple[str, ...] = ()
    ignore: str = ""

    @property
    def targets(self) -> tuple[str, ...]:
        """Target names as a tuple (empty when recognised by name)."""
        return (self.to,) if isinstance(self.to, str) and self.to else tuple(self.to or ())


@dataclass(frozen=True)
class ParseSpec:
    """Parse settings shared by defaults, tables and files (None: inherit or detect)."""

    encoding: str | None = None
    delimiter: str | None = None
    sheet: str | None = None
    date_formats: tuple[str, ...] | None = None
    dayfirst: bool | None = None
    instant_formats: tuple[str, ...] | None = None
    naive_timezone: str | None = None
    decimal: str | None = None
    thousands: str | None = None
    money_unit: Literal["major", "minor"] | None = None
    default_currency: str | None = None


@dataclass(frozen=True)
class TableSpec(ParseSpec):
    """Settings and column map for every file feeding one table."""

    columns: dict[str, str | ColumnSpec] = field(default_factory=dict)


@dataclass(frozen=True)
class FileSpec(TableSpec):
    """Settings for files whose name matches the section's glob; ``table`` says what they feed."""

    table: TableName | None = None


@dataclass(frozen=True)
class DeriveSpec:
    """What ingest derives when an export lacks it (each is said in the report).

    Attributes:
        customers: ``auto`` derives a minimal customers table from the invoices (and payments)
            when no customers export is given; ``never`` leaves it empty (every invoice is then
            rejected as ``unknown_customer``).
        payments: ``auto`` makes one payment per settled invoice when no payments export is
            given (an export that has one is never mixed with derived rows); ``never`` not at all.
        status_from_paid_date: an invoice export without a status column gets ``paid`` when
            ``paid_date`` is set, ``open`` otherwise.
        amount_paid_from_paid_date: an invoice export without ``amount_paid`` gets the full amount
            when ``paid_date`` is set, 0 otherwise.
        timezone_from_country: a missing or unknown time zone is taken from the country when the
            country has a single zone (or all its zones keep the same clock).
    """

    customers: Literal["auto", "never"] = "auto"
    payments: Literal["auto", "never"] = "auto"
    status_from_paid_date: bool = True
    amount_paid_from_paid_date: bool = True
    timezone_from_country: bool = True


@dataclass(frozen=True)
class MappingSpec:
    """A whole mapping file (empty by default: names, aliases and detection do the work)."""

    defaults: ParseSpec = ParseSpec()
    tables: dict[str, TableSpec] = field(default_factory=dict)
    files: dict[str, FileSpec] = field(default_factory=dict)
    derive: DeriveSpec = DeriveSpec()

    def file_spec(self, file_name: str) -> tuple[str, FileSpec] | None:
        """The ``[files]`` section whose glob matches ``file_name`` first, with its glob."""
        for glob, spec in self.files.items():
            if fnmatch.fnmatchcase(file_name, glob) or fnmatch.fnmatchcase(file_name.lower(), glob.lower()):
                return glob, spec
        return None


@dataclass(frozen=True)
class Effective:
    """The settings that apply to one file once its table is known (all layers merged)."""

    parse: ParseSpec
    columns: dict[str, ColumnSpec]


_PARSE_FIELDS = tuple(f.name for f in dataclasses.fields(ParseSpec))


def effective(mapping: MappingSpec, file_name: str, table: str) -> Effective:
    """Merge defaults, the table's section and the file's section for ``file_name``."""
    layers: list[ParseSpec] = [mapping.defaults]
    columns: dict[str, ColumnSpec] = {}
    if table in mapping.tables:
        layers.append(mapping.tables[table])
        columns.update(_columns(mapping.tables[table]))
    found = mapping.file_spec(file_name)
    if found is not None:
        layers.append(found[1])
        columns.update(_columns(found[1]))
    values: dict[str, Any] = {}
    for layer in layers:
        for name in _PARSE_FIELDS:
            v = getattr(layer, name)
            if v is not None:
                values[name] = v
    return Effective(ParseSpec(**values), columns)


def _columns(spec: TableSpec) -> dict[str, ColumnSpec]:
    return {k: ColumnSpec(to=v) if isinstance(v, str) else v for k, v in spec.columns.items()}


def load_mapping(path: str | Path) -> MappingSpec:
    """Read and check a mapping file.

    Raises:
        ConfigError: TOML syntax, unknown keys (with a suggestion), unknown tables or columns,
            bad formats, separators, currencies, encodings or value maps; the message names the
            key path.
    """
    path = Path(path)
    return mapping_from_dict(read_toml(path), where=path.name)


def mapping_from_dict(data: dict[str, Any], *, where: str = "mapping") -> MappingSpec:
    """Build and check a :class:`MappingSpec` from parsed TOML (see :func:`load_mapping`)."""
    try:
        spec = from_mapping(MappingSpec, data)
    except ConfigError as exc:
        raise ConfigError(f"{where}: {exc.message}", hint=exc.hint) from None
    for name in spec.tables:
        if name not in INPUT_TABLES:
            raise ConfigError(
                f"{where}: unknown table 'tables.{name}'{suggest(name, INPUT_TABLES)}",
                hint=f"tables are {', '.join(INPUT_TABLES)}",
            )
    _check_parse(spec.defaults, f"{where}: defaults")
    for name, tspec in spec.tables.items():
        _check_parse(tspec, f"{where}: tables.{name}")
        _check_columns(tspec, INPUT_TABLES[name], f"{where}: tables.{name}.columns")
    for glob, fspec in spec.files.items():
        loc = f'{where}: files."{glob}"'
        _check_parse(fspec, loc)
        if fspec.columns:
            if fspec.table is None:
                raise ConfigError(
                    f"{loc}: columns need `table` in the same section",
                    hint='add table = "invoices" (or customers, payments, events)',
                )
            _check_columns(fspec, INPUT_TABLES[fspec.table], f"{loc}.columns")
    return spec


def _check_parse(spec: ParseSpec, loc: str) -> None:
    if spec.encoding is not None:
        canonical_codec(spec.encoding, where=f"{loc}.encoding")
    if spec.delimiter is not None and len(spec.delimiter) != 1:
        raise ConfigError(f"{loc}.delimiter: expected one character, found {spec.delimiter!r}")
    if spec.decimal is not None and spec.decimal not in DECIMALS:
        raise ConfigError(f"{loc}.decimal: expected '.' or ',', found {spec.decimal!r}")
    if spec.thousands is not None and spec.thousands not in THOUSANDS:
        raise ConfigError(
            f"{loc}.thousands: expected one of {', '.join(map(repr, THOUSANDS))}, found {spec.thousands!r}"
        )
    if spec.decimal is not None and spec.decimal == spec.thousands:
        raise ConfigError(f"{loc}: decimal and thousands separators are both {spec.decimal!r}")
    if spec.default_currency is not None and not is_currency(spec.default_currency):
        raise ConfigError(
            f"{loc}.default_currency: expected an ISO 4217 code, found {spec.default_currency!r}"
        )
    for fmt in spec.date_formats or ():
        check_format(fmt, f"{loc}.date_formats", instant=False)
    for fmt in spec.instant_formats or ():
        check_format(fmt, f"{loc}.instant_formats", instant=True)
    if spec.naive_timezone is not None:
        check_timezone(spec.naive_timezone, f"{loc}.naive_timezone")


def check_format(fmt: str, loc: str, *, instant: bool) -> None:
    """A strftime format must read back what it writes (so typos such as %D or %y-%M are caught)."""
    sample = dt.datetime(2031, 11, 23, 17, 45, 56, tzinfo=dt.UTC)
    try:
        text = sample.strftime(fmt)
    except ValueError:
        raise ConfigError(f"{loc}: invalid format {fmt!r}") from None
    series = pl.Series([text])
    parsed: Any = None
    try:
        if instant:
            dtype = pl.Datetime("us", "UTC") if "%z" in fmt or "%Z" in fmt else pl.Datetime("us")
            parsed = series.str.strptime(dtype, fmt, strict=False)[0]
            ok = parsed is not None and parsed.replace(tzinfo=None) == sample.replace(tzinfo=None)
        else:
            parsed = series.str.strptime(pl.Date, fmt, strict=False)[0]
            ok = parsed == sample.date()
    except pl.exceptions.PolarsError:
        ok = False
    if not ok:
        raise ConfigError(
            f"{loc}: format {fmt!r} does not read back a {'timestamp' if instant else 'date'} "
            f"(2031-11-23 written as {text!r} reads as {parsed})",
            hint="dates need %Y (or %y), %m (or %b/%B) and %d; see strftime",
        )


def check_timezone(name: str, loc: str) -> None:
    """``name`` must be a zone polars (and so every later stage) understands."""
    try:
        pl.Series([dt.datetime(2024, 1, 1)]).dt.replace_time_zone(name)
    except Exception:  # noqa: BLE001 - polars raises ComputeError or others for unknown zones
        raise ConfigError(
            f"{loc}: unknown time zone {name!r}", hint="use an IANA name such as Europe/Paris"
        ) from None


def _check_columns(spec: TableSpec, table: Table, loc: str) -> None:
    for source, raw in spec.columns.items():
        col = ColumnSpec(to=raw) if isinstance(raw, str) else raw
        where = f"{loc}.{source}" if source.isidentifier() else f'{loc}."{source}"'
        if col.ignore and col.targets:
            raise ConfigError(f"{where}: `ignore` and `to` cannot both be set")
        targets = [resolve_target(t, table, where) for t in col.targets]
        if len(targets) > 1 and not col.values:
            raise ConfigError(f"{where}: several targets need `values` saying what each input value sets")
        for key, value in col.values.items():
            items = value if len(targets) > 1 else [value]
            if len(targets) > 1 and (not isinstance(value, list) or len(value) != len(targets)):
                raise ConfigError(
                    f"{where}.values.{key}: expected a list of {len(targets)} values "
                    f"(one per target), found {value!r}"
                )
            for column, item in zip(targets, items, strict=False):
                check_value(column, item, f"{where}.values.{key}")
        for fmt in col.formats:
            instant = bool(targets) and targets[0].kind is Kind.INSTANT
            check_format(fmt, f"{where}.formats", instant=instant)


def resolve_target(name: str, table: Table, where: str) -> Column:
    """The contract column a ``to`` names; carried customer attributes only in other tables.

    Raises:
        ConfigError: unknown column, with the closest name.
    """
    if name.startswith(CARRIED_PREFIX) and table is not CUSTOMERS:
        col = name[len(CARRIED_PREFIX) :]
        if col not in CUSTOMERS or col == "customer_id":
            raise ConfigError(
                f"{where}: unknown customer column {name!r}"
                f"{suggest(col, [c for c in CUSTOMERS.names if c != 'customer_id'])}"
            )
        return CUSTOMERS[col]
    if name not in table:
        raise ConfigError(
            f"{where}: unknown {table.name} column {name!r}{suggest(name, table.names)}",
            hint=f"{table.name} columns: {', '.join(table.names)}",
        )
    return table[name]


def check_value(column: Column, value: Any, where: str) -> None:
    """A value map's output must suit its target column."""
    if column.kind is Kind.BOOL:
        if not isinstance(value, bool):
            raise ConfigError(f"{where}: {column.name} takes true or false, found {value!r}")
    elif column.kind is Kind.CHOICE:
        if value not in (column.choices or ()):
            raise ConfigError(
                f"{where}: {column.name} takes one of {', '.join(column.choices or ())}, "
                f"found {value!r}{suggest(str(value), column.choices or ())}"
            )
    elif not isinstance(value, str | int):
        raise ConfigError(f"{where}: {column.name} takes text, found {value!r}")
