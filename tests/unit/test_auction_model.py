"""ballast.auction_model: the backtester's auction fills against the keeper's closed form, the
contract's lots, and the simulation's books (no chain)."""

import dataclasses

import numpy as np
import pytest

from ballast.auction_model import (
    AuctionModel,
    compare,
    fill_lots,
    greedy_lots,
    market_during_auction,
    simulate_auctions,
)
from ballast.backtest import GBM, BacktestConfig, Policy
from ballast.chain.state import AssetState, VaultState
from ballast.constants import MAX_BPS, SECONDS_PER_YEAR, WAD
from ballast.route import AUCTION_GAS, Curve, auction_lots


def state(usdc_usd, weth_usd):
    """USDC ($1, 6 decimals) and WETH ($3,000, 18 decimals) at 50/50."""
    assets = [
        AssetState("0x" + "00" * 19 + "01", "USDC", 6, usdc_usd * 10**6, WAD, WAD // 2, 300, 900),
        AssetState("0x" + "00" * 19 + "02", "WETH", 18, weth_usd * WAD // 3_000, 3_000 * WAD, WAD // 2, 300, 900),
    ]
    return VaultState("0x" + "aa" * 20, assets, 10**24, 0, 1, 86_400, 0, 0, 0, 150, 100, 10_000, 86_400, 0, 0)


def test_greedy_lots__two_asset_state__equal_the_contracts_pairing():
    s = state(630_000, 370_000)
    values = np.array([[a.value / WAD for a in s.assets]])
    goal = values.sum() * np.array([0.5, 0.5])
    lots = greedy_lots(np.maximum(values - goal, 0), np.maximum(goal - values, 0))
    ((i, j, usd),) = auction_lots(s)
    assert lots[0, i, j] == pytest.approx(usd / WAD, rel=1e-12)
    assert np.count_nonzero(lots) == 1


def test_greedy_lots__one_overweight_three_underweight__pairs_in_asset_order():
    lots = greedy_lots(np.array([[0.0, 90.0, 0.0, 0.0]]), np.array([[50.0, 0.0, 30.0, 10.0]]))
    assert lots[0, 1].tolist() == [50.0, 0.0, 30.0, 10.0]
    assert lots.sum() == 90.0


@pytest.mark.parametrize("margin_bps", [0, 30, 120])
def test_fill_lots__oracle_tracks_market__fill_block_and_multiplier_match_keeper_closed_form(margin_bps):
    # A 0 bps deviation threshold updates the oracle every block: g = 1 throughout, the keeper's case.
    auction = AuctionModel(filler_margin_bps=margin_bps, oracle_deviation_bps=0.0)
    gaps = market_during_auction(GBM(), auction, np.random.default_rng(1), 8)
    assert np.all(gaps == 0.0)
    lots = np.zeros((8, 4, 4))
    lots[:, 1, 0], lots[:, 1, 2] = 48_000.0, 2_000.0
    block, m, loss = fill_lots(lots, gaps, auction)
    for value in (48_000.0, 2_000.0):
        j = 0 if value == 48_000.0 else 2
        threshold = 1 + margin_bps / MAX_BPS + AUCTION_GAS["fill"] * auction.usd_per_gas / value
        t = Curve().fill_time(1 / threshold)
        if t is None:
            assert np.all(block[:, 1, j] == -1) and np.all(loss[:, 1, j] == 0)
            continue
        assert np.all((block[:, 1, j] + 1) * auction.block_seconds == t)
        assert m[:, 1, j] == pytest.approx(Curve().multiplier(t), rel=1e-12)
        assert loss[:, 1, j] == pytest.approx(value * (1 - Curve().multiplier(t)), rel=1e-9)
    assert np.all(block[:, 0, 1] == -1)  # no lot: nothing fills


def test_fill_lots__market_jumps_above_the_curve__fills_in_that_block_at_that_gap():
    auction = AuctionModel(filler_margin_bps=30, gas_price_gwei=0.0)
    gaps = np.zeros((auction.blocks, 1, 2))
    gaps[40:, 0, 0] = np.log(1.03)  # the sold token's market jumps 3 % above its oracle at block 41
    lots = np.zeros((1, 2, 2))
    lots[0, 0, 1] = 10_000.0
    block, m, loss = fill_lots(lots, gaps, auction)
    # At block 41 (492 s) m is about 1.0142: below 1.03 / 1.003, so the filler takes it there.
    assert block[0, 0, 1] == 40
    assert m[0, 0, 1] == pytest.approx(Curve().multiplier(41 * 12), rel=1e-12)
    assert loss[0, 0, 1] == pytest.approx(10_000 * (1 - m[0, 0, 1] / 1.03), rel=1e-9)


def test_simulate_auctions__books__cost_is_discounts_plus_keeper_gas_and_value_falls_by_it():
    model = GBM()
    prices = model.generate(np.random.default_rng(3), 60, 120)
    config = BacktestConfig()
    auction = AuctionModel()
    policy = Policy("t", "threshold", bands_bps=300, outer_bands_bps=300)
    out = simulate_auctions(policy, prices, config, model, auction, np.random.default_rng(4))
    keeper_gas = (AUCTION_GAS["open"] + AUCTION_GAS["close"]) * auction.usd_per_gas
    assert out.auctions.sum() > 0
    assert out.gas == pytest.approx(out.auctions * keeper_gas)
    assert np.all(out.lots_filled <= out.lots_offered)
    filled = out.lots_filled.sum()
    mean_m = out.price_vs_oracle.sum() / filled
    assert auction.curve.end <= mean_m <= auction.curve.start
    assert np.all(out.cost >= out.gas - 1e-9)


def test_compare__same_paths__pools_row_is_the_backtesters_simulate():
    config = BacktestConfig()
    rows, info = compare(paths=50, steps=90, seed=7, config=config)
    from ballast.backtest import simulate

    model = GBM()
    prices = model.generate(np.random.default_rng(7), 50, 90)
    direct = simulate(info["policy"], prices, dataclasses.replace(config, gas_usd=info["pool_gas"]), model.dt_seconds)
    years = 90 * model.dt_seconds / SECONDS_PER_YEAR
    assert rows[0].route == "pools"
    assert rows[0].cost_bps_year == pytest.approx(direct.cost.mean() / config.initial_value / years * MAX_BPS)
    assert rows[1].route == "auction" and rows[1].cost_bps_traded > 0
