"""The ledger as it stood on the as-of date (point-in-time correctness).

Everything the segment stage computes starts from :func:`build_ledger`, which keeps only what was
known on the as-of date ``D``:

* invoices issued on or before ``D`` (void ones dropped);
* payments whose date, in the customer's own time zone, is on or before ``D``;
* an invoice counts as settled on ``D`` only if its ``paid_date`` is on or before ``D``, or if the
  successful payments applied to it by ``D`` cover its amount; a later ``paid_date`` or a ``paid``
  status earned after ``D`` is ignored;
* the export's ``amount_paid`` (which has no date) is used only for invoices without payment rows
  and only when ``D`` is on or after the export's own latest date;
* payments count toward an invoice only in the invoice's currency (there are no exchange rates).

Two export facts carry no date and are taken as they are: an invoice marked ``paid`` with neither a
``paid_date`` nor any payment (settled, lateness unknown) and ``written_off`` (never paid: late once
past due, not part of the open balance).  Refunded payments count as not paid.
"""

from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass

import polars as pl

from billcx.store import CleanData

log = logging.getLogger(__name__)

_DAY = pl.duration(days=1)


@dataclass(frozen=True)
class Ledger:
    """Point-in-time frames for one as-of date.

    Attributes:
        as_of: the as-of date.
        export_date: the latest date anywhere in the export (its own "as of").
        customers: one row per customer known on ``as_of``: ``customer_id, timezone, signup_date,
            autopay, payment_method``.
        invoices: one row per non-void invoice issued on or before ``as_of`` with its state on that
            date: ``settled_on, paid, balance, open, overdue, days_overdue, resolved, late,
            lateness_days, n_payments, undated`` besides the contract columns it needs
            (``invoice_id, customer_id, issue_date, due_date, amount, currency, disputed,
            hold_until``).
        payments: payment attempts dated on or before ``as_of``: ``payment_id, customer_id,
            paid_on`` (local date), ``weekday`` (1 = Monday), ``hour`` (local), ``method, status``.
        receipts: money received on or before ``as_of``: successful payments, plus one receipt per
            invoice settled by ``paid_date`` without payment rows (``customer_id, paid_on, amount,
            currency, has_time``).
        unknown_timezones: time zone names that could not be used (payments read as UTC).
    """

    as_of: dt.date
    export_date: dt.date
    customers: pl.DataFrame
    invoices: pl.DataFrame
    payments: pl.DataFrame
    receipts: pl.DataFrame
    unknown_timezones: tuple[str, ...] = ()


def export_date(data: CleanData) -> dt.date | None:
    """The latest date anywhere in the export: issue, paid and payment dates (UTC)."""
    inv = data.invoices.select(pl.col("issue_date").max().alias("i"), pl.col("paid_date").max().alias("p"))
    pay = data.payments.select(pl.col("paid_at").max().dt.date().alias("a"))
    a, b = pl.collect_all([inv, pay])
    dates = [d for d in (a["i"][0], a["p"][0], b["a"][0]) if d is not None]
    return max(dates) if dates else None


def _localise(frame: pl.DataFrame) -> tuple[pl.DataFrame, tuple[str, ...]]:
    """Add ``local`` (naive local wall time) from ``paid_at`` and the zone in ``_tz``.

    Conversions run once per distinct zone (a handful), never per row or per customer, on a narrow
    (row, instant) frame that is put back in row order afterwards.
    """
    narrow = frame.select("_tz", "paid_at").with_row_index("_row")
    pieces: list[pl.DataFrame] = []
    bad: list[str] = []
    parts = sorted(narrow.partition_by("_tz", as_dict=True).items(), key=lambda kv: str(kv[0][0]))
    for (zone,), part in parts:
        name = zone if isinstance(zone, str) else "UTC"
        instant = pl.col("paid_at")
        try:
            converted = instant.dt.convert_time_zone(name).dt.replace_time_zone(None)
            local = part.select("_row", converted.alias("local"))
        except Exception:  # noqa: BLE001 - polars raises several types for an unknown zone
            bad.append(name)
            local = part.select("_row", instant.dt.replace_time_zone(None).alias("local"))
        pieces.append(local)
    if bad:
        log.debug("%d unknown time zone(s); their payments are read in UTC", len(bad))
    if not pieces:
        return frame.with_columns(pl.col("paid_at").dt.replace_time_zone(None).alias("local")), ()
    in_order = pl.concat(pieces, how="vertical").sort("_row").get_column("local")
    return frame.with_columns(in_order), tuple(sorted(bad))


