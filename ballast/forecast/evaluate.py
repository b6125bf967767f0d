"""Walk-forward out-of-sample evaluation of volatility forecasts.

Each data set is a price array of shape (warmup + test + 1, paths, assets): the
forecasters see the warm-up window and then walk forward through the test
window, one step at a time, committing every forecast before its window.

Two tables per data set:

* the scoreboard: QLIKE and log-variance MSE of each forecaster over the test
  window's 7-step windows, with a paired 95 % confidence interval of the QLIKE
  difference against EWMA (bootstrap over paths, or over test segments);
* the policy table: cost and tracking error of the hybrid trigger whose band
  scale comes from each forecast (:func:`ballast.backtest.simulate` with
  ``vol_path``), against the fixed-band threshold policy and the vault's own
  EWMA hybrid, with 95 % bootstrap intervals, plus an oracle that knows the
  realised variance of the next window (not implementable; the ceiling).

Data sets: block bootstrap of a real history, a Markov regime-switching model
(calm and crisis regimes in training, an unseen, more violent regime in the
test window), and the real history itself cut into consecutive test segments.
"""

from __future__ import annotations

import csv
import math
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from ballast.backtest import (
    DAY,
    DEFAULT_CORR,
    DEFAULT_MU,
    BacktestConfig,
    Bootstrap,
    Policy,
    PriceHistory,
    _factor,
    _prices_from_log_returns,
    ideal_values,
    path_stats,
    simulate,
)
from ballast.constants import SECONDS_PER_YEAR
from ballast.forecast.models import EWMA, GARCH, HAR, FloatArray, Forecaster
from ballast.forecast.scoreboard import GuardedRun, apply_guard, commit_steps, qlike, realised, sq_log_error

#: Hybrid check interval and forecast horizon, steps (days).
HORIZON = 7
#: The vault's EWMA weight in specs/*.yaml (``vol_alpha_bps: 2000``), i.e. lambda 0.8.
VAULT_ALPHA_BPS = 2_000
#: Warm-up volatility below which an asset counts as the stablecoin: not scored, not in vol_reference.
RISKY_VOL = 0.10


# ---------------------------------------------------------------- data sets


@dataclass(frozen=True)
class RegimeSwitching:
    """Correlated GBM whose volatility follows a two-state Markov chain, plus an unseen regime.

    Before ``test_start`` each path switches between calm (``calm`` x base vol)
    and crisis (``crisis`` x) with mean durations ``calm_days`` and
    ``crisis_days``; from ``test_start + unseen_start`` for ``unseen_days``
    steps every path is in a regime never seen in training (``unseen`` x
    base vol, correlations pulled towards 1 by ``unseen_corr``).
    """

    sigma: tuple[float, ...] = (0.05, 0.50, 0.70, 0.90)
    calm: float = 0.6
    crisis: float = 1.8
    calm_days: float = 120.0
    crisis_days: float = 30.0
    test_start: int = 500
    unseen: float = 3.5
    unseen_start: int = 120
    unseen_days: int = 60
    unseen_corr: float = 0.5

    @property
    def n_assets(self) -> int:
        """Number of assets."""
        return len(self.sigma)

    @property
    def dt_seconds(self) -> float:
        """One day."""
        return float(DAY)

    def generate(self, rng: np.random.Generator, paths: int, steps: int) -> FloatArray:
        """Prices from 1.0, shape (steps + 1, paths, n_assets)."""
        n = self.n_assets
        corr = np.asarray(DEFAULT_CORR, dtype=np.float64)
        stress = corr + self.unseen_corr * (1.0 - corr)
        stress[0, 1:] = stress[1:, 0] = 0.0
        z = rng.standard_normal((steps, paths, n))
        shocks = z @ _factor(corr).T
        crisis = np.zeros((steps, paths), dtype=bool)
        state = np.zeros(paths, dtype=bool)  # every path starts calm
        u = rng.random((steps, paths))
        for k in range(steps):
            leave = np.where(state, 1.0 / self.crisis_days, 1.0 / self.calm_days)
            state = np.where(u[k] < leave, ~state, state)
            crisis[k] = state
        mult = np.where(crisis, self.crisis, self.calm)
        lo = self.test_start + self.unseen_start
        window = slice(min(lo, steps), min(lo + self.unseen_days, steps))
        mult[window] = self.unseen
        shocks[window] = z[window] @ _factor(stress).T
        dt = self.dt_seconds / SECONDS_PER_YEAR
        vol = mult[..., None] * np.asarray(self.sigma)
        lr = shocks * vol * math.sqrt(dt) + (np.asarray(DEFAULT_MU) - 0.5 * vol**2) * dt
        return _prices_from_log_returns(lr)


