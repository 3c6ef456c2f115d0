"""Benchmark ``billcx.render`` on a synthetic schedule (run on demand, not in CI).

    python bench/bench_render.py                     # 100,000 email + SMS messages, 1 worker
    python bench/bench_render.py --messages 20000 --workers 2 --letters 500 --write
    python bench/bench_render.py --messages 20000 --channels email --letters 0   # one channel

Synthesises customers in six locales with one to three open invoices each and a schedule mixing
every message kind, tone and offer, then reports messages per second for ``render()`` (the
rendering itself), for ``write_bundle()`` when asked, letters per second separately (PDF layout
is far slower than text), and the peak resident memory (``ru_maxrss``).
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import resource
import sys
import tempfile
import time
from pathlib import Path

import polars as pl

from billcx.render import RenderSettings, render, write_bundle
from billcx.schema import MESSAGE_KINDS, SCHEDULE
from billcx.store import CleanData

LOCALES = ("en-US", "en-GB", "es-ES", "fr-FR", "fr-CA", "de-DE")
CURRENCY = {"en-US": "USD", "en-GB": "GBP"}
TONES = ("friendly", "neutral", "firm")


def synthesise(messages: int, *, channels: tuple[str, ...], seed: int = 7) -> tuple[pl.DataFrame, CleanData]:
    """A schedule of ``messages`` rows over ``channels`` and the clean data it refers to."""
    n_cust = max(messages // 2, 1)
    i = pl.col("i")
    loc = i % len(LOCALES)
    customers = pl.DataFrame({"i": pl.int_range(0, n_cust, eager=True)}).select(
        customer_id=pl.format("C{}", i.cast(pl.String).str.zfill(8)),
        name=pl.format("Customer {}", i),
        email=pl.format("c{}@example.com", i),
        phone=pl.format("+1555{}", (i % 10_000_000).cast(pl.String).str.zfill(7)),
        locale=loc.replace_strict(dict(enumerate(LOCALES)), return_dtype=pl.String),
        country=loc.replace_strict(dict(enumerate(("US", "GB", "ES", "FR", "CA", "DE"))),
                                   return_dtype=pl.String),
        address_line1=pl.format("{} Example Street", i),
        postal_code=(i % 90000 + 10000).cast(pl.String),
        city=pl.lit("Springfield"),
        n=(i % 3) + 1,
    )
    currency = customers["locale"].replace_strict(CURRENCY, default="EUR", return_dtype=pl.String)
    inv = (customers.select("customer_id", "n").with_columns(currency=currency)
           .with_columns(k=pl.int_ranges(0, pl.col("n"))).explode("k")
           .with_columns(invoice_id=pl.format("I{}-{}", pl.col("customer_id"), pl.col("k")),
                         issue_date=pl.lit(dt.date(2026, 9, 1)),
                         due_date=pl.lit(dt.date(2026, 10, 1)) + pl.duration(days=pl.col("k") * 7),
                         amount=(pl.col("k") + 1) * 12_345 + 99, amount_paid=pl.lit(0)))
    per_cust = inv.group_by("customer_id").agg(pl.col("invoice_id").sort(), pl.col("amount").sum(),
                                               pl.col("currency").first())
    rows = pl.int_range(0, messages, eager=True)
    kinds = [k for k in MESSAGE_KINDS if k not in ("payment_plan_offer", "extension_offer")]
    sched = (pl.DataFrame({"i": rows})
             .with_columns(customer_id=pl.format("C{}", (pl.col("i") % n_cust).cast(pl.String).str.zfill(8)),
                           channel=(pl.col("i") % len(channels)).replace_strict(dict(enumerate(channels)),
                                                                               return_dtype=pl.String),
                           kind=(pl.col("i") % len(kinds)).replace_strict(dict(enumerate(kinds)),
                                                                         return_dtype=pl.String),
                           tone=(pl.col("i") % 3).replace_strict(dict(enumerate(TONES)),
                                                                 return_dtype=pl.String))
             .join(per_cust, on="customer_id", how="left")
             .with_columns(message_key=pl.format("m{}", pl.col("i").cast(pl.String).str.zfill(9)),
                           invoice_ids=pl.col("invoice_id"),
                           amount_due=pl.when(pl.col("kind").is_in(["thank_you", "feedback"]))
                           .then(0).otherwise(pl.col("amount")),
                           step=pl.lit("s1"), ladder=pl.lit("bench"),
                           send_at_utc=pl.lit(dt.datetime(2026, 11, 3, 9, tzinfo=dt.UTC)),
                           send_at_local=pl.lit("2026-11-03T10:00:00+01:00"), timezone=pl.lit("Europe/Paris"),
                           template=pl.col("kind"), arm=pl.lit("treatment"), reasons=pl.lit(["bench"])))
    # Every 20th message is a payment-plan offer, to exercise offers with exact instalments.
    plan = pl.col("i") % 20 == 0
    sched = sched.with_columns(
        kind=pl.when(plan).then(pl.lit("payment_plan_offer")).otherwise(pl.col("kind")),
        template=pl.when(plan).then(pl.lit("payment_plan_offer")).otherwise(pl.col("template")),
        amount_due=pl.when(plan).then(pl.col("amount")).otherwise(pl.col("amount_due")),
    ).with_columns(offer=pl.when(plan).then(pl.col("amount").map_elements(_plan, return_dtype=pl.String)))
    payments = pl.DataFrame(schema={"payment_id": pl.String, "customer_id": pl.String,
                                    "paid_at": pl.Datetime("us", "UTC"), "amount": pl.Int64,
                                    "currency": pl.String})
    return SCHEDULE.conform(sched), CleanData.from_frames(customers, inv, payments)


def _plan(amount: int) -> str:
    part = amount // 3
    return json.dumps({"type": "payment_plan", "instalments": [
        {"due": "2026-11-15", "amount": amount - 2 * part}, {"due": "2026-12-15", "amount": part},
        {"due": "2027-01-15", "amount": part}]})


def _peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def main(argv: list[str]) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--messages", type=int, default=100_000)
    ap.add_argument("--workers", type=int, default=1)
    ap.add_argument("--channels", default="email,sms",
                    help="comma-separated channels of the main schedule (e.g. email, sms, letter)")
    ap.add_argument("--letters", type=int, default=300, help="letters to time separately (0: skip)")
    ap.add_argument("--write", action="store_true", help="also time write_bundle into a temp folder")
    args = ap.parse_args(argv)
    settings = RenderSettings()
    t0 = time.perf_counter()
    channels = tuple(c.strip() for c in args.channels.split(",") if c.strip())
    schedule, data = synthesise(args.messages, channels=channels)
    t1, c1 = time.perf_counter(), time.process_time()
    result = render(schedule, data, settings=settings, workers=args.workers)
    t2, c2 = time.perf_counter(), time.process_time()
    print(f"synthesised {schedule.height:,} messages in {t1 - t0:.1f}s")
    print(f"render ({'+'.join(channels)}, workers={args.workers}): {result.counts.rendered:,} rendered, "
          f"{result.counts.failed:,} failed in {t2 - t1:.2f}s = "
          f"{result.counts.rendered / (t2 - t1):,.0f} msg/s wall; "
          f"bodies {result.bodies.nbytes / 1e6:.0f} MB")
    if args.workers == 1:  # CPU time of this process: the per-core rate, whatever else the machine runs
        print(f"  CPU {c2 - c1:.2f}s = {result.counts.rendered / (c2 - c1):,.0f} msg per CPU-second")
    if args.write:
        with tempfile.TemporaryDirectory() as tmp:
            t3, c3 = time.perf_counter(), os.times()
            write_bundle(result, Path(tmp) / "bundle")
            t4, c4 = time.perf_counter(), os.times()
        # Kernel time (creating one file per email) depends on the file system, not on billcx:
        # shown apart from the user time billcx spends.
        user, system = c4.user - c3.user, c4.system - c3.system
        print(f"write_bundle: {t4 - t3:.2f}s wall ({user:.2f}s user + {system:.2f}s kernel CPU) = "
              f"{result.counts.rendered / (t4 - t3):,.0f} msg/s; render + write user CPU "
              f"{result.counts.rendered / (c2 - c1 + user):,.0f} msg per CPU-second")
    if args.letters:
        lsched, ldata = synthesise(args.letters, channels=("letter",))
        t5, c5 = time.perf_counter(), time.process_time()
        letters = render(lsched, ldata, settings=settings, workers=args.workers)
        t6, c6 = time.perf_counter(), time.process_time()
        print(f"letters (PDF): {letters.counts.rendered:,} in {t6 - t5:.2f}s = "
              f"{letters.counts.rendered / (t6 - t5):,.0f} letters/s wall, "
              f"{letters.counts.rendered / (c6 - c5):,.0f} per CPU-second")
    print(f"peak memory (ru_maxrss): {_peak_mb():,.0f} MB")
    return 0 if result.ok else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
