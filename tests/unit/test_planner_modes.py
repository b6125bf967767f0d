"""Planner logic off-chain: target modes, venue splitting, hub routing, the worth-it rule, dust."""

import pytest

from ballast.chain.state import AssetState, VaultState
from ballast.constants import BPS_TO_WAD, WAD
from ballast.cost import breakdown, gas_cost_usd, rebalance_gas
from ballast.planner import Market, Pool, check, plan_rebalance, simulate, split_across_venues, target_deltas
from ballast.venues import amm

USDC, WETH, WBTC = "0x" + "a" * 40, "0x" + "b" * 40, "0x" + "c" * 40
V1, V2 = "0x" + "1" * 40, "0x" + "2" * 40


def make_state(values_usd, targets_bps=(5_000, 3_000, 2_000), bands=(300, 300, 300)):
    prices = [WAD, 3_000 * WAD, 60_000 * WAD]
    decimals = [6, 18, 8]
    assets = []
    for address, usd, price, dec, target, band in zip(
        (USDC, WETH, WBTC), values_usd, prices, decimals, targets_bps, bands
    ):
        assets.append(
            AssetState(
                address, address[-4:], dec, usd * 10**dec * WAD // price, price, target * BPS_TO_WAD, band, band * 3
            )
        )
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


def pool(venue, a, b, usd_depth, fee=30):
    units = {USDC: (6, 1), WETH: (18, 3_000), WBTC: (8, 60_000)}
    da, pa = units[a]
    db, pb = units[b]
    return Pool(venue, a, b, usd_depth * 10**da // pa, usd_depth * 10**db // pb, fee)


def full_market(depth=50_000_000):
    return Market([pool(V1, USDC, WETH, depth), pool(V1, USDC, WBTC, depth), pool(V1, WETH, WBTC, depth)])


DRIFTED = (400_000, 400_000, 200_000)  # 40/40/20 against 50/30/20: WETH 10% over


@pytest.mark.parametrize("mode", ["target", "edge", "partial"])
def test_plan__each_mode__passes_vault_checks_and_cuts_drift(mode):
    state = make_state(DRIFTED)
    plan = plan_rebalance(state, full_market(), mode=mode, fraction_bps=5_000)
    assert plan.trades and check(state, plan.trades) == ""
    assert plan.max_drift_after < plan.max_drift_before


def test_target_deltas__edge__stops_at_band_edge():
    state = make_state(DRIFTED)
    deltas = target_deltas(state, "edge")
    # WETH is 10% over with a 3% band: sell 7% of $1M; USDC is 10% under: buy 7%.
    assert deltas[1] == pytest.approx(-70_000 * WAD, rel=1e-6)
    assert deltas[0] == pytest.approx(70_000 * WAD, rel=1e-6)
    assert deltas[2] == 0


def test_target_deltas__partial__scales_gap():
    state = make_state(DRIFTED)
    assert target_deltas(state, "partial", 2_500)[1] == pytest.approx(-25_000 * WAD, rel=1e-6)


def test_target_deltas__unknown_mode__clear_error():
    with pytest.raises(ValueError, match="unknown target mode"):
        target_deltas(make_state(DRIFTED), "sideways")


def test_split_across_venues__unequal_pools__equal_marginal_prices():
    pools = [(V1, 4_000 * WAD, 4_000 * WAD, 30), (V2, 1_000 * WAD, 1_000 * WAD, 30)]
    parts = dict(split_across_venues(pools, 500 * WAD))
    assert sum(parts.values()) == 500 * WAD
    g = 0.997

    def marginal(r_in, r_out, x):
        return g * r_in * r_out / (r_in + g * x) ** 2

    m1 = marginal(4_000 * WAD, 4_000 * WAD, parts[V1])
    m2 = marginal(1_000 * WAD, 1_000 * WAD, parts[V2])
    assert abs(m1 - m2) / m1 < 1e-9


def test_split_across_venues__off_price_pool__drops_out():
    # V2 is priced much worse: the whole small order goes to V1.
    pools = [(V1, 1_000 * WAD, 1_000 * WAD, 30), (V2, 1_000 * WAD, 500 * WAD, 30)]
    assert split_across_venues(pools, WAD) == [(V1, WAD)]


def test_plan__two_venues__split_order_beats_best_single_venue():
    state = make_state(DRIFTED)
    shallow = 2_000_000
    deep_a, deep_b = pool(V1, WETH, USDC, shallow), pool(V2, WETH, USDC, 3 * shallow)
    market = Market([deep_a, deep_b, pool(V1, USDC, WBTC, shallow)])
    plan = plan_rebalance(state, market, slippage_bps=150)
    weth_legs = [t for t in plan.trades if t.token_in == WETH]
    assert {t.venue for t in weth_legs} == {V1, V2}
    amount = sum(t.amount_in for t in weth_legs)
    split_out = sum(t.expected_out for t in weth_legs)
    best_single = max(amm.amount_out(amount, p.reserve_a, p.reserve_b, p.fee_bps) for p in (deep_a, deep_b))
    assert split_out > best_single


def test_plan__no_direct_pool__routes_through_hub():
    state = make_state((500_000, 400_000, 100_000))  # WETH over, WBTC under, USDC on target
    market = Market([pool(V1, USDC, WETH, 50_000_000), pool(V1, USDC, WBTC, 50_000_000)])
    plan = plan_rebalance(state, market)
    assert [(t.token_in, t.token_out) for t in plan.trades] == [(WETH, USDC), (USDC, WBTC)]
    assert plan.trades[1].amount_in == plan.trades[0].expected_out
    assert check(state, plan.trades) == ""


def test_plan__benefit_below_cost__skipped_with_reason():
    state = make_state((495_000, 305_000, 200_000))  # 0.5% drift: the penalty falls by ~$50
    gas = gas_cost_usd(rebalance_gas(3, 1), 100 * 10**9, 3_000 * WAD)  # ~$94 of gas alone
    plan = plan_rebalance(state, full_market(), gas_cost_usd=gas, drift_aversion_bps=10_000)
    assert plan.trades == [] and plan.reason.startswith("not worth it")
    big = plan_rebalance(make_state(DRIFTED), full_market(), gas_cost_usd=gas, drift_aversion_bps=10_000)
    assert big.trades


def test_plan__dust__no_trades():
    state = make_state((499_999, 300_001, 200_000))
    assert plan_rebalance(state, full_market(), min_trade_value=10 * WAD).trades == []


def test_plan__simulation_uses_constant_product_math():
    state = make_state(DRIFTED)
    market = full_market()
    plan = plan_rebalance(state, market)
    t = plan.trades[0]
    r = next(p for p in market.pools if {p.token_a, p.token_b} == {t.token_in, t.token_out})
    r_in, r_out = (r.reserve_a, r.reserve_b) if r.token_a == t.token_in else (r.reserve_b, r.reserve_a)
    assert t.expected_out == amm.amount_out(t.amount_in, r_in, r_out, r.fee_bps)
    after = simulate(state, plan.trades)
    assert after.assets[state.index(t.token_in)].balance == state.assets[state.index(t.token_in)].balance - t.amount_in


def test_breakdown__fees_impact_gas__add_up():
    state = make_state(DRIFTED)
    plan = plan_rebalance(state, full_market())
    cost = breakdown(plan.trades, 3, 50 * 10**9, 3_000 * WAD)
    assert (
        cost.fees > 0
        and cost.impact >= 0
        and cost.gas == gas_cost_usd(rebalance_gas(3, len(plan.trades)), 50 * 10**9, 3_000 * WAD)
    )
    assert cost.total == cost.fees + cost.impact + cost.gas
    assert (
        abs(cost.fees + cost.impact - plan.expected_cost) <= len(plan.trades) * WAD // 10**6 + plan.expected_cost // 100
    )


def test_fit_swap_gas__recovers_the_model_it_was_given():
    """Receipts made by a known model (plus the held per-asset term) give that model back."""
    from ballast.cost import REBALANCE_GAS_PER_ASSET, fit_swap_gas

    base, per_swap = 40_000, {"balancer": 66_000, "uniswap_v2": 74_000, "uniswap_v3": 128_000}
    mixes = [
        ["uniswap_v2"] * 3,
        ["uniswap_v3", "balancer"],
        ["uniswap_v2", "uniswap_v3", "uniswap_v3"],
        ["balancer"] * 4,
    ]
    samples = [(4, kinds, base + 4 * REBALANCE_GAS_PER_ASSET + sum(per_swap[k] for k in kinds)) for kinds in mixes]
    assert fit_swap_gas(samples) == (base, per_swap)


def test_rebalance_gas__count_of_swaps__priced_as_uniswap_v2():
    from ballast.cost import SWAP_GAS

    assert rebalance_gas(4, 3) == rebalance_gas(4, ["uniswap_v2"] * 3)
    assert (
        rebalance_gas(4, ["uniswap_v3"]) - rebalance_gas(4, ["uniswap_v2"])
        == SWAP_GAS["uniswap_v3"] - SWAP_GAS["uniswap_v2"]
    )
