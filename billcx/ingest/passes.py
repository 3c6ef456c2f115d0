"""The two passes over each file: a fast streaming read of every row, then a full look at the few
rows it could not accept.

Pass one (streaming, plain expressions from ``fast.py``) keeps typed values and flags a row when a
value is not in its plainest spelling, the row is ragged or a repeated header, or a rule within
the row fails (due or paid before issue).  It is sunk to a staging file, so memory does not grow
with the file.  Pass two re-reads only the flagged rows with the full parsers of ``parse.py``: rows
they accept rejoin the clean rows (held in memory: they are few); the others become issues with
their code, the value as read and the detail the message needs.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import polars as pl

from billcx.ingest.fast import PRE, fast_expr
from billcx.ingest.issues import conform_issue_part, empty_issues, with_src
from billcx.ingest.parse import cell_expr
from billcx.ingest.readers import IDX, position_name
from billcx.ingest.sources import SourcePlan
from billcx.ingest.staging import sink_stage
from billcx.schema import INVOICES, Kind

BAD = "__bad"
HDR = "__hdr"
NAIVE = "__naive__"
OK = "__ok__"

# Rules within one invoice row: (column checked, column compared with, code).
ROW_RULES: tuple[tuple[str, str, str], ...] = (
    ("due_date", "issue_date", "due_before_issue"),
    ("paid_date", "issue_date", "paid_before_issue"),
)


@dataclass(frozen=True)
class Passes:
    """What the two passes made of one file.

    Attributes:
        clean: typed rows pass one accepted (``__idx`` plus one column per target), in file order:
            a lazy scan of the staging file.
        extra: rows pass one flagged and pass two accepted (same columns; in memory, few).
        issues: cell, shape and row-rule issues (see ``issues.ISSUE_SCHEMA``).
        naive: per timestamp column, how many values had no offset (read in the naive zone).
        recovered: rows the fast pass flagged that the full parsers accepted.
        rejected_keys: key values (e.g. customer ids) of the rows rejected here, so rows referring
            to them are reported as ``parent_rejected`` rather than unknown.
    """

    clean: pl.LazyFrame
    extra: pl.DataFrame
    issues: pl.DataFrame
    naive: dict[str, int]
    recovered: int
    rejected_keys: pl.Series


def _rules(plan: SourcePlan) -> list[tuple[str, str, str]]:
    if plan.table is not INVOICES:
        return []
    names = {t.name for t in plan.targets}
    return [r for r in ROW_RULES if r[0] in names and r[1] in names]


def _header_repeat(plan: SourcePlan, *, first_only: bool = False) -> pl.Expr:
    """A row repeating the header line.  The first pass only compares the first named column
    (cheap; a row it flags is checked fully in the second pass, and a repeated header it misses
    fails to parse as data anyway unless every column is free text)."""
    named = [(position_name(i), h.strip()) for i, h in enumerate(plan.raw.header) if h.strip()]
    if not named:
        return pl.lit(False)
    if first_only:
        named = named[:1]
    return pl.all_horizontal([pl.col(c).str.strip_chars() == h for c, h in named]).fill_null(False)


def _ragged(plan: SourcePlan) -> pl.Expr:
    if plan.raw.ragged.is_empty():
        return pl.lit(False)
    return pl.col(IDX).is_in(plan.raw.ragged[IDX].implode())


def run_passes(plan: SourcePlan, stage: Path) -> Passes:
    """Run pass one over the whole file (sunk to ``stage``) and pass two over the rows it flagged."""
    cur = pl.col(plan.currency_source) if plan.currency_source else None
    fasts = {t.name: fast_expr(t, plan.options, currency=cur) for t in plan.targets}
    oks = [pl.col(OK + n) for n in fasts]
    rules = [(pl.col(a) < pl.col(b)).fill_null(False) for a, b, _ in _rules(plan)]
    bad = (
        ~pl.all_horizontal(oks or [pl.lit(True)])
        | _header_repeat(plan, first_only=True)
        | _ragged(plan)
        | pl.any_horizontal(rules or [pl.lit(False)])
    )
    naive = {name: f.naive for name, f in fasts.items() if f.naive is not None}
    # Values and their checks in one context, so polars computes shared sub-expressions once.
    pre = [f.pre.alias(PRE + n) for n, f in fasts.items() if f.pre is not None]
    first = sink_stage(
        plan.raw.frame.with_columns(*pre)
        .with_columns(
            *[f.value.alias(n) for n, f in fasts.items()],
            *[f.ok.alias(OK + n) for n, f in fasts.items()],
            *[e.alias(NAIVE + n) for n, e in naive.items()],
        )
        .select(IDX, *fasts, *[NAIVE + n for n in naive], bad.alias(BAD)),
        stage,
    )
    sums = first.select([pl.col(NAIVE + n).sum().alias(n) for n in naive]) if naive else None
    naive_counts = (
        {n: int(v) for n, v in sums.collect().row(0, named=True).items()} if sums is not None else {}
    )
    flagged = first.filter(pl.col(BAD)).select(IDX).collect(engine="streaming")[IDX]
    clean = (first.filter(~pl.col(BAD)) if len(flagged) else first).select(IDX, *fasts)
    if flagged.is_empty():
        no_rows = pl.DataFrame(schema=clean.collect_schema())
        return Passes(clean, no_rows, empty_issues(), naive_counts, 0, pl.Series("key", [], dtype=pl.String))
    recovered, issues, more_naive, keys = _second_pass(plan, flagged)
    for n, c in more_naive.items():
        naive_counts[n] = naive_counts.get(n, 0) + c
    extra = recovered.select(clean.collect_schema().names())
    return Passes(clean, extra, issues, naive_counts, recovered.height, keys)


def _second_pass(
    plan: SourcePlan, flagged: pl.Series
) -> tuple[pl.DataFrame, pl.DataFrame, dict[str, int], pl.Series]:
    cur = pl.col(plan.currency_source) if plan.currency_source else None
    names = [t.name for t in plan.targets]
    sources = sorted({t.source for t in plan.targets})
    full = (
        plan.raw.frame.filter(pl.col(IDX).is_in(flagged.implode()))
        .with_columns(
            [cell_expr(t, plan.options, explain=True, currency=cur).alias(t.name) for t in plan.targets]
        )
        .with_columns(_header_repeat(plan).alias(HDR), _ragged(plan).alias("__ragged"))
        .collect()
    )
    ragged = full.select(IDX).join(plan.raw.ragged, on=IDX, how="inner")
    whole_row = pl.col(HDR) | pl.col("__ragged")
    parts: list[pl.DataFrame] = []
    if not ragged.is_empty():
        width = len(plan.raw.header)
        parts.append(
            ragged.select(
                IDX,
                column=pl.lit(""),
                value=pl.lit(""),
                code=pl.lit("ragged_row"),
                detail=pl.format(f"{width} fields like the header, found {{}}", pl.col("fields")),
            )
        )
    hdr = full.filter(pl.col(HDR) & ~pl.col("__ragged"))
    if not hdr.is_empty():
        parts.append(
            hdr.select(
                IDX, column=pl.lit(""), value=pl.lit(""), code=pl.lit("duplicate_header"), detail=pl.lit("")
            )
        )
    cells = full.filter(~whole_row)
    for t in plan.targets:
        field = pl.col(t.name).struct
        parts.append(
            cells.filter(field.field("code") != "").select(
                IDX,
                column=pl.lit(plan.source_name(t.name)),
                value=pl.col(t.source).cast(pl.String),
                code=field.field("code"),
                detail=field.field("detail"),
            )
        )
    values = cells.select(
        IDX,
        *[pl.col(n).struct.field("value").alias(n) for n in names],
        *[pl.col(s) for s in sources],
        __cell_bad=pl.any_horizontal(
            [pl.col(n).struct.field("code") != "" for n in names] or [pl.lit(False)]
        ),
    )
    for a, b, code in _rules(plan):
        broken = values.filter(~pl.col("__cell_bad") & (pl.col(a) < pl.col(b)).fill_null(False))
        src = next(t.source for t in plan.targets if t.name == a)
        parts.append(
            broken.select(
                IDX,
                column=pl.lit(plan.source_name(a)),
                value=pl.col(src).cast(pl.String),
                code=pl.lit(code),
                detail=pl.col(b).cast(pl.String),
            )
        )
    issues = (
        with_src(pl.concat([conform_issue_part(p) for p in parts]), plan.src) if parts else empty_issues()
    )
    rejected = issues[IDX].unique().implode()
    recovered = values.filter(~pl.col(IDX).is_in(rejected)).select(IDX, *names)
    kept = cells.filter(~pl.col(IDX).is_in(rejected))
    naive = {
        t.name: int(kept.select(pl.col(t.name).struct.field("naive").sum()).item())
        for t in plan.targets
        if t.column.kind is Kind.INSTANT
    }
    keys = pl.Series("key", [], dtype=pl.String)
    key = plan.table.key
    feed = next((t for t in plan.targets if t.name == key), None) if key else None
    if key is not None and feed is not None:
        keys = (
            full.filter(pl.col(IDX).is_in(rejected))
            .select(
                pl.coalesce(
                    pl.col(key).struct.field("value").cast(pl.String), pl.col(feed.source).str.strip_chars()
                )
            )
            .to_series()
            .drop_nulls()
            .alias("key")
        )
    issues = issues.unique(subset=[IDX, "column", "code"], keep="first", maintain_order=True)
    return recovered, issues, naive, keys
