"""Settings of the segment stage: windows, thresholds, tiers and model parameters.

Every threshold the stage uses lives here, with a default that suits a typical B2B or subscription
receivables ledger.  Build them from TOML with ``billcx.config.from_mapping(SegmentSettings, table)``
(the ``[segment]`` table of ``billcx.toml``, or ``billcx segment --settings FILE``).
"""

from __future__ import annotations

from dataclasses import dataclass, field


def _check(condition: bool, message: str) -> None:
    if not condition:
        raise ValueError(message)


@dataclass(frozen=True)
class RfmSettings:
    """RFM scoring.

    Attributes:
        window_days: frequency and monetary count payments in the last ``window_days`` days up to
            and including the as-of date; recency looks at the whole history.
    """

    window_days: int = 365

    def __post_init__(self) -> None:
        _check(self.window_days >= 1, f"window_days must be at least 1, found {self.window_days}")


@dataclass(frozen=True)
class BehaviourSettings:
    """Payment behaviour features.

    Attributes:
        grace_days: an invoice settled up to this many days after its due date still counts as on
            time (and is not yet overdue).
        trend_days: the lateness trend compares the mean lateness of resolved invoices due in the
            last ``trend_days`` days with the mean of the earlier ones.
    """

    grace_days: int = 0
    trend_days: int = 90

    def __post_init__(self) -> None:
        _check(self.grace_days >= 0, f"grace_days must be 0 or more, found {self.grace_days}")
        _check(self.trend_days >= 1, f"trend_days must be at least 1, found {self.trend_days}")


@dataclass(frozen=True)
class RiskSettings:
    """The late-payment risk model.

    Attributes:
        min_training_invoices: fewer invoices with a known outcome than this and the model is not
            fitted: transparent rules score every invoice instead (and the report says so).
        min_class_invoices: each outcome (late, on time) needs at least this many invoices.
        max_training_rows: a larger history is sampled down to this many rows (seeded, the same
            fraction of every issue month), so fitting time stops growing with the ledger.
        validation_fraction: the latest share of labelled invoices (by issue date) held out to
            measure AUC, Brier score and calibration.
        calibration_fraction: the share before the validation slice on which the evaluated model is
            calibrated; the production model is calibrated on the latest slice of this size.
        regularisation_c: inverse L2 strength of the logistic regression (scikit-learn's ``C``).
        seed: seed of the training-row sample.
        history_invoices: "the last N invoices" in the features and reasons.
        calibration_bins: number of equal-width probability bins in the calibration table.
        reasons: how many reasons each score carries at most.
        prior_weight: weight, in invoices, of the population late rate when smoothing a customer's
            own late rate (model features and rules).
        default_late_rate: late rate assumed by the rules when no invoice has a known outcome.
    """

    min_training_invoices: int = 200
    min_class_invoices: int = 20
    max_training_rows: int = 100_000
    validation_fraction: float = 0.2
    calibration_fraction: float = 0.2
    regularisation_c: float = 1.0
    seed: int = 20240601
    history_invoices: int = 5
    calibration_bins: int = 10
    reasons: int = 3
    prior_weight: float = 2.0
    default_late_rate: float = 0.25

    def __post_init__(self) -> None:
        _check(self.min_training_invoices >= 10,
               f"min_training_invoices must be at least 10, found {self.min_training_invoices}")
        _check(self.min_class_invoices >= 2,
               f"min_class_invoices must be at least 2, found {self.min_class_invoices}")
        _check(self.max_training_rows >= 1000,
               f"max_training_rows must be at least 1000, found {self.max_training_rows}")
        for name in ("validation_fraction", "calibration_fraction"):
            value = getattr(self, name)
            _check(0.05 <= value <= 0.4, f"{name} must be between 0.05 and 0.4, found {value}")
        _check(self.regularisation_c > 0, f"regularisation_c must be positive, found {self.regularisation_c}")
        _check(
            self.history_invoices >= 1, f"history_invoices must be at least 1, found {self.history_invoices}"
        )
        _check(
            self.calibration_bins >= 2, f"calibration_bins must be at least 2, found {self.calibration_bins}"
        )
        _check(self.reasons >= 1, f"reasons must be at least 1, found {self.reasons}")
        _check(self.prior_weight >= 0, f"prior_weight must be 0 or more, found {self.prior_weight}")
        _check(0 < self.default_late_rate < 1,
               f"default_late_rate must be between 0 and 1, found {self.default_late_rate}")


