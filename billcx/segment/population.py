"""The population parameters of a segment run: everything that depends on *all* customers.

A customer's scores depend on the other customers in a few places only: RFM scores and value
tiers rank customers against each other, and the risk and lifetime models are fitted on everyone.
:class:`Population` holds exactly those figures -- RFM cut points, value-tier cut points, the risk
model's coefficients, scaling and calibration, the BG/NBD and Gamma-Gamma parameters (or the
fallback decision) -- so that any subset of customers (a shard) can be scored exactly as it is
scored in the whole.  It is written as ``population.json`` (deterministic: sorted keys, floats
written exactly) and read back unchanged.

Cut points are lower bounds of the scores of the population: a value scores at least ``s`` when it
reaches the bound of ``s`` (``null``: no value of the population reaches that score).  Because a
score under the tie policy of :mod:`billcx.segment.rfm` only grows with the value, scoring a
customer against the bounds gives exactly the score the customer has in the population.
"""

from __future__ import annotations

import datetime as dt
import json
import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from billcx.atomic import write_text
from billcx.config import from_mapping, to_mapping
from billcx.errors import ConfigError, InputError, UsageError
from billcx.segment.settings import SegmentSettings

FORMAT = "billcx-segment-population/1"
FILE_NAME = "population.json"

# Bounds of scores 2, 3, 4 and 5 (score 1 needs no bound).
Bounds = tuple[int | None, int | None, int | None, int | None]


@dataclass(frozen=True)
class CurrencyBounds:
    """Score bounds of one currency (``None``: customers without a main currency)."""

    currency: str | None
    bounds: Bounds


@dataclass(frozen=True)
class RfmCuts:
    """RFM cut points.

    Attributes:
        recency_max_days: ``r_score >= s`` when ``recency_days <= recency_max_days[s - 2]``.
        frequency_min: ``f_score >= s`` when ``frequency >= frequency_min[s - 2]``.
        monetary_min: per currency, ``m_score >= s`` when ``monetary >= bounds[s - 2]``.
    """

    recency_max_days: Bounds
    frequency_min: Bounds
    monetary_min: tuple[CurrencyBounds, ...]


@dataclass(frozen=True)
class ValueCut:
    """Value-tier cut points of one currency: the least value that is ``high`` / at least ``medium``."""

    currency: str | None
    high_min: int | None
    medium_min: int | None


@dataclass(frozen=True)
class RiskParams:
    """The late-payment model as numbers (see :class:`billcx.segment.risk.RiskModel`).

    Attributes:
        method: ``logistic`` or ``rules``.
        history_invoices: N of "the last N invoices" (defines the features).
        base_rate, prior_weight: late rate of the labelled invoices; smoothing weight of the rules.
        mean, scale, coef, intercept: the logistic regression on standardised features.
        calib_a, calib_b: Platt calibration.
        next_amount, next_terms_days: typical invoice of a customer without one (medians of all).
    """

    method: Literal["logistic", "rules"]
    history_invoices: int
    base_rate: float
    prior_weight: float
    mean: tuple[float, ...]
    scale: tuple[float, ...]
    coef: tuple[float, ...]
    intercept: float
    calib_a: float
    calib_b: float
    next_amount: float
    next_terms_days: float


@dataclass(frozen=True)
class SpendParams:
    """Gamma-Gamma parameters of one currency."""

    currency: str
    p: float
    q: float
    v: float


@dataclass(frozen=True)
class LifetimeParams:
    """The lifetime models as numbers.

    Attributes:
        method: ``bgnbd``, or ``empirical`` when BG/NBD could not be used.
        r, alpha, a, b: BG/NBD parameters (weeks; null for ``empirical``).
        typical_gap_weeks: the population's median gap between invoices (the empirical fallback's
            usual gap for customers without a repeat invoice).
        spend: Gamma-Gamma parameters of every currency it could be fitted for.
    """

    method: Literal["bgnbd", "empirical"]
    r: float | None
    alpha: float | None
    a: float | None
    b: float | None
    typical_gap_weeks: float
    spend: tuple[SpendParams, ...]


