"""``build_report``: a run folder in, a self-contained HTML report and its summary out."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from billcx.atomic import write_text
from billcx.exitcodes import ExitCode
from billcx.report.aging import aging_section
from billcx.report.calibration import calibration_section
from billcx.report.cohorts import cohorts_section
from billcx.report.headline import headline_numbers
from billcx.report.loading import RunData, load_run
from billcx.report.page import render_page
from billcx.report.rejects import rejects_section
from billcx.report.schedule_volume import schedule_section
from billcx.report.sections import Section
from billcx.report.segment_sizes import segments_section

REPORT_FILE = "report.html"

# The chart families, in the order the page shows them.
SECTION_BUILDERS: tuple[Callable[[RunData], Section], ...] = (
    aging_section, segments_section, calibration_section, schedule_section, cohorts_section, rejects_section)


@dataclass(frozen=True)
class SectionStatus:
    """What one section of the report shows.

    Attributes:
        key: html anchor.
        title: heading.
        available: the section has charts or tables (else only notes saying why not).
        notes: caveats and unavailability reasons.
        facts: ``(label, value)`` pairs for the terminal.
    """

    key: str
    title: str
    available: bool
    notes: tuple[str, ...]
    facts: tuple[tuple[str, str], ...]


@dataclass(frozen=True)
class ReportSummary:
    """The report in data form: what the terminal prints and ``--report-format json`` emits.

    Attributes:
        run_name: the run folder's name.
        as_of: the run's as-of date, if known.
        stages: stage folders present.
        headlines: headline ``(label, value)`` pairs.
        sections: per section, whether it is available and its facts.
        problems: files present but unusable.
        pseudonymized: customer ids were replaced by keyed pseudonyms.
    """

    run_name: str
    as_of: dt.date | None
    stages: tuple[str, ...]
    headlines: tuple[tuple[str, str], ...]
    sections: tuple[SectionStatus, ...]
    problems: tuple[str, ...]
    pseudonymized: bool

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dictionary."""
        return {
            "run": self.run_name,
            "as_of": self.as_of.isoformat() if self.as_of else None,
            "stages": list(self.stages),
            "headlines": dict(self.headlines),
            "sections": [{"key": s.key, "title": s.title, "available": s.available, "notes": list(s.notes),
                          "facts": dict(s.facts)} for s in self.sections],
            "problems": list(self.problems),
            "pseudonymized": self.pseudonymized,
        }


@dataclass(frozen=True)
class Report:
    """The result of :func:`build_report`.

    Attributes:
        html: the self-contained page (byte-identical for the same run folder and key).
        summary: the same content as data.
    """

    html: str
    summary: ReportSummary

    @property
    def exit_code(self) -> ExitCode:
        """DATA (1) when a file of the run could not be used (the report is still written), else OK."""
        return ExitCode.DATA if self.summary.problems else ExitCode.OK


def build_report(run_dir: str | Path, *, key: bytes | None = None, run_name: str | None = None) -> Report:
    """Build the HTML report of a run folder (any subset of clean/, segments/, plan/, bundle/).

    Args:
        run_dir: the run folder.
        key: pseudonymisation key (``billcx.privacy.read_key``); customer ids are replaced by keyed
            pseudonyms everywhere in the report.
        run_name: the name the page shows; default the folder's name.  A pipeline that builds the
            report in a temporary staging folder passes the final name, so the page does not carry
            a random temporary name (and stays byte-identical between runs).

    Returns:
        A :class:`Report`; sections whose inputs are absent say so instead of failing.

    Raises:
        UsageError: ``run_dir`` is missing or is not a run folder.
    """
    run = load_run(run_dir)
    if key is not None:
        run = run.pseudonymized(key)
    sections = tuple(build(run) for build in SECTION_BUILDERS)
    headlines = headline_numbers(run)
    name = run_name if run_name is not None else Path(run_dir).resolve().name
    html = render_page(run_name=name, as_of=run.as_of.isoformat() if run.as_of else None, stages=run.stages,
                       headlines=headlines, sections=sections, problems=run.problems,
                       pseudonymized=key is not None)
    summary = ReportSummary(
        run_name=name, as_of=run.as_of, stages=run.stages, headlines=headlines,
        sections=tuple(SectionStatus(s.key, s.title, s.available, s.notes, s.facts) for s in sections),
        problems=run.problems, pseudonymized=key is not None)
    return Report(html=html, summary=summary)


def write_report(report: Report, path: str | Path) -> Path:
    """Write the report's HTML to ``path`` atomically (UTF-8).

    Args:
        report: what :func:`build_report` returned.
        path: the .html file to write (parent folders are created).

    Returns:
        The path written.
    """
    target = Path(path)
    write_text(target, report.html)
    return target
