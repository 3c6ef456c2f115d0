"""Ladders as tables: which ladder each invoice follows, and the dated steps it expands to.

The policy's ladders become a step table (one row per ladder and step); invoices are joined to it
(a cross join per ladder) and each step's nominal date is computed in one pass per step position:
``anchor = "previous"`` needs the step before, so positions are resolved in order (a ladder has a
handful of steps, so this is a bounded number of vectorised passes, never a loop over customers).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import polars as pl

from billcx.plan.calendar import Calendars, add_business_days
from billcx.plan.policy import COURTESY_KINDS, KIND_STRENGTH, Policy, Rule

_INV = "_inv_row"
_DATE_RULE = ("offset", "unit", "anchor")
_STEP = "_step_row"

STEP_SCHEMA: dict[str, Any] = {
    "ladder": pl.String,
    "pos": pl.Int64,
    "step": pl.String,
    "kind": pl.String,
    "strength": pl.Int64,
    "family": pl.String,
    "offset": pl.Int64,
    "unit": pl.String,
    "anchor": pl.String,
    "channels": pl.List(pl.String),
    "tone": pl.String,
    "template": pl.String,
    "handover": pl.Boolean,
    "fee_percent_bp": pl.Int64,
    "offer_type": pl.String,
    "offer_n": pl.Int64,
    "offer_interval": pl.Int64,
    "offer_first": pl.Int64,
    "offer_ext_days": pl.Int64,
}


def family(kind: str, handover: bool) -> str:
    """Merge family of a step: ``task`` (hand-over), ``courtesy`` (thank-you ...) or ``collect``."""
    if handover:
        return "task"
    return "courtesy" if kind in COURTESY_KINDS else "collect"


def step_tables(policy: Policy) -> tuple[pl.DataFrame, pl.DataFrame, pl.DataFrame]:
    """The policy's ladders and triggers as tables.

    Returns:
        ``steps`` (one row per ladder/trigger and step, see ``STEP_SCHEMA``), ``money`` (per ladder,
        step and currency: ``fee_fixed``, ``fee_cap``, ``min_instalment``) and ``minimums`` (per
        ladder and currency: ``min_balance``).
    """
    rows: list[dict[str, object]] = []
    money: list[dict[str, object]] = []
    minimums: list[dict[str, object]] = []
    for name, ladder in policy.ladders.items():
        for cur, amount in {**policy.min_balance, **ladder.min_balance}.items():
            minimums.append({"ladder": name, "currency": cur, "min_balance": amount})
        for pos, s in enumerate(ladder.steps):
            fee, offer = s.late_fee, s.offer
            rows.append(
                {
                    "ladder": name,
                    "pos": pos,
                    "step": s.name,
                    "kind": s.kind,
                    "strength": KIND_STRENGTH[s.kind],
                    "family": family(s.kind, s.handover),
                    "offset": s.offset,
                    "unit": s.unit,
                    "anchor": s.anchor,
                    "channels": list(s.channels),
                    "tone": s.tone,
                    "template": s.template or ("handover" if s.handover else s.kind),
                    "handover": s.handover,
                    "fee_percent_bp": round(fee.percent * 100) if fee is not None and fee.percent else None,
                    "offer_type": offer.type if offer else None,
                    "offer_n": offer.instalments if offer else None,
                    "offer_interval": offer.interval_days if offer else None,
                    "offer_first": offer.first_due_days if offer else None,
                    "offer_ext_days": offer.extension_days if offer else None,
                }
            )
            currencies = set(fee.fixed) | set(fee.cap) if fee else set()
            currencies |= set(offer.min_instalment) if offer else set()
            for cur in sorted(currencies):
                money.append(
                    {
                        "ladder": name,
                        "step": s.name,
                        "currency": cur,
                        "fee_fixed": fee.fixed.get(cur) if fee else None,
                        "fee_cap": fee.cap.get(cur) if fee else None,
                        "min_instalment": offer.min_instalment.get(cur) if offer else None,
                    }
                )
    for t in policy.triggers:
        rows.append(
            {
                "ladder": t.name,
                "pos": 0,
                "step": t.name,
                "kind": t.kind,
                "strength": KIND_STRENGTH[t.kind],
                "family": family(t.kind, False),
                "offset": t.delay_days,
                "unit": "days",
                "anchor": "event",
                "channels": list(t.channels),
                "tone": t.tone,
                "template": t.template or t.kind,
                "handover": False,
                "fee_percent_bp": None,
                "offer_type": None,
                "offer_n": None,
                "offer_interval": None,
                "offer_first": None,
                "offer_ext_days": None,
            }
        )
    money_schema: dict[str, Any] = {
        "ladder": pl.String,
        "step": pl.String,
        "currency": pl.String,
        "fee_fixed": pl.Int64,
        "fee_cap": pl.Int64,
        "min_instalment": pl.Int64,
    }
    min_schema: dict[str, Any] = {"ladder": pl.String, "currency": pl.String, "min_balance": pl.Int64}
    return (
        pl.DataFrame(rows, schema=STEP_SCHEMA, orient="row") if rows else pl.DataFrame(schema=STEP_SCHEMA),
        pl.DataFrame(money, schema=money_schema),
        pl.DataFrame(minimums, schema=min_schema),
    )


def _rule_expr(rule: Rule) -> pl.Expr:
    cond = pl.lit(True)
    if rule.treatments:
        cond &= pl.col("treatment").is_in(list(rule.treatments))
    if rule.risk_tiers:
        cond &= pl.col("risk_tier").is_in(list(rule.risk_tiers))
    if rule.value_tiers:
        cond &= pl.col("value_tier").is_in(list(rule.value_tiers))
    if rule.autopay is not None:
        cond &= pl.col("autopay") == rule.autopay
    if rule.min_late_probability is not None:
        cond &= pl.col("late_probability").fill_null(-1.0) >= rule.min_late_probability
    if rule.max_late_probability is not None:
        cond &= pl.col("late_probability").fill_null(2.0) <= rule.max_late_probability
    return cond.fill_null(False)


def select_ladder(policy: Policy) -> pl.Expr:
    """Expression giving each invoice's ladder (first matching rule), null when no rule matches.

    Needs columns ``treatment, risk_tier, value_tier, autopay, late_probability``.
    """
    if not policy.rules:
        return pl.lit(None, dtype=pl.String).alias("ladder")
    expr: Any = pl.when(_rule_expr(policy.rules[0])).then(pl.lit(policy.rules[0].ladder))
    for rule in policy.rules[1:]:
        expr = expr.when(_rule_expr(rule)).then(pl.lit(rule.ladder))
    return expr.otherwise(pl.lit(None, dtype=pl.String)).alias("ladder")


def _reach(steps: pl.DataFrame) -> pl.DataFrame:
    """Per ladder, a bound (days) on how far its steps can land from the invoice's dates."""
    # A business day is at most a few calendar days (weekends, holiday clusters): 2x plus 10 days.
    return steps.group_by("ladder").agg(
        _reach=(
            pl.when(pl.col("unit") == "business_days")
            .then(pl.col("offset").abs() * 2 + 10)
            .otherwise(pl.col("offset").abs())
        ).sum()
    )


