"""Calendars, time zones and the DST rule (spring gaps, autumn folds) in several zones."""

from __future__ import annotations

import datetime as dt
import zoneinfo

import polars as pl
import pytest
from plan_scenarios import customer, frames, invoice, local_date, policy, rows, run

from billcx.plan.calendar import add_business_days, build_calendars, next_sendable
from billcx.plan.tz import localize

D = dt.date

# (zone, spring-forward day, autumn fall-back day, a local time inside the gap, one inside the fold)
TRANSITIONS = [
    ("America/New_York", D(2025, 3, 9), D(2025, 11, 2), 150, 90),
    ("Europe/Paris", D(2025, 3, 30), D(2025, 10, 26), 150, 150),
    ("Australia/Sydney", D(2025, 10, 5), D(2025, 4, 6), 150, 150),
    ("America/Santiago", D(2025, 9, 7), D(2025, 4, 5), 30, 1410),  # transitions at midnight
]


def _one(zone: str, day: dt.date, minute: int, **kw: str) -> dict[str, object]:
    frame = pl.DataFrame({"d": [day], "m": [minute], "z": [zone]})
    return localize(frame, date="d", minute="m", tz="z", **kw).to_dicts()[0]


@pytest.mark.parametrize(("zone", "spring", "autumn", "gap_min", "fold_min"), TRANSITIONS)
def test_spring_gap_is_shifted_by_the_gap(
    zone: str, spring: dt.date, autumn: dt.date, gap_min: int, fold_min: int
) -> None:
    row = _one(zone, spring, gap_min, gap="shift")
    tz = zoneinfo.ZoneInfo(zone)
    # zoneinfo with fold=0 reads a nonexistent time with the offset before the jump: the same rule.
    wall = dt.datetime.combine(spring, dt.time(gap_min // 60, gap_min % 60), tzinfo=tz)
    assert wall.astimezone(dt.UTC) != wall.replace(fold=1).astimezone(dt.UTC)  # it is a gap
    assert row["send_at_utc"] == wall.astimezone(dt.UTC)
    assert row["dst_reason"].startswith(f"dst:gap: {gap_min // 60:02d}:{gap_min % 60:02d} does not exist")
    local = dt.datetime.fromisoformat(row["send_at_local"])
    assert local == row["send_at_utc"] and local.utcoffset() == row["send_at_utc"].astimezone(tz).utcoffset()


@pytest.mark.parametrize(("zone", "spring", "autumn", "gap_min", "fold_min"), TRANSITIONS)
def test_spring_gap_transition_rule_sends_at_the_first_valid_instant(
    zone: str, spring: dt.date, autumn: dt.date, gap_min: int, fold_min: int
) -> None:
    row = _one(zone, spring, gap_min, gap="transition")
    local = dt.datetime.fromisoformat(row["send_at_local"])
    before = (row["send_at_utc"] - dt.timedelta(minutes=1)).astimezone(zoneinfo.ZoneInfo(zone))
    assert local.minute == 0 and before.utcoffset() != local.utcoffset()


@pytest.mark.parametrize(("zone", "spring", "autumn", "gap_min", "fold_min"), TRANSITIONS)
@pytest.mark.parametrize("fold", ["earliest", "latest"])
def test_autumn_fold_takes_the_chosen_occurrence(
    zone: str, spring: dt.date, autumn: dt.date, gap_min: int, fold_min: int, fold: str
) -> None:
    row = _one(zone, autumn, fold_min, fold=fold)
    tz = zoneinfo.ZoneInfo(zone)
    naive = dt.datetime.combine(autumn, dt.time(fold_min // 60, fold_min % 60))
    want = naive.replace(tzinfo=tz, fold=0 if fold == "earliest" else 1).astimezone(dt.UTC)
    assert row["send_at_utc"] == want
    assert row["send_at_local"][11:16] == f"{fold_min // 60:02d}:{fold_min % 60:02d}"
    assert row["dst_reason"].startswith("dst:fold:") and fold in row["dst_reason"]


def test_ordinary_times_have_no_dst_reason() -> None:
    row = _one("Europe/Paris", D(2025, 7, 14), 10 * 60 + 5)
    assert row == {
        "d": D(2025, 7, 14),
        "m": 605,
        "z": "Europe/Paris",
        "send_at_utc": dt.datetime(2025, 7, 14, 8, 5, tzinfo=dt.UTC),
        "send_at_local": "2025-07-14T10:05:00+02:00",
        "dst_reason": None,
    }


def test_plan_applies_the_dst_rule_when_a_send_falls_in_a_gap() -> None:
    pol = policy(
        send={"default_hour": 2, "spread_minutes": 0, "weekends": False},
        quiet_hours={"default": "none"},
        ladders={"basic": {"steps": [{"name": "pre", "kind": "pre_due", "offset": -1}]}},
    )
    data = frames(
        [customer("c1", timezone="Europe/Paris", country="FR")],
        [invoice("i1", "c1", D(2025, 3, 31), currency="EUR")],
    )
    [msg] = rows(run(data, pol=pol, as_of=D(2025, 3, 28), horizon_days=5))
    assert msg["send_at_local"] == "2025-03-30T03:00:00+02:00"
    assert any(
        r.startswith("dst:gap: 02:00 does not exist on 2025-03-30 in Europe/Paris") for r in msg["reasons"]
    )


def test_calendar_moves_and_reasons() -> None:
    cals = build_calendars(["US", "IL", "DE-BY", "DE-BE"], D(2025, 6, 1), D(2025, 7, 31))
    frame = pl.DataFrame(
        {
            "d": [D(2025, 7, 4), D(2025, 6, 20), D(2025, 6, 19), D(2025, 6, 19)],
            "c": ["US", "IL", "DE-BY", "DE-BE"],
        }
    )
    out = next_sendable(frame, cals, date="d", cal="c", out="n", reasons_out="r").to_dicts()
    assert [r["n"] for r in out] == [D(2025, 7, 7), D(2025, 6, 22), D(2025, 6, 20), D(2025, 6, 19)]
    assert out[0]["r"][0] == (
        "moved:holiday:independence-day: Friday 2025-07-04 is Independence Day in US; "
        "moved to Monday 2025-07-07"
    )
    assert out[1]["r"] == [
        "moved:weekend: Friday 2025-06-20 is a weekend day in IL; moved to Sunday 2025-06-22"
    ]
    assert out[3]["r"] == []


def test_business_day_arithmetic_both_ways() -> None:
    cals = build_calendars(["US"], D(2025, 6, 1), D(2025, 7, 31))
    frame = pl.DataFrame(
        {"d": [D(2025, 7, 3)] * 5 + [D(2025, 7, 5)] * 2, "n": [1, 2, 0, -1, -3, 1, -1], "c": ["US"] * 7}
    )
    out = add_business_days(frame, cals, date="d", n="n", cal="c", out="o")["o"].to_list()
    assert out == [
        D(2025, 7, 7),
        D(2025, 7, 8),
        D(2025, 7, 3),
        D(2025, 7, 2),
        D(2025, 6, 30),
        D(2025, 7, 7),
        D(2025, 7, 3),
    ]


def test_unknown_country_falls_back_to_weekends_with_a_warning() -> None:
    cals = build_calendars(["ZZ"], D(2025, 6, 1), D(2025, 6, 30))
    assert cals.warnings == ("no holiday calendar for country ZZ: weekends only",)


def test_customer_without_zone_gets_the_country_default() -> None:
    pol = policy(send={"default_hour": 10, "spread_minutes": 0, "country_timezones": {"FR": "Europe/Paris"}})
    data = frames(
        [customer("c1", timezone=None, country="FR"), customer("c2", timezone="Not/AZone", country="XX")],
        [invoice("i1", "c1", D(2025, 7, 10), currency="EUR"), invoice("i2", "c2", D(2025, 7, 10))],
    )
    result = run(data, pol=pol, horizon_days=9)
    zones = {r["customer_id"]: (r["timezone"], r["send_at_local"]) for r in rows(result)}
    assert zones == {
        "c1": ("Europe/Paris", "2025-07-07T10:00:00+02:00"),
        "c2": ("UTC", "2025-07-07T10:00:00+00:00"),
    }
    assert all("tz:assumed" in [x.split(": ")[0] for x in r["reasons"]] for r in rows(result))
    assert local_date(rows(result)[0]) == D(2025, 7, 7)
