"""billcx segment stage: RFM, payment behaviour, late-payment risk, lifetime value, cohorts, tiers.

Entry point: :func:`segment` (data + as-of + settings -> :class:`SegmentResult`), written with
:func:`write_segment`.  Sharded runs score against a :class:`Population` from
:func:`fit_population`.  The repeat-purchase summary and the BG/NBD and Gamma-Gamma fitters are
usable on their own: :func:`summary_data`, :func:`fit_bgnbd`, :func:`fit_gamma_gamma`.

Names are imported on first use (PEP 562): ``from billcx.segment import summary_data`` does not
pay for scikit-learn and scipy, which only model fitting needs.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

_WHERE = {
    "segment": "pipeline",
    "fit_population": "fit",
    "Population": "population", "read_population": "population", "write_population": "population",
    "SegmentResult": "result", "write_segment": "result",
    "BehaviourSettings": "settings", "ClvSettings": "settings", "RfmSettings": "settings",
    "RiskSettings": "settings", "SegmentSettings": "settings", "TierSettings": "settings",
    "summary_data": "clv", "customer_lifetime_value": "clv",
    "BgNbdFit": "bgnbd", "BgNbdParams": "bgnbd", "expected_purchases": "bgnbd", "fit_bgnbd": "bgnbd",
    "probability_alive": "bgnbd",
    "GammaGammaFit": "gamma_gamma", "GammaGammaParams": "gamma_gamma", "expected_spend": "gamma_gamma",
    "fit_gamma_gamma": "gamma_gamma",
    "FitError": "fitting",
}

__all__ = [
    "BehaviourSettings", "BgNbdFit", "BgNbdParams", "ClvSettings", "FitError", "GammaGammaFit",
    "GammaGammaParams", "Population", "RfmSettings", "RiskSettings", "SegmentResult", "SegmentSettings",
    "TierSettings", "customer_lifetime_value", "expected_purchases", "expected_spend", "fit_bgnbd",
    "fit_gamma_gamma", "fit_population", "probability_alive", "read_population", "segment", "summary_data",
    "write_population", "write_segment",
]
assert sorted(__all__) == sorted(_WHERE)


def __getattr__(name: str) -> Any:
    if name not in _WHERE:
        raise AttributeError(f"module 'billcx.segment' has no attribute {name!r}")
    value = getattr(importlib.import_module(f"billcx.segment.{_WHERE[name]}"), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return __all__


if TYPE_CHECKING:  # static checkers see the names directly
    from billcx.segment.bgnbd import BgNbdFit, BgNbdParams, expected_purchases, fit_bgnbd, probability_alive
    from billcx.segment.clv import customer_lifetime_value, summary_data
    from billcx.segment.fit import fit_population
    from billcx.segment.fitting import FitError
    from billcx.segment.gamma_gamma import GammaGammaFit, GammaGammaParams, expected_spend, fit_gamma_gamma
    from billcx.segment.pipeline import segment
    from billcx.segment.population import Population, read_population, write_population
    from billcx.segment.result import SegmentResult, write_segment
    from billcx.segment.settings import (
        BehaviourSettings,
        ClvSettings,
        RfmSettings,
        RiskSettings,
        SegmentSettings,
        TierSettings,
    )
