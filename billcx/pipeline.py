"""``billcx run``: ingest, segment, plan, render and report into one dated run folder.

The run is staged in a hidden temporary folder beside its destination and renamed into place only
when every stage succeeded, so a run folder that exists is complete.  A failing stage stops the
run: its partial output is moved to ``run-<date>.failed/`` for inspection (never mistaken for a
complete run) and the run's exit code is that stage's.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import logging
import shutil
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from billcx import __version__
from billcx.atomic import write_text
from billcx.config import to_mapping
from billcx.exitcodes import ExitCode
from billcx.export import Format
from billcx.ingest import SourceSpec, ingest, load_mapping, write_ingest
from billcx.plan import default_policy, load_policy, plan, read_holds, read_sent, write_plan
from billcx.project import ProjectConfig
from billcx.render import render, write_bundle
from billcx.segment import segment, write_segment
from billcx.shard import Shard
from billcx.store import CleanData

log = logging.getLogger(__name__)

ProgressCallback = Callable[[str, int, int], None]
StageCallback = Callable[["StageOutcome"], None]

STAGES = ("ingest", "segment", "plan", "render", "report")


@dataclass(frozen=True)
class StageOutcome:
    """One stage of a run: its exit code, duration and headline figures."""

    name: str
    exit_code: ExitCode
    seconds: float
    summary: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class RunResult:
    """What ``billcx run`` did.

    Attributes:
        run_dir: the complete run folder (None when a stage failed).
        failed_dir: where a failed run's partial output was kept (None on success).
        as_of: the date the run is as of.
        stages: the stages that ran, in order.
    """

    run_dir: Path | None
    failed_dir: Path | None
    as_of: dt.date | None
    stages: tuple[StageOutcome, ...]

    @property
    def exit_code(self) -> ExitCode:
        """The first failing stage's exit code, or OK."""
        for s in self.stages:
            if s.exit_code is not ExitCode.OK:
                return s.exit_code
        return ExitCode.OK


