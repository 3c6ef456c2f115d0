"""Putting files together into tables, keeping count of every row on the way.

:class:`Assembly` collects each file's clean rows (lazy scans of pass one's staging files, see
``staging.py``) and issues, builds the working frame of each table (rows keep ``__src``/``__idx``
so any later issue points at its file and line), runs the cross-row checks it is asked to -- each
collects only the rows it finds, and a table loses rows by a filter on their ids -- and in
:meth:`Assembly.finish` fills defaults, conforms and sinks the tables in key order, renders the
rejects and writes the report, after checking that every row read is either in a clean table (or
collapsed into one) or rejected.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from pathlib import Path

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
from billcx.ingest.staging import conform, order_table, sink_output, without
from billcx.schema import EVENTS, INVOICES, Table
from billcx.shard import Shard

SRC = "__src"
_SORT: dict[str, list[str]] = {"events": ["customer_id", "at", "channel", "event"]}


@dataclass
class TableState:
    """A table being assembled."""

    table: Table
    frame: pl.LazyFrame | None = None
    sources: list[int] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    derived_from: str | None = None
    rejected: list[pl.Series] = field(default_factory=list)
    repeated: pl.Series = field(default_factory=lambda: pl.Series("key", [], pl.String))
    ordered: bool = False

    def keys(self) -> pl.Series:
        """Key values of the rows still in the table."""
        key = self.table.key or "customer_id"
        if self.frame is None or key not in self.frame.collect_schema().names():
            return pl.Series(key, [], dtype=pl.String)
        return self.frame.select(key).collect(engine="streaming")[key]

    def rejected_keys(self) -> pl.Series:
        """Key values of rows rejected so far (for ``parent_rejected``)."""
        parts = [s.cast(pl.String).rename("key") for s in self.rejected if len(s)]
        return pl.concat(parts) if parts else pl.Series("key", [], dtype=pl.String)


class Assembly:
    """Files, tables and issues of one ingest run (see the module doc)."""

    def __init__(
        self, *, mapping: MappingSpec, max_reject_rate: float, stage: Path, shard: Shard | None = None
    ) -> None:
        self.stage = stage
        self.mapping = mapping
        self.max_reject_rate = max_reject_rate
        self.shard = shard
        self._owners: list[pl.DataFrame] = []
        self.plans: list[SourcePlan] = []
        self.passes: list[Passes] = []
        self.issues: list[pl.DataFrame] = []
        self.collapsed: dict[int, int] = {}
        self.file_notes: dict[int, list[str]] = {}
        self._frames: dict[int, tuple[pl.LazyFrame, pl.DataFrame]] = {}
        self._states: dict[str, TableState] = {}

    # -- collecting ----------------------------------------------------------------------------------

    def add(self, plan: SourcePlan, passes: Passes) -> None:
        """Take one file's passes: its clean rows, issues and what was assumed while reading."""
        self.plans.append(plan)
        self.passes.append(dataclasses.replace(passes, extra=passes.extra.clear()))
        self.issues.append(passes.issues)
        notes = list(plan.notes)
        src = pl.lit(plan.src, pl.Int32).alias(SRC)
        frame, extra = passes.clean.with_columns(src), passes.extra.with_columns(src)
        default = plan.options.default_currency
        if "currency" in plan.table and default:
            if "currency" not in frame.collect_schema().names():
                frame = frame.with_columns(currency=pl.lit(default))
                extra = extra.with_columns(currency=pl.lit(default))
                notes.append(f"currency absent: {default} (mapping default_currency) for every row")
            else:
                n = frame.select(pl.col("currency").null_count()).collect(engine="streaming").item()
                n += extra["currency"].null_count()
                if n:
                    fill = pl.col("currency").fill_null(default)
                    frame, extra = frame.with_columns(fill), extra.with_columns(fill)
                    notes.append(f"{n} empty currency cells set to {default} (mapping default_currency)")
        for column, n in passes.naive.items():
            if n:
                notes.append(
                    f"{n} {column} values had no UTC offset: read in "
                    f"{plan.options.instants.naive_timezone} (mapping naive_timezone)"
                )
        self.file_notes[plan.src] = notes
        self._frames[plan.src] = (frame, extra)
        if self.shard is not None:
            both = pl.concat([frame, extra.lazy()], how="diagonal_relaxed")
            if (owned := owners(both)) is not None:
                # Who owns each typed row, before any check can drop it: a later reject stays in its shard.
                self._owners.append(owned)

    def table(self, table: Table) -> TableState:
        """The working state of ``table`` (built from its files on first use), in order (see
        ``staging.order_table``), with the key values repeated on neighbouring rows."""
        if table.name not in self._states:
            srcs = [p.src for p in self.plans if p.table is table]
            order = _SORT.get(table.name, [table.key] if table.key else table.names[:1])
            parts: list[pl.LazyFrame] = []
            for s in srcs:
                frame, extra = self._frames.pop(s)
                parts.append(frame)
                if not extra.is_empty():
                    parts.append(extra.sort([*order, SRC, IDX]).lazy())
            state = TableState(table, None, srcs)
            if parts:
                state.frame, found = order_table(
                    parts, order, key=table.key, sorted_path=self.stage / f"{table.name}.sorted.parquet"
                )
                state.repeated, state.ordered = found.repeated, True
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
        drop, found, collapsed = checks.duplicates(
            state.frame,
            key,
            state.repeated,
            input_name=self.input_name,
            locate=self._locate,
            files=[p.name for p in self.plans],
        )
        self.found(found)
        for (src,), group in found.filter(pl.col("code") == "duplicate_identical").group_by("src"):
            self.collapsed[int(src)] = self.collapsed.get(int(src), 0) + group.height
        state.rejected.append(found.filter(pl.col("code") == "duplicate_conflicting")["value"])
        state.frame = without(state.frame, drop)
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
        if column not in state.frame.collect_schema().names():
            return
        gone, found = checks.references(
            state.frame,
            column,
            parents,
            rejected,
            parent=parent,
            unknown_code=code,
            input_name=self.input_name,
            key=state.table.key,
        )
        self.found(found)
        if not gone.is_empty():
            state.frame = without(state.frame, gone)
            if state.table.key:  # their own children become parent_rejected
                state.rejected.append(gone[state.table.key])

    def drop(self, state: TableState, rows: pl.DataFrame) -> None:
        """Remove ``rows`` (``__src, __idx``) from the table."""
        assert state.frame is not None
        state.frame = without(state.frame, rows)

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
        # Customers are held in memory here (contacts are normalised per distinct value).
        customers = state.frame.collect(engine="streaming")
        frame, found, rep = contacts.normalise(customers, derive_timezone=derive_timezone, columns=names)
        state.frame = frame.lazy()
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
        paths: dict[str, Path] = {}
        reports: list[TableReport] = []
        for state in (customers, invoices, payments, events):
            if cut is not None and state.frame is not None:
                state.frame = cut.rows(state.frame)
            path, table_report = self._finish_table(state)
            self._check_accounting(state, table_report.rows, files)
            state.frame = None
            if path is not None:
                paths[state.table.name] = path
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
        return IngestResult(rejects, report, paths)

    def _finish_table(self, state: TableState) -> tuple[Path | None, TableReport]:
        table = state.table
        sources = tuple(self.plans[s].name for s in state.sources)
        if state.derived_from:
            sources = (f"derived from {state.derived_from}",)
        path = self.stage / f"{table.name}.parquet"
        if state.frame is None:
            if table is EVENTS:
                return None, TableReport(table.name, 0, (), False, ("no export given",))
            table.empty().write_parquet(path, compression="zstd", statistics=True)
            return path, TableReport(table.name, 0, (), False, ("no export given: the table is empty",))
        frame = state.frame
        notes = list(state.notes)
        names = frame.collect_schema().names()
        gap_cols = ("name", "email", "phone", "country", "timezone", "address_line1")
        derived_customers = (state.derived_from or "").startswith("invoices")
        counted = [c.name for c in table.columns if c.default is not None and c.name in names]
        if derived_customers:
            counted += [c for c in gap_cols if c in names]
        # One streaming pass for every count the notes need.
        counts = frame.select(
            pl.len().alias("__rows"), *[pl.col(c).null_count().alias(c) for c in dict.fromkeys(counted)]
        ).collect(engine="streaming").row(0, named=True)
        for column in table.columns:
            if column.default is None:
                continue
            if column.name not in names:
                frame = frame.with_columns(pl.lit(column.default, column.dtype).alias(column.name))
                if not state.derived_from:
                    notes.append(
                        f"{column.name} absent: {_show(column.default)} for every row (contract default)"
                    )
            elif n := counts[column.name]:
                frame = frame.with_columns(
                    pl.col(column.name).fill_null(pl.lit(column.default, column.dtype))
                )
                notes.append(
                    f"{n} empty {column.name} cells set to {_show(column.default)} (contract default)"
                )
        if derived_customers:
            gaps = [c for c in gap_cols if c not in names or counts[c] == counts["__rows"]]
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
                f"no customers export: {counts['__rows']} customers derived from {state.derived_from}"
                + (f" (from each customer's latest invoice: {', '.join(carried)})" if carried else ""),
            )
            if gaps:
                notes.append(
                    f"missing for every customer: {', '.join(gaps)} (reminders by those channels "
                    f"cannot be sent until a customers export provides them)"
                )
        order = _SORT.get(table.name, [table.key] if table.key else table.names[:1])
        # Tables built from files are in order already (``order_table``); derived ones are sorted.
        rows = sink_output(conform(table, frame if state.ordered else frame.sort(order)), path)
        return path, TableReport(table.name, rows, sources, state.derived_from is not None, tuple(notes))

    def _check_accounting(self, state: TableState, rows: int, files: tuple[FileReport, ...]) -> None:
        if state.frame is None or state.derived_from or not state.sources:
            return
        expected = sum(files[s].rows_clean - files[s].duplicates_collapsed for s in state.sources)
        if rows != expected:
            raise RuntimeError(
                f"row accounting failed for {state.table.name}: {rows} rows kept, "
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


def _show(value: object) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return repr(value) if isinstance(value, str) else str(value)
