"""Per-unit outcomes of the hand-made plan (see builders.py for the worked-out table)."""

from __future__ import annotations

from billcx.evaluate.outcomes import unit_outcomes

from .builders import AS_OF, END, outcomes, schedule


def test_every_unit_measured_as_worked_out_by_hand() -> None:
    result = unit_outcomes(schedule(), outcomes(), as_of=AS_OF, window_end=END, grace_days=0)
    rows = {(r["customer_id"], r["ladder"]): r for r in result.units.iter_rows(named=True)}
    got = {k: (r["arm"], r["messages"], r["paid"], r["on_time"], r["days_to_pay"], r["opted_out"])
           for k, r in rows.items()}
    assert got == {
        ("A", "standard"): ("treatment", 2, True, True, 7, False),
        ("B", "standard"): ("holdout", 0, True, False, 19, False),
        ("C", "firm"): ("treatment", 1, False, False, 60, True),
        ("C", "standard"): ("treatment", 1, False, False, 60, True),
        ("D", "standard"): ("holdout", 0, False, None, 60, True),
        ("F", "standard"): ("treatment", 1, True, False, 24, False),
    }
    assert result.excluded == {"no invoices in the schedule rows": 1,
                               "invoices not in the outcomes export": 1, "nothing open at the as-of date": 1}
    assert result.mixed_arms == 0


def test_money_recovered_in_the_window() -> None:
    money = unit_outcomes(schedule(), outcomes(), as_of=AS_OF, window_end=END, grace_days=0).money
    got = {(r["customer_id"], r["ladder"]): (r["currency"], r["recovered"])
           for r in money.iter_rows(named=True)}
    assert got == {("A", "standard"): ("USD", 10_000), ("B", "standard"): ("USD", 5_000),
                   ("C", "firm"): ("USD", 0), ("C", "standard"): ("USD", 0), ("D", "standard"): ("USD", 0),
                   ("F", "standard"): ("USD", 5_000)}


def test_grace_days_make_a_late_payment_on_time() -> None:
    units = unit_outcomes(schedule(), outcomes(), as_of=AS_OF, window_end=END, grace_days=5).units
    on_time = dict(units.filter(units["ladder"] == "standard").select("customer_id", "on_time").iter_rows())
    assert on_time["F"] is True  # paid 03-25, due 03-20 + 5
    assert on_time["B"] is False  # paid 03-20, due 02-15 + 5


def test_a_shorter_window_leaves_later_payments_out() -> None:
    from datetime import date

    units = unit_outcomes(schedule(), outcomes(), as_of=AS_OF, window_end=date(2026, 3, 21),
                          grace_days=0).units
    standard = units.filter(units["ladder"] == "standard")
    got = {r["customer_id"]: (r["paid"], r["days_to_pay"]) for r in standard.iter_rows(named=True)}
    assert got == {"A": (True, 7), "B": (True, 19), "C": (False, 20), "D": (False, 20), "F": (False, 20)}


def test_rows_in_both_arms_count_as_treatment() -> None:
    import polars as pl

    sched = schedule().with_columns(
        pl.when(pl.col("message_key") == "a2").then(pl.lit("holdout")).otherwise(pl.col("arm")).alias("arm"))
    result = unit_outcomes(sched, outcomes(), as_of=AS_OF, window_end=END, grace_days=0)
    assert result.mixed_arms == 1
    a = result.units.filter(pl.col("customer_id") == "A")
    assert a["arm"].to_list() == ["treatment"] and a["messages"].to_list() == [1]
