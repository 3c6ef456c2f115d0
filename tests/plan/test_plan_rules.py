"""Each rule of the schedule on tiny hand-made frames."""

from __future__ import annotations

import datetime as dt
import json

import pytest
from plan_scenarios import (
    AS_OF,
    codes,
    customer,
    frames,
    invoice,
    local_date,
    payment,
    policy,
    rows,
    run,
    segment,
)

from billcx.errors import StaleDataError

D = dt.date
T = dt.datetime


# --- consent, contact, fallback ---------------------------------------------------------------------


def test_fallback_when_preferred_channel_has_no_consent() -> None:
    data = frames(
        [customer("c1", phone="+12125550100", preferred_channel="sms", consent_sms=False)],
        [invoice("i1", "c1", D(2025, 7, 10))],
    )
    [pre] = rows(run(data, horizon_days=9))
    assert pre["channel"] == "email"
    assert "fallback:no-sms-consent" in codes(pre)
    assert any(
        r.startswith("fallback:no-sms-consent: no consent to contact by SMS; sent by email")
        for r in pre["reasons"]
    )


def test_preferred_channel_goes_first_when_usable() -> None:
    data = frames(
        [customer("c1", phone="+12125550100", preferred_channel="sms", consent_sms=True)],
        [invoice("i1", "c1", D(2025, 7, 10))],
    )
    [pre] = rows(run(data, horizon_days=9))
    assert pre["channel"] == "sms"
    assert not [c for c in codes(pre) if c.startswith("fallback")]


def test_no_channel_without_consent_or_address_is_skipped_with_reasons() -> None:
    data = frames(
        [customer("c1", consent_email=False, phone=None, consent_sms=True)],
        [invoice("i1", "c1", D(2025, 7, 10))],
    )
    result = run(data, horizon_days=9)
    assert result.schedule.height == 0
    [skip] = result.skipped.to_dicts()
    assert skip["code"] == "no-channel"
    assert skip["reason"] == "no usable channel: email (no-email-consent); sms (no-sms-address)"
    assert skip["invoice_ids"] == ["i1"] and skip["step"] == "pre_due" and skip["date"] == D(2025, 7, 7)


def test_do_not_contact_overrides_consent() -> None:
    data = frames([customer("c1", do_not_contact=True)], [invoice("i1", "c1", D(2025, 7, 10))])
    result = run(data, horizon_days=30)
    assert result.schedule.height == 0
    assert set(result.skipped["code"]) == {"do-not-contact"}


def test_unsubscribe_event_withdraws_the_channel() -> None:
    events = [
        {"customer_id": "c1", "channel": "email", "event": "unsubscribed", "at": T(2025, 6, 1, tzinfo=dt.UTC)}
    ]
    data = frames(
        [customer("c1", phone="+12125550100", consent_sms=True)],
        [invoice("i1", "c1", D(2025, 7, 10))],
        events=events,
    )
    [pre] = rows(run(data, horizon_days=9))
    assert pre["channel"] == "sms"
    assert "fallback:email-unsubscribed" in codes(pre)


def test_bounces_make_an_address_unusable() -> None:
    bounce = {"customer_id": "c1", "channel": "email", "event": "bounced", "at": T(2025, 6, 1, tzinfo=dt.UTC)}
    data = frames([customer("c1")], [invoice("i1", "c1", D(2025, 7, 10))], events=[bounce, bounce])
    result = run(data, horizon_days=9)
    assert result.schedule.height == 0
    assert "email (email-bounced)" in result.skipped["reason"][0]


def test_letter_needs_a_postal_address() -> None:
    pol = policy(
        ladders={"basic": {"steps": [{"name": "l", "kind": "overdue", "offset": 1, "channels": ["letter"]}]}}
    )
    with_address = customer("c1", address_line1="1 Main St", city="Springfield", consent_email=False)
    without = customer("c2", consent_email=False)
    data = frames(
        [with_address, without], [invoice("i1", "c1", D(2025, 7, 10)), invoice("i2", "c2", D(2025, 7, 10))]
    )
    result = run(data, pol=pol)
    assert [r["customer_id"] for r in rows(result)] == ["c1"]
    assert result.skipped["reason"].to_list() == ["no usable channel: letter (no-letter-address)"]


# --- balances, stop when paid, disputes, holds -------------------------------------------------------


