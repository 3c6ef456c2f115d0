"""Which table a file feeds and which of its columns become which contract columns.

A file's table comes from the mapping (``[files."glob"] table = ...``), else from its name
(``invoices_2024.csv``, ``Payments.xlsx``, common variants), else from how well its header matches
each table's column names and aliases.  Columns are matched in that same order of trust: the
mapping, then the contract name, then an alias (compared without case, spaces or punctuation, so
``Invoice Date`` matches ``invoice_date``).  The report says which way each was decided.
"""

from __future__ import annotations

import difflib
import re
from dataclasses import dataclass, field

from billcx.errors import InputError
from billcx.ingest.mapping import CARRIED_PREFIX, ColumnSpec, Effective, MappingSpec, resolve_target
from billcx.schema import CUSTOMERS, INPUT_TABLES, Column, Kind, Table

TABLE_STEMS: dict[str, tuple[str, ...]] = {
    "customers": ("customers", "customer", "clients", "client", "contacts", "debtors", "debtor"),
    "invoices": ("invoices", "invoice", "bills", "bill", "receivables", "receivable", "ar"),
    "payments": ("payments", "payment", "transactions", "receipts", "remittances", "settlements"),
    "events": ("events", "engagement", "engagements", "messages", "activity", "activities"),
}
_TRUST = {"mapping": 0, "name": 1, "alias": 2}


def norm(name: str) -> str:
    """A header name without case, spaces or punctuation (``Invoice Date`` -> ``invoicedate``)."""
    return re.sub(r"[^0-9a-z]", "", name.strip().lower())


@dataclass(frozen=True)
class Feed:
    """One contract column fed by one input column.

    Attributes:
        target: contract column name, or ``customers.<column>`` for an attribute carried by an
            invoice or payment export.
        column: the contract column (of the table, or of customers when carried).
        position: input column position.
        source: input column name as written.
        via: ``mapping``, ``name`` or ``alias``.
        values: value map (input text, case-insensitive -> contract text) or None.
        strict: values outside the map are invalid (several targets from one column).
        formats: per-column date/timestamp formats from the mapping.
    """

    target: str
    column: Column
    position: int
    source: str
    via: str
    values: dict[str, str] | None = None
    strict: bool = False
    formats: tuple[str, ...] = ()

    @property
    def carried(self) -> bool:
        """A customer attribute in a non-customer export."""
        return self.target.startswith(CARRIED_PREFIX)


@dataclass(frozen=True)
class Resolution:
    """How a file's columns map onto its table."""

    feeds: tuple[Feed, ...]
    ignored: dict[str, str] = field(default_factory=dict)

    def feed(self, target: str) -> Feed | None:
        """The feed of ``target``, if the file has one."""
        return next((f for f in self.feeds if f.target == target), None)


def table_from_name(file_name: str) -> str | None:
    """The table a file name suggests, when exactly one does (``invoices_2024-01.csv``)."""
    stem = file_name.rsplit("/", 1)[-1].split(".", 1)[0].lower()
    tokens = set(re.split(r"[^a-z]+", stem)) - {""}
    found = {t for t, stems in TABLE_STEMS.items() if tokens & set(stems)}
    return found.pop() if len(found) == 1 else None


def _by_name(table: Table) -> dict[str, tuple[Column, str, int]]:
    out: dict[str, tuple[Column, str, int]] = {}
    for c in table.columns:
        out.setdefault(norm(c.name), (c, "name", 0))
    for c in table.columns:
        for rank, a in enumerate(c.aliases, start=1):
            out.setdefault(norm(a), (c, "alias", rank))
    return out


def header_scores(header: tuple[str, ...], mapping: MappingSpec) -> dict[str, int]:
    """How many of the header's columns each table recognises (carried customer columns aside)."""
    scores: dict[str, int] = {}
    for name, table in INPUT_TABLES.items():
        try:
            res = resolve_columns(header, table, Effective(mapping.defaults, _table_columns(mapping, name)))
        except InputError:
            continue
        scores[name] = len({f.target for f in res.feeds if not f.carried})
    return scores


def choose_table(header: tuple[str, ...], file_name: str, mapping: MappingSpec) -> tuple[str, str] | None:
    """The table a file feeds judged by its header, with its name as the tie-breaker.

    The name (``invoices_2024.csv``) wins when its table recognises as many header columns as any
    other; otherwise the table recognising the most columns wins.  None on an unbroken tie.
    """
    scores = header_scores(header, mapping)
    if not scores or max(scores.values()) == 0:
        return None
    best = max(scores.values())
    by_name = table_from_name(file_name)
    if by_name is not None and scores.get(by_name) == best:
        return by_name, "file name"
    leaders = [t for t, s in scores.items() if s == best]
    return (leaders[0], "header") if len(leaders) == 1 else None


