"""generate(): contract conformance, internal consistency and the behaviour later stages rely on."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo, available_timezones

import holidays
import numpy as np
import phonenumbers
import polars as pl
import pytest
from sklearn.metrics import roc_auc_score

from billcx.errors import UsageError
from billcx.money import exponent
from billcx.sample import ARCHETYPES, SampleData, SampleSettings, generate
from billcx.sample.countries import COUNTRIES
from billcx.schema import CUSTOMERS, EVENTS, INVOICES, PAYMENTS


def test_every_table_conforms_exactly_to_the_contract(data: SampleData) -> None:
    for frame, table in ((data.customers, CUSTOMERS), (data.invoices, INVOICES), (data.payments, PAYMENTS),
                         (data.events, EVENTS)):
        assert frame.schema == table.schema
        for column in table.columns:
            if not column.nullable:
                assert frame[column.name].null_count() == 0, column.name
            if column.unique:
                assert frame[column.name].n_unique() == frame.height, column.name
            if column.choices:
                assert set(frame[column.name].drop_nulls().unique()) <= set(column.choices), column.name


def test_history_covers_the_requested_months_and_ends_at_end(data: SampleData) -> None:
    settings = data.settings
    assert settings.start == dt.date(2025, 5, 1)
    assert data.invoices["issue_date"].min() == settings.start
    assert data.invoices["issue_date"].max() <= settings.end
    assert data.payments["paid_at"].max() <= dt.datetime(2026, 10, 31, 23, 59, 59, tzinfo=dt.UTC)
    assert data.events["at"].max() <= dt.datetime(2026, 10, 31, 23, 59, 59, tzinfo=dt.UTC)
    months = data.invoices["issue_date"].dt.strftime("%Y-%m").n_unique()
    assert months == 18


def test_invoice_state_matches_the_payments_applied_to_it(larger: SampleData) -> None:
    inv, pay = larger.invoices, larger.payments
    applied = (pay.filter(pl.col("status") == "succeeded", pl.col("invoice_id").is_not_null())
               .group_by("invoice_id").agg(pl.col("amount").sum().alias("paid_sum"),
                                           pl.col("customer_id").unique().alias("payers"),
                                           pl.col("currency").unique().alias("currencies")))
    joined = inv.join(applied, on="invoice_id", how="left").with_columns(pl.col("paid_sum").fill_null(0))
    positive = joined.filter(pl.col("amount") > 0)
    assert (positive["amount_paid"] == positive["paid_sum"]).all()
    assert (positive["amount_paid"] <= positive["amount"]).all()
    paid = positive.filter(pl.col("status") == "paid")
    assert (paid["amount_paid"] == paid["amount"]).all()
    assert (positive.filter(pl.col("status") != "paid")["amount_paid"] < positive.filter(
        pl.col("status") != "paid")["amount"]).all()
    assert positive.filter(pl.col("status") == "void")["amount_paid"].sum() == 0
    with_payments = joined.filter(pl.col("payers").is_not_null())
    assert (with_payments["payers"].list.len() == 1).all()
    assert (with_payments["payers"].list.first() == with_payments["customer_id"]).all()
    assert (with_payments["currencies"].list.first() == with_payments["currency"]).all()


def test_dates_are_consistent(larger: SampleData) -> None:
    inv = larger.invoices
    assert (inv["due_date"] >= inv["issue_date"]).all()
    paid = inv.filter(pl.col("status") == "paid")
    assert paid["paid_date"].null_count() == 0
    assert (paid["paid_date"] >= paid["issue_date"]).all()
    assert inv.filter(pl.col("status") != "paid")["paid_date"].null_count() == inv.filter(
        pl.col("status") != "paid").height
    held = inv.filter(pl.col("hold_until").is_not_null())
    assert held.height > 0
    assert set(held["status"].unique()) == {"open"}
    written_off = inv.filter(pl.col("status") == "written_off")
    assert (written_off["due_date"] < larger.settings.end - dt.timedelta(days=120)).all()
    # Every payment happens on or after its invoice's issue date, in UTC as well.
    joined = larger.payments.join(inv.select("invoice_id", "issue_date"), on="invoice_id")
    assert (joined["paid_at"].dt.date() >= joined["issue_date"]).all()
    assert (larger.customers["signup_date"] <= larger.settings.end).all()


def test_payments_reference_existing_rows_except_the_unapplied_ones(larger: SampleData) -> None:
    pay = larger.payments
    assert pay["customer_id"].is_in(larger.customers["customer_id"].implode()).all()
    referenced = pay["invoice_id"].drop_nulls()
    assert referenced.is_in(larger.invoices["invoice_id"].implode()).all()
    unapplied = pay.filter(pl.col("invoice_id").is_null())
    assert unapplied.height > 0
    assert set(unapplied["status"].unique()) == {"succeeded"}
    assert set(unapplied["method"].unique()) <= {"bank_transfer", "check"}
    assert larger.invoices["customer_id"].is_in(larger.customers["customer_id"].implode()).all()
    assert larger.events["customer_id"].is_in(larger.customers["customer_id"].implode()).all()


def test_failed_refunded_and_autopay_payments(larger: SampleData) -> None:
    pay = larger.payments
    failed = pay.filter(pl.col("status") == "failed")
    assert failed.height > 0 and failed["failure_code"].null_count() == 0
    assert pay.filter(pl.col("status") != "failed")["failure_code"].null_count() == pay.height - failed.height
    assert pay.filter(pl.col("status") == "refunded").height > 0
    # An autopay charge that failed is retried three days later.
    auto = larger.customers.filter(pl.col("autopay"))["customer_id"]
    card_fail = failed.filter(pl.col("customer_id").is_in(auto.implode()), pl.col("method") != "card")
    assert set(card_fail["method"].unique()) <= {"direct_debit"}
    retried = failed.join(pay, on="invoice_id", suffix="_next").filter(
        (pl.col("paid_at_next") - pl.col("paid_at")).dt.total_days() == 3)
    assert retried.height > 0
    # Autopay invoices are charged on their due date.
    charged = (pay.filter(pl.col("customer_id").is_in(auto.implode()), pl.col("method") != "card")
               .join(larger.invoices.select("invoice_id", "due_date"), on="invoice_id")
               .sort("paid_at").group_by("invoice_id").first())
    assert (charged["paid_at"].dt.date() == charged["due_date"]).mean() > 0.95


def test_credit_notes_void_disputes_partial_payments(larger: SampleData) -> None:
    inv = larger.invoices
    credit = inv.filter(pl.col("amount") < 0)
    assert credit.height > 0
    assert set(credit["status"].unique()) == {"paid", "open"}
    assert credit["payment_method"].null_count() == credit.height
    assert inv.filter(pl.col("status") == "void").height > 0
    partial = inv.filter(pl.col("status") != "paid", pl.col("amount_paid") > 0)
    assert partial.height > 0
    open_overdue = inv.filter(pl.col("status") == "open", pl.col("due_date") < larger.settings.end,
                              pl.col("amount") > 0)
    assert open_overdue.height > 0
    open_not_due = inv.filter(pl.col("status") == "open", pl.col("due_date") >= larger.settings.end)
    assert open_not_due.height > 0
    # Disputed invoices stay open longer.
    paid = inv.filter(pl.col("status") == "paid", pl.col("amount") > 0).with_columns(
        days=(pl.col("paid_date") - pl.col("due_date")).dt.total_days())
    assert paid.filter("disputed")["days"].mean() > paid.filter(~pl.col("disputed"))["days"].mean() + 10


def test_money_is_integer_minor_units_of_a_real_currency(data: SampleData) -> None:
    for frame in (data.invoices, data.payments):
        assert frame["amount"].dtype == pl.Int64
        for currency in frame["currency"].unique():
            assert exponent(currency) in (0, 2)
    jpy = data.invoices.filter(pl.col("currency") == "JPY")
    assert jpy.height > 0 and (jpy["amount"] % 10 == 0).all()


def test_customers_look_real(data: SampleData) -> None:
    countries = {c.code: c for c in COUNTRIES}
    zones = available_timezones()
    rows = data.customers.to_dicts()
    assert len({r["country"] for r in rows}) == len(countries)
    for row in rows:
        country = countries[row["country"]]
        if row["phone"] is not None:
            number = phonenumbers.parse(row["phone"])
            assert phonenumbers.is_valid_number(number), row["customer_id"]
            assert phonenumbers.region_code_for_number(number) == row["country"]
            assert phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164) == row["phone"]
        if row["email"] is not None:
            assert row["email"].rsplit("@", 1)[1] in {"example.com", "example.org", "example.net"}
            assert row["email"].isascii()
        assert row["timezone"] in zones
        assert row["timezone"] in {r.timezone for r in country.regions}
        assert row["locale"] in {tag for tag, _ in country.locales} | {
            tag for r in country.regions for tag, _ in r.locales}
        if row["region"] is not None:
            assert row["region"] in holidays.country_holidays(row["country"]).subdivisions
    currency = data.invoices.join(data.customers.select("customer_id", "country"), on="customer_id")
    pairs = set(currency.select("country", "currency").unique().iter_rows())
    assert pairs == {(c.code, c.currency) for c in COUNTRIES}


def test_channels_and_consents_are_mixed(data: SampleData) -> None:
    c = data.customers
    assert set(c["preferred_channel"].unique()) == {"email", "sms", "letter", "push"}
    nothing = c.filter(~pl.col("consent_email") & ~pl.col("consent_sms") & ~pl.col("consent_letter")
                       & ~pl.col("consent_push"))
    assert nothing.height > 0
    assert c["do_not_contact"].sum() > 0
    assert 0 < c["autopay"].sum() < c.height
    assert set(c.filter("autopay")["payment_method"].unique()) <= {"card", "direct_debit"}


def test_events_follow_the_channels_customers_use(larger: SampleData) -> None:
    ev = larger.events.join(larger.customers, on="customer_id")
    assert set(ev["channel"].unique()) == {"email", "sms", "push"}
    assert ev.filter("do_not_contact").height == 0
    assert set(ev["event"].unique()) == {"delivered", "opened", "clicked", "bounced", "complained",
                                         "unsubscribed", "replied"}
    assert ev.filter(pl.col("channel") == "sms", pl.col("event") == "opened").height == 0
    # Unsubscribing ends the messages on that channel and withdraws the consent.
    gone = ev.filter(pl.col("event") == "unsubscribed").group_by("customer_id", "channel").agg(
        pl.col("at").min().alias("gone_at"))
    after = ev.join(gone, on=["customer_id", "channel"]).filter(
        pl.col("event") == "delivered", pl.col("at") > pl.col("gone_at") + pl.duration(hours=1))
    assert after.height == 0
    withdrawn = gone.join(larger.customers, on="customer_id")
    for channel in ("email", "sms", "push"):
        assert not withdrawn.filter(pl.col("channel") == channel)[f"consent_{channel}"].any()


def test_every_archetype_is_present_and_behaves_as_named(larger: SampleData) -> None:
    assert set(larger.profiles["archetype"].unique()) == set(ARCHETYPES)
    rates = (_outcomes(larger).group_by("archetype").agg(pl.col("late").mean())
             .to_dict(as_series=False))
    late = dict(zip(rates["archetype"], rates["late"], strict=True))
    assert late["punctual"] < 0.15
    assert late["autopay"] < 0.1
    assert late["chronic_late"] > 0.6
    assert late["punctual"] < late["seasonal"] < late["chronic_late"]
    # Deteriorating customers pay later and later.
    det = _outcomes(larger).filter(pl.col("archetype") == "deteriorating").sort("issue_date")
    half = det.height // 2
    assert det[half:]["late"].mean() > det[:half]["late"].mean() + 0.2
    # Seasonal customers are late mostly in a few months of the year.
    seasonal = _outcomes(larger).filter(pl.col("archetype") == "seasonal").with_columns(
        month=pl.col("due_date").dt.month())
    by_month = seasonal.group_by("customer_id", "month").agg(pl.col("late").mean())
    assert by_month["late"].max() == 1.0 and by_month["late"].median() < 0.2


def test_one_off_customers_have_one_or_two_invoices(larger: SampleData) -> None:
    one_off = larger.profiles.filter(pl.col("archetype") == "one_off")["customer_id"]
    counts = (larger.invoices.filter(pl.col("customer_id").is_in(one_off.implode()), pl.col("amount") > 0)
              .group_by("customer_id").len())
    assert counts["len"].max() <= 2


def test_payments_happen_at_each_customers_habitual_local_hour(larger: SampleData) -> None:
    manual = (larger.payments.filter(pl.col("status") == "succeeded")
              .join(larger.customers.select("customer_id", "timezone", "autopay"), on="customer_id")
              .filter(~pl.col("autopay"))
              .join(larger.profiles, on="customer_id"))
    local_hour = np.array([at.astimezone(ZoneInfo(tz)).hour for at, tz in
                           zip(manual["paid_at"].to_list(), manual["timezone"].to_list(), strict=True)])
    near = np.abs(local_hour - manual["habitual_hour"].to_numpy()) <= 1
    strong = manual["habit_strength"].to_numpy() > 0.8
    assert near[strong].mean() > 0.7
    assert near[~strong].mean() < near[strong].mean()


def test_late_payment_is_predictable_from_history_but_not_trivially(larger: SampleData) -> None:
    """A leak-free score (the customer's late rate on invoices settled before this one) ranks well."""
    outcomes = _outcomes(larger).with_row_index("i")
    history = outcomes.select("customer_id", pl.col("known_at"), pl.col("late").alias("was_late"))
    score = (outcomes.select("i", "customer_id", "issue_date").join(history, on="customer_id")
             .filter(pl.col("known_at") < pl.col("issue_date"))
             .group_by("i").agg(pl.col("was_late").mean().alias("score")))
    test = outcomes.filter(pl.col("issue_date") >= outcomes["issue_date"].quantile(0.8),
                           pl.col("due_date") < larger.settings.end - dt.timedelta(days=30))
    test = test.join(score, on="i", how="left").with_columns(pl.col("score").fill_null(0.25))
    auc = roc_auc_score(test["late"].to_numpy(), test["score"].to_numpy())
    assert 0.72 < auc < 0.93


def test_settings_are_validated() -> None:
    with pytest.raises(UsageError, match=r"months: expected a whole number >= 18, found 6"):
        SampleSettings(customers=10, seed=1, months=6)
    with pytest.raises(UsageError, match=r"customers: expected a whole number >= 1, found 0"):
        SampleSettings(customers=0, seed=1)
    with pytest.raises(UsageError, match=r"countries: expected some of US, CA, .*found XX"):
        SampleSettings(customers=1, seed=1, countries=("XX",))
    with pytest.raises(UsageError, match=r"end: expected a date"):
        SampleSettings(customers=1, seed=1, end="2026-01-01")  # type: ignore[arg-type]


def test_options_change_what_is_generated() -> None:
    small = generate(SampleSettings(customers=40, seed=3, countries=("JP", "DE"), months=24,
                                    end=dt.date(2025, 12, 31), events=False))
    assert set(small.customers["country"].unique()) == {"JP", "DE"}
    assert small.events.height == 0
    assert small.invoices["issue_date"].min() >= dt.date(2024, 1, 1)
    assert small.invoices["issue_date"].max() <= dt.date(2025, 12, 31)


def _outcomes(data: SampleData) -> pl.DataFrame:
    """Positive, non-void invoices with whether they were late and when that was known."""
    end = data.settings.end
    return (data.invoices.filter(pl.col("amount") > 0, pl.col("status") != "void")
            .join(data.profiles.select("customer_id", "archetype"), on="customer_id")
            .with_columns(
                late=pl.when(pl.col("paid_date").is_not_null()).then(pl.col("paid_date") > pl.col("due_date"))
                .otherwise(pl.col("due_date") < pl.lit(end)),
                known_at=pl.coalesce("paid_date", pl.col("due_date") + pl.duration(days=1)))
            .filter(pl.col("paid_date").is_not_null() | (pl.col("due_date") < pl.lit(end))))
