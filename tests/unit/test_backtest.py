"""Correctness tests of ballast.backtest: closed forms, LVR, costs, CSV errors, CLI."""

from __future__ import annotations

import math
import re
from pathlib import Path

import numpy as np
import pytest

from ballast.backtest import (
    DAY,
    GBM,
    BacktestConfig,
    Bootstrap,
    JumpGBM,
    Policy,
    Replay,
    bench,
    default_policies,
    format_table,
    ideal_values,
    load_csv,
    main,
    run_backtest,
    simulate,
)
from ballast.policy import MAX_BPS, WAD, Trigger, VolEstimator, needs_rebalance

FREE = {"cost_bps": 0.0, "gas_usd": 0.0}


def gbm_prices(paths: int = 300, steps: int = 120, seed: int = 1) -> np.ndarray:
    return GBM().generate(np.random.default_rng(seed), paths, steps)


# --------------------------------------------------------------- closed forms


def test_rebalancing_every_step_at_zero_cost_is_the_constant_mix_closed_form() -> None:
    prices = gbm_prices()
    config = BacktestConfig(**FREE)
    policy = Policy("daily", "calendar", interval=DAY)
    result = simulate(policy, prices, config)
    relatives = prices[1:] / prices[:-1]
    closed = config.initial_value * np.prod((relatives * config.targets).sum(axis=2), axis=0)
    np.testing.assert_allclose(result.values[-1], closed, rtol=1e-12)
    np.testing.assert_allclose(result.values, ideal_values(prices, config), rtol=1e-12)
    assert (result.rebalances == prices.shape[0] - 1).all()
    assert (result.cost == 0).all()


def test_buy_and_hold_is_the_price_relatives() -> None:
    prices = gbm_prices()
    config = BacktestConfig(**FREE)
    result = simulate(Policy("hold", "hold"), prices, config)
    closed = config.initial_value * (config.targets * prices[-1] / prices[0]).sum(axis=1)
    np.testing.assert_allclose(result.values[-1], closed, rtol=1e-14)
    assert (result.rebalances == 0).all() and (result.traded == 0).all()


def test_amm_value_is_the_weighted_geometric_mean() -> None:
    prices = gbm_prices()
    config = BacktestConfig(**FREE)
    result = simulate(Policy("amm", "amm"), prices, config)
    t = config.targets
    geometric = config.initial_value * np.prod((prices / prices[0]) ** t, axis=2)
    np.testing.assert_allclose(result.values, geometric, rtol=1e-12)
    # Same value from the invariant: K * prod (p_i / w_i) ** w_i.
    units = config.initial_value * t / prices[0]
    invariant = np.prod(units**t, axis=1)
    np.testing.assert_allclose(result.values[-1], invariant * np.prod((prices[-1] / t) ** t, axis=1), rtol=1e-12)


@pytest.mark.parametrize("w", [0.5, 0.2])
def test_amm_loss_versus_rebalancing_matches_theory(w: float) -> None:
    """The pool loses w (1 - w) sigma^2 / 2 a year against the constant mix (LVR).

    Two assets, one riskless, the other a zero-drift GBM with sigma = 1. The
    per-step gap ``w (R - 1) - (R**w - 1)`` is i.i.d. across steps and paths, so
    the tolerance is 4 standard errors of the sample mean (about 0.2 % of the
    expected value here); the discrete-time bias, ``1 - exp(-w (1 - w) sigma^2 dt / 2)``
    vs its first-order term, is below 0.02 % and well inside it.
    """
    sigma, paths, steps = 1.0, 2_000, 365
    model = GBM(mu=(0.0, 0.0), sigma=(0.0, sigma), corr=((1.0, 0.0), (0.0, 1.0)))
    prices = model.generate(np.random.default_rng(11), paths, steps)
    config = BacktestConfig(weights_bps=(round((1 - w) * MAX_BPS), round(w * MAX_BPS)), **FREE)
    pool = simulate(Policy("amm", "amm"), prices, config).values
    ideal = ideal_values(prices, config)
    gap = (ideal[1:] / ideal[:-1]) - (pool[1:] / pool[:-1])
    per_year = 365.0
    measured = gap.mean() * per_year
    stderr = gap.std(ddof=1) / math.sqrt(gap.size) * per_year
    expected = w * (1 - w) * sigma**2 / 2
    assert abs(measured - expected) < 4 * stderr, (measured, expected, stderr)
    assert stderr < 0.005 * expected
    # The same loss in log growth: the pool trails by ~ w (1 - w) sigma^2 / 2 a year.
    log_gap = np.log(ideal[-1] / pool[-1]).mean()
    assert log_gap == pytest.approx(expected, rel=0.02)


