"""Sharded plans: the union of the N shards' schedules and skipped rows is the unsharded plan, exactly.

The send hour is shrunk toward a prior learned from every customer of the treatment segment, so a
shard only matches the whole when that prior is learned from all of the data, not from the shard's
customers: ``plan(data, ..., shard=s)`` takes the whole data and plans only shard ``s``.
"""

from __future__ import annotations

import datetime as dt

import polars as pl
import pytest
from typer.testing import CliRunner

from billcx.cli import app
from billcx.hashing import stable_hash_series
from billcx.plan import PlanResult, plan
from billcx.sample import SampleSettings, generate
from billcx.shard import Shard, shard_ids
from billcx.store import CleanData

TREATMENTS = ["reliable", "chronic_late", "standard", "new", "slipping"]
TIERS = ["low", "medium", "high"]


@pytest.fixture(scope="module")
def data() -> CleanData:
    sample = generate(SampleSettings(customers=150, seed=31))
    return CleanData.from_frames(sample.customers, sample.invoices, sample.payments, sample.events)


@pytest.fixture(scope="module")
def segments(data: CleanData) -> pl.DataFrame:
    """Segments derived from a stable hash of the id: every customer has one, the mix is varied."""
    ids = data.customers.select("customer_id").collect()["customer_id"].sort()
    h = stable_hash_series(ids, salt="test-segments")
    return pl.DataFrame(
        {
            "customer_id": ids,
            "rfm_segment": pl.Series([None] * len(ids), dtype=pl.String),
            "value_tier": [TIERS[int(v) % 3] for v in h],
            "risk_tier": [TIERS[int(v) // 3 % 3] for v in h],
            "late_probability": [round((int(v) % 97) / 97, 4) for v in h],
            "treatment": [TREATMENTS[int(v) // 9 % len(TREATMENTS)] for v in h],
        }
    )


@pytest.fixture(scope="module")
def as_of(data: CleanData) -> dt.date:
    return data.latest_date()


@pytest.fixture(scope="module")
def whole(data: CleanData, segments: pl.DataFrame, as_of: dt.date) -> PlanResult:
    return plan(data, segments, as_of=as_of)


def _sorted(frame: pl.DataFrame, key: list[str]) -> pl.DataFrame:
    return frame.sort(key, nulls_last=True)


SKIP_KEY = ["customer_id", "ladder", "step", "date", "code", "currency", "reason"]


@pytest.mark.parametrize("n", [2, 3])
def test_union_of_shards_is_the_unsharded_plan(
    data: CleanData, segments: pl.DataFrame, as_of: dt.date, whole: PlanResult, n: int
) -> None:
    parts = [plan(data, segments, as_of=as_of, shard=Shard(i, n)) for i in range(n)]
    assert whole.schedule.height > 50
    sched = pl.concat([p.schedule for p in parts])
    assert _sorted(sched, ["message_key"]).equals(_sorted(whole.schedule, ["message_key"]))
    skipped = pl.concat([p.skipped for p in parts])
    assert whole.skipped.height > 0
    assert _sorted(skipped, SKIP_KEY).equals(_sorted(whole.skipped, SKIP_KEY))
    assert sum(p.summary.messages for p in parts) == whole.summary.messages
    assert sum(p.summary.open_invoices for p in parts) == whole.summary.open_invoices
    ids = data.customers.collect()["customer_id"]
    for i, p in enumerate(parts):
        mine = set(shard_ids(ids, Shard(i, n)).to_list())
        assert set(p.schedule["customer_id"].to_list()) <= mine


def test_the_segment_prior_decides_send_times(
    data: CleanData, segments: pl.DataFrame, as_of: dt.date, whole: PlanResult
) -> None:
    """Without the whole population the priors differ: the test above would catch a shard-local prior."""
    reasons = whole.schedule["reasons"].explode().drop_nulls()
    assert reasons.str.starts_with("sendtime:segment").any()
    naive = pl.concat([plan(data.shard(Shard(i, 3)), segments, as_of=as_of).schedule for i in range(3)])
    assert not _sorted(naive, ["message_key"])["send_at_utc"].equals(
        _sorted(whole.schedule, ["message_key"])["send_at_utc"]
    )


def test_shard_union_with_sent_log(
    data: CleanData, segments: pl.DataFrame, as_of: dt.date, whole: PlanResult
) -> None:
    """A sent log (catch-up, cross-run caps) is cut to each shard's customers consistently."""
    early = whole.schedule.sort("send_at_utc", "message_key").head(40)
    sent = early.select(
        "customer_id", "invoice_ids", "step", "ladder", "message_key", "channel", sent_at="send_at_utc"
    )
    later = as_of + dt.timedelta(days=3)
    full = plan(data, segments, as_of=later, sent=sent, force=True)
    parts = [plan(data, segments, as_of=later, sent=sent, force=True, shard=Shard(i, 2)) for i in range(2)]
    union = pl.concat([p.schedule for p in parts])
    assert _sorted(union, ["message_key"]).equals(_sorted(full.schedule, ["message_key"]))
    skipped = pl.concat([p.skipped for p in parts])
    assert _sorted(skipped, SKIP_KEY).equals(_sorted(full.skipped, SKIP_KEY))


def test_warns_when_other_shards_have_no_segments(
    data: CleanData, segments: pl.DataFrame, as_of: dt.date
) -> None:
    shard = Shard(0, 2)
    ids = shard_ids(segments["customer_id"], shard)
    own = segments.filter(pl.col("customer_id").is_in(ids.implode()))
    result = plan(data, own, as_of=as_of, shard=shard)
    assert any("outside shard 0/2 have no segment row" in w for w in result.summary.warnings)
    assert not any(
        "outside shard" in w for w in plan(data, segments, as_of=as_of, shard=shard).summary.warnings
    )


def _folders(tmp_path_factory: pytest.TempPathFactory, data: CleanData, segments: pl.DataFrame) -> tuple:
    root = tmp_path_factory.mktemp("plan-shard")
    clean, seg = root / "clean", root / "seg"
    clean.mkdir()
    seg.mkdir()
    for name in ("customers", "invoices", "payments", "events"):
        frame = getattr(data, name)
        frame.collect().write_parquet(clean / f"{name}.parquet")
    segments.write_parquet(seg / "customers.parquet")
    return root, clean, seg


def test_cli_shard_needs_as_of(
    tmp_path_factory: pytest.TempPathFactory, data: CleanData, segments: pl.DataFrame
) -> None:
    root, clean, seg = _folders(tmp_path_factory, data, segments)
    runner = CliRunner()
    res = runner.invoke(
        app, ["plan", str(clean), "--segments", str(seg), "--out", str(root / "p"), "--shard", "1/2"]
    )
    assert res.exit_code == 2
    assert "--shard needs --as-of" in res.stderr
    res = runner.invoke(
        app,
        [
            "plan",
            str(clean),
            "--segments",
            str(seg),
            "--out",
            str(root / "p"),
            "--shard",
            "2/2",
            "--as-of",
            "2026-10-31",
        ],
    )
    assert res.exit_code == 2
    assert "--shard: need 0 <= I < N, found '2/2'" in res.stderr


def test_cli_shards_union(
    tmp_path_factory: pytest.TempPathFactory,
    data: CleanData,
    segments: pl.DataFrame,
    as_of: dt.date,
    whole: PlanResult,
) -> None:
    root, clean, seg = _folders(tmp_path_factory, data, segments)
    runner = CliRunner()
    frames = []
    for i in range(2):
        out = root / f"shard{i}"
        res = runner.invoke(
            app,
            [
                "plan",
                str(clean),
                "--segments",
                str(seg),
                "--out",
                str(out),
                "--as-of",
                as_of.isoformat(),
                "--shard",
                f"{i}/2",
                "--report-format",
                "json",
            ],
        )
        assert res.exit_code == 0, res.output
        assert '"shard": "' + f"{i}/2" + '"' in res.stdout
        frames.append(pl.read_parquet(out / "schedule.parquet"))
    union = _sorted(pl.concat(frames), ["message_key"])
    assert union.equals(_sorted(whole.schedule, ["message_key"]))
