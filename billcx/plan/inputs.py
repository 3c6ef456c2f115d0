"""Preparing the plan's inputs: who is in the plan, coded customer ids, invoices with their ladder.

Only customers who owe money at the as-of date or paid recently (a thank-you, a failed charge) can
get a message; every other table is cut to them first, and their text ids are swapped for integer
codes (:class:`billcx.plan.customers.CustomerIndex`) for the heavy joins.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import polars as pl

from billcx.money import major_expr
from billcx.plan.balances import open_balances
from billcx.plan.customers import CustomerIndex, customer_facts, timezone_warnings
from billcx.plan.frames import attach
from billcx.plan.holds import hold_ends
from billcx.plan.ladders import select_ladder
from billcx.plan.policy import Policy
from billcx.plan.tables import HOLDS, SENT
from billcx.plan.tz import local_datetime, local_slots
from billcx.schema import SEGMENTS
from billcx.shard import Shard, filter_shard, shard_ids
from billcx.store import CleanData

_UNUSED_CUSTOMER_COLUMNS = ["name", "locale", "address_line2", "signup_date", "payment_method"]


@dataclass(frozen=True)
class Inputs:
    """The plan's inputs, cut to the customers in the plan, with coded customer ids.

    Attributes:
        index: customer codes <-> text ids, for every customer in the plan's population (with a
            shard too, so a customer has the same code in every shard and in the unsharded plan).
        balances: open invoices with remaining balances (of the shard's customers).
        customers: customer facts (segment, zone, calendar) with the text id in ``cid`` (the shard's).
        population: the same facts for every customer in the population (all shards): what
            population-level estimates such as the send-time priors are learned from.
        events: engagement events of the shard's customers, or None.
        warnings: things a person should know.
    """

    index: CustomerIndex
    balances: pl.DataFrame
    customers: pl.DataFrame
    population: pl.DataFrame
    events: pl.DataFrame | None
    warnings: tuple[str, ...]


def prepare(
    data: CleanData,
    segments: pl.DataFrame | None,
    policy: Policy,
    *,
    as_of: dt.date,
    shard: Shard | None = None,
) -> Inputs:
    """Balances, the customers in the plan and their facts, with coded ids.

    The population (customers who owe money at ``as_of`` or paid recently) always comes from all of
    ``data``; with ``shard``, balances, facts and events are then cut to the shard's customers.
    """
    balances = open_balances(data.invoices, data.payments, as_of=as_of)
    recent = as_of - dt.timedelta(
        days=policy.catch_up.max_late_days + 2 + max((t.delay_days for t in policy.triggers), default=0)
    )
    relevant = pl.concat(
        [
            balances["customer_id"],
            data.payments.filter(pl.col("paid_at").dt.date() >= recent, pl.col("paid_at").dt.date() <= as_of)
            .select("customer_id")
            .collect()["customer_id"],
        ]
    )
    index = CustomerIndex.build(relevant)
    segs = index.encode(SEGMENTS.conform(segments) if segments is not None else SEGMENTS.empty())
    # Names, locales and the like decide nothing in a plan: not read (half the customers table).
    facts = data.customers.drop(_UNUSED_CUSTOMER_COLUMNS, strict=False)
    population, warnings = customer_facts(index.encode(facts).collect(), segs, policy)
    population = population.join(index.table, on="customer_id", how="left")
    cust = population
    events_lf = data.events
    if shard is not None:
        ids = shard_ids(index.table["cid"], shard)
        mine = index.table.filter(pl.col("cid").is_in(ids.implode())).select("customer_id")
        balances = balances.join(ids.to_frame("customer_id"), on="customer_id", how="semi")
        cust = population.join(mine, on="customer_id", how="semi")
        warnings = timezone_warnings(cust, policy) + _unsegmented_elsewhere(population, mine, shard)
        events_lf = filter_shard(events_lf, ids, shard) if events_lf is not None else None
    # Only opt-outs and bounces decide anything: deliveries and clicks are most of an events export.
    events = (
        index.encode(
            events_lf.filter(
                pl.col("event").is_in(["unsubscribed", "complained", "bounced"]),
                pl.col("at").dt.date() <= as_of,
            )
        ).collect()
        if events_lf is not None
        else None
    )
    return Inputs(
        index=index,
        balances=index.encode(balances),
        customers=cust,
        population=population,
        events=events,
        warnings=tuple(warnings),
    )


def _unsegmented_elsewhere(population: pl.DataFrame, mine: pl.DataFrame, shard: Shard) -> list[str]:
    """A warning when customers of other shards lack a segment row (likely: one shard's segments given)."""
    others = population.join(mine, on="customer_id", how="anti")
    n = int((~others["segmented"]).sum())
    if not n:
        return []
    return [
        f"{n} customer(s) outside shard {shard} have no segment row: the send-time priors count them "
        "as 'standard', so this shard's send times can differ from an unsharded plan's (give plan the "
        "segments of every customer, e.g. the merged segment shards)"
    ]


def invoices_with_ladders(
    balances: pl.DataFrame,
    cust: pl.DataFrame,
    invoice_risk: pl.DataFrame | None,
    minimums: pl.DataFrame,
    policy: Policy,
) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Open invoices with their ladder; skipped rows for disputed, unmatched and too-small ones."""
    inv = balances.join(
        cust.select(
            "customer_id",
            "treatment",
            "risk_tier",
            "value_tier",
            "autopay",
            "cal_id",
            cust_late=pl.col("late_probability"),
        ),
        on="customer_id",
        how="left",
    )
    if invoice_risk is not None and invoice_risk.height:
        inv = inv.join(
            invoice_risk.select("invoice_id", inv_late=pl.col("late_probability")),
            on="invoice_id",
            how="left",
        )
    else:
        inv = inv.with_columns(inv_late=pl.lit(None, dtype=pl.Float64))
    inv = inv.with_columns(
        late_probability=pl.coalesce("inv_late", "cust_late"),
        autopay=(pl.col("payment_method") == "direct_debit").fill_null(pl.col("autopay").fill_null(False)),
        cal_id=pl.col("cal_id").fill_null(""),
        treatment=pl.col("treatment").fill_null("standard"),
        risk_tier=pl.col("risk_tier").fill_null("medium"),
        value_tier=pl.col("value_tier").fill_null("medium"),
    ).with_columns(select_ladder(policy))
    disputed = inv.filter(pl.col("disputed"))
    inv = inv.filter(~pl.col("disputed"))
    no_ladder = inv.filter(pl.col("ladder").is_null())
    inv = inv.filter(pl.col("ladder").is_not_null())
    totals = inv.group_by("customer_id", "currency").agg(_total=pl.col("balance").sum())
    inv = (
        inv.join(totals, on=["customer_id", "currency"], how="left")
        .join(minimums, on=["ladder", "currency"], how="left")
        .with_columns(pl.col("min_balance").fill_null(1))
    )
    below = inv.filter(pl.col("_total") < pl.col("min_balance"))
    currencies = below["currency"].unique().to_list()
    inv = inv.filter(pl.col("_total") >= pl.col("min_balance")).drop("_total", "min_balance")
    cols = ["customer_id", "invoice_id", "currency", "ladder"]
    skipped = pl.concat(
        [
            disputed.select(
                *cols,
                code=pl.lit("disputed"),
                reason=pl.lit("the invoice is disputed; no reminders until resolved"),
            ),
            no_ladder.select(
                *cols, code=pl.lit("no-ladder"), reason=pl.lit("no policy rule matches this invoice")
            ),
            below.select(
                *cols,
                code=pl.lit("below-minimum"),
                reason=pl.format(
                    "the open balance of {} {} is below the ladder's minimum of {} {}",
                    major_expr("_total", "currency", currencies),
                    pl.col("currency"),
                    major_expr("min_balance", "currency", currencies),
                    pl.col("currency"),
                ),
            ),
        ],
        how="vertical_relaxed",
    ).with_columns(step=pl.lit(None, dtype=pl.String), date=pl.lit(None, dtype=pl.Date))
    return inv, skipped


def with_holds(
    inst: pl.DataFrame,
    balances: pl.DataFrame,
    holds: pl.DataFrame | None,
    index: CustomerIndex,
    *,
    as_of: dt.date,
) -> pl.DataFrame:
    """Add ``hold_end`` and ``hold_reason`` to collection instances (courtesy messages are never held)."""
    coded = index.encode(HOLDS.conform(holds), how="left") if holds is not None else None
    ends = hold_ends(balances.select("invoice_id", "customer_id", "hold_until"), coded, as_of=as_of)
    out = attach(inst, ends, on="invoice_id")
    courtesy = pl.col("family") == "courtesy"
    return out.with_columns(
        hold_end=pl.when(courtesy).then(None).otherwise(pl.col("hold_end")),
        hold_reason=pl.when(courtesy).then(None).otherwise(pl.col("hold_reason")),
    )


def payments_local(data: CleanData, cust: pl.DataFrame, *, as_of: dt.date, since: dt.date) -> pl.DataFrame:
    """Payments of the plan's customers from ``since`` to ``as_of`` with their local time and date."""
    day = pl.col("paid_at").dt.date()
    pays = data.payments.filter(day <= as_of, day >= since).select(
        "payment_id", "customer_id", "invoice_id", "paid_at", "currency", "status"
    )
    # One join gives the code and the zone (the text id is the key: no second pass over the rows).
    people = cust.lazy().select(pl.col("cid").alias("customer_id"), _code="customer_id", tz="tz")
    coded = (
        pays.join(people, on="customer_id", how="inner")
        .drop("customer_id")
        .rename({"_code": "customer_id"})
        .collect()
    )
    local = local_datetime(coded, instant="paid_at", tz="tz", out="local_dt")
    return local.with_columns(local_date=pl.col("local_dt").dt.date())


def payment_history(data: CleanData, population: pl.DataFrame, *, as_of: dt.date, days: int) -> pl.DataFrame:
    """Succeeded payments of the population in the ``days`` local days up to ``as_of``, as send slots.

    The send-time history: the largest table the plan reads, so it is kept to three narrow columns
    (nine bytes a row) and never put back in row order (only counts are taken from it).

    Returns:
        ``customer_id`` (code, UInt32), ``treatment``, ``slot`` (UInt8: local ``weekday * 24 + hour``,
        Monday 0) for each succeeded payment made on or before ``as_of`` (UTC date) whose local date
        is after ``as_of - days``.
    """
    since = as_of - dt.timedelta(days=days)
    day = pl.col("paid_at").dt.date()
    pays = data.payments.filter(day <= as_of, day >= since, pl.col("status") == "succeeded").select(
        "customer_id", "paid_at"
    )
    zones = sorted(population["tz"].drop_nulls().unique().to_list())
    people = population.lazy().select(
        pl.col("cid").alias("customer_id"),
        _code="customer_id",
        treatment=pl.col("treatment").cast(pl.Categorical),
        _zone=pl.col("tz").replace_strict({z: i for i, z in enumerate(zones)}, return_dtype=pl.Int64),
    )
    coded = pays.join(people, on="customer_id", how="inner").select(
        customer_id=pl.col("_code").cast(pl.UInt32), treatment="treatment", paid_at="paid_at", _zone="_zone"
    )
    return local_slots(coded, instant="paid_at", zone="_zone", zones=zones, first=since, last=as_of)


def sent_local(
    sent: pl.DataFrame | None, cust: pl.DataFrame, index: CustomerIndex, *, as_of: dt.date
) -> pl.DataFrame | None:
    """The sent log of the plan's customers with each message's local ``sent_date`` (up to ``as_of``)."""
    if sent is None:
        return None
    s = index.encode(SENT.conform(sent)).join(cust.select("customer_id", "tz"), on="customer_id", how="left")
    s = local_datetime(
        s.with_columns(pl.col("tz").fill_null("UTC")), instant="sent_at", tz="tz", out="_local"
    )
    return (
        s.with_columns(sent_date=pl.col("_local").dt.date())
        .filter(pl.col("sent_date") <= as_of)
        .drop("_local")
    )


def unsegmented(balances: pl.DataFrame, cust: pl.DataFrame) -> int:
    """Customers who owe money but had no segment row."""
    ids = balances.select("customer_id").unique()
    return ids.join(
        cust.filter(~pl.col("segmented")).select("customer_id"), on="customer_id", how="semi"
    ).height
