"""``ingest()``: exports in, the contract's clean tables, rejects and a report out.

Order of work:

1. plan each file (reader, table, columns, separators) and run its two passes (``passes.py``);
2. per table: fill what the mapping or contract supplies (default currency, defaults), derive
   invoice status and amount paid, normalise customer contacts, collapse/reject duplicate ids;
3. references, parents first: customers (given or derived), invoices, payments (given or
   derived from settled invoices), events;
4. rejects (with lines and messages), report, and a check that every row is accounted for.
"""

from __future__ import annotations

import dataclasses
import logging
import tempfile
from collections.abc import Callable, Sequence
from pathlib import Path

import polars as pl

from billcx.errors import UsageError
from billcx.ingest import checks, derive
from billcx.ingest.assemble import Assembly
from billcx.ingest.mapping import MappingSpec
from billcx.ingest.passes import run_passes
from billcx.ingest.result import IngestResult, IngestSettings
from billcx.ingest.sources import SourceSpec, plan_source
from billcx.schema import CUSTOMERS, EVENTS, INVOICES, PAYMENTS
from billcx.shard import Shard

log = logging.getLogger(__name__)
DEFAULT_SETTINGS = IngestSettings()
Progress = Callable[[str, int, int], None]


def _spec(source: Path | str | SourceSpec) -> SourceSpec:
    return source if isinstance(source, SourceSpec) else SourceSpec(Path(source))


def ingest(
    sources: Sequence[Path | str | SourceSpec],
    *,
    mapping: MappingSpec | None = None,
    settings: IngestSettings = DEFAULT_SETTINGS,
    shard: Shard | None = None,
    on_progress: Progress | None = None,
    workdir: Path | str | None = None,
) -> IngestResult:
    """Read billing exports into the data contract's clean tables.

    Memory does not grow with the data (docs/ingest.md, *Speed and memory*): each file's rows are
    sunk to a staging folder on disk, the checks read back only the columns they compare, and the
    clean tables are sunk in their final form; the result refers to those files.

    Args:
        sources: input files (CSV/TSV/TXT, Parquet, XLSX); a :class:`SourceSpec` can name the table.
        mapping: how the exports' columns and conventions map onto the contract (default: names,
            aliases and detection only).
        settings: encoding override, allowed reject rate, detection sample size.
        shard: keep only this shard's customers in the clean tables and rejects. Every row is still
            parsed and checked; rows rejected before a valid customer id is known go to shard 0, so
            the N shards' outputs add up to the unsharded run's (docs/ingest.md, *Sharded ingest*).
        on_progress: called as ``on_progress(task, done, total)``.
        workdir: folder in which the staging folder is made (default: the system's temporary
            folder, ``TMPDIR``). On the output's file system, :func:`write_ingest` links the
            clean tables instead of copying them. The staging folder needs about the size of the
            inputs' typed rows (less than the CSV text) and is removed with the result.

    Returns:
        The clean tables (contract schema, sorted by key, staged on disk), rejects and report.

    Raises:
        UsageError: no inputs, a missing file, an unknown encoding.
        InputError: a file that cannot be read as a table, or lacks required columns.
        ConfigError: the mapping names unknown columns.
    """
    specs = [_spec(s) for s in sources]
    if not specs:
        raise UsageError("no input files given", hint="billcx ingest customers.csv invoices.csv --out DIR")
    mapping = mapping if mapping is not None else MappingSpec()
    report_progress = on_progress or (lambda task, done, total: None)
    if workdir is not None:
        Path(workdir).mkdir(parents=True, exist_ok=True)
    staging = tempfile.TemporaryDirectory(prefix="billcx-ingest-", dir=workdir)
    stage = Path(staging.name)
    try:
        asm = Assembly(mapping=mapping, max_reject_rate=settings.max_reject_rate, stage=stage, shard=shard)
        with tempfile.TemporaryDirectory(prefix="text-", dir=stage) as tmp:
            for i, spec in enumerate(specs):
                report_progress("reading", i, len(specs))
                plan = plan_source(
                    i,
                    spec,
                    mapping,
                    encoding=settings.encoding,
                    sample_rows=settings.sample_rows,
                    workdir=Path(tmp),
                )
                asm.add(plan, run_passes(plan, stage / f"pass1-{i}.parquet"))
            report_progress("reading", len(specs), len(specs))
        report_progress("checking", 0, 1)
        result = _check_and_build(asm)
        report_progress("checking", 1, 1)
    except BaseException:
        staging.cleanup()
        raise
    for i in range(len(specs)):  # the clean tables are written: pass one's rows are not needed
        (stage / f"pass1-{i}.parquet").unlink(missing_ok=True)
    for leftover in stage.glob("*.sorted.parquet"):
        leftover.unlink()
    return dataclasses.replace(result, staging=staging)


def _check_and_build(asm: Assembly) -> IngestResult:
    derive_spec = asm.mapping.derive
    customers = asm.table(CUSTOMERS)
    invoices = asm.table(INVOICES)
    payments = asm.table(PAYMENTS)
    events = asm.table(EVENTS)

    if invoices.frame is not None:
        invoices.frame, derived = derive.invoice_columns(
            invoices.frame,
            status=derive_spec.status_from_paid_date,
            amount_paid=derive_spec.amount_paid_from_paid_date,
        )
        invoices.notes += [f"{d.column} derived for {d.rows} rows: {d.rule}" for d in derived]
    for state in (customers, invoices, payments):
        if state.frame is not None and state.table.key:
            asm.dedupe(state)

    if customers.frame is None and derive_spec.customers == "auto" and invoices.frame is not None:
        customers.frame = derive.customers_from(invoices.frame, payments.frame).lazy()
        customers.ordered = False
        customers.derived_from = "invoices" + (" and payments" if payments.frame is not None else "")
    elif customers.frame is not None:
        carried = asm.carried_columns()
        if carried:
            invoices.notes.append(
                f"customer attributes in the invoice export not used ({', '.join(carried)}): "
                "a customers export was given"
            )
    if customers.frame is not None:
        asm.normalise_contacts(customers, derive_timezone=derive_spec.timezone_from_country)

    cust_ids = customers.keys()
    for state in (invoices, payments, events):
        if state.frame is not None:
            asm.refer(
                state,
                "customer_id",
                cust_ids,
                customers.rejected_keys(),
                parent="customer",
                code="unknown_customer",
            )
    if payments.frame is not None and invoices.frame is not None:
        wrong, found = checks.payments_vs_invoices(
            payments.frame, invoices.frame, invoices.rejected_keys(), input_name=asm.input_name
        )
        asm.found(found)
        asm.drop(payments, wrong)
    if (
        payments.frame is None
        and derive_spec.payments == "auto"
        and invoices.frame is not None
        and "paid_date" in invoices.frame.collect_schema().names()
    ):
        payments.frame = derive.payments_from(invoices.frame)
        payments.ordered = invoices.ordered  # settlement:<invoice_id> keeps the invoices' order
        payments.derived_from = "settled invoices"
        n = payments.frame.select(pl.len()).collect(engine="streaming").item()
        payments.notes.append(
            f"{n} payments derived, one per settled invoice with an "
            f"amount paid (paid_at = paid_date 00:00 UTC, payment_id "
            f"{derive.PAYMENT_PREFIX}<invoice_id>)"
        )
    return asm.finish(customers, invoices, payments, events)
