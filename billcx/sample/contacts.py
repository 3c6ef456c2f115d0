"""Who customers are: names, e-mail addresses, phone numbers and postal addresses, per language.

Vectorised: each column is drawn for all rows at once from the small lists in
:mod:`billcx.sample.countries`.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt
import polars as pl

from billcx.sample.countries import (
    FIRST_NAMES,
    LAST_NAMES,
    LINE2,
    NUMBER_AFTER_STREET,
    POSTAL_LETTERS,
    STREETS,
    PhoneRange,
    ascii_fold,
)
from billcx.sample.draws import choice, index_of, pick

Ints = npt.NDArray[np.int64]
Bools = npt.NDArray[np.bool_]


def fill_template(rng: np.random.Generator, templates: pl.Series) -> pl.Series:
    """Replace each ``#`` by a random digit and each ``@`` by a random postcode letter."""
    n = len(templates)
    out = templates
    width = int(templates.str.len_chars().to_numpy().max(initial=0))
    letters = pl.Series(list(POSTAL_LETTERS))
    for _ in range(width):
        digit = pl.Series(rng.integers(0, 10, n)).cast(pl.String)
        letter = letters.gather(rng.integers(0, len(POSTAL_LETTERS), n))
        out = (pl.DataFrame({"t": out, "d": digit, "l": letter})
               .select(pl.col("t").str.replace("#", pl.col("d"), literal=True)
                       .str.replace("@", pl.col("l"), literal=True))["t"])
    return out


def names(rng: np.random.Generator, lang: npt.NDArray[np.str_], business: Bools,
           suffix: pl.Series) -> tuple[pl.Series, pl.Series, pl.Series]:
    """Display names (people, or businesses with the country's suffix) and the ASCII first/last parts
    used for e-mail addresses."""
    langs = tuple(FIRST_NAMES)
    firsts = [f for g in langs for f in FIRST_NAMES[g]]
    lasts = [x for g in langs for x in LAST_NAMES[g]]
    f_start = np.cumsum([0] + [len(FIRST_NAMES[g]) for g in langs])[:-1]
    l_start = np.cumsum([0] + [len(LAST_NAMES[g]) for g in langs])[:-1]
    g = index_of(lang, langs)
    fi = pick(rng, f_start[g], np.array([len(FIRST_NAMES[x]) for x in langs])[g])
    li = pick(rng, l_start[g], np.array([len(LAST_NAMES[x]) for x in langs])[g])
    first = pl.Series(firsts).gather(fi)
    last = pl.Series(lasts).gather(li)
    first_ascii = pl.Series([ascii_fold(x) for x in firsts]).gather(fi)
    last_ascii = pl.Series([ascii_fold(x) for x in lasts]).gather(li)
    is_ja = pl.Series(lang == "ja")
    frame = pl.DataFrame({"f": first, "l": last, "s": suffix, "ja": is_ja, "b": pl.Series(business)})
    name = frame.select(
        pl.when(pl.col("b") & pl.col("ja")).then(pl.col("s") + pl.col("l"))
        .when(pl.col("b")).then(pl.col("l") + " " + pl.col("s"))
        .when(pl.col("ja")).then(pl.col("l") + " " + pl.col("f"))
        .otherwise(pl.col("f") + " " + pl.col("l"))
    ).to_series()
    return name, first_ascii, last_ascii


def emails(rng: np.random.Generator, first: pl.Series, last: pl.Series, business: Bools) -> pl.Series:
    """Addresses on the reserved example.com/.org/.net domains (4% missing)."""
    n = len(first)
    number = rng.integers(1, 100, n)
    with_number = rng.random(n) < 0.55
    style = rng.integers(0, 3, n)
    tld = pl.Series(["com", "org", "net"]).gather(choice(rng, (0.6, 0.2, 0.2), n))
    frame = pl.DataFrame({
        "f": first, "l": last, "b": business, "style": style, "tld": tld,
        "num": pl.Series(number).cast(pl.String), "has_num": with_number,
        "missing": rng.random(n) < 0.04,
    })
    num = pl.when(pl.col("has_num")).then(pl.col("num")).otherwise(pl.lit(""))
    local = (
        pl.when(pl.col("b")).then(pl.concat_str([pl.lit("accounts."), pl.col("l"), num]))
        .when(pl.col("style") == 0).then(pl.concat_str([pl.col("f"), pl.lit("."), pl.col("l"), num]))
        .when(pl.col("style") == 1).then(pl.concat_str([pl.col("f").str.slice(0, 1), pl.col("l"), num]))
        .otherwise(pl.concat_str([pl.col("f"), pl.lit("_"), pl.col("l"), num]))
    )
    return frame.select(
        pl.when(pl.col("missing")).then(None)
        .otherwise(pl.concat_str([local, pl.lit("@example."), pl.col("tld")])).alias("email")
    ).to_series()


