"""billcx plan stage: a dated, explainable, compliant reminder schedule.

Public API::

    from billcx.plan import plan, default_policy, load_policy, lint_policy, write_plan
    result = plan(CleanData.load("clean"), segments, as_of=date(2025, 7, 1))
    write_plan(result, "out")
"""

from __future__ import annotations

from billcx.plan.catchup import read_sent
from billcx.plan.holds import read_holds
from billcx.plan.lint import Finding, lint_policy
from billcx.plan.pipeline import plan
from billcx.plan.policy import Policy, default_policy, default_policy_text, load_policy
from billcx.plan.result import PlanResult, PlanSummary, write_plan

__all__ = [
    "Finding",
    "PlanResult",
    "PlanSummary",
    "Policy",
    "default_policy",
    "default_policy_text",
    "lint_policy",
    "load_policy",
    "plan",
    "read_holds",
    "read_sent",
    "write_plan",
]
