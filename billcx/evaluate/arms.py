"""``evaluate()``: what reminders achieved, treatment against holdout, from a later export."""

from __future__ import annotations

import datetime as dt
import logging

import polars as pl

from billcx.errors import StaleDataError
from billcx.evaluate.compare import compare_units
from billcx.evaluate.outcomes import UNIT, unit_outcomes
from billcx.evaluate.result import Evaluation, GroupResult
from billcx.evaluate.settings import EvaluateSettings
from billcx.schema import SEGMENTS
from billcx.store import CleanData

log = logging.getLogger(__name__)

UNSEGMENTED = "(no segment)"
# Holdout shares of pooled ladders further apart than this (in share points) trigger a warning.
MAX_SHARE_SPREAD = 0.1


def _group(dimension: str, name: str, units: pl.DataFrame, money: pl.DataFrame,
           settings: EvaluateSettings) -> GroupResult:
    arms = units["arm"]
    return GroupResult(dimension=dimension, group=name, treatment_units=int((arms == "treatment").sum()),
                       holdout_units=int((arms == "holdout").sum()),
                       comparisons=compare_units(units, money, settings))


def _by(dimension: str, column: str, units: pl.DataFrame, money: pl.DataFrame,
        settings: EvaluateSettings) -> list[GroupResult]:
    out = []
    for name in sorted(units[column].unique().to_list()):
        keep = units.filter(pl.col(column) == name)
        mine = money.join(keep.select(UNIT), on=UNIT, how="semi")
        out.append(_group(dimension, name, keep, mine, settings))
    return out


def _experimental(units: pl.DataFrame, money: pl.DataFrame, excluded: dict[str, int],
                  warnings: list[str]) -> tuple[pl.DataFrame, pl.DataFrame, dict[str, int]]:
    """Keep the ladders that ran an experiment (units in both arms); warn when their shares differ.

    A ladder without holdout has no comparison group, and pooling its customers into the treatment arm
    would compare different customers (a firm ladder's chronic late payers against a gentle ladder's
    holdout), not the effect of reminders.
    """
    arms = units.group_by("ladder").agg((pl.col("arm") == "holdout").sum().alias("h"), pl.len().alias("n"))
    keep = arms.filter(pl.col("h") > 0, pl.col("h") < pl.col("n")).sort("ladder")
    dropped = units.height - int(keep["n"].sum())
    out = dict(excluded)
    if dropped:
        out["on a ladder without both arms"] = dropped
    shares = {ladder: h / n for ladder, h, n in keep.iter_rows()}
    if shares and max(shares.values()) - min(shares.values()) > MAX_SHARE_SPREAD:
        listed = ", ".join(f"{k} {100 * v:.0f}%" for k, v in shares.items())
        warnings.append(f"holdout shares differ between ladders ({listed}): the overall and per-segment "
                        "comparisons pool them; trust the per-ladder rows first")
    ladders = keep["ladder"].to_list()
    return (units.filter(pl.col("ladder").is_in(ladders)), money.filter(pl.col("ladder").is_in(ladders)), out)


def evaluate(schedule: pl.DataFrame, outcomes: CleanData, *, as_of: dt.date,
             segments: pl.DataFrame | None = None, settings: EvaluateSettings | None = None) -> Evaluation:
    """Compare the treatment and holdout arms of a plan using what happened afterwards.

    Args:
        schedule: the plan's schedule (``billcx.schema.SCHEDULE``) with both arms; holdout rows were
            planned but not sent.
        outcomes: a clean export taken after ``as_of`` (``CleanData.load`` of a later ingest).
        as_of: the date the plan was made on.
        segments: the segment output the plan used (``treatment`` per customer), for the per-segment
            comparison; None leaves that dimension out.
        settings: confidence level, minimum arm size, grace days, outcome window.

    Only ladders that ran an experiment (customers in both arms) are compared; the others are counted
    as excluded.

    Returns:
        An :class:`Evaluation`: overall, per ladder and per segment, each metric with intervals
        and a plain verdict (including "too small to conclude").

    Raises:
        StaleDataError: the outcomes export ends on or before ``as_of`` (nothing happened yet).
    """
    settings = settings if settings is not None else EvaluateSettings()
    latest = outcomes.latest_date()
    if latest <= as_of:
        raise StaleDataError(f"--outcomes: the export ends on {latest}, not after the plan's as-of date "
                             f"{as_of}", hint="give a clean folder ingested later than the run")
    warnings: list[str] = []
    window_end = latest
    if settings.window_days is not None:
        wanted = as_of + dt.timedelta(days=settings.window_days)
        if wanted > latest:
            warnings.append(f"the outcomes end on {latest}, before the requested window end {wanted}: "
                            f"outcomes are counted up to {latest}")
        window_end = min(wanted, latest)
    measured = unit_outcomes(schedule, outcomes, as_of=as_of, window_end=window_end,
                             grace_days=settings.grace_days)
    if measured.mixed_arms:
        warnings.append(f"{measured.mixed_arms} customer-ladder units have rows in both arms; they count as "
                        "treatment (the policy's salt or holdout share changed between plans?)")
    units, money, excluded = _experimental(measured.units, measured.money, measured.excluded, warnings)
    groups = [_group("overall", "all", units, money, settings)]
    groups += _by("ladder", "ladder", units, money, settings)
    if segments is not None:
        seg = SEGMENTS.conform(segments).select("customer_id", "treatment")
        units = units.join(seg, on="customer_id", how="left").with_columns(
            pl.col("treatment").fill_null(UNSEGMENTED).alias("segment")).drop("treatment")
        groups += _by("segment", "segment", units, money, settings)
    for reason, n in excluded.items():
        log.debug("evaluate: %d units excluded: %s", n, reason)
    return Evaluation(as_of=as_of, window_end=window_end, settings=settings, groups=tuple(groups),
                      units=units, excluded=tuple(sorted(excluded.items())), warnings=tuple(warnings))
