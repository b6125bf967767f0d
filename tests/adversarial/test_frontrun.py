"""Front-running the keeper and the owner.

An attacker who sees a rebalance (or a target-weight change) coming enters just before
it and leaves just after. Joins and exits are pro rata and deposits are valued at the
oracle minus a haircut, so the attacker can at best share the rebalance's cost: what it
takes out, valued at the oracle, must never exceed what it put in.
"""

import ape
import pytest

from ballast.constants import MIN_RAMP_DURATION, WAD

# Asset indices of the default stack (see tests/conftest.py): 6/8/18/18 decimals.
USDC, WBTC, ETH, ALT = 0, 1, 2, 3
EQUAL_WEIGHTS = [2_500, 2_500, 2_500, 2_500]


def _join(stack, account, shares):
    """Join ``shares``; returns the amounts paid."""
    amounts = list(stack.lens.preview_join(stack.vault, shares))
    stack.fund(account, amounts)
    before = [t.balanceOf(account) for t in stack.tokens]
    stack.vault.join(shares, amounts, account, sender=account)
    paid = [b - t.balanceOf(account) for b, t in zip(before, stack.tokens)]
    assert paid == amounts
    return paid


def _exit_all(stack, account):
    """Exit every share of ``account``; returns the amounts received."""
    before = [t.balanceOf(account) for t in stack.tokens]
    stack.vault.exit(stack.vault.balanceOf(account), [0] * len(stack.tokens), account, sender=account)
    assert stack.vault.balanceOf(account) == 0
    return [t.balanceOf(account) - b for b, t in zip(before, stack.tokens)]


def _rebalance(stack, keeper, h):
    plan = stack.plan()
    assert plan.trades, plan.reason
    tx = stack.vault.rebalance(h.trades(plan), sender=keeper)
    return tx.events.filter(stack.vault.Rebalanced)[0]


# ---------------------------------------------------------------- rebalance


def test_join__right_before_rebalance_then_exit__no_value_captured(drifted_once, keeper, attacker, h):
    stack, vault = drifted_once, drifted_once.vault
    plan = stack.plan()  # the keeper's plan, made before the attacker's join lands
    assert plan.trades, plan.reason
    # The attacker doubles the vault just before the rebalance ...
    paid = _join(stack, attacker, vault.totalSupply())
    vault.rebalance(h.trades(plan), sender=keeper)
    # ... and leaves right after.
    received = _exit_all(stack, attacker)
    assert h.worth(stack, received) <= h.worth(stack, paid)


@pytest.mark.parametrize("asset", [USDC, WBTC, ALT], ids=["underweight-usdc", "overweight-wbtc", "underweight-alt"])
def test_deposit__right_before_rebalance_then_exit__no_value_captured(drifted_once, keeper, attacker, h, asset):
    stack, vault = drifted_once, drifted_once.vault
    amount = h.unit_amount(stack, asset, 200_000)
    funding = [0] * len(stack.tokens)
    funding[asset] = amount
    stack.fund(attacker, funding)
    put_in = h.value(stack, asset, amount)
    vault.deposit(stack.tokens[asset], amount, 0, attacker, sender=attacker)
    _rebalance(stack, keeper, h)
    received = _exit_all(stack, attacker)
    assert h.worth(stack, received) <= put_in


def test_deposit__ahead_of_oracle_drop_equal_to_haircut__no_profit(lens, drifted_once, attacker, h):
    """The attacker knows WBTC's feed is about to print a price lower by the entry haircut and
    deposits WBTC at the stale, higher price, then exits in kind after the update. Against
    simply holding the WBTC, it gains nothing: the haircut covers that much oracle lag."""
    stack, vault = drifted_once, drifted_once.vault
    amount = h.unit_amount(stack, WBTC, 200_000)
    stack.fund(attacker, [0, amount, 0, 0])
    vault.deposit(stack.tokens[WBTC], amount, 0, attacker, sender=attacker)
    haircut = lens.entry_haircut_bps(vault)
    stack.set_price(WBTC, h.RALLY_PRICE * (1 - haircut / 10_000))
    received = _exit_all(stack, attacker)
    assert h.worth(stack, received) <= h.value(stack, WBTC, amount)