@dataclass(frozen=True)
class Population:
    """Population-level parameters of one segment run (fit once, score any subset of customers).

    Attributes:
        as_of: the as-of date they were fitted for.
        export_date: the whole export's latest date (decides whether ``amount_paid`` is trusted).
        customers: customers of the population.
        settings: the settings they were fitted with (scoring must use the same).
        rfm: RFM cut points.
        value_tiers: value-tier cut points per currency.
        risk: the late-payment model.
        lifetime: the lifetime models.
        risk_report, lifetime_report: the models' sections of ``model_report.json`` (JSON data).
        warnings: fallbacks taken while fitting, in words.
    """

    as_of: dt.date
    export_date: dt.date
    customers: int
    settings: SegmentSettings
    rfm: RfmCuts
    value_tiers: tuple[ValueCut, ...]
    risk: RiskParams
    lifetime: LifetimeParams
    risk_report: dict[str, Any]
    lifetime_report: dict[str, Any]
    warnings: tuple[str, ...] = ()

    def check(self, *, as_of: dt.date | None, settings: SegmentSettings) -> dt.date:
        """The as-of date to score with, after checking that this population fits the run.

        Raises:
            UsageError: another as-of date or other settings than the population was fitted with.
        """
        if as_of is not None and as_of != self.as_of:
            raise UsageError(f"the population was fitted as of {self.as_of}, not {as_of}",
                             hint="use the same --as-of, or fit again with --fit-only")
        if settings != self.settings:
            ours, theirs = _flat(to_mapping(settings)), _flat(to_mapping(self.settings))
            diff = sorted(k for k in ours.keys() | theirs.keys() if ours.get(k) != theirs.get(k))
            raise UsageError(f"the population was fitted with other settings ({', '.join(diff)} differ)",
                             hint="use the same --settings, or fit again with --fit-only")
        return self.as_of


def _flat(mapping: dict[str, Any], prefix: str = "segment") -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in mapping.items():
        if isinstance(value, dict):
            out.update(_flat(value, f"{prefix}.{key}"))
        else:
            out[f"{prefix}.{key}"] = value
    return out


def _finite(value: Any) -> Any:
    """JSON-ready data: dates as text, non-finite floats as null (floats otherwise exact)."""
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, dict):
        return {str(k): _finite(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_finite(v) for v in value]
    if isinstance(value, dt.date):
        return value.isoformat()
    return value


def population_json(population: Population) -> str:
    """Deterministic JSON text of a population (sorted keys, floats written exactly)."""
    data = {"format": FORMAT, **to_mapping(population)}
    return json.dumps(_finite(data), indent=2, sort_keys=True, ensure_ascii=False, allow_nan=False) + "\n"


def population_from_json(text: str, *, where: str = FILE_NAME) -> Population:
    """Read :func:`population_json` text back.

    Raises:
        InputError: not JSON, another format, or a missing or mistyped field (named in the message).
    """
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise InputError(f"{where}:{exc.lineno}: not valid JSON ({exc.msg})",
                         hint="give the population.json that `billcx segment --fit-only` wrote") from None
    if not isinstance(data, dict) or data.get("format") != FORMAT:
        found = data.get("format") if isinstance(data, dict) else type(data).__name__
        raise InputError(f"{where}: expected a population file of format {FORMAT}, found {found!r}",
                         hint="give the population.json that `billcx segment --fit-only` wrote")
    body = {k: v for k, v in data.items() if k != "format"}
    try:
        return from_mapping(Population, body)
    except ConfigError as exc:
        raise InputError(f"{where}: {exc.message}", hint="the file was edited or is damaged; fit it again") \
            from None


def write_population(population: Population, path: str | Path) -> Path:
    """Write ``population.json`` atomically (byte-identical on rerun); returns the path."""
    target = Path(path)
    write_text(target, population_json(population))
    return target


def read_population(path: str | Path) -> Population:
    """Read a ``population.json`` (see :func:`population_from_json`).

    Raises:
        InputError: the file is missing, unreadable or not a population file.
    """
    source = Path(path)
    try:
        text = source.read_text(encoding="utf-8")
    except OSError as exc:
        raise InputError(f"{source}: cannot read ({exc.strerror})") from None
    return population_from_json(text, where=str(source))