# ------------------------------------------------------------ costs and modes


def two_asset_step(r: float) -> tuple[np.ndarray, BacktestConfig]:
    """One step: asset 1 moves by factor r, asset 0 flat; 50/50 targets."""
    prices = np.array([[[1.0, 1.0]], [[1.0, r]]])
    return prices, BacktestConfig(weights_bps=(5_000, 5_000), cost_bps=30.0, gas_usd=10.0, initial_value=100_000.0)


def test_costs_are_proportional_plus_gas() -> None:
    prices, config = two_asset_step(1.2)
    result = simulate(Policy("t", "threshold", bands_bps=100, outer_bands_bps=100), prices, config)
    value = 50_000 + 60_000
    traded = 10_000 / value  # sell 5_000 of asset 1, buy 5_000 of asset 0
    fee = 0.003 * 5_000 + 10.0
    assert result.cost[0] == pytest.approx(fee)
    assert result.traded[0] == pytest.approx(traded / 2)
    assert result.values[-1, 0] == pytest.approx(value - fee)
    assert result.rebalances[0] == 1


def test_edge_mode_stops_at_the_band_edge() -> None:
    prices, config = two_asset_step(1.2)
    config = BacktestConfig(weights_bps=(5_000, 5_000), **FREE)
    result = simulate(
        Policy("e", "threshold", "edge", bands_bps=200, outer_bands_bps=200), prices, config, record_path=0
    )
    assert result.weights_before is not None and result.weights_after is not None
    assert result.weights_before[1] == pytest.approx([50 / 110, 60 / 110])
    assert result.weights_after[1] == pytest.approx([0.48, 0.52])


def test_partial_mode_moves_a_fraction_of_the_way() -> None:
    prices, _ = two_asset_step(1.2)
    config = BacktestConfig(weights_bps=(5_000, 5_000), **FREE)
    policy = Policy("p", "threshold", "partial", fraction=0.25, bands_bps=200, outer_bands_bps=200)
    result = simulate(policy, prices, config, record_path=0)
    assert result.weights_after is not None
    before = 60 / 110
    assert result.weights_after[1, 1] == pytest.approx(before + 0.25 * (0.5 - before))


def test_no_trade_within_the_band() -> None:
    prices, config = two_asset_step(1.05)  # weight 51.2 %: inside a 200 bps band
    result = simulate(Policy("t", "threshold", bands_bps=200, outer_bands_bps=200), prices, config)
    assert result.rebalances[0] == 0 and result.cost[0] == 0


@pytest.mark.parametrize("kind", ["calendar", "threshold", "hybrid"])
def test_simulated_triggers_mirror_the_scalar_rule(kind: str) -> None:
    """Path 0 rebalances exactly when the exact integer rule says so (costs on).

    Threshold and hybrid use edge mode (many small rebalances); calendar uses
    target mode, since in edge mode a due calendar may have nothing to trade.
    """
    config = BacktestConfig()
    mode = "target" if kind == "calendar" else "edge"
    policy = Policy(kind, kind, mode, interval=5 * DAY, bands_bps=(150, 200, 250, 300), outer_bands_bps=600)  # type: ignore[arg-type]
    prices = gbm_prices(paths=1, steps=200, seed=5)
    result = simulate(policy, prices, config, record_path=0)
    assert result.weights_before is not None and result.weights_after is not None
    t0 = 1_700_000_000
    targets = [w * 10**14 for w in config.weights_bps]
    bands, outer = (list(map(int, b)) for b in policy.bands(4))
    estimator = VolEstimator(round(config.vol_reference * WAD), int(config.vol_alpha_bps), DAY, 4)
    estimator.observe(t0, [round(p * WAD) for p in prices[0, 0]])
    last, count = t0, 0
    for k in range(1, prices.shape[0]):
        now = t0 + k * DAY
        estimator.observe(now, [round(p * WAD) for p in prices[k, 0]])
        drifts = [round(w * WAD) - t for w, t in zip(result.weights_before[k], targets, strict=True)]
        due, _ = needs_rebalance(
            Trigger[kind.upper()], drifts, bands, outer, now, last, 5 * DAY, estimator.sigmas, estimator.vol_reference
        )
        traded = not np.array_equal(result.weights_before[k], result.weights_after[k])
        assert traded == due, k
        if traded:
            last, count = now, count + 1
    assert count == result.rebalances[0] > 0


# -------------------------------------------------------------------- metrics


