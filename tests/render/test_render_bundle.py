"""The bundle: golden files, byte-identical reruns, checksums, atomic replacement, workers."""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

import polars as pl
import pytest

from billcx.errors import UsageError
from billcx.render import pipeline, render, write_bundle
from billcx.render.result import BodyStore
from billcx.store import CleanData

from .builders import golden_rows, row, schedule

GOLDEN = Path(__file__).parent / "golden"
TEXT_FILES = ("manifest.jsonl", "manifest.csv", "sms.csv", "push.csv", "tasks.csv", "failures.csv")


def _files(folder: Path) -> dict[str, bytes]:
    return {
        p.relative_to(folder).as_posix(): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()
    }


def test_golden_bundle(data: CleanData, tmp_path: Path) -> None:
    result = render(schedule(golden_rows()), data)
    assert result.ok, result.failures.to_dicts()
    c = result.counts
    assert (c.scheduled, c.holdout, c.rendered, c.tasks, c.failed) == (10, 1, 8, 1, 0)
    assert c.by_channel == {"email": 4, "sms": 2, "letter": 1, "push": 1}
    files = _files(write_bundle(result, tmp_path / "bundle"))
    compared = [p for p in files if p in TEXT_FILES or p.startswith("email/")]
    assert len(compared) == len(TEXT_FILES) + 4
    if os.environ.get("BILLCX_UPDATE_GOLDEN") == "1":
        for p in compared:
            (GOLDEN / p).parent.mkdir(parents=True, exist_ok=True)
            (GOLDEN / p).write_bytes(files[p])
    for p in compared:
        assert (GOLDEN / p).exists(), f"missing golden {p}; rerun with BILLCX_UPDATE_GOLDEN=1"
        assert files[p] == (GOLDEN / p).read_bytes(), f"{p} differs from its golden file"


def test_rerender_is_byte_identical_including_pdfs(data: CleanData, tmp_path: Path) -> None:
    first = _files(write_bundle(render(schedule(golden_rows()), data), tmp_path / "a"))
    second = _files(write_bundle(render(schedule(golden_rows()), data), tmp_path / "b"))
    assert "letters/m-de-final-letter.pdf" in first
    assert first == second


def test_sha256sums_cover_every_file_and_are_written_last(data: CleanData, tmp_path: Path) -> None:
    out = write_bundle(render(schedule(golden_rows()), data), tmp_path / "bundle")
    lines = (out / "SHA256SUMS").read_text().splitlines()
    listed = {}
    for line in lines:
        digest, path = line.split("  ", 1)
        listed[path] = digest
    assert set(listed) == set(_files(out)) - {"SHA256SUMS"}
    for path, digest in listed.items():
        assert hashlib.sha256((out / path).read_bytes()).hexdigest() == digest
    assert lines == sorted(lines, key=lambda x: x.split("  ", 1)[1])


def test_manifest_rows_match_files(data: CleanData, tmp_path: Path) -> None:
    result = render(schedule(golden_rows()), data)
    out = write_bundle(result, tmp_path / "bundle")
    for r in result.manifest.filter(pl.col("channel").is_in(["email", "letter"])).iter_rows(named=True):
        body = (out / r["path"]).read_bytes()
        assert (len(body), hashlib.sha256(body).hexdigest()) == (r["bytes"], r["sha256"])
    sms = result.sms.row(0, named=True)
    manifest = result.manifest.filter(pl.col("message_key") == sms["message_key"]).row(0, named=True)
    assert manifest["sha256"] == hashlib.sha256(sms["text"].encode()).hexdigest()
    assert manifest["sms_segments"] == sms["segments"] and manifest["sms_encoding"] == sms["encoding"]
    assert "m-holdout" not in result.manifest["message_key"].to_list()


def test_csv_files_are_formula_safe_but_keep_e164_numbers(data: CleanData, tmp_path: Path) -> None:
    cust = data.customers.with_columns(
        pl.when(pl.col("customer_id") == "C3")
        .then(pl.lit('=HYPERLINK("x")'))
        .otherwise(pl.col("name"))
        .alias("name")
    )
    data = CleanData(cust, data.invoices, data.payments)
    rows = [
        row("t", "C3", ["D-1"], "EUR", 12_000, "final_notice", "task"),
        row("s", "C3", ["D-1"], "EUR", 12_000, "due", "sms"),
    ]
    out = write_bundle(render(schedule(rows), data), tmp_path / "bundle")
    assert "'=HYPERLINK" in (out / "tasks.csv").read_text()
    assert '\ns,+4915112345678,"Example Co:' in (out / "sms.csv").read_text()
    assert "'+4915112345678" in (out / "manifest.csv").read_text()


def test_existing_bundle_is_replaced_but_other_folders_are_refused(data: CleanData, tmp_path: Path) -> None:
    result = render(schedule(golden_rows()[:1]), data)
    out = tmp_path / "bundle"
    write_bundle(render(schedule(golden_rows()), data), out)
    write_bundle(result, out)
    assert sorted(p.name for p in (out / "email").iterdir()) == ["m-fr-overdue-email.eml"]
    precious = tmp_path / "home"
    precious.mkdir()
    (precious / "notes.txt").write_text("keep me")
    with pytest.raises(UsageError, match="is not a billcx bundle; refusing to replace it"):
        write_bundle(result, precious)
    assert (precious / "notes.txt").read_text() == "keep me"


def test_workers_give_the_same_result(data: CleanData, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(pipeline, "MIN_PARALLEL_ROWS", 1)
    monkeypatch.setattr(pipeline, "CHUNK_ROWS", 3)
    sched = schedule(golden_rows())
    one = render(sched, data)
    two = render(sched, data, workers=2)
    assert one.manifest.equals(two.manifest)
    assert one.sms.equals(two.sms) and one.failures.equals(two.failures)
    assert list(one.bodies) == list(two.bodies)


def test_duplicate_keys_and_unknown_customers_are_failures(data: CleanData) -> None:
    rows = [
        row("dup", "C4", ["U-1"], "USD", 9_999, "due", "sms"),
        row("dup", "C4", ["U-1"], "USD", 9_999, "due", "email"),
        row("ghost", "C9", [], "USD", 100, "due", "sms"),
        row("bad/key", "C4", ["U-1"], "USD", 9_999, "due", "sms"),
        row("noinv", "C4", ["U-404"], "USD", 9_999, "due", "sms"),
    ]
    result = render(schedule(rows), data)
    got = sorted(zip(result.failures["message_key"], result.failures["code"], strict=True))
    assert got == [
        ("bad/key", "key"),
        ("dup", "duplicate-key"),
        ("dup", "duplicate-key"),
        ("ghost", "data"),
        ("noinv", "data"),
    ]
    assert result.exit_code == 1


def test_body_store_keeps_each_bodys_digest_and_order() -> None:
    store = BodyStore()
    store.add("email/b.eml", b"second body")
    store.add("email/a.eml", b"first", sha256="given-digest")
    assert [(p, d) for p, d, _ in store.items()] == [
        ("email/b.eml", b"second body"), ("email/a.eml", b"first")]
    digests = {p: s for p, _, s in store.items()}
    assert digests == {"email/b.eml": hashlib.sha256(b"second body").hexdigest(),
                       "email/a.eml": "given-digest"}
    with pytest.raises(ValueError, match="duplicate bundle path"):
        store.add("email/a.eml", b"again")
