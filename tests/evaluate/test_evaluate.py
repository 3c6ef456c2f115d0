"""evaluate(): hand-computed rates and means, verdicts, the too-small statement, exit codes."""

from __future__ import annotations

import datetime as dt
import json

import numpy as np
import polars as pl
import pytest

from billcx.errors import ConfigError, StaleDataError
from billcx.evaluate import EvaluateSettings, Verdict, evaluate, newcombe, welch, wilson
from billcx.evaluate.compare import compare_mean, compare_rate
from billcx.exitcodes import ExitCode

from .builders import AS_OF, END, outcomes, schedule


def _metric(ev, metric: str, group: str = "all"):  # type: ignore[no-untyped-def]
    g = next(g for g in ev.groups if g.group == group)
    return next(c for c in g.comparisons if c.metric == metric)


def test_rates_and_means_by_hand() -> None:
    ev = evaluate(schedule(), outcomes(), as_of=AS_OF, settings=EvaluateSettings(min_per_arm=2))
    assert ev.window_end == END and ev.window_days == 60
    assert (ev.overall.treatment_units, ev.overall.holdout_units) == (3, 2)  # A, C, F against B, D
    on_time = _metric(ev, "on_time_rate")
    assert (on_time.treatment.units, on_time.treatment.estimate) == (3, pytest.approx(1 / 3))
    assert (on_time.holdout.units, on_time.holdout.estimate) == (1, 0.0)  # D's outcome is not known yet
    assert on_time.interval == newcombe(1, 3, 0, 1)
    assert on_time.treatment.interval == wilson(1, 3)
    paid = _metric(ev, "paid_rate")
    assert (paid.treatment.estimate, paid.holdout.estimate) == (pytest.approx(2 / 3), 0.5)
    assert paid.difference == pytest.approx(2 / 3 - 0.5)
    days = _metric(ev, "days_to_pay")
    assert (days.treatment.estimate, days.holdout.estimate) == (pytest.approx(91 / 3), 39.5)
    assert days.interval == welch(np.array([7.0, 60.0, 24.0]), np.array([19.0, 60.0]))
    opt = _metric(ev, "opt_out_rate")
    assert (opt.treatment.estimate, opt.holdout.estimate) == (pytest.approx(1 / 3), 0.5)
    per_unit = _metric(ev, "recovered_per_unit")
    assert (per_unit.unit, per_unit.treatment.estimate, per_unit.holdout.estimate) == ("USD", 50.0, 25.0)
    per_message = _metric(ev, "recovered_per_message")  # 4 messages over 3 treatment units
    assert per_message.difference == pytest.approx(25.0 / (4 / 3))


def test_excluded_units_are_counted_with_their_reason() -> None:
    ev = evaluate(schedule(), outcomes(), as_of=AS_OF)
    assert dict(ev.excluded) == {"invoices not in the outcomes export": 1,
                                 "no invoices in the schedule rows": 1,
                                 "nothing open at the as-of date": 1, "on a ladder without both arms": 1}
    assert [g.group for g in ev.groups] == ["all", "standard"]


def test_too_small_sample_is_said_plainly() -> None:
    ev = evaluate(schedule(), outcomes(), as_of=AS_OF)
    assert ev.conclusion == ("The sample is too small to conclude: 3 treatment and 2 holdout units; "
                             "at least 30 in each arm are needed.")
    assert _metric(ev, "paid_rate").statement == (
        "paid within the window: too small to conclude (3 treatment and 2 holdout units; need at least 30 in "
        "each arm)")
    assert all(c.verdict is Verdict.TOO_SMALL for c in ev.overall.comparisons)
    assert ev.exit_code is ExitCode.OK


def test_clear_difference_and_no_clear_difference() -> None:
    settings = EvaluateSettings(min_per_arm=30)
    t = pl.Series([True] * 80 + [False] * 20)
    h = pl.Series([True] * 50 + [False] * 50)
    clear = compare_rate("paid_rate", "paid", t, h, settings)
    ci = newcombe(80, 100, 50, 100)
    assert ci is not None and ci.low > 0
    assert clear.verdict is Verdict.HIGHER
    assert clear.statement == (f"paid: treatment higher by 30.0 points (95% interval "
                               f"+{100 * ci.low:.1f} points to +{100 * ci.high:.1f} points)")
    close = compare_rate("paid_rate", "paid", pl.Series([True] * 52 + [False] * 48), h, settings)
    assert close.verdict is Verdict.NO_CLEAR_DIFFERENCE
    assert close.statement.startswith("paid: no clear difference (+2.0 points; the 95% interval ")
    assert close.statement.endswith(" includes zero)")
    lower = compare_mean("days_to_pay", "days to pay", "days", np.arange(40.0), np.arange(40.0) + 30,
                         settings)
    assert lower.verdict is Verdict.LOWER
    assert lower.statement.startswith("days to pay: treatment lower by 30.0 days (95% interval -")


def test_nothing_to_compare_without_holdout() -> None:
    no_holdout = schedule().with_columns(pl.lit("treatment").alias("arm"))
    ev = evaluate(no_holdout, outcomes(), as_of=AS_OF)
    assert not ev.comparable
    assert ev.exit_code is ExitCode.DATA
    assert ev.conclusion == ("Nothing to compare: the holdout arm has no measured units (set holdout_share "
                             "on a ladder of the policy).")


def test_per_segment_groups_and_unsegmented_customers() -> None:
    segments = pl.DataFrame({"customer_id": ["A", "B", "C"],
                             "treatment": ["reliable", "reliable", "chronic_late"]})
    ev = evaluate(schedule(), outcomes(), as_of=AS_OF, segments=segments)
    seg = {g.group: (g.treatment_units, g.holdout_units) for g in ev.groups if g.dimension == "segment"}
    assert seg == {"(no segment)": (1, 1), "chronic_late": (1, 0), "reliable": (1, 1)}


def test_window_longer_than_the_outcomes_is_cut_with_a_warning() -> None:
    ev = evaluate(schedule(), outcomes(), as_of=AS_OF, settings=EvaluateSettings(window_days=90))
    assert ev.window_end == END
    assert ev.warnings == ("the outcomes end on 2026-04-30, before the requested window end 2026-05-30: "
                           "outcomes are counted up to 2026-04-30",)


def test_outcomes_that_end_before_the_plan_are_an_error() -> None:
    with pytest.raises(StaleDataError, match="export ends on 2026-04-30, not after the plan's as-of date"):
        evaluate(schedule(), outcomes(), as_of=dt.date(2026, 4, 30))


def test_settings_are_checked() -> None:
    with pytest.raises(ConfigError, match="evaluate.min_per_arm: expected at least 2, found 1"):
        EvaluateSettings(min_per_arm=1)
    with pytest.raises(ConfigError, match="evaluate.confidence"):
        EvaluateSettings(confidence=1.0)


def test_json_report_is_plain_data() -> None:
    data = evaluate(schedule(), outcomes(), as_of=AS_OF).to_dict()
    text = json.dumps(data)
    assert data["stage"] == "evaluate" and data["window_days"] == 60
    assert data["groups"][0]["comparisons"][0]["verdict"] == "too_small"
    assert json.loads(text) == data
