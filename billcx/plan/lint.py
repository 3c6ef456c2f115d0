"""Semantic checks of a policy: what TOML types cannot say.

Every finding names the key path (``ladders.standard.steps[2].offset``) so a person can find it in
the file.  Errors make :func:`billcx.plan.plan` refuse the policy (and ``billcx policy check`` exit 2);
warnings are things that work but are probably not what was meant.
"""

from __future__ import annotations

import zoneinfo
from dataclasses import dataclass
from typing import Literal

from billcx.money import is_currency
from billcx.plan.policy import COURTESY_KINDS, LateFee, Offer, Policy, Rule, Step, parse_hhmm

Severity = Literal["error", "warning"]


@dataclass(frozen=True)
class Finding:
    """One lint finding.

    Attributes:
        severity: ``error`` (the policy cannot be used) or ``warning``.
        path: dotted key path in the policy file.
        message: what is wrong and what was expected.
    """

    severity: Severity
    path: str
    message: str

    def __str__(self) -> str:
        return f"{self.severity}: {self.path}: {self.message}"


def lint_policy(policy: Policy) -> list[Finding]:
    """Check a policy for contradictions and mistakes.

    Args:
        policy: the policy to check.

    Returns:
        Findings, errors first, each group in file order.
    """
    out: list[Finding] = []
    _check_top(policy, out)
    _check_send(policy, out)
    for i, rule in enumerate(policy.rules):
        _check_rule(policy, rule, f"rules[{i}]", out)
    _check_rule_order(policy.rules, out)
    for name, ladder in policy.ladders.items():
        where = f"ladders.{name}"
        _check_share(ladder.holdout_share, f"{where}.holdout_share", out)
        _check_money_map(ladder.min_balance, f"{where}.min_balance", out, allow_zero=True)
        seen: set[str] = set()
        for j, step in enumerate(ladder.steps):
            _check_step(step, j, f"{where}.steps[{j}]", seen, len(ladder.steps), out)
        _check_step_order(ladder.steps, where, out)
    names: set[str] = set(policy.ladders)
    for i, trig in enumerate(policy.triggers):
        where = f"triggers[{i}]"
        if trig.name in names:
            out.append(
                Finding("error", f"{where}.name", f"'{trig.name}' is already the name of a ladder or trigger")
            )
        names.add(trig.name)
        if not trig.channels:
            out.append(Finding("error", f"{where}.channels", "needs at least one channel"))
        if trig.delay_days < 0:
            out.append(Finding("error", f"{where}.delay_days", f"must be 0 or more, found {trig.delay_days}"))
        _check_share(trig.holdout_share, f"{where}.holdout_share", out)
        if trig.on == "failed_payment" and trig.kind in COURTESY_KINDS:
            out.append(
                Finding(
                    "warning",
                    f"{where}.kind",
                    f"a {trig.kind} message after a failed payment is probably not meant",
                )
            )
    return sorted(out, key=lambda f: f.severity != "error")


def _check_top(policy: Policy, out: list[Finding]) -> None:
    if policy.version != 1:
        out.append(Finding("error", "version", f"this billcx reads policy version 1, found {policy.version}"))
    if policy.stale_after_days < 0:
        out.append(Finding("error", "stale_after_days", "must be 0 or more"))
    _check_money_map(policy.min_balance, "min_balance", out, allow_zero=True)
    if not policy.ladders:
        out.append(Finding("error", "ladders", "the policy defines no ladder"))
    if not policy.rules:
        out.append(Finding("error", "rules", "the policy has no rule choosing a ladder"))
    caps = policy.caps
    if caps.max_messages < 1:
        out.append(Finding("error", "caps.max_messages", f"must be at least 1, found {caps.max_messages}"))
    if caps.window_days < 1:
        out.append(Finding("error", "caps.window_days", f"must be at least 1, found {caps.window_days}"))
    if caps.max_defer_days < 0:
        out.append(Finding("error", "caps.max_defer_days", "must be 0 or more"))
    if policy.catch_up.max_late_days < 0:
        out.append(Finding("error", "catch_up.max_late_days", "must be 0 or more"))
    if policy.channels.bounce_limit < 1:
        out.append(Finding("error", "channels.bounce_limit", "must be at least 1"))


