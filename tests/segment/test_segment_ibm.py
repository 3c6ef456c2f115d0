"""The risk model on the IBM accounts-receivable export: a leak-free time split lands in the high 0.8s.

The export is read by ``billcx ingest`` with ``examples/ibm_receivables/mapping.toml``, which
ignores the outcome columns ``DaysToSettle`` and ``DaysLate``.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from billcx.ingest import ingest, load_mapping
from billcx.segment import segment
from billcx.store import CleanData

CSV = Path("ibm_accounts_receivable") / "WA_Fn-UseC_-Accounts-Receivable.csv"
MAPPING = Path(__file__).resolve().parents[2] / "examples" / "ibm_receivables" / "mapping.toml"


@pytest.mark.shared
def test_time_split_auc_is_high_but_not_leaky(shared_datasets: Path) -> None:
    clean = ingest([shared_datasets / CSV], mapping=load_mapping(MAPPING))
    assert clean.invoices.height == 2466 and clean.rejects.height == 0
    result = segment(CleanData.from_frames(clean.customers, clean.invoices, clean.payments))
    risk = result.model_report["risk"]
    assert risk["method"] == "logistic"
    ev = risk["evaluation"]
    assert 0.80 <= ev["auc"] <= 0.93, f"AUC {ev['auc']:.3f}: above 0.93 means an outcome leaked into features"
    assert ev["brier"] < ev["brier_base_rate"]
    assert ev["validation_rows"] > 400 and ev["calibration_from"] < ev["validation_from"]
    assert result.customers.height == 100
    assert not any("suspiciously high" in w for w in result.warnings)