def test_stop_when_paid_before_as_of_but_not_after() -> None:
    data = frames(
        [customer("c1"), customer("c2")],
        [invoice("i1", "c1", D(2025, 7, 10)), invoice("i2", "c2", D(2025, 7, 10))],
        [
            payment("p1", "c1", "i1", T(2025, 6, 30, 15), 10_000),
            payment("p2", "c2", "i2", T(2025, 7, 2, 15), 10_000),
        ],
    )
    result = run(data)
    assert {r["customer_id"] for r in rows(result)} == {"c2"}


def test_amount_is_remaining_balance_after_partial_payment_and_credit_note() -> None:
    invoices = [
        invoice("i1", "c1", D(2025, 7, 10), 10_000),
        invoice("cn1", "c1", D(2025, 6, 1), -1_500, issue=D(2025, 6, 1)),
    ]
    pays = [
        payment("p1", "c1", "i1", T(2025, 6, 20, 15), 4_000),
        payment("p2", "c1", "i1", T(2025, 6, 21, 15), 1_000, status="failed"),
        payment("p3", "c1", "i1", T(2025, 6, 22, 15), 500, status="refunded"),
    ]
    data = frames([customer("c1")], invoices, pays)
    [pre] = rows(run(data, horizon_days=9))
    assert pre["amount_due"] == 10_000 - 4_000 - 1_500
    assert pre["invoice_ids"] == ["i1"]


def test_disputed_invoice_is_excluded_and_said_why() -> None:
    data = frames(
        [customer("c1")],
        [invoice("i1", "c1", D(2025, 7, 10), disputed=True), invoice("i2", "c1", D(2025, 7, 10))],
    )
    result = run(data)
    assert all(r["invoice_ids"] == ["i2"] for r in rows(result))
    [skip] = result.skipped.filter(result.skipped["code"] == "disputed").to_dicts()
    assert skip["invoice_ids"] == ["i1"]


def test_invoice_hold_until_pauses_and_resumes_with_latest_held_step() -> None:
    # Steps: pre_due 7-7, overdue_1 7-13 (Sun -> Mon 7-14), final 7-20; on hold until 7-16.
    data = frames([customer("c1")], [invoice("i1", "c1", D(2025, 7, 10), hold_until=D(2025, 7, 16))])
    result = run(data)
    sched = rows(result)
    assert [(r["step"], local_date(r)) for r in sched] == [
        ("overdue_1", D(2025, 7, 16)),
        ("final", D(2025, 7, 21)),
    ]
    assert "held:resumed" in codes(sched[0])
    held = result.skipped.filter(result.skipped["code"] == "held").to_dicts()
    assert [(s["step"], s["date"]) for s in held] == [("pre_due", D(2025, 7, 7))]


def test_holds_file_by_customer_holds_every_invoice() -> None:
    import polars as pl

    holds = pl.DataFrame(
        {
            "invoice_id": [None],
            "customer_id": ["c1"],
            "until": [D(2025, 8, 30)],
            "reason": ["promise to pay"],
        },
        schema_overrides={"invoice_id": pl.String},
    )
    data = frames(
        [customer("c1"), customer("c2")],
        [
            invoice("i1", "c1", D(2025, 7, 10)),
            invoice("i2", "c1", D(2025, 7, 12)),
            invoice("i3", "c2", D(2025, 7, 10)),
        ],
    )
    result = run(data, holds=holds)
    assert {r["customer_id"] for r in rows(result)} == {"c2"}
    held = result.skipped.filter(result.skipped["code"] == "held")
    assert held.height == 6
    assert "on hold until 2025-08-30 (promise to pay)" in held["reason"][0]


def test_hold_that_ended_before_as_of_is_over() -> None:
    data = frames([customer("c1")], [invoice("i1", "c1", D(2025, 7, 10), hold_until=D(2025, 6, 1))])
    assert len(rows(run(data))) == 3


# --- merge, split by currency, caps -----------------------------------------------------------------


