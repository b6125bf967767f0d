"""Monte-Carlo backtester for Ballast's rebalance policies.

Simulates many price paths at once (NumPy, vectorised across paths; one
Python loop over time steps) and compares, under the same paths and costs:

* the three vault triggers (calendar, threshold, hybrid; see
  :mod:`ballast.policy`), each trading back to the target ("target"), only
  back to the band edge ("edge", :func:`ballast.policy.band_edge_np`, the
  same rule as the planner's), a fraction of the way ("partial"), or every
  drift scaled down until the worst sits on its band ("shrink"); optionally
  checked only every few steps and gated by the planner's benefit-versus-cost
  rule;
* buy-and-hold;
* a constant-weight AMM pool (Balancer-style weighted geometric mean),
  rebalanced only by zero-fee arbitrageurs, which suffers loss-versus-rebalancing.

Every figure is measured against the *ideal* target portfolio: rebalanced to
target at every step at zero cost.

Run ``python -m ballast.backtest --help`` for the command line.
"""

from __future__ import annotations

import argparse
import csv
import math
import sys
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Literal, Protocol

import numpy as np
from numpy.typing import ArrayLike, NDArray
from tqdm import tqdm

from ballast.checks import InputError, require_file, require_folder_for, require_range
from ballast.constants import MAX_BPS, SECONDS_PER_YEAR
from ballast.policy import Trigger, band_edge_np, needs_rebalance_np, update_variance_np, vol_scale_np

__all__ = [
    "DAY",
    "GBM",
    "BacktestConfig",
    "BacktestResult",
    "Bootstrap",
    "JumpGBM",
    "Metrics",
    "PathResults",
    "Policy",
    "PriceHistory",
    "Replay",
    "bench",
    "default_policies",
    "format_table",
    "frontier_policies",
    "ideal_values",
    "load_csv",
    "main",
    "plot_frontier",
    "plot_weights",
    "run_backtest",
    "simulate",
    "trade_keep",
    "trade_to",
]

FloatArray = NDArray[np.float64]

#: One simulation step of the built-in models, seconds.
DAY = 86_400
DEFAULT_ASSETS: tuple[str, ...] = ("STABLE", "ETH", "ALT", "SMALL")
DEFAULT_WEIGHTS_BPS: tuple[int, ...] = (4_000, 3_000, 2_000, 1_000)
DEFAULT_MU: tuple[float, ...] = (0.0, 0.10, 0.10, 0.10)
DEFAULT_VOLS: tuple[float, ...] = (0.05, 0.60, 0.80, 1.00)
DEFAULT_CORR: tuple[tuple[float, ...], ...] = (
    (1.0, 0.0, 0.0, 0.0),
    (0.0, 1.0, 0.7, 0.6),
    (0.0, 0.7, 1.0, 0.7),
    (0.0, 0.6, 0.7, 1.0),
)
#: Trades smaller than this fraction of value are not worth a rebalance.
_MIN_TRADE = 1e-12


# --------------------------------------------------------------------- prices


class PriceModel(Protocol):
    """Anything that can generate price paths for the backtester."""

    @property
    def n_assets(self) -> int:
        """Number of assets."""
        ...

    @property
    def dt_seconds(self) -> float:
        """Length of one step, seconds."""
        ...

    def generate(self, rng: np.random.Generator, paths: int, steps: int) -> FloatArray:
        """Returns prices of shape (steps + 1, paths, n_assets), positive."""
        ...


def _factor(corr: FloatArray) -> FloatArray:
    """A matrix L with L @ L.T == corr (Cholesky, or eigen for semi-definite)."""
    try:
        return np.linalg.cholesky(corr)
    except np.linalg.LinAlgError:
        eigval, eigvec = np.linalg.eigh(corr)
        if eigval.min() < -1e-10:
            raise ValueError("correlation matrix is not positive semi-definite") from None
        return eigvec * np.sqrt(np.clip(eigval, 0.0, None))


@dataclass(frozen=True)
class GBM:
    """Correlated geometric Brownian motion.

    ``log P_i(t + dt) - log P_i(t) = (mu_i - sigma_i**2 / 2) dt + sigma_i sqrt(dt) z_i``
    with ``corr(z_i, z_j) = corr[i][j]``; ``dt`` is in years.

    Attributes:
        mu: Annual drift of each asset.
        sigma: Annual volatility of each asset.
        corr: Correlation matrix (symmetric, unit diagonal, positive semi-definite).
        dt_seconds: Step length, seconds (default one day).
    """

    mu: tuple[float, ...] = DEFAULT_MU
    sigma: tuple[float, ...] = DEFAULT_VOLS
    corr: tuple[tuple[float, ...], ...] = DEFAULT_CORR
    dt_seconds: float = DAY

    def __post_init__(self) -> None:
        """Validates shapes and the correlation matrix."""
        n = len(self.sigma)
        if n == 0 or len(self.mu) != n:
            raise ValueError("mu and sigma must be non-empty and of equal length")
        if min(self.sigma) < 0:
            raise ValueError("sigma must be non-negative")
        c = np.asarray(self.corr, dtype=np.float64)
        if c.shape != (n, n):
            raise ValueError(f"corr must be {n}x{n}")
        if not np.allclose(c, c.T) or not np.allclose(np.diag(c), 1.0):
            raise ValueError("corr must be symmetric with a unit diagonal")
        _factor(c)
        if self.dt_seconds <= 0:
            raise ValueError("dt_seconds must be positive")

    @property
    def n_assets(self) -> int:
        """Number of assets."""
        return len(self.sigma)

    @property
    def dt_years(self) -> float:
        """Step length, years."""
        return self.dt_seconds / SECONDS_PER_YEAR

    def shocks(self, rng: np.random.Generator, paths: int, steps: int) -> FloatArray:
        """Correlated standard normal shocks, shape (steps, paths, n_assets)."""
        z = rng.standard_normal((steps, paths, self.n_assets))
        factor = _factor(np.asarray(self.corr, dtype=np.float64))
        return z @ factor.T

    def log_returns(self, rng: np.random.Generator, paths: int, steps: int) -> FloatArray:
        """Per-step log returns, shape (steps, paths, n_assets)."""
        sigma = np.asarray(self.sigma)
        dt = self.dt_years
        lr = self.shocks(rng, paths, steps)
        lr *= sigma * math.sqrt(dt)
        lr += (np.asarray(self.mu) - 0.5 * sigma**2) * dt
        return lr

    def generate(self, rng: np.random.Generator, paths: int, steps: int) -> FloatArray:
        """Prices starting at 1.0, shape (steps + 1, paths, n_assets)."""
        return _prices_from_log_returns(self.log_returns(rng, paths, steps))


def _prices_from_log_returns(lr: FloatArray) -> FloatArray:
    """Cumulates log returns (steps, paths, n) into prices from 1.0 (steps + 1, ...)."""
    prices = np.empty((lr.shape[0] + 1, *lr.shape[1:]))
    prices[0] = 1.0
    np.cumsum(lr, axis=0, out=prices[1:])
    np.exp(prices[1:], out=prices[1:])
    return prices


