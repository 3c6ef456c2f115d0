"""``render()``: the schedule and the clean data in, a :class:`RenderResult` out.

Holdout rows are counted and skipped; task rows become hand-over rows; every other row is joined
with its customer and invoices once (polars), then rendered row by row, in-process or on a pool of
worker processes that each compile the templates once.  Rows are processed in message-key order and
chunks are collected in order, so the result is identical whatever the number of workers.
"""

from __future__ import annotations

import logging
import multiprocessing
from collections.abc import Callable, Iterator
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import polars as pl

from billcx.money import major_expr
from billcx.render.context import prepare, rows_of
from billcx.render.manifest import manifest_frame, task_manifest_rows
from billcx.render.renderer import ChunkOutput, Failure, Renderer
from billcx.render.result import BodyStore, RenderCounts, RenderResult
from billcx.render.settings import RenderSettings
from billcx.render.tables import FAILURES, PUSH_OUTBOX, SMS_OUTBOX, TASKS
from billcx.schema import MANIFEST, SCHEDULE
from billcx.store import CleanData

logger = logging.getLogger(__name__)

ProgressCallback = Callable[[str, int, int], None]
CHUNK_ROWS = 2_000
MIN_PARALLEL_ROWS = 20_000  # below this, starting worker processes (imports, template compiles) costs more

_WORKER: Renderer | None = None
_MANIFEST_NAMES = tuple(MANIFEST.names)
_SMS_NAMES = tuple(SMS_OUTBOX.names)
_PUSH_NAMES = tuple(PUSH_OUTBOX.names)


def _init_worker(settings: RenderSettings, templates: Path | None) -> None:
    global _WORKER
    _WORKER = Renderer(settings, templates)


def _render_chunk(chunk: pl.DataFrame) -> ChunkOutput:
    assert _WORKER is not None
    return _WORKER.render_rows(rows_of(chunk))


def _chunks(frame: pl.DataFrame) -> Iterator[pl.DataFrame]:
    for start in range(0, frame.height, CHUNK_ROWS):
        yield frame.slice(start, CHUNK_ROWS)


def _outputs(prepared: pl.DataFrame, settings: RenderSettings, templates: Path | None, workers: int,
             on_progress: ProgressCallback | None) -> Iterator[ChunkOutput]:
    total = prepared.height
    done = 0
    if workers > 1 and total >= MIN_PARALLEL_ROWS:
        # spawn, not fork: forking a process that runs polars' thread pool can deadlock.
        ctx = multiprocessing.get_context("spawn")
        with ProcessPoolExecutor(max_workers=workers, mp_context=ctx, initializer=_init_worker,
                                 initargs=(settings, templates)) as pool:
            for out in pool.map(_render_chunk, _chunks(prepared)):
                done += len(out.rendered) + len(out.failures)
                if on_progress:
                    on_progress("render", done, total)
                yield out
        return
    renderer = Renderer(settings, templates)
    for chunk in _chunks(prepared):
        out = renderer.render_rows(rows_of(chunk))
        done += chunk.height
        if on_progress:
            on_progress("render", done, total)
        yield out


def _tasks(rows: pl.DataFrame, data: CleanData) -> pl.DataFrame:
    if rows.is_empty():
        return TASKS.empty()
    cust = data.customers.select("customer_id", "name", "email", "phone").join(
        rows.lazy().select("customer_id").unique(), on="customer_id", how="semi").collect()
    currencies = rows["currency"].unique().drop_nulls().to_list()
    amount = major_expr("amount_due", "currency", currencies)
    n = pl.col("invoice_ids").list.len().fill_null(0)
    summary = pl.format("{} ({}): follow up personally on {} invoice(s), {} {} remaining",
                        pl.col("kind"), pl.col("step"), n, amount.fill_null("0"),
                        pl.col("currency").fill_null(""))
    out = (rows.join(cust, on="customer_id", how="left")
           .with_columns(summary.str.strip_chars().alias("summary"),
                         pl.col("send_at_utc").alias("due_at_utc"),
                         pl.col("send_at_local").alias("due_at_local")))
    return TASKS.conform(out).sort("message_key")


