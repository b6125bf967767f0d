"""What a profit-seeking sandwich of the planner's own plan earns, measured on chain.

``test_sandwich.py`` pushes each pool as far as the rebalance still fills: that attacker pays
so much in fees that it loses. A rational attacker instead sizes the front-run for the most
profit. With min-outs at the oracle value less the vault's whole ``max_slippage_bps`` (the
planner before ``amm.sandwich_safe_min_out``), that attacker gained $754 with 30 bps pools and
$2,545 with 5 bps pools on this scenario; with sandwich-safe min-outs its best is nothing.

The scenario is the demo basket: $4M at 40/30/20/10 on $20M-per-side pools, WBTC +40%.
"""

import pytest

from ballast.venues import amm

WBTC = 1
RALLY_PRICE = 84_000.0


def _best_front_run(r_in: int, r_out: int, fee: int, victim_in: int, least_out: int) -> int:
    """The front-run size with the largest gain among those after which the victim still fills."""
    lo, hi = 0, r_in // 10
    while lo < hi:  # largest size that still fills (the fill is monotone in x)
        mid = (lo + hi + 1) // 2
        if amm.output_after_front_run(mid, r_in, r_out, fee, victim_in) >= least_out:
            lo = mid
        else:
            hi = mid - 1
    left, right = 0, lo
    while right - left > 2:  # the gain is concave in x: ternary search
        m1, m2 = left + (right - left) // 3, right - (right - left) // 3
        if amm.sandwich_gain(m1, r_in, r_out, fee, victim_in) < amm.sandwich_gain(m2, r_in, r_out, fee, victim_in):
            left = m1
        else:
            right = m2
    return max(range(left, right + 1), key=lambda x: amm.sandwich_gain(x, r_in, r_out, fee, victim_in))


@pytest.mark.parametrize("fee_bps", [30, 5])
def test_rebalance__profit_maximising_sandwich_of_the_planned_trades__attacker_gains_nothing(
    lens, make_stack, alice, keeper, attacker, accounts, chain, h, fee_bps
):
    """Fails with the planner's min-outs at the oracle bound alone (``min_out = oracle_min`` in
    ``planner._leg``): the attacker gains $754 at 30 bps and $2,545 at 5 bps (``-s`` prints it)."""
    stack = make_stack(depth_usd=20_000_000, fee_bps=fee_bps)
    vault = stack.vault
    stack.seed(alice, usd_total=4_000_000)
    stack.move_price(WBTC, RALLY_PRICE, accounts[7])
    chain.pending_timestamp += lens.cooldown(vault) + 1
    plan = stack.plan()
    assert plan.trades, plan.reason
    assert len({frozenset((t.token_in, t.token_out)) for t in plan.trades}) == len(plan.trades)

    h.arm(stack, attacker)
    wallet_before = h.wallet_value(stack, attacker)

    legs = []
    for trade in plan.trades:
        token_in = stack.project.MockERC20.at(trade.token_in)
        token_out = stack.project.MockERC20.at(trade.token_out)
        r_in, r_out = (int(r) for r in stack.venue.get_reserves(token_in, token_out))
        x = _best_front_run(r_in, r_out, fee_bps, trade.amount_in, h.least_fill(stack, trade))
        if x == 0:
            continue
        before = token_out.balanceOf(attacker)
        stack.venue.swap(token_in, token_out, x, 0, attacker, sender=attacker)
        legs.append((token_out, token_in, token_out.balanceOf(attacker) - before))
    tx = vault.rebalance(h.trades(plan), sender=keeper)
    assert len(tx.events.filter(vault.TradeExecuted)) == len(plan.trades)
    for token_out, token_in, received in legs:
        stack.venue.swap(token_out, token_in, received, 0, attacker, sender=attacker)

    gain = h.wallet_value(stack, attacker) - wallet_before
    traded = sum(t.value_in for t in plan.trades)
    print(
        f"fee {fee_bps} bps: {len(plan.trades)} trades, ${traded / 1e18:,.0f} traded, attacker gain ${gain / 1e18:,.2f}"
    )
    assert gain <= 0, f"attacker gained ${gain / 1e18:,.2f} on ${traded / 1e18:,.0f} traded"
