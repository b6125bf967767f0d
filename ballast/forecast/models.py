"""Variance forecasters with one interface: a walk-forward path of forecasts.

Every forecaster maps per-step simple returns ``returns`` of shape (T, P)
(``returns[k - 1] = p_k / p_{k-1} - 1``, P independent series) to forecasts
``F`` of shape (T + 1, P): ``F[k]`` is the mean per-step variance expected over
steps ``k + 1 .. k + horizon``, *committed at step k*, so it may use
``returns[:k]`` and nothing after. :func:`leaks` checks that property.

* :class:`EWMA`: RiskMetrics, ``var = lam * var + (1 - lam) * r**2``; the vault's
  own estimator (``ballast.policy.update_variance_np`` with
  ``alpha_bps = (1 - lam) * MAX_BPS``), flat over the horizon.
* :class:`GARCH`: GARCH(1,1), zero mean, normal errors, fitted by the ``arch``
  package on the expanding history every ``refit_every`` steps, filtered
  between refits with the fitted parameters; the horizon forecast is the
  closed-form mean of ``E[var_{k+j}]``.
* :class:`HAR`: HAR-RV (Corsi 2009) on squared daily returns as the realised
  variance proxy: OLS of the next ``horizon`` steps' mean squared return on
  its daily, weekly (5) and monthly (22) averages, refitted every
  ``refit_every`` steps on targets already observed; a forecast is floored at
  the smallest target of its fitting sample (a linear fit can go negative).
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass
from typing import Protocol

import numpy as np
from numpy.typing import NDArray

FloatArray = NDArray[np.float64]

#: Floor on any variance forecast (per step): keeps QLIKE and logs finite.
VARIANCE_FLOOR = 1e-12


class Forecaster(Protocol):
    """Anything that turns a return history into a walk-forward forecast path."""

    @property
    def name(self) -> str:
        """Label in tables."""
        ...

    def forecast_path(self, returns: FloatArray, horizon: int, warmup: int) -> FloatArray:
        """Forecasts of shape (T + 1, P); row k uses ``returns[:k]`` only.

        ``warmup`` is the first step at which a fitted model is needed; rows
        before it may be anything finite and positive (they are not scored).
        """
        ...


def _as_2d(returns: FloatArray) -> FloatArray:
    """Returns as a float array of shape (T, P)."""
    r = np.asarray(returns, dtype=np.float64)
    if r.ndim == 1:
        r = r[:, None]
    if r.ndim != 2 or r.shape[0] < 2:
        raise ValueError("returns must have shape (T, P) with T >= 2")
    return r


def seed_variance(returns: FloatArray, warmup: int) -> FloatArray:
    """Mean squared return of the first ``min(warmup, T)`` steps, per series, floored."""
    head = returns[: max(min(warmup, returns.shape[0]), 1)]
    return np.maximum((head**2).mean(axis=0), VARIANCE_FLOOR)


@dataclass(frozen=True)
class EWMA:
    """RiskMetrics EWMA variance: ``var_{k+1} = lam var_k + (1 - lam) r_k**2`` (flat horizon).

    The recursion starts at ``initial_variance`` (per step) or, if None, at the
    mean squared return of the warm-up window (which row ``warmup`` may use).
    Before ``warmup`` the seed itself is a peek at the warm-up window; those rows
    are never scored.
    """

    lam: float = 0.94
    initial_variance: float | None = None

    def __post_init__(self) -> None:
        """Validates the decay."""
        if not 0 < self.lam < 1:
            raise ValueError("lam must be in (0, 1)")

    @property
    def name(self) -> str:
        """Label in tables."""
        return f"EWMA {self.lam:g}"

    def forecast_path(self, returns: FloatArray, horizon: int, warmup: int) -> FloatArray:
        """Walk-forward EWMA forecasts, shape (T + 1, P)."""
        del horizon
        r = _as_2d(returns)
        out = np.empty((r.shape[0] + 1, r.shape[1]))
        if self.initial_variance is None:
            out[0] = seed_variance(r, warmup)
        else:
            out[0] = self.initial_variance
        squared = r**2
        for k in range(r.shape[0]):
            out[k + 1] = self.lam * out[k] + (1.0 - self.lam) * squared[k]
        return np.maximum(out, VARIANCE_FLOOR)


def _refit_steps(steps: int, warmup: int, refit_every: int) -> list[int]:
    """Steps at which a model is (re)fitted: warmup, warmup + refit_every, ... below steps."""
    return list(range(max(warmup, 2), steps + 1, max(refit_every, 1)))


@dataclass(frozen=True)
class GARCH:
    """GARCH(1,1) through ``arch``: ``var_{k+1} = omega + alpha r_k**2 + beta var_k``.

    Attributes:
        refit_every: Steps between refits on the expanding history.
        max_history: Longest history a fit sees (the most recent steps).
    """

    refit_every: int = 63
    max_history: int = 2_000

    @property
    def name(self) -> str:
        """Label in tables."""
        return "GARCH(1,1)"

    def forecast_path(self, returns: FloatArray, horizon: int, warmup: int) -> FloatArray:
        """Walk-forward GARCH forecasts, shape (T + 1, P); EWMA 0.94 before warmup."""
        r = _as_2d(returns)
        steps, paths = r.shape
        out = EWMA().forecast_path(r, horizon, warmup)
        refits = _refit_steps(steps, warmup, self.refit_every)
        for i, start in enumerate(refits):
            end = refits[i + 1] if i + 1 < len(refits) else steps + 1
            for p in range(paths):
                out[start:end, p] = self._segment(r[:, p], start, end, horizon)
        return np.maximum(out, VARIANCE_FLOOR)

    def _segment(self, r: FloatArray, start: int, end: int, horizon: int) -> FloatArray:
        """Forecasts for rows start..end-1 from a fit on ``r[:start]``, filtered forward."""
        omega, alpha, beta, variance = fit_garch(r[max(0, start - self.max_history) : start])
        rows = np.empty(end - start)
        for j, k in enumerate(range(start, end)):
            if j > 0:
                variance = omega + alpha * r[k - 1] ** 2 + beta * variance
            rows[j] = garch_horizon_mean(omega, alpha, beta, variance, horizon)
        return rows


def fit_garch(returns: FloatArray) -> tuple[float, float, float, float]:
    """Fits a zero-mean normal GARCH(1,1) with ``arch``; returns ``(omega, alpha, beta, next_var)``.

    ``returns`` are per-step simple returns (fitted in percent, as ``arch`` prefers);
    ``omega`` and ``next_var`` (the one-step-ahead variance after the last return)
    come back per step in return units squared. A series with no variance gives
    ``(0, 0, 0, floor)``.
    """
    from arch import arch_model

    if np.mean(returns**2) < VARIANCE_FLOOR:
        return 0.0, 0.0, 0.0, VARIANCE_FLOOR
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        model = arch_model(100.0 * returns, mean="Zero", vol="GARCH", p=1, q=1, dist="normal", rescale=False)
        result = model.fit(disp="off", show_warning=False)
    omega, alpha, beta = (float(result.params[name]) for name in ("omega", "alpha[1]", "beta[1]"))
    last_var = float(result.conditional_volatility[-1]) ** 2
    next_var = omega + alpha * (100.0 * returns[-1]) ** 2 + beta * last_var
    return omega / 1e4, alpha, beta, next_var / 1e4


def garch_horizon_mean(omega: float, alpha: float, beta: float, next_var: float, horizon: int) -> float:
    """Mean of ``E[var_{k+j}]``, j = 1..horizon, for GARCH(1,1) from the one-step variance.

    ``E[var_{k+j}] = vbar + phi**(j-1) (next_var - vbar)`` with ``phi = alpha + beta``
    and ``vbar = omega / (1 - phi)``; a non-stationary fit (phi >= 1) stays flat.
    """
    phi = alpha + beta
    if phi >= 1.0 or horizon <= 1:
        return next_var
    vbar = omega / (1.0 - phi)
    return vbar + (next_var - vbar) * (1.0 - phi**horizon) / ((1.0 - phi) * horizon)


@dataclass(frozen=True)
class HAR:
    """HAR-RV on squared returns: ``mean r**2 over the next h = b0 + b_d RV_d + b_w RV_w + b_m RV_m``.

    Attributes:
        refit_every: Steps between OLS refits on the expanding history.
        lags: Window lengths of the regressors (daily, weekly, monthly).
    """

    refit_every: int = 63
    lags: tuple[int, ...] = (1, 5, 22)

    @property
    def name(self) -> str:
        """Label in tables."""
        return "HAR-RV"

    def forecast_path(self, returns: FloatArray, horizon: int, warmup: int) -> FloatArray:
        """Walk-forward HAR forecasts, shape (T + 1, P); EWMA 0.94 before warmup."""
        r = _as_2d(returns)
        steps, paths = r.shape
        out = EWMA().forecast_path(r, horizon, warmup)
        squared = r**2
        features = self._features(squared)  # (T + 1, P, 1 + lags): row k uses squared[:k]
        csum = np.vstack([np.zeros((1, paths)), np.cumsum(squared, axis=0)])
        # target[k] = mean squared return over k + 1 .. k + horizon, known at step k + horizon.
        target = np.full((steps + 1, paths), np.nan)
        target[: steps + 1 - horizon] = (csum[horizon:] - csum[: steps + 1 - horizon]) / horizon
        first = max(self.lags)
        refits = _refit_steps(steps, max(warmup, first + horizon + 10), self.refit_every)
        for i, start in enumerate(refits):
            end = refits[i + 1] if i + 1 < len(refits) else steps + 1
            rows = slice(first, start - horizon + 1)  # targets fully observed by step `start`
            for p in range(paths):
                coef, *_ = np.linalg.lstsq(features[rows, p], target[rows, p], rcond=None)
                floor = np.min(target[rows, p])  # a linear fit can go negative: no lower than any target seen
                out[start:end, p] = np.maximum(features[start:end, p] @ coef, floor)
        return np.maximum(out, VARIANCE_FLOOR)

    def _features(self, squared: FloatArray) -> FloatArray:
        """Regressors per row k: a constant and the mean of the last ``lag`` squared returns."""
        steps, paths = squared.shape
        csum = np.vstack([np.zeros((1, paths)), np.cumsum(squared, axis=0)])
        feats = np.ones((steps + 1, paths, 1 + len(self.lags)))
        k = np.arange(steps + 1)
        for j, lag in enumerate(self.lags):
            lo = np.maximum(k - lag, 0)
            width = np.maximum(k - lo, 1)[:, None]
            feats[:, :, 1 + j] = (csum[k] - csum[lo]) / width
        return feats


def leaks(forecaster: Forecaster, returns: FloatArray, commit: int, horizon: int, warmup: int) -> bool:
    """Whether any forecast committed at or before ``commit`` changes when later returns change.

    Replaces ``returns[commit:]`` (data after the commit time) with a different
    series and compares the forecast rows ``0..commit``.
    """
    r = _as_2d(returns)
    altered = r.copy()
    rng = np.random.default_rng(12345)
    altered[commit:] = rng.permutation(r[commit:]) * 3.0 + 0.01
    before = forecaster.forecast_path(r, horizon, warmup)[: commit + 1]
    after = forecaster.forecast_path(altered, horizon, warmup)[: commit + 1]
    return not np.array_equal(before, after)
