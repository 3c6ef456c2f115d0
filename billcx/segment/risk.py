"""Late-payment risk: a calibrated logistic model on point-in-time features, or transparent rules.

Training rows are historical invoices whose outcome is settled on the as-of date (due date plus
grace days before it); the label is "settled after due date + grace days, or not at all".  Their
features come from :mod:`billcx.segment.features` at each invoice's issue date.

* **Time split.**  Rows sorted by issue date are cut into train / calibration / validation slices
  (the latest ``validation_fraction`` validates).  A row only trains or calibrates if its outcome
  was known before the next slice starts, so no figure uses information from its own future.
* **Model.**  Standardised features -> scikit-learn ``LogisticRegression`` (L2, lbfgs: deterministic),
  then Platt (sigmoid) calibration fitted on the later slice.  Because Platt scaling is affine in the
  logit, ``coefficient x standardised value`` stays each feature's exact share of the calibrated
  logit: that is where the reasons come from.
* **Evaluation.**  AUC, Brier score (and the Brier score of always predicting the base rate) and a
  calibration table on the validation slice, for a model trained and calibrated on earlier slices.
  The production model is then refitted on everything but the latest calibration slice.
* **Scale.**  Above ``max_training_rows`` labelled invoices a seeded sample keeps the same fraction
  of every issue month, so fitting time stops growing with the ledger.
* **Rules.**  With too few labelled invoices (or too few of either outcome) no model is fitted: the
  probability is the customer's late share over the last N settled invoices, smoothed toward the
  population late rate, and the report and warnings say so.
"""

from __future__ import annotations

import datetime as dt
import logging
import math
from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np
import polars as pl

from billcx.hashing import stable_hash_series
from billcx.segment.features import Feature, History, features, model_matrix, point_in_time_features
from billcx.segment.ledger import Ledger
from billcx.segment.population import RiskParams
from billcx.segment.settings import RiskSettings

log = logging.getLogger(__name__)

# A validation AUC above this on billing data almost always means an outcome leaked into a feature.
SUSPICIOUS_AUC = 0.95


