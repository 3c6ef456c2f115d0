"""build_report on a tiny hand-made run: sections, hand-computed figures, determinism, privacy."""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import pytest
from plotly.offline import get_plotlyjs

from billcx.errors import UsageError
from billcx.exitcodes import ExitCode
from billcx.privacy import pseudonym
from billcx.report import build_report, load_run, write_report
from billcx.report.build import SECTION_BUILDERS

from .builders import AS_OF, EMAILS, IDS, NAMES, PHONES, REJECTED_VALUE, write_run

KEY = b"0123456789abcdef0123456789abcdef"
SECTION_KEYS = ("aging", "segments", "calibration", "schedule", "cohorts", "rejects")


def _page(html: str) -> str:
    """The report without the embedded plotly.js library (so text checks only see our content)."""
    assert html.count(get_plotlyjs()) == 1
    return html.replace(get_plotlyjs(), "")


def _charts(html: str) -> dict[str, tuple[list, dict]]:
    """Chart id -> (traces, layout), parsed from each Plotly.newPlot call (must be valid JSON)."""
    calls = re.findall(r'Plotly\.newPlot\(\s*"([^"]+)",\s*(\[.*?\]),\s*(\{.*?\}),\s*\{"displaylogo"',
                       _page(html), flags=re.S)
    return {cid: (json.loads(data), json.loads(layout)) for cid, data, layout in calls}


def _section(summary_dict: dict, key: str) -> dict:
    return next(s for s in summary_dict["sections"] if s["key"] == key)


def test_every_section_has_charts_and_plotly_is_embedded_once(run_dir: Path) -> None:
    report = build_report(run_dir)
    page = _page(report.html)
    assert len(SECTION_BUILDERS) == len(SECTION_KEYS)
    for key in SECTION_KEYS:
        assert f'<section id="{key}">' in page
        assert f'id="{key}-chart-1"' in page
    assert "cdn.plot.ly" not in page and "<script src=" not in page
    assert all(s.available for s in report.summary.sections)
    assert report.exit_code is ExitCode.OK


def test_chart_data_is_valid_json_and_hand_computed(run_dir: Path) -> None:
    html = build_report(run_dir).html
    charts = _charts(html)
    assert len(charts) == html.count('class="plotly-graph-div"') == 11
    assert "NaN" not in _page(html) and "Infinity" not in _page(html)
    traces, _ = charts["schedule-chart-1"]
    by_channel = {t["name"]: (t["x"], t["y"]) for t in traces}
    days = ["2026-04-01", "2026-04-02", "2026-04-03"]
    assert by_channel == {"email": (days, [2, 0, 0]), "sms": (days, [0, 1, 0]), "task": (days, [0, 0, 1])}
    aging, _ = charts["aging-chart-1"]
    usd = next(t for t in aging if t["name"] == "USD")
    assert usd["y"] == pytest.approx([100 * 20_000 / 153_450, 0, 100 * 10_000 / 153_450, 0,
                                      100 * 123_450 / 153_450])
    calibration, _ = charts["calibration-chart-1"]
    # The empty bin is left out.
    assert calibration[1]["x"] == [0.2, 0.7] and calibration[1]["y"] == [0.25, 0.6]


def test_headline_numbers_are_hand_computed(run_dir: Path) -> None:
    head = dict(build_report(run_dir).summary.headlines)
    assert head == {"as of": "2026-03-31", "customers": "3", "invoices": "5", "payments": "0",
                    "open invoices": "4", "overdue balance": "1,334.50 USD", "messages planned": "3",
                    "holdout rows": "1", "messages rendered": "2", "rejects": "3"}


def test_aging_table_per_currency_in_major_units(run_dir: Path) -> None:
    page = _page(build_report(run_dir).html)
    usd = ("<tr><td>USD</td><td class=\"n\">1,534.50 USD</td><td class=\"n\">200.00 USD</td>"
           "<td class=\"n\">0.00 USD</td><td class=\"n\">100.00 USD</td><td class=\"n\">0.00 USD</td>"
           "<td class=\"n\">1,234.50 USD</td><td class=\"n\">1,334.50 USD</td><td class=\"n\">2</td></tr>")
    assert usd in page
    assert "<tr><td>EUR</td><td class=\"n\">50.00 EUR</td>" in page
    largest = page.index("Largest overdue balances")
    assert page.index(IDS[1], largest) < page.index(IDS[0], largest)  # 1,234.50 before 100.00


def test_aging_falls_back_to_clean_invoices_without_segments(tmp_path: Path) -> None:
    run = write_run(tmp_path / "run", stages=("clean",))
    (run / "run.json").write_text(json.dumps({"as_of": AS_OF.isoformat()}))
    report = build_report(run)
    aging = _section(report.summary.to_dict(), "aging")
    assert aging["available"]
    assert aging["facts"]["overdue balance"] == "1,334.50 USD"
    assert any("invoice export's amount_paid" in n for n in aging["notes"])