def test_invoices_on_the_same_day_merge_and_the_strongest_step_wins() -> None:
    # i1 overdue_1 on 7-7 (due 7-4 + 3), i2 pre_due on 7-7 (due 7-10 - 3)
    data = frames(
        [customer("c1")],
        [invoice("i1", "c1", D(2025, 7, 4), 3_000), invoice("i2", "c1", D(2025, 7, 10), 5_000)],
    )
    result = run(data, horizon_days=7)
    [msg] = [r for r in rows(result) if local_date(r) == D(2025, 7, 7)]
    assert msg["invoice_ids"] == ["i1", "i2"]
    assert msg["amount_due"] == 8_000
    assert (msg["kind"], msg["step"], msg["tone"]) == ("overdue", "overdue_1", "neutral")
    assert "merged:2-invoices" in codes(msg)


def test_merge_splits_by_currency_and_keeps_one_message_a_day() -> None:
    data = frames(
        [customer("c1")],
        [
            invoice("i1", "c1", D(2025, 7, 10), 3_000, currency="USD"),
            invoice("i2", "c1", D(2025, 7, 10), 5_000, currency="EUR"),
        ],
    )
    result = run(data, horizon_days=9)
    msgs = rows(result)
    assert sorted(r["currency"] for r in msgs) == ["EUR", "USD"]
    assert len({local_date(r) for r in msgs}) == 2
    deferred = [r for r in msgs if "capped:frequency" in codes(r)]
    assert len(deferred) == 1


PRE_DUE_ONLY = {"basic": {"steps": [{"name": "pre_due", "kind": "pre_due", "offset": -3}]}}


def test_rolling_cap_defers_to_the_next_allowed_day() -> None:
    pol = policy(
        caps={"max_messages": 2, "window_days": 7, "on_excess": "defer", "max_defer_days": 10},
        ladders=PRE_DUE_ONLY,
    )
    # pre_due on Mon 7-7, Tue 7-8, Wed 7-9 for three invoices: the third waits until 7-14 (7-7 + 7).
    data = frames([customer("c1")], [invoice(f"i{d}", "c1", D(2025, 7, d + 3)) for d in (7, 8, 9)])
    result = run(data, pol=pol, horizon_days=20)
    dates = [local_date(r) for r in rows(result)]
    assert dates == [D(2025, 7, 7), D(2025, 7, 8), D(2025, 7, 14)]
    [late] = [r for r in rows(result) if local_date(r) == D(2025, 7, 14)]
    assert late["invoice_ids"] == ["i9"]
    assert any(
        r.startswith(
            "capped:frequency: at most 2 messages in 7 days and one a day; deferred from "
            "2025-07-09 to 2025-07-14"
        )
        for r in late["reasons"]
    )


def test_rolling_cap_skip_mode_drops_the_excess() -> None:
    pol = policy(caps={"max_messages": 2, "window_days": 7, "on_excess": "skip"}, ladders=PRE_DUE_ONLY)
    data = frames([customer("c1")], [invoice(f"i{d}", "c1", D(2025, 7, d + 3)) for d in (7, 8, 9)])
    result = run(data, pol=pol, horizon_days=20)
    assert [local_date(r) for r in rows(result)] == [D(2025, 7, 7), D(2025, 7, 8)]
    [skip] = result.skipped.to_dicts()
    assert skip["code"] == "capped:frequency" and skip["invoice_ids"] == ["i9"]
    assert skip["reason"] == (
        "at most 2 messages in 7 days and one a day; the message planned for 2025-07-09 is not sent"
    )


def test_cap_counts_messages_already_sent() -> None:
    import polars as pl

    pol = policy(caps={"max_messages": 1, "window_days": 7, "max_defer_days": 10})
    sent = pl.DataFrame(
        {
            "customer_id": ["c1"],
            "invoice_ids": [["old"]],
            "step": ["x"],
            "sent_at": [T(2025, 6, 30, 14, tzinfo=dt.UTC)],
        }
    )
    data = frames([customer("c1")], [invoice("i1", "c1", D(2025, 7, 5))])
    [msg] = rows(run(data, pol=pol, sent=sent, horizon_days=10))
    assert local_date(msg) == D(2025, 7, 7)  # pre_due 7-2 waits until 6-30 + 7


def test_tasks_do_not_count_against_the_cap() -> None:
    pol = policy(
        caps={"max_messages": 1, "window_days": 7},
        ladders={
            "basic": {
                "steps": [
                    {"name": "final", "kind": "final_notice", "offset": 1, "channels": ["email"]},
                    {"name": "handover", "kind": "final_notice", "offset": 1, "handover": True},
                ]
            }
        },
    )
    data = frames([customer("c1")], [invoice("i1", "c1", D(2025, 7, 8))])
    result = run(data, pol=pol, horizon_days=10)
    assert sorted((r["channel"], r["template"]) for r in rows(result)) == [
        ("email", "final_notice"),
        ("task", "handover"),
    ]


