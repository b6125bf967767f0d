"""Sandwich attacks on a keeper rebalance.

The keeper plans its trades against a snapshot of the pools. The attacker sees the
rebalance coming, trades the same direction on each pool first (pushing the price
against the vault), lets the rebalance run, then trades back. The vault must either
refuse (the planned min-outs, or its own oracle slippage check) or lose at most
``max_slippage_bps`` of the value it traded; the attacker must not come out ahead at
oracle prices.
"""

import ape
import pytest

from ballast.constants import MAX_BPS
from ballast.venues import amm


def _victim_out_after_frontrun(x, r_in, r_out, fee, victim_in):
    """The victim's output on a pool after the attacker sold ``x`` in the same direction."""
    if x == 0:
        return amm.amount_out(victim_in, r_in, r_out, fee)
    out = amm.amount_out(x, r_in, r_out, fee)
    return amm.amount_out(victim_in, r_in + x, r_out - out, fee)


def _largest_frontrun(r_in, r_out, fee, victim_in, victim_min_out):
    """The largest same-direction front-run after which the victim's trade still fills."""
    lo, hi = 0, r_in
    while lo < hi:
        mid = (lo + hi + 1) // 2
        if _victim_out_after_frontrun(mid, r_in, r_out, fee, victim_in) >= victim_min_out:
            lo = mid
        else:
            hi = mid - 1
    return lo


def _frontrun(stack, attacker, trades, size):
    """Attacker sells ``size(trade, r_in, r_out, fee)`` of each trade's input on its pool first.

    Returns the (token_out, token_in, received) legs to undo afterwards.
    """
    fee = int(stack.venue.fee_bps())
    legs = []
    for trade in trades:
        token_in = stack.project.MockERC20.at(trade.token_in)
        token_out = stack.project.MockERC20.at(trade.token_out)
        r_in, r_out = (int(r) for r in stack.venue.get_reserves(token_in, token_out))
        x = size(trade, r_in, r_out, fee)
        assert 0 < x <= token_in.balanceOf(attacker)
        before = token_out.balanceOf(attacker)
        stack.venue.swap(token_in, token_out, x, 0, attacker, sender=attacker)
        legs.append((token_out, token_in, token_out.balanceOf(attacker) - before))
    return legs


def _backrun(stack, attacker, legs):
    for token_out, token_in, received in legs:
        stack.venue.swap(token_out, token_in, received, 0, attacker, sender=attacker)


def test_rebalance__sandwich_at_largest_size_that_still_fills__vault_loss_within_slippage_attacker_no_profit(
    lens, drifted_once, keeper, attacker, h
):
    stack, vault = drifted_once, drifted_once.vault
    plan = stack.plan()
    assert plan.trades, plan.reason
    pools = {frozenset((t.token_in, t.token_out)) for t in plan.trades}
    assert len(pools) == len(plan.trades), "one trade per pool keeps the front-run sizing exact"
    h.arm(stack, attacker)
    wallet_before = h.wallet_value(stack, attacker)

    # Worst case for the vault: every pool pushed as far as the rebalance still goes through.
    legs = _frontrun(
        stack,
        attacker,
        plan.trades,
        lambda t, r_in, r_out, fee: _largest_frontrun(r_in, r_out, fee, t.amount_in, h.least_fill(stack, t)),
    )
    tx = vault.rebalance(h.trades(plan), sender=keeper)
    _backrun(stack, attacker, legs)

    executed = tx.events.filter(vault.TradeExecuted)
    assert len(executed) == len(plan.trades)
    slippage = lens.max_slippage_bps(vault)
    for ev, planned in zip(executed, plan.trades):
        # The sandwich did bite: the vault got less than the keeper expected ...
        assert ev.amount_out < planned.expected_out
        # ... but never below the oracle bound.
        assert ev.value_out * MAX_BPS >= ev.value_in * (MAX_BPS - slippage)
    ev = tx.events.filter(vault.Rebalanced)[0]
    # Each value is a floor over the assets: allow one wei per asset of rounding.
    assert ev.cost * MAX_BPS <= ev.value_traded * slippage + len(stack.tokens) * MAX_BPS
    assert ev.cost * MAX_BPS <= ev.value_before * lens.max_cost_bps(vault)
    # The attacker's round trip (fees both ways) is worth no more than it started with.
    assert h.wallet_value(stack, attacker) <= wallet_before


@pytest.mark.parametrize(
    "min_outs, reason",
    [("planned", "amm: insufficient output"), ("zero", "vault: slippage")],
)
def test_rebalance__sandwich_beyond_slippage_bound__reverts_and_attacker_no_profit(
    drifted_once, keeper, attacker, h, min_outs, reason
):
    stack, vault = drifted_once, drifted_once.vault
    plan = stack.plan()
    assert plan.trades, plan.reason
    h.arm(stack, attacker)
    wallet_before = h.wallet_value(stack, attacker)
    balances_before = [vault.balances(t) for t in stack.tokens]

    # Push every pool about 3% against the vault: twice what max_slippage_bps allows.
    legs = _frontrun(stack, attacker, plan.trades, lambda t, r_in, r_out, fee: r_in * 3 // 200)
    trades = h.trades(plan)
    if min_outs == "zero":
        # A careless (or colluding) keeper drops the min-outs: the vault's oracle check still holds.
        trades = [(*t[:4], 0) for t in trades]
    with ape.reverts(reason):
        vault.rebalance(trades, sender=keeper)
    _backrun(stack, attacker, legs)

    assert [vault.balances(t) for t in stack.tokens] == balances_before
    assert h.wallet_value(stack, attacker) <= wallet_before


def test_rebalance__after_sandwich_attempt_reverts__fresh_plan_still_rebalances(
    lens, drifted_once, keeper, attacker, h
):
    """The failed sandwich leaves the vault able to rebalance once the pools are back."""
    stack, vault = drifted_once, drifted_once.vault
    plan = stack.plan()
    h.arm(stack, attacker)
    legs = _frontrun(stack, attacker, plan.trades, lambda t, r_in, r_out, fee: r_in * 3 // 200)
    with ape.reverts("amm: insufficient output"):
        vault.rebalance(h.trades(plan), sender=keeper)
    # While the pools sit off the oracle, the planner refuses to trade on them.
    assert not stack.plan().trades
    _backrun(stack, attacker, legs)
    replan = stack.plan()
    assert replan.trades, replan.reason
    before = lens.max_drift(vault)
    vault.rebalance(h.trades(replan), sender=keeper)
    assert lens.max_drift(vault) < before
