"""clean_text's fast path (already tidy text) gives exactly what the two regex passes give."""

from __future__ import annotations

import re

from hypothesis import given
from hypothesis import strategies as st

from billcx.render.renderer import clean_text


def _reference(text: str) -> str:
    tidy = re.sub(r"[ \t]+\n", "\n", text.replace("\r\n", "\n"))
    return re.sub(r"\n{3,}", "\n\n", tidy).strip()


@given(st.text(alphabet=st.sampled_from(list("ab \t\r\n\u00a0é")), max_size=40))
def test_clean_text_matches_the_regex_passes(text: str) -> None:
    assert clean_text(text) == _reference(text)


def test_trailing_blanks_and_blank_runs_are_tidied() -> None:
    assert clean_text("  Hello \t\r\n\n\n\nWorld  \n") == "Hello\n\nWorld"
    assert clean_text("Already\n\ntidy") == "Already\n\ntidy"