def phones(rng: np.random.Generator, group_of: Ints, ranges: list[tuple[PhoneRange, ...]]) -> pl.Series:
    """E.164 numbers, each drawn from one of the ranges of its row's group."""
    flat: list[PhoneRange] = [r for rs in ranges for r in rs]
    start = np.cumsum([0] + [len(rs) for rs in ranges])[:-1]
    count = np.array([len(rs) for rs in ranges])
    chosen = pick(rng, start[group_of], count[group_of])
    low = np.array([r.low for r in flat])[chosen]
    high = np.array([r.high for r in flat])[chosen]
    number = low + np.floor(rng.random(len(chosen)) * (high - low + 1)).astype(np.int64)
    frame = pl.DataFrame({
        "p": pl.Series([r.prefix for r in flat]).gather(chosen),
        "w": pl.Series([r.width for r in flat]).gather(chosen),
        "n": pl.Series(number).cast(pl.String),
    })
    return frame.select(pl.col("p") + pl.col("n").str.zfill(pl.col("w"))).to_series()


def addresses(rng: np.random.Generator, lang: npt.NDArray[np.str_],
              cities: list[tuple[tuple[str, str], ...]], group_of: Ints) -> pl.DataFrame:
    """Postal addresses written the way each language orders them, with a city of the row's group.

    Args:
        rng: random stream.
        lang: language of each row (decides street names and the number's place).
        cities: per group, (city, postal template) pairs.
        group_of: each row's group.

    Returns:
        address_line1, address_line2 (12% filled), postal_code and city columns.
    """
    n = len(lang)
    s_langs = tuple(STREETS)
    s_flat = [s for g in s_langs for s in STREETS[g]]
    s_count = np.array([len(STREETS[g]) for g in s_langs])
    s_start = np.cumsum(s_count) - s_count
    g = index_of(lang, s_langs)
    street = pl.Series(s_flat).gather(pick(rng, s_start[g], s_count[g]))
    house = pl.Series(rng.integers(1, 240, n)).cast(pl.String)
    after = pl.Series(np.isin(lang, list(NUMBER_AFTER_STREET)))
    ja = pl.Series(lang == "ja")
    block = pl.Series(rng.integers(1, 30, n)).cast(pl.String)
    line2_on = pl.Series(rng.random(n) < 0.12)
    line2_tpl = pl.Series([LINE2[x] for x in s_langs]).gather(g)
    c_flat = [c for cs in cities for c in cs]
    c_count = np.array([len(cs) for cs in cities])
    city_pick = pick(rng, (np.cumsum(c_count) - c_count)[group_of], c_count[group_of])
    city = pl.Series([c for c, _ in c_flat]).gather(city_pick)
    postal = fill_template(rng, pl.Series([t for _, t in c_flat]).gather(city_pick))
    unit = pl.Series(rng.integers(1, 60, n)).cast(pl.String)
    lines = pl.DataFrame({"s": street, "h": house, "a": after, "ja": ja, "b": block, "on": line2_on,
                         "t": line2_tpl, "u": unit}).select(
        pl.when(pl.col("ja")).then(pl.concat_str([pl.col("s"), pl.col("b"), pl.lit("-"), pl.col("h")]))
        .when(pl.col("a")).then(pl.concat_str([pl.col("s"), pl.lit(" "), pl.col("h")]))
        .otherwise(pl.concat_str([pl.col("h"), pl.lit(" "), pl.col("s")])).alias("address_line1"),
        pl.when(pl.col("on")).then(pl.col("t").str.replace("{n}", pl.col("u"), literal=True))
        .otherwise(None).alias("address_line2"),
    )
    return lines.with_columns(postal_code=postal, city=city)
