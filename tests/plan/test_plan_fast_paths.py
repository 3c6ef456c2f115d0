"""The plan's fast paths give exactly what the obvious polars (or Python) code gives."""

from __future__ import annotations

import datetime as dt
import zoneinfo

import polars as pl
import pytest

from billcx.hashing import digest_hex
from billcx.plan import tz
from billcx.plan.frames import attach
from billcx.plan.keys import KEY_LENGTH, message_keys
from billcx.plan.reasons import concat_reasons
from billcx.plan.tz import local_slots


def test_concat_reasons_equals_concat_list_drop_nulls() -> None:
    frame = pl.DataFrame(
        {
            "a": [["x", None, "y"], [], ["z"], ["w"]],
            "b": ["s", None, None, "t"],
            "n": [1, 2, 3, 0],
        }
    )
    got = concat_reasons(frame, ["a", "b", (pl.col("n") > 1, pl.format("n={}", pl.col("n"))), "a"])
    expected = frame.select(
        pl.concat_list("a", "b", pl.when(pl.col("n") > 1).then(pl.format("n={}", pl.col("n"))), "a")
        .list.drop_nulls()
        .alias("reasons")
    ).to_series()
    assert (
        got.to_list()
        == expected.to_list()
        == [
            ["x", "y", "s", "x", "y"],
            ["n=2"],
            ["z", "n=3", "z"],
            ["w", "t", "w"],
        ]
    )
    assert got.dtype == pl.List(pl.String)


def test_concat_reasons_null_list_is_empty_and_empty_frame() -> None:
    frame = pl.DataFrame(
        {"a": [None, ["x"]], "b": [None, None]}, schema={"a": pl.List(pl.String), "b": pl.String}
    )
    assert concat_reasons(frame, ["a", "b"]).to_list() == [[], ["x"]]
    assert concat_reasons(frame.head(0), ["a", "b"]).to_list() == []
    with pytest.raises(TypeError, match="expected String or List"):
        concat_reasons(pl.DataFrame({"n": [1]}), ["n"])


def test_attach_equals_left_join_and_rejects_duplicate_keys() -> None:
    frame = pl.DataFrame({"k": [3, 1, 2, None], "v": ["c", "a", "b", "n"]})
    lookup = pl.DataFrame({"k": [1, 3, 9], "x": [10, 30, 90]})
    assert attach(frame, lookup, on="k").equals(frame.join(lookup, on="k", how="left", maintain_order="left"))
    with pytest.raises(ValueError, match="duplicate keys"):
        attach(frame, pl.concat([lookup, lookup]), on="k")


def test_message_keys_are_sha256_of_the_identity_text() -> None:
    frame = pl.DataFrame(
        {
            "customer_id": ["C1", "Ç2"],
            "invoice_ids": [["I1", "I2"], []],
            "currency": ["USD", None],
            "ladder": ["standard", "thank_you"],
            "step": ["due", "thank_you"],
            "date": [dt.date(2025, 7, 1), dt.date(2025, 7, 4)],
        }
    )
    assert message_keys(frame).to_list() == [
        digest_hex("C1\x1fI1,I2\x1fUSD\x1fstandard\x1fdue\x1f2025-07-01", length=KEY_LENGTH),
        digest_hex("Ç2\x1f\x1f\x1fthank_you\x1fthank_you\x1f2025-07-04", length=KEY_LENGTH),
    ]


# Zones with DST at night (New York, Paris), in the south (Sydney, Santiago at midnight), changes at a
# half hour UTC (St Johns, Lord Howe's 30-minute shift), 45-minute offsets (Chatham, Kathmandu).
_ZONES = [
    "America/New_York",
    "Europe/Paris",
    "Australia/Sydney",
    "America/Santiago",
    "America/St_Johns",
    "Australia/Lord_Howe",
    "Pacific/Chatham",
    "Asia/Kathmandu",
    "UTC",
]


@pytest.mark.parametrize("bucket_minutes", [15, 1440])
def test_local_slots_match_zoneinfo_every_11_minutes_of_a_year(
    bucket_minutes: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    # With day-long buckets every zone with DST changes inside one: the zone-by-zone path is tested.
    monkeypatch.setattr(tz, "_BUCKET_MINUTES", bucket_minutes)
    first, last = dt.date(2025, 1, 1), dt.date(2025, 12, 31)
    start = dt.datetime(2025, 1, 1, tzinfo=dt.UTC)
    end = dt.datetime(2025, 12, 31, 23, 59, tzinfo=dt.UTC)
    instants = pl.datetime_range(start, end, interval="11m", time_unit="us", time_zone="UTC", eager=True)
    frame = pl.concat(
        [
            pl.DataFrame({"at": instants, "zone": i, "z": i, "row": pl.int_range(instants.len(), eager=True)})
            for i in range(len(_ZONES))
        ]
    )
    got = local_slots(frame.lazy(), instant="at", zone="zone", zones=_ZONES, first=first, last=last)
    expected = []
    for i, name in enumerate(_ZONES):
        zi = zoneinfo.ZoneInfo(name)
        for row, at in enumerate(instants.to_list()):
            local = at.astimezone(zi)
            if local.date() > first:
                expected.append((i, row, local.weekday() * 24 + local.hour))
    assert got.columns == ["z", "row", "slot"]
    assert sorted(got.rows()) == expected
