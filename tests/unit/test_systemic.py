"""The many-vaults simulator (ballast.systemic) against closed forms and the single-vault backtester."""

from __future__ import annotations

import numpy as np
import pytest

from ballast.backtest import DAY, GBM, BacktestConfig, Policy, simulate
from ballast.systemic.__main__ import main
from ballast.systemic.model import Market, Mitigation, VaultGroup, simulate_market
from ballast.systemic.report import Scenario, contagion, measures
from ballast.venues.amm import amount_out, arbitrage_input, arbitrage_input_np, swap_np

CALENDAR = Policy("calendar", "calendar", interval=DAY)
#: Deep enough that a $1M vault's impact is below 1e-6 of the price; exact arbitrage, no fee, no gas.
DEEP = Market(weights_bps=(5_000, 5_000), depth=1e15, fee_bps=0.0, gas=0.0, arb_to_edge=False)


def two_asset_prices(r0, r1) -> np.ndarray:
    """One step per path: asset 0 (the numeraire) returns r0, asset 1 returns r1 (simple returns)."""
    r0, r1 = np.asarray(r0, float), np.asarray(r1, float)
    prices = np.ones((2, r0.size, 2))
    prices[1, :, 0], prices[1, :, 1] = 1 + r0, 1 + r1
    return prices


def gbm_two_assets(paths: int = 40, steps: int = 200, seed: int = 3) -> np.ndarray:
    prices = GBM(mu=(0.0, 0.1), sigma=(0.0, 0.8), corr=((1, 0), (0, 1))).generate(
        np.random.default_rng(seed), paths, steps
    )
    return prices


# ------------------------------------------------------------- constant-mix trade


def test_constant_mix_trade_is_minus_v_w_1mw_r1_minus_r2():
    """Trade in asset 1 = -V w (1-w) (r1 - r2): exact with V the value before the move (simple
    returns); with V the value after it, first order (relative error |r_p|, r_p the portfolio return)."""
    w = 0.3
    r1 = np.array([0.02, -0.05, 0.10, 0.001])
    r2 = np.array([-0.01, 0.03, 0.0, 0.002])
    market = Market(weights_bps=(7_000, 3_000), depth=1e15, fee_bps=0.0, gas=0.0, arb_to_edge=False)
    v = 1_000_000.0
    result = simulate_market(two_asset_prices(r2, r1), [VaultGroup(CALENDAR, 1, v)], market, DAY)
    # The notional (numeraire units) times the numeraire's USD price is the trade in USD.
    trade = result.traded[:, 0] * (1 + r2)
    expected = -v * w * (1 - w) * (r1 - r2)
    np.testing.assert_allclose(trade, np.abs(expected), rtol=1e-6)  # the pool's impact is < 1e-6
    # The vault sells what outperformed: the pool ends below the external price where r1 > r2.
    assert np.all((result.pool[1, :, 0] < result.external[1, :, 0]) == (r1 > r2))
    r_p = w * r1 + (1 - w) * r2
    after = -v * (1 + r_p) * w * (1 - w) * (r1 - r2)
    assert np.all(np.abs(np.abs(after) - trade) <= 1.01 * np.abs(r_p) * trade)


# ----------------------------------------------------------- constant-product pool


@pytest.mark.parametrize("dx", [1.0, 1_000.0, 250_000.0, 3_000_000.0])
def test_pool_price_after_a_sell_zero_fee_is_p_x_over_x_plus_dx_squared(dx):
    x, y = 1_000_000.0, 2_500_000.0
    _, x2, y2 = swap_np(np.array(dx), x, y, 0.0)
    assert y2 / x2 == pytest.approx((y / x) * (x / (x + dx)) ** 2, rel=1e-12)