def _sha256(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def run_pipeline(config: ProjectConfig, *, as_of: dt.date | None = None, out: Path | None = None,
                 shard: Shard | None = None, on_progress: ProgressCallback | None = None,
                 on_stage: StageCallback | None = None) -> RunResult:
    """Run every stage into ``<out>/run-<as_of>/`` (replacing an earlier run of the same date).

    Args:
        config: the project configuration (``billcx.project.load_config``).
        as_of: overrides ``[run] as_of``; default: the latest date in the data.
        out: overrides ``[run] out``.
        shard: process only this shard's customers (the folder is named ``run-<date>-shard-I-of-N``).
            Ingest reads everything; segment fits its population figures on all customers; plan's
            send-time priors then see only this shard's segment rows (for plans identical to an
            unsharded run, run segment shards, merge them, then plan shards: docs/scale.md).
        on_progress: progress callback handed to the stages.
        on_stage: called after each stage with its outcome (the CLI prints a line per stage).

    Returns:
        The run result; ``exit_code`` is the first failing stage's.

    Raises:
        ConfigError, UsageError: bad configuration or inputs (nothing is written).
    """
    as_of = as_of or (dt.date.fromisoformat(config.run.as_of) if config.run.as_of else None)
    out_root = out if out is not None else (config.path(config.run.out) or Path("runs"))
    out_root.mkdir(parents=True, exist_ok=True)
    sources = config.input_files()
    mapping_path = config.path(config.inputs.mapping)
    mapping = load_mapping(mapping_path) if mapping_path else None
    policy = load_policy(p) if (p := config.path(config.plan.policy)) else default_policy()
    holds = read_holds(p) if (p := config.path(config.plan.holds)) else None
    sent = read_sent(p) if (p := config.path(config.plan.sent)) else None
    extra_formats = [Format(f) for f in config.run.formats]

    stages: list[StageOutcome] = []
    staging = Path(tempfile.mkdtemp(prefix=".run-", suffix=".tmp", dir=out_root))

    def finish(name: str, code: ExitCode, started: float, summary: dict[str, Any]) -> StageOutcome:
        outcome = StageOutcome(name, code, round(time.perf_counter() - started, 3), summary)
        stages.append(outcome)
        if on_stage is not None:
            on_stage(outcome)
        return outcome

    try:
        started = time.perf_counter()
        # Inputs are named relative to billcx.toml in rejects and reports, so a run's files do not
        # depend on where the project folder lives.
        specs = [SourceSpec(path, name=_display_name(path, config.root)) for path in sources]
        ingested = ingest(specs, mapping=mapping, settings=config.ingest, workdir=staging.parent)
        write_ingest(ingested, staging / "clean")
        outcome = finish("ingest", ingested.exit_code, started,
                         {"rows_read": ingested.report.rows_read, "rows_clean": ingested.report.rows_clean,
                          "rows_rejected": ingested.report.rows_rejected})
        if outcome.exit_code is not ExitCode.OK:
            return _fail(staging, out_root, as_of, stages, shard)

        started = time.perf_counter()
        # Sharded runs read everything: population-level figures (RFM cut points, models, send-time
        # priors) come from all customers, per-customer work only from the shard's.
        data = CleanData.load(staging / "clean")
        as_of = as_of or data.latest_date()
        seg = segment(data, as_of=as_of, settings=config.segment, shard=shard, workdir=staging.parent,
                      chunk_invoices=config.run.chunk_invoices, on_progress=on_progress)
        for fmt in [Format.PARQUET, *extra_formats]:
            write_segment(seg, staging / "segments", fmt=fmt)
        evaluation = seg.model_report.get("risk", {}).get("evaluation", {})
        outcome = finish("segment", seg.exit_code, started, {
            "customers": seg.customers.height, "open_invoices": seg.invoice_risk.height,
            "risk_auc": round(float(evaluation["auc"]), 3) if evaluation.get("auc") is not None else None,
            "treatments": dict(sorted(seg.customers["treatment"].value_counts().iter_rows())),
        })
        if outcome.exit_code is not ExitCode.OK:
            return _fail(staging, out_root, as_of, stages, shard)

        started = time.perf_counter()
        planned = plan(data, seg.customers, as_of=as_of, policy=policy, holds=holds, sent=sent,
                       invoice_risk=seg.invoice_risk, horizon_days=config.plan.horizon_days,
                       force=config.plan.force, shard=shard, on_progress=on_progress)
        for fmt in [Format.CSV, *extra_formats]:
            write_plan(planned, staging / "plan", fmt=fmt)
        treated = planned.schedule.filter(planned.schedule["arm"] == "treatment")
        tasks = treated.filter(treated["channel"] == "task").height
        finish("plan", ExitCode.OK, started, {
            "messages": treated.height - tasks, "tasks": tasks,
            "holdout": planned.schedule.height - treated.height,
            "customers": planned.summary.customers, "skipped": planned.skipped.height,
            "by_channel": dict(sorted(treated.filter(treated["channel"] != "task")["channel"]
                                      .value_counts().iter_rows())),
        })

        started = time.perf_counter()
        rendered = render(planned.schedule, data.shard(shard) if shard else data, settings=config.render,
                          templates=config.path(config.templates.path), on_progress=on_progress,
                          workers=config.templates.workers)
        write_bundle(rendered, staging / "bundle")
        outcome = finish("render", rendered.exit_code, started, to_mapping(rendered.counts))
        if outcome.exit_code is not ExitCode.OK:
            return _fail(staging, out_root, as_of, stages, shard)

        if config.run.report:
            from billcx.report import build_report, write_report

            started = time.perf_counter()
            _write_run_json(staging, as_of, sources, config, stages, shard)
            report = build_report(staging, run_name=_run_name(as_of, shard))
            write_report(report, staging / "report.html")
            outcome = finish("report", report.exit_code, started, {"file": "report.html"})
            if outcome.exit_code is not ExitCode.OK:
                return _fail(staging, out_root, as_of, stages, shard)

        _write_run_json(staging, as_of, sources, config, stages, shard)
        target = out_root / _run_name(as_of, shard)
        _replace_dir(staging, target)
        return RunResult(run_dir=target, failed_dir=None, as_of=as_of, stages=tuple(stages))
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise


def _display_name(path: Path, root: Path) -> str:
    try:
        return path.resolve().relative_to(root.resolve()).as_posix()
    except ValueError:
        return path.as_posix()


def _run_name(as_of: dt.date | None, shard: Shard | None) -> str:
    name = f"run-{as_of.isoformat()}" if as_of else "run-undated"
    return name + (f"-shard-{shard.index}-of-{shard.count}" if shard else "")


def _replace_dir(staging: Path, target: Path) -> None:
    if target.exists():
        old = target.with_name(f".{target.name}.old")
        shutil.rmtree(old, ignore_errors=True)
        target.rename(old)
        staging.rename(target)
        shutil.rmtree(old, ignore_errors=True)
    else:
        staging.rename(target)


def _fail(staging: Path, out_root: Path, as_of: dt.date | None, stages: list[StageOutcome],
          shard: Shard | None) -> RunResult:
    failed = out_root / f"{_run_name(as_of, shard)}.failed"
    _replace_dir(staging, failed)
    log.warning("stage %s failed; partial output kept in %s", stages[-1].name, failed)
    return RunResult(run_dir=None, failed_dir=failed, as_of=as_of, stages=tuple(stages))


def _write_run_json(folder: Path, as_of: dt.date | None, sources: list[Path], config: ProjectConfig,
                    stages: list[StageOutcome], shard: Shard | None) -> None:
    """run.json: what went in (file names and checksums), the settings, and each stage's figures.

    No timings: the file must be byte-identical when the same inputs are run again.
    """
    doc = {
        "billcx_version": __version__,
        "as_of": as_of.isoformat() if as_of else None,
        "shard": str(shard) if shard else None,
        "inputs": [{"file": s.name, "sha256": _sha256(s)} for s in sources],
        "settings": {k: v for k, v in to_mapping(config).items() if k != "root"},
        "stages": [{"name": s.name, "exit_code": int(s.exit_code), "summary": s.summary} for s in stages],
    }
    write_text(folder / "run.json", json.dumps(doc, indent=2, sort_keys=True, default=str) + "\n")
