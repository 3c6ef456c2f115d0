"""``backtest()``: replay history to compare reminder policies, point in time.

At each replay date the clean tables are cut back to what was known then
(:func:`billcx.evaluate.history.as_known_on`), segmented, and planned once per policy for the days
until the next replay date, each policy with its own log of what it "sent" in earlier replays (so
catch-up and frequency caps behave as in a daily run).  The replayed schedules are then judged
against the history that actually followed (:mod:`billcx.evaluate.replay_metrics`).
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass
from typing import Any

import polars as pl

from billcx.errors import ConfigError, UsageError
from billcx.evaluate.history import as_known_on
from billcx.evaluate.replay_metrics import (
    ResponseTime,
    projected_days,
    reminders,
    replay_counts,
    response_time,
    settlements,
)
from billcx.exitcodes import ExitCode
from billcx.plan import Policy, lint_policy, plan
from billcx.plan.tables import SENT
from billcx.segment import SegmentSettings, segment
from billcx.store import CleanData

log = logging.getLogger(__name__)

ProgressCallback = Callable[[str, int, int], None]


@dataclass(frozen=True)
class BacktestSettings:
    """How history is replayed.

    Attributes:
        every_days: days between replay dates; each replay plans this many days ahead.
        grace_days: days after the due date still counted as paying on time.
        response_days: typical days from a reminder to payment for projected days to pay; None
            estimates it from the events export.
    """

    every_days: int = 30
    grace_days: int = 0
    response_days: float | None = None

    def __post_init__(self) -> None:
        if self.every_days < 1:
            raise UsageError(f"--every: expected at least 1 day, found {self.every_days}")
        if self.grace_days < 0:
            raise UsageError(f"backtest.grace_days: expected 0 or more, found {self.grace_days}")
        if self.response_days is not None and self.response_days < 0:
            raise UsageError(f"backtest.response_days: expected 0 or more, found {self.response_days}")


@dataclass(frozen=True)
class PolicyTotals:
    """One policy over the whole replay.

    Attributes:
        policy: the policy's name.
        messages: treatment messages planned (tasks excluded).
        customers_contacted: customer-replays with at least one message.
        reminders: collection reminders covering invoices.
        unneeded_reminders: reminders whose invoices were paid on time anyway, or before they went out.
        customers_paid_anyway: customer-replays all of whose reminders were unneeded.
        customers_reminded: customer-replays with at least one reminder.
        days_to_pay_actual: mean days from issue to payment in history (invoices open on a replay date).
        days_to_pay_projected: the same, projected under the policy.
        invoices_measured: invoices behind the two means.
    """

    policy: str
    messages: int
    customers_contacted: int
    reminders: int
    unneeded_reminders: int
    customers_paid_anyway: int
    customers_reminded: int
    days_to_pay_actual: float | None
    days_to_pay_projected: float | None
    invoices_measured: int

    @property
    def paid_anyway_share(self) -> float | None:
        """Share of reminded customer-replays who would have paid anyway."""
        return self.customers_paid_anyway / self.customers_reminded if self.customers_reminded else None


@dataclass(frozen=True)
class Backtest:
    """The result of :func:`backtest`.

    Attributes:
        dates: replay dates.
        policies: policy names, in the order given.
        rows: one row per replay date and policy (counts and means), sorted by date then policy order.
        totals: per policy, over all replays.
        response: the response time used for projections, and its source.
        settings: what was used.
        warnings: caveats (stale-data guard overridden, plan warnings ...), deduplicated.
    """

    dates: tuple[dt.date, ...]
    policies: tuple[str, ...]
    rows: pl.DataFrame
    totals: tuple[PolicyTotals, ...]
    response: ResponseTime
    settings: BacktestSettings
    warnings: tuple[str, ...]

    @property
    def exit_code(self) -> ExitCode:
        """Always OK: a backtest that ran is a complete answer (its caveats are warnings)."""
        return ExitCode.OK

    def to_dict(self) -> dict[str, Any]:
        """The machine-readable report (``--report-format json``)."""
        def rounded(x: float | None) -> float | None:
            return None if x is None else round(x, 3)
        return {
            "stage": "backtest",
            "dates": [d.isoformat() for d in self.dates],
            "policies": list(self.policies),
            "settings": asdict(self.settings),
            "response_days": self.response.days,
            "response_source": self.response.source,
            "totals": [{**{k: rounded(v) if isinstance(v, float) else v for k, v in asdict(t).items()},
                        "paid_anyway_share": rounded(t.paid_anyway_share)} for t in self.totals],
            "rows": [{k: (v.isoformat() if isinstance(v, dt.date) else rounded(v) if isinstance(v, float)
                          else v) for k, v in r.items()} for r in self.rows.iter_rows(named=True)],
            "warnings": list(self.warnings),
        }


def default_replay_window(latest: dt.date, every_days: int) -> tuple[dt.date, dt.date]:
    """Default ``(start, end)``: end one step before the history's last date, start three steps earlier."""
    end = latest - dt.timedelta(days=every_days)
    return end - dt.timedelta(days=3 * every_days), end


def replay_dates(start: dt.date, end: dt.date, every_days: int) -> tuple[dt.date, ...]:
    """``start``, ``start + every``, ... up to and including ``end``."""
    if end < start:
        raise UsageError(f"--from {start} is after --to {end}")
    count = (end - start).days // every_days + 1
    return tuple(start + dt.timedelta(days=every_days * i) for i in range(count))


