"""Assembling the self-contained HTML page: plotly.js inlined once, fixed chart ids, no timestamps.

The same run gives byte-identical HTML: chart ids derive from the section key and position, the
page carries the run folder's name (never its absolute path) and no clock reading, and every table
arrives already sorted.  The page works offline (no CDN, no external fonts or styles).
"""

from __future__ import annotations

from html import escape

import plotly.io as pio
from plotly.offline import get_plotlyjs

from billcx import __version__
from billcx.report.sections import Section, TableBlock

_CSS = """
body{font-family:system-ui,-apple-system,"Segoe UI",sans-serif;margin:0;color:#1f2933;background:#f7f8fa}
header,main,footer{max-width:1100px;margin:0 auto;padding:0 24px}
header{padding-top:24px}h1{margin:0 0 4px}
h2{margin-top:40px;border-bottom:1px solid #d9dee5;padding-bottom:4px}
nav{max-width:1100px;margin:12px auto;padding:0 24px}nav a{margin-right:14px;color:#2f5d8a}
.cards{display:flex;flex-wrap:wrap;gap:12px;margin:16px 0}
.card{background:#fff;border:1px solid #d9dee5;border-radius:6px;padding:10px 14px;min-width:140px}
.card .label{font-size:12px;color:#5f6b7a;text-transform:uppercase;letter-spacing:.04em}
.card .value{font-size:18px;font-weight:600;margin-top:2px}
.chart{background:#fff;border:1px solid #d9dee5;border-radius:6px;margin:12px 0;padding:4px}
table{border-collapse:collapse;background:#fff;margin:8px 0 20px;font-size:13px}
caption{text-align:left;font-weight:600;padding:6px 0}
th,td{border:1px solid #d9dee5;padding:4px 8px;text-align:left}
td.n{text-align:right;font-variant-numeric:tabular-nums}
th{background:#eef1f5}.note{color:#5f6b7a}.na{color:#8a4b08}.problem{color:#b42318}
footer{color:#5f6b7a;font-size:12px;padding:32px 24px}
"""

_PLOT_CONFIG = {"displaylogo": False, "responsive": True}


def _table(block: TableBlock) -> str:
    head = "".join(f"<th>{escape(h)}</th>" for h in block.header)
    body = "".join(
        "<tr>" + "".join(f'<td class="n">{escape(c)}</td>' if i in block.numeric else f"<td>{escape(c)}</td>"
                         for i, c in enumerate(row)) + "</tr>\n"
        for row in block.rows)
    return (f"<table><caption>{escape(block.caption)}</caption><thead><tr>{head}</tr></thead>\n"
            f"<tbody>\n{body}</tbody></table>\n")


def _section(section: Section) -> str:
    parts = [f'<section id="{section.key}">\n<h2>{escape(section.title)}</h2>\n'
             f'<p class="note">{escape(section.intro)}</p>\n']
    for note in section.notes:
        css = "na" if "not available in this run" in note else "note"
        parts.append(f'<p class="{css}">{escape(note)}</p>\n')
    for i, fig in enumerate(section.figures, start=1):
        div = pio.to_html(fig, full_html=False, include_plotlyjs=False, div_id=f"{section.key}-chart-{i}",
                          config=_PLOT_CONFIG, validate=False)
        parts.append(f'<div class="chart">{div}</div>\n')
    parts.extend(_table(t) for t in section.tables)
    parts.append("</section>\n")
    return "".join(parts)


def render_page(*, run_name: str, as_of: str | None, stages: tuple[str, ...],
                headlines: tuple[tuple[str, str], ...], sections: tuple[Section, ...],
                problems: tuple[str, ...], pseudonymized: bool) -> str:
    """The complete HTML document.

    Args:
        run_name: the run folder's name (its path is not shown: rebuilding elsewhere gives the same bytes).
        as_of: the run's as-of date, if known.
        stages: stage folders present.
        headlines: headline ``(label, value)`` pairs.
        sections: the report's sections, in order.
        problems: files that could not be used.
        pseudonymized: customer ids were replaced by keyed pseudonyms.

    Returns:
        The page as text.
    """
    title = f"billcx report: {run_name}" + (f" as of {as_of}" if as_of else "")
    has_charts = any(s.figures for s in sections)
    script = f'<script type="text/javascript">{get_plotlyjs()}</script>\n' if has_charts else ""
    stage_text = ", ".join(stages) if stages else "none"
    nav = "".join(f'<a href="#{s.key}">{escape(s.title)}</a>' for s in sections)
    cards = "".join(f'<div class="card"><div class="label">{escape(k)}</div>'
                    f'<div class="value">{escape(v)}</div></div>' for k, v in headlines)
    problem_html = "".join(f'<p class="problem">unusable file: {escape(p)}</p>\n' for p in problems)
    privacy = ("Customer ids are keyed pseudonyms; contact details are not included." if pseudonymized
               else "Contains customer ids and aggregates only; no names or contact details.")
    return (
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
        "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n"
        f"<title>{escape(title)}</title>\n<style>{_CSS}</style>\n{script}</head>\n<body>\n"
        f"<header><h1>{escape(title)}</h1>\n"
        f"<p class=\"note\">Stages in this run: {escape(stage_text)}.</p></header>\n"
        f"<nav>{nav}</nav>\n<main>\n<div class=\"cards\">{cards}</div>\n{problem_html}"
        + "".join(_section(s) for s in sections)
        + f"</main>\n<footer>Made by billcx {escape(__version__)}. {escape(privacy)}</footer>\n"
        "</body>\n</html>\n"
    )