# --- send time, quiet hours, weekends, holidays -------------------------------------------------------


def _payments_at(cid: str, hour_utc: int, n: int) -> list[dict[str, object]]:
    return [payment(f"p{cid}{k}", cid, None, T(2025, 5, 1 + k, hour_utc), 100) for k in range(n)]


def test_send_hour_learned_from_the_customers_payment_times() -> None:
    # 18:00 UTC = 14:00 in New York (EDT): eight payments beat the default 10:00.
    data = frames([customer("c1")], [invoice("i1", "c1", D(2025, 7, 10))], _payments_at("c1", 18, 8))
    [pre] = rows(run(data, horizon_days=9))
    assert pre["send_at_local"] == "2025-07-07T14:00:00-04:00"
    assert "sendtime:customer" in codes(pre)


def test_thin_history_follows_the_segment() -> None:
    # c2 pays at 14:00 New York often; c1 (same segment) paid once at 08:00: c1 follows the segment.
    # (The segment's pattern comes from the customers in the plan: c2 owes money too.)
    pays = _payments_at("c2", 18, 20) + [payment("x", "c1", None, T(2025, 5, 3, 12), 100)]
    data = frames(
        [customer("c1"), customer("c2")],
        [invoice("i1", "c1", D(2025, 7, 10)), invoice("i2", "c2", D(2025, 7, 25))],
        pays,
    )
    pol = policy(send={"default_hour": 10, "spread_minutes": 0, "segment_prior": 1.0})
    [pre] = rows(run(data, [segment("c1"), segment("c2")], pol=pol, horizon_days=9), customer_id="c1")
    assert pre["send_at_local"].startswith("2025-07-07T14:")
    assert "sendtime:segment" in codes(pre)


def test_preferred_hour_is_clamped_into_quiet_hours() -> None:
    # 03:00 UTC = 23:00 New York: clamped to the last hour of 08:00-21:00.
    data = frames([customer("c1")], [invoice("i1", "c1", D(2025, 7, 10))], _payments_at("c1", 3, 10))
    [pre] = rows(run(data, horizon_days=9))
    assert pre["send_at_local"] == "2025-07-07T20:00:00-04:00"
    assert "moved:quiet-hours" in codes(pre)


def test_quiet_hours_preset_per_country() -> None:
    pol = policy(quiet_hours={"default": "us_tcpa", "by_country": {"FR": "strict"}})
    cust = [customer("us"), customer("fr", country="FR", timezone="Europe/Paris")]
    pays = _payments_at("us", 12, 10) + _payments_at("fr", 6, 10)  # 08:00 local in both
    data = frames(cust, [invoice("i1", "us", D(2025, 7, 10)), invoice("i2", "fr", D(2025, 7, 10))], pays)
    result = run(data, pol=pol, horizon_days=9)
    times = {r["customer_id"]: r["send_at_local"][11:16] for r in rows(result)}
    assert times == {"us": "08:00", "fr": "09:00"}


def test_weekend_moves_to_monday() -> None:
    data = frames([customer("c1")], [invoice("i1", "c1", D(2025, 7, 15))])  # pre_due Sat 7-12
    [pre] = [r for r in rows(run(data)) if r["step"] == "pre_due"]
    assert local_date(pre) == D(2025, 7, 14)
    assert "moved:weekend" in codes(pre)


def test_us_independence_day_moves_to_next_business_day() -> None:
    data = frames([customer("c1")], [invoice("i1", "c1", D(2025, 7, 7))])  # pre_due Fri 7-4
    [pre] = [r for r in rows(run(data)) if r["step"] == "pre_due"]
    assert local_date(pre) == D(2025, 7, 7)
    assert "moved:holiday:independence-day" in codes(pre)


def test_french_national_day_moves_a_paris_customer() -> None:
    cust = customer("c1", country="FR", timezone="Europe/Paris")
    data = frames([cust], [invoice("i1", "c1", D(2025, 7, 17), currency="EUR")])  # pre_due Mon 7-14
    [pre] = [r for r in rows(run(data)) if r["step"] == "pre_due"]
    assert local_date(pre) == D(2025, 7, 15)
    assert "moved:holiday:national-day" in codes(pre)