def _customers(data: CleanData, as_of: dt.date, invoices: pl.DataFrame,
               payments: pl.DataFrame) -> pl.DataFrame:
    """Customers known on ``as_of`` (signed up by then, or already invoiced or paying)."""
    every = data.customers.select(
        "customer_id", "timezone", "signup_date", "autopay", "payment_method"
    ).collect()
    # Distinct ids per table first: one hash pass over each, then a small union.
    active = pl.concat(pl.collect_all([invoices.lazy().select("customer_id").unique(),
                                       payments.lazy().select("customer_id").unique()])).unique()
    signed_up = pl.col("signup_date").is_null() | (pl.col("signup_date") <= as_of)
    known = every.filter(signed_up | pl.col("customer_id").is_in(active.get_column("customer_id").implode()))
    # Ids billed or paying without a customer row still get one (with defaults).
    orphans = active.join(known.select("customer_id"), on="customer_id", how="anti")
    out = pl.concat([known, orphans], how="diagonal") if orphans.height else known
    return out.with_columns(pl.col("autopay").fill_null(False)).unique("customer_id", keep="first") \
        .sort("customer_id")


def _payments(data: CleanData, as_of: dt.date) -> tuple[pl.DataFrame, tuple[str, ...]]:
    """Payments dated on/before ``as_of`` in the customer's zone, with local date, weekday and hour."""
    tz = data.customers.select("customer_id", pl.col("timezone").alias("_tz"))
    # A payment cannot be dated on/before as_of locally if it is more than a day later in UTC.
    bound = dt.datetime.combine(as_of + dt.timedelta(days=2), dt.time(), tzinfo=dt.UTC)
    near = (
        data.payments.select("payment_id", "customer_id", "invoice_id", "paid_at", "amount", "currency",
                             "method", "status")
        .filter(pl.col("paid_at") < bound).join(tz, on="customer_id", how="left").collect()
    )
    local, bad = _localise(near)
    pays = local.with_columns(
        pl.col("local").dt.date().alias("paid_on"),
        pl.col("local").dt.weekday().cast(pl.Int8).alias("weekday"),
        pl.col("local").dt.hour().cast(pl.Int8).alias("hour"),
    ).filter(pl.col("paid_on") <= as_of).drop("local", "_tz")
    return pays, bad


def _applied(pays: pl.DataFrame) -> pl.LazyFrame:
    """Successful payments applied to an invoice."""
    return pays.lazy().filter((pl.col("status") == "succeeded") & pl.col("invoice_id").is_not_null())


def _exact_settlement(pays: pl.DataFrame, invoices: pl.DataFrame) -> pl.DataFrame:
    """Settlement dates of invoices paid in several payments: the day the running total covered them.

    Only invoices settled by payments (not by ``paid_date``) and paid in more than one payment need
    this; they are few, so the sort happens on a small subset.
    """
    if invoices.height == 0:
        return pl.DataFrame(schema={"invoice_id": pl.String, "_exact_on": pl.Date})
    return (
        _applied(pays).join(invoices.lazy().select("invoice_id", "currency", pl.col("amount").alias("_due")),
                            on=["invoice_id", "currency"], how="inner")
        .sort("invoice_id", "paid_at", "payment_id")
        .with_columns(pl.col("amount").cum_sum().over("invoice_id").alias("_cum"))
        .group_by("invoice_id")
        .agg(pl.col("paid_on").filter(pl.col("_cum") >= pl.col("_due")).min().alias("_exact_on"))
        .collect()
    )


def _ever_paid(data: CleanData, candidates: pl.DataFrame) -> pl.DataFrame:
    """Which of ``candidates`` (paid, without a paid date) has any successful payment, at any date."""
    if candidates.height == 0:
        return pl.DataFrame(schema={"invoice_id": pl.String, "_ever": pl.Boolean})
    return (
        data.payments.filter((pl.col("status") == "succeeded") & pl.col("invoice_id").is_not_null())
        .join(candidates.lazy().select("invoice_id"), on="invoice_id", how="semi")
        .select("invoice_id").unique().with_columns(pl.lit(True).alias("_ever")).collect()
    )


