"""Through the real stages on a small generated history: sample -> segment -> plan -> evaluate / backtest."""

from __future__ import annotations

import dataclasses
import datetime as dt

import pytest

from billcx.evaluate import BacktestSettings, as_known_on, backtest, evaluate
from billcx.plan import Policy, default_policy, plan
from billcx.sample import SampleSettings, generate
from billcx.segment import segment
from billcx.store import CleanData

AS_OF = dt.date(2026, 8, 31)


@pytest.fixture(scope="module")
def history() -> CleanData:
    s = generate(SampleSettings(customers=120, seed=3))
    return CleanData.from_frames(s.customers, s.invoices, s.payments, s.events)


def _with_holdout(policy: Policy, share: float) -> Policy:
    return dataclasses.replace(policy, ladders={name: dataclasses.replace(lad, holdout_share=share)
                                                for name, lad in policy.ladders.items()})


def test_evaluate_a_real_plan_against_later_history(history: CleanData) -> None:
    past = as_known_on(history, AS_OF)
    seg = segment(past, as_of=AS_OF)
    result = plan(past, seg.customers, as_of=AS_OF, policy=_with_holdout(default_policy(), 0.5),
                  invoice_risk=seg.invoice_risk, force=True)
    assert set(result.schedule["arm"].unique()) == {"treatment", "holdout"}
    ev = evaluate(result.schedule, history, as_of=AS_OF, segments=seg.customers)
    assert ev.comparable
    assert ev.window_end == history.latest_date()
    o = ev.overall
    assert o.treatment_units + o.holdout_units == ev.units.height
    metrics = [c.metric for c in o.comparisons]
    assert metrics[:4] == ["on_time_rate", "paid_rate", "days_to_pay", "opt_out_rate"]
    assert {g.dimension for g in ev.groups} == {"overall", "ladder", "segment"}
    assert ev.units["days_to_pay"].max() <= ev.window_days  # type: ignore[operator]
    again = evaluate(result.schedule, history, as_of=AS_OF, segments=seg.customers)
    assert again.to_dict() == ev.to_dict()


def test_backtest_uses_only_what_was_known_on_the_replay_date(history: CleanData) -> None:
    day = dt.date(2026, 8, 1)
    no_pre_due = dataclasses.replace(default_policy(), ladders={
        name: dataclasses.replace(lad, steps=tuple(s for s in lad.steps if s.kind != "pre_due"))
        for name, lad in default_policy().ladders.items()})
    policies = [("default", default_policy()), ("no_pre_due", no_pre_due)]
    settings = BacktestSettings(every_days=14, response_days=4.0)
    full = backtest(history, policies, start=day, end=day, settings=settings)
    cut = backtest(as_known_on(history, day + dt.timedelta(days=45)), policies, start=day, end=day,
                   settings=settings)
    planned = ["messages", "tasks", "customers_contacted", "reminders"]
    assert full.rows.select(planned).to_dicts() == cut.rows.select(planned).to_dicts()
    default, fewer = full.totals
    assert fewer.messages < default.messages
    assert default.days_to_pay_actual == fewer.days_to_pay_actual
    assert default.days_to_pay_projected is not None and default.days_to_pay_actual is not None
    assert default.days_to_pay_projected <= default.days_to_pay_actual
    assert 0 <= default.customers_paid_anyway <= default.customers_reminded
    assert full.response.source == "set in the backtest settings"