def test_german_regional_holiday_applies_to_bavaria_only() -> None:
    # Corpus Christi, Thursday 2025-06-19: a holiday in Bavaria, not in Berlin.
    by = customer("by", country="DE", region="BY", timezone="Europe/Berlin")
    be = customer("be", country="DE", region="BE", timezone="Europe/Berlin")
    data = frames(
        [by, be],
        [
            invoice("i1", "by", D(2025, 6, 22), currency="EUR"),
            invoice("i2", "be", D(2025, 6, 22), currency="EUR"),
        ],
    )
    result = run(data, as_of=D(2025, 6, 17), horizon_days=5)
    pre = {r["customer_id"]: local_date(r) for r in rows(result, step="pre_due")}
    assert pre == {"by": D(2025, 6, 20), "be": D(2025, 6, 19)}
    [moved] = rows(result, customer_id="by")
    assert "moved:holiday:corpus-christi" in codes(moved)


def test_business_day_offsets_skip_weekends_and_holidays() -> None:
    pol = policy(
        ladders={
            "basic": {
                "steps": [
                    {
                        "name": "od",
                        "kind": "overdue",
                        "offset": 2,
                        "unit": "business_days",
                        "channels": ["email"],
                    }
                ]
            }
        }
    )
    data = frames([customer("c1")], [invoice("i1", "c1", D(2025, 7, 3))])  # Thu; Fri 7-4 holiday
    [od] = rows(run(data, pol=pol))
    assert local_date(od) == D(2025, 7, 8)  # Mon 7-7 is one, Tue 7-8 is two


# --- catch-up and sent log ---------------------------------------------------------------------------


def _sent(cid: str, iids: list[str], step: str, at: dt.datetime) -> dict[str, object]:
    return {"customer_id": cid, "invoice_ids": iids, "step": step, "sent_at": at.replace(tzinfo=dt.UTC)}


def test_without_a_sent_log_past_steps_are_not_planned() -> None:
    data = frames([customer("c1")], [invoice("i1", "c1", D(2025, 6, 20))])  # overdue_1 6-23, final 6-30
    assert rows(run(data, horizon_days=5)) == []


def test_catch_up_sends_the_latest_missed_step_once() -> None:
    import polars as pl

    data = frames([customer("c1")], [invoice("i1", "c1", D(2025, 6, 24))])  # pre 6-21, od 6-27, final 7-4
    sent = pl.DataFrame([_sent("c1", ["i1"], "pre_due", T(2025, 6, 23, 14))])
    result = run(data, sent=sent, horizon_days=10)
    sched = rows(result)
    assert [(r["step"], local_date(r)) for r in sched] == [("overdue_1", AS_OF), ("final", D(2025, 7, 7))]
    assert "catch-up:missed" in codes(sched[0])


def test_catch_up_never_bursts_and_never_replans_what_was_sent() -> None:
    import polars as pl

    pol = policy(
        ladders={
            "basic": {
                "steps": [
                    {"name": f"s{k}", "kind": "overdue", "offset": k, "channels": ["email"]}
                    for k in (1, 2, 3, 4, 40)
                ]
            }
        }
    )
    data = frames([customer("c1")], [invoice("i1", "c1", D(2025, 6, 25))])  # s1..s4 on 6-26 .. 6-29
    sent = pl.DataFrame([_sent("c1", ["i1"], "s1", T(2025, 6, 26, 14))])
    result = run(data, pol=pol, sent=sent, horizon_days=5)
    assert [r["step"] for r in rows(result)] == ["s4"]
    skipped = result.skipped.to_dicts()
    assert sorted((s["code"], s["step"]) for s in skipped) == [
        ("already-sent", "s1"),
        ("catch-up:superseded", "s2"),
        ("catch-up:superseded", "s3"),
    ]
    again = pl.DataFrame(
        [_sent("c1", ["i1"], "s1", T(2025, 6, 26, 14)), _sent("c1", ["i1"], "s4", T(2025, 7, 1, 14))]
    )
    assert rows(run(data, pol=pol, sent=again, horizon_days=5)) == []