@pytest.mark.parametrize("fee_bps", [5, 30, 100])
@pytest.mark.parametrize("dx", [1_000, 250_000, 3_000_000])
def test_pool_price_after_a_sell_with_fee_is_the_exact_v2_formula(fee_bps, dx):
    """V2 keeps the fee in the pool: p' = p x^2 / ((x + (1-f) dx)(x + dx)); the output matches the
    contract's integer amount_out (ConstantProductAMM.vy) to its rounding."""
    x, y = 10**24, 25 * 10**23
    out, x2, y2 = swap_np(np.array(float(dx) * 1e12), float(x), float(y), fee_bps)
    g = 1 - fee_bps / 10_000
    d = dx * 1e12
    assert y2 / x2 == pytest.approx((y / x) * x * x / ((x + g * d) * (x + d)), rel=1e-12)
    assert float(out) == pytest.approx(amount_out(dx * 10**12, x, y, fee_bps), rel=1e-12)


@pytest.mark.parametrize("fee_bps", [0, 30])
def test_arbitrage_stops_at_the_fee_band_edge(fee_bps):
    x, y, price = 1e6, 3e6, 2.0  # the pool values x at 3, the market at 2: the arbitrageur sells x
    a = arbitrage_input_np(x, y, price, fee_bps)
    _, x2, y2 = swap_np(a, x, y, fee_bps)
    assert (1 - fee_bps / 10_000) * y2 / x2 == pytest.approx(price, rel=1e-12)
    assert float(arbitrage_input_np(x2, y2, price, fee_bps)) == 0.0
    if fee_bps == 0:  # the integer version (used on chain by the test arbitrageur) agrees
        assert float(a) == pytest.approx(arbitrage_input(10**24, 3 * 10**24, 2, 1, 0) / 1e18, rel=1e-9)


# ---------------------------------------------------- N = 1 against the backtester


@pytest.mark.parametrize(
    "policy",
    [
        Policy("calendar", "calendar", interval=30 * DAY),
        Policy("threshold", "threshold", bands_bps=300, outer_bands_bps=300),
        Policy("threshold/edge", "threshold", "edge", bands_bps=300, outer_bands_bps=300),
        Policy("hybrid/partial", "hybrid", "partial", interval=7 * DAY, bands_bps=300, outer_bands_bps=900),
    ],
)
def test_one_vault_on_a_deep_free_pool_is_the_backtester(policy):
    """No fee, no gas, a pool 10^9 times the vault: values agree to 1e-8, rebalances exactly."""
    prices = gbm_two_assets()
    config = BacktestConfig(weights_bps=(5_000, 5_000), cost_bps=0.0, gas_usd=0.0, initial_value=1e6)
    expected = simulate(policy, prices, config, DAY)
    got = simulate_market(prices, [VaultGroup(policy, 1, 1e6)], DEEP, DAY)
    np.testing.assert_allclose(got.values[:, :, 0], expected.values, rtol=1e-8)
    np.testing.assert_array_equal(got.rebalances[:, 0], expected.rebalances)


def test_one_vault_with_fee_and_gas_is_the_backtester_to_second_order():
    """30 bps fee and $10 gas: the backtester takes the cost pro rata, the simulator from the
    assets the trade pays in, so weights differ by about fee x trade; a calendar vault (whose
    trigger does not depend on weights) stays within 5e-4 of value and 1% of cost over 200 days."""
    prices = gbm_two_assets()
    policy = Policy("calendar", "calendar", interval=30 * DAY)
    config = BacktestConfig(weights_bps=(5_000, 5_000), cost_bps=30.0, gas_usd=10.0, initial_value=1e6)
    expected = simulate(policy, prices, config, DAY)
    market = Market(weights_bps=(5_000, 5_000), depth=1e15, fee_bps=30.0, gas=10.0, arb_to_edge=False)
    got = simulate_market(prices, [VaultGroup(policy, 1, 1e6)], market, DAY)
    np.testing.assert_allclose(got.values[:, :, 0], expected.values, rtol=5e-4)
    np.testing.assert_allclose(got.cost[:, 0], expected.cost, rtol=1e-2)


# --------------------------------------------------------- N identical vaults


