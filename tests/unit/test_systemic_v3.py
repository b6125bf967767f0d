"""The simulator's concentrated pools against Uniswap V3's integer math, and auctions against the
filler's closed form (ballast.systemic.pools, ballast.systemic.model)."""

from __future__ import annotations

import numpy as np
import pytest

from ballast.auction_model import AuctionModel
from ballast.backtest import DAY, GBM, BacktestConfig, Policy, simulate
from ballast.constants import MAX_BPS
from ballast.route import AUCTION_GAS
from ballast.systemic.model import Market, Mitigation, VaultGroup, simulate_market
from ballast.systemic.pools import ConcentratedPools, ConstantProductPools
from ballast.venues import uniswap_v3_math as v3

#: The float model against the pool's integer math: relative error of amounts and prices.
V3_TOLERANCE = 1e-9
FEE_PIPS = 3_000  # 30 bps
SPACING = 60


def position(price: float = 2_000.0, ticks_below: int = 10, ticks_above: int = 10, amount1: int = 10**24):
    """One position of ``ticks_*`` spacings around ``price`` (token1 per token0, raw units), as the
    pool's mint writes it; and the same position as a float ConcentratedPools."""
    sqrt_price = v3.sqrt_price_x96_from_price(price)
    tick = v3.get_tick_at_sqrt_ratio(sqrt_price)
    lower = (tick // SPACING - ticks_below) * SPACING
    upper = (tick // SPACING + ticks_above) * SPACING
    sqrt_a, sqrt_b = v3.get_sqrt_ratio_at_tick(lower), v3.get_sqrt_ratio_at_tick(upper)
    liquidity = v3.liquidity_for_amounts(sqrt_price, sqrt_a, sqrt_b, 10**40, amount1)
    state = v3.PoolState(sqrt_price, tick, liquidity, FEE_PIPS, SPACING)
    for edge, net in ((lower, liquidity), (upper, -liquidity)):
        state.liquidity_net[edge] = net
        word, bit = v3.tick_position(edge // SPACING)
        state.bitmap[word] = state.bitmap.get(word, 0) | 1 << bit
    q = float(v3.Q96)
    pools = ConcentratedPools.from_position(sqrt_price / q, float(liquidity), sqrt_a / q, sqrt_b / q, FEE_PIPS / 100)
    return state, pools


def exact_and_float(zero_for_one: bool, amount: int, limit_at_edge: bool):
    state, pools = position()
    limit = None
    if limit_at_edge:  # the range edge as the price limit (the float model stops there)
        edge = min(state.liquidity_net) if zero_for_one else max(state.liquidity_net)
        limit = v3.get_sqrt_ratio_at_tick(edge)
    exact = v3.swap_exact_input(state, zero_for_one, amount, limit)
    out, used = pools.sell(np.array(float(amount))) if zero_for_one else pools.buy(np.array(float(amount)))
    return exact, float(out), float(used), float(pools.s) * v3.Q96


@pytest.mark.parametrize("zero_for_one", [True, False])
@pytest.mark.parametrize("amount", [10**15, 10**20, 2 * 10**22])
def test_v3_float_position__swap_inside_the_range__matches_the_integer_math(zero_for_one, amount):
    """token0 = the asset (price 2,000 numeraire per unit), token1 = the numeraire; a sell of the
    asset is zero_for_one. Amounts, consumed input and the new sqrt price agree to 1e-9."""
    scale = 1 if not zero_for_one else 1 / 2_000  # the same order of value on both sides
    exact, out, used, sqrt_x96 = exact_and_float(zero_for_one, max(int(amount * scale), 1), False)
    assert exact.ticks_crossed == 0
    assert out == pytest.approx(exact.amount_out, rel=V3_TOLERANCE)
    assert used == pytest.approx(exact.amount_in, rel=V3_TOLERANCE)
    assert sqrt_x96 == pytest.approx(exact.sqrt_price_x96, rel=V3_TOLERANCE)


@pytest.mark.parametrize("zero_for_one", [True, False])
@pytest.mark.parametrize("limit_at_edge", [True, False])
def test_v3_float_position__swap_crossing_out_of_the_range__stops_at_the_edge_as_the_pool_does(
    zero_for_one, limit_at_edge
):
    """An input larger than the range holds: the pool pays out the whole other side and consumes
    only what reaches the edge (with the edge as price limit), or, without a limit, crosses the
    position's tick into zero liquidity, where the rest of the input buys nothing; the float
    model consumes the same input and pays the same output, to 1e-9."""
    amount = 10**26 if not zero_for_one else 10**23
    exact, out, used, sqrt_x96 = exact_and_float(zero_for_one, amount, limit_at_edge)
    assert exact.amount_in < amount  # the range could not take all of it
    assert out == pytest.approx(exact.amount_out, rel=V3_TOLERANCE)
    assert used == pytest.approx(exact.amount_in, rel=V3_TOLERANCE)
    if limit_at_edge:
        assert sqrt_x96 == pytest.approx(exact.sqrt_price_x96, rel=V3_TOLERANCE)
    else:
        assert exact.ticks_crossed == 1 and exact.liquidity == 0


def test_v3_pool__same_value_as_the_constant_product_pool__is_deeper_by_the_closed_form():
    """Both start with ``depth`` of each side; a small sell moves the concentrated price less, by
    the liquidity ratio ``1 - (1 + range)^(-1/2)`` (to first order: 1e-4 for a 1e-6 trade)."""
    price, depth, width = np.array([2_000.0]), 5e7, 2_000.0
    cp, conc = ConstantProductPools(depth, price, 0.0), ConcentratedPools(depth, price, 0.0, width)
    x, y = conc.reserves()
    assert float(y[0]) == pytest.approx(depth, rel=1e-12) and float(x[0] * price[0]) == pytest.approx(depth, rel=1e-12)
    units = np.array(1e-6 * depth / 2_000.0)
    cp.sell(units)
    conc.sell(units)
    ratio = np.log(conc.price() / price) / np.log(cp.price() / price)
    assert float(ratio[0]) == pytest.approx(1 - (1 + width / MAX_BPS) ** -0.5, rel=1e-4)


def test_v3_arbitrage__beyond_the_range__recentres_and_reaches_the_fee_band_edge():
    """A 30% fall with a +/-10% range: the LP re-centres (its value kept) and arbitrage ends at
    the fee band's upper edge, ``p (1 - f) = external``."""
    conc = ConcentratedPools(5e7, np.array([1.0]), 30.0, 1_000.0)
    x, y = conc.reserves()
    conc.arbitrage(np.array([0.7]), 1.0)
    assert float(conc.price()[0]) * (1 - 0.003) == pytest.approx(0.7, rel=1e-12)
    x2, y2 = conc.reserves()
    # re-centring keeps the value at the price where it happens; the fall since is the LP's loss
    assert float(x2[0] * conc.price()[0] + y2[0]) < float(x[0] + y[0])
    assert float(conc.sa[0]) < float(conc.s[0]) < float(conc.sb[0])


# ------------------------------------------------- N = 1 on a deep concentrated pool


def gbm_two_assets(paths: int = 30, steps: int = 200, seed: int = 3) -> np.ndarray:
    return GBM(mu=(0.0, 0.1), sigma=(0.0, 0.8), corr=((1, 0), (0, 1))).generate(
        np.random.default_rng(seed), paths, steps
    )


@pytest.mark.parametrize(
    "policy",
    [
        Policy("calendar", "calendar", interval=30 * DAY),
        Policy("threshold", "threshold", bands_bps=300, outer_bands_bps=300),
    ],
)
def test_one_vault_on_a_deep_free_concentrated_pool__is_the_backtester_and_the_cp_pool(policy):
    """No fee, no gas, exact arbitrage, pools 10^9 times the vault: the concentrated run equals
    the backtester (values 1e-8, rebalances exactly), as the constant-product one does."""
    prices = gbm_two_assets()
    config = BacktestConfig(weights_bps=(5_000, 5_000), cost_bps=0.0, gas_usd=0.0, initial_value=1e6)
    expected = simulate(policy, prices, config, DAY)
    market = Market(weights_bps=(5_000, 5_000), depth=1e15, fee_bps=0.0, gas=0.0, arb_to_edge=False, pool_kind="v3")
    got = simulate_market(prices, [VaultGroup(policy, 1, 1e6)], market, DAY)
    np.testing.assert_allclose(got.values[:, :, 0], expected.values, rtol=1e-8)
    np.testing.assert_array_equal(got.rebalances[:, 0], expected.rebalances)


def test_one_vault_with_fee_on_deep_pools__concentrated_and_constant_product_cost_the_same():
    """30 bps fee, $10 gas, deep pools: both kinds charge the fee on the same trades (V2 keeps it in
    the pool, V3 outside the curve, which moves the price by about fee x trade / depth, 1e-12 here):
    costs agree to 1e-6 and values to 1e-9."""
    prices = gbm_two_assets()
    policy = Policy("calendar", "calendar", interval=30 * DAY)
    kw = dict(weights_bps=(5_000, 5_000), depth=1e15, fee_bps=30.0, gas=10.0)
    cp = simulate_market(prices, [VaultGroup(policy, 1, 1e6)], Market(**kw), DAY)
    conc = simulate_market(prices, [VaultGroup(policy, 1, 1e6)], Market(**kw, pool_kind="v3"), DAY)
    np.testing.assert_allclose(conc.cost, cp.cost, rtol=1e-6)
    np.testing.assert_allclose(conc.values, cp.values, rtol=1e-9)


def test_crowding__concentrated_pools_of_the_same_value__cost_less_per_vault():
    """50 identical calendar vaults: the concentrated pools (+/-20%, 11.5x the liquidity near the
    price) leave less impact per vault than constant-product pools of the same value."""
    prices = gbm_two_assets(paths=6, steps=120)
    groups = [VaultGroup(Policy("calendar", "calendar", interval=30 * DAY), 50, 1e6)]
    kw = dict(weights_bps=(5_000, 5_000), depth=5e7)
    cp = simulate_market(prices, groups, Market(**kw), DAY).cost.mean()
    conc = simulate_market(prices, groups, Market(**kw, pool_kind="v3"), DAY).cost.mean()
    assert conc < 0.5 * cp


# ------------------------------------------------------------------------ auctions


def one_step_prices(r1) -> np.ndarray:
    """Two assets at 50/50; asset 1 returns ``r1`` in one step (asset 0, the numeraire, flat)."""
    r1 = np.asarray(r1, float)
    prices = np.ones((2, r1.size, 2))
    prices[1, :, 1] = 1 + r1
    return prices


@pytest.mark.parametrize("depth,fee_bps", [(1e15, 0.0), (5e7, 30.0), (5e6, 30.0)])
def test_auction_cost__one_step__never_below_the_fillers_margin_closed_form(depth, fee_bps):
    """One vault auctions its rebalance: each lot of value ``q`` fills at the first block where
    ``m <= 1 / (1 + margin + fill gas / q + hedge cost)``, and costs the vault ``q (1 - m)``.
    The vault's only lot sells asset 1 for the numeraire. Closed form, the hedge cost aside:
    ``Curve.fill_time`` of that level; the cost is never below it (the hedge on a pool only raises
    it), nor below the margin alone, and on a deep free pool equals it (1e-9)."""
    moves = np.array([0.002, 0.05, -0.08, 0.3, -0.4])
    auction = AuctionModel()
    v = 1e6
    market = Market(weights_bps=(5_000, 5_000), depth=depth, fee_bps=fee_bps, gas=0.0)
    calendar = Policy("calendar", "calendar", interval=DAY)
    got = simulate_market(
        one_step_prices(moves), [VaultGroup(calendar, 1, v)], market, DAY, Mitigation(auction=auction)
    )
    lot = v * 0.25 * np.abs(moves)  # -V w (1-w) r1, the constant-mix trade
    fill_gas = AUCTION_GAS["fill"] * auction.usd_per_gas
    keeper_gas = (AUCTION_GAS["open"] + AUCTION_GAS["close"]) * auction.usd_per_gas
    closed = []
    for q in lot:
        if q < auction.curve.min_lot_usd / 1e18:
            closed.append(0.0)  # the lot is left out: no auction, no gas
            continue
        level = 1 / (1 + auction.filler_margin_bps / MAX_BPS + fill_gas / q)
        t = auction.curve.fill_time(level, auction.block_seconds)
        m = auction.curve.multiplier(t) if t is not None else 1.0
        closed.append(keeper_gas + q * (1 - m))
    closed = np.array(closed)
    cost, filled = got.cost[:, 0], got.rebalances[:, 0] == 1
    floor = keeper_gas + lot * (1 - 1 / (1 + auction.filler_margin_bps / MAX_BPS))
    # a filled lot costs at least the closed form, which is at least the margin's floor
    assert np.all(closed[filled] >= floor[filled])
    assert np.all(cost[filled] >= closed[filled] * (1 - 1e-12))
    # an unfilled one (the hedge would cost more than the curve's end discount) costs the keeper's
    # gas if the lot was offered, and trades nothing: the vault keeps its drift
    offered = lot >= auction.curve.min_lot_usd / 1e18
    np.testing.assert_allclose(cost[~filled], np.where(offered, keeper_gas, 0.0)[~filled], rtol=1e-9)
    assert np.all(got.traded[~filled, 0] == 0)
    if depth == 1e15:
        np.testing.assert_array_equal(filled, offered)
        np.testing.assert_allclose(cost, closed, rtol=1e-9)
    # the hedge's impact grows with the lot: what fills is the smaller lots
    refused = offered & ~filled
    if filled.any() and refused.any():
        assert lot[filled].max() < lot[refused].min()
    assert filled.any() == (depth >= 5e7)


def test_auction_fillers_unwind_their_inventory_on_the_pool_over_hedge_steps():
    """Zero fee, exact arbitrage, 10 identical vaults: the pool moves only by the fillers'
    hedge, and with H slices the first-step deviation is about 1/H of the single-slice one."""
    prices = gbm_two_assets(paths=4, steps=40)
    market = Market(weights_bps=(5_000, 5_000), depth=5e8, fee_bps=0.0, gas=0.0, arb_to_edge=False)
    groups = [VaultGroup(Policy("calendar", "calendar", interval=30 * DAY), 10, 1e6)]
    dev = {}
    for h in (1, 4):
        r = simulate_market(prices, groups, market, DAY, Mitigation(auction=AuctionModel(), hedge_steps=h))
        assert np.all(r.trading[30])  # every vault's auction filled on its calendar date
        dev[h] = np.log(r.pool[30, :, 0] / r.external[30, :, 0])
    np.testing.assert_allclose(dev[4], dev[1] / 4, rtol=0.02)


def test_command__pool_v3__runs_every_table_on_concentrated_pools(tmp_path, capsys):
    from ballast.systemic.__main__ import main

    args = ["--paths", "2", "--steps", "40", "--vaults", "3", "--jump-step", "20", "--pool", "v3", "--quiet"]
    assert main([*args, "--range-bps", "500", "--hedge-steps", "2", "--out", str(tmp_path)]) == 0
    text = capsys.readouterr().out
    assert "each (v3)" in text and "| auction, hedge 2 |" in text and "| v3 +/-5%, N=3 |" in text