def test_catch_up_gives_up_on_steps_too_late() -> None:
    import polars as pl

    pol = policy(catch_up={"max_late_days": 3})
    data = frames([customer("c1")], [invoice("i1", "c1", D(2025, 6, 10))])  # final on 6-20: 11 days late
    sent = pl.DataFrame(
        schema={
            "customer_id": pl.String,
            "invoice_ids": pl.List(pl.String),
            "step": pl.String,
            "sent_at": pl.Datetime("us", "UTC"),
        }
    )
    result = run(data, pol=pol, sent=sent, horizon_days=5)
    assert rows(result) == []
    assert "catch-up:too-late" in result.skipped["code"].to_list()


# --- stale data guard ------------------------------------------------------------------------------


def test_stale_payments_refuse_to_plan_unless_forced() -> None:
    pol = policy(stale_after_days=3)
    data = frames(
        [customer("c1")],
        [invoice("i1", "c1", D(2025, 7, 10), issue=D(2025, 6, 30))],
        [payment("p1", "c1", None, T(2025, 6, 1, 12), 100)],
    )
    with pytest.raises(
        StaleDataError,
        match=r"payments end on 2025-06-01 but invoices run to 2025-06-30 "
        r"\(29 days later",
    ):
        run(data, pol=pol)
    forced = run(data, pol=pol, force=True)
    assert forced.summary.stale_forced
    assert forced.schedule.height > 0


# --- experiments, ladder selection ------------------------------------------------------------------


def test_holdout_share_is_deterministic_per_ladder() -> None:
    pol = policy(
        ladders={
            "basic": {
                "holdout_share": 0.5,
                "steps": [{"name": "pre_due", "kind": "pre_due", "offset": -3, "channels": ["email"]}],
            }
        }
    )
    cust = [customer(f"c{k}") for k in range(40)]
    data = frames(cust, [invoice(f"i{k}", f"c{k}", D(2025, 7, 10)) for k in range(40)])
    first = run(data, pol=pol, horizon_days=9)
    arms = dict(zip(first.schedule["customer_id"], first.schedule["arm"], strict=True))
    assert 10 < sum(a == "holdout" for a in arms.values()) < 30
    again = run(data, pol=pol, horizon_days=9)
    assert again.schedule.equals(first.schedule)
    held = rows(first, arm="holdout")[0]
    assert "holdout" in codes(held)
    assert first.summary.holdout == sum(a == "holdout" for a in arms.values())


def test_ladder_selection_by_treatment_risk_and_autopay() -> None:
    from billcx.plan import default_policy

    cust = [customer("rel"), customer("late"), customer("auto", autopay=True), customer("std")]
    inv = [
        invoice("i1", "rel", D(2025, 7, 20)),
        invoice("i2", "late", D(2025, 7, 20)),
        invoice("i3", "auto", D(2025, 7, 20)),
        invoice("i4", "std", D(2025, 7, 20)),
    ]
    segs = [
        segment("rel", "reliable", value="high"),
        segment("late", late=0.8),
        segment("auto", late=0.9),
        segment("std"),
    ]
    pays = [payment("p", "std", None, T(2025, 6, 30, 12), 100)]
    result = run(frames(cust, inv, pays), segs, pol=default_policy(), horizon_days=30)
    ladders = {r["customer_id"]: r["ladder"] for r in rows(result) if r["ladder"] != "thank_you"}
    assert ladders == {"rel": "gentle", "late": "firm", "auto": "autopay", "std": "standard"}
    late_first = min(rows(result, customer_id="late"), key=lambda r: r["send_at_utc"])
    assert late_first["kind"] == "payment_plan_offer" and local_date(late_first) < D(2025, 7, 20)
    assert all(local_date(r) > D(2025, 7, 20) for r in rows(result, customer_id="auto"))


def test_invoice_risk_overrides_customer_probability() -> None:
    import polars as pl

    pol = policy(
        rules=[{"ladder": "early", "min_late_probability": 0.5}, {"ladder": "basic"}],
        ladders={
            "basic": {"steps": [{"name": "od", "kind": "overdue", "offset": 3}]},
            "early": {"steps": [{"name": "pre", "kind": "pre_due", "offset": -5}]},
        },
    )
    data = frames(
        [customer("c1")], [invoice("i1", "c1", D(2025, 7, 10)), invoice("i2", "c1", D(2025, 7, 20))]
    )
    risk = pl.DataFrame(
        {"invoice_id": ["i2"], "customer_id": ["c1"], "late_probability": [0.9], "reasons": [["x"]]}
    )
    result = run(data, [segment("c1", late=0.1)], pol=pol, invoice_risk=risk)
    assert {(r["invoice_ids"][0], r["ladder"]) for r in rows(result)} == {("i1", "basic"), ("i2", "early")}


