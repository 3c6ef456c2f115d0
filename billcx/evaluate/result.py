"""What :func:`billcx.evaluate.evaluate` returns, and its JSON form."""

from __future__ import annotations

import datetime as dt
from dataclasses import asdict, dataclass
from typing import Any

import polars as pl

from billcx.evaluate.compare import Comparison, Verdict
from billcx.evaluate.settings import EvaluateSettings
from billcx.evaluate.stats import Interval
from billcx.exitcodes import ExitCode


@dataclass(frozen=True)
class GroupResult:
    """The comparisons for one group of units.

    Attributes:
        dimension: ``overall``, ``ladder`` or ``segment`` (the treatment segment of the customer).
        group: the ladder or segment name (``all`` for overall).
        treatment_units: measured units in the treatment arm.
        holdout_units: measured units in the holdout arm.
        comparisons: every metric, treatment minus holdout.
    """

    dimension: str
    group: str
    treatment_units: int
    holdout_units: int
    comparisons: tuple[Comparison, ...]


def _interval(ci: Interval | None, digits: int = 6) -> list[float] | None:
    return None if ci is None else [round(ci.low, digits), round(ci.high, digits)]


def _number(x: float | None, digits: int = 6) -> float | None:
    return None if x is None else round(x, digits)


def comparison_dict(c: Comparison) -> dict[str, Any]:
    """JSON-ready form of one comparison (figures rounded to 6 decimals)."""
    return {
        "metric": c.metric, "label": c.label, "unit": c.unit,
        "treatment": {"units": c.treatment.units, "estimate": _number(c.treatment.estimate),
                      "interval": _interval(c.treatment.interval)},
        "holdout": {"units": c.holdout.units, "estimate": _number(c.holdout.estimate),
                    "interval": _interval(c.holdout.interval)},
        "difference": _number(c.difference), "interval": _interval(c.interval), "method": c.method,
        "verdict": str(c.verdict), "statement": c.statement,
    }


@dataclass(frozen=True)
class Evaluation:
    """Treatment against holdout, overall, per ladder and per treatment segment.

    Attributes:
        as_of: the date the plan was made on.
        window_end: the last date whose outcomes count.
        settings: what was used.
        groups: overall first, then ladders, then segments (each sorted by name).
        units: the per-unit outcomes (see :mod:`billcx.evaluate.outcomes`).
        excluded: units left out, by reason.
        warnings: caveats a person should read.
    """

    as_of: dt.date
    window_end: dt.date
    settings: EvaluateSettings
    groups: tuple[GroupResult, ...]
    units: pl.DataFrame
    excluded: tuple[tuple[str, int], ...]
    warnings: tuple[str, ...]

    @property
    def window_days(self) -> int:
        """Days in the outcome window."""
        return (self.window_end - self.as_of).days

    @property
    def overall(self) -> GroupResult:
        """The group of all units."""
        return self.groups[0]

    @property
    def comparable(self) -> bool:
        """Both arms have at least one measured unit."""
        return self.overall.treatment_units > 0 and self.overall.holdout_units > 0

    @property
    def conclusion(self) -> str:
        """The overall finding in plain words, saying so when the sample is too small."""
        o = self.overall
        if not self.comparable:
            missing = "holdout" if o.holdout_units == 0 else "treatment"
            hint = (" (set holdout_share on a ladder of the policy)" if missing == "holdout" else "")
            return (f"Nothing to compare: the {missing} arm has no measured units{hint}.")
        need = self.settings.min_per_arm
        if o.treatment_units < need or o.holdout_units < need:
            return (f"The sample is too small to conclude: {o.treatment_units} treatment and "
                    f"{o.holdout_units} holdout units; at least {need} in each arm are needed.")
        clear = [c.statement for c in o.comparisons if c.verdict in (Verdict.HIGHER, Verdict.LOWER)]
        if not clear:
            return ("No clear difference between treatment and holdout on any measure "
                    f"(every {100 * self.settings.confidence:g}% interval includes zero).")
        return "; ".join(clear) + "."

    @property
    def exit_code(self) -> ExitCode:
        """DATA (1) when there is nothing to compare (an arm without measured units), else OK."""
        return ExitCode.OK if self.comparable else ExitCode.DATA

    def to_dict(self) -> dict[str, Any]:
        """The machine-readable report (``--report-format json``)."""
        return {
            "stage": "evaluate",
            "as_of": self.as_of.isoformat(),
            "window_end": self.window_end.isoformat(),
            "window_days": self.window_days,
            "settings": asdict(self.settings),
            "conclusion": self.conclusion,
            "excluded": dict(self.excluded),
            "warnings": list(self.warnings),
            "groups": [{"dimension": g.dimension, "group": g.group, "treatment_units": g.treatment_units,
                        "holdout_units": g.holdout_units,
                        "comparisons": [comparison_dict(c) for c in g.comparisons]} for g in self.groups],
        }