def test_as_of_defaults_to_the_latest_date_in_the_clean_tables(tmp_path: Path) -> None:
    report = build_report(write_run(tmp_path / "run", stages=("clean",)))  # no run.json
    head = dict(report.summary.headlines)
    assert head["as of"] == "2026-03-20 (latest date in the data)"  # I4's issue date; no payments
    assert head["open invoices"] == "4"


def test_rebuild_is_byte_identical_even_from_another_folder(run_dir: Path, tmp_path: Path) -> None:
    first = build_report(run_dir).html
    copy = tmp_path / "elsewhere" / "run"
    shutil.copytree(run_dir, copy)
    assert build_report(run_dir).html == first
    assert build_report(copy).html == first


def test_a_staging_folder_can_be_given_its_final_name(run_dir: Path, tmp_path: Path) -> None:
    staging = tmp_path / ".run-x8f2k.tmp"
    shutil.copytree(run_dir, staging)
    report = build_report(staging, run_name="run")
    assert ".run-x8f2k.tmp" not in report.html
    assert report.html == build_report(run_dir).html


def test_no_personal_data_in_the_report(run_dir: Path) -> None:
    page = build_report(run_dir).html
    for secret in (*NAMES, *EMAILS, *PHONES, REJECTED_VALUE):
        assert secret not in page


def test_pseudonymized_report_has_no_raw_ids(run_dir: Path) -> None:
    report = build_report(run_dir, key=KEY)
    page = _page(report.html)
    for raw in IDS:
        assert raw not in page
    assert pseudonym(IDS[1], KEY) in page
    assert report.summary.pseudonymized
    assert "keyed pseudonyms" in page


def test_partial_run_says_what_is_not_available(tmp_path: Path) -> None:
    run = write_run(tmp_path / "run", stages=("plan",))
    report = build_report(run)
    status = {s.key: s for s in report.summary.sections}
    assert status["schedule"].available
    assert not status["segments"].available
    assert status["segments"].notes == ("not available in this run: segments/customers.parquet is absent "
                                        "(segment stage not run)",)
    assert not status["cohorts"].available and not status["rejects"].available
    page = _page(report.html)
    assert "not available in this run: clean/rejects.csv is absent (ingest stage not run)" in page
    assert report.exit_code is ExitCode.OK


def test_calibration_without_evaluation_says_why(run_dir: Path) -> None:
    rules = {"as_of": "2026-03-31", "risk": {"method": "rules", "reason": "too little history"}}
    (run_dir / "segments" / "model_report.json").write_text(json.dumps(rules))
    cal = _section(build_report(run_dir).summary.to_dict(), "calibration")
    assert cal["available"]  # the score distribution of open invoices is still shown
    assert cal["notes"] == ["Calibration: not available in this run: the risk model used transparent rules: "
                            "too little history."]


def test_segment_output_without_extra_columns_degrades(run_dir: Path) -> None:
    import polars as pl

    from billcx.schema import SEGMENTS

    path = run_dir / "segments" / "customers.parquet"
    pl.read_parquet(path).select(SEGMENTS.names).write_parquet(path)
    seg = _section(build_report(run_dir).summary.to_dict(), "segments")
    assert seg["available"]
    wanted = "Balances and lifetime value per treatment: not available in this run"
    assert any(wanted in n for n in seg["notes"])


def test_unreadable_file_is_listed_and_exit_code_is_data(run_dir: Path) -> None:
    (run_dir / "segments" / "cohorts.parquet").write_bytes(b"not parquet at all")
    report = build_report(run_dir)
    assert report.summary.problems == (
        "segments/cohorts.parquet: not a readable Parquet file (ComputeError)",)
    assert report.exit_code is ExitCode.DATA
    assert not {s.key: s for s in report.summary.sections}["cohorts"].available


def test_missing_run_folder_is_a_usage_error(tmp_path: Path) -> None:
    with pytest.raises(UsageError, match="no such run folder"):
        build_report(tmp_path / "missing")
    (tmp_path / "empty").mkdir()
    with pytest.raises(UsageError, match="not a run folder"):
        load_run(tmp_path / "empty")


def test_write_report_is_atomic_and_utf8(run_dir: Path, tmp_path: Path) -> None:
    report = build_report(run_dir)
    path = write_report(report, tmp_path / "deep" / "r.html")
    assert path.read_text(encoding="utf-8") == report.html
    assert [p.name for p in path.parent.iterdir()] == ["r.html"]
