"""Volatility forecasts that must earn their place: forecasters, a scoreboard, walk-forward tests.

Off-chain advice only: the vault's hybrid trigger scales its band by its own
on-chain EWMA and takes no volatility number from a keeper (TECH_SPEC.md,
"Volatility forecasts: off-chain advice only").
"""

from ballast.forecast.models import EWMA, GARCH, HAR, Forecaster, fit_garch, garch_horizon_mean, leaks
from ballast.forecast.scoreboard import Guarded, GuardedRun, Switch, apply_guard, qlike, sq_log_error

__all__ = [
    "EWMA",
    "GARCH",
    "HAR",
    "Forecaster",
    "Guarded",
    "GuardedRun",
    "Switch",
    "apply_guard",
    "fit_garch",
    "garch_horizon_mean",
    "leaks",
    "qlike",
    "sq_log_error",
]