def test_metrics_ideal_has_no_tracking_error_and_hold_some() -> None:
    config = BacktestConfig(**FREE)
    policies = [Policy("daily", "calendar", interval=DAY), Policy("hold", "hold")]
    result = run_backtest(GBM(), policies, config, paths=200, steps=60, seed=2, chunk=64, progress=False)
    daily, hold = result.metrics
    assert daily.tracking_error < 1e-12 and abs(daily.gap) < 1e-12 and daily.cost == 0
    assert daily.rebalances == 60
    assert hold.tracking_error > 0.01 and hold.turnover == 0 and hold.rebalances == 0
    assert daily.worst_drift > 0
    table = format_table(result.metrics)
    assert "daily" in table and "track err" in table and len(table.splitlines()) == 4


def test_seed_reproducible_and_chunked() -> None:
    policies = default_policies()
    a = run_backtest(GBM(), policies, BacktestConfig(), paths=60, steps=30, seed=9, chunk=25, progress=False)
    b = run_backtest(GBM(), policies, BacktestConfig(), paths=60, steps=30, seed=9, chunk=25, progress=False)
    assert a.metrics == b.metrics
    assert set(a.weights) == {p.name for p in policies}


# --------------------------------------------------------------------- models


def test_gbm_moments_and_correlation() -> None:
    model = GBM()
    prices = model.generate(np.random.default_rng(4), 4_000, 50)
    lr = np.diff(np.log(prices), axis=0).reshape(-1, 4)
    dt = DAY / 31_536_000
    sigma = np.array(model.sigma)
    np.testing.assert_allclose(lr.std(axis=0) / math.sqrt(dt), sigma, rtol=0.01)
    np.testing.assert_allclose(np.corrcoef(lr.T), np.array(model.corr), atol=0.01)
    expected_mean = (np.array(model.mu) - sigma**2 / 2) * dt
    assert np.all(np.abs(lr.mean(axis=0) - expected_mean) < 4 * sigma * math.sqrt(dt) / math.sqrt(lr.shape[0]))


def test_jump_model_crashes_risky_assets_only() -> None:
    model = JumpGBM(crash_start=10, crash_steps=20, crash_drift=-5.0, jump_intensity=0.0)
    prices = model.generate(np.random.default_rng(3), 2_000, 40)
    lr = np.log(prices[30] / prices[10]).mean(axis=0)
    assert abs(lr[0]) < 0.01  # stable: beta 0
    assert lr[3] < lr[2] < lr[1] < -0.2


# ------------------------------------------------------------------------ CSV


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "prices.csv"
    path.write_text(text)
    return path


GOOD = "date,ETH,BTC\n2024-01-01,2000,40000\n2024-01-02,2100,41000\n\n2024-01-03,2050,40500\n"


def test_csv_loads(tmp_path: Path) -> None:
    history = load_csv(write(tmp_path, GOOD))
    assert history.names == ("ETH", "BTC")
    assert history.prices.shape == (3, 2)
    assert history.dt_seconds == DAY
    replay = Replay(history).generate(np.random.default_rng(0), 1, 2)
    np.testing.assert_allclose(replay[-1, 0], [2050 / 2000, 40500 / 40000])
    boot = Bootstrap(history, block=2).generate(np.random.default_rng(0), 5, 7)
    assert boot.shape == (8, 5, 2) and np.all(boot > 0)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", "line 1: empty file"),
        ("day,ETH\n2024-01-01,1\n2024-01-02,2\n", "line 1: first column must be 'date'"),
        ("date\n2024-01-01\n2024-01-02\n", "line 1: no asset columns"),
        ("date,ETH,ETH\n2024-01-01,1,1\n2024-01-02,2,2\n", "line 1: duplicate asset column"),
        ("date,ETH,BTC\n2024-01-01,1,2\n2024-01-02,1\n", "line 3: expected 3 fields, got 2"),
        ("date,ETH\n2024-01-01,1\n\n2024-13-02,2\n", "line 4: bad date '2024-13-02'"),
        ("date,ETH\n2024-01-01,1\n2024-01-02,abc\n", "line 3: column 'ETH': not a number: 'abc'"),
        ("date,ETH\n2024-01-01,1\n2024-01-02,-5\n", "line 3: column 'ETH': price must be positive"),
        ("date,ETH\n2024-01-01,1\n2024-01-02,nan\n", "line 3: column 'ETH': price must be positive"),
        ("date,ETH\n2024-01-02,1\n2024-01-01,2\n", "line 3: date 2024-01-01 is not after"),
        ("date,ETH\n2024-01-01,1\n", "line 1: need at least 2 price rows"),
    ],
)
def test_csv_errors_name_the_line(tmp_path: Path, text: str, message: str) -> None:
    path = write(tmp_path, text)
    with pytest.raises(ValueError, match=re.escape(f"{path}: {message}")):
        load_csv(path)