def real_history_csv(path: str | Path) -> Path:
    """Writes ``date,STABLE,SP500,NASDAQ,WTI`` (daily closes 1999-2018) from the ``arch`` package's data.

    The S&P 500 and NASDAQ adjusted closes and the WTI spot price ship with
    ``arch`` (``arch.data``), so nothing is downloaded. Rows are the dates all
    three have; STABLE is a constant 1.0.
    """
    from arch.data import nasdaq, sp500, wti

    frame = sp500.load()[["Adj Close"]].rename(columns={"Adj Close": "SP500"})
    frame = frame.join(nasdaq.load()[["Adj Close"]].rename(columns={"Adj Close": "NASDAQ"}), how="inner")
    frame = frame.join(wti.load().rename(columns={"DCOILWTICO": "WTI"}), how="inner").dropna()
    frame = frame[(frame > 0).all(axis=1)]
    frame.insert(0, "STABLE", 1.0)
    out = Path(path)
    out.parent.mkdir(parents=True, exist_ok=True)
    frame.index = frame.index.strftime("%Y-%m-%d")
    frame.to_csv(out, index_label="date", float_format="%.6f")
    return out


@dataclass(frozen=True)
class DataSet:
    """Prices for one walk-forward run.

    Attributes:
        name: Label.
        prices: Shape (warmup + test + 1, paths, assets); every path starts its
            test window at step ``warmup``.
        warmup: Steps seen before the first committed forecast.
        names: Asset names.
        dates: Date of each price row, for a real history (None when simulated).
    """

    name: str
    prices: FloatArray
    warmup: int
    names: tuple[str, ...]
    dates: np.ndarray | None = None

    @property
    def returns(self) -> FloatArray:
        """Simple returns, shape (steps, paths, assets)."""
        return self.prices[1:] / self.prices[:-1] - 1.0


def bootstrap_set(history: PriceHistory, paths: int, warmup: int, test: int, seed: int, block: int = 20) -> DataSet:
    """Moving-block bootstrap paths of ``history`` (keeps clustering only within a block)."""
    prices = Bootstrap(history, block).generate(np.random.default_rng(seed), paths, warmup + test)
    return DataSet(f"bootstrap (block {block})", prices, warmup, history.names)


def regime_set(paths: int, warmup: int, test: int, seed: int) -> DataSet:
    """Paths of :class:`RegimeSwitching` with the unseen regime inside the test window."""
    model = RegimeSwitching(test_start=warmup)
    prices = model.generate(np.random.default_rng(seed), paths, warmup + test)
    return DataSet("regime switching", prices, warmup, ("STABLE", "ETH", "ALT", "SMALL"))


def history_segments(history: PriceHistory, warmup: int, test: int) -> tuple[DataSet, int]:
    """The real history as one path; :func:`policy_table` cuts it into test segments.

    Returns the data set (one path, all rows) and the number of whole test segments after warm-up.
    """
    prices = history.prices[:, None, :]
    segments = (prices.shape[0] - 1 - warmup) // test
    return DataSet("real history", prices, warmup, history.names, history.dates), segments


def risky_assets(data: DataSet) -> list[int]:
    """Assets whose annualised volatility over the warm-up is at least :data:`RISKY_VOL` (not the stablecoin)."""
    variance = np.mean(data.returns[: data.warmup] ** 2, axis=(0, 1)) * SECONDS_PER_YEAR / DAY
    return [i for i, v in enumerate(variance) if math.sqrt(v) >= RISKY_VOL]


# ---------------------------------------------------------------- forecasts


def default_forecasters(refit_every: int = 91) -> dict[str, Forecaster]:
    """EWMA (RiskMetrics 0.94), GARCH(1,1) and HAR-RV, by label."""
    return {"EWMA 0.94": EWMA(0.94), "GARCH(1,1)": GARCH(refit_every), "HAR-RV": HAR(refit_every)}