@dataclass(frozen=True)
class JumpGBM:
    """GBM plus common Poisson jumps and a crash window.

    Jumps arrive at ``jump_intensity`` per year; each draws one log-size
    ``J ~ N(jump_mean, jump_std**2)`` shared by all assets and scaled by
    ``jump_beta_i`` (0 leaves an asset untouched). Jumps are not compensated,
    so they lower the expected return. During the crash window
    ``[crash_start, crash_start + crash_steps)`` volatility is multiplied by
    ``crash_vol_multiplier`` and each asset gets an extra annual log-drift of
    ``crash_drift * jump_beta_i``.
    """

    base: GBM = field(default_factory=GBM)
    jump_intensity: float = 4.0
    jump_mean: float = -0.08
    jump_std: float = 0.10
    jump_beta: tuple[float, ...] = (0.0, 1.0, 1.2, 1.5)
    crash_start: int | None = 120
    crash_steps: int = 30
    crash_drift: float = -4.0
    crash_vol_multiplier: float = 2.0

    def __post_init__(self) -> None:
        """Validates the jump parameters."""
        if len(self.jump_beta) != self.base.n_assets:
            raise ValueError("jump_beta must have one value per asset")
        if self.jump_intensity < 0 or self.jump_std < 0 or self.crash_vol_multiplier < 0:
            raise ValueError("jump_intensity, jump_std and crash_vol_multiplier must be >= 0")
        if self.crash_steps < 0:
            raise ValueError("crash_steps must be >= 0")

    @property
    def n_assets(self) -> int:
        """Number of assets."""
        return self.base.n_assets

    @property
    def dt_seconds(self) -> float:
        """Step length, seconds."""
        return self.base.dt_seconds

    def generate(self, rng: np.random.Generator, paths: int, steps: int) -> FloatArray:
        """Prices starting at 1.0, shape (steps + 1, paths, n_assets)."""
        dt = self.base.dt_years
        sigma = np.asarray(self.base.sigma)
        mu = np.asarray(self.base.mu)
        beta = np.asarray(self.jump_beta)
        # Per-step volatility and drift, shape (steps, 1, n).
        vol = np.broadcast_to(sigma, (steps, 1, sigma.size)).copy()
        drift = np.broadcast_to(mu, (steps, 1, sigma.size)).copy()
        if self.crash_start is not None and self.crash_steps > 0:
            window = slice(max(self.crash_start, 0), max(self.crash_start + self.crash_steps, 0))
            vol[window] *= self.crash_vol_multiplier
            drift[window] += self.crash_drift * beta
        lr = self.base.shocks(rng, paths, steps)
        lr *= vol * math.sqrt(dt)
        lr += (drift - 0.5 * vol**2) * dt
        counts = rng.poisson(self.jump_intensity * dt, size=(steps, paths))
        sizes = counts * self.jump_mean + np.sqrt(counts) * self.jump_std * rng.standard_normal((steps, paths))
        lr += sizes[..., None] * beta
        return _prices_from_log_returns(lr)


@dataclass(frozen=True)
class PriceHistory:
    """Historical prices loaded by :func:`load_csv`.

    Attributes:
        names: Asset names (the CSV header after ``date``).
        dates: Observation times, ``datetime64[s]``, strictly increasing.
        prices: Prices, shape (rows, n_assets), positive and finite.
    """

    names: tuple[str, ...]
    dates: NDArray[np.datetime64]
    prices: FloatArray

    @property
    def n_assets(self) -> int:
        """Number of assets."""
        return len(self.names)

    @property
    def dt_seconds(self) -> float:
        """Median gap between rows, seconds."""
        gaps = np.diff(self.dates).astype("timedelta64[s]").astype(np.float64)
        return float(np.median(gaps))


def load_csv(path: str | Path) -> PriceHistory:
    """Loads a price history: a ``date`` column, then one price column per asset.

    Dates are ISO 8601 (``2024-01-31`` or ``2024-01-31T00:00:00``), strictly
    increasing. Prices are positive finite numbers. Blank lines are skipped.

    Raises:
        ValueError: naming the file, the line number and the problem, for a
            missing or bad header, a wrong number of fields, a bad date, a
            non-numeric / non-positive price, out-of-order dates, or fewer
            than two rows.
    """
    where = str(path)
    names: tuple[str, ...] = ()
    dates: list[datetime] = []
    rows: list[list[float]] = []
    with open(path, newline="", encoding="utf-8-sig") as handle:
        reader = csv.reader(handle)
        header_line = 0
        for record in reader:
            line = reader.line_num
            if not record or all(not cell.strip() for cell in record):
                continue
            cells = [cell.strip() for cell in record]
            if not names:
                header_line = line
                names = _parse_header(cells, f"{where}: line {line}")
                continue
            if len(cells) != len(names) + 1:
                raise ValueError(f"{where}: line {line}: expected {len(names) + 1} fields, got {len(cells)}")
            try:
                date = datetime.fromisoformat(cells[0])
            except ValueError:
                raise ValueError(
                    f"{where}: line {line}: bad date {cells[0]!r} (expected ISO format YYYY-MM-DD)"
                ) from None
            if dates and date <= dates[-1]:
                raise ValueError(
                    f"{where}: line {line}: date {cells[0]} is not after the previous date {dates[-1].isoformat()}"
                )
            values: list[float] = []
            for name, cell in zip(names, cells[1:], strict=True):
                try:
                    price = float(cell)
                except ValueError:
                    raise ValueError(f"{where}: line {line}: column {name!r}: not a number: {cell!r}") from None
                if not math.isfinite(price) or price <= 0:
                    raise ValueError(
                        f"{where}: line {line}: column {name!r}: price must be positive and finite, got {cell}"
                    )
                values.append(price)
            dates.append(date)
            rows.append(values)
    if not names:
        raise ValueError(f"{where}: line 1: empty file, expected a header 'date,<asset>,...'")
    if len(rows) < 2:
        raise ValueError(f"{where}: line {header_line}: need at least 2 price rows after the header, got {len(rows)}")
    stamps = np.array([d.replace(tzinfo=None) for d in dates], dtype="datetime64[s]")
    return PriceHistory(names=names, dates=stamps, prices=np.asarray(rows, dtype=np.float64))


def _parse_header(cells: list[str], where: str) -> tuple[str, ...]:
    """Validates a CSV header and returns the asset names."""
    if cells[0].lower() != "date":
        raise ValueError(f"{where}: first column must be 'date', got {cells[0]!r}")
    names = tuple(cells[1:])
    if not names:
        raise ValueError(f"{where}: no asset columns after 'date'")
    for name in names:
        if not name:
            raise ValueError(f"{where}: empty asset column name")
    duplicates = sorted({n for n in names if names.count(n) > 1})
    if duplicates:
        raise ValueError(f"{where}: duplicate asset column(s): {', '.join(duplicates)}")
    return names