def _duplicates(frame: pl.DataFrame) -> tuple[pl.DataFrame, list[Failure]]:
    dup = pl.col("message_key").is_duplicated()
    bad = frame.filter(dup)
    failures = [Failure(r["message_key"], r["customer_id"], r["channel"], r["template"],
                        "duplicate-key", "message_key occurs more than once in the schedule")
                for r in bad.iter_rows(named=True)]
    return frame.filter(~dup), failures


def render(schedule: pl.DataFrame, data: CleanData, *, settings: RenderSettings | None = None,
           templates: Path | None = None, on_progress: ProgressCallback | None = None,
           workers: int = 1) -> RenderResult:
    """Render every planned message of ``schedule``.

    Args:
        schedule: the plan's schedule (SCHEDULE contract; extra columns are ignored).
        data: the clean tables (customers for contact details and locale, invoices for the lines).
        settings: sender, links, opt-out and letter settings (defaults: :class:`RenderSettings`).
        templates: a template pack folder; None for the default pack.
        on_progress: called as ``on_progress("render", done, total)`` after each chunk.
        workers: processes to render with (>1 only pays off for several thousand messages).

    Returns:
        The manifest, failures, SMS / push / task rows, counts and the file bodies.  A message that
        cannot be rendered is a failure row, never an exception.
    """
    settings = settings or RenderSettings()
    sched = SCHEDULE.conform(schedule)
    holdout = sched.filter(pl.col("arm") == "holdout").height
    active, dup_failures = _duplicates(sched.filter(pl.col("arm") != "holdout"))
    is_task = pl.col("channel") == "task"
    task_rows = active.filter(is_task).sort("message_key")
    prepared = prepare(active.filter(~is_task), data.customers, data.invoices)
    store = BodyStore()
    # Rows are kept as tuples in contract order: a third of the memory of dicts at 100,000 rows.
    manifest_rows: list[tuple[object, ...]] = []
    sms_rows: list[tuple[object, ...]] = []
    push_rows: list[tuple[object, ...]] = []
    failures: list[Failure] = list(dup_failures)
    by_channel: dict[str, int] = {}
    fallbacks = hidden = segments = over_budget = 0
    for out in _outputs(prepared, settings, templates, workers, on_progress):
        failures.extend(out.failures)
        for r in out.rendered:
            manifest_rows.append(tuple(r.manifest[n] for n in _MANIFEST_NAMES))
            ch = r.manifest["channel"]
            by_channel[ch] = by_channel.get(ch, 0) + 1
            if r.body is not None:
                store.add(str(r.manifest["path"]), r.body, str(r.manifest["sha256"]))
            if r.sms is not None:
                sms_rows.append(tuple(r.sms[n] for n in _SMS_NAMES))
                segments += int(r.sms["segments"])
                over_budget += int(r.sms["segments"]) > settings.sms_segment_budget
            if r.push is not None:
                push_rows.append(tuple(r.push[n] for n in _PUSH_NAMES))
            fallbacks += r.fell_back
            hidden += r.lines_hidden
    tasks = _tasks(task_rows, data)
    manifest_rows.extend(tuple(d[n] for n in _MANIFEST_NAMES) for d in task_manifest_rows(task_rows))
    failures.sort(key=lambda f: f.message_key)
    counts = RenderCounts(scheduled=sched.height, holdout=holdout, rendered=len(manifest_rows) - tasks.height,
                          tasks=tasks.height, failed=len(failures), by_channel=by_channel,
                          sms_segments=segments, template_fallbacks=fallbacks, lines_hidden=hidden,
                          sms_over_budget=over_budget)
    if counts.failed:
        logger.warning("%d of %d messages failed to render", counts.failed, sched.height - holdout)
    return RenderResult(
        manifest=manifest_frame(manifest_rows),
        failures=pl.DataFrame([f.__dict__ for f in failures], schema=FAILURES.schema, orient="row")
        if failures else FAILURES.empty(),
        sms=pl.DataFrame(sms_rows, schema=SMS_OUTBOX.schema, orient="row").sort("message_key")
        if sms_rows else SMS_OUTBOX.empty(),
        push=pl.DataFrame(push_rows, schema=PUSH_OUTBOX.schema, orient="row").sort("message_key")
        if push_rows else PUSH_OUTBOX.empty(),
        tasks=tasks, counts=counts, bodies=store)