def _table_columns(mapping: MappingSpec, table: str) -> dict[str, ColumnSpec]:
    spec = mapping.tables.get(table)
    if spec is None:
        return {}
    return {k: ColumnSpec(to=v) if isinstance(v, str) else v for k, v in spec.columns.items()}


def resolve_columns(header: tuple[str, ...], table: Table, eff: Effective) -> Resolution:
    """Match ``header`` against ``table`` (mapping first, then names, then aliases).

    Raises:
        InputError: two columns with the same name both feed one contract column.
        ConfigError: the mapping names an unknown target.
    """
    mapped = {k.strip().lower(): (k, v) for k, v in eff.columns.items()}
    by_name = _by_name(table)
    carried = _by_name(CUSTOMERS) if table is not CUSTOMERS else {}
    candidates: dict[str, list[tuple[int, int, Feed]]] = {}
    ignored: dict[str, str] = {}

    def offer(feed: Feed, rank: int) -> None:
        candidates.setdefault(feed.target, []).append((_TRUST[feed.via], rank, feed))

    for pos, raw_name in enumerate(header):
        name = raw_name.strip()
        spec_entry = eff.columns.get(name) or (mapped.get(name.lower(), (None, None))[1])
        spec = spec_entry if isinstance(spec_entry, ColumnSpec) else None
        if spec is not None and spec.ignore:
            ignored[name] = f"ignored by the mapping: {spec.ignore}"
            continue
        if spec is not None and spec.targets:
            targets = spec.targets
            for i, t in enumerate(targets):
                column = resolve_target(t, table, f"mapping column {name!r}")
                values = _value_texts(spec.values, i if len(targets) > 1 else None)
                offer(Feed(t, column, pos, name, "mapping", values, len(targets) > 1, spec.formats), 0)
            continue
        values = _value_texts(spec.values, None) if spec is not None else None
        formats = spec.formats if spec is not None else ()
        key = norm(name)
        if key in by_name:
            column, via, rank = by_name[key]
            offer(Feed(column.name, column, pos, name, via, values, False, formats), rank)
        elif key in carried and carried[key][0].name != "customer_id":
            column, _, rank = carried[key]
            offer(
                Feed(CARRIED_PREFIX + column.name, column, pos, name, "alias", values, False, formats), rank
            )
        else:
            ignored[name] = "not a contract column"
    feeds: list[Feed] = []
    for target, offers in candidates.items():
        offers.sort(key=lambda o: (o[0], o[1], o[2].position))
        best = offers[0]
        for other in offers[1:]:
            if (
                other[:2] == best[:2]
                and other[2].via != "mapping"
                and norm(other[2].source) == norm(best[2].source)
            ):
                raise InputError(
                    f"columns {best[2].position + 1} and {other[2].position + 1} are both named "
                    f"{best[2].source!r}; expected one column per field",
                    hint="rename one in the export, or map it in the mapping's [files] section",
                )
            ignored[other[2].source] = f"also matches {target}; {best[2].source!r} is used"
        feeds.append(best[2])
    feeds.sort(key=lambda f: f.position)
    return Resolution(tuple(feeds), ignored)


def _value_texts(values: dict[str, object], index: int | None) -> dict[str, str] | None:
    if not values:
        return None
    out: dict[str, str] = {}
    for key, value in values.items():
        item = value[index] if index is not None and isinstance(value, list) else value
        text = ("true" if item else "false") if isinstance(item, bool) else str(item)
        k = key.strip().lower()
        if k in out and out[k] != text:
            raise InputError(f"value map keys {key!r} and another differ only in case but map differently")
        out[k] = text
    return out


def missing_required(res: Resolution, table: Table, *, default_currency: str | None) -> list[str]:
    """Required contract columns the file does not provide (after mapping and defaults)."""
    have = {f.target for f in res.feeds}
    return [c for c in table.required if c not in have and not (c == "currency" and default_currency)]


def closest(missing: str, header: tuple[str, ...], table: Table) -> str | None:
    """The header name closest to a missing column (its name or any alias), for the error message."""
    column = table[missing]
    names = {norm(h): h for h in header if h.strip()}
    best: tuple[float, str] | None = None
    for target in (column.name, *column.aliases):
        for key, h in names.items():
            ratio = difflib.SequenceMatcher(None, norm(target), key).ratio()
            if ratio >= 0.6 and (best is None or ratio > best[0]):
                best = (ratio, h)
    return best[1] if best else None


def is_money(column: Column) -> bool:
    """Money columns are parsed against their row's currency."""
    return column.kind is Kind.MONEY