def _check_send(policy: Policy, out: list[Finding]) -> None:
    send = policy.send
    if not 0 <= send.default_hour <= 23:
        out.append(Finding("error", "send.default_hour", f"must be 0-23, found {send.default_hour}"))
    if not 0 <= send.task_hour <= 23:
        out.append(Finding("error", "send.task_hour", f"must be 0-23, found {send.task_hour}"))
    if not 0 <= send.spread_minutes <= 60:
        out.append(Finding("error", "send.spread_minutes", f"must be 0-60, found {send.spread_minutes}"))
    for key in ("customer_prior", "segment_prior"):
        if getattr(send, key) <= 0:
            out.append(Finding("error", f"send.{key}", "must be greater than 0"))
    if send.history_days < 1:
        out.append(Finding("error", "send.history_days", "must be at least 1"))
    for key, zone in [
        ("default_timezone", send.default_timezone),
        *((f"country_timezones.{c}", z) for c, z in send.country_timezones.items()),
    ]:
        if not _valid_zone(zone):
            out.append(Finding("error", f"send.{key}", f"unknown IANA time zone {zone!r}"))
    qh = policy.quiet_hours
    for name, window in qh.presets.items():
        _check_window(window.start, window.end, f"quiet_hours.presets.{name}", out)
    known = qh.known()
    for key, preset in [("default", qh.default), *((f"by_country.{c}", p) for c, p in qh.by_country.items())]:
        if preset not in known:
            out.append(
                Finding(
                    "error",
                    f"quiet_hours.{key}",
                    f"unknown preset {preset!r}; known: {', '.join(sorted(known))}",
                )
            )
    if qh.default in known:
        start, end = (parse_hhmm(t) for t in qh.window(qh.default))
        if not start <= send.default_hour * 60 < end:
            out.append(
                Finding(
                    "warning",
                    "send.default_hour",
                    f"{send.default_hour}:00 is outside the default quiet-hours window "
                    f"{qh.window(qh.default)[0]}-{qh.window(qh.default)[1]}; sends will be clamped",
                )
            )


def _check_window(start: str, end: str, where: str, out: list[Finding]) -> None:
    try:
        s, e = parse_hhmm(start), parse_hhmm(end)
    except ValueError as exc:
        out.append(Finding("error", where, str(exc)))
        return
    if e - s < 60:
        out.append(Finding("error", where, f"the window {start}-{end} must be at least one hour long"))


def _valid_zone(zone: str) -> bool:
    try:
        zoneinfo.ZoneInfo(zone)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        return False
    return True


def _check_share(share: float, where: str, out: list[Finding]) -> None:
    if not 0.0 <= share < 1.0:
        out.append(Finding("error", where, f"must be at least 0 and below 1, found {share}"))


def _check_money_map(amounts: dict[str, int], where: str, out: list[Finding], *, allow_zero: bool) -> None:
    for cur, value in amounts.items():
        if not is_currency(cur):
            out.append(Finding("error", f"{where}.{cur}", f"{cur!r} is not an ISO 4217 currency code"))
        if value < 0 or (value == 0 and not allow_zero):
            out.append(
                Finding(
                    "error",
                    f"{where}.{cur}",
                    f"must be {'0 or more' if allow_zero else 'positive'}, found {value}",
                )
            )


def _check_rule(policy: Policy, rule: Rule, where: str, out: list[Finding]) -> None:
    if rule.ladder not in policy.ladders:
        out.append(
            Finding(
                "error",
                f"{where}.ladder",
                f"no ladder named {rule.ladder!r}; defined: {', '.join(sorted(policy.ladders)) or 'none'}",
            )
        )
    lo, hi = rule.min_late_probability, rule.max_late_probability
    for key, v in (("min_late_probability", lo), ("max_late_probability", hi)):
        if v is not None and not 0.0 <= v <= 1.0:
            out.append(Finding("error", f"{where}.{key}", f"must be between 0 and 1, found {v}"))
    if lo is not None and hi is not None and lo > hi:
        out.append(Finding("error", where, f"min_late_probability {lo} is above max_late_probability {hi}"))


def _is_catch_all(rule: Rule) -> bool:
    return (
        not rule.treatments
        and not rule.risk_tiers
        and not rule.value_tiers
        and rule.autopay is None
        and rule.min_late_probability is None
        and rule.max_late_probability is None
    )


