"""Late-payment risk: rules fallback, the fitted model, its evaluation and its reasons."""

from __future__ import annotations

import datetime as dt

import numpy as np
import polars as pl
import pytest
from segment_builders import D, clean, cust, inv

from billcx.segment import SegmentResult, segment
from billcx.segment.features import build_history
from billcx.segment.ledger import build_ledger
from billcx.segment.risk import fit_risk_model, labelled_invoices, sample_by_month
from billcx.segment.settings import RiskSettings
from billcx.store import CleanData


def test_too_little_history_falls_back_to_rules_and_says_so() -> None:
    invoices = [inv("A1", "A", D(2024, 1, 1), D(2024, 1, 31), 1_000, paid=D(2024, 2, 5)),
                inv("A2", "A", D(2024, 2, 1), D(2024, 2, 28), 1_000, paid=D(2024, 2, 20)),
                inv("A3", "A", D(2024, 3, 1), D(2024, 3, 31), 1_000, paid=D(2024, 4, 9)),
                inv("A4", "A", D(2024, 4, 1), D(2024, 4, 30), 1_000)]
    result = segment(clean([cust("A"), cust("N")], invoices), as_of=D(2024, 4, 20))
    risk = result.model_report["risk"]
    assert risk["method"] == "rules"
    assert any(w.startswith("too little history for a risk model (3 invoices with a known outcome, 2 late")
               for w in result.warnings)
    rows = {r["customer_id"]: r for r in result.customers.iter_rows(named=True)}
    # Base rate 2/3, weight 2: (2 + 2 * 2/3) / (3 + 2).
    assert rows["A"]["late_probability"] == pytest.approx((2 + 2 * 2 / 3) / 5, abs=1e-6)
    assert rows["A"]["risk_reasons"] == ["paid 2 of the last 3 invoices late"]
    assert rows["N"]["risk_reasons"] == ["first invoice"]
    assert rows["N"]["late_probability"] == pytest.approx(2 / 3, abs=1e-6)
    assert rows["A"]["risk_method"] == "rules"
    open_row = result.invoice_risk.row(0, named=True)
    # Scored at its issue date (04-01): A1 late and A2 on time were settled; A3 was overdue.
    assert (open_row["invoice_id"], open_row["reasons"]) == (
        "A4", ["paid 1 of the last 2 invoices late", "1 other invoice overdue"])


def test_the_model_is_evaluated_on_a_later_slice(sample_result: SegmentResult) -> None:
    risk = sample_result.model_report["risk"]
    assert risk["method"] == "logistic"
    ev = risk["evaluation"]
    assert 0.65 < ev["auc"] < 0.95
    assert ev["brier"] < ev["brier_base_rate"]
    assert sum(b["invoices"] for b in ev["calibration"]) == ev["validation_rows"]
    assert ev["calibration_from"] < ev["validation_from"]
    assert {c["feature"] for c in risk["coefficients"]} >= {
        "late_share_last_5",
        "other_overdue",
        "first_invoice",
    }
    assert "disputed" not in {c["feature"] for c in risk["coefficients"]}  # undated: would leak


def test_every_score_has_reasons_in_words(sample_result: SegmentResult) -> None:
    customers = sample_result.customers
    assert customers.get_column("late_probability").is_between(0, 1, closed="none").all()
    assert (customers.get_column("risk_reasons").list.len() >= 1).all()
    assert (customers.get_column("risk_reasons").list.len() <= 3).all()
    risk = sample_result.invoice_risk
    assert (risk.get_column("reasons").list.len() >= 1).all()
    overdue = risk.filter(pl.col("days_overdue") > 0)
    assert overdue.height > 0 and (overdue.get_column("late_probability") == 1.0).all()
    for row in overdue.iter_rows(named=True):
        days = row["days_overdue"]
        assert f"invoice is {days} day{'' if days == 1 else 's'} overdue" in row["reasons"]
    words = set(customers.get_column("risk_reasons").explode().drop_nulls())
    assert any(w.startswith("paid ") and w.endswith(" invoices late") for w in words)


def test_fitting_is_deterministic(sample_clean: CleanData) -> None:
    ledger = build_ledger(sample_clean, D(2024, 10, 31))
    first = fit_risk_model(
        ledger, build_history(ledger, history=5, grace_days=0), RiskSettings(), grace_days=0
    )
    second = fit_risk_model(
        ledger, build_history(ledger, history=5, grace_days=0), RiskSettings(), grace_days=0
    )
    assert first.report == second.report
    assert np.array_equal(first.model.coef, second.model.coef)


def test_large_histories_are_sampled_by_month(sample_clean: CleanData) -> None:
    labelled = labelled_invoices(build_ledger(sample_clean, D(2024, 12, 31)), 0)
    sampled = sample_by_month(labelled, max_rows=1000, seed=3)
    assert sampled.height <= 1000 + 24  # one extra row per month at most (ceil)
    assert sampled.equals(sample_by_month(labelled.reverse(), max_rows=1000, seed=3))
    per_month = (
        labelled.group_by(pl.col("t").dt.truncate("1mo")).len().join(
            sampled.group_by(pl.col("t").dt.truncate("1mo")).len(), on="t", suffix="_kept")
        .with_columns((pl.col("len_kept") / pl.col("len")).alias("share"))
    )
    share = 1000 / labelled.height
    assert per_month.get_column("share").is_between(share - 0.02, share + 0.05).all()


def test_training_rows_only_have_outcomes_known_on_the_as_of_date() -> None:
    invoices = [inv("A1", "A", D(2024, 1, 1), D(2024, 1, 31), 1_000, paid=D(2024, 1, 20)),
                inv("A2", "A", D(2024, 2, 1), D(2024, 3, 15), 1_000, paid=D(2024, 3, 1)),
                inv("A3", "A", D(2024, 2, 1), D(2024, 3, 15), 1_000)]
    labelled = labelled_invoices(build_ledger(clean([cust("A")], invoices), D(2024, 3, 10)), 0)
    # A2 was paid early but its due date has not passed: excluded like A3, so early payers don't bias.
    assert labelled.get_column("query_id").to_list() == ["A1"]
    assert labelled.get_column("known_on").to_list() == [dt.date(2024, 1, 20)]


def test_reasons_never_read_backwards() -> None:
    from billcx.segment.features import build_history, features, point_in_time_features
    from billcx.segment.reasons import score
    from billcx.segment.risk import RiskModel

    invoices = [inv(f"A{m}", "A", D(2023, m, 1), D(2023, m, 28), 1_000, paid=D(2023, m, 10))
                for m in range(1, 13)]
    ledger = build_ledger(clean([cust("A", autopay=True)], invoices), D(2024, 6, 30))
    q = pl.DataFrame({"query_id": ["q"], "customer_id": ["A"], "t": [D(2024, 6, 1)], "amount": [1_000],
                      "terms_days": [27], "disputed": [False]})
    frame = point_in_time_features(q, build_history(ledger, history=5, grace_days=0))
    feats = features(5)
    names = [f.name for f in feats]
    # A model in which a long tenure and autopay *raise* the risk: both contradict their expected
    # direction, so neither may be worded as a reason, however strong; the amount (expected) may.
    coef = np.zeros(len(feats))
    coef[names.index("tenure")], coef[names.index("autopay")] = 3.0, 2.0
    coef[names.index("amount")] = 0.1
    model = RiskModel("logistic", feats, 0.3, 2.0, np.zeros(len(feats)), np.ones(len(feats)), coef, 0.0)
    reasons = score(frame, model, reasons=3).get_column("reasons").to_list()[0]
    assert reasons == ["large invoice amount"]
