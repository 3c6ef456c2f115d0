"""Golden schedule for a small fixed scenario (update with BILLCX_UPDATE_GOLDEN=1)."""

from __future__ import annotations

import datetime as dt
import hashlib
import os
import tomllib
from pathlib import Path

import polars as pl
from plan_scenarios import AS_OF, customer, frames, invoice, payment, segment, segments

from billcx.export import Format
from billcx.plan import default_policy_text, plan, write_plan
from billcx.plan.policy import policy_from_mapping

GOLDEN = Path(__file__).parent / "golden"
D = dt.date
T = dt.datetime


def scenario() -> dict[str, object]:
    """Eight customers exercising ladders, merges, holidays, fallbacks, offers, fees, triggers, holds."""
    custs = [
        customer("ca-reliable", country="US", region="CA", timezone="America/Los_Angeles"),
        customer("ny-late", phone="+12125550100", consent_sms=True, preferred_channel="sms"),
        customer(
            "paris",
            country="FR",
            timezone="Europe/Paris",
            consent_email=False,
            phone="+33612345678",
            consent_sms=True,
        ),
        customer(
            "munich",
            country="DE",
            region="BY",
            timezone="Europe/Berlin",
            address_line1="Hauptstr. 1",
            city="Muenchen",
        ),
        customer("sydney", country="AU", region="NSW", timezone="Australia/Sydney", autopay=True),
        customer("tokyo", country="JP", timezone="Asia/Tokyo", do_not_contact=True),
        customer("nozone", country="GB", timezone=None),
        customer("held", country="US", timezone="America/Chicago"),
    ]
    invs = [
        invoice("A-1", "ca-reliable", D(2025, 7, 7), 125_00),
        invoice("A-2", "ca-reliable", D(2025, 7, 7), 80_00),
        invoice("B-1", "ny-late", D(2025, 7, 14), 900_00),
        invoice("B-2", "ny-late", D(2025, 6, 24), 45_00),
        invoice("C-1", "paris", D(2025, 7, 10), 300_00, currency="EUR"),
        invoice("C-2", "paris", D(2025, 6, 1), -50_00, currency="EUR", issue=D(2025, 6, 1)),
        invoice("D-1", "munich", D(2025, 6, 12), 1_000_00, currency="EUR"),
        invoice("E-1", "sydney", D(2025, 6, 30), 60_00, currency="AUD"),
        invoice("F-1", "tokyo", D(2025, 7, 5), 12_000, currency="JPY"),
        invoice("G-1", "nozone", D(2025, 7, 3), 20_00, currency="GBP"),
        invoice("H-1", "held", D(2025, 6, 27), 70_00, hold_until=D(2025, 7, 9)),
        invoice("H-2", "held", D(2025, 7, 20), 30_00, disputed=True),
    ]
    pays = [payment(f"pa{k}", "ca-reliable", None, T(2025, 5, 1 + k, 21), 1_00) for k in range(8)]
    pays += [
        payment("pb", "ny-late", "B-1", T(2025, 6, 30, 16), 100_00),
        payment("pe", "sydney", "E-1", T(2025, 6, 30, 23), 60_00, currency="AUD", status="failed"),
        payment("pg", "nozone", "G-1", T(2025, 6, 30, 9), 5_00, currency="GBP"),
    ]
    segs = [
        segment("ca-reliable", "reliable", value="high"),
        segment("ny-late", "chronic_late", risk="high"),
        segment("paris", "standard", late=0.3),
        segment("munich", "valued_slipping", value="high"),
        segment("sydney", "standard"),
        segment("tokyo", "standard"),
        segment("held", "standard"),
    ]
    sent = pl.DataFrame(
        {
            "customer_id": ["munich"],
            "invoice_ids": [["D-1"]],
            "step": ["pre_due"],
            "sent_at": [T(2025, 6, 7, 8, tzinfo=dt.UTC)],
            "ladder": ["attentive"],
        }
    )
    raw = tomllib.loads(default_policy_text())
    raw["ladders"]["standard"]["holdout_share"] = 0.3
    return {
        "data": frames(custs, invs, pays),
        "segments": segments(segs),
        "sent": sent,
        "policy": policy_from_mapping(raw),
    }


def _run(tmp: Path) -> list[Path]:
    sc = scenario()
    result = plan(
        sc["data"],
        sc["segments"],
        as_of=AS_OF,
        policy=sc["policy"],
        sent=sc["sent"],  # type: ignore[arg-type]
        horizon_days=30,
    )
    paths = write_plan(result, tmp, fmt=Format.CSV)
    return [p for p in paths if p.suffix in (".csv", ".json")]


def test_golden_schedule(tmp_path: Path) -> None:
    written = _run(tmp_path)
    if os.environ.get("BILLCX_UPDATE_GOLDEN") == "1":
        GOLDEN.mkdir(exist_ok=True)
        for p in written:
            (GOLDEN / p.name).write_bytes(p.read_bytes())
    for p in written:
        want = GOLDEN / p.name
        assert want.exists(), f"{want} missing: run with BILLCX_UPDATE_GOLDEN=1"
        assert p.read_text() == want.read_text(), (
            f"{p.name} differs from {want} (BILLCX_UPDATE_GOLDEN=1 updates)"
        )


def test_outputs_are_byte_identical_on_rerun(tmp_path: Path) -> None:
    def digests(folder: Path) -> dict[str, str]:
        sc = scenario()
        result = plan(sc["data"], sc["segments"], as_of=AS_OF, policy=sc["policy"], sent=sc["sent"])  # type: ignore[arg-type]
        return {
            p.name: hashlib.sha256(p.read_bytes()).hexdigest()
            for p in write_plan(result, folder, fmt=Format.XLSX)
        }

    assert digests(tmp_path / "a") == digests(tmp_path / "b")
