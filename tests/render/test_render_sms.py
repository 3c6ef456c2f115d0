"""SMS encoding, segment counting and normalisation."""

from __future__ import annotations

from decimal import Decimal

from babel.numbers import format_currency
from hypothesis import given
from hypothesis import strategies as st

from billcx.render import sms

GSM_CHARS = sorted(sms.GSM7_BASIC | sms.GSM7_EXTENSION)


def test_gsm_single_and_multi_segment_boundaries() -> None:
    assert sms.segments("a" * 160) == 1
    assert sms.segments("a" * 161) == 2
    assert sms.segments("a" * 306) == 2
    assert sms.segments("a" * 307) == 3
    assert sms.encoding("a" * 400) == "GSM-7"


def test_extension_characters_count_twice() -> None:
    assert sms.segments("€" * 80) == 1  # 160 septets
    assert sms.segments("€" * 81) == 2  # 162 septets
    assert sms.segments("a" * 159 + "€") == 2
    # 152 septets then an escape pair: the pair may not straddle the 153-septet boundary.
    assert sms.segments("a" * 152 + "[" + "a" * 152) == 3
    assert sms.segments("a" * 151 + "[" + "a" * 153) == 2


def test_ucs2_boundaries_and_surrogate_pairs() -> None:
    assert sms.encoding("ç") == "UCS-2"
    assert sms.segments("ç" * 70) == 1
    assert sms.segments("ç" * 71) == 2
    assert sms.segments("ç" * 134) == 2
    assert sms.segments("ç" * 135) == 3
    assert sms.segments("😀" * 35) == 1  # 70 UTF-16 units
    assert sms.segments("😀" * 36) == 2
    assert sms.segments("a" * 66 + "😀" + "a" * 66) == 3  # the pair moves to segment 2 whole


def test_one_non_gsm_character_switches_the_whole_text() -> None:
    text = "Hello " * 20
    assert (sms.encoding(text), sms.segments(text)) == ("GSM-7", 1)
    assert (sms.encoding(text + "ê"), sms.segments(text + "ê")) == ("UCS-2", 2)


def test_babel_spaces_are_normalised_to_plain_spaces() -> None:
    raw = format_currency(Decimal("1234.56"), "EUR", locale="fr_FR")
    assert "\u202f" in raw and "\xa0" in raw  # what CLDR really produces
    text = sms.normalise(f"Montant : {raw}")
    assert "\u202f" not in text and "\xa0" not in text
    assert text == "Montant : 1 234,56 €"
    assert sms.encoding(text) == "GSM-7"


def test_normalise_swiss_apostrophe_minus_and_layout_whitespace() -> None:
    swiss = format_currency(Decimal("-1234.5"), "CHF", locale="de_CH")
    assert sms.normalise(swiss) == "CHF-1'234.50"
    assert sms.normalise("  a\n\n  b\u2212c\u200e  ") == "a b-c"


def test_prepare_with_gsm_fallback_folds_accents() -> None:
    plain = sms.prepare("Está en línea")
    folded = sms.prepare("Está en línea", fallback_to_gsm=True)
    assert plain.encoding == "UCS-2"
    assert (folded.text, folded.encoding) == ("Esta en linea", "GSM-7")


@given(st.text(alphabet=GSM_CHARS, max_size=500))
def test_pure_gsm_text_is_never_ucs2(text: str) -> None:
    assert sms.encoding(text) == "GSM-7"


@given(st.text(max_size=400), st.characters())
def test_segments_never_decrease_when_text_grows(text: str, extra: str) -> None:
    assert sms.segments(text) <= sms.segments(text + extra)


@given(st.text(alphabet=GSM_CHARS, max_size=600))
def test_gsm_segments_match_the_septet_formula_without_extension_chars(text: str) -> None:
    septets = sum(2 if c in sms.GSM7_EXTENSION else 1 for c in text)
    n = sms.segments(text)
    if septets <= 160:
        assert n == 1
    else:
        assert n >= -(-septets // 153)  # at least the naive count; more only when a pair is kept whole
        assert n <= -(-septets // 152)
