"""Per-customer facts the plan needs: segment, time zone, calendar, and the stale-data guard."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Literal, TypeVar

import polars as pl

from billcx.errors import StaleDataError
from billcx.plan.calendar import calendar_id
from billcx.plan.policy import Policy
from billcx.plan.tz import valid_zones
from billcx.store import CleanData

FrameT = TypeVar("FrameT", pl.DataFrame, pl.LazyFrame)

SEGMENT_DEFAULTS = {"treatment": "standard", "risk_tier": "medium", "value_tier": "medium"}


def check_stale(data: CleanData, *, as_of: dt.date, max_lag_days: int, force: bool) -> str | None:
    """Refuse to plan when payments stop well before invoices (customers who paid would be reminded).

    Args:
        data: the clean tables.
        as_of: only data up to this date is considered.
        max_lag_days: allowed gap between the latest invoice and the latest payment.
        force: plan anyway; the finding is returned as a warning instead.

    Returns:
        A warning when the guard fired and ``force`` overrode it, else None.

    Raises:
        StaleDataError: the payments export ends more than ``max_lag_days`` before the invoices
            export (or is empty while invoices span more than that) and ``force`` is false.
    """
    first_invoice, last_invoice = (
        data.invoices.filter(pl.col("issue_date") <= as_of)
        .select(pl.col("issue_date").min().alias("first"), pl.col("issue_date").max().alias("last"))
        .collect()
        .row(0)
    )
    last_payment = (
        data.payments.filter(pl.col("paid_at").dt.date() <= as_of)
        .select(pl.col("paid_at").max().dt.date())
        .collect()
        .item()
    )
    if last_invoice is None:
        return None
    if last_payment is None:
        # No payment at all is only suspicious once invoices span more than the allowed lag.
        if (last_invoice - first_invoice).days <= max_lag_days:
            return None
        message = (
            f"the payments export has no payment up to {as_of} while invoices run from {first_invoice} "
            f"to {last_invoice}; reminders would go to customers who have already paid"
        )
    elif (last_invoice - last_payment).days > max_lag_days:
        message = (
            f"payments end on {last_payment} but invoices run to {last_invoice} "
            f"({(last_invoice - last_payment).days} days later, more than stale_after_days = "
            f"{max_lag_days}); reminders would go to customers who have already paid"
        )
    else:
        return None
    if force:
        return f"stale data planned anyway (--force): {message}"
    raise StaleDataError(message, hint="export payments up to the same date as invoices, or pass --force")


def customer_facts(
    customers: pl.DataFrame, segments: pl.DataFrame, policy: Policy
) -> tuple[pl.DataFrame, list[str]]:
    """Customers with their segment, resolved time zone and calendar id.

    Args:
        customers: the customers table.
        segments: segment output (``customer_id, value_tier, risk_tier, late_probability, treatment``).
        policy: for fallback time zones.

    Returns:
        ``(facts, warnings)``: facts has every customers column plus ``treatment, risk_tier, value_tier,
        late_probability, segmented, tz, tz_reason, cal_id``.
    """
    seg = segments.select("customer_id", "value_tier", "risk_tier", "late_probability", "treatment").unique(
        "customer_id", keep="first", maintain_order=True
    )
    out = customers.join(seg, on="customer_id", how="left").with_columns(
        segmented=pl.col("treatment").is_not_null(),
        **{k: pl.col(k).fill_null(v) for k, v in SEGMENT_DEFAULTS.items()},
    )
    send = policy.send
    candidates = out["timezone"].drop_nulls().unique().to_list()
    candidates += list(send.country_timezones.values()) + [send.default_timezone]
    valid = sorted(valid_zones(candidates))
    country = pl.col("country").fill_null("").str.to_uppercase()
    fallback = country.replace_strict(
        {c.upper(): z for c, z in send.country_timezones.items()},
        default=send.default_timezone,
        return_dtype=pl.String,
    )
    ok = pl.col("timezone").is_in(valid).fill_null(False)
    out = out.with_columns(
        tz=pl.when(ok).then(pl.col("timezone")).otherwise(fallback),
        tz_reason=pl.when(ok)
        .then(None)
        .otherwise(
            pl.format(
                "tz:assumed: {}; times are planned in {}",
                pl.when(pl.col("timezone").is_null())
                .then(pl.lit("no time zone on file"))
                .otherwise(pl.lit("the time zone on file is not a known IANA zone")),
                fallback,
            )
        ),
        cal_id=calendar_id(pl.col("country"), pl.col("region")),
    )
    return out, timezone_warnings(out, policy)


def timezone_warnings(facts: pl.DataFrame, policy: Policy) -> list[str]:
    """The warning counting the customers of ``facts`` whose time zone was assumed (or none)."""
    assumed = int(facts["tz_reason"].is_not_null().sum())
    if not assumed:
        return []
    return [
        f"{assumed} customer(s) without a valid time zone: planned in their country's "
        f"default zone or {policy.send.default_timezone}"
    ]


@dataclass(frozen=True)
class CustomerIndex:
    """Integer codes for the customers of a plan, in sorted id order.

    Joins and sorts on millions of rows are several times faster on integers than on text, so the
    plan swaps ``customer_id`` for its code on the way in and back on the way out.  Codes follow
    the sorted ids, so sorting by code sorts by id: outputs are the same either way.
    """

    table: pl.DataFrame  # customer_id (Int64 code), cid (String id)

    @classmethod
    def build(cls, ids: pl.Series) -> CustomerIndex:
        """Index the distinct non-null ``ids``."""
        uniq = ids.drop_nulls().unique().sort()
        return cls(
            pl.DataFrame({"customer_id": pl.int_range(uniq.len(), eager=True, dtype=pl.Int64), "cid": uniq})
        )

    def encode(self, frame: FrameT, *, how: Literal["inner", "left"] = "inner") -> FrameT:
        """``frame`` with its text ``customer_id`` replaced by the code (rows of unknown customers are
        dropped with ``inner``, get a null code with ``left``)."""
        codes = self.table.select(_code="customer_id", customer_id="cid")
        if isinstance(frame, pl.LazyFrame):
            codes_any: pl.DataFrame | pl.LazyFrame = codes.lazy()
        else:
            codes_any = codes
        joined = frame.join(codes_any, on="customer_id", how=how, maintain_order="left")  # type: ignore[arg-type]
        return joined.drop("customer_id").rename({"_code": "customer_id"})  # type: ignore[return-value]

    def decode(self, frame: pl.DataFrame) -> pl.DataFrame:
        """``frame`` with its coded ``customer_id`` replaced by the text id, column order kept."""
        cols = frame.columns
        out = frame.join(self.table, on="customer_id", how="left", maintain_order="left")
        return out.drop("customer_id").rename({"cid": "customer_id"}).select(cols)
