"""Volatility forecasts (ballast.forecast): closed forms, GARCH recovery, QLIKE, fallback, no leakage."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest

from ballast.backtest import DAY, BacktestConfig, Policy, simulate
from ballast.constants import MAX_BPS, SECONDS_PER_YEAR
from ballast.forecast import EWMA, GARCH, HAR, Guarded, apply_guard, fit_garch, garch_horizon_mean, leaks, qlike
from ballast.forecast.__main__ import main
from ballast.forecast.evaluate import regime_set, run_forecasts
from ballast.policy import update_variance_np

HORIZON = 7


def garch_returns(omega: float, alpha: float, beta: float, steps: int, seed: int, paths: int = 1) -> np.ndarray:
    """A GARCH(1,1) path in return units (omega in return units squared)."""
    rng = np.random.default_rng(seed)
    z = rng.standard_normal((steps, paths))
    r = np.empty((steps, paths))
    var = np.full(paths, omega / (1 - alpha - beta))
    for k in range(steps):
        r[k] = np.sqrt(var) * z[k]
        var = omega + alpha * r[k] ** 2 + beta * var
    return r


# --------------------------------------------------------------------- EWMA


def test_ewma__any_path__matches_the_closed_form_of_the_recursion() -> None:
    rng = np.random.default_rng(3)
    r = 0.02 * rng.standard_normal((250, 3))
    lam, seed = 0.94, 4e-4
    forecast = EWMA(lam, initial_variance=seed).forecast_path(r, HORIZON, 0)
    for t in (0, 1, 17, 250):
        weights = (1 - lam) * lam ** np.arange(t - 1, -1, -1)
        closed = lam**t * seed + weights @ r[:t] ** 2
        np.testing.assert_allclose(forecast[t], closed, rtol=1e-12)


def test_ewma__lambda_094__is_the_vaults_estimator_with_alpha_600_bps() -> None:
    rng = np.random.default_rng(4)
    r = 0.03 * rng.standard_normal((200, 2))
    seed = 0.6**2 * DAY / SECONDS_PER_YEAR  # the vault starts at vol_reference**2 (annualised)
    forecast = EWMA(0.94, initial_variance=seed).forecast_path(r, HORIZON, 0)
    variance = np.full(2, 0.6**2)
    for k in range(200):
        update_variance_np(variance, r[k], DAY, 0.06 * MAX_BPS, 0.6)
        np.testing.assert_allclose(forecast[k + 1] * SECONDS_PER_YEAR / DAY, variance, rtol=1e-12)


# -------------------------------------------------------------------- GARCH


def test_fit_garch__simulated_garch_path__recovers_its_parameters() -> None:
    omega, alpha, beta = 2e-6, 0.08, 0.90
    r = garch_returns(omega, alpha, beta, 6_000, seed=11)[:, 0]
    fit_omega, fit_alpha, fit_beta, _ = fit_garch(r)
    assert fit_alpha == pytest.approx(alpha, abs=0.03)
    assert fit_beta == pytest.approx(beta, abs=0.04)
    assert fit_alpha + fit_beta == pytest.approx(alpha + beta, abs=0.015)
    unconditional = fit_omega / (1 - fit_alpha - fit_beta)
    assert unconditional == pytest.approx(omega / (1 - alpha - beta), rel=0.25)


def test_garch_horizon_mean__equals_the_mean_of_the_iterated_expectation() -> None:
    omega, alpha, beta, v1 = 1e-6, 0.1, 0.85, 9e-5
    expected, v = [], v1
    for _ in range(10):
        expected.append(v)
        v = omega + (alpha + beta) * v
    assert garch_horizon_mean(omega, alpha, beta, v1, 10) == pytest.approx(np.mean(expected), rel=1e-12)


# -------------------------------------------------------------------- QLIKE


def test_qlike__expected_loss__is_minimised_by_the_true_variance() -> None:
    rng = np.random.default_rng(5)
    true_variance = 4e-4
    rv = (np.sqrt(true_variance) * rng.standard_normal((200_000, HORIZON))) ** 2
    rv = rv.mean(axis=1)
    grid = true_variance * np.array([0.5, 0.8, 0.9, 1.0, 1.1, 1.25, 2.0])
    losses = [qlike(rv, np.full_like(rv, f)).mean() for f in grid]
    assert int(np.argmin(losses)) == 3
    assert qlike(np.array([true_variance]), np.array([true_variance]))[0] == pytest.approx(0.0, abs=1e-15)


# ----------------------------------------------------------------- fallback


def test_guard__model_worse_then_better__falls_back_to_ewma_and_back_and_logs_both(caplog) -> None:
    rng = np.random.default_rng(6)
    steps, warmup = 1_400, 100
    sigma2 = np.where(np.arange(steps + 1) < 700, 1e-4, 9e-4)
    r = np.sqrt(sigma2[:-1, None]) * rng.standard_normal((steps, 1))
    truth = sigma2[:, None].copy()
    model = np.where(np.arange(steps + 1)[:, None] < 700, 8 * truth, truth)  # 8x too high, then exact
    base = np.full_like(truth, 3e-4)
    with caplog.at_level(logging.INFO, logger="ballast.forecast"):
        run = apply_guard(model, base, r, HORIZON, warmup, window=10, min_windows=3, model_name="M")
    assert [s.to for s in run.switches] == ["EWMA", "M"]
    assert run.switches[0].model_qlike > run.switches[0].ewma_qlike
    assert run.switches[1].model_qlike <= run.switches[1].ewma_qlike
    assert 100 < run.switches[0].step < 700 < run.switches[1].step
    np.testing.assert_array_equal(run.forecast[~run.on_model], base[~run.on_model])
    assert sum("commit EWMA" in m for m in caplog.messages) == 1 and sum("commit M" in m for m in caplog.messages) == 1


def test_guard__model_always_better__never_switches() -> None:
    rng = np.random.default_rng(7)
    sigma2 = np.repeat(rng.choice([1e-4, 1e-3], size=36), 4 * HORIZON)[:, None]  # blocks on window edges
    r = np.sqrt(sigma2[:-1]) * rng.standard_normal((sigma2.shape[0] - 1, 1))
    run = apply_guard(sigma2, np.full_like(sigma2, 5e-4), r, HORIZON, 4 * HORIZON, window=26, min_windows=8)
    assert run.switches == [] and run.on_model.all()


# ------------------------------------------------------------------ leakage


@dataclass(frozen=True)
class PeekingEWMA:
    """A broken copy of EWMA: row k folds in return k + 1 (the step it forecasts)."""

    name: str = "peeking"

    def forecast_path(self, returns: np.ndarray, horizon: int, warmup: int) -> np.ndarray:
        out = EWMA().forecast_path(returns, horizon, warmup)
        out[:-1] = 0.94 * out[:-1] + 0.06 * returns**2
        return out


@dataclass(frozen=True)
class FullSampleHAR:
    """A broken copy of HAR: one OLS fit on the whole series, so the future is in the fit."""

    name: str = "full-sample HAR"

    def forecast_path(self, returns: np.ndarray, horizon: int, warmup: int) -> np.ndarray:
        squared = returns**2
        feats = HAR()._features(squared)
        target = np.vstack([squared, squared[-1:]])  # row k's next squared return
        out = np.empty(target.shape)
        for p in range(returns.shape[1]):
            coef, *_ = np.linalg.lstsq(feats[:, p], target[:, p], rcond=None)
            out[:, p] = feats[:, p] @ coef
        return np.maximum(out, 1e-12)


def test_leaks__every_forecaster_and_guard__never_uses_data_after_its_commit() -> None:
    r = garch_returns(2e-6, 0.1, 0.85, 600, seed=8, paths=2)
    for forecaster in (EWMA(), GARCH(refit_every=50), HAR(refit_every=50), Guarded(GARCH(refit_every=50))):
        for commit in (250, 251, 300, 399):
            assert not leaks(forecaster, r, commit, HORIZON, warmup=200), (forecaster.name, commit)


def test_leaks__broken_copies__are_caught() -> None:
    r = garch_returns(2e-6, 0.1, 0.85, 600, seed=9, paths=2)
    assert leaks(PeekingEWMA(), r, 300, HORIZON, warmup=200)
    assert leaks(FullSampleHAR(), r, 300, HORIZON, warmup=200)


def test_walk_forward__forecasts_up_to_a_commit__ignore_later_prices() -> None:
    data = regime_set(paths=2, warmup=200, test=150, seed=1)
    commit = 260
    altered_prices = data.prices.copy()
    shocks = 0.05 * np.random.default_rng(2).standard_normal(altered_prices[commit + 1 :].shape)
    altered_prices[commit + 1 :] *= np.exp(np.cumsum(shocks, axis=0))
    altered = type(data)(data.name, altered_prices, data.warmup, data.names)
    models = {"EWMA 0.94": EWMA(), "GARCH(1,1)": GARCH(50), "HAR-RV": HAR(50)}
    a, b = run_forecasts(data, models), run_forecasts(altered, models)
    for label in a.paths:
        same = np.array_equal(a.paths[label][: commit + 1], b.paths[label][: commit + 1])
        assert same == (label != "oracle"), label  # the oracle looks ahead, so the check sees it


# --------------------------------------------------------------- backtester


def test_simulate__vol_path_of_the_vaults_ewma__equals_the_built_in_hybrid() -> None:
    from ballast.backtest import GBM

    prices = GBM().generate(np.random.default_rng(10), 50, 200)
    config = BacktestConfig()
    policy = Policy("hybrid", "hybrid", interval=7 * DAY, bands_bps=300, outer_bands_bps=900)
    variance = np.full((50, 4), config.vol_reference**2)
    vols = np.empty_like(prices)
    vols[0] = config.vol_reference
    for k in range(1, prices.shape[0]):
        update_variance_np(variance, prices[k] / prices[k - 1] - 1, DAY, config.vol_alpha_bps, config.vol_reference)
        vols[k] = np.sqrt(variance)
    built_in = simulate(policy, prices, config)
    external = simulate(policy, prices, config, vol_path=vols)
    np.testing.assert_array_equal(built_in.values, external.values)
    np.testing.assert_array_equal(built_in.rebalances, external.rebalances)
    with pytest.raises(ValueError, match="vol_path has shape"):
        simulate(policy, prices, config, vol_path=vols[:-1])


def test_cli__small_run__prints_both_tables(tmp_path: Path, capsys) -> None:
    assert main(["--paths", "3", "--warmup", "300", "--test", "250", "--only", "regime", "--out", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    assert "Scoreboard: regime switching" in out and "Walk-forward: regime switching" in out
    assert "| hybrid, GARCH(1,1)+guard |" in out and "| threshold 300bp |" in out
    assert (tmp_path / "history.csv").read_text().startswith("date,STABLE,SP500,NASDAQ,WTI")
    switches = (tmp_path / "switches_regime.csv").read_text().splitlines()
    assert switches[0] == "guard,step,date,path,asset,commits,model_qlike,ewma_qlike" and len(switches) > 1


def test_cli__bad_input__one_line_and_exit_2(tmp_path: Path, capsys) -> None:
    bad_csv = tmp_path / "bad.csv"
    bad_csv.write_text("date,A\n2024-01-01,1\n2024-01-02,-3\n")
    for argv, message in ((["--paths", "0"], "--paths"), (["--csv", str(bad_csv)], "line 3")):
        with pytest.raises(SystemExit) as exit_info:
            main([*argv, "--out", str(tmp_path)])
        assert exit_info.value.code == 2
        err = capsys.readouterr().err
        assert message in err and "Traceback" not in err
