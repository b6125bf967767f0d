"""A malicious (or compromised) keeper.

The keeper chooses every trade, so the vault must refuse each way of hurting holders:
trades that push weights away from target or past the band on the other side, venues
the owner never approved, trading again before the cooldown, churning beyond the
turnover cap or the cost cap, and routing through a pool the keeper's friend owns at a
bad price, even when the owner was fooled into whitelisting it.
"""

import ape
import pytest

from ballast.constants import BPS_TO_WAD, MAX_BPS, WAD

# Asset indices of the default stack (see tests/conftest.py): 6/8/18/18 decimals.
USDC, WBTC, ETH, ALT = 0, 1, 2, 3


def _trade(stack, venue, i, j, usd, h, min_out=0):
    """A trade selling ``usd`` dollars (at the oracle) of asset ``i`` for asset ``j``."""
    return (str(venue.address), stack.tokens[i].address, stack.tokens[j].address, h.unit_amount(stack, i, usd), min_out)


def _usd(lens, vault, fraction_wad):
    """Dollars worth ``fraction_wad`` (WAD) of the vault's value."""
    return lens.total_value(vault) * fraction_wad // WAD / WAD


def _own_pool(project, stack, attacker, wbtc_price, fee_bps, depth_usd=5_000_000):
    """An AMM deployed and funded by the attacker with a WBTC/USDC pool at ``wbtc_price``."""
    pool = project.ConstantProductAMM.deploy(fee_bps, sender=attacker)
    wbtc, usdc = stack.tokens[WBTC], stack.tokens[USDC]
    amount_wbtc = int(depth_usd / wbtc_price * 10**8)
    amount_usdc = depth_usd * 10**6
    for token, amount in ((wbtc, amount_wbtc), (usdc, amount_usdc)):
        token.mint(attacker, amount, sender=stack.owner)
        token.approve(pool, amount, sender=attacker)
    pool.add_liquidity(wbtc, usdc, amount_wbtc, amount_usdc, sender=attacker)
    return pool


# ---------------------------------------------------------------- drift rules


def test_rebalance__trade_that_increases_drift__reverts_drift_grew(drifted_once, keeper, h):
    """WBTC is overweight and USDC underweight; the keeper buys more WBTC with USDC."""
    stack = drifted_once
    trade = _trade(stack, stack.venue, USDC, WBTC, 10_000, h)
    with ape.reverts("vault: drift grew"):
        stack.vault.rebalance([trade], sender=keeper)