def build_ledger(data: CleanData, as_of: dt.date, *, grace_days: int = 0,
                 latest: dt.date | None = None) -> Ledger:
    """The point-in-time ledger for ``as_of`` (see the module docstring for the rules).

    Args:
        data: the clean contract tables.
        as_of: only data up to and including this date is used.
        grace_days: days after the due date an invoice may be settled and still count as on time.
        latest: the export's own latest date; default: :func:`export_date` of ``data``.  A shard
            passes the whole export's, so that its invoices are read as in the whole.

    Returns:
        A :class:`Ledger`.
    """
    latest = latest or export_date(data) or as_of
    pays, bad_zones = _payments(data, as_of)
    raw = (
        data.invoices.select("invoice_id", "customer_id", "issue_date", "due_date", "amount", "currency",
                             "amount_paid", "paid_date", "status", "disputed", "hold_until")
        .filter((pl.col("issue_date") <= as_of) & (pl.col("status") != "void")).collect()
    )
    # Payments count toward an invoice only in the invoice's own currency (no exchange rates): the
    # currency is part of the key.  Lean aggregates only: string min/max and n_unique cost double.
    per_invoice = _applied(pays).group_by("invoice_id", "currency").agg(
        pl.col("amount").sum().alias("pay_total"), pl.len().cast(pl.Int64).alias("n_payments"),
        pl.col("paid_on").max().alias("_last_on"), pl.col("paid_on").min().alias("_first_on"))
    inv0 = raw.lazy().join(per_invoice, on=["invoice_id", "currency"], how="left").with_columns(
        pl.col("n_payments").fill_null(0), pl.col("pay_total").fill_null(0)).collect()
    by_payments = (pl.col("paid_date").is_null() | (pl.col("paid_date") > as_of)) & (pl.col("amount") > 0) \
        & (pl.col("pay_total") >= pl.col("amount"))
    exact = _exact_settlement(pays, inv0.filter(by_payments & (pl.col("_first_on") != pl.col("_last_on"))))
    ever = _ever_paid(data, inv0.filter((pl.col("status") == "paid") & pl.col("paid_date").is_null()))
    trust_amount_paid = as_of >= latest
    grace = pl.duration(days=grace_days)
    inv = (
        inv0.lazy()
        .join(exact.lazy(), on="invoice_id", how="left")
        .join(ever.lazy(), on="invoice_id", how="left")
        .with_columns(
            pl.when(by_payments).then(pl.coalesce("_exact_on", "_last_on")).alias("pay_settled_on"),
        )
        .with_columns(
            (pl.col("status") == "written_off").alias("written_off"),
            ((pl.col("status") == "paid") & pl.col("paid_date").is_null() & pl.col("_ever").is_null()).alias(
                "undated"
            ),
            pl.when(pl.col("paid_date").is_not_null() & (pl.col("paid_date") <= as_of))
            .then(pl.col("paid_date"))
            .otherwise(pl.col("pay_settled_on"))
            .alias("settled_on"),
        )
        .with_columns(
            pl.when(pl.col("settled_on").is_not_null() | pl.col("undated"))
            .then(pl.col("amount"))
            .when(pl.col("n_payments") > 0)
            .then(pl.col("pay_total").clip(0, pl.col("amount").abs()))
            .when(pl.lit(trust_amount_paid))
            .then(pl.col("amount_paid"))
            .otherwise(pl.lit(0, dtype=pl.Int64))
            .alias("paid"),
            (
                pl.col("settled_on").is_null()
                & ~pl.col("undated")
                & ~pl.col("written_off")
                & (pl.col("amount") != 0)
            ).alias("open"),
        )
        .with_columns(
            pl.when(pl.col("open")).then(pl.col("amount") - pl.col("paid")).otherwise(0).alias("balance"),
            (pl.col("open") & (pl.col("amount") > 0) & (pl.col("due_date") < as_of)).alias("overdue"),
        )
        .with_columns(
            pl.when(pl.col("overdue"))
            .then((pl.lit(as_of) - pl.col("due_date")).dt.total_days())
            .otherwise(None)
            .alias("days_overdue"),
            (
                (pl.col("amount") > 0)
                & ~pl.col("undated")
                & (pl.col("settled_on").is_not_null() | (pl.col("due_date") + grace < pl.lit(as_of)))
            ).alias("resolved"),
        )
        .with_columns(
            pl.when(~pl.col("resolved"))
            .then(None)
            .when(pl.col("settled_on").is_not_null())
            .then((pl.col("settled_on") - pl.col("due_date")).dt.total_days().clip(0))
            .otherwise((pl.lit(as_of) - pl.col("due_date")).dt.total_days())
            .alias("lateness_days"),
        )
        .with_columns(
            pl.when(~pl.col("resolved"))
            .then(None)
            .when(pl.col("settled_on").is_not_null())
            .then(pl.col("settled_on") > pl.col("due_date") + grace)
            .otherwise(True)
            .alias("late"),
        )
        .drop(
            "pay_settled_on",
            "pay_total",
            "_ever",
            "_exact_on",
            "_last_on",
            "_first_on",
            "amount_paid",
            "paid_date",
            "status",
        )
    ).collect()
    receipts = pl.concat([
        pays.filter(pl.col("status") == "succeeded").select(
            "customer_id", "paid_on", "amount", "currency", pl.lit(True).alias("has_time")),
        inv.filter(pl.col("settled_on").is_not_null() & (pl.col("n_payments") == 0) & (pl.col("amount") > 0))
        .select("customer_id", pl.col("settled_on").alias("paid_on"), "amount", "currency",
                pl.lit(False).alias("has_time")),
    ], how="vertical")
    customers = _customers(data, as_of, inv, pays)
    # Only what later steps read is kept: at 10M invoices every column is hundreds of megabytes.
    pays = pays.select("payment_id", "customer_id", "paid_on", "weekday", "hour", "method", "status")
    inv = inv.drop("written_off")
    return Ledger(as_of=as_of, export_date=latest, customers=customers, invoices=inv, payments=pays,
                  receipts=receipts, unknown_timezones=bad_zones)
