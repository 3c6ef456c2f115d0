"""The UTF-8 check that decides a file's encoding: the first invalid byte, at any step size.

ASCII steps are skipped without decoding, so the cases that matter are a multi-byte character cut
by a step boundary and followed by ASCII (still valid), and one left unfinished (invalid).
"""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from billcx.ingest import encoding
from billcx.ingest.encoding import first_invalid_utf8


def _reference(data: bytes) -> int | None:
    try:
        data.decode("utf-8")
    except UnicodeDecodeError as exc:
        return exc.start
    return None


_PIECES = st.one_of(
    st.binary(min_size=1, max_size=6).filter(bytes.isascii),
    st.sampled_from(["é", "€", "𝄞", "ß"]).map(lambda c: c.encode("utf-8")),
    st.sampled_from([b"\xe9", b"\xff", b"\xc3", b"\xe2\x82", b"\x80"]),  # cp1252, invalid, cut short
)


@settings(max_examples=200, deadline=None)
@given(pieces=st.lists(_PIECES, max_size=20), step=st.integers(1, 9))
def test_first_invalid_byte_matches_a_full_decode(tmp_path_factory: pytest.TempPathFactory,
                                                  pieces: list[bytes], step: int) -> None:
    data = b"".join(pieces)
    path = tmp_path_factory.mktemp("enc") / "f.csv"
    path.write_bytes(data)
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(encoding, "STEP", step)
        assert first_invalid_utf8(path) == _reference(data)


def test_character_cut_by_a_step_then_ascii_is_valid(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "cut.csv"
    path.write_bytes("a€".encode() + b"bcdef")  # steps of 2: b"a\xe2", b"\x82\xac", b"bc", ...
    monkeypatch.setattr(encoding, "STEP", 2)
    assert first_invalid_utf8(path) is None


def test_character_left_open_before_ascii_is_invalid(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "open.csv"
    path.write_bytes(b"ab\xe2\x82cd")  # the euro sign's third byte is missing
    monkeypatch.setattr(encoding, "STEP", 4)
    assert first_invalid_utf8(path) == 2
