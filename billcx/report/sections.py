"""The building blocks every chart family returns, and the helpers they share."""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal
from functools import lru_cache

import plotly.graph_objects as go

from billcx.money import exponent, is_currency, to_major

NOT_AVAILABLE = "not available in this run"
_COLORWAY = ("#4c78a8", "#f58518", "#54a24b", "#e45756", "#72b7b2", "#b279a2", "#ff9da6", "#9d755d",
             "#bab0ac", "#eeca3b")


@lru_cache(maxsize=1)
def _template() -> go.layout.Template:
    """A small template: plotly's built-in ones embed ~6 KB per chart and are slow to apply."""
    axis = {"gridcolor": "#e5e8ec", "linecolor": "#c4cad3", "zerolinecolor": "#c4cad3", "automargin": True}
    return go.layout.Template(layout={"colorway": list(_COLORWAY), "paper_bgcolor": "white",
                                      "plot_bgcolor": "white", "xaxis": axis, "yaxis": axis,
                                      "hoverlabel": {"align": "left"}})


@dataclass(frozen=True)
class TableBlock:
    """A small table shown under a chart (all cells already formatted as text).

    Attributes:
        caption: one line above the table.
        header: column titles.
        rows: the cells, row by row.
        numeric: indexes of right-aligned (numeric) columns.
    """

    caption: str
    header: tuple[str, ...]
    rows: tuple[tuple[str, ...], ...]
    numeric: frozenset[int] = frozenset()


@dataclass(frozen=True, eq=False)
class Section:
    """One part of the report: charts, tables, notes and the facts the terminal summary prints.

    Attributes:
        key: html anchor and prefix of its chart ids (stable: the HTML is byte-identical on rebuild).
        title: heading.
        intro: one or two sentences on what the section shows and how it was computed.
        figures: plotly figures, in order.
        tables: tables under the figures.
        notes: caveats, and what is not available in this run and why.
        facts: ``(label, value)`` pairs for the terminal summary.
    """

    key: str
    title: str
    intro: str
    figures: tuple[go.Figure, ...] = ()
    tables: tuple[TableBlock, ...] = ()
    notes: tuple[str, ...] = ()
    facts: tuple[tuple[str, str], ...] = field(default=())

    @property
    def available(self) -> bool:
        """Whether the section shows anything beyond its notes."""
        return bool(self.figures or self.tables)


def unavailable(key: str, title: str, intro: str, why: str) -> Section:
    """A section with nothing to show, saying plainly why."""
    return Section(key=key, title=title, intro=intro, notes=(f"{NOT_AVAILABLE}: {why}",))


def major(minor: int, currency: str) -> Decimal:
    """Exact major-unit amount (unknown currency codes are taken as 2 decimals)."""
    if is_currency(currency):
        return to_major(minor, currency)
    return Decimal(minor).scaleb(-2)


def money_text(minor: int | None, currency: str | None) -> str:
    """``1,234.56 USD`` (major units, thousands separators, the currency's own decimals)."""
    if minor is None or currency is None:
        return "-"
    digits = exponent(currency) if is_currency(currency) else 2
    return f"{major(minor, currency):,.{digits}f} {currency}"


def count_text(n: int | None) -> str:
    """``12,345`` or ``-``."""
    return "-" if n is None else f"{n:,}"


def percent_text(x: float | None, digits: int = 1) -> str:
    """``12.3%`` or ``-``."""
    return "-" if x is None else f"{100 * x:.{digits}f}%"


def style(fig: go.Figure, *, title: str, height: int = 380, x_title: str = "",
          y_title: str = "") -> go.Figure:
    """Common layout: one template, fixed size and margins, titled axes."""
    fig.update_layout(template=_template(), title={"text": title, "x": 0.0}, height=height,
                      margin={"l": 60, "r": 20, "t": 50, "b": 50}, legend={"orientation": "h", "y": -0.2},
                      font={"family": "system-ui, -apple-system, Segoe UI, sans-serif", "size": 12})
    if x_title:
        fig.update_xaxes(title_text=x_title)
    if y_title:
        fig.update_yaxes(title_text=y_title)
    return fig
