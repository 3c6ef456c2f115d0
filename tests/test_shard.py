"""Sharding: the union of N shard outputs equals the unsharded output, stage by stage.

A shard holds the customers whose stable hash falls in it (billcx/shard.py), with their invoices,
payments and events.  Each stage is run on every shard and once on the whole; outputs are compared
after sorting (no stage promises row order across shards).

Where a stage computes something *across* customers (ranks, models fitted on everyone, a
population prior), every shard is given the whole clean data and its shard: population-level figures
come from everyone, per-customer work only from the shard's customers, so the union equals the whole
exactly, column for column.
"""

from __future__ import annotations

import datetime as dt

import polars as pl
import pytest

from billcx.sample import SampleSettings, generate
from billcx.shard import Shard, shard_ids
from billcx.store import CleanData

N = 3
SHARDS = [Shard(i, N) for i in range(N)]

# Segment columns that rank customers against each other or come from models fitted on all of
# them: a shard's population differs, so these differ too (see docs/scale.md).
# Plan learns a send-time prior from every customer of the segment it sees.


@pytest.fixture(scope="module")
def data() -> CleanData:
    sample = generate(SampleSettings(customers=160, seed=23))
    return CleanData.from_frames(sample.customers, sample.invoices, sample.payments, sample.events)


@pytest.fixture(scope="module")
def as_of(data: CleanData) -> dt.date:
    return data.latest_date()


def _union(frames: list[pl.DataFrame], key: list[str]) -> pl.DataFrame:
    return pl.concat(frames, how="vertical").sort(key)


def _differing(whole: pl.DataFrame, union: pl.DataFrame, columns: list[str]) -> list[str]:
    return [c for c in columns if not whole.get_column(c).equals(union.get_column(c))]


def test_clean_data_shards_partition_customers_and_their_rows(data: CleanData) -> None:
    customers = data.customers.collect()
    all_ids = set(customers["customer_id"].to_list())
    seen: set[str] = set()
    for shard in SHARDS:
        part = data.shard(shard)
        ids = set(part.customers.collect()["customer_id"].to_list())
        assert ids, f"shard {shard} is empty: 160 customers should spread over {N} shards"
        assert not ids & seen, f"shard {shard} shares customers with an earlier shard"
        seen |= ids
        for name in ("invoices", "payments", "events"):
            frame = getattr(part, name)
            assert frame is not None
            owners = set(frame.collect()["customer_id"].to_list())
            assert owners <= ids, f"shard {shard}: {name} of customers outside the shard"
    assert seen == all_ids
    for name, key in (
        ("customers", ["customer_id"]),
        ("invoices", ["invoice_id"]),
        ("payments", ["payment_id"]),
        ("events", ["customer_id", "at", "channel", "event"]),
    ):
        whole = getattr(data, name).collect().sort(key)
        union = _union([getattr(data.shard(s), name).collect() for s in SHARDS], key)
        assert union.equals(whole), f"{name}: the union of the shards differs from the whole"


def test_shard_membership_is_stable_and_matches_shard_ids(data: CleanData) -> None:
    ids = data.customers.collect()["customer_id"]
    for shard in SHARDS:
        expected = sorted(shard_ids(ids, shard).to_list())
        got = sorted(data.shard(shard).customers.collect()["customer_id"].to_list())
        assert got == expected
        assert (
            sorted(shard_ids(ids.reverse(), shard).to_list()) == expected
        )  # order of input rows is irrelevant


@pytest.fixture(scope="module")
def segmented(data: CleanData, as_of: dt.date) -> tuple[object, list[object]]:
    segment = pytest.importorskip("billcx.segment").segment
    return segment(data, as_of=as_of), [segment(data, as_of=as_of, shard=s) for s in SHARDS]


def test_segment_shards_union_equals_unsharded(segmented: tuple[object, list[object]]) -> None:
    whole, parts = segmented
    full = whole.customers.sort("customer_id")  # type: ignore[attr-defined]
    union = _union([p.customers for p in parts], ["customer_id"])  # type: ignore[attr-defined]
    assert union["customer_id"].to_list() == full["customer_id"].to_list()
    assert _differing(full, union, full.columns) == []
    risk = whole.invoice_risk.sort("invoice_id")  # type: ignore[attr-defined]
    risk_union = _union([p.invoice_risk for p in parts], ["invoice_id"])  # type: ignore[attr-defined]
    assert risk_union["invoice_id"].to_list() == risk["invoice_id"].to_list()
    assert (
        _differing(risk, risk_union, risk.columns) == []
    )


@pytest.fixture(scope="module")
def planned(
    data: CleanData, as_of: dt.date, segmented: tuple[object, list[object]]
) -> tuple[object, list[object]]:
    plan = pytest.importorskip("billcx.plan").plan
    whole_seg = segmented[0]
    segments, risk = whole_seg.customers, whole_seg.invoice_risk  # type: ignore[attr-defined]
    # Every shard plans from the same (unsharded) segments, so only the plan stage's own sharding is tested.
    return (
        plan(data, segments, as_of=as_of, invoice_risk=risk),
        [plan(data, segments, as_of=as_of, invoice_risk=risk, shard=s) for s in SHARDS],
    )


def test_plan_shards_union_equals_unsharded(planned: tuple[object, list[object]]) -> None:
    whole, parts = planned
    full = whole.schedule.sort("message_key")  # type: ignore[attr-defined]
    union = _union([p.schedule for p in parts], ["message_key"])  # type: ignore[attr-defined]
    assert full.height > 0
    assert union["message_key"].to_list() == full["message_key"].to_list()
    assert _differing(full, union, full.columns) == []
    skipped = whole.skipped  # type: ignore[attr-defined]
    assert _union([p.skipped for p in parts], skipped.columns).equals(skipped.sort(skipped.columns))  # type: ignore[attr-defined]


def test_render_shards_union_equals_unsharded(data: CleanData, planned: tuple[object, list[object]]) -> None:
    render = pytest.importorskip("billcx.render").render
    schedule = planned[0].schedule  # type: ignore[attr-defined]
    whole = render(schedule, data)
    ids = data.customers.collect()["customer_id"]
    parts = []
    for shard in SHARDS:
        mine = schedule.filter(pl.col("customer_id").is_in(shard_ids(ids, shard).implode()))
        parts.append(render(mine, data.shard(shard)))
    for table in ("manifest", "failures", "sms", "push", "tasks"):
        full = getattr(whole, table).sort("message_key")
        union = _union([getattr(p, table) for p in parts], ["message_key"])
        assert union.equals(full), f"render {table}: the union of the shards differs from the whole"
    assert whole.manifest.height > 0
    # Same bytes for every file: the manifest's sha256 column compared above covers them; check sizes too.
    assert sum(p.bodies.nbytes for p in parts) == whole.bodies.nbytes
