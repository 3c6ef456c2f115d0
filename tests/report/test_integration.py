"""The report of a run made by the real stages on a small generated history.

Ingest has no library entry point yet, so its clean tables are written directly from the generator.
"""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pytest

from billcx.export import write_table
from billcx.plan import plan, write_plan
from billcx.render import render, write_bundle
from billcx.report import build_report
from billcx.sample import SampleSettings, generate
from billcx.schema import CUSTOMERS, EVENTS, INVOICES, PAYMENTS
from billcx.segment import segment, write_segment
from billcx.store import CleanData

AS_OF = dt.date(2026, 10, 31)


@pytest.fixture(scope="module")
def real_run(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, list[str], list[str]]:
    """A run folder (clean, segments, plan, bundle, run.json); with the customers' ids and emails."""
    run = tmp_path_factory.mktemp("real") / "run"
    s = generate(SampleSettings(customers=80, seed=9, end=AS_OF))
    for frame, table in ((s.customers, CUSTOMERS), (s.invoices, INVOICES), (s.payments, PAYMENTS),
                         (s.events, EVENTS)):
        write_table(frame, run / "clean" / f"{table.name}.parquet", table=table)
    data = CleanData.load(run / "clean")
    seg = segment(data, as_of=AS_OF)
    write_segment(seg, run / "segments")
    planned = plan(data, seg.customers, as_of=AS_OF, invoice_risk=seg.invoice_risk, force=True)
    write_plan(planned, run / "plan")
    write_bundle(render(planned.schedule, data), run / "bundle")
    (run / "run.json").write_text(json.dumps({"as_of": AS_OF.isoformat()}))
    emails = [e for e in s.customers["email"].to_list() if e]
    return run, s.customers["customer_id"].to_list(), emails


def test_report_of_real_stage_outputs(real_run: tuple[Path, list[str], list[str]]) -> None:
    run, _, emails = real_run
    report = build_report(run)
    status = {s.key: s.available for s in report.summary.sections}
    assert status == {"aging": True, "segments": True, "calibration": True, "schedule": True, "cohorts": True,
                      "rejects": False}  # no ingest in this run: no rejects.csv
    assert report.summary.problems == ()
    head = dict(report.summary.headlines)
    assert head["as of"] == "2026-10-31" and head["customers"] == "80"
    assert int(head["messages rendered"].replace(",", "")) > 0
    assert not any(e in report.html for e in emails)
    assert build_report(run).html == report.html


def test_pseudonymised_real_report_has_no_raw_ids(real_run: tuple[Path, list[str], list[str]]) -> None:
    from plotly.offline import get_plotlyjs

    run, ids, _ = real_run
    page = build_report(run, key=b"k" * 32).html.replace(get_plotlyjs(), "")
    assert not any(i in page for i in ids)