@dataclass
class Forecasts:
    """Forecast paths (T + 1, P, assets) of one data set, per label, plus guard runs."""

    paths: dict[str, FloatArray]
    guards: dict[str, GuardedRun] = field(default_factory=dict)
    seconds: dict[str, float] = field(default_factory=dict)


def run_forecasts(
    data: DataSet, forecasters: dict[str, Forecaster], horizon: int = HORIZON, guard_window: int = 26
) -> Forecasts:
    """Every forecaster on every (path, asset) series, EWMA guards on the others, and the oracle.

    The guards ("<model>+guard") fall back to EWMA 0.94 while the model's
    trailing QLIKE is worse. "oracle" is the realised mean variance of the
    next ``horizon`` steps (it looks ahead; a ceiling, never a policy).
    """
    r = data.returns
    steps, paths, n = r.shape
    flat = r.reshape(steps, paths * n)
    out = Forecasts({})
    for label, model in forecasters.items():
        t0 = time.perf_counter()
        out.paths[label] = model.forecast_path(flat, horizon, data.warmup).reshape(steps + 1, paths, n)
        out.seconds[label] = time.perf_counter() - t0
    base = out.paths["EWMA 0.94"].reshape(steps + 1, paths * n)
    for label in forecasters:
        if label == "EWMA 0.94":
            continue
        run = apply_guard(
            out.paths[label].reshape(steps + 1, paths * n), base, flat, horizon, data.warmup, guard_window, 4, label
        )
        out.guards[f"{label}+guard"] = run
        out.paths[f"{label}+guard"] = run.forecast.reshape(steps + 1, paths, n)
    vault = EWMA(1.0 - VAULT_ALPHA_BPS / 10_000).forecast_path(flat, horizon, data.warmup)
    out.paths["vault EWMA"] = vault.reshape(steps + 1, paths, n)
    csum = np.vstack([np.zeros((1, paths * n)), np.cumsum(flat**2, axis=0)])
    oracle = np.empty((steps + 1, paths * n))
    k = np.arange(steps + 1)
    hi = np.minimum(k + horizon, steps)
    oracle[:] = (csum[hi] - csum[k]) / np.maximum(hi - k, 1)[:, None]
    oracle[-1] = oracle[-2]
    out.paths["oracle"] = np.maximum(oracle, 1e-12).reshape(steps + 1, paths, n)
    return out


# ---------------------------------------------------------------- scoreboard


def _ci(samples: FloatArray, rng: np.random.Generator, draws: int = 2_000) -> tuple[float, float, float]:
    """Mean and 95 % bootstrap interval of the mean of ``samples`` (one value per unit)."""
    samples = np.asarray(samples, dtype=np.float64)
    picks = rng.integers(0, samples.size, size=(draws, samples.size))
    means = samples[picks].mean(axis=1)
    return float(samples.mean()), float(np.quantile(means, 0.025)), float(np.quantile(means, 0.975))


@dataclass(frozen=True)
class ScoreRow:
    """One forecaster's scores over the test window (risky assets only)."""

    model: str
    qlike: float
    qlike_vs_ewma: tuple[float, float, float]
    sq_log: float
    on_model: float
    switches: int


def scoreboard(
    data: DataSet,
    forecasts: Forecasts,
    units: Sequence[np.ndarray] | None = None,
    horizon: int = HORIZON,
    seed: int = 0,
) -> list[ScoreRow]:
    """QLIKE and log-MSE per forecaster, with the paired QLIKE difference against EWMA.

    ``units`` groups commit windows for the interval (default: one unit per
    path); each unit is an array of window indices.
    """
    r = data.returns
    steps, paths, n = r.shape
    risky = risky_assets(data)
    commits = commit_steps(steps, horizon, data.warmup)
    rv = realised(r.reshape(steps, paths * n), commits, horizon).reshape(len(commits), paths, n)[:, :, risky]
    rng = np.random.default_rng(seed)
    losses = {}
    for label, path in forecasts.paths.items():
        if label == "oracle":  # the realised variance itself: QLIKE 0 by construction
            continue
        committed = path[commits][:, :, risky]
        losses[label] = (qlike(rv, committed), sq_log_error(rv, committed))
    groups = units if units is not None else [np.arange(len(commits))]
    base = losses["EWMA 0.94"][0]
    rows = []
    for label, (q, s) in losses.items():
        diff = q - base  # (windows, paths, risky)
        if units is None:
            interval = _ci(diff.mean(axis=(0, 2)), rng)  # every path has the same number of windows
        else:  # segments of unequal length: resample segments, weight by their windows
            sums = np.array([diff[g].sum() for g in groups])
            interval = _ratio_ci(sums, np.array([float(diff[g].size) for g in groups]), rng)
        guard = forecasts.guards.get(label)
        on_model = 1.0
        switches = 0
        if guard is not None:
            on = guard.on_model.reshape(steps + 1, paths, n)[commits][:, :, risky]
            on_model = float(on.mean())
            switches = sum(1 for sw in guard.switches if sw.series % n in risky)
        rows.append(ScoreRow(label, float(q.mean()), interval, float(s.mean()), on_model, switches))
    return rows


