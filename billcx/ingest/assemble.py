"""Putting files together into tables, keeping count of every row on the way.

:class:`Assembly` collects each file's clean rows and issues, builds the working frame of each
table (rows keep ``__src``/``__idx`` so any later issue points at its file and line), runs the
cross-row checks it is asked to, and in :meth:`Assembly.finish` fills defaults, conforms and sorts
the tables, renders the rejects and writes the report -- after checking that every row read is
either in a clean table (or collapsed into one) or rejected.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field

import numpy as np
import polars as pl

from billcx.ingest import checks, contacts
from billcx.ingest.codes import REJECTING
from billcx.ingest.issues import empty_issues, render_rejects
from billcx.ingest.mapping import CARRIED_PREFIX, MappingSpec
from billcx.ingest.passes import Passes
from billcx.ingest.readers import IDX, delimiter_name
from billcx.ingest.report import FileReport, IngestReport, TableReport
from billcx.ingest.result import IngestResult
from billcx.ingest.sharding import ShardCut, owners
from billcx.ingest.sources import SourcePlan
from billcx.schema import CUSTOMERS, EVENTS, INVOICES, PAYMENTS, Table
from billcx.shard import Shard

SRC = "__src"
_SORT: dict[str, list[str]] = {"events": ["customer_id", "at", "channel", "event"]}


@dataclass
class TableState:
    """A table being assembled."""

    table: Table
    frame: pl.DataFrame | None = None
    sources: list[int] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    derived_from: str | None = None
    rejected: list[pl.Series] = field(default_factory=list)

    def keys(self) -> pl.Series:
        """Key values of the rows still in the table."""
        key = self.table.key or "customer_id"
        if self.frame is None or key not in self.frame.columns:
            return pl.Series(key, [], dtype=pl.String)
        return self.frame[key]

    def rejected_keys(self) -> pl.Series:
        """Key values of rows rejected so far (for ``parent_rejected``)."""
        parts = [s.cast(pl.String).rename("key") for s in self.rejected if len(s)]
        return pl.concat(parts) if parts else pl.Series("key", [], dtype=pl.String)


class Assembly:
    """Files, tables and issues of one ingest run (see the module doc)."""

    def __init__(self, *, mapping: MappingSpec, max_reject_rate: float, shard: Shard | None = None) -> None:
        self.mapping = mapping
        self.max_reject_rate = max_reject_rate
        self.shard = shard
        self._owners: list[pl.DataFrame] = []
        self.plans: list[SourcePlan] = []
        self.passes: list[Passes] = []
        self.issues: list[pl.DataFrame] = []
        self.collapsed: dict[int, int] = {}
        self.file_notes: dict[int, list[str]] = {}
        self._frames: dict[int, pl.DataFrame] = {}
        self._states: dict[str, TableState] = {}

    # -- collecting ----------------------------------------------------------------------------------

    def add(self, plan: SourcePlan, passes: Passes) -> None:
        """Take one file's passes: its clean rows, issues and what was assumed while reading."""
        self.plans.append(plan)
        # Keep what the passes found, not their rows: the rows move into the table's frame.
        self.passes.append(dataclasses.replace(passes, clean=passes.clean.clear()))
        self.issues.append(passes.issues)
        notes = list(plan.notes)
        frame = passes.clean.with_columns(pl.lit(plan.src, pl.Int32).alias(SRC))
        default = plan.options.default_currency
        if "currency" in plan.table and default:
            if "currency" not in frame.columns:
                frame = frame.with_columns(currency=pl.lit(default))
                notes.append(f"currency absent: {default} (mapping default_currency) for every row")
            elif n := frame["currency"].null_count():
                frame = frame.with_columns(pl.col("currency").fill_null(default))
                notes.append(f"{n} empty currency cells set to {default} (mapping default_currency)")
        for column, n in passes.naive.items():
            if n:
                notes.append(
                    f"{n} {column} values had no UTC offset: read in "
                    f"{plan.options.instants.naive_timezone} (mapping naive_timezone)"
                )
        self.file_notes[plan.src] = notes
        self._frames[plan.src] = frame
        if self.shard is not None and (owned := owners(frame)) is not None:
            # Who owns each typed row, before any check can drop it: a later reject stays in its shard.
            self._owners.append(owned)

    def table(self, table: Table) -> TableState:
        """The working state of ``table`` (built from its files on first use)."""
        if table.name not in self._states:
            srcs = [p.src for p in self.plans if p.table is table]
            frames = [self._frames.pop(s) for s in srcs]  # the table's frame becomes the only copy
            frame = (
                (frames[0] if len(frames) == 1 else pl.concat(frames, how="diagonal_relaxed"))
                if frames
                else None
            )
            if frame is not None and table.key:
                # Sorted once, early: duplicates are then neighbours, every later step keeps the
                # order, and the output needs it anyway.
                frame = sort_by_key(frame, table.key)
            state = TableState(table, frame, srcs)
            state.rejected = [self.passes[s].rejected_keys for s in srcs]
            self._states[table.name] = state
        return self._states[table.name]

    def input_name(self, column: str) -> pl.Expr:
        """The input column a contract column came from, per row's file."""
        names = {
            p.src: p.source_name(column)
            if p.resolution.feed(column) is not None
            else p.source_name(CARRIED_PREFIX + column)
            for p in self.plans
        }
        return pl.col(SRC).replace_strict(names, default=column, return_dtype=pl.String)

    def carried_columns(self) -> list[str]:
        """Customer attributes the invoice exports carry (``customers.<column>``)."""
        return sorted(
            {f.target for p in self.plans if p.table is INVOICES for f in p.resolution.feeds if f.carried}
        )

    def found(self, issues: pl.DataFrame) -> None:
        """Record issues found by a check."""
        if not issues.is_empty():
            self.issues.append(issues)

    def _locate(self, src: int, idx: np.ndarray) -> np.ndarray:
        return np.asarray(self.plans[src].raw.lines(idx))

    # -- checks ---------------------------------------------------------------------------------------

    def dedupe(self, state: TableState) -> None:
        """Collapse identical duplicates of the table's key; reject conflicting ones."""
        assert state.frame is not None and state.table.key
        key = state.table.key
        kept, found, collapsed = checks.duplicates(
            state.frame,
            key,
            input_name=self.input_name,
            locate=self._locate,
            files=[p.name for p in self.plans],
        )
        self.found(found)
        for (src,), group in found.filter(pl.col("code") == "duplicate_identical").group_by("src"):
            self.collapsed[int(src)] = self.collapsed.get(int(src), 0) + group.height
        state.rejected.append(found.filter(pl.col("code") == "duplicate_conflicting")["value"])
        state.frame = kept
        if collapsed:
            state.notes.append(f"{collapsed} identical duplicate rows collapsed (same {key}, same values)")

    def refer(
        self,
        state: TableState,
        column: str,
        parents: pl.Series,
        rejected: pl.Series,
        *,
        parent: str,
        code: str,
    ) -> None:
        """Reject rows of ``state`` whose ``column`` names no clean parent."""
        assert state.frame is not None
        if column not in state.frame.columns:
            return
        before = state.frame
        state.frame, found = checks.references(
            before, column, parents, rejected, parent=parent, unknown_code=code, input_name=self.input_name
        )
        self.found(found)
        if state.table.key and not found.is_empty():  # their own children become parent_rejected
            gone = before.join(state.frame.select(SRC, IDX), on=[SRC, IDX], how="anti")
            state.rejected.append(gone[state.table.key])

    def normalise_contacts(self, state: TableState, *, derive_timezone: bool) -> None:
        """Normalise contact columns; unusable values are emptied and listed as warnings."""
        assert state.frame is not None
        names = {
            (p.src, c): p.source_name(c)
            if p.resolution.feed(c) is not None
            else p.source_name(CARRIED_PREFIX + c)
            for p in self.plans
            for c in ("email", "phone", "country", "timezone", "locale")
        }
        frame, found, rep = contacts.normalise(state.frame, derive_timezone=derive_timezone, columns=names)
        state.frame = frame
        self.found(found)
        for column in ("country", "email", "phone", "timezone", "locale"):
            if rep.rewritten.get(column):
                state.notes.append(f"{rep.rewritten[column]} {column} values normalised")
            if rep.emptied.get(column):
                state.notes.append(f"{rep.emptied[column]} unusable {column} values emptied (row kept)")
        if rep.timezones_derived:
            state.notes.append(
                f"timezone derived from country for {rep.timezones_derived} customers "
                "(countries with a single zone or clock)"
            )
        if rep.timezones_missing:
            state.notes.append(f"{rep.timezones_missing} customers have no time zone")

    # -- finishing ------------------------------------------------------------------------------------

    def finish(
        self, customers: TableState, invoices: TableState, payments: TableState, events: TableState
    ) -> IngestResult:
        """Defaults, contract schema, sort; rejects and report; and the row accounting check."""
        issues = pl.concat(self.issues) if self.issues else empty_issues()
        cut = ShardCut.build(self._owners, self.shard) if self.shard is not None else None
        if cut is not None:
            issues = cut.issues(issues)
            self.collapsed = {
                int(src): int(n)
                for src, n in issues.filter(pl.col("code") == "duplicate_identical")
                .group_by("src")
                .len()
                .iter_rows()
            }
        rejecting = issues.filter(pl.col("code").is_in(sorted(REJECTING)))
        rejected_rows = rejecting.select("src", IDX).unique()
        per_src = dict(rejected_rows.group_by("src").len().iter_rows())
        files = tuple(
            self._file_report(
                p,
                int(per_src.get(p.src, 0)),
                elsewhere=cut.rows_elsewhere(p.src, p.raw.n_rows) if cut is not None else 0,
            )
            for p in self.plans
        )
        tables: dict[str, pl.DataFrame | None] = {}
        reports: list[TableReport] = []
        for state in (customers, invoices, payments, events):
            if cut is not None and state.frame is not None:
                state.frame = cut.rows(state.frame)
            frame, table_report = self._finish_table(state)
            self._check_accounting(state, files)
            state.frame = None  # the working copy is no longer needed
            tables[state.table.name] = frame
            if frame is not None or state.table is not EVENTS:
                reports.append(table_report)
        codes = dict(issues.group_by("code").len().sort("code").iter_rows()) if not issues.is_empty() else {}
        rejects = render_rejects(
            issues,
            files=[p.name for p in self.plans],
            tables=[p.table.name for p in self.plans],
            lines=[p.raw.lines for p in self.plans],
        )
        report = IngestReport(
            files,
            tuple(reports),
            {str(k): int(v) for k, v in codes.items()},
            self.max_reject_rate,
            shard=str(self.shard) if self.shard is not None else None,
        )
        empty = {t.name: t.empty() for t in (CUSTOMERS, INVOICES, PAYMENTS)}
        return IngestResult(
            tables["customers"] if tables["customers"] is not None else empty["customers"],
            tables["invoices"] if tables["invoices"] is not None else empty["invoices"],
            tables["payments"] if tables["payments"] is not None else empty["payments"],
            tables["events"],
            rejects,
            report,
        )

    def _finish_table(self, state: TableState) -> tuple[pl.DataFrame | None, TableReport]:
        table = state.table
        sources = tuple(self.plans[s].name for s in state.sources)
        if state.derived_from:
            sources = (f"derived from {state.derived_from}",)
        if state.frame is None:
            note = "no export given: the table is empty" if table is not EVENTS else "no export given"
            return None if table is EVENTS else table.empty(), TableReport(table.name, 0, (), False, (note,))
        frame = state.frame
        notes = list(state.notes)
        for column in table.columns:
            if column.default is None:
                continue
            if column.name not in frame.columns:
                frame = frame.with_columns(pl.lit(column.default, column.dtype).alias(column.name))
                if not state.derived_from:
                    notes.append(
                        f"{column.name} absent: {_show(column.default)} for every row (contract default)"
                    )
            elif n := frame[column.name].null_count():
                frame = frame.with_columns(
                    pl.col(column.name).fill_null(pl.lit(column.default, column.dtype))
                )
                notes.append(
                    f"{n} empty {column.name} cells set to {_show(column.default)} (contract default)"
                )
        if (state.derived_from or "").startswith("invoices"):
            gaps = [
                c
                for c in ("name", "email", "phone", "country", "timezone", "address_line1")
                if c not in frame.columns or frame[c].null_count() == frame.height
            ]
            carried = sorted(
                {
                    f.target[len(CARRIED_PREFIX) :]
                    for p in self.plans
                    if p.table is INVOICES
                    for f in p.resolution.feeds
                    if f.carried
                }
            )
            notes.insert(
                0,
                f"no customers export: {frame.height} customers derived from {state.derived_from}"
                + (f" (from each customer's latest invoice: {', '.join(carried)})" if carried else ""),
            )
            if gaps:
                notes.append(
                    f"missing for every customer: {', '.join(gaps)} (reminders by those channels "
                    f"cannot be sent until a customers export provides them)"
                )
        order = _SORT.get(table.name, [table.key] if table.key else table.names[:1])
        # One copy, sorted and conformed together; one chunk, so the Parquet bytes depend on the
        # rows only, never on how they were assembled.
        out = table.conform(frame.lazy() if _increasing(frame, order) else frame.lazy().sort(order)).rechunk()
        return out, TableReport(table.name, out.height, sources, state.derived_from is not None, tuple(notes))

    def _check_accounting(self, state: TableState, files: tuple[FileReport, ...]) -> None:
        if state.frame is None or state.derived_from or not state.sources:
            return
        expected = sum(files[s].rows_clean - files[s].duplicates_collapsed for s in state.sources)
        if state.frame.height != expected:
            raise RuntimeError(
                f"row accounting failed for {state.table.name}: {state.frame.height} rows kept, "
                f"{expected} expected from the files' counts (a bug in billcx ingest)"
            )

    def _file_report(self, plan: SourcePlan, rejected: int, *, elsewhere: int = 0) -> FileReport:
        raw = plan.raw
        res = plan.resolution
        enc = raw.encoding
        return FileReport(
            file=plan.name,
            table=plan.table.name,
            table_by=plan.table_by,
            format=raw.fmt,
            encoding=enc.name if enc else None,
            encoding_by=enc.by if enc else None,
            delimiter=delimiter_name(raw.delimiter) if raw.delimiter else None,
            delimiter_by=raw.delimiter_by or None,
            rows_read=raw.n_rows,
            rows_clean=raw.n_rows - rejected - elsewhere,
            rows_rejected=rejected,
            rows_in_other_shards=elsewhere,
            duplicates_collapsed=self.collapsed.get(plan.src, 0),
            blank_lines=raw.blank_lines,
            columns={
                src: ", ".join(f.target for f in res.feeds if f.source == src)
                for src in dict.fromkeys(f.source for f in res.feeds)
            },
            matched_by={f.source: f.via for f in res.feeds},
            ignored=dict(sorted(res.ignored.items())),
            notes=tuple(self.file_notes.get(plan.src, [])) + ((enc.note,) if enc and enc.note else ()),
        )