@dataclass(frozen=True)
class RiskModel:
    """A fitted late-payment model (or the rules that stand in for one).

    Attributes:
        method: ``logistic`` or ``rules``.
        features: the model's features (reason texts included).
        mean, scale: standardisation of each feature.
        coef, intercept: logistic regression on standardised features.
        calib_a, calib_b: Platt calibration ``logit' = a * logit + b``.
        base_rate: late rate of the labelled invoices (rules smooth toward it).
        prior_weight: smoothing weight of the rules, in invoices.
    """

    method: Literal["logistic", "rules"]
    features: tuple[Feature, ...]
    base_rate: float
    prior_weight: float
    mean: np.ndarray = field(default_factory=lambda: np.zeros(0))
    scale: np.ndarray = field(default_factory=lambda: np.ones(0))
    coef: np.ndarray = field(default_factory=lambda: np.zeros(0))
    intercept: float = 0.0
    calib_a: float = 1.0
    calib_b: float = 0.0

    def contributions(self, x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Per-feature shares of the calibrated logit (rows x features) and the standardised values."""
        z = (x - self.mean) / self.scale
        return z * (self.coef * self.calib_a), z

    def probability(self, x: np.ndarray) -> np.ndarray:
        """Calibrated late probability of each row of the model matrix ``x``."""
        contrib, _ = self.contributions(x)
        return _sigmoid(contrib.sum(axis=1) + self.calib_a * self.intercept + self.calib_b)

    def rule_probability(self, frame: pl.DataFrame) -> np.ndarray:
        """Rules: late share of the last N settled invoices, smoothed toward the base rate."""
        k = frame.get_column("last_late").to_numpy().astype(np.float64)
        n = frame.get_column("last_n").to_numpy().astype(np.float64)
        return (k + self.prior_weight * self.base_rate) / (n + self.prior_weight)


@dataclass(frozen=True)
class RiskFit:
    """A fitted :class:`RiskModel` with its report section and warnings."""

    model: RiskModel
    report: dict[str, Any]
    warnings: tuple[str, ...]


def _sigmoid(x: np.ndarray) -> np.ndarray:
    return 0.5 * (1.0 + np.tanh(0.5 * x))  # overflow-free logistic


def labelled_invoices(ledger: Ledger, grace_days: int) -> pl.DataFrame:
    """Invoices whose outcome is settled on the as-of date, with ``late`` and ``known_on``.

    ``known_on`` is the first day the outcome was known: the settlement day for an on-time
    invoice, the day after due date + grace for a late one.  Sorted by issue date and invoice id.
    """
    return _labelled(ledger, grace_days).sort("t", "query_id").collect()


def _labelled(ledger: Ledger, grace_days: int) -> pl.LazyFrame:
    grace = pl.duration(days=grace_days)
    deadline = pl.col("due_date") + grace
    return (
        ledger.invoices.lazy()
        .filter((pl.col("amount") > 0) & ~pl.col("undated") & (deadline < pl.lit(ledger.as_of)))
        .select(
            pl.col("invoice_id").alias("query_id"), "customer_id", pl.col("issue_date").alias("t"), "amount",
            (pl.col("due_date") - pl.col("issue_date")).dt.total_days().alias("terms_days"), "disputed",
            pl.col("late").fill_null(True).alias("late"),
            pl.when(pl.col("settled_on").is_not_null() & (pl.col("settled_on") <= deadline))
            .then(pl.col("settled_on")).otherwise(deadline + pl.duration(days=1)).alias("known_on"),
        )
    )


def sample_by_month(frame: pl.DataFrame, *, max_rows: int, seed: int) -> pl.DataFrame:
    """At most ``max_rows`` rows: the same seeded fraction of every issue month (``t``)."""
    if frame.height <= max_rows:
        return frame
    fraction = max_rows / frame.height
    rng = np.random.default_rng(seed)
    ordered = frame.sort("t", "query_id")
    return (
        ordered.with_columns(
            pl.Series("_u", rng.random(ordered.height)), pl.col("t").dt.truncate("1mo").alias("_m")
        )
        .filter(pl.col("_u").rank("ordinal").over("_m") <= (pl.len().over("_m") * fraction).ceil())
        .drop("_u", "_m")
    )


def _fit_logistic(x: np.ndarray, y: np.ndarray, c: float) -> tuple[np.ndarray, np.ndarray, np.ndarray, float]:
    # scikit-learn takes seconds to import: only runs that fit a model pay for it.
    from sklearn.linear_model import LogisticRegression
    from threadpoolctl import threadpool_limits

    mean = x.mean(axis=0)
    scale = x.std(axis=0)
    scale = np.where(scale > 1e-12, scale, 1.0)
    lr = LogisticRegression(C=c, max_iter=2000, tol=1e-8)
    with threadpool_limits(limits=1):  # deterministic sums, and faster for a few features
        lr.fit((x - mean) / scale, y)
    return mean, scale, lr.coef_[0].astype(np.float64), float(lr.intercept_[0])


def _platt(logit: np.ndarray, y: np.ndarray) -> tuple[float, float] | None:
    from sklearn.linear_model import LogisticRegression
    from threadpoolctl import threadpool_limits

    if logit.size == 0 or y.min() == y.max():
        return None
    lr = LogisticRegression(C=1e6, max_iter=2000, tol=1e-10)
    with threadpool_limits(limits=1):
        lr.fit(logit[:, None], y)
    a, b = float(lr.coef_[0][0]), float(lr.intercept_[0])
    return (a, b) if a > 0 else None


def calibration_table(p: np.ndarray, y: np.ndarray, bins: int) -> list[dict[str, Any]]:
    """Equal-width probability bins: rows, mean predicted and observed late rate per bin."""
    idx = np.minimum((p * bins).astype(np.int64), bins - 1)
    rows = []
    for b in range(bins):
        mask = idx == b
        n = int(mask.sum())
        rows.append({"bin": f"{b / bins:.2f}-{(b + 1) / bins:.2f}", "invoices": n,
                     "mean_predicted": float(p[mask].mean()) if n else None,
                     "observed_late_rate": float(y[mask].mean()) if n else None})
    return rows


def _split_date(dates: list[dt.date], fraction_from_end: float) -> dt.date:
    index = min(len(dates) - 1, max(0, math.floor(len(dates) * (1.0 - fraction_from_end))))
    return dates[index]


def _train(rows: pl.DataFrame, x: np.ndarray, y: np.ndarray, train: np.ndarray, cal: np.ndarray,
           settings: RiskSettings, feats: tuple[Feature, ...], base_rate: float,
           warnings: list[str]) -> RiskModel:
    mean, scale, coef, intercept = _fit_logistic(x[train], y[train], settings.regularisation_c)
    raw = RiskModel("logistic", feats, base_rate, settings.prior_weight, mean, scale, coef, intercept)
    contrib, _ = raw.contributions(x[cal])
    platt = _platt(contrib.sum(axis=1) + intercept, y[cal])
    if platt is None:
        warnings.append(
            "risk model: the calibration slice has a single outcome; probabilities are uncalibrated"
        )
        return raw
    return RiskModel(
        "logistic", feats, base_rate, settings.prior_weight, mean, scale, coef, intercept, *platt
    )


@dataclass(frozen=True)
class TrainingRows:
    """Labelled invoices of some customers with their point-in-time features.

    Attributes:
        labelled: labelled invoices of those customers (before any sampling).
        late: how many of them were late.
        rows: the (pre-sampled) training candidates: ``query_id, t, late, known_on`` and the
            features of :func:`~billcx.segment.features.point_in_time_features`.
    """

    labelled: int
    late: int
    rows: pl.DataFrame

    @staticmethod
    def combine(parts: list[TrainingRows]) -> TrainingRows:
        """The training rows of the union of disjoint customer sets (chunks)."""
        frames = [p.rows for p in parts if p.rows.height] or [parts[0].rows]
        return TrainingRows(sum(p.labelled for p in parts), sum(p.late for p in parts),
                            pl.concat(frames, how="vertical"))


def sample_rate(positive_invoices: int, settings: RiskSettings) -> float:
    """Share of customers whose invoices are training candidates (1.0: everyone's).

    Above ``max_training_rows`` invoices only a seeded share of customers is kept, about twice
    what the month-stratified sample (:func:`sample_by_month`) then draws from, so features are
    computed for a few hundred thousand rows at most, whatever the ledger's size.
    """
    if positive_invoices <= settings.max_training_rows:
        return 1.0
    return min(1.0, 2.0 * settings.max_training_rows / positive_invoices)


def training_rows(ledger: Ledger, history: History, *, grace_days: int, rate: float = 1.0,
                  seed: int = 0) -> TrainingRows:
    """The labelled invoices of ``ledger`` with their features (see :class:`TrainingRows`).

    Args:
        ledger: the point-in-time ledger (all customers or one chunk of them).
        history: its history stream.
        grace_days: days of grace after the due date.
        rate: keep the invoices of this share of customers only (:func:`sample_rate`); the
            customers are chosen by a stable hash of their id and ``seed``, so the choice does
            not depend on how the customers are split into chunks or shards.
        seed: the sampling seed.
    """
    lazy = _labelled(ledger, grace_days)
    if rate < 1.0:
        # Counts and customer ids first; only the sampled customers' invoices are materialised.
        counts, ids_frame = pl.collect_all([
            lazy.select(pl.len().alias("n"), pl.col("late").sum().alias("late")),
            lazy.select(pl.col("customer_id").unique()),
        ])
        n_labelled, n_late = int(counts["n"][0]), int(counts["late"][0] or 0)
        ids = ids_frame.get_column("customer_id")
        keep = ids.filter(stable_hash_series(ids, salt=f"risk-sample:{seed}") < int(rate * 2**64))
        labelled = lazy.filter(pl.col("customer_id").is_in(keep.implode())).collect()
    else:
        labelled = lazy.collect()
        n_labelled, n_late = labelled.height, int(labelled.get_column("late").sum())
    rows = point_in_time_features(labelled.drop("late", "known_on"), history)
    rows = rows.join(labelled.select("query_id", "late", "known_on"), on="query_id")
    return TrainingRows(n_labelled, n_late, rows)


def fit_risk_model(ledger: Ledger, history: History, settings: RiskSettings, *, grace_days: int) -> RiskFit:
    """Fit, calibrate and evaluate the late-payment model as of ``ledger.as_of``.

    Args:
        ledger: point-in-time ledger (only its history is used).
        history: the ledger's history stream (:func:`billcx.segment.features.build_history`).
        settings: model settings (sizes, fractions, seed).
        grace_days: days of grace after the due date.

    Returns:
        A :class:`RiskFit`; with too little history its model's method is ``rules``.
    """
    rows = training_rows(ledger, history, grace_days=grace_days)
    return fit_risk_rows(rows, settings, grace_days=grace_days)


def fit_risk_rows(training: TrainingRows, settings: RiskSettings, *, grace_days: int) -> RiskFit:
    """Fit, calibrate and evaluate the late-payment model on training rows of every customer.

    Args:
        training: :func:`training_rows` of every customer (chunks combined with
            :meth:`TrainingRows.combine`).
        settings: model settings (sizes, fractions, seed).
        grace_days: days of grace after the due date (reported).

    Returns:
        A :class:`RiskFit`; with too little history its model's method is ``rules``.
    """
    from sklearn.metrics import brier_score_loss, roc_auc_score

    feats = features(settings.history_invoices)
    n_labelled, n_late = training.labelled, training.late
    n_ok = n_labelled - n_late
    base_rate = n_late / n_labelled if n_labelled else settings.default_late_rate
    report: dict[str, Any] = {"labelled_invoices": n_labelled, "late_invoices": n_late,
                              "late_rate": base_rate if n_labelled else None,
                              "history_invoices": settings.history_invoices, "grace_days": grace_days}
    if n_labelled < settings.min_training_invoices or min(n_late, n_ok) < settings.min_class_invoices:
        why = (f"too little history for a risk model ({n_labelled} invoices with a known outcome, "
               f"{n_late} late; need {settings.min_training_invoices} and {settings.min_class_invoices} of "
               f"each outcome): transparent rules score late payment")
        report.update(method="rules", reason=why, rule=(
            f"late share of the last {settings.history_invoices} settled invoices, smoothed toward the "
            f"population late rate with a weight of {settings.prior_weight:g} invoices"),
            base_rate=base_rate)
        return RiskFit(RiskModel("rules", feats, base_rate, settings.prior_weight), report, (why,))

    rows = sample_by_month(training.rows, max_rows=settings.max_training_rows, seed=settings.seed) \
        .sort("t", "query_id")
    x = model_matrix(rows, feats)
    y = rows.get_column("late").cast(pl.Int8).to_numpy().astype(np.int64)
    t = rows.get_column("t").to_numpy()
    known = rows.get_column("known_on").to_numpy()
    dates = rows.get_column("t").to_list()
    warnings: list[str] = []

    # Evaluation: train < cal_start <= calibrate < val_start <= validate.
    val_start = np.datetime64(_split_date(dates, settings.validation_fraction))
    cal_start = np.datetime64(
        _split_date(dates, settings.validation_fraction + settings.calibration_fraction)
    )
    train = (t < cal_start) & (known < cal_start)
    cal = (t >= cal_start) & (t < val_start) & (known < val_start)
    val = t >= val_start
    evaluation: dict[str, Any] = {"train_rows": int(train.sum()), "calibration_rows": int(cal.sum()),
                                  "validation_rows": int(val.sum()), "calibration_from": str(cal_start),
                                  "validation_from": str(val_start)}
    if min(y[train].sum(), (1 - y[train]).sum()) >= 2 and val.sum() > 0:
        eval_model = _train(rows, x, y, train, cal, settings, feats, base_rate, warnings)
        p = eval_model.probability(x[val])
        yv = y[val]
        evaluation["late_rate"] = float(yv.mean())
        evaluation["brier"] = float(brier_score_loss(yv, p, labels=[0, 1]))
        evaluation["brier_base_rate"] = float(
            brier_score_loss(yv, np.full(yv.size, y[train].mean()), labels=[0, 1])
        )
        evaluation["calibration"] = calibration_table(p, yv, settings.calibration_bins)
        if yv.min() != yv.max():
            evaluation["auc"] = float(roc_auc_score(yv, p))
            if evaluation["auc"] > SUSPICIOUS_AUC:
                warnings.append(
                    f"risk model: validation AUC {evaluation['auc']:.3f} is suspiciously high; "
                    "check that no outcome column (days late, settlement date) feeds the invoices"
                )
        else:
            evaluation["auc"] = None
            warnings.append("risk model: the validation slice has a single outcome; AUC is not defined")
    else:
        evaluation["auc"] = None
        warnings.append("risk model: too few early invoices of each outcome for a time-split evaluation")

    # Production: everything but the latest calibration slice trains, that slice calibrates.
    prod_start = np.datetime64(_split_date(dates, settings.calibration_fraction))
    prod_train = (t < prod_start) & (known < prod_start)
    prod_cal = t >= prod_start
    if min(y[prod_train].sum(), (1 - y[prod_train]).sum()) < 2:
        prod_train = np.ones_like(prod_train)
    model = _train(rows, x, y, prod_train, prod_cal, settings, feats, base_rate, warnings)
    report.update(
        method="logistic",
        model="scikit-learn LogisticRegression on standardised features, Platt-calibrated on a later slice",
        regularisation_c=settings.regularisation_c,
        sampled_rows=rows.height, sample_seed=settings.seed,
        training={"rows": int(prod_train.sum()), "calibration_rows": int(prod_cal.sum()),
                  "calibration_from": str(prod_start),
                  "issue_dates": [str(dates[0]), str(dates[-1])]},
        intercept=model.intercept, calibration={"method": "sigmoid", "a": model.calib_a, "b": model.calib_b},
        coefficients=[{"feature": f.name, "coefficient_per_sd": float(c), "mean": float(m), "sd": float(s)}
                      for f, c, m, s in zip(feats, model.coef, model.mean, model.scale, strict=True)],
        evaluation=evaluation,
    )
    for w in warnings:
        log.debug("%s", w)
    return RiskFit(model, report, tuple(warnings))


def risk_params(model: RiskModel, *, history_invoices: int, next_amount: float,
                next_terms_days: float) -> RiskParams:
    """The model as plain numbers (for ``population.json``)."""
    return RiskParams(
        method=model.method, history_invoices=history_invoices, base_rate=float(model.base_rate),
        prior_weight=float(model.prior_weight), mean=tuple(float(v) for v in model.mean),
        scale=tuple(float(v) for v in model.scale), coef=tuple(float(v) for v in model.coef),
        intercept=float(model.intercept), calib_a=float(model.calib_a), calib_b=float(model.calib_b),
        next_amount=float(next_amount), next_terms_days=float(next_terms_days))


def risk_model(params: RiskParams) -> RiskModel:
    """The model of :func:`risk_params` numbers (exactly the fitted one: floats round-trip)."""
    def array(values: tuple[float, ...]) -> np.ndarray:
        return np.array(values, dtype=np.float64)

    return RiskModel(params.method, features(params.history_invoices), params.base_rate, params.prior_weight,
                     array(params.mean), array(params.scale), array(params.coef), params.intercept,
                     params.calib_a, params.calib_b)