def _check_rule_order(rules: tuple[Rule, ...], out: list[Finding]) -> None:
    for i, rule in enumerate(rules):
        if _is_catch_all(rule) and i < len(rules) - 1:
            out.append(
                Finding("warning", f"rules[{i + 1}]", f"never used: rules[{i}] already matches every invoice")
            )
            break
    if rules and not any(_is_catch_all(r) for r in rules):
        out.append(
            Finding(
                "warning",
                "rules",
                "no rule matches every invoice: invoices matching none get "
                "no reminders (skipped as no-ladder)",
            )
        )


def _check_step(step: Step, j: int, where: str, seen: set[str], n_steps: int, out: list[Finding]) -> None:
    if not step.name:
        out.append(Finding("error", f"{where}.name", "must not be empty"))
    elif step.name in seen:
        out.append(Finding("error", f"{where}.name", f"step name {step.name!r} is used twice in this ladder"))
    seen.add(step.name)
    if step.anchor == "previous" and j == 0:
        out.append(Finding("error", f"{where}.anchor", "the first step has no previous step to count from"))
    if step.anchor == "previous" and step.offset < 0:
        out.append(
            Finding(
                "error",
                f"{where}.offset",
                "a step counted from the previous one must come after "
                f"it (offset 0 or more), found {step.offset}",
            )
        )
    if not step.handover and not step.channels:
        out.append(Finding("error", f"{where}.channels", "needs at least one channel"))
    if step.handover and j != n_steps - 1:
        out.append(
            Finding(
                "warning",
                f"{where}.handover",
                "a hand-over step that is not the last step: reminders continue after a person took over",
            )
        )
    if step.kind in COURTESY_KINDS:
        out.append(Finding("warning", f"{where}.kind", f"{step.kind} belongs in a trigger, not in a ladder"))
    if step.anchor == "due" and step.kind == "pre_due" and step.offset >= 0:
        out.append(Finding("warning", f"{where}.offset", "a pre_due step on or after the due date"))
    if step.anchor == "due" and step.kind in ("overdue", "final_notice") and step.offset <= 0:
        out.append(Finding("warning", f"{where}.offset", f"an {step.kind} step on or before the due date"))
    if step.late_fee is not None:
        _check_fee(step.late_fee, f"{where}.late_fee", out)
        if step.anchor == "due" and step.offset <= 0:
            out.append(Finding("warning", f"{where}.late_fee", "a late fee on or before the due date"))
    if step.offer is not None:
        _check_offer(step.offer, f"{where}.offer", out)


def _check_fee(fee: LateFee, where: str, out: list[Finding]) -> None:
    if not fee.fixed and fee.percent == 0:
        out.append(Finding("error", where, "set fixed amounts per currency or a percent"))
    if fee.fixed and fee.percent:
        out.append(Finding("error", where, "set either fixed or percent, not both"))
    if not 0 <= fee.percent <= 100:
        out.append(Finding("error", f"{where}.percent", f"must be between 0 and 100, found {fee.percent}"))
    if fee.percent and not fee.cap:
        out.append(Finding("warning", f"{where}.cap", "a percentage fee without a cap"))
    _check_money_map(fee.fixed, f"{where}.fixed", out, allow_zero=False)
    _check_money_map(fee.cap, f"{where}.cap", out, allow_zero=False)


def _check_offer(offer: Offer, where: str, out: list[Finding]) -> None:
    if offer.type == "payment_plan":
        if offer.instalments < 2:
            out.append(
                Finding("error", f"{where}.instalments", f"must be at least 2, found {offer.instalments}")
            )
        if offer.interval_days < 1:
            out.append(Finding("error", f"{where}.interval_days", "must be at least 1"))
        if offer.first_due_days < 0:
            out.append(Finding("error", f"{where}.first_due_days", "must be 0 or more"))
        _check_money_map(offer.min_instalment, f"{where}.min_instalment", out, allow_zero=False)
    elif offer.extension_days < 1:
        out.append(Finding("error", f"{where}.extension_days", "must be at least 1"))


def _check_step_order(steps: tuple[Step, ...], where: str, out: list[Finding]) -> None:
    # Only steps anchored on the due date can be compared without data.
    last: tuple[int, str] | None = None
    for j, step in enumerate(steps):
        if step.anchor != "due":
            continue
        if last is not None and step.offset < last[0]:
            out.append(
                Finding(
                    "warning",
                    f"{where}.steps[{j}].offset",
                    f"step {step.name!r} comes before step {last[1]!r} in time but after it in "
                    "the ladder; 'previous' anchors and merging follow the ladder order",
                )
            )
        last = (step.offset, step.name)
