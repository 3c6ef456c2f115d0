"""Properties that hold for any data and policy (hypothesis)."""

from __future__ import annotations

import datetime as dt
import json
from collections import defaultdict
from typing import Any

import polars as pl
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from plan_scenarios import AS_OF, customer, frames, invoice, payment, segment

from billcx.plan import plan
from billcx.plan.policy import QUIET_PRESETS, parse_hhmm, policy_from_mapping
from billcx.store import CleanData

ZONES = [
    ("US", "America/New_York"),
    ("US", "America/Los_Angeles"),
    ("FR", "Europe/Paris"),
    ("DE", "Europe/Berlin"),
    ("AU", "Australia/Sydney"),
    ("GB", "Europe/London"),
    ("JP", "Asia/Tokyo"),
]
TREATMENTS = ["reliable", "chronic_late", "standard", "new"]


_rarely = st.integers(0, 9).map(lambda v: v == 0)
_often = st.integers(0, 9).map(lambda v: v != 0)


@st.composite
def scenarios(draw: st.DrawFn) -> dict[str, Any]:
    n = draw(st.integers(1, 6))
    custs, invs, pays, segs = [], [], [], []
    for k in range(n):
        cid = f"c{k}"
        country, zone = draw(st.sampled_from(ZONES))
        custs.append(
            customer(
                cid,
                country=country,
                timezone=zone,
                consent_email=draw(_often),
                consent_sms=draw(st.booleans()),
                consent_letter=draw(st.booleans()),
                phone=draw(st.sampled_from([None, "+12125550100"])),
                email=None if draw(_rarely) else f"{cid}@example.com",
                address_line1=draw(st.sampled_from([None, "1 Main St"])),
                city="Springfield",
                preferred_channel=draw(st.sampled_from([None, "email", "sms", "letter"])),
                do_not_contact=draw(_rarely),
                autopay=draw(_rarely),
            )
        )
        segs.append(
            segment(cid, draw(st.sampled_from(TREATMENTS)), late=draw(st.sampled_from([None, 0.2, 0.9])))
        )
        for j in range(draw(st.integers(0, 6))):
            iid = f"{cid}i{j}"
            due = AS_OF + dt.timedelta(days=draw(st.integers(-25, 30)))
            amount = draw(st.integers(1, 90_000))
            invs.append(
                invoice(
                    iid,
                    cid,
                    due,
                    amount,
                    currency=draw(st.sampled_from(["USD", "EUR", "JPY"])),
                    issue=min(due - dt.timedelta(days=20), AS_OF),
                    disputed=draw(_rarely),
                )
            )
            if draw(st.booleans()):
                at = dt.datetime.combine(
                    AS_OF - dt.timedelta(days=draw(st.integers(0, 60))), dt.time(draw(st.integers(0, 23)))
                )
                pays.append(
                    payment(
                        f"p{iid}", cid, iid, at, draw(st.integers(1, amount)), currency=invs[-1]["currency"]
                    )
                )
    steps = []
    offsets = sorted(draw(st.lists(st.integers(-10, 25), min_size=1, max_size=4, unique=True)))
    for i, off in enumerate(offsets):
        step: dict[str, Any] = {
            "name": f"s{i}",
            "kind": "overdue" if off > 0 else "pre_due",
            "offset": off,
            "unit": draw(st.sampled_from(["days", "business_days"])),
            "channels": draw(st.permutations(["email", "sms", "letter"]))[: draw(st.integers(1, 3))],
        }
        if draw(st.booleans()):
            step["offer"] = {"type": "payment_plan", "instalments": draw(st.integers(2, 5))}
        steps.append(step)
    pol = policy_from_mapping(
        {
            "stale_after_days": 10_000,
            "send": {
                "default_hour": draw(st.integers(0, 23)),
                "spread_minutes": draw(st.sampled_from([0, 60])),
            },
            "quiet_hours": {"default": draw(st.sampled_from(sorted(QUIET_PRESETS)))},
            "caps": {
                "max_messages": draw(st.integers(1, 3)),
                "window_days": draw(st.integers(1, 10)),
                "on_excess": draw(st.sampled_from(["defer", "skip"])),
                "max_defer_days": draw(st.integers(0, 10)),
            },
            "rules": [{"ladder": "l"}],
            "ladders": {"l": {"steps": steps, "holdout_share": draw(st.sampled_from([0.0, 0.3]))}},
            "triggers": [{"name": "thanks", "kind": "thank_you", "on": "payment", "delay_days": 1}],
        }
    )
    return {"customers": custs, "invoices": invs, "payments": pays, "segments": segs, "policy": pol}


def _plan(sc: dict[str, Any], data: CleanData | None = None) -> Any:
    data = data or frames(
        sc["customers"], sc["invoices"] or [invoice("none", "c0", AS_OF, status="void")], sc["payments"]
    )
    return plan(
        data,
        pl.DataFrame(sc["segments"], schema_overrides={"rfm_segment": pl.String}),
        as_of=AS_OF,
        policy=sc["policy"],
        horizon_days=40,
    )


PROPS = settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@PROPS
@given(scenarios())
def test_schedule_invariants(sc: dict[str, Any]) -> None:
    result = _plan(sc)
    sched = result.schedule
    custs = {c["customer_id"]: c for c in sc["customers"]}
    pol = sc["policy"]
    start, end = (parse_hhmm(t) for t in QUIET_PRESETS[pol.quiet_hours.default])
    per_day: dict[tuple[str, str, str], int] = defaultdict(int)
    days: dict[tuple[str, str], list[dt.date]] = defaultdict(list)
    for r in sched.iter_rows(named=True):
        local = dt.datetime.fromisoformat(r["send_at_local"])
        assert local == r["send_at_utc"]
        if r["channel"] == "task":
            continue
        c = custs[r["customer_id"]]
        # never a channel without consent or address; never a do-not-contact customer
        assert not c["do_not_contact"]
        assert c[f"consent_{r['channel']}"]
        if r["channel"] == "email":
            assert c["email"]
        if r["channel"] == "sms":
            assert c["phone"]
        if r["channel"] == "letter":
            assert c["address_line1"]
        # never outside quiet hours in local time
        assert start <= local.hour * 60 + local.minute < end
        per_day[(r["customer_id"], r["arm"], r["send_at_local"][:10])] += 1
        days[(r["customer_id"], r["arm"])].append(local.date())
        # offers add up exactly
        if r["offer"] is not None:
            offer = json.loads(r["offer"])
            assert offer["total"] == r["amount_due"]
            if offer["type"] == "payment_plan":
                assert sum(i["amount"] for i in offer["instalments"]) == r["amount_due"]
                assert all(i["amount"] > 0 for i in offer["instalments"])
    # never two messages per customer per local day
    assert all(n == 1 for n in per_day.values())
    # the rolling cap holds in every window
    k, w = pol.caps.max_messages, pol.caps.window_days
    for ds in days.values():
        ds.sort()
        for i in range(len(ds)):
            assert sum(1 for d in ds if ds[i] <= d < ds[i] + dt.timedelta(days=w)) <= k
    assert sched["message_key"].is_unique().all()


@PROPS
@given(scenarios(), st.randoms(use_true_random=False))
def test_determinism_under_row_shuffles(sc: dict[str, Any], rnd: Any) -> None:
    first = _plan(sc)
    shuffled = {k: (rnd.sample(v, len(v)) if isinstance(v, list) else v) for k, v in sc.items()}
    second = _plan(shuffled)
    assert first.schedule.equals(second.schedule)
    assert first.skipped.equals(second.skipped)
    assert first.summary == second.summary
