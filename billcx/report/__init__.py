"""billcx report: a run folder into a self-contained HTML report with charts, and a terminal summary.

Public API::

    from billcx.report import build_report, write_report
    report = build_report("out/2026-10-31")            # or key=read_key("key.txt") to pseudonymise ids
    write_report(report, "out/2026-10-31/report.html")

Sections: aging and overdue balance, segment sizes and value, risk calibration, schedule volume,
cohorts, rejects.  See docs/report.md.
"""

from __future__ import annotations

from billcx.report.build import REPORT_FILE, Report, ReportSummary, SectionStatus, build_report, write_report
from billcx.report.loading import RunData, load_run
from billcx.report.terminal import print_summary

__all__ = ["REPORT_FILE", "Report", "ReportSummary", "RunData", "SectionStatus", "build_report", "load_run",
           "print_summary", "write_report"]
