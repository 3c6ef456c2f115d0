"""billcx segment stage: RFM, payment behaviour, late-payment risk, lifetime value, cohorts, tiers.

Entry point: :func:`segment` (data + as-of + settings -> :class:`SegmentResult`), written with
:func:`write_segment`.  The repeat-purchase summary and the BG/NBD and Gamma-Gamma fitters are
usable on their own: :func:`summary_data`, :func:`fit_bgnbd`, :func:`fit_gamma_gamma`.
"""

from __future__ import annotations

from billcx.segment.bgnbd import BgNbdFit, BgNbdParams, expected_purchases, fit_bgnbd, probability_alive
from billcx.segment.clv import customer_lifetime_value, summary_data
from billcx.segment.fitting import FitError
from billcx.segment.gamma_gamma import GammaGammaFit, GammaGammaParams, expected_spend, fit_gamma_gamma
from billcx.segment.pipeline import segment
from billcx.segment.result import SegmentResult, write_segment
from billcx.segment.settings import (
    BehaviourSettings,
    ClvSettings,
    RfmSettings,
    RiskSettings,
    SegmentSettings,
    TierSettings,
)

__all__ = [
    "BehaviourSettings", "BgNbdFit", "BgNbdParams", "ClvSettings", "FitError", "GammaGammaFit",
    "GammaGammaParams", "RfmSettings", "RiskSettings", "SegmentResult", "SegmentSettings", "TierSettings",
    "customer_lifetime_value", "expected_purchases", "expected_spend", "fit_bgnbd", "fit_gamma_gamma",
    "probability_alive", "segment", "summary_data", "write_segment",
]
