"""Edge mode (one meaning, checked against the proportional-cost closed form), the backtester's
new policy knobs, and the frontier search with held-out scoring."""

from __future__ import annotations

import numpy as np
import pytest

from ballast.backtest import DAY, GBM, BacktestConfig, Metrics, Policy, run_backtest, simulate, trade_keep, trade_to
from ballast.chain.state import AssetState, VaultState
from ballast.constants import BPS_TO_WAD, WAD
from ballast.frontier import (
    CALENDAR_30D,
    band_exponent,
    deploy_default,
    envelope,
    envelope_cost_at,
    format_frontier,
    plot_frontier,
    run_frontier,
    search_space,
)
from ballast.planner import target_deltas
from ballast.policy import band_edge_deltas, band_edge_np

FREE = {"cost_bps": 0.0, "gas_usd": 0.0}


# ------------------------------------------------------------- edge, defined once


def test_band_edge__one_asset_out__it_stops_on_its_edge_and_the_rest_absorb_toward_target():
    """ETH 5% over a 3% band, the others inside theirs: ETH sells to +3%, the three buy pro rata."""
    after = band_edge_np([[-0.02, 0.05, -0.02, -0.01]], 0.03)[0]
    np.testing.assert_allclose(after, [-0.012, 0.03, -0.012, -0.006])
    assert after.sum() == pytest.approx(0.0, abs=1e-15)


def test_band_edge__trades_the_least_that_puts_every_asset_in_its_band():
    """Turnover is max(excess above, excess below), never more than shrinking every drift alike."""
    rng = np.random.default_rng(3)
    drift = rng.normal(0, 0.04, (2_000, 4))
    drift -= drift.mean(axis=1, keepdims=True)
    bands = np.array([0.03, 0.03, 0.025, 0.02])
    after = band_edge_np(drift, bands)
    assert np.all(np.abs(after) <= bands + 1e-15)
    assert np.all(after * drift >= 0) and np.all(np.abs(after) <= np.abs(drift) + 1e-15)  # never past target
    np.testing.assert_allclose(after.sum(axis=1), 0.0, atol=1e-15)
    excess = np.abs(drift) - bands
    above = np.where((drift > 0) & (excess > 0), excess, 0).sum(axis=1)
    below = np.where((drift < 0) & (excess > 0), excess, 0).sum(axis=1)
    gross = 0.5 * np.abs(drift - after).sum(axis=1)
    np.testing.assert_allclose(gross, np.maximum(above, below), atol=1e-15)
    shrink = Policy("s", "threshold", "shrink", bands_bps=(300, 300, 250, 200), outer_bands_bps=(300, 300, 250, 200))
    _, shrink_gross = trade_keep(shrink, np.abs(drift), None, 0.6)
    assert np.all(gross <= shrink_gross + 1e-15) and np.mean(gross < shrink_gross - 1e-9) > 0.3


def test_band_edge__integer_rule__matches_the_vectorised_one():
    """The planner's integers (USD WAD) and the backtester's floats are the same rule."""
    rng = np.random.default_rng(4)
    value = 10**6 * WAD
    for _ in range(300):
        drift = rng.normal(0, 0.04, 4)
        drift -= drift.mean()
        bands = rng.choice([0.01, 0.02, 0.03, 0.05], 4)
        gaps = [int(-d * value) for d in drift]
        deltas = band_edge_deltas(gaps, [int(b * value) for b in bands])
        expected = (band_edge_np([drift], bands)[0] - drift) * float(value)  # buy > 0
        np.testing.assert_allclose(np.array(deltas, dtype=float), expected, rtol=1e-9, atol=1e-6 * WAD)


def _vault(values_usd, bands_bps=(300, 300, 300, 300), targets_bps=(4_000, 3_000, 2_000, 1_000)) -> VaultState:
    assets = [
        AssetState(f"0x{i + 1:040x}", f"A{i}", 18, usd * WAD, WAD, target * BPS_TO_WAD, band, 3 * band)
        for i, (usd, target, band) in enumerate(zip(values_usd, targets_bps, bands_bps, strict=True))
    ]
    return VaultState(
        address="0x" + "f" * 40,
        assets=assets,
        total_supply=10**24,
        timestamp=10**9,
        trigger_type=1,
        rebalance_interval=86_400,
        last_rebalance=0,
        vol_reference=WAD // 2,
        cooldown=0,
        max_slippage_bps=150,
        max_cost_bps=100,
        turnover_cap_bps=10_000,
        turnover_period=86_400,
        turnover_spent_at=0,
        turnover_used=0,
    )