def _increasing(frame: pl.DataFrame, order: list[str]) -> bool:
    """Whether ``frame``'s single sort column is strictly increasing already (then a sort would
    return the same rows in the same order; keyed tables are, after :func:`sort_by_key`)."""
    if len(order) != 1:
        return False
    c = pl.col(order[0])
    return bool(frame.select((c > c.shift(1)).fill_null(False).slice(1).all()).item())


def sort_by_key(frame: pl.DataFrame, key: str) -> pl.DataFrame:
    """``frame`` sorted by ``key``, then file and line.

    Exports usually come sorted by their key, and pass one keeps the file's order, so one cheap
    comparison of neighbours (a few ms per million rows) usually spares the sort and the copy of
    the whole table it makes. (file, line) is unique per row, so both ways give the same rows in
    the same order.
    """
    k, s, i = pl.col(key), pl.col(SRC), pl.col(IDX)
    after = (k > k.shift(1)) | (
        (k == k.shift(1)) & ((s > s.shift(1)) | ((s == s.shift(1)) & (i > i.shift(1))))
    )
    # A null key compares as null, hence "not in order": such frames take the sort (nulls first).
    if frame.select(after.fill_null(False).slice(1).all()).item():
        # One chunk now, while little else is in memory, rather than at the end (the output is
        # written from one chunk so that its bytes never depend on how the rows were read).
        return frame.with_columns(k.set_sorted()).rechunk()
    return frame.sort(key, SRC, IDX)


def _show(value: object) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return repr(value) if isinstance(value, str) else str(value)