def test_no_rule_matching_is_skipped_as_no_ladder() -> None:
    pol = policy(rules=[{"ladder": "basic", "treatments": ["reliable"]}])
    data = frames([customer("c1")], [invoice("i1", "c1", D(2025, 7, 10))])
    result = run(data, pol=pol)
    assert result.schedule.height == 0 and result.skipped["code"].to_list() == ["no-ladder"]


def test_minimum_balance_per_currency() -> None:
    pol = policy(min_balance={"USD": 5_000})
    data = frames(
        [customer("c1"), customer("c2")],
        [
            invoice("i1", "c1", D(2025, 7, 10), 4_999),
            invoice("i2", "c2", D(2025, 7, 10), 2_500),
            invoice("i3", "c2", D(2025, 7, 10), 2_500),
        ],
    )
    result = run(data, pol=pol)
    assert {r["customer_id"] for r in rows(result)} == {"c2"}
    [skip] = result.skipped.to_dicts()
    assert skip["code"] == "below-minimum"
    assert skip["reason"] == "the open balance of 49.99 USD is below the ladder's minimum of 50.00 USD"


# --- offers, fees, triggers, hand-over ---------------------------------------------------------------


def test_payment_plan_instalments_add_up_exactly() -> None:
    pol = policy(
        ladders={
            "basic": {
                "steps": [
                    {
                        "name": "plan",
                        "kind": "payment_plan_offer",
                        "offset": -5,
                        "offer": {
                            "type": "payment_plan",
                            "instalments": 3,
                            "interval_days": 30,
                            "first_due_days": 7,
                        },
                    }
                ]
            }
        }
    )
    data = frames([customer("c1")], [invoice("i1", "c1", D(2025, 7, 10), 10_001)])
    [msg] = rows(run(data, pol=pol))
    offer = json.loads(msg["offer"])
    assert offer == {
        "type": "payment_plan",
        "currency": "USD",
        "total": 10_001,
        "instalments": [
            {"number": 1, "due_date": "2025-07-14", "amount": 3_334},
            {"number": 2, "due_date": "2025-08-13", "amount": 3_334},
            {"number": 3, "due_date": "2025-09-12", "amount": 3_333},
        ],
    }


def test_payment_plan_respects_minimum_instalment() -> None:
    pol = policy(
        ladders={
            "basic": {
                "steps": [
                    {
                        "name": "plan",
                        "kind": "payment_plan_offer",
                        "offset": -5,
                        "offer": {"type": "payment_plan", "instalments": 4, "min_instalment": {"USD": 2_000}},
                    }
                ]
            }
        }
    )
    data = frames(
        [customer("c1"), customer("c2")],
        [invoice("i1", "c1", D(2025, 7, 10), 5_000), invoice("i2", "c2", D(2025, 7, 10), 3_000)],
    )
    result = run(data, pol=pol)
    two = json.loads(rows(result, customer_id="c1")[0]["offer"])
    assert [i["amount"] for i in two["instalments"]] == [2_500, 2_500]
    [small] = rows(result, customer_id="c2")
    assert small["offer"] is None and "offer:not-offered" in codes(small)


def test_late_fee_percent_with_cap_and_fixed() -> None:
    pol = policy(
        ladders={
            "basic": {
                "steps": [
                    {
                        "name": "od",
                        "kind": "overdue",
                        "offset": 3,
                        "late_fee": {"percent": 1.5, "cap": {"USD": 1_000}},
                    },
                    {"name": "od2", "kind": "overdue", "offset": 8, "late_fee": {"fixed": {"USD": 2_500}}},
                ]
            }
        }
    )
    data = frames(
        [customer("c1"), customer("c2")],
        [invoice("i1", "c1", D(2025, 7, 2), 10_000), invoice("i2", "c2", D(2025, 7, 2), 100_000)],
    )
    result = run(data, pol=pol, horizon_days=20)
    fees = {(r["customer_id"], r["step"]): (r["late_fee"], r["amount_due"]) for r in rows(result)}
    assert fees == {
        ("c1", "od"): (150, 10_150),
        ("c2", "od"): (1_000, 101_000),
        ("c1", "od2"): (2_500, 12_500),
        ("c2", "od2"): (2_500, 102_500),
    }
    assert any(
        r.startswith("fee:late-fee: a late fee of 1.50 USD") for r in rows(result, step="od")[0]["reasons"]
    )