# ------------------------------------------------------------------------ CLI


def test_cli_gbm_writes_table_and_plots(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "out"
    assert main(["--paths", "40", "--steps", "30", "--quiet", "--out", str(out), "--sweep", "--model", "jump"]) == 0
    printed = capsys.readouterr().out
    assert "threshold/edge" in printed and "amm pool" in printed and "calendar 7d" in printed
    for name in ("backtest_weights.png", "backtest_frontier.png", "metrics.csv", "sweep.csv"):
        assert (out / name).stat().st_size > 0


def test_cli_csv_replay(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = write(tmp_path, GOOD)
    args = ["--model", "csv", "--csv", str(path), "--paths", "1", "--quiet", "--out", str(tmp_path / "o")]
    assert main(args) == 0
    assert "2 steps" in capsys.readouterr().out


def test_cli_csv_error_exits_with_the_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = write(tmp_path, "date,ETH\n2024-01-01,1\n2024-01-02,x\n")
    with pytest.raises(SystemExit) as exc:
        main(["--model", "csv", "--csv", str(path), "--quiet", "--out", str(tmp_path / "o")])
    assert exc.value.code == 2
    assert "line 3" in capsys.readouterr().err


def test_bench_runs_small__times_the_requested_paths_steps_and_chunks(monkeypatch: pytest.MonkeyPatch) -> None:
    """``bench`` times what it says it times: ``paths`` seeded GBM paths of ``steps`` steps and 4
    assets, in chunks of ``chunk``, through the threshold policy and the per-path metrics; its
    stages add up to its total, and the statistics it computes are those of one direct run over
    the same paths (so no path is dropped, repeated or simulated with other settings).

    Fails with ``size = chunk`` in ``ballast.backtest.bench`` (the last chunk is then 40 paths,
    not 20: chunk shapes differ), with its seeds not spawned from ``seed`` (other paths), or with
    a policy other than the threshold one (other statistics)."""
    import ballast.backtest as bt

    seen: dict[str, list] = {"prices": [], "simulate": [], "stats": []}
    real_generate, real_simulate, real_stats = bt.GBM.generate, bt.simulate, bt.path_stats

    def generate(self, rng, paths, steps):
        seen["prices"].append(real_generate(self, rng, paths, steps))
        return seen["prices"][-1]

    def simulate_(policy, prices, config, dt_seconds=DAY, record_path=None):
        seen["simulate"].append((policy, prices, config, dt_seconds))
        return real_simulate(policy, prices, config, dt_seconds, record_path)

    def stats(result, ideal, config, dt_seconds):
        seen["stats"].append(real_stats(result, ideal, config, dt_seconds))
        return seen["stats"][-1]

    monkeypatch.setattr(bt.GBM, "generate", generate)
    monkeypatch.setattr(bt, "simulate", simulate_)
    monkeypatch.setattr(bt, "path_stats", stats)
    timings = bench(paths=100, steps=20, seed=7, chunk=40)

    assert set(timings) == {"prices", "simulate", "metrics", "total"}
    assert all(timings[k] > 0 for k in ("prices", "simulate", "metrics"))
    assert timings["total"] == pytest.approx(timings["prices"] + timings["simulate"] + timings["metrics"])
    # Three chunks (40 + 40 + 20 paths) of 20 steps and 4 assets, drawn from seed 7's children.
    assert [p.shape for p in seen["prices"]] == [(21, 40, 4), (21, 40, 4), (21, 20, 4)]
    children = np.random.SeedSequence(7).spawn(3)
    for prices, child in zip(seen["prices"], children, strict=True):
        np.testing.assert_array_equal(prices, real_generate(GBM(), np.random.default_rng(child), prices.shape[1], 20))
    # Every chunk went through the threshold policy, at the default settings and daily steps.
    assert [
        (p.kind, p.mode, prices is chunk, dt) for (p, prices, _, dt), chunk in zip(seen["simulate"], seen["prices"])
    ] == [("threshold", "target", True, DAY)] * 3
    # Its statistics are those of one direct run over all 100 paths.
    config = BacktestConfig()
    everything = np.concatenate(seen["prices"], axis=1)
    direct = real_stats(
        real_simulate(Policy("threshold", "threshold"), everything, config, DAY),
        ideal_values(everything, config),
        config,
        DAY,
    )
    assert len(seen["stats"]) == 3
    for key, expected in direct.items():
        got = np.concatenate([chunk[key] for chunk in seen["stats"]])
        assert got.shape == (100,), key
        np.testing.assert_allclose(got, expected, rtol=1e-12, err_msg=key)
    assert direct["rebalances"].sum() > 0, "the threshold policy never traded: the comparison proves little"
