"""Settings of the arms comparison (a frozen dataclass; TOML-loadable with billcx.config)."""

from __future__ import annotations

from dataclasses import dataclass

from billcx.errors import ConfigError


@dataclass(frozen=True)
class EvaluateSettings:
    """How treatment and holdout are compared.

    Attributes:
        confidence: level of every confidence interval (0.5 to < 1).
        min_per_arm: fewer units than this in either arm and the comparison is called too small
            to conclude, whatever its interval says.
        grace_days: an invoice settled within this many days after its due date counts as on time.
        window_days: days after the as-of date in which outcomes count; None: up to the latest date
            in the outcomes export.
    """

    confidence: float = 0.95
    min_per_arm: int = 30
    grace_days: int = 0
    window_days: int | None = None

    def __post_init__(self) -> None:
        if not 0.5 <= self.confidence < 1:
            raise ConfigError("evaluate.confidence: expected a level from 0.5 to below 1, "
                              f"found {self.confidence}")
        if self.min_per_arm < 2:
            raise ConfigError(f"evaluate.min_per_arm: expected at least 2, found {self.min_per_arm}")
        if self.grace_days < 0:
            raise ConfigError(f"evaluate.grace_days: expected 0 or more, found {self.grace_days}")
        if self.window_days is not None and self.window_days < 1:
            raise ConfigError(f"evaluate.window_days: expected at least 1 day, found {self.window_days}")