def expand_steps(
    invoices: pl.DataFrame, steps: pl.DataFrame, cals: Calendars, *, earliest: dt.date, window_end: dt.date
) -> pl.DataFrame:
    """The steps of every invoice's ladder whose nominal date falls in ``[earliest, window_end)``.

    Dates are computed on slim rows (ids, dates, offsets) for every invoice and step -- a
    ``previous`` anchor needs the step before even when that one is long past -- and only the
    steps inside the window get the invoice's and the step's other columns.

    Args:
        invoices: open invoices with ``invoice_id, ladder, due_date, issue_date, cal_id`` (and more).
        steps: the step table from :func:`step_tables`.
        cals: calendars covering the dates involved (business-day offsets).
        earliest: first nominal date kept.
        window_end: first nominal date no longer kept.

    Returns:
        One row per invoice and step in the window: the invoice's columns, the step's columns but
        its date rule (``offset, unit, anchor``, spent here) and ``planned_date``.
    """
    ladder_steps = steps.filter(pl.col("anchor") != "event")
    reach = _reach(ladder_steps)
    # Rows are tracked by their position in ``invoices`` and ``ladder_steps`` (integers), and the
    # wide result is gathered by position at the end: no join on text ids over every instance.
    slim = (
        invoices.select("ladder", "due_date", "issue_date", "cal_id")
        .with_row_index(_INV)
        .join(reach, on="ladder", how="inner")
        # Invoices whose whole ladder lies outside the window need no dates at all.
        .filter(
            pl.col("due_date") + pl.duration(days=pl.col("_reach")) >= earliest,
            pl.col("issue_date") - pl.duration(days=pl.col("_reach")) < window_end,
        )
        .drop("_reach")
        .join(
            ladder_steps.with_row_index(_STEP).select(_STEP, "ladder", "pos", "offset", "unit", "anchor"),
            on="ladder",
            how="inner",
        )
        .with_columns(
            _base=pl.when(pl.col("anchor") == "due")
            .then(pl.col("due_date"))
            .when(pl.col("anchor") == "issue")
            .then(pl.col("issue_date"))
            .otherwise(None)
        )
    )
    max_pos = int(slim["pos"].max()) if slim.height else -1  # type: ignore[arg-type]
    done: list[pl.DataFrame] = []
    prev: pl.DataFrame | None = None
    for pos in range(max_pos + 1):
        cur = slim.filter(pl.col("pos") == pos)
        if prev is not None and cur.filter(pl.col("anchor") == "previous").height:
            cur = cur.join(
                prev.select(_INV, _prev=pl.col("planned_date")),
                on=_INV,
                how="left",
                maintain_order="left",
            )
            cur = cur.with_columns(
                _base=pl.when(pl.col("anchor") == "previous").then(pl.col("_prev")).otherwise(pl.col("_base"))
            ).drop("_prev")
        cur = _apply_offset(cur, cals)
        done.append(cur)
        prev = cur
    schema_cols = [_INV, _STEP, "planned_date"]
    dated = (
        pl.concat([d.select(schema_cols) for d in done])
        if done
        else pl.DataFrame(schema={_INV: pl.UInt32, _STEP: pl.UInt32, "planned_date": pl.Date})
    )
    dated = dated.filter(pl.col("planned_date") >= earliest, pl.col("planned_date") < window_end)
    inv_cols = [c for c in invoices.columns if c not in ("invoice_id", "ladder")]
    step_cols = [c for c in ladder_steps.columns if c not in ("ladder", "pos", *_DATE_RULE)]
    inv = invoices.select("invoice_id", "ladder", *inv_cols)[dated[_INV]]
    step = ladder_steps.select("pos", *step_cols)[dated[_STEP]]
    # The columns in the order a join of (instances, invoices, steps) gives them.
    return pl.concat(
        [
            inv.select("invoice_id", "ladder"),
            step.select("pos"),
            dated.select("planned_date"),
            inv.select(inv_cols),
            step.select(step_cols),
        ],
        how="horizontal",
    )


def _apply_offset(frame: pl.DataFrame, cals: Calendars) -> pl.DataFrame:
    days = frame.filter(pl.col("unit") != "business_days").with_columns(
        planned_date=pl.col("_base") + pl.duration(days=pl.col("offset"))
    )
    business = frame.filter(pl.col("unit") == "business_days")
    if business.height:
        business = add_business_days(
            business, cals, date="_base", n="offset", cal="cal_id", out="planned_date"
        )
    else:
        business = business.with_columns(planned_date=pl.lit(None, dtype=pl.Date))
    return pl.concat([days, business])