def test_rebalance__sell_overweight_past_band_on_other_side__reverts_overshoot(lens, drifted_once, keeper, h):
    """Sell so much WBTC that it ends 3.5% underweight (band 3%), spreading the proceeds so
    that no other asset's drift grows and total drift falls: only the overshoot rule stops it."""
    stack, vault = drifted_once, drifted_once.vault
    drifts = list(lens.drifts(vault))
    band = lens.asset_config(vault, stack.tokens[WBTC])[1] * BPS_TO_WAD
    sell = drifts[WBTC] + band + 50 * BPS_TO_WAD  # weight (WAD) of WBTC to sell
    short = -sum(d for d in drifts if d < 0)
    trades = [
        _trade(stack, stack.venue, WBTC, j, _usd(stack.lens, vault, sell * -d // short), h)
        for j, d in enumerate(drifts)
        if d < 0
    ]
    with ape.reverts("vault: overshoot"):
        vault.rebalance(trades, sender=keeper)


def test_rebalance__round_trip_through_underweight_assets__reverts_drift_not_reduced(drifted_once, keeper, h):
    """Swap USDC for ETH and straight back (both underweight): no asset's drift grows beyond
    what the lost fees explain, but the vault is no closer to target, so nothing may trade."""
    stack = drifted_once
    usdc, eth = stack.tokens[USDC], stack.tokens[ETH]
    amount = h.unit_amount(stack, USDC, 20_000)
    eth_back = stack.venue.get_amount_out(usdc, eth, amount)
    trades = [
        (stack.venue.address, usdc.address, eth.address, amount, 0),
        (stack.venue.address, eth.address, usdc.address, eth_back, 0),
    ]
    with ape.reverts("vault: drift not reduced"):
        stack.vault.rebalance(trades, sender=keeper)


# ---------------------------------------------------------------- venues


def test_rebalance__venue_never_whitelisted__reverts(project, drifted_once, keeper, attacker, h):
    stack = drifted_once
    pool = _own_pool(project, stack, attacker, h.RALLY_PRICE, 30)  # a fair price, but not approved
    with ape.reverts("vault: venue not allowed"):
        stack.vault.rebalance([_trade(stack, pool, WBTC, USDC, 40_000, h)], sender=keeper)


def test_rebalance__venue_delisted_by_owner__reverts(drifted_once, owner, keeper, h):
    stack = drifted_once
    plan = stack.plan()
    stack.vault.set_venue(stack.venue, False, sender=owner)
    with ape.reverts("vault: venue not allowed"):
        stack.vault.rebalance(h.trades(plan), sender=keeper)


@pytest.mark.parametrize("whitelisted", [False, True], ids=["not-whitelisted", "whitelisted"])
def test_rebalance__self_owned_pool_at_skewed_price__reverts(
    project, drifted_once, owner, keeper, attacker, h, whitelisted
):
    """The keeper's accomplice runs a pool that buys WBTC 10% under the oracle."""
    stack, vault = drifted_once, drifted_once.vault
    pool = _own_pool(project, stack, attacker, h.RALLY_PRICE * 0.9, 0)
    if whitelisted:
        vault.set_venue(pool, True, sender=owner)
    trade = _trade(stack, pool, WBTC, USDC, 40_000, h)
    with ape.reverts("vault: slippage" if whitelisted else "vault: venue not allowed"):
        vault.rebalance([trade], sender=keeper)


def test_rebalance__whitelisted_self_owned_pool_inside_slippage__loss_bounded(
    lens, project, drifted_once, owner, keeper, attacker, h
):
    """A pool skewed just less than max_slippage_bps gets through, but the vault loses at most
    that fraction of what it traded, and at most max_cost_bps of its value."""
    stack, vault = drifted_once, drifted_once.vault
    slippage = lens.max_slippage_bps(vault)
    pool = _own_pool(project, stack, attacker, h.RALLY_PRICE * (1 - (slippage - 20) / MAX_BPS), 0, 100_000_000)
    vault.set_venue(pool, True, sender=owner)
    tx = vault.rebalance([_trade(stack, pool, WBTC, USDC, 40_000, h)], sender=keeper)
    traded = tx.events.filter(vault.TradeExecuted)[0]
    assert traded.value_out * MAX_BPS >= traded.value_in * (MAX_BPS - slippage)
    ev = tx.events.filter(vault.Rebalanced)[0]
    assert ev.cost > 0
    assert ev.cost * MAX_BPS <= ev.value_traded * slippage + len(stack.tokens) * MAX_BPS
    assert ev.cost * MAX_BPS <= ev.value_before * lens.max_cost_bps(vault)


# ---------------------------------------------------------------- pace and size


def test_rebalance__again_within_cooldown__reverts_then_succeeds_after(lens, drifted_once, keeper, chain, h):
    """A first, partial rebalance leaves the vault still due; the keeper may not trade again
    until the cooldown is over."""
    stack, vault = drifted_once, drifted_once.vault
    vault.rebalance([_trade(stack, stack.venue, WBTC, USDC, _usd(stack.lens, vault, 2 * WAD // 100), h)], sender=keeper)
    assert lens.needs_rebalance(vault)[0]
    second = [_trade(stack, stack.venue, WBTC, ETH, _usd(stack.lens, vault, WAD // 100), h)]
    with ape.reverts("vault: cooldown"):
        vault.rebalance(second, sender=keeper)
    chain.pending_timestamp += lens.cooldown(vault) - 10
    with ape.reverts("vault: cooldown"):
        vault.rebalance(second, sender=keeper)
    chain.pending_timestamp += 10
    vault.rebalance(second, sender=keeper)


def test_rebalance__one_call_beyond_turnover_cap__reverts(drifted_once, owner, keeper, h):
    stack, vault = drifted_once, drifted_once.vault
    plan = stack.plan()
    assert plan.value_traded * MAX_BPS > plan.value_before * 100
    vault.set_limits(stack.limits(turnover_cap_bps=100), sender=owner)
    with ape.reverts("vault: turnover cap"):
        vault.rebalance(h.trades(plan), sender=keeper)


def test_rebalance__turnover_accumulated_within_period__reverts_turnover_cap(
    lens, drifted_once, owner, keeper, chain, h
):
    """5% cap per period: 4% in one rebalance, then 1.5% after the cooldown, same period."""
    stack, vault = drifted_once, drifted_once.vault
    vault.set_limits(stack.limits(turnover_cap_bps=500), sender=owner)
    vault.rebalance([_trade(stack, stack.venue, WBTC, USDC, _usd(stack.lens, vault, 4 * WAD // 100), h)], sender=keeper)
    chain.pending_timestamp += lens.cooldown(vault)
    assert lens.needs_rebalance(vault)[0]
    second = [_trade(stack, stack.venue, WBTC, ETH, _usd(stack.lens, vault, 15 * WAD // 1_000), h)]
    with ape.reverts("vault: turnover cap"):
        vault.rebalance(second, sender=keeper)
    # Control: the cap, and nothing else, stopped it.
    vault.set_limits(stack.limits(turnover_cap_bps=MAX_BPS), sender=owner)
    vault.rebalance(second, sender=keeper)


def test_rebalance__churn_through_fees__reverts_cost_too_high(drifted_once, owner, keeper, h):
    """Sell 300k of WBTC and buy 216k back: the net move is what the plan does, but twice the
    fees and impact are burnt. With a 5 bps cost cap the plan passes and the churn does not."""
    stack, vault = drifted_once, drifted_once.vault
    vault.set_limits(stack.limits(max_cost_bps=5), sender=owner)
    churn = [
        _trade(stack, stack.venue, WBTC, USDC, 300_000, h),
        _trade(stack, stack.venue, USDC, WBTC, 216_000, h),
    ]
    with ape.reverts("vault: cost too high"):
        vault.rebalance(churn, sender=keeper)
    plan = stack.plan()
    assert plan.trades, plan.reason
    vault.rebalance(h.trades(plan), sender=keeper)


# ---------------------------------------------------------------- malformed trades


def test_rebalance__malformed_trades__revert_with_reasons(project, drifted_once, owner, keeper, h):
    stack, vault = drifted_once, drifted_once.vault
    stranger = project.MockERC20.deploy("Stranger", "STR", 18, sender=owner)
    wbtc, usdc = stack.tokens[WBTC], stack.tokens[USDC]
    cases = [
        ((stack.venue.address, wbtc.address, stranger.address, 10**6, 0), "vault: unknown asset"),
        ((stack.venue.address, stranger.address, usdc.address, 10**6, 0), "vault: unknown asset"),
        ((stack.venue.address, wbtc.address, wbtc.address, 10**6, 0), "vault: same token"),
        ((stack.venue.address, wbtc.address, usdc.address, 0, 0), "vault: zero amount"),
        ((stack.venue.address, wbtc.address, usdc.address, vault.balances(wbtc) + 1, 0), "vault: amount above balance"),
    ]
    for trade, reason in cases:
        with ape.reverts(reason):
            vault.rebalance([trade], sender=keeper)
    with ape.reverts("vault: no trades"):
        vault.rebalance([], sender=keeper)


def test_rebalance__not_due_after_full_rebalance__reverts(lens, drifted_once, keeper, chain, h):
    stack, vault = drifted_once, drifted_once.vault
    vault.rebalance(h.trades(stack.plan()), sender=keeper)
    chain.pending_timestamp += lens.cooldown(vault)
    assert not lens.needs_rebalance(vault)[0]
    with ape.reverts("vault: rebalance not due"):
        vault.rebalance([_trade(stack, stack.venue, USDC, WBTC, 1_000, h)], sender=keeper)
