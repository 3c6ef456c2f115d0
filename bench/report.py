"""Printing a benchmark report as plain text tables (stdout)."""

from __future__ import annotations

from typing import Any

_COLUMNS = ("step", "status", "proc wall s", "work wall s", "CPU s", "peak RSS MiB", "notes")


def _fmt(value: Any, digits: int = 2) -> str:
    if value is None:
        return "-"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, float):
        return f"{value:,.{digits}f}"
    if isinstance(value, int):
        return f"{value:,}"
    return str(value)


def _notes(name: str, step: dict[str, Any]) -> str:
    if step.get("status") != "ok":
        return str(step.get("reason", ""))[:90]
    d = step.get("details", {})
    if name == "segment":
        return f"{_fmt(d.get('customers'))} customers, risk {d.get('risk_method')}"
    if name == "plan":
        return f"{_fmt(d.get('messages'))} messages, {_fmt(d.get('customers'))} customers"
    if name == "render":
        rendered, failed = _fmt(d.get("rendered")), _fmt(d.get("failed"))
        return f"{rendered} rendered, {failed} failed, {d.get('workers')} worker(s)"
    if name == "billcx_summary":
        return f"agrees with pandas: {d.get('agrees_with_pandas')}"
    return ", ".join(f"{k} {_fmt(v)}" for k, v in d.items() if isinstance(v, int))


def _table(rows: list[tuple[str, ...]]) -> str:
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    lines = []
    for n, row in enumerate(rows):
        cells = [
            c.ljust(w) if i in (0, 1, len(row) - 1) else c.rjust(w)
            for i, (c, w) in enumerate(zip(row, widths, strict=True))
        ]
        lines.append("  ".join(cells).rstrip())
        if n == 0:
            lines.append("  ".join("-" * w for w in widths))
    return "\n".join(lines)


def print_report(report: dict[str, Any]) -> None:
    """Print the steps, pipeline totals, ratios and goals of a report."""
    ds = report["dataset"]
    c = ds["counts"]
    m = report["machine"]
    print(
        f"dataset: {_fmt(c['invoices'])} invoices, {_fmt(c['customers'])} customers, "
        f"{_fmt(c['payments'])} payments, {_fmt(c.get('events', 0))} events (seed {ds['seed']}); "
        f"as of {report['as_of']}; stages read {report['clean_source']}"
    )
    print(
        f"machine: {m['cpus']} CPUs, {m['mem_total_gb']} GiB; "
        f"load {m['loadavg_start']} -> {m['loadavg_end']}; polars {m['polars']}, pandas {m['pandas']}"
    )
    print()
    rows: list[tuple[str, ...]] = [_COLUMNS]
    for name, step in report["steps"].items():
        proc, work = step.get("process", {}), step.get("work", {})
        rows.append(
            (
                name,
                step["status"],
                _fmt(proc.get("wall_s")),
                _fmt(work.get("wall_s")),
                _fmt(proc.get("cpu_s")),
                _fmt(proc.get("tree_peak_rss_mb"), 0),
                _notes(name, step),
            )
        )
    p = report["pipeline"]
    rows.append(
        (
            "pipeline",
            "+".join(p["stages"]) or "-",
            _fmt(p["wall_s"]),
            _fmt(p["work_wall_s"]),
            _fmt(p["cpu_s"]),
            _fmt(p["peak_rss_mb"], 0),
            f"missing: {', '.join(p['missing'])}" if p["missing"] else "",
        )
    )
    print(_table(rows))
    print()
    print("ratios:")
    for key, value in report["ratios"].items():
        print(f"  {key}: {_fmt(value, 3)}")
    print()
    goal_rows: list[tuple[str, ...]] = [("goal", "status", "measured", "target", "what")]
    for g in report["goals"]:
        goal_rows.append(
            (g["id"], g["status"], f"{_fmt(g['measured'])} {g['unit']}".strip(), g["target"], g["goal"])
        )
    print(_table(goal_rows))