@dataclass(frozen=True)
class ClvSettings:
    """Repeat-purchase models (BG/NBD, Gamma-Gamma) and lifetime value.

    Attributes:
        horizon_months: expected invoices, spend and CLV look this many months ahead.
        discount_rate_monthly: monthly discount rate of the CLV sum.
        min_customers: fewer customers than this and BG/NBD is not fitted (empirical fallback).
        min_repeat_customers: fewer repeat customers than this (per currency for Gamma-Gamma) and
            the model is not fitted.
        penalizer: L2 penalty on the parameters, as in lifetimes (0 = plain maximum likelihood).
        max_fit_customers: the models are fitted on a seeded sample of at most this many customers
            (estimates from 100,000 customers are as good as from millions); every customer is scored.
        seed: seed of that sample.
    """

    horizon_months: int = 12
    discount_rate_monthly: float = 0.01
    min_customers: int = 30
    min_repeat_customers: int = 20
    penalizer: float = 0.0
    max_fit_customers: int = 100_000
    seed: int = 20240601

    def __post_init__(self) -> None:
        _check(self.max_fit_customers >= 1000,
               f"max_fit_customers must be at least 1000, found {self.max_fit_customers}")
        _check(1 <= self.horizon_months <= 120,
               f"horizon_months must be between 1 and 120, found {self.horizon_months}")
        _check(0 <= self.discount_rate_monthly < 1,
               f"discount_rate_monthly must be in [0, 1), found {self.discount_rate_monthly}")
        _check(self.min_customers >= 5, f"min_customers must be at least 5, found {self.min_customers}")
        _check(self.min_repeat_customers >= 3,
               f"min_repeat_customers must be at least 3, found {self.min_repeat_customers}")
        _check(self.penalizer >= 0, f"penalizer must be 0 or more, found {self.penalizer}")


@dataclass(frozen=True)
class TierSettings:
    """Value tier, risk tier and treatment thresholds.

    Attributes:
        value_high_share: the top share of customers by lifetime value (within a currency) is
            ``high`` value.
        value_medium_share: the next share is ``medium``; the rest ``low``.
        risk_high: late probability at or above which the risk tier is ``high``.
        risk_medium: late probability at or above which the risk tier is ``medium``.
        new_max_invoices: a customer with fewer resolved invoices than this is ``new`` ...
        new_max_tenure_days: ... or one whose relationship is younger than this many days.
        dormant_days: no invoice and no payment for this many days: ``dormant``.
        chronic_on_time_rate: an on-time rate below this (with enough resolved invoices) is
            ``chronic_late``.
        chronic_min_invoices: resolved invoices needed before a customer can be ``chronic_late``.
        slipping_trend_days: a lateness trend of at least this many days (recent minus earlier) makes
            a high-value customer ``valued_slipping``.
        reliable_on_time_rate: an on-time rate at or above this, low risk and nothing overdue is
            ``reliable``.
    """

    value_high_share: float = 0.2
    value_medium_share: float = 0.3
    risk_high: float = 0.5
    risk_medium: float = 0.2
    new_max_invoices: int = 2
    new_max_tenure_days: int = 60
    dormant_days: int = 180
    chronic_on_time_rate: float = 0.5
    chronic_min_invoices: int = 3
    slipping_trend_days: float = 3.0
    reliable_on_time_rate: float = 0.9

    def __post_init__(self) -> None:
        _check(0 < self.value_high_share < 1 and 0 <= self.value_medium_share < 1
               and self.value_high_share + self.value_medium_share <= 1,
               "value_high_share and value_medium_share must be shares adding up to at most 1")
        _check(0 < self.risk_medium < self.risk_high < 1,
               f"need 0 < risk_medium < risk_high < 1, found {self.risk_medium} and {self.risk_high}")
        _check(0 <= self.chronic_on_time_rate <= 1 and 0 <= self.reliable_on_time_rate <= 1,
               "on-time rates must be between 0 and 1")
        for name in ("new_max_invoices", "new_max_tenure_days", "dormant_days", "chronic_min_invoices"):
            _check(getattr(self, name) >= 0, f"{name} must be 0 or more, found {getattr(self, name)}")


@dataclass(frozen=True)
class SegmentSettings:
    """All settings of ``billcx segment`` (the ``[segment]`` table of ``billcx.toml``)."""

    rfm: RfmSettings = field(default_factory=RfmSettings)
    behaviour: BehaviourSettings = field(default_factory=BehaviourSettings)
    risk: RiskSettings = field(default_factory=RiskSettings)
    clv: ClvSettings = field(default_factory=ClvSettings)
    tiers: TierSettings = field(default_factory=TierSettings)
