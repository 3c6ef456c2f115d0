"""The ratios the scale goals are stated in, and each goal of issue 7 evaluated as pass / fail.

A goal is ``pass`` or ``fail`` only when everything it needs was measured at the size it is stated
for; otherwise it is ``not measured`` (a stage missing) or ``not applicable`` (the dataset is
smaller than the goal's size), with the figure still shown for information.
"""

from __future__ import annotations

from typing import Any

MIB_PER_GIB = 1024
# The segment sub-steps that compute customer features (before model fitting), as billcx.segment
# names them through on_progress; with several chunks each name gets a " (chunk i/n)" suffix.
FEATURE_MARKS = ("reading the ledger", "payment behaviour", "RFM")


def _work(report: dict[str, Any], step: str) -> float | None:
    s = report["steps"].get(step, {})
    return s["work"]["wall_s"] if s.get("status") == "ok" else None


def _div(a: float | None, b: float | None) -> float | None:
    return round(a / b, 3) if a is not None and b else None


def _cpu(report: dict[str, Any], step: str) -> float | None:
    s = report["steps"].get(step, {})
    return s["work"]["cpu_s"] if s.get("status") == "ok" else None


def segment_features_s(report: dict[str, Any], *, field: str = "at_s") -> float | None:
    """Seconds (wall ``at_s`` or ``cpu_s``) the segment stage spent computing customer features
    (ledger, behaviour, RFM), summed over its chunks of customers."""
    seg = report["steps"].get("segment", {})
    if seg.get("status") != "ok":
        return None
    total, previous, seen = 0.0, 0.0, False
    for mark in seg.get("marks", []):
        at = mark.get(field)
        if at is None:
            return None
        if mark["name"].split(" (chunk ")[0] in FEATURE_MARKS:
            total, seen = total + at - previous, True
        previous = at
    return round(total, 4) if seen else None


def render_rate(report: dict[str, Any]) -> dict[str, float | None]:
    """Render throughput: messages per second of the whole step (render + write) and per core."""
    step = report["steps"].get("render", {})
    if step.get("status") != "ok":
        return {"messages_per_s": None, "messages_per_s_per_core": None, "messages_per_cpu_s": None}
    rendered = step["details"]["rendered"]
    wall, cpu = step["work"]["wall_s"], step["work"]["cpu_s"]
    workers = max(1, step["details"].get("workers", 1))
    return {
        "messages_per_s": _div(rendered, wall),
        "messages_per_s_per_core": _div(rendered, wall * workers),
        "messages_per_cpu_s": _div(rendered, cpu),
    }


def ratios(report: dict[str, Any]) -> dict[str, Any]:
    """The ratios of a benchmark report (None where a side was not measured)."""
    features = segment_features_s(report)
    floor = _work(report, "floor_groupby")
    pandas = _work(report, "pandas_summary")
    return {
        "segment_features_s": features,
        "segment_features_over_groupby_floor": _div(features, floor),
        "segment_over_groupby_floor": _div(_work(report, "segment"), floor),
        "groupby_floor_over_read_floor": _div(floor, _work(report, "floor_columns")),
        "pandas_over_billcx_summary": _div(pandas, _work(report, "billcx_summary")),
        "lifetimes_over_billcx_summary": _div(
            _work(report, "lifetimes_summary"), _work(report, "billcx_summary")
        ),
        "pandas_over_segment_features": _div(pandas, features),
        # The same on CPU time: steadier than wall time on a loaded machine, blind to parallelism.
        "segment_features_cpu_over_groupby_floor_cpu": _div(
            segment_features_s(report, field="cpu_s"), _cpu(report, "floor_groupby")
        ),
        "pandas_cpu_over_billcx_summary_cpu": _div(
            _cpu(report, "pandas_summary"), _cpu(report, "billcx_summary")
        ),
        "lifetimes_cpu_over_billcx_summary_cpu": _div(
            _cpu(report, "lifetimes_summary"), _cpu(report, "billcx_summary")
        ),
        "lifetimes_summary_agrees_with_pandas": report["steps"]
        .get("lifetimes_summary", {})
        .get("details", {})
        .get("agrees_with_pandas"),
        "billcx_summary_agrees_with_pandas": report["steps"]
        .get("billcx_summary", {})
        .get("details", {})
        .get("agrees_with_pandas"),
        **{f"render_{k}": v for k, v in render_rate(report).items()},
    }


def _goal(
    goal_id: str,
    text: str,
    target: str,
    measured: float | None,
    ok: bool | None,
    *,
    applies: bool = True,
    unit: str = "",
) -> dict[str, Any]:
    if measured is None or ok is None:
        status = "not measured"
    elif not applies:
        status = "not applicable"
    else:
        status = "pass" if ok else "fail"
    return {
        "id": goal_id,
        "goal": text,
        "target": target,
        "measured": measured,
        "unit": unit,
        "status": status,
    }


def evaluate_goals(report: dict[str, Any]) -> list[dict[str, Any]]:
    """Each goal of issue 7 with its measured figure and status."""
    rows = report["dataset"]["counts"]["invoices"]
    steps = report["steps"]
    r = report["ratios"]
    trio = ("ingest", "segment", "plan")
    have_trio = all(steps.get(s, {}).get("status") == "ok" for s in trio)
    trio_wall = round(sum(steps[s]["process"]["wall_s"] for s in trio), 1) if have_trio else None
    trio_peak = max(steps[s]["process"]["tree_peak_rss_mb"] for s in trio) if have_trio else None
    at_10m = rows >= 9_500_000
    duo = ("ingest", "segment")
    have_duo = all(steps.get(s, {}).get("status") == "ok" for s in duo)
    duo_peak = max(steps[s]["process"]["tree_peak_rss_mb"] for s in duo) if have_duo else None
    features = r["segment_features_over_groupby_floor"]
    speedup = r["pandas_over_billcx_summary"]
    lifetimes = r["lifetimes_over_billcx_summary"]
    rate = r["render_messages_per_s_per_core"]
    return [
        _goal(
            "pipeline_wall",
            "10M invoices from CSV through ingest, segment and plan (process wall)",
            "< 60 s",
            trio_wall,
            trio_wall is not None and trio_wall < 60,
            applies=at_10m,
            unit="s",
        ),
        _goal(
            "pipeline_memory",
            "10M invoices: peak memory of ingest, segment and plan",
            "< 6 GiB",
            trio_peak,
            trio_peak is not None and trio_peak < 6 * MIB_PER_GIB,
            applies=at_10m,
            unit="MiB",
        ),
        _goal(
            "segment_features_vs_floor",
            "segment customer features / polars scan + group-by floor",
            "<= 3x",
            features,
            features is not None and features <= 3,
            unit="x",
        ),
        _goal(
            "pandas_speedup",
            "pandas repeat-purchase summary / billcx summary_data",
            ">= 10x",
            speedup,
            speedup is not None and speedup >= 10,
            unit="x",
        ),
        _goal(
            "lifetimes_speedup",
            "lifetimes library summary (what BG/NBD users run) / billcx summary_data",
            ">= 10x",
            lifetimes,
            lifetimes is not None and lifetimes >= 10,
            unit="x",
        ),
        _goal(
            "render_rate",
            "render messages per second per core",
            ">= 5000",
            rate,
            rate is not None and rate >= 5000,
            unit="msg/s/core",
        ),
        _goal(
            "streaming_100m",
            "100M invoices through ingest and segment: peak memory",
            "< 12 GiB",
            duo_peak,
            duo_peak is not None and duo_peak < 12 * MIB_PER_GIB,
            applies=rows >= 95_000_000,
            unit="MiB",
        ),
    ]