def test_deposit__ahead_of_oracle_drop_beyond_haircut__gain_at_most_lag_minus_haircut(lens, drifted_once, attacker, h):
    """Residual risk of oracle-priced deposits, bounded: with a 2% lag the attacker does beat
    holding, but by no more than (lag - haircut) of what it deposited."""
    stack, vault = drifted_once, drifted_once.vault
    amount = h.unit_amount(stack, WBTC, 200_000)
    stack.fund(attacker, [0, amount, 0, 0])
    vault.deposit(stack.tokens[WBTC], amount, 0, attacker, sender=attacker)
    lag_bps, haircut = 200, lens.entry_haircut_bps(vault)
    stack.set_price(WBTC, h.RALLY_PRICE * (1 - lag_bps / 10_000))
    received = _exit_all(stack, attacker)
    holding = h.value(stack, WBTC, amount)
    gain = h.worth(stack, received) - holding
    assert gain * 10_000 <= holding * (lag_bps - haircut) * 10_000 // (10_000 - lag_bps)


# ---------------------------------------------------------------- target weights


def test_set_target_weights__join_before_ramp_exit_after_rebalance__no_profit(
    lens, drifted_once, owner, keeper, attacker, chain, h
):
    stack, vault = drifted_once, drifted_once.vault
    paid = _join(stack, attacker, vault.totalSupply())
    old_targets = list(lens.target_weights(vault))
    vault.set_target_weights(EQUAL_WEIGHTS, MIN_RAMP_DURATION, sender=owner)
    # No jump to trade against: the targets start where they were and ramp linearly.
    assert list(lens.target_weights(vault)) == old_targets
    chain.pending_timestamp += MIN_RAMP_DURATION // 2
    chain.mine()
    halfway = list(lens.target_weights(vault))
    for t0, t, w in zip(old_targets, halfway, EQUAL_WEIGHTS):
        assert min(t0, w * 10**14) <= t <= max(t0, w * 10**14)
        assert abs(2 * t - (t0 + w * 10**14)) <= WAD // 100  # about half way (block time granularity)
    chain.pending_timestamp += MIN_RAMP_DURATION
    assert list(lens.target_weights(vault)) == [w * 10**14 for w in EQUAL_WEIGHTS]
    _rebalance(stack, keeper, h)
    received = _exit_all(stack, attacker)
    assert h.worth(stack, received) <= h.worth(stack, paid)


def test_set_target_weights__pool_frontrun_of_ramp_trades__reverts_slippage_attacker_no_profit(
    drifted_once, owner, keeper, attacker, chain, h
):
    """The weight change tells everyone the vault will buy ALT and ETH. The attacker buys them
    first on the very pools the keeper will use (3% up), hoping to sell them back to the vault:
    even a keeper with no min-outs cannot pay more than the oracle allows."""
    stack, vault = drifted_once, drifted_once.vault
    vault.set_target_weights(EQUAL_WEIGHTS, MIN_RAMP_DURATION, sender=owner)
    chain.pending_timestamp += MIN_RAMP_DURATION + 1
    plan = stack.plan()
    assert plan.trades, plan.reason
    h.arm(stack, attacker)
    wallet_before = h.wallet_value(stack, attacker)
    legs = []
    for trade in plan.trades:
        token_in = stack.project.MockERC20.at(trade.token_in)
        token_out = stack.project.MockERC20.at(trade.token_out)
        r_in, _ = stack.venue.get_reserves(token_in, token_out)
        before = token_out.balanceOf(attacker)
        stack.venue.swap(token_in, token_out, r_in * 3 // 200, 0, attacker, sender=attacker)
        legs.append((token_out, token_in, token_out.balanceOf(attacker) - before))
    with ape.reverts("vault: slippage"):
        vault.rebalance([(*t.as_tuple()[:4], 0) for t in plan.trades], sender=keeper)
    for token_out, token_in, received in legs:
        stack.venue.swap(token_out, token_in, received, 0, attacker, sender=attacker)
    assert h.wallet_value(stack, attacker) <= wallet_before