@pytest.mark.parametrize("fee_bps", [0.0, 30.0])
def test_identical_vaults_trade_together_and_their_impact_adds_up(fee_bps):
    """N vaults of value V without jitter all trade on the same steps (synchronisation 1), and
    move the pool as one vault of value N V: to 1e-12 (float rounding) without a fee (swaps of one direction on a
    constant-product pool compose), within 1e-6 with the fee kept in the pool. Zero fee: the
    first rebalance's price is the closed form p (x / (x + N dx))^2 for a sell of dx each
    (p ((y + N dy) / y)^2 for a buy spending dy each)."""
    prices = gbm_two_assets(paths=6, steps=65)
    n, v = 8, 1e6
    market = Market(weights_bps=(5_000, 5_000), depth=5e7, fee_bps=fee_bps, gas=0.0, arb_to_edge=False)
    policy = Policy("calendar", "calendar", interval=30 * DAY)
    many = simulate_market(prices, [VaultGroup(policy, n, v)], market, DAY)
    one = simulate_market(prices, [VaultGroup(policy, 1, n * v)], market, DAY)
    assert measures(many)["sync"] == 1.0
    assert np.all(many.trading[30] & many.trading[60]) and many.trading.sum() == 2 * 6 * n
    np.testing.assert_allclose(many.pool, one.pool, rtol=1e-12 if fee_bps == 0 else 1e-6)
    if fee_bps == 0:
        ext = many.external[30, :, 0]
        x = 5e7 / np.sqrt(ext)  # arbitrage (no fee, k = 5e7^2) left the pool at the external price
        # each vault's first trade sells V w (1-w) R of the asset (numeraire), R its return since step 0
        dx = n * v * 0.25 * (ext / many.external[0, :, 0] - 1) / ext  # units sold (bought if < 0)
        y, dy = x * ext, -dx * ext  # a buy spends dy of the numeraire: p' = p ((y + dy) / y)^2
        closed = np.where(dx > 0, ext * (x / (x + dx)) ** 2, ext * ((y + dy) / y) ** 2)
        np.testing.assert_allclose(many.pool[30, :, 0], closed, rtol=1e-12)


# ------------------------------------------------------ mitigations and contagion


def test_jitter_and_staggering_desynchronise_the_vaults():
    prices = gbm_two_assets(paths=4, steps=120)
    market = Market(weights_bps=(5_000, 5_000), depth=5e7)
    groups = [VaultGroup(Policy("calendar", "calendar", interval=30 * DAY), 10, 1e6)]
    base = measures(simulate_market(prices, groups, market, DAY))
    jitter = measures(simulate_market(prices, groups, market, DAY, Mitigation(jitter=3.0)))
    stagger = measures(simulate_market(prices, groups, market, DAY, Mitigation(stagger=5)))
    assert base["sync"] == 1.0 and jitter["sync"] < 0.5
    assert stagger["sync"] == pytest.approx(0.2)  # 10 vaults over 5 dates: 2 a date
    assert stagger["pressure_bps"] < base["pressure_bps"] and jitter["pressure_bps"] < base["pressure_bps"]


def test_a_forced_liquidation_sells_everything_and_moves_the_pool_down():
    prices = gbm_two_assets(paths=3, steps=40)
    scenario = Scenario(prices, Market(weights_bps=(5_000, 5_000), depth=5e6), DAY, "threshold", 1e6)
    hit = contagion(scenario, 3, step=20, log_size=-0.3)
    # a 1M vault dumps ~0.5M of the asset into a 5M pool: about -2 x 10% in price, beyond the fee band
    assert hit["pool_gap_bps"] < -1_000
    assert hit["exit_cost_bps"] > 0


# ----------------------------------------------------------------- command line


def test_command_refuses_bad_input_in_one_line(capsys):
    with pytest.raises(SystemExit) as exc:
        main(["--vaults", "0"])
    assert exc.value.code == 2
    assert capsys.readouterr().err.strip().splitlines()[-1].endswith("--vaults: must be >= 1, got 0")


def test_command_prints_tables_and_writes_plots(tmp_path, capsys):
    out = tmp_path / "systemic"
    args = ["--paths", "2", "--steps", "40", "--vaults", "3", "--jump-step", "20", "--out", str(out), "--quiet"]
    assert main(args) == 0
    text = capsys.readouterr().out
    assert "Crowding" in text and "Mitigations" in text and "Contagion" in text
    assert "| auction, hedge 5 |" in text and "| v3 +/-20%, N=3 |" in text
    for name in ("systemic_shock.png", "systemic_crowding.png", "systemic_mitigations.png"):
        assert (out / name).stat().st_size > 1_000
