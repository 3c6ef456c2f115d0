"""Sharded segment runs: the union of N shards equals the unsharded run, byte for byte.

Shards are scored against the population (cut points, models) of the whole, fitted once, so a
customer's figures never depend on which other customers share the run.  Two datasets cover the
model paths: the segment synthesiser (logistic risk, empirical lifetime fallback) and the product's
sample generator (BG/NBD fitted, Gamma-Gamma fitted for some currencies only); a third run forces
the risk rules fallback.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
from pathlib import Path

import polars as pl
import pytest
from typer.testing import CliRunner

from billcx.cli import app
from billcx.errors import InputError, UsageError
from billcx.sample import SampleSettings, generate
from billcx.schema import CUSTOMERS, INVOICES, PAYMENTS
from billcx.segment import SegmentResult, SegmentSettings, segment
from billcx.segment.cohorts import merge_cohorts
from billcx.segment.fit import fit_population
from billcx.segment.population import Population, population_from_json, population_json, read_population
from billcx.segment.settings import RiskSettings, TierSettings
from billcx.shard import Shard
from billcx.store import CleanData, table_path

runner = CliRunner()


@pytest.fixture(scope="module")
def generated() -> CleanData:
    sample = generate(SampleSettings(customers=160, seed=23))
    return CleanData.from_frames(sample.customers, sample.invoices, sample.payments)


@pytest.fixture(scope="module")
def datasets(sample_clean: CleanData, sample_result: SegmentResult,
             generated: CleanData) -> dict[str, tuple[CleanData, SegmentResult]]:
    return {"synth": (sample_clean, sample_result), "generated": (generated, segment(generated))}


def _union(results: list[SegmentResult], table: str, key: str) -> pl.DataFrame:
    return pl.concat([getattr(r, table) for r in results], how="vertical").sort(key)


def _assert_union_is_whole(whole: SegmentResult, parts: list[SegmentResult]) -> None:
    assert all(p.customers.height < whole.customers.height for p in parts), "a shard holds every customer"
    for table, key in (("customers", "customer_id"), ("invoice_risk", "invoice_id")):
        full = getattr(whole, table)
        union = _union(parts, table, key)
        assert union.height == full.height, f"{table}: {union.height} rows in shards, {full.height} in all"
        differing = [c for c in full.columns if not union.get_column(c).equals(full.get_column(c))]
        assert differing == [], f"{table}: the shards' union differs in {differing}"
    assert merge_cohorts([p.cohorts for p in parts]).equals(whole.cohorts)


@pytest.mark.parametrize("count", [2, 3])
@pytest.mark.parametrize("name", ["synth", "generated"])
def test_union_of_shards_scored_against_the_population_is_the_whole(
        datasets: dict[str, tuple[CleanData, SegmentResult]], name: str, count: int) -> None:
    data, whole = datasets[name]
    assert whole.population is not None
    parts = [segment(data, population=whole.population, shard=Shard(i, count)) for i in range(count)]
    _assert_union_is_whole(whole, parts)
    assert all(p.population == whole.population for p in parts)


def test_both_lifetime_paths_and_the_risk_model_are_covered(
        datasets: dict[str, tuple[CleanData, SegmentResult]]) -> None:
    methods = {name: (r.population.lifetime.method, r.population.risk.method)  # type: ignore[union-attr]
               for name, (_, r) in datasets.items()}
    assert methods == {"synth": ("empirical", "logistic"), "generated": ("bgnbd", "logistic")}


def test_a_shard_without_a_population_fits_on_the_whole_first(
        datasets: dict[str, tuple[CleanData, SegmentResult]]) -> None:
    data, whole = datasets["synth"]
    part = segment(data, shard=Shard(1, 2))
    ids = part.customers.get_column("customer_id")
    assert part.customers.equals(whole.customers.filter(pl.col("customer_id").is_in(ids.implode())))
    assert part.population == whole.population
    assert part.model_report["shard"] == "1/2"
    assert part.model_report["population"]["customers"] == whole.customers.height == 300
    assert part.model_report["data"]["customers"] == part.customers.height


def test_risk_rules_fallback_shards_too(sample_clean: CleanData) -> None:
    settings = SegmentSettings(risk=RiskSettings(min_training_invoices=100_000))
    whole = segment(sample_clean, settings=settings)
    assert whole.population is not None and whole.population.risk.method == "rules"
    parts = [segment(sample_clean, settings=settings, population=whole.population, shard=Shard(i, 2))
             for i in range(2)]
    _assert_union_is_whole(whole, parts)


def test_population_json_round_trips_exactly(datasets: dict[str, tuple[CleanData, SegmentResult]]) -> None:
    for _, whole in datasets.values():
        population = whole.population
        assert population is not None
        text = population_json(population)
        again = population_from_json(text)
        assert again == population
        assert population_json(again) == text
        data = json.loads(text)
        assert data["format"] == "billcx-segment-population/1"
        assert list(data) == sorted(data)


def test_fit_population_is_the_population_of_the_unsharded_run(
        sample_clean: CleanData, sample_result: SegmentResult) -> None:
    assert fit_population(sample_clean) == sample_result.population


def test_a_population_for_another_date_or_other_settings_is_refused(
        sample_clean: CleanData, sample_result: SegmentResult) -> None:
    population = sample_result.population
    assert population is not None
    with pytest.raises(UsageError) as other_date:
        segment(sample_clean, as_of=dt.date(2024, 6, 30), population=population)
    assert other_date.value.message == "the population was fitted as of 2024-12-31, not 2024-06-30"
    other = SegmentSettings(tiers=TierSettings(risk_high=0.6))
    with pytest.raises(UsageError) as other_settings:
        segment(sample_clean, settings=other, population=population)
    assert other_settings.value.message == (
        "the population was fitted with other settings (segment.tiers.risk_high differ)")


def test_a_damaged_population_file_is_an_input_error(tmp_path: Path, sample_result: SegmentResult) -> None:
    assert sample_result.population is not None
    path = tmp_path / "population.json"
    path.write_text('{"format": "something else"}')
    with pytest.raises(InputError) as wrong:
        read_population(path)
    assert wrong.value.message == (
        f"{path}: expected a population file of format billcx-segment-population/1, found 'something else'")
    body = json.loads(population_json(sample_result.population))
    del body["risk"]["coef"]
    path.write_text(json.dumps(body))
    with pytest.raises(InputError) as missing:
        read_population(path)
    assert missing.value.message == f"{path}: missing required setting 'risk.coef'"


def test_merge_cohorts_sums_counts_and_recomputes_rates() -> None:
    part = pl.DataFrame({"cohort": ["2024-01"] * 2, "months_since": [0, 1], "month": ["2024-01", "2024-02"],
                         "customers": [2, 2], "active_customers": [2, 1], "retention": [1.0, 0.5],
                         "invoices": [2, 1], "resolved_invoices": [2, 0], "on_time_invoices": [1, 0],
                         "on_time_rate": [0.5, None]})
    other = part.with_columns(pl.lit(1, dtype=pl.Int64).alias("customers"),
                              pl.Series("active_customers", [1, 0]), pl.Series("resolved_invoices", [1, 0]),
                              pl.Series("on_time_invoices", [1, 0]), pl.Series("invoices", [1, 0]))
    merged = merge_cohorts([part, other])
    assert merged.get_column("customers").to_list() == [3, 3]
    assert merged.get_column("retention").to_list() == [1.0, 0.3333]
    assert merged.get_column("on_time_rate").to_list() == [0.6667, None]


@pytest.fixture(scope="module")
def clean_dir(tmp_path_factory: pytest.TempPathFactory, generated: CleanData) -> Path:
    folder = tmp_path_factory.mktemp("clean")
    for table, frame in ((CUSTOMERS, generated.customers), (INVOICES, generated.invoices),
                         (PAYMENTS, generated.payments)):
        frame.collect().write_parquet(table_path(folder, table))
    return folder


def test_cli_fit_only_then_shards_with_the_population_give_the_unsharded_files(
        clean_dir: Path, tmp_path: Path) -> None:
    whole = tmp_path / "whole"
    assert runner.invoke(app, ["--quiet", "segment", str(clean_dir), "--out", str(whole)]).exit_code == 0
    fitted = runner.invoke(app, ["segment", str(clean_dir), "--out", str(tmp_path / "pop"), "--fit-only"])
    assert fitted.exit_code == 0, fitted.output
    assert [p.name for p in (tmp_path / "pop").iterdir()] == ["population.json"]
    population = tmp_path / "pop" / "population.json"
    assert population.read_bytes() == (whole / "population.json").read_bytes()
    parts = []
    for i in range(3):
        out = tmp_path / f"shard{i}"
        result = runner.invoke(app, ["segment", str(clean_dir), "--out", str(out), "--shard", f"{i}/3",
                                     "--population", str(population), "--report-format", "json"])
        assert result.exit_code == 0, result.output
        report = json.loads(result.stdout)
        assert (report["shard"], report["as_of_source"]) == (f"{i}/3", "population.json")
        parts.append(out)
    for name, key in (("customers", "customer_id"), ("invoice_risk", "invoice_id")):
        full = pl.read_parquet(whole / f"{name}.parquet")
        union = pl.concat([pl.read_parquet(p / f"{name}.parquet") for p in parts]).sort(key)
        assert union.equals(full), name
    merged = merge_cohorts([pl.read_parquet(p / "cohorts.parquet") for p in parts])
    assert merged.equals(pl.read_parquet(whole / "cohorts.parquet"))


def test_cli_sharded_run_without_population_matches_the_population_path(
        clean_dir: Path, tmp_path: Path) -> None:
    result = runner.invoke(app, ["--quiet", "segment", str(clean_dir), "--out", str(tmp_path / "a"),
                                 "--shard", "0/2"])
    assert result.exit_code == 0, result.output
    population = tmp_path / "a" / "population.json"
    again = runner.invoke(app, ["--quiet", "segment", str(clean_dir), "--out", str(tmp_path / "b"),
                                "--shard", "0/2", "--population", str(population)])
    assert again.exit_code == 0, again.output
    for name in ("customers.parquet", "invoice_risk.parquet", "cohorts.parquet", "population.json"):
        assert (tmp_path / "a" / name).read_bytes() == (tmp_path / "b" / name).read_bytes(), name


def test_cli_fit_only_refuses_a_shard(clean_dir: Path, tmp_path: Path) -> None:
    result = runner.invoke(app, ["segment", str(clean_dir), "--out", str(tmp_path / "o"), "--fit-only",
                                 "--shard", "0/2"])
    assert result.exit_code == 2
    assert " ".join(result.stderr.split()) == (
        "error: --fit-only fits on every customer: it takes neither --shard nor --population")


def test_population_is_frozen(sample_result: SegmentResult) -> None:
    assert isinstance(sample_result.population, Population)
    with pytest.raises(dataclasses.FrozenInstanceError):
        sample_result.population.customers = 1  # type: ignore[misc]
