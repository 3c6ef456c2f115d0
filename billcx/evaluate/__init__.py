"""billcx evaluate and backtest: measure what reminders achieve.

Public API::

    from billcx.evaluate import evaluate, EvaluateSettings
    result = evaluate(schedule, CleanData.load("clean_later"), as_of=date(2026, 8, 31), segments=segments)
    print(result.conclusion)

    from billcx.evaluate import backtest
    bt = backtest(CleanData.load("clean"), [("a", policy_a), ("b", policy_b)],
                  start=date(2026, 3, 1), end=date(2026, 8, 31))

See docs/evaluate.md.
"""

from __future__ import annotations

from billcx.evaluate.arms import evaluate
from billcx.evaluate.backtest import (
                                      Backtest,
                                      BacktestSettings,
                                      PolicyTotals,
                                      backtest,
                                      default_replay_window,
                                      replay_dates,
)
from billcx.evaluate.compare import ArmStats, Comparison, Verdict
from billcx.evaluate.history import as_known_on
from billcx.evaluate.result import Evaluation, GroupResult
from billcx.evaluate.runfolder import PlanRun, load_plan_run
from billcx.evaluate.settings import EvaluateSettings
from billcx.evaluate.stats import Interval, newcombe, welch, wilson

__all__ = ["ArmStats", "Backtest", "BacktestSettings", "Comparison", "EvaluateSettings", "Evaluation",
           "GroupResult", "Interval", "PlanRun", "PolicyTotals", "Verdict", "as_known_on", "backtest",
           "default_replay_window", "evaluate", "load_plan_run", "newcombe", "replay_dates", "welch",
           "wilson"]