def test_thank_you_after_payment_and_failed_payment_notice() -> None:
    pol = policy(
        triggers=[
            {"name": "thanks", "kind": "thank_you", "on": "payment", "delay_days": 1},
            {"name": "failed", "kind": "failed_payment", "on": "failed_payment", "delay_days": 0},
        ]
    )
    cust = [customer("paid"), customer("fail"), customer("recovered")]
    inv = [
        invoice("i1", "paid", D(2025, 6, 20)),
        invoice("i2", "fail", D(2025, 8, 20), issue=D(2025, 6, 1)),
        invoice("i3", "recovered", D(2025, 8, 20), issue=D(2025, 6, 1)),
    ]
    pays = [
        payment("p1", "paid", "i1", T(2025, 6, 30, 15), 10_000),
        payment("p2", "fail", "i2", T(2025, 7, 1, 13), 10_000, status="failed"),
        payment("p3", "recovered", "i3", T(2025, 7, 1, 13), 10_000, status="failed"),
        payment("p4", "recovered", "i3", T(2025, 7, 1, 15), 10_000),
    ]
    result = run(frames(cust, inv, pays), pol=pol, horizon_days=5)
    got = sorted((r["customer_id"], r["kind"], local_date(r)) for r in rows(result))
    assert got == [
        ("fail", "failed_payment", AS_OF),
        ("paid", "thank_you", AS_OF),
        ("recovered", "thank_you", D(2025, 7, 2)),
    ]
    [thanks] = rows(result, customer_id="paid")
    assert thanks["amount_due"] == 0 and thanks["invoice_ids"] == ["i1"]


def test_final_step_hands_over_to_a_person() -> None:
    pol = policy(
        ladders={
            "basic": {
                "steps": [
                    {"name": "final", "kind": "final_notice", "offset": 5, "channels": ["email"]},
                    {"name": "handover", "kind": "final_notice", "offset": 12, "handover": True},
                ]
            }
        }
    )
    data = frames([customer("c1", consent_email=False)], [invoice("i1", "c1", D(2025, 7, 1))])
    result = run(data, pol=pol)
    [task] = rows(result)
    assert (task["channel"], task["step"], task["send_at_local"]) == (
        "task",
        "handover",
        "2025-07-14T09:00:00-04:00",
    )
    assert result.summary.tasks == 1 and result.summary.messages == 0


# --- windows, keys -----------------------------------------------------------------------------------


def test_for_date_gives_exactly_that_days_rows_of_the_full_plan() -> None:
    data = frames(
        [customer(f"c{k}") for k in range(5)],
        [invoice(f"i{k}", f"c{k}", D(2025, 7, 3 + k)) for k in range(5)],
    )
    full = run(data, horizon_days=30)
    day = D(2025, 7, 7)
    daily = run(data, for_date=day)
    expected = full.schedule.filter(full.schedule["send_at_local"].str.starts_with(day.isoformat()))
    assert daily.schedule.height > 0
    assert daily.schedule.equals(expected)


def test_horizon_limits_the_plan() -> None:
    data = frames([customer("c1")], [invoice("i1", "c1", D(2025, 7, 10))])
    assert [r["step"] for r in rows(run(data, horizon_days=7))] == ["pre_due"]
    assert [r["step"] for r in rows(run(data, horizon_days=30))] == ["pre_due", "overdue_1", "final"]


def test_message_key_is_content_identity_not_run_time() -> None:
    data = frames([customer("c1")], [invoice("i1", "c1", D(2025, 7, 10))])
    early = {r["step"]: r["message_key"] for r in rows(run(data, as_of=D(2025, 7, 1)))}
    later = {r["step"]: r["message_key"] for r in rows(run(data, as_of=D(2025, 7, 9)))}
    assert later["overdue_1"] == early["overdue_1"] and later["final"] == early["final"]
    assert len(set(early.values())) == 3