@dataclass(frozen=True)
class Replay:
    """The historical path itself (one path), normalised to 1.0 at the first row."""

    history: PriceHistory

    @property
    def n_assets(self) -> int:
        """Number of assets."""
        return self.history.n_assets

    @property
    def dt_seconds(self) -> float:
        """Median gap between rows, seconds."""
        return self.history.dt_seconds

    @property
    def max_steps(self) -> int:
        """Steps available in the history."""
        return self.history.prices.shape[0] - 1

    def generate(self, rng: np.random.Generator, paths: int, steps: int) -> FloatArray:
        """The first ``steps`` steps of the history; ``paths`` must be 1."""
        del rng
        if paths != 1:
            raise ValueError("a replay has exactly one path; use Bootstrap for more")
        if not 0 < steps <= self.max_steps:
            raise ValueError(f"steps must be in [1, {self.max_steps}]")
        p = self.history.prices[: steps + 1]
        return (p / p[0])[:, None, :]


@dataclass(frozen=True)
class Bootstrap:
    """Moving-block bootstrap of historical log returns (keeps cross-correlation)."""

    history: PriceHistory
    block: int = 20

    def __post_init__(self) -> None:
        """Validates the block length."""
        if self.block <= 0:
            raise ValueError("block must be positive")

    @property
    def n_assets(self) -> int:
        """Number of assets."""
        return self.history.n_assets

    @property
    def dt_seconds(self) -> float:
        """Median gap between rows, seconds."""
        return self.history.dt_seconds

    def generate(self, rng: np.random.Generator, paths: int, steps: int) -> FloatArray:
        """Resampled prices from 1.0, shape (steps + 1, paths, n_assets)."""
        lr = np.diff(np.log(self.history.prices), axis=0)
        block = min(self.block, lr.shape[0])
        n_blocks = -(-steps // block)
        starts = rng.integers(0, lr.shape[0] - block + 1, size=(n_blocks, paths))
        index = (starts[:, None, :] + np.arange(block)[None, :, None]).reshape(n_blocks * block, paths)
        return _prices_from_log_returns(lr[index[:steps]])


# ------------------------------------------------------------------- policies

Kind = Literal["calendar", "threshold", "hybrid", "hold", "amm"]
Mode = Literal["target", "edge", "partial", "shrink"]
MODES: tuple[str, ...] = ("target", "edge", "partial", "shrink")
_TRIGGERS: dict[str, Trigger] = {"calendar": Trigger.CALENDAR, "threshold": Trigger.THRESHOLD, "hybrid": Trigger.HYBRID}


@dataclass(frozen=True)
class Policy:
    """One rebalancing policy.

    Attributes:
        name: Label in tables and plots.
        kind: "calendar", "threshold", "hybrid" (vault triggers), "hold"
            (never trade) or "amm" (weighted geometric-mean pool).
        mode: How far a triggered rebalance trades: "target" (all the way),
            "edge" (each asset outside its band back to its band edge, no
            further: :func:`ballast.policy.band_edge_np`, the planner's rule),
            "partial" (``fraction`` of the way) or "shrink" (every drift
            scaled down by one factor until the worst asset sits on its band
            edge: what "edge" meant here before it meant one thing). For
            hybrid, "edge" and "shrink" use the vol-scaled band, capped by the
            outer band.
        fraction: Share of the drift removed in "partial" mode, in (0, 1].
        interval: Calendar interval / hybrid check interval, seconds.
        bands_bps: Drift band, bps (one value for all assets, or one per asset).
        outer_bands_bps: Hybrid outer band, bps (scalar or per asset).
        inner_ratio: In "edge" mode, trade back to ``inner_ratio`` times the band
            (1.0, the default: the band edge itself; below 1, an inner band, which
            a fixed cost per rebalance calls for), in [0, 1].
        check_steps: The trigger is looked at only on every ``check_steps``-th
            step (a keeper that checks weekly on daily prices: 7).
        drift_aversion_bps: The planner's benefit-versus-cost gate
            (:func:`ballast.planner.benefit`): a due rebalance trades only if
            ``value * kappa * (sum d_before**2 - sum d_after**2)``, with
            ``kappa = drift_aversion_bps / 10_000``, is at least its cost
            (proportional cost plus gas). None: no gate.
    """

    name: str
    kind: Kind
    mode: Mode = "target"
    fraction: float = 0.5
    interval: float = 30 * DAY
    bands_bps: float | tuple[float, ...] = 300.0
    outer_bands_bps: float | tuple[float, ...] = 900.0
    inner_ratio: float = 1.0
    check_steps: int = 1
    drift_aversion_bps: float | None = None

    def __post_init__(self) -> None:
        """Validates the parameters."""
        if self.kind not in (*_TRIGGERS, "hold", "amm"):
            raise ValueError(f"unknown policy kind {self.kind!r}")
        if self.mode not in MODES:
            raise ValueError(f"unknown mode {self.mode!r}: use one of {', '.join(MODES)}")
        if not 0 <= self.inner_ratio <= 1:
            raise ValueError("inner_ratio must be in [0, 1]")
        if int(self.check_steps) != self.check_steps or self.check_steps < 1:
            raise ValueError("check_steps must be a positive integer")
        if self.drift_aversion_bps is not None and not self.drift_aversion_bps > 0:
            raise ValueError("drift_aversion_bps must be positive (or None for no gate)")
        if not 0 < self.fraction <= 1:
            raise ValueError("fraction must be in (0, 1]")
        if self.interval <= 0:
            raise ValueError("interval must be positive")
        if np.any(np.asarray(self.bands_bps) <= 0):
            raise ValueError("bands must be positive")
        if np.any(np.asarray(self.outer_bands_bps) < np.asarray(self.bands_bps)):
            raise ValueError("outer bands must be >= bands")

    def bands(self, n_assets: int) -> tuple[FloatArray, FloatArray]:
        """Bands and outer bands as arrays of shape (n_assets,), bps."""
        bands = np.broadcast_to(np.asarray(self.bands_bps, dtype=np.float64), (n_assets,))
        outer = np.broadcast_to(np.asarray(self.outer_bands_bps, dtype=np.float64), (n_assets,))
        return bands, outer


@dataclass(frozen=True)
class BacktestConfig:
    """Portfolio, cost and volatility-estimator settings shared by all policies.

    Attributes:
        weights_bps: Target weights, bps, summing to 10_000.
        cost_bps: Proportional cost (fee + slippage), bps of value traded.
        gas_usd: Fixed cost per rebalance, USD.
        initial_value: Starting portfolio value, USD.
        vol_reference: Hybrid reference volatility (multiplier 1), fraction.
        vol_alpha_bps: EWMA weight of a new variance sample, bps.
    """

    weights_bps: tuple[int, ...] = DEFAULT_WEIGHTS_BPS
    cost_bps: float = 30.0
    gas_usd: float = 10.0
    initial_value: float = 100_000.0
    vol_reference: float = 0.6
    vol_alpha_bps: float = 500.0

    def __post_init__(self) -> None:
        """Validates the parameters."""
        if sum(self.weights_bps) != MAX_BPS or min(self.weights_bps) <= 0:
            raise ValueError(f"weights_bps must be positive and sum to {MAX_BPS}")
        if self.cost_bps < 0 or self.gas_usd < 0:
            raise ValueError("costs must be non-negative")
        if self.initial_value <= 0 or self.vol_reference <= 0:
            raise ValueError("initial_value and vol_reference must be positive")
        if not 0 < self.vol_alpha_bps <= MAX_BPS:
            raise ValueError("vol_alpha_bps must be in (0, 10_000]")

    @property
    def targets(self) -> FloatArray:
        """Target weights as fractions, shape (n_assets,)."""
        return np.asarray(self.weights_bps, dtype=np.float64) / MAX_BPS


def default_policies(
    band_bps: float = 300.0,
    outer_band_bps: float | None = None,
    interval_days: float = 30.0,
    check_days: float = 7.0,
    fraction: float = 0.5,
) -> list[Policy]:
    """Buy-and-hold, the AMM pool, and each trigger family in each target mode."""
    outer = min(3 * band_bps, MAX_BPS) if outer_band_bps is None else outer_band_bps
    policies = [Policy("hold", "hold"), Policy("amm pool", "amm")]
    for kind, interval in (("calendar", interval_days), ("threshold", interval_days), ("hybrid", check_days)):
        for mode in ("target", "edge", "partial"):
            name = kind if mode == "target" else f"{kind}/{mode}"
            policies.append(
                Policy(
                    name,
                    kind,  # type: ignore[arg-type]
                    mode,  # type: ignore[arg-type]
                    fraction=fraction,
                    interval=interval * DAY,
                    bands_bps=band_bps,
                    outer_bands_bps=outer,
                )
            )
    return policies


#: Sweeps of the frontier plot.
SWEEP_INTERVAL_DAYS: tuple[float, ...] = (1, 3, 7, 14, 30, 60, 120)
SWEEP_BANDS_BPS: tuple[float, ...] = (25, 50, 100, 200, 300, 500, 800, 1200)


def frontier_policies(check_days: float = 7.0) -> dict[str, list[Policy]]:
    """Policy families for the cost / tracking-error frontier, by family label."""
    families: dict[str, list[Policy]] = {"calendar": [], "threshold": [], "threshold/edge": [], "hybrid": []}
    for days in SWEEP_INTERVAL_DAYS:
        families["calendar"].append(Policy(f"calendar {days:g}d", "calendar", interval=days * DAY))
    for band in SWEEP_BANDS_BPS:
        outer = min(3 * band, MAX_BPS)
        families["threshold"].append(Policy(f"threshold {band:g}bp", "threshold", bands_bps=band, outer_bands_bps=band))
        families["threshold/edge"].append(
            Policy(f"threshold/edge {band:g}bp", "threshold", "edge", bands_bps=band, outer_bands_bps=band)
        )
        families["hybrid"].append(
            Policy(f"hybrid {band:g}bp", "hybrid", interval=check_days * DAY, bands_bps=band, outer_bands_bps=outer)
        )
    return families


# ----------------------------------------------------------------- simulation


@dataclass
class PathResults:
    """Raw per-path output of :func:`simulate`.

    Attributes:
        values: Portfolio value after each step's trade, USD, shape (steps + 1, paths).
        cost: Total cost paid per path, USD, shape (paths,).
        traded: Sum over rebalances of value traded / value, shape (paths,).
        rebalances: Number of rebalances per path, shape (paths,).
        max_drift: Largest ``|weight - target|`` seen (before trading), shape (paths,).
        weights_before: Weights of the recorded path before each step's trade,
            shape (steps + 1, n_assets), or None.
        weights_after: Same, after the trade.
    """

    values: FloatArray
    cost: FloatArray
    traded: FloatArray
    rebalances: NDArray[np.int64]
    max_drift: FloatArray
    weights_before: FloatArray | None = None
    weights_after: FloatArray | None = None


def ideal_values(prices: FloatArray, config: BacktestConfig) -> FloatArray:
    """The ideal portfolio: rebalanced to target every step at zero cost.

    ``V_k = V_0 * prod_{j <= k} sum_i t_i P_i(j) / P_i(j - 1)``, shape
    (steps + 1, paths).
    """
    growth = (prices[1:] / prices[:-1]) @ config.targets
    values = np.empty(prices.shape[:2])
    values[0] = config.initial_value
    np.cumprod(growth, axis=0, out=values[1:])
    values[1:] *= config.initial_value
    return values


def _trade_bands(policy: Policy, n_assets: int, vols: FloatArray | None, vol_reference: float) -> FloatArray:
    """The bands "edge" and "shrink" trade back to, fractions: hybrid's vol-scaled, capped by the outer band."""
    bands, outer = policy.bands(n_assets)
    band = bands / MAX_BPS
    if vols is not None:
        band = np.minimum(band * vol_scale_np(vols, vol_reference), outer / MAX_BPS)
    return band


def trade_keep(
    policy: Policy, abs_drift: FloatArray, vols: FloatArray | None, vol_reference: float
) -> tuple[FloatArray | float, FloatArray]:
    """How far a triggered rebalance of ``policy`` trades, as one share of the drift kept per path.

    Returns ``(keep, gross)``: the share of each path's drift left after the trade (new weights
    are ``target + keep * drift``; a float, or an array (paths,) in "shrink" and "edge" mode) and
    the one-side swap notional as a fraction of value, ``sum |delta w| / 2``, shape (paths,).
    "edge" is one uniform share only with two assets (where it equals "shrink"); with more, its
    result depends on the drifts' signs: use :func:`trade_to`.
    """
    if policy.mode == "target":
        return 0.0, 0.5 * abs_drift.sum(axis=1)
    if policy.mode == "partial":
        return 1.0 - policy.fraction, (0.5 * policy.fraction) * abs_drift.sum(axis=1)
    if policy.mode == "edge" and abs_drift.shape[1] != 2:
        raise ValueError("edge mode moves each asset by its own share with more than two assets: use trade_to")
    band = _trade_bands(policy, abs_drift.shape[1], vols, vol_reference)
    if policy.mode == "edge":
        band = policy.inner_ratio * band
    with np.errstate(divide="ignore", invalid="ignore"):
        worst = np.nan_to_num(abs_drift / band, nan=0.0, posinf=np.inf).max(axis=1)
    keep = np.where(worst > 1.0, 1.0 / np.maximum(worst, 1.0), 1.0)
    return keep, 0.5 * (1.0 - keep) * abs_drift.sum(axis=1)


def trade_to(
    policy: Policy, drift: FloatArray, vols: FloatArray | None, vol_reference: float
) -> tuple[FloatArray, FloatArray]:
    """The drifts a triggered rebalance of ``policy`` leaves, for signed drifts of shape (paths, assets).

    Returns ``(after, gross)``: the drifts after the trade (new weights are ``target + after``)
    and the one-side swap notional as a fraction of value, ``sum |delta w| / 2``, shape (paths,).
    """
    if policy.mode == "edge":
        bands = _trade_bands(policy, drift.shape[1], vols, vol_reference)
        after = band_edge_np(drift, policy.inner_ratio * bands)
    else:
        keep, _ = trade_keep(policy, np.abs(drift), vols, vol_reference)
        after = (keep[:, None] if isinstance(keep, np.ndarray) else keep) * drift
    return after, 0.5 * np.abs(drift - after).sum(axis=1)


def simulate(
    policy: Policy,
    prices: FloatArray,
    config: BacktestConfig,
    dt_seconds: float = DAY,
    record_path: int | None = None,
    vol_path: FloatArray | None = None,
) -> PathResults:
    """Runs one policy over price paths of shape (steps + 1, paths, n_assets).

    The portfolio starts at target. At step k (time ``k * dt_seconds``) prices
    move, drift is measured, the hybrid volatility estimate observes the move,
    the trigger is evaluated (:func:`ballast.policy.needs_rebalance_np`) and, if
    due and there is something to trade, the portfolio trades to its new
    weights. The cost, ``cost_bps`` of the value traded (one side, the swap
    notional ``sum |delta value_i| / 2``) plus ``gas_usd``, is then taken from
    every asset pro rata, so post-trade weights are exactly the chosen ones.
    A due trigger with nothing to trade costs nothing and does not reset the
    clock, as on chain.

    ``vol_path`` (hybrid only; shape (steps + 1, paths, n_assets), annualised
    sigmas) replaces the on-chain EWMA: step k uses ``vol_path[k]``, which must
    depend on prices up to step k only (:mod:`ballast.forecast` builds them).
    """
    if prices.ndim != 3 or prices.shape[0] < 2:
        raise ValueError("prices must have shape (steps + 1, paths, assets) with steps >= 1")
    targets = config.targets
    if prices.shape[2] != targets.size:
        raise ValueError(f"prices have {prices.shape[2]} assets, the config {targets.size}")
    if policy.kind == "amm":
        return _simulate_amm(prices, config, record_path)
    if vol_path is not None and vol_path.shape != prices.shape:
        raise ValueError(f"vol_path has shape {vol_path.shape}, prices {prices.shape}")

    steps, paths = prices.shape[0] - 1, prices.shape[1]
    v0 = config.initial_value
    rate = config.cost_bps / MAX_BPS
    gas = config.gas_usd
    units = (v0 * targets) / prices[0]
    values = np.empty((steps + 1, paths))
    values[0] = v0
    cost = np.zeros(paths)
    traded = np.zeros(paths)
    rebalances = np.zeros(paths, dtype=np.int64)
    max_drift = np.zeros(paths)
    last = np.zeros(paths)
    before = after = None
    if record_path is not None:
        before = np.empty((steps + 1, targets.size))
        before[0] = targets
        after = before.copy()

    trading = policy.kind in _TRIGGERS
    trigger = _TRIGGERS.get(policy.kind, Trigger.THRESHOLD)
    bands, outer = policy.bands(targets.size)
    hybrid = policy.kind == "hybrid"
    variance = np.full((paths, targets.size), config.vol_reference**2) if hybrid else None

    for k in range(1, steps + 1):
        p = prices[k]
        held = units * p
        value = held.sum(axis=1)
        weights = held / value[:, None]
        drift = weights - targets
        abs_drift = np.abs(drift)
        np.maximum(max_drift, abs_drift.max(axis=1), out=max_drift)
        if before is not None:
            before[k] = weights[record_path]
        values[k] = value
        if not trading:
            if after is not None:
                after[k] = weights[record_path]
            continue

        now = k * dt_seconds
        vols = None
        if hybrid and vol_path is not None:
            vols = vol_path[k]
        elif variance is not None:
            update_variance_np(
                variance, p / prices[k - 1] - 1.0, dt_seconds, config.vol_alpha_bps, config.vol_reference
            )
            vols = np.sqrt(variance)
        if k % policy.check_steps:
            if after is not None:
                after[k] = weights[record_path]
            continue
        due, _ = needs_rebalance_np(
            trigger, drift, bands, outer, now, last, policy.interval, vols, config.vol_reference
        )

        left, gross = trade_to(policy, drift, vols, config.vol_reference)
        do = due & (gross > _MIN_TRADE)
        if policy.drift_aversion_bps is not None:
            # The planner's worth-it rule: the fall in the drift penalty pays for the trade.
            worth = value * (policy.drift_aversion_bps / MAX_BPS) * ((drift**2).sum(axis=1) - (left**2).sum(axis=1))
            do &= worth >= rate * gross * value + gas
        if not do.any():
            if after is not None:
                after[k] = weights[record_path]
            continue

        fee = np.where(do, rate * gross * value + gas, 0.0)
        new_value = value - fee
        new_weights = targets + left
        units = np.where(do[:, None], new_value[:, None] * new_weights / p, units)
        values[k] = new_value
        cost += fee
        traded += np.where(do, gross, 0.0)
        rebalances += do
        last = np.where(do, now, last)
        if after is not None:
            after[k] = new_weights[record_path] if do[record_path] else weights[record_path]

    return PathResults(values, cost, traded, rebalances, max_drift, before, after)


def _simulate_amm(prices: FloatArray, config: BacktestConfig, record_path: int | None) -> PathResults:
    """A zero-fee weighted geometric-mean pool kept at market prices by arbitrage.

    The invariant ``K = prod_i x_i**w_i`` is constant (no fee), and arbitrage
    moves the pool to each step's prices, where its value is
    ``K * prod_i (p_i / w_i)**w_i = V_0 * prod_i (P_i(t) / P_i(0))**w_i``.
    Turnover is the arbitrage volume, ``sum_i |x_i(k) - x_i(k-1)| p_i(k) / 2``
    over the pre-arbitrage value. The pool is always at target weight, so it
    pays no explicit cost; it loses value to arbitrageurs instead (LVR).
    """
    targets = config.targets
    steps, paths = prices.shape[0] - 1, prices.shape[1]
    units0 = config.initial_value * targets / prices[0]
    invariant = np.prod(units0**targets, axis=1)
    values = invariant * np.exp(np.log(prices / targets) @ targets)
    units = targets * values[..., None] / prices
    pre_value = np.einsum("kpn,kpn->kp", units[:-1], prices[1:])
    volume = 0.5 * np.einsum("kpn,kpn->kp", np.abs(np.diff(units, axis=0)), prices[1:])
    traded = (volume / pre_value).sum(axis=0)
    rebalances = (volume > 0).sum(axis=0).astype(np.int64)
    before = after = None
    if record_path is not None:
        before = np.broadcast_to(targets, (steps + 1, targets.size)).copy()
        after = before.copy()
    return PathResults(values, np.zeros(paths), traded, rebalances, np.zeros(paths), before, after)


# -------------------------------------------------------------------- metrics


@dataclass(frozen=True)
class Metrics:
    """Summary of one policy over all paths.

    Attributes:
        policy: Policy name.
        ann_return: ``exp(mean log(V_T / V_0) / years) - 1``.
        ann_vol: Mean over paths of the annualised std of step log returns.
        tracking_error: Mean over paths of the annualised std of the step
            log-return difference against the ideal portfolio.
        turnover: Mean annual value traded, fraction of value.
        cost: Mean total cost paid, fraction of the initial value.
        rebalances: Mean number of rebalances per path.
        worst_drift: Largest ``|weight - target|`` seen on any path.
        gap: Mean shortfall of the final value against the ideal portfolio,
            ``1 - V_T / V_T(ideal)`` (costs, drift and, for the AMM, LVR).
        paths: Number of paths.
    """

    policy: str
    ann_return: float
    ann_vol: float
    tracking_error: float
    turnover: float
    cost: float
    rebalances: float
    worst_drift: float
    gap: float
    paths: int


def path_stats(
    result: PathResults, ideal: FloatArray, config: BacktestConfig, dt_seconds: float
) -> dict[str, FloatArray]:
    """Per-path statistics of one policy, ready to concatenate across chunks."""
    steps = result.values.shape[0] - 1
    periods = SECONDS_PER_YEAR / dt_seconds
    years = steps / periods
    log_values = np.log(result.values)
    step_lr = np.diff(log_values, axis=0)
    diff = step_lr - np.diff(np.log(ideal), axis=0)
    ddof = 1 if steps > 1 else 0
    return {
        "log_growth": log_values[-1] - math.log(config.initial_value),
        "vol": step_lr.std(axis=0, ddof=ddof) * math.sqrt(periods),
        "te": diff.std(axis=0, ddof=ddof) * math.sqrt(periods),
        "turnover": result.traded / years,
        "cost": result.cost / config.initial_value,
        "rebalances": result.rebalances.astype(np.float64),
        "max_drift": result.max_drift,
        "gap": 1.0 - result.values[-1] / ideal[-1],
        "years": np.full(result.cost.shape, years),
    }


def summarise(name: str, stats: dict[str, FloatArray]) -> Metrics:
    """Aggregates per-path statistics into :class:`Metrics`."""
    years = float(stats["years"][0])
    return Metrics(
        policy=name,
        ann_return=math.expm1(float(stats["log_growth"].mean()) / years),
        ann_vol=float(stats["vol"].mean()),
        tracking_error=float(stats["te"].mean()),
        turnover=float(stats["turnover"].mean()),
        cost=float(stats["cost"].mean()),
        rebalances=float(stats["rebalances"].mean()),
        worst_drift=float(stats["max_drift"].max()),
        gap=float(stats["gap"].mean()),
        paths=int(stats["cost"].size),
    )


_COLUMNS: tuple[tuple[str, str], ...] = (
    ("return", "ann_return"),
    ("vol", "ann_vol"),
    ("track err", "tracking_error"),
    ("turnover", "turnover"),
    ("cost", "cost"),
    ("rebal", "rebalances"),
    ("worst drift", "worst_drift"),
    ("gap", "gap"),
)


def format_table(metrics: Iterable[Metrics]) -> str:
    """Plain-text table, one row per policy (percentages, except rebal)."""
    rows = list(metrics)
    width = max([len("policy"), *(len(m.policy) for m in rows)])
    header = "policy".ljust(width) + "".join(f"{title:>12}" for title, _ in _COLUMNS)
    lines = [header, "-" * len(header)]
    for m in rows:
        cells = []
        for title, attr in _COLUMNS:
            value = getattr(m, attr)
            cells.append(f"{value:>12.1f}" if title == "rebal" else f"{100 * value:>11.2f}%")
        lines.append(m.policy.ljust(width) + "".join(cells))
    return "\n".join(lines)


# --------------------------------------------------------------------- runner


@dataclass
class BacktestResult:
    """Output of :func:`run_backtest`.

    Attributes:
        metrics: One entry per policy, in input order.
        weights: ``policy name -> (before, after)`` weights of the recorded
            path (the first path), each shape (steps + 1, n_assets).
        dt_seconds: Step length, seconds.
    """

    metrics: list[Metrics]
    weights: dict[str, tuple[FloatArray, FloatArray]]
    dt_seconds: float


def run_backtest(
    model: PriceModel,
    policies: Sequence[Policy],
    config: BacktestConfig,
    paths: int = 2_000,
    steps: int = 365,
    seed: int = 0,
    chunk: int = 5_000,
    progress: bool = True,
) -> BacktestResult:
    """Runs every policy over the same price paths, in chunks of paths.

    Each chunk of paths is generated once and shared by all policies (common
    random numbers). Chunk ``i`` draws from ``SeedSequence(seed).spawn()[i]``,
    so results depend on ``seed`` and ``chunk``.

    Args:
        model: Price model (:class:`GBM`, :class:`JumpGBM`, :class:`Bootstrap`,
            :class:`Replay`).
        policies: Policies to compare; names must be unique.
        config: Portfolio and cost settings.
        paths: Number of paths.
        steps: Number of steps per path.
        seed: Random seed.
        chunk: Paths simulated at once (bounds memory).
        progress: Show a tqdm bar (only on a TTY).
    """
    if paths <= 0 or steps <= 0 or chunk <= 0:
        raise ValueError("paths, steps and chunk must be positive")
    if model.n_assets != len(config.weights_bps):
        raise ValueError(f"the model has {model.n_assets} assets but {len(config.weights_bps)} target weights")
    names = [p.name for p in policies]
    if len(set(names)) != len(names):
        raise ValueError("policy names must be unique")
    dt = float(model.dt_seconds)
    sizes = [min(chunk, paths - start) for start in range(0, paths, chunk)]
    seeds = np.random.SeedSequence(seed).spawn(len(sizes))
    stats: dict[str, list[dict[str, FloatArray]]] = {name: [] for name in names}
    weights: dict[str, tuple[FloatArray, FloatArray]] = {}
    bar = tqdm(
        total=len(sizes) * len(policies), desc="backtest", unit="run", disable=not progress or not sys.stderr.isatty()
    )
    with bar:
        for index, (size, child) in enumerate(zip(sizes, seeds, strict=True)):
            prices = model.generate(np.random.default_rng(child), size, steps)
            ideal = ideal_values(prices, config)
            for policy in policies:
                bar.set_postfix_str(policy.name, refresh=False)
                result = simulate(policy, prices, config, dt, record_path=0 if index == 0 else None)
                stats[policy.name].append(path_stats(result, ideal, config, dt))
                if result.weights_before is not None and result.weights_after is not None:
                    weights[policy.name] = (result.weights_before, result.weights_after)
                bar.update()
    metrics = [
        summarise(name, {key: np.concatenate([s[key] for s in stats[name]]) for key in stats[name][0]})
        for name in names
    ]
    return BacktestResult(metrics, weights, dt)


# ---------------------------------------------------------------------- plots


def _pyplot():  # returns the matplotlib.pyplot module
    """Imports pyplot on the non-interactive Agg backend."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def plot_frontier(families: dict[str, list[Metrics]], path: str | Path, title: str = "") -> Path:
    """Plots total cost against tracking error for each policy family.

    Args:
        families: Family label -> metrics along its sweep (band widths or intervals).
        path: Output PNG file.
        title: Optional subtitle.
    """
    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(8, 5.5), dpi=120)
    for label, series in families.items():
        x = [100 * m.tracking_error for m in series]
        y = [100 * max(m.cost, 1e-6) for m in series]
        ax.plot(x, y, marker="o", label=label)
        for m, xi, yi in zip(series, x, y, strict=True):
            ax.annotate(m.policy.split()[-1], (xi, yi), textcoords="offset points", xytext=(4, 3), fontsize=7)
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlabel("tracking error vs ideal target portfolio (annualised, %)")
    ax.set_ylabel("total cost paid (% of initial value)")
    ax.set_title("Cost / tracking-error frontier" + (f"\n{title}" if title else ""), fontsize=10)
    ax.grid(True, which="both", alpha=0.3)
    ax.legend()
    fig.tight_layout()
    out = Path(path)
    out.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(out)
    plt.close(fig)
    return out


def plot_weights(
    before: FloatArray,
    after: FloatArray,
    names: Sequence[str],
    config: BacktestConfig,
    path: str | Path,
    bands_bps: ArrayLike | None = None,
    dt_seconds: float = DAY,
    title: str = "",
) -> Path:
    """Plots one path's weights over time: drift, then the jump of each rebalance.

    Args:
        before: Weights before each step's trade, shape (steps + 1, n_assets).
        after: Weights after it, same shape.
        names: Asset names.
        config: Supplies the target weights.
        path: Output PNG file.
        bands_bps: Bands to shade around each target, bps (scalar or per asset).
        dt_seconds: Step length, seconds (x axis in days).
        title: Plot title.
    """
    plt = _pyplot()
    steps = before.shape[0]
    days = np.repeat(np.arange(steps) * dt_seconds / DAY, 2)
    series = np.empty((2 * steps, before.shape[1]))
    series[0::2] = before
    series[1::2] = after
    fig, ax = plt.subplots(figsize=(9, 5), dpi=120)
    for i, name in enumerate(names):
        (line,) = ax.plot(days, 100 * series[:, i], lw=1.0, label=name)
        target = 100 * config.targets[i]
        ax.axhline(target, color=line.get_color(), ls="--", lw=0.7)
        if bands_bps is not None:
            band = float(np.broadcast_to(np.asarray(bands_bps, dtype=np.float64), (len(names),))[i]) / 100
            ax.axhspan(target - band, target + band, color=line.get_color(), alpha=0.08)
    ax.set_xlabel("day")
    ax.set_ylabel("weight (%)")
    ax.set_title(title or "Weights over time (one path)", fontsize=10)
    ax.grid(True, alpha=0.3)
    ax.legend(loc="center left", bbox_to_anchor=(1.01, 0.5), fontsize=8)
    fig.tight_layout()
    out = Path(path)
    out.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(out)
    plt.close(fig)
    return out


# ---------------------------------------------------------------------- bench


def bench(paths: int = 10_000, steps: int = 365, seed: int = 0, chunk: int = 5_000) -> dict[str, float]:
    """Times the threshold policy over ``paths`` x ``steps`` x 4 assets (GBM).

    Returns:
        Seconds per stage: "prices", "simulate", "metrics" and "total".
    """
    model = GBM()
    config = BacktestConfig()
    policy = Policy("threshold", "threshold")
    timings = {"prices": 0.0, "simulate": 0.0, "metrics": 0.0}
    seeds = np.random.SeedSequence(seed).spawn(-(-paths // chunk))
    for start, child in zip(range(0, paths, chunk), seeds, strict=True):
        size = min(chunk, paths - start)
        t0 = time.perf_counter()
        prices = model.generate(np.random.default_rng(child), size, steps)
        t1 = time.perf_counter()
        result = simulate(policy, prices, config, model.dt_seconds)
        t2 = time.perf_counter()
        path_stats(result, ideal_values(prices, config), config, model.dt_seconds)
        t3 = time.perf_counter()
        timings["prices"] += t1 - t0
        timings["simulate"] += t2 - t1
        timings["metrics"] += t3 - t2
    timings["total"] = sum(timings.values())
    return timings


def format_bench(timings: dict[str, float], paths: int, steps: int) -> str:
    """Plain-text table of :func:`bench` timings."""
    lines = [
        f"bench: threshold policy, {paths:,} paths x {steps} steps x 4 assets",
        f"{'stage':<10}{'seconds':>10}{'paths/s':>12}",
        "-" * 32,
    ]
    for stage, seconds in timings.items():
        rate = paths / seconds if seconds > 0 else float("inf")
        lines.append(f"{stage:<10}{seconds:>10.2f}{rate:>12,.0f}")
    return "\n".join(lines)


# ------------------------------------------------------------------------ CLI


def _floats(text: str) -> tuple[float, ...]:
    """Parses a comma-separated list of numbers."""
    try:
        return tuple(float(x) for x in text.split(","))
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected comma-separated numbers, got {text!r}") from None


def _ints(text: str) -> tuple[int, ...]:
    """Parses a comma-separated list of integers."""
    try:
        return tuple(int(x) for x in text.split(","))
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected comma-separated integers, got {text!r}") from None


class _HelpFormatter(argparse.ArgumentDefaultsHelpFormatter):
    """Shows defaults, except unset (None) ones and flags."""

    def _get_help_string(self, action: argparse.Action) -> str | None:
        if action.default is None or action.default is False:
            return action.help
        return super()._get_help_string(action)


def build_parser(prog: str | None = None) -> argparse.ArgumentParser:
    """The command-line parser of ``python -m ballast.backtest``."""
    parser = argparse.ArgumentParser(
        prog=prog or "python -m ballast.backtest",
        description="Backtest Ballast rebalance policies on simulated or real prices.",
        formatter_class=_HelpFormatter,
    )
    parser.add_argument("--paths", type=int, default=2_000, help="number of price paths")
    parser.add_argument("--steps", type=int, default=None, help="steps per path (default 365; csv: all rows)")
    parser.add_argument("--model", choices=("gbm", "jump", "csv"), default="gbm", help="price model")
    parser.add_argument("--csv", type=Path, help="price history for --model csv (date,<asset>,...)")
    parser.add_argument("--block", type=int, default=20, help="bootstrap block length for csv with --paths > 1")
    parser.add_argument(
        "--weights", type=_ints, help="target weights, bps, comma-separated (default 4000,3000,2000,1000)"
    )
    parser.add_argument("--vols", type=_floats, help="annual vols for gbm/jump (default 0.05,0.6,0.8,1.0)")
    parser.add_argument("--cost-bps", type=float, default=30.0, help="proportional cost, bps of value traded")
    parser.add_argument("--gas-usd", type=float, default=10.0, help="fixed cost per rebalance, USD")
    parser.add_argument("--value", type=float, default=100_000.0, help="initial portfolio value, USD")
    parser.add_argument("--band-bps", type=float, default=300.0, help="drift band, bps")
    parser.add_argument("--outer-band-bps", type=float, help="hybrid outer band, bps (default 3x band)")
    parser.add_argument("--interval-days", type=float, default=30.0, help="calendar interval, days")
    parser.add_argument("--check-days", type=float, default=7.0, help="hybrid check interval, days")
    parser.add_argument("--fraction", type=float, default=0.5, help="share of drift removed in partial mode")
    parser.add_argument("--vol-reference", type=float, default=0.6, help="hybrid reference volatility")
    parser.add_argument("--plot-policy", default="threshold", help="policy whose weights are plotted")
    parser.add_argument("--out", type=Path, default=Path("out/backtest"), help="output directory")
    parser.add_argument("--seed", type=int, default=0, help="random seed")
    parser.add_argument("--chunk", type=int, default=5_000, help="paths simulated at once")
    parser.add_argument("--sweep", action="store_true", help="also sweep bands / intervals and plot the frontier")
    parser.add_argument("--bench", action="store_true", help="time 10,000 paths x 365 steps (threshold) and exit")
    parser.add_argument("--quiet", action="store_true", help="no progress bar")
    return parser


def _model(args: argparse.Namespace) -> tuple[PriceModel, tuple[str, ...], int]:
    """Builds the price model, asset names and step count from parsed arguments."""
    if args.model == "csv":
        if args.csv is None:
            raise ValueError("--model csv needs --csv FILE")
        history = load_csv(args.csv)
        if args.paths == 1:
            replay = Replay(history)
            steps = replay.max_steps if args.steps is None else args.steps
            return replay, history.names, steps
        steps = 365 if args.steps is None else args.steps
        return Bootstrap(history, args.block), history.names, steps
    if args.csv is not None:
        raise ValueError("--csv is only used with --model csv")
    steps = 365 if args.steps is None else args.steps
    vols = args.vols or DEFAULT_VOLS
    if len(vols) != len(DEFAULT_VOLS):
        raise ValueError(f"--vols needs {len(DEFAULT_VOLS)} values for the built-in models")
    base = GBM(sigma=vols)
    model: PriceModel = base if args.model == "gbm" else JumpGBM(base=base)
    return model, DEFAULT_ASSETS, steps


def _equal_weights(n: int) -> tuple[int, ...]:
    """Equal weights in bps summing to MAX_BPS (remainder on the first asset)."""
    weights = [MAX_BPS // n] * n
    weights[0] += MAX_BPS - sum(weights)
    return tuple(weights)


def _check_args(args: argparse.Namespace) -> None:
    """Refuses out-of-range options and unreadable files before any simulation (InputError)."""
    for name in ("paths", "block", "chunk") + (("steps",) if args.steps is not None else ()):
        require_range(getattr(args, name), f"--{name}", 1)
    require_range(args.cost_bps, "--cost-bps", 0, MAX_BPS)
    require_range(args.gas_usd, "--gas-usd", 0)
    require_range(args.value, "--value", 0, low_open=True)
    require_range(args.band_bps, "--band-bps", 0, MAX_BPS, low_open=True)
    if args.outer_band_bps is not None:
        require_range(args.outer_band_bps, "--outer-band-bps", args.band_bps, MAX_BPS)
    for name in ("interval_days", "check_days", "vol_reference"):
        require_range(getattr(args, name), "--" + name.replace("_", "-"), 0, low_open=True)
    require_range(args.fraction, "--fraction", 0, 1, low_open=True)
    for i, vol in enumerate(args.vols or ()):
        require_range(vol, f"--vols[{i}]", 0, low_open=True)
    if args.weights is not None:
        for i, weight in enumerate(args.weights):
            require_range(weight, f"--weights[{i}]", 0, MAX_BPS, low_open=True)
        if sum(args.weights) != MAX_BPS:
            raise InputError(f"--weights: must sum to {MAX_BPS}, got {sum(args.weights)}")
    if args.csv is not None:
        require_file(args.csv, "--csv")
    require_folder_for(args.out, "--out", is_folder=True)


def main(argv: Sequence[str] | None = None, prog: str | None = None) -> int:
    """Command-line entry point; returns the process exit status."""
    parser = build_parser(prog)
    args = parser.parse_args(argv)
    try:
        _check_args(args)
    except ValueError as exc:
        parser.error(str(exc))
    if args.bench:
        paths, steps = 10_000, 365
        print(format_bench(bench(paths, steps, args.seed, args.chunk), paths, steps))
        return 0
    try:
        model, names, steps = _model(args)
        weights = args.weights
        if weights is None:
            weights = (
                DEFAULT_WEIGHTS_BPS if model.n_assets == len(DEFAULT_WEIGHTS_BPS) else _equal_weights(model.n_assets)
            )
        if len(weights) != model.n_assets:
            raise ValueError(f"--weights needs {model.n_assets} values, got {len(weights)}")
        config = BacktestConfig(
            weights_bps=weights,
            cost_bps=args.cost_bps,
            gas_usd=args.gas_usd,
            initial_value=args.value,
            vol_reference=args.vol_reference,
        )
        policies = default_policies(
            args.band_bps, args.outer_band_bps, args.interval_days, args.check_days, args.fraction
        )
        if args.plot_policy not in {p.name for p in policies}:
            names_list = ", ".join(p.name for p in policies)
            raise ValueError(f"--plot-policy must be one of: {names_list}")
    except (ValueError, OSError) as exc:
        parser.error(str(exc))

    progress = not args.quiet
    result = run_backtest(model, policies, config, args.paths, steps, args.seed, args.chunk, progress)
    years = steps * result.dt_seconds / SECONDS_PER_YEAR
    print(
        f"{args.model}: {args.paths:,} path(s) x {steps} steps ({years:.2f} y), "
        f"assets {','.join(names)}, weights {','.join(map(str, weights))} bps, "
        f"cost {args.cost_bps:g} bps + ${args.gas_usd:g}/rebalance, "
        f"value ${args.value:,.0f}"
    )
    print(format_table(result.metrics))

    args.out.mkdir(parents=True, exist_ok=True)
    _write_metrics(result.metrics, args.out / "metrics.csv")
    plot_name = args.plot_policy
    before, after = result.weights[plot_name]
    plot_policy = next(p for p in policies if p.name == plot_name)
    written = [
        plot_weights(
            before,
            after,
            names,
            config,
            args.out / "backtest_weights.png",
            bands_bps=None if plot_policy.kind in ("hold", "amm") else plot_policy.bands_bps,
            dt_seconds=result.dt_seconds,
            title=f"Weights, path 0, policy {plot_name!r} (band {args.band_bps:g} bps)",
        )
    ]

    if args.sweep:
        families = frontier_policies(args.check_days)
        flat = [p for family in families.values() for p in family]
        sweep = run_backtest(model, flat, config, args.paths, steps, args.seed, args.chunk, progress)
        by_name = {m.policy: m for m in sweep.metrics}
        series = {label: [by_name[p.name] for p in family] for label, family in families.items()}
        print()
        print(format_table(sweep.metrics))
        _write_metrics(sweep.metrics, args.out / "sweep.csv")
        subtitle = (
            f"{args.model}, {args.paths:,} paths x {steps} steps, "
            f"cost {args.cost_bps:g} bps + {args.gas_usd:g} USD gas per rebalance, "
            f"on {args.value:,.0f} USD"
        )
        written.append(plot_frontier(series, args.out / "backtest_frontier.png", subtitle))
    for path in written:
        print(f"wrote {path}")
    return 0


def _write_metrics(metrics: Sequence[Metrics], path: Path) -> None:
    """Writes metrics as CSV (fractions, not percentages)."""
    fields = list(Metrics.__dataclass_fields__)
    with open(path, "w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(fields)
        for m in metrics:
            writer.writerow([getattr(m, f) for f in fields])


if __name__ == "__main__":
    sys.exit(main())
