"""ballast.route: pools or auction, on constructed states (no chain), and the model against the
closed form of the contract's exponential curve.

The state: a two-asset vault, USDC ($1, 6 decimals) and WETH ($3,000, 18 decimals) at 50/50,
holding $600k of USDC and $400k of WETH: one lot, $100k of USDC for WETH. Gas at 10 gwei and
ETH at $3,000: $0.00003 a gas unit.
"""

import math

import pytest

from ballast.auction import DEFAULT_PARAMS, decay_rate, multiplier
from ballast.chain.state import AssetState, VaultState
from ballast.constants import MAX_BPS, WAD
from ballast.cost import rebalance_gas
from ballast.planner import Plan, PlannedTrade
from ballast.route import AUCTION_GAS, BLOCK_SECONDS, Curve, auction_lots, choose_route

USDC_ADDR, WETH_ADDR = "0x" + "00" * 19 + "01", "0x" + "00" * 19 + "02"
GAS_PRICE = 10 * 10**9
ETH_USD = 3_000 * WAD
USD_PER_GAS = GAS_PRICE * 3_000 / 1e18


def state(usdc_usd=600_000, weth_usd=400_000, max_slippage_bps=150):
    assets = [
        AssetState(USDC_ADDR, "USDC", 6, usdc_usd * 10**6, 1 * WAD, WAD // 2, 300, 900),
        AssetState(WETH_ADDR, "WETH", 18, weth_usd * WAD // 3_000, 3_000 * WAD, WAD // 2, 300, 900),
    ]
    return VaultState(
        "0x" + "aa" * 20, assets, 10**24, 0, 1, 86_400, 0, 0, 0, max_slippage_bps, 100, 10_000, 86_400, 0, 0
    )


def plan(s, fee_bps, impact_bps, value=100_000):
    """One planned swap of ``value`` USD of USDC for WETH losing ``fee_bps`` + ``impact_bps``."""
    value_in = value * WAD
    fee = value_in * fee_bps // MAX_BPS
    out_value = value_in - fee - value_in * impact_bps // MAX_BPS
    trade = PlannedTrade("0x" + "11" * 20, USDC_ADDR, WETH_ADDR, value * 10**6, 0, 0, value_in, out_value, fee)
    total = s.total_value
    return Plan([trade], "", total, total - (value_in - out_value), s.drifts, [0, 0])


def test_choose_route__shallow_pools__auction_cheaper_with_reason():
    s = state()
    choice = choose_route(s, None, plan(s, 30, 50), GAS_PRICE, ETH_USD, filler_margin_bps=10)
    assert choice.route == "auction"
    assert choice.auction.bps < choice.pools.bps
    assert choice.reason == f"auction: {choice.auction.bps:.1f} bps < pools {choice.pools.bps:.1f} bps"
    # Pools: 80 bps of the plan plus the rebalance's gas (2 assets, 1 swap).
    assert choice.pools.total == pytest.approx(800 + rebalance_gas(2, 1) * USD_PER_GAS, rel=1e-9)


def test_choose_route__deep_pools_and_wide_filler_margin__pools_cheaper_with_reason():
    s = state()
    choice = choose_route(s, None, plan(s, 30, 0), GAS_PRICE, ETH_USD, filler_margin_bps=30)
    assert choice.route == "pools"
    assert choice.pools.bps <= choice.auction.bps
    assert choice.reason == f"pools: {choice.pools.bps:.1f} bps <= auction {choice.auction.bps:.1f} bps"


def test_choose_route__oracle_above_market__auction_never_fills_and_pools_chosen():
    # The market values USDC 2 % under the oracle against WETH: no filler pays even the end price.
    s = state()
    choice = choose_route(s, None, plan(s, 30, 500), GAS_PRICE, ETH_USD, gaps={(0, 1): 0.98})
    assert choice.route == "pools"
    assert not choice.auction.available
    assert choice.reason.startswith("pools: the auction is out (USDC->WETH never crosses (gap -200.0 bps")


def test_choose_route__end_discount_above_vault_bound__auction_out():
    s = state(max_slippage_bps=50)
    choice = choose_route(s, None, plan(s, 30, 500), GAS_PRICE, ETH_USD)
    assert choice.route == "pools"
    assert choice.reason == "pools: the auction is out (end discount above the vault's bound)"


def test_choose_route__no_pool_plan__auction_alone():
    s = state()
    empty = Plan([], "no trade worth making", s.total_value, s.total_value, s.drifts, s.drifts)
    choice = choose_route(s, None, empty, GAS_PRICE, ETH_USD)
    assert choice.route == "auction"
    assert choice.reason.endswith("no pool plan (no trade worth making)")


def test_auction_lots__two_assets__one_lot_of_the_surplus():
    ((sell, buy, value),) = auction_lots(state())
    assert (sell, buy) == (0, 1) and abs(value - 100_000 * WAD) < 10**4  # WETH's balance rounds down
    assert auction_lots(state(500_500, 499_500)) == []  # $500 < MIN_LOT_USD


@pytest.mark.parametrize("gap", [0.995, 1.0, 1.004, 1.012])
@pytest.mark.parametrize("margin_bps", [0, 30, 80])
def test_auction_cost__fill_time_and_discount__match_closed_form_of_the_curve(gap, margin_bps):
    s = state()
    choice = choose_route(s, None, plan(s, 30, 0), GAS_PRICE, ETH_USD, filler_margin_bps=margin_bps, gaps={(0, 1): gap})
    (lot,) = choice.auction.lots
    start, end = 1 + DEFAULT_PARAMS["premium_bps"] / MAX_BPS, 1 - DEFAULT_PARAMS["end_discount_bps"] / MAX_BPS
    rate = math.log(start / end) / DEFAULT_PARAMS["length"]
    threshold = 1 + margin_bps / MAX_BPS + AUCTION_GAS["fill"] * USD_PER_GAS / 100_000
    level = gap / threshold
    if level < end:
        assert lot.fill_seconds is None and not choice.auction.available
        return
    # The first block at or after t* = ln(START (1 + mu) / g) / rate; never before the first block.
    t_star = math.log(start / level) / rate
    expected_t = max(BLOCK_SECONDS, math.ceil(t_star / BLOCK_SECONDS) * BLOCK_SECONDS)
    assert lot.fill_seconds == expected_t
    assert lot.multiplier == pytest.approx(start * math.exp(-rate * expected_t), rel=1e-12)
    assert lot.multiplier <= level < start * math.exp(-rate * (expected_t - BLOCK_SECONDS))
    keeper_gas = (AUCTION_GAS["open"] + AUCTION_GAS["close"]) * USD_PER_GAS
    assert choice.auction.total == pytest.approx(100_000 * (1 - lot.multiplier) + keeper_gas, rel=1e-9)


def test_curve__every_minute__matches_the_contracts_python_mirror():
    c = Curve()
    start, end = WAD * 10_200 // MAX_BPS, WAD * 9_900 // MAX_BPS
    rate = decay_rate(start, end, c.length)
    for t in range(0, c.ttl + 1, 60):
        assert c.multiplier(t) == pytest.approx(multiplier(start, end, rate, c.length, t) / WAD, rel=1e-12)
    # m crosses the oracle 1,194.x s after opening (TECH_SPEC "Auctions"): the first second at or below it is 1,195.
    assert 1_194 < math.log(c.start) / c.rate < 1_195
    assert c.fill_time(1.0, block_seconds=1) == 1_195


# ---------------------------------------------------------------- on chain: ape run keeper --auction


def _keeper_cli():
    import importlib.util
    from pathlib import Path

    path = Path(__file__).resolve().parents[2] / "scripts" / "keeper.py"
    spec = importlib.util.spec_from_file_location("ballast_script_keeper_route", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.cli


def _rallied_with_auction(make_stack, project, owner, alice, lens, chain, **stack_kwargs):
    """$1M at target, WBTC (T1) +40 % with the pools arbitraged to it, cooldown over, an auction."""
    from ballast.auction import deploy_auction

    stack = make_stack(**stack_kwargs)
    stack.seed(alice)
    stack.move_price(1, 84_000.0, owner)
    stack.auction = deploy_auction(project, owner, stack.vault, lens)
    chain.pending_timestamp += stack.lens.cooldown(stack.vault) + 1
    return stack


def _run_keeper(stack, gas_gwei):
    from click.testing import CliRunner

    args = ["--account", "TEST::1", "--vault", str(stack.vault.address), "--venue", str(stack.venue.address)]
    args += ["--lens", str(stack.lens.address), "--auction", str(stack.auction.address), "--send"]
    args += ["--gas-gwei", str(gas_gwei), "--eth-usd", "3000", "--network", "ethereum:local:test"]
    result = CliRunner().invoke(_keeper_cli(), args, catch_exceptions=False)
    assert result.exit_code == 0, result.output
    return result.output


def test_keeper_auction__fee_100bps_pools__opens_auction_and_swaps_nothing(
    make_stack, project, owner, alice, lens, chain
):
    # Pools at the 100 bps fee tier: ~1 % a trade; fillers at 30 bps margin take the lots for less.
    stack = _rallied_with_auction(make_stack, project, owner, alice, lens, chain, fee_bps=100, depth_usd=20_000_000)
    balances = [stack.vault.balances(t) for t in stack.tokens]
    last = stack.lens.last_rebalance(stack.vault)
    output = _run_keeper(stack, gas_gwei=1)
    assert "route: AUCTION (auction:" in output, output
    assert "opened auction 1: 3 lots" in output, output
    assert stack.auction.is_open() and int(stack.auction.lot_count()) == 3
    assert [stack.vault.balances(t) for t in stack.tokens] == balances
    assert stack.lens.last_rebalance(stack.vault) == last


def test_keeper_auction__fee_30bps_pools_at_50_gwei__rebalances_on_pools(
    make_stack, project, owner, alice, lens, chain
):
    # At 50 gwei each filler's gas (~$53 a lot) pushes the auction above the 30 bps pools.
    stack = _rallied_with_auction(make_stack, project, owner, alice, lens, chain, fee_bps=30)
    drift = stack.lens.max_drift(stack.vault)
    output = _run_keeper(stack, gas_gwei=50)
    assert "route: POOLS (pools:" in output, output
    assert "realised: cost" in output, output
    assert not stack.auction.is_open() and int(stack.auction.auction_id()) == 0
    assert stack.lens.max_drift(stack.vault) < drift


def test_keeper_auction__not_an_auction__refused_before_sending(stack, chain, accounts):
    from click.testing import CliRunner

    token = str(stack.tokens[0].address)
    args = ["--account", "TEST::1", "--vault", str(stack.vault.address), "--venue", str(stack.venue.address)]
    args += ["--lens", str(stack.lens.address), "--auction", token, "--send", "--network", "ethereum:local:test"]
    height = chain.blocks.height
    result = CliRunner().invoke(_keeper_cli(), args, catch_exceptions=False)
    assert result.exit_code == 1
    expected = f"Error: --auction: {token} is not a DutchAuction (its END_MULTIPLIER() call failed)"
    assert result.output.strip().splitlines()[-1] == expected
    assert chain.blocks.height == height
