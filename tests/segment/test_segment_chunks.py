"""Chunked preparation: the figures of a run never depend on how many chunks it was prepared in.

``segment`` builds the point-in-time ledger one chunk of customers at a time so that memory
follows the chunk, not the export.  Every figure must be exactly the one-chunk figure: the
per-customer tables, the open-invoice scores, the cohorts, the fitted population and the model
report (which says nothing about chunks).  A small ``chunk_invoices`` forces many chunks on the
300-customer synthetic sample.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path

import polars as pl
import pytest

from billcx.errors import UsageError
from billcx.segment import SegmentResult, SegmentSettings, segment
from billcx.segment.chunks import chunk_bounds, chunk_count, chunk_of, data_totals
from billcx.segment.fit import fit_population
from billcx.segment.settings import RiskSettings
from billcx.shard import Shard
from billcx.store import CleanData


def _assert_same(a: SegmentResult, b: SegmentResult) -> None:
    for table in ("customers", "invoice_risk", "cohorts"):
        left, right = getattr(a, table), getattr(b, table)
        assert left.height == right.height, table
        differing = [c for c in left.columns if not left.get_column(c).equals(right.get_column(c))]
        assert differing == [], f"{table} differs in {differing}"
    assert a.population == b.population
    assert a.model_report == b.model_report
    assert a.warnings == b.warnings


def test_chunks_partition_the_customers(sample_clean: CleanData) -> None:
    count = chunk_count(sample_clean, 700)
    assert count > 3
    bounds = chunk_bounds(sample_clean, count)
    assert len(bounds) == count - 1
    ids = [chunk_of(sample_clean, bounds, i).customers.select("customer_id").collect()["customer_id"].sort()
           for i in range(count)]
    every = sample_clean.customers.select("customer_id").collect()["customer_id"].sort()
    # Ranges in order: the chunks, stacked in chunk order, are the customers in id order.
    assert pl.concat(ids).equals(every)
    assert all(0 < s.len() < every.len() for s in ids), "an empty chunk or one holding everyone"


def test_ids_outside_the_customer_table_still_have_a_chunk(sample_clean: CleanData) -> None:
    bounds = chunk_bounds(sample_clean, 4)
    orphans = pl.DataFrame({"customer_id": ["", "~~~"]}).lazy()  # before the first id, after the last
    data = CleanData(orphans, orphans, orphans)
    held = [chunk_of(data, bounds, i).customers.collect()["customer_id"].to_list()
            for i in range(len(bounds) + 1)]
    assert held[0] == [""] and held[-1] == ["~~~"] and sum(map(len, held)) == 2


def test_fewer_ids_than_chunks_give_fewer_chunks() -> None:
    tiny = pl.DataFrame({"customer_id": ["a", "b", "b"]}).lazy()
    data = CleanData(tiny, tiny, tiny)
    assert chunk_bounds(data, 10) == ("b",)
    assert chunk_bounds(data, 1) == ()


def test_many_chunks_give_the_one_chunk_result(sample_clean: CleanData, sample_result: SegmentResult) -> None:
    chunked = segment(sample_clean, chunk_invoices=700)
    _assert_same(chunked, sample_result)


def test_spilled_chunks_are_removed_after_the_run(sample_clean: CleanData, sample_result: SegmentResult,
                                                  tmp_path: Path) -> None:
    _assert_same(segment(sample_clean, chunk_invoices=700, workdir=tmp_path), sample_result)
    assert list(tmp_path.iterdir()) == []


def test_spilled_chunks_are_removed_when_a_run_fails(sample_clean: CleanData, tmp_path: Path) -> None:
    seen: list[list[Path]] = []

    def fail_after_two_chunks(task: str, done: int, total: int) -> None:
        seen.append(list(tmp_path.glob("billcx-segment-*/*.arrow")))
        if done == 8:
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        segment(sample_clean, chunk_invoices=700, workdir=tmp_path, on_progress=fail_after_two_chunks)
    assert seen[-1], "the first chunks were written to the work folder"
    assert list(tmp_path.iterdir()) == []


def test_training_sample_does_not_depend_on_chunks(sample_clean: CleanData) -> None:
    # ~4,000 invoices and a 1,000-row cap: only a hashed share of customers is a training candidate.
    settings = SegmentSettings(risk=RiskSettings(max_training_rows=1000))
    whole = segment(sample_clean, settings=settings)
    assert whole.model_report["risk"]["method"] == "logistic"
    # The month-stratified draw rounds each month up, so it may take a few rows more than the cap.
    assert 1000 <= whole.model_report["risk"]["sampled_rows"] < 1050
    _assert_same(segment(sample_clean, settings=settings, chunk_invoices=500), whole)


def test_sample_keeps_whole_customers(sample_clean: CleanData) -> None:
    from billcx.segment.features import build_history
    from billcx.segment.ledger import build_ledger
    from billcx.segment.risk import sample_rate, training_rows

    as_of = sample_clean.latest_date()
    ledger = build_ledger(sample_clean, as_of)
    history = build_history(ledger, history=5, grace_days=0)
    positive = data_totals(sample_clean, as_of).positive_invoices
    rate = sample_rate(positive, RiskSettings(max_training_rows=1000))
    assert 0.3 < rate < 0.7
    all_rows = training_rows(ledger, history, grace_days=0)
    some = training_rows(ledger, history, grace_days=0, rate=rate, seed=1)
    assert (some.labelled, some.late) == (all_rows.labelled, all_rows.late), "counts are before sampling"
    kept = set(some.rows["customer_id"])
    assert 0 < len(kept) < all_rows.rows["customer_id"].n_unique()
    # Every labelled invoice of a kept customer is kept.
    assert all_rows.rows.filter(pl.col("customer_id").is_in(list(kept))).height == some.rows.height


def test_chunked_fit_and_chunked_shards(sample_clean: CleanData, sample_result: SegmentResult) -> None:
    population = fit_population(sample_clean, chunk_invoices=900)
    assert population == sample_result.population
    shard = segment(sample_clean, population=population, shard=Shard(1, 3), chunk_invoices=400)
    ids = shard.customers["customer_id"]
    whole = sample_result.customers.filter(pl.col("customer_id").is_in(ids.implode()))
    assert shard.customers.equals(whole)


@pytest.mark.parametrize("bad", [0, -5])
def test_chunk_size_must_be_positive(sample_clean: CleanData, bad: int) -> None:
    with pytest.raises(UsageError, match="chunk_invoices must be positive"):
        chunk_count(sample_clean, bad)


def test_settings_are_unchanged_by_chunking() -> None:
    # The chunk size is a run option, not a setting: populations fitted at any size stay usable.
    assert "chunk" not in str([f.name for f in dataclasses.fields(SegmentSettings)])