def test_planner_edge__one_asset_out__trades_it_to_its_edge():
    """The planner's "edge" is the shared rule: one asset 5% over its band trades back to the edge.

    (Its earlier rule matched the sides by scaling the larger one down, so with every other asset
    inside its band it traded nothing at all.)"""
    state = _vault((380_000, 350_000, 180_000, 90_000))  # 38/35/18/9 against 40/30/20/10
    deltas = target_deltas(state, "edge")
    assert deltas[1] == -20_000 * WAD  # 35% -> 33%: sell $20k
    assert sum(deltas) == 0 and deltas[0] > 0 and deltas[2] > 0 and deltas[3] > 0
    gaps = [a.target * state.total_value // WAD - a.value for a in state.assets]
    assert deltas == band_edge_deltas(gaps, [300 * BPS_TO_WAD * state.total_value // WAD] * 4)


def test_backtest_edge__more_than_two_assets__trade_keep_refuses_and_trade_to_answers():
    policy = Policy("e", "threshold", "edge", bands_bps=300, outer_bands_bps=300)
    drift = np.array([[-0.02, 0.05, -0.02, -0.01]])
    with pytest.raises(ValueError, match="trade_to"):
        trade_keep(policy, np.abs(drift), None, 0.6)
    after, gross = trade_to(policy, drift, None, 0.6)
    np.testing.assert_allclose(after[0], [-0.012, 0.03, -0.012, -0.006])
    assert gross[0] == pytest.approx(0.02)


def test_edge_band__optimal_width_across_costs__grows_as_cost_to_the_one_third():
    """Davis-Norman / Leland: one risky asset, small proportional costs, band ~ cost^(1/3).

    Each band is simulated (edge mode, 2-hour steps, a year, 120 paths); the band minimising
    cost + kappa * TE^2 is fitted at each of six costs. Tolerances: exponent within 0.06 of 1/3
    (discrete monitoring shrinks the smallest bands most), and each band within 15% of the
    continuous-time closed form."""
    fit = band_exponent(paths=120, bands_bps=np.geomspace(150, 1500, 10))
    assert abs(fit.exponent - 1 / 3) < 0.06, fit
    ratios = np.array(fit.fitted_bps) / np.array(fit.closed_bps)
    assert np.all(np.abs(ratios - 1) < 0.15), fit


# ----------------------------------------------------------- the new policy knobs


def _prices(paths=200, steps=120, seed=2):
    return GBM().generate(np.random.default_rng(seed), paths, steps)


def test_gate__benefit_vs_cost__huge_aversion_changes_nothing_and_tiny_blocks_all():
    prices, config = _prices(), BacktestConfig()
    plain = simulate(Policy("t", "threshold", bands_bps=300, outer_bands_bps=300), prices, config)
    eager = simulate(
        Policy("t", "threshold", bands_bps=300, outer_bands_bps=300, drift_aversion_bps=1e9), prices, config
    )
    shy = simulate(
        Policy("t", "threshold", bands_bps=300, outer_bands_bps=300, drift_aversion_bps=1e-6), prices, config
    )
    np.testing.assert_array_equal(eager.rebalances, plain.rebalances)
    assert plain.rebalances.sum() > 0 and shy.rebalances.sum() == 0 and shy.cost.sum() == 0


def test_gate__moderate_aversion__trades_only_when_the_drift_penalty_pays_for_it():
    """At kappa = 0.05, a rebalance is worth 0.05 x V x the fall in sum(d^2): $10 of gas needs
    sum(d^2) to fall by 0.002 on $100k. Gated trades are fewer, and each one cleared the bar."""
    prices, config = _prices(), BacktestConfig()
    gated = Policy("g", "threshold", bands_bps=150, outer_bands_bps=150, drift_aversion_bps=500)
    plain = simulate(Policy("t", "threshold", bands_bps=150, outer_bands_bps=150), prices, config, record_path=0)
    result = simulate(gated, prices, config, record_path=0)
    assert 0 < result.rebalances.sum() < plain.rebalances.sum()
    before, after = result.weights_before, result.weights_after
    targets = config.targets
    for k in np.flatnonzero(np.any(before != after, axis=1)):
        gain = ((before[k] - targets) ** 2).sum() - ((after[k] - targets) ** 2).sum()
        assert 100_000 * 0.05 * gain >= 10.0  # at least the gas, before the proportional part


def test_check_steps__weekly_checks__trades_only_on_multiples_of_seven():
    prices, config = _prices(paths=20), BacktestConfig(**FREE)
    policy = Policy("w", "threshold", bands_bps=100, outer_bands_bps=100, check_steps=7)
    result = simulate(policy, prices, config, record_path=0)
    traded = np.flatnonzero(np.any(result.weights_before != result.weights_after, axis=1))
    assert traded.size > 0 and np.all(traded % 7 == 0)


def test_policy__bad_knobs__refused():
    for kwargs in ({"mode": "edges"}, {"inner_ratio": 1.5}, {"check_steps": 0}, {"drift_aversion_bps": 0}):
        with pytest.raises(ValueError):
            Policy("x", "threshold", **kwargs)


def test_edge_inner_ratio__zero__is_target_mode():
    prices, config = _prices(), BacktestConfig()
    to_target = simulate(Policy("t", "threshold", bands_bps=300, outer_bands_bps=300), prices, config)
    inner = simulate(
        Policy("e", "threshold", "edge", bands_bps=300, outer_bands_bps=300, inner_ratio=0.0), prices, config
    )
    np.testing.assert_allclose(inner.values, to_target.values, rtol=1e-12)


# ------------------------------------------------------------------ the frontier


def _metric(name, te, cost):
    return Metrics(name, 0.0, 0.0, te, 0.0, cost, 0.0, 0.0, 0.0, 1)


def test_envelope__keeps_only_undominated_and_prices_equal_tracking_error():
    points = [
        _metric("a", 0.01, 0.010),
        _metric("b", 0.02, 0.004),
        _metric("c", 0.02, 0.006),
        _metric("d", 0.03, 0.005),
    ]
    front = envelope(points)
    assert [m.policy for m in front] == ["a", "b"]
    assert envelope_cost_at(front, 0.025).policy == "b"
    assert envelope_cost_at(front, 0.015).policy == "a"
    assert envelope_cost_at(front, 0.005) is None


def test_deploy_default__read_from_the_demo_spec():
    policy, config = deploy_default()
    assert policy.kind == "hybrid" and policy.interval == DAY and policy.mode == "target"
    assert policy.bands_bps == (300.0, 300.0, 250.0, 200.0)
    assert config.vol_alpha_bps == 2_000 and config.weights_bps == (4_000, 3_000, 2_000, 1_000)


def test_search_space__names_unique_and_every_knob_varied():
    space = search_space()
    assert len({p.name for p in space}) == len(space) == 810
    assert {p.mode for p in space} == {"target", "edge", "partial"}
    assert {p.check_steps for p in space} == {1, 7} and {p.inner_ratio for p in space} == {1.0, 0.5, 0.25}
    assert {p.drift_aversion_bps for p in space} == {None, 2_000.0}
    assert any(isinstance(p.bands_bps, tuple) and len(set(p.bands_bps)) == 4 for p in space)


def test_run_frontier__small__held_out_envelope_tables_and_plot(tmp_path):
    space = search_space()[::40]
    with pytest.raises(ValueError, match="differ"):
        run_frontier(paths=50, seed=3, search_paths=50, search_seed=3, steps=30, space=space, scheduler="sync")
    result = run_frontier(
        paths=150, seed=0, search_paths=150, search_seed=1, steps=90, space=space, scheduler="sync", progress=False
    )
    assert len(result.searched) == len(space)
    assert {m.policy for m in result.candidates} <= {p.name for p in space}
    # the candidates were scored on other paths: the same policy's numbers differ
    searched = {m.policy: m for m in result.searched}
    assert all(searched[m.policy].cost != m.cost or m.cost == 0 for m in result.candidates)
    held_out = run_backtest(
        GBM(), [p for p in space if p.name == result.front[0].policy], BacktestConfig(), 150, 90, 0, progress=False
    )
    assert held_out.metrics[0] == result.front[0]
    text = format_frontier(result)
    assert "Envelope (held-out)" in text and CALENDAR_30D in text and result.default_name in text and "Targets" in text
    assert plot_frontier(result, tmp_path / "f.png").stat().st_size > 10_000


def test_frontier_cli__same_seed_for_search_and_scoring__refused(capsys):
    from ballast.frontier import main

    with pytest.raises(SystemExit):
        main(["--seed", "4", "--search-seed", "4"])
    assert "held-out" in capsys.readouterr().err
