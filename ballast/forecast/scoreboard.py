"""The forecast scoreboard: commit, score, fall back.

Forecasts are committed at steps ``warmup, warmup + h, ...`` (non-overlapping
windows of ``h = horizon`` steps); each is scored once its window has passed,
against the realised variance ``RV = mean(r**2)`` over the window, by

* QLIKE, ``RV / F - log(RV / F) - 1`` (zero at ``F = RV``; its expectation is
  minimised by the true conditional variance, and it is robust to the noise of
  the ``RV`` proxy, Patton 2011);
* MSE of log variance, ``(log F - log RV)**2``.

:class:`Guarded` wraps a model: at each commit it compares the model's mean
QLIKE with EWMA's over the last ``window`` windows already scored; when the
model is worse it commits EWMA's forecast instead, until it is better again.
Every switch is logged (``logging`` and :attr:`GuardedRun.switches`).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field

import numpy as np
from numpy.typing import NDArray

from ballast.forecast.models import EWMA, VARIANCE_FLOOR, FloatArray, Forecaster, _as_2d

__all__ = [
    "Guarded",
    "apply_guard",
    "GuardedRun",
    "Switch",
    "commit_steps",
    "qlike",
    "realised",
    "sq_log_error",
]

log = logging.getLogger("ballast.forecast")


def qlike(realised_variance: FloatArray, forecast: FloatArray) -> FloatArray:
    """QLIKE loss ``RV / F - log(RV / F) - 1``, elementwise (both floored)."""
    ratio = np.maximum(realised_variance, VARIANCE_FLOOR) / np.maximum(forecast, VARIANCE_FLOOR)
    return ratio - np.log(ratio) - 1.0


def sq_log_error(realised_variance: FloatArray, forecast: FloatArray) -> FloatArray:
    """Squared error of log variance, ``(log F - log RV)**2``, elementwise (both floored)."""
    return (np.log(np.maximum(forecast, VARIANCE_FLOOR)) - np.log(np.maximum(realised_variance, VARIANCE_FLOOR))) ** 2


def commit_steps(steps: int, horizon: int, warmup: int) -> NDArray[np.int64]:
    """Commit steps whose whole window fits in the data: warmup, warmup + h, ... <= steps - h."""
    return np.arange(warmup, steps - horizon + 1, horizon)


def realised(returns: FloatArray, commits: NDArray[np.int64], horizon: int) -> FloatArray:
    """Realised variance ``mean(r**2)`` of the window after each commit, shape (commits, P)."""
    r = _as_2d(returns)
    index = commits[:, None] + np.arange(horizon)[None, :]
    return (r[index] ** 2).mean(axis=1)


@dataclass(frozen=True)
class Switch:
    """One change of the committed forecaster on one series."""

    step: int
    series: int
    to: str
    model_qlike: float
    ewma_qlike: float


@dataclass
class GuardedRun:
    """Output of :meth:`Guarded.run`.

    Attributes:
        forecast: Committed forecasts, shape (T + 1, P).
        on_model: Whether row k's forecast is the model's (not EWMA's), shape (T + 1, P).
        switches: Every switch, in step order.
    """

    forecast: FloatArray
    on_model: np.ndarray
    switches: list[Switch] = field(default_factory=list)


@dataclass(frozen=True)
class Guarded:
    """A model that falls back to EWMA while it scores worse than EWMA.

    At each commit step c the choice is made from the windows whose end is at
    or before c (the last ``window`` of them, QLIKE mean); it holds for rows
    ``c .. c + h - 1``. With fewer than ``min_windows`` scored the model is used.
    """

    model: Forecaster
    baseline: Forecaster = field(default_factory=EWMA)
    window: int = 26
    min_windows: int = 4

    @property
    def name(self) -> str:
        """Label in tables."""
        return f"{self.model.name}+guard"

    def forecast_path(self, returns: FloatArray, horizon: int, warmup: int) -> FloatArray:
        """Committed forecasts, shape (T + 1, P) (the :class:`Forecaster` interface)."""
        return self.run(returns, horizon, warmup).forecast

    def run(self, returns: FloatArray, horizon: int, warmup: int) -> GuardedRun:
        """Runs model and baseline, scores both as windows close, switches and logs."""
        r = _as_2d(returns)
        model = self.model.forecast_path(r, horizon, warmup)
        base = self.baseline.forecast_path(r, horizon, warmup)
        return apply_guard(model, base, r, horizon, warmup, self.window, self.min_windows, self.model.name)


def apply_guard(
    model: FloatArray,
    base: FloatArray,
    returns: FloatArray,
    horizon: int,
    warmup: int,
    window: int = 26,
    min_windows: int = 4,
    model_name: str = "model",
    base_name: str = "EWMA",
) -> GuardedRun:
    """The fallback rule of :class:`Guarded` on precomputed forecast paths (T + 1, P).

    At commit step ``c`` (warmup, warmup + h, ...) it compares the trailing mean QLIKE
    of the windows closed by ``c`` (committed at ``c - h`` or earlier, the last
    ``window`` of them) and commits the model if it is no worse, EWMA otherwise.
    """
    r = _as_2d(returns)
    steps, paths = r.shape
    commits = commit_steps(steps, horizon, warmup)
    rv = realised(r, commits, horizon)
    loss_model = qlike(rv, model[commits])
    loss_base = qlike(rv, base[commits])
    on_model = np.ones((steps + 1, paths), dtype=bool)
    using = np.ones(paths, dtype=bool)
    switches: list[Switch] = []
    for j, c in enumerate(range(warmup, steps + 1, horizon)):
        lo = max(0, j - window)
        if j - lo >= min_windows:
            m = loss_model[lo:j].mean(axis=0)
            b = loss_base[lo:j].mean(axis=0)
            choice = m <= b
            for p in np.flatnonzero(choice != using):
                to = model_name if choice[p] else base_name
                switches.append(Switch(c, int(p), to, float(m[p]), float(b[p])))
                log.info("step %d series %d: commit %s (trailing QLIKE model %.4f, EWMA %.4f)", c, p, to, m[p], b[p])
            using = choice
        on_model[c : c + horizon] = using
    return GuardedRun(np.where(on_model, model, base), on_model, switches)