def format_scoreboard(rows: Sequence[ScoreRow], title: str) -> str:
    """Markdown table of :func:`scoreboard`."""
    lines = [
        title,
        "| forecast | QLIKE | QLIKE - EWMA [95% CI] | MSE log var | on model | switches |",
        "|---|---|---|---|---|---|",
    ]
    for row in rows:
        mean, lo, hi = row.qlike_vs_ewma
        lines.append(
            f"| {row.model} | {row.qlike:.4f} | {mean:+.4f} [{lo:+.4f}, {hi:+.4f}] | {row.sq_log:.3f} "
            f"| {100 * row.on_model:.0f}% | {row.switches} |"
        )
    return "\n".join(lines)


# ---------------------------------------------------------------- policies


@dataclass(frozen=True)
class PolicyRow:
    """Cost and tracking error of one policy over the test paths, with 95 % intervals."""

    policy: str
    cost_bps: tuple[float, float, float]
    cost_vs_fixed: tuple[float, float, float]
    cost_vs_vault: tuple[float, float, float]
    te: tuple[float, float, float]
    te_vs_fixed: tuple[float, float, float]
    rebalances: float


POLICY_FORECASTS: tuple[str, ...] = (
    "vault EWMA",
    "EWMA 0.94",
    "GARCH(1,1)",
    "GARCH(1,1)+guard",
    "HAR-RV",
    "HAR-RV+guard",
    "oracle",
)


def segment_slices(data: DataSet, test: int, segments: int | None) -> tuple[slice, ...] | None:
    """Row slices of the test segments of a one-path history (None for simulated sets)."""
    if segments is None:
        return None
    return tuple(slice(data.warmup + i * test, data.warmup + (i + 1) * test + 1) for i in range(segments))


def _cut(array: FloatArray, data: DataSet, test: int, segments: int | None) -> FloatArray:
    """The test window(s) of an array (T + 1, P, n) as (test + 1, paths or segments, n)."""
    cuts = segment_slices(data, test, segments)
    if cuts is None:
        return array[data.warmup : data.warmup + test + 1]
    return np.concatenate([array[c] for c in cuts], axis=1)


