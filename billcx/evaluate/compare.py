"""Treatment against holdout for one group of units: rates, means and money, each with an interval.

Every comparison is *treatment minus holdout*.  Its verdict is decided in this order:

1. fewer than ``min_per_arm`` units in either arm: **too small to conclude**;
2. the interval of the difference includes zero: **no clear difference**;
3. otherwise the treatment is clearly **higher** or **lower**.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

import numpy as np
import polars as pl

from billcx.evaluate.settings import EvaluateSettings
from billcx.evaluate.stats import Interval, newcombe, t_interval, welch, wilson
from billcx.money import exponent, is_currency


class Verdict(StrEnum):
    """What a comparison allows one to say."""

    TOO_SMALL = "too_small"
    NO_CLEAR_DIFFERENCE = "no_clear_difference"
    HIGHER = "treatment_higher"
    LOWER = "treatment_lower"


@dataclass(frozen=True)
class ArmStats:
    """One arm of a comparison: units measured, the estimate and its interval."""

    units: int
    estimate: float | None
    interval: Interval | None


@dataclass(frozen=True)
class Comparison:
    """Treatment minus holdout for one metric.

    Attributes:
        metric: stable name (``on_time_rate``, ``paid_rate``, ``days_to_pay``, ``opt_out_rate``,
            ``recovered_per_unit``, ``recovered_per_message``).
        label: words for people.
        unit: ``share``, ``days`` or a currency code (money in major units).
        treatment: the treatment arm.
        holdout: the holdout arm.
        difference: treatment minus holdout (None when an arm is empty).
        interval: interval of the difference (None when it cannot be computed).
        method: how the interval was computed.
        verdict: what may be concluded.
        statement: the verdict in one plain sentence.
    """

    metric: str
    label: str
    unit: str
    treatment: ArmStats
    holdout: ArmStats
    difference: float | None
    interval: Interval | None
    method: str
    verdict: Verdict
    statement: str


def _fmt(value: float, unit: str, *, signed: bool = False) -> str:
    """A difference as text: shares in percentage points, days, money in major units."""
    sign = "+" if signed and value > 0 else ""
    if unit == "share":
        return f"{sign}{100 * value:.1f} points"
    if unit == "days":
        return f"{sign}{value:.1f} days"
    digits = exponent(unit) if is_currency(unit) else 2
    return f"{sign}{value:,.{digits}f} {unit}"


def _verdict(label: str, unit: str, t: ArmStats, h: ArmStats, difference: float | None,
             interval: Interval | None, settings: EvaluateSettings) -> tuple[Verdict, str]:
    need = settings.min_per_arm
    if t.units < need or h.units < need or difference is None or interval is None:
        return Verdict.TOO_SMALL, (f"{label}: too small to conclude ({t.units} treatment and {h.units} "
                                   f"holdout units; need at least {need} in each arm)")
    level = f"{100 * settings.confidence:g}%"
    span = f"{_fmt(interval.low, unit, signed=True)} to {_fmt(interval.high, unit, signed=True)}"
    if interval.includes(0.0):
        said = _fmt(difference, unit, signed=True)
        return Verdict.NO_CLEAR_DIFFERENCE, (f"{label}: no clear difference ({said}; the {level} interval "
                                             f"{span} includes zero)")
    verdict = Verdict.HIGHER if difference > 0 else Verdict.LOWER
    word = "higher" if difference > 0 else "lower"
    return verdict, f"{label}: treatment {word} by {_fmt(abs(difference), unit)} ({level} interval {span})"


def compare_rate(metric: str, label: str, t: pl.Series, h: pl.Series,
                 settings: EvaluateSettings) -> Comparison:
    """Compare the share of true values of two boolean series (nulls are left out)."""
    t, h = t.drop_nulls(), h.drop_nulls()
    st, sh = int(t.sum()), int(h.sum())
    level = settings.confidence
    ta = ArmStats(t.len(), st / t.len() if t.len() else None, wilson(st, t.len(), confidence=level))
    ha = ArmStats(h.len(), sh / h.len() if h.len() else None, wilson(sh, h.len(), confidence=level))
    diff = ta.estimate - ha.estimate if ta.estimate is not None and ha.estimate is not None else None
    interval = newcombe(st, t.len(), sh, h.len(), confidence=level)
    verdict, statement = _verdict(label, "share", ta, ha, diff, interval, settings)
    method = "Wilson per arm; Newcombe hybrid score for the difference"
    return Comparison(metric, label, "share", ta, ha, diff, interval, method, verdict, statement)


def compare_mean(metric: str, label: str, unit: str, t: np.ndarray, h: np.ndarray, settings: EvaluateSettings,
                 *, per: float = 1.0, method: str = "t per arm; Welch for the difference") -> Comparison:
    """Compare the means of two samples; every figure is divided by ``per`` (e.g. to major units)."""
    level = settings.confidence

    def arm(x: np.ndarray) -> ArmStats:
        ci = t_interval(x, confidence=level)
        return ArmStats(x.size, float(x.mean()) / per if x.size else None, ci.scaled(1 / per) if ci else None)

    ta, ha = arm(t), arm(h)
    diff = ta.estimate - ha.estimate if ta.estimate is not None and ha.estimate is not None else None
    ci = welch(t, h, confidence=level)
    interval = ci.scaled(1 / per) if ci is not None else None
    verdict, statement = _verdict(label, unit, ta, ha, diff, interval, settings)
    return Comparison(metric, label, unit, ta, ha, diff, interval, method, verdict, statement)


def compare_units(units: pl.DataFrame, money: pl.DataFrame,
                  settings: EvaluateSettings) -> tuple[Comparison, ...]:
    """Every comparison for one group of units (the outcomes of :mod:`billcx.evaluate.outcomes`).

    Args:
        units: per-unit outcomes of the group.
        money: per-unit, per-currency money of the group.
        settings: confidence level and minimum arm size.

    Returns:
        On-time rate, paid rate, days to pay, opt-out rate, then for each currency owed in both arms
        the amount recovered per unit and the extra amount recovered per message.
    """
    t = units.filter(pl.col("arm") == "treatment")
    h = units.filter(pl.col("arm") == "holdout")
    out = [
        compare_rate("on_time_rate", "on-time payment rate", t["on_time"], h["on_time"], settings),
        compare_rate("paid_rate", "paid within the window", t["paid"], h["paid"], settings),
        compare_mean("days_to_pay", "days to pay", "days", t["days_to_pay"].to_numpy().astype(float),
                     h["days_to_pay"].to_numpy().astype(float), settings),
        compare_rate("opt_out_rate", "opt-out rate", t["opted_out"], h["opted_out"], settings),
    ]
    for currency in sorted(money["currency"].drop_nulls().unique().to_list()):
        rows = money.filter(pl.col("currency") == currency)
        mt = rows.filter(pl.col("arm") == "treatment")
        mh = rows.filter(pl.col("arm") == "holdout")
        if mt.is_empty() or mh.is_empty():
            continue  # a currency only one arm owes in says nothing about reminders
        scale = float(10 ** (exponent(currency) if is_currency(currency) else 2))
        rec_t = mt["recovered"].to_numpy().astype(float)
        rec_h = mh["recovered"].to_numpy().astype(float)
        out.append(compare_mean("recovered_per_unit", f"recovered per unit ({currency})", currency, rec_t,
                                rec_h, settings, per=scale))
        messages = float(mt["messages"].sum()) / mt.height if mt.height else 0.0
        if messages > 0:
            # Messages per unit are fixed by the plan, so the per-message interval is the per-unit one
            # scaled; the holdout figure is its recovery per unit over the same number of messages.
            out.append(compare_mean(
                "recovered_per_message", f"extra recovered per message ({currency})", currency, rec_t, rec_h,
                settings, per=scale * messages,
                method=f"per-unit figures divided by {messages:.2f} planned messages per treatment unit; "
                       "Welch for the difference"))
    return tuple(out)