def _sent_rows(schedule: pl.DataFrame) -> pl.DataFrame:
    sent = schedule.filter(pl.col("arm") == "treatment").select(
        "customer_id", "invoice_ids", "step", pl.col("send_at_utc").alias("sent_at"), "ladder", "message_key",
        "channel")
    return SENT.conform(sent)


def backtest(data: CleanData, policies: Sequence[tuple[str, Policy]], *, start: dt.date, end: dt.date,
             settings: BacktestSettings | None = None, segment_settings: SegmentSettings | None = None,
             on_progress: ProgressCallback | None = None) -> Backtest:
    """Replay history from ``start`` to ``end`` and compare what each policy would have done.

    Args:
        data: the full clean history (``CleanData.load``).
        policies: ``(name, policy)`` pairs, e.g. the file stems of the policy files.
        start: first replay date.
        end: last replay date (before the end of the history, so outcomes can follow).
        settings: replay spacing, grace days, response time.
        segment_settings: settings of the segment stage run at each replay date.
        on_progress: ``callback("backtest", done, total)`` after each plan.

    Returns:
        A :class:`Backtest`: per replay date and policy, and totals per policy.

    Raises:
        UsageError: no policy, duplicate names, dates out of order or not before the history's end.
        ConfigError: a policy has lint errors.
    """
    settings = settings if settings is not None else BacktestSettings()
    names = [n for n, _ in policies]
    if not names:
        raise UsageError("--policy: give at least one policy file", hint="billcx policy init policy.toml")
    if len(set(names)) != len(names):
        raise UsageError(f"--policy: policy names must differ, found {', '.join(names)}")
    for name, pol in policies:
        errors = [f for f in lint_policy(pol) if f.severity == "error"]
        if errors:
            raise ConfigError(f"{name}: {errors[0].path}: {errors[0].message}",
                              hint=f"run `billcx policy check` on {name}")
    latest = data.latest_date()
    if end >= latest:
        raise UsageError(f"--to {end} is not before the end of the history ({latest}): nothing follows it to "
                         "judge the replay by", hint=f"use a date well before {latest}")
    dates = replay_dates(start, end, settings.every_days)
    settled = settlements(data)
    response = response_time(data, given=settings.response_days)
    sent: dict[str, pl.DataFrame] = {n: SENT.empty() for n in names}
    schedules: dict[str, list[pl.DataFrame]] = {n: [] for n in names}
    rows: list[dict[str, Any]] = []
    warnings: list[str] = []
    total, done = len(dates) * len(names), 0
    for day in dates:
        past = as_known_on(data, day)
        seg = segment(past, as_of=day, settings=segment_settings or SegmentSettings())
        for name, pol in policies:
            result = plan(past, seg.customers, as_of=day, policy=pol, invoice_risk=seg.invoice_risk,
                          sent=sent[name] if sent[name].height else None, horizon_days=settings.every_days,
                          force=True)
            warnings.extend(f"{day} {name}: {w}" for w in result.summary.warnings)
            sent[name] = pl.concat([sent[name], _sent_rows(result.schedule)])
            schedules[name].append(result.schedule)
            rows.append({"date": day, "policy": name,
                         **replay_counts(result.schedule, settled, grace_days=settings.grace_days)})
            done += 1
            log.debug("backtest: %s %s planned", day, name)
            if on_progress is not None:
                on_progress("backtest", done, total)
    frame, totals = _projections(rows, dates, names, schedules, settled, response.days)
    return Backtest(dates=dates, policies=tuple(names), rows=frame, totals=totals, response=response,
                    settings=settings, warnings=tuple(dict.fromkeys(warnings)))


def _projections(rows: list[dict[str, Any]], dates: tuple[dt.date, ...], names: list[str],
                 schedules: dict[str, list[pl.DataFrame]], settled: pl.DataFrame,
                 response_days: float) -> tuple[pl.DataFrame, tuple[PolicyTotals, ...]]:
    """Add actual and projected days to pay per row; total everything per policy."""
    first = {n: reminders(pl.concat(schedules[n])).group_by("invoice_id")
             .agg(pl.col("send_date").min().alias("first_send")) for n in names}
    opened: list[pl.DataFrame] = []
    for day in dates:
        opened.append(settled.filter(pl.col("issue_date") <= day,
                                     pl.col("settled_on").is_null() | (pl.col("settled_on") > day))
                      .with_columns(pl.lit(day).alias("_day")))
    for row in rows:
        open_now = opened[dates.index(row["date"])]
        actual, projected, n = projected_days(open_now, first[row["policy"]], response_days)
        row.update(open_invoices_paid_later=n, days_to_pay_actual=actual, days_to_pay_projected=projected)
    every_open = pl.concat(opened).unique(subset="invoice_id", keep="first").sort("invoice_id")
    totals = []
    for name in names:
        mine = [r for r in rows if r["policy"] == name]
        actual, projected, n = projected_days(every_open, first[name], response_days)
        totals.append(PolicyTotals(
            policy=name, messages=sum(r["messages"] for r in mine),
            customers_contacted=sum(r["customers_contacted"] for r in mine),
            reminders=sum(r["reminders"] for r in mine),
            unneeded_reminders=sum(r["unneeded_reminders"] for r in mine),
            customers_paid_anyway=sum(r["customers_paid_anyway"] for r in mine),
            customers_reminded=sum(r["customers_reminded"] for r in mine),
            days_to_pay_actual=actual, days_to_pay_projected=projected, invoices_measured=n))
    order = {n: i for i, n in enumerate(names)}
    frame = pl.DataFrame(rows).with_columns(pl.col("policy").replace_strict(order).alias("_o")).sort(
        "date", "_o").drop("_o") if rows else pl.DataFrame()
    return frame, tuple(totals)