def policy_table(
    data: DataSet,
    forecasts: Forecasts,
    test: int,
    segments: int | None = None,
    band_bps: float = 300.0,
    config: BacktestConfig | None = None,
    seed: int = 0,
    other_bands_bps: Sequence[float] = (150.0, 200.0, 500.0),
) -> list[PolicyRow]:
    """Runs the fixed band and each forecast-driven hybrid over the test window(s).

    The hybrid (band ``band_bps`` x clamp(vol / vol_reference, 0.5, 3), outer
    band 3x, checked every :data:`HORIZON` days) takes its vol from the
    forecast committed at each step; ``vol_reference`` is the mean annualised
    volatility of the risky assets (:func:`risky_assets`) over the warm-up window (known before the
    test starts). ``other_bands_bps`` adds fixed bands for comparison at
    about the hybrid's tracking error.
    """
    r = data.returns
    risky = risky_assets(data)
    periods = SECONDS_PER_YEAR / DAY
    vol_reference = float(np.sqrt(np.mean(r[: data.warmup, :, risky] ** 2, axis=(0, 1)) * periods).mean())
    base = config or BacktestConfig()
    n = r.shape[2]
    weights = base.weights_bps if len(base.weights_bps) == n else tuple([10_000 // n] * n)
    config = BacktestConfig(weights, base.cost_bps, base.gas_usd, base.initial_value, vol_reference)
    prices = _cut(data.prices, data, test, segments)
    prices = prices / prices[0]
    ideal = ideal_values(prices, config)
    fixed = Policy(f"threshold {band_bps:g}bp", "threshold", bands_bps=band_bps, outer_bands_bps=band_bps)
    hybrid = Policy("hybrid", "hybrid", interval=HORIZON * DAY, bands_bps=band_bps, outer_bands_bps=3 * band_bps)
    stats = {fixed.name: path_stats(simulate(fixed, prices, config), ideal, config, DAY)}
    for band in other_bands_bps:
        other = Policy(f"threshold {band:g}bp", "threshold", bands_bps=band, outer_bands_bps=band)
        stats[other.name] = path_stats(simulate(other, prices, config), ideal, config, DAY)
    for label in POLICY_FORECASTS:
        vols = np.sqrt(_cut(forecasts.paths[label], data, test, segments) * periods)
        name = f"hybrid, {label}"
        stats[name] = path_stats(simulate(hybrid, prices, config, vol_path=vols), ideal, config, DAY)
    rng = np.random.default_rng(seed)
    ref = stats[fixed.name]
    vault = stats["hybrid, vault EWMA"]
    rows = []
    for name, s in stats.items():
        rows.append(
            PolicyRow(
                name,
                _ci(1e4 * s["cost"], rng),
                _ratio_ci(s["cost"], ref["cost"], rng),
                _ratio_ci(s["cost"], vault["cost"], rng),
                _ci(s["te"], rng),
                _ci(s["te"] - ref["te"], rng),
                float(s["rebalances"].mean()),
            )
        )
    return rows


def _ratio_ci(a: FloatArray, b: FloatArray, rng: np.random.Generator, draws: int = 2_000) -> tuple[float, float, float]:
    """``mean(a) / mean(b)`` over paired units, with a 95 % bootstrap interval."""
    picks = rng.integers(0, a.size, size=(draws, a.size))
    ratios = a[picks].mean(axis=1) / np.maximum(b[picks].mean(axis=1), 1e-300)
    return float(a.mean() / b.mean()), float(np.quantile(ratios, 0.025)), float(np.quantile(ratios, 0.975))


def format_policies(rows: Sequence[PolicyRow], title: str) -> str:
    """Markdown table of :func:`policy_table`."""

    def cell(triple: tuple[float, float, float], fmt: str) -> str:
        mean, lo, hi = triple
        return f"{mean:{fmt}} [{lo:{fmt}}, {hi:{fmt}}]"

    lines = [
        title,
        "| policy | cost bps | cost / fixed | cost / vault hybrid | track err % | TE - fixed (pp) | rebal |",
        "|---|---|---|---|---|---|---|",
    ]
    for row in rows:
        te = tuple(100 * x for x in row.te)
        dte = tuple(100 * x for x in row.te_vs_fixed)
        lines.append(
            f"| {row.policy} | {cell(row.cost_bps, '.1f')} | {cell(row.cost_vs_fixed, '.2f')} "
            f"| {cell(row.cost_vs_vault, '.2f')} | {cell(te, '.2f')} | {cell(dte, '+.2f')} | {row.rebalances:.1f} |"
        )
    return "\n".join(lines)


def write_switches(data: DataSet, forecasts: Forecasts, path: str | Path) -> Path:
    """Writes every guard switch as CSV: guard, step (and date), path, asset, what it commits, trailing QLIKEs."""
    n = data.prices.shape[2]
    out = Path(path)
    out.parent.mkdir(parents=True, exist_ok=True)
    with open(out, "w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["guard", "step", "date", "path", "asset", "commits", "model_qlike", "ewma_qlike"])
        for label, run in forecasts.guards.items():
            for sw in run.switches:
                path_index, asset = divmod(sw.series, n)
                date = "" if data.dates is None else str(data.dates[sw.step])[:10]
                row = [label, sw.step, date, path_index, data.names[asset], sw.to]
                writer.writerow([*row, f"{sw.model_qlike:.6g}", f"{sw.ewma_qlike:.6g}"])
    return out
