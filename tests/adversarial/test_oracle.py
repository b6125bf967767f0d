"""Oracle failures and oracle/pool divergence.

A broken price (stale, zero, negative, pinned at a bound, from the future, or a feed
that reverts) must stop every priced entry point with the pricing reason, while exit,
which reads no price, keeps paying the exact pro-rata amounts. A pool pushed away from
the oracle must not be traded on: the vault values every trade at the oracle.
"""

import ape
import pytest

from ballast.chain.deploy import feed_answer

# Asset indices of the default stack (see tests/conftest.py): 6/8/18/18 decimals.
USDC, WBTC, ETH = 0, 1, 2
FEED_DECIMALS = 8
BROKEN = ETH  # the asset whose feed breaks
# Sane bounds around the ETH-like asset's $3,000 seed price.
MIN_ANSWER = feed_answer(1_000.0, FEED_DECIMALS)
MAX_ANSWER = feed_answer(10_000.0, FEED_DECIMALS)


def _bounded(stack):
    """Reconfigure the broken asset's feed with sane (exclusive) bounds."""
    a = stack.spec.assets[BROKEN]
    stack.vault.set_feed(
        stack.tokens[BROKEN], stack.feeds[BROKEN], a.heartbeat, MIN_ANSWER, MAX_ANSWER, sender=stack.owner
    )
    return stack.feeds[BROKEN]


def _stale(stack, chain):
    feed = stack.feeds[BROKEN]
    heartbeat = stack.spec.assets[BROKEN].heartbeat
    feed.set_round(feed.latest_answer(), chain.blocks.head.timestamp - heartbeat - 1, sender=stack.owner)


def _zero(stack, chain):
    stack.feeds[BROKEN].set_answer(0, sender=stack.owner)


def _negative(stack, chain):
    stack.feeds[BROKEN].set_answer(-feed_answer(3_000.0, FEED_DECIMALS), sender=stack.owner)


def _at_min_bound(stack, chain):
    _bounded(stack).set_answer(MIN_ANSWER, sender=stack.owner)


def _at_max_bound(stack, chain):
    _bounded(stack).set_answer(MAX_ANSWER, sender=stack.owner)


def _future(stack, chain):
    feed = stack.feeds[BROKEN]
    feed.set_round(feed.latest_answer(), chain.blocks.head.timestamp + 3_600, sender=stack.owner)


def _reverting(stack, chain):
    stack.feeds[BROKEN].set_reverting(True, sender=stack.owner)


FAILURES = [
    pytest.param(_stale, "pricing: stale", id="stale"),
    pytest.param(_zero, "pricing: bad answer", id="zero"),
    pytest.param(_negative, "pricing: bad answer", id="negative"),
    pytest.param(_at_min_bound, "pricing: answer at bound", id="at-min-bound"),
    pytest.param(_at_max_bound, "pricing: answer at bound", id="at-max-bound"),
    pytest.param(_future, "pricing: future answer", id="future"),
    pytest.param(_reverting, "feed: broken", id="reverting-feed"),
]


@pytest.mark.parametrize("break_feed, reason", FAILURES)
def test_deposit__bad_oracle__reverts_with_pricing_reason(drifted_once, bob, chain, h, break_feed, reason):
    stack = drifted_once
    amount = h.unit_amount(stack, USDC, 10_000)
    stack.fund(bob, [amount, 0, 0, 0])
    break_feed(stack, chain)
    # Every price is needed (the vault's value is the denominator), not only the deposited one.
    with ape.reverts(reason):
        stack.vault.deposit(stack.tokens[USDC], amount, 0, bob, sender=bob)
    with ape.reverts(reason):
        stack.lens.preview_deposit(stack.vault, stack.tokens[USDC], amount)


@pytest.mark.parametrize("break_feed, reason", FAILURES)
def test_rebalance__bad_oracle__reverts_with_pricing_reason(drifted_once, keeper, chain, h, break_feed, reason):
    stack = drifted_once
    plan = stack.plan()  # planned while the oracle was healthy
    assert plan.trades, plan.reason
    break_feed(stack, chain)
    with ape.reverts(reason):
        stack.vault.rebalance(h.trades(plan), sender=keeper)


@pytest.mark.parametrize("break_feed, reason", FAILURES)
def test_exit__bad_oracle__returns_pro_rata_amounts(lens, drifted_once, alice, bob, chain, h, break_feed, reason):
    stack, vault = drifted_once, drifted_once.vault
    break_feed(stack, chain)
    with ape.reverts(reason):
        lens.total_value(vault)
    shares = vault.balanceOf(alice) // 3
    supply = vault.totalSupply()
    tracked = [vault.balances(t) for t in stack.tokens]
    expected = [shares * b // supply for b in tracked]
    assert list(lens.preview_exit(vault, shares)) == expected
    vault.exit(shares, expected, bob, sender=alice)
    assert h.holdings(stack, bob) == expected
    assert [vault.balances(t) for t in stack.tokens] == [b - e for b, e in zip(tracked, expected)]
    assert vault.totalSupply() == supply - shares


def test_join__stale_oracle__still_takes_pro_rata_amounts(drifted_once, bob, chain):
    """In-kind joins read no price either, so a dead oracle cannot be used to misprice them."""
    stack, vault = drifted_once, drifted_once.vault
    _stale(stack, chain)
    shares = vault.totalSupply() // 1_000
    supply = vault.totalSupply()
    expected = [-(-shares * vault.balances(t) // supply) for t in stack.tokens]
    stack.fund(bob, expected)
    vault.join(shares, expected, bob, sender=bob)
    assert vault.balanceOf(bob) == shares


def test_deposit__answer_just_inside_bounds__succeeds(drifted_once, bob, h):
    """Control for the bound cases: the bounds are exclusive, one unit inside is accepted."""
    stack = drifted_once
    feed = _bounded(stack)
    amount = h.unit_amount(stack, USDC, 1_000)
    stack.fund(bob, [amount, 0, 0, 0])
    feed.set_answer(MIN_ANSWER + 1, sender=stack.owner)
    stack.vault.deposit(stack.tokens[USDC], amount // 2, 0, bob, sender=bob)
    minted = stack.vault.balanceOf(bob)
    assert minted > 0
    feed.set_answer(MAX_ANSWER - 1, sender=stack.owner)
    stack.vault.deposit(stack.tokens[USDC], amount // 2, 0, bob, sender=bob)
    assert stack.vault.balanceOf(bob) > minted


# ---------------------------------------------------------------- pool far from the oracle


def _planner_style_trades(stack, h):
    """What the planner would trade at oracle prices, with min-outs taken from the pools' own
    quotes (a keeper that trusts the pool instead of the oracle)."""
    lens = stack.lens
    vault = stack.vault
    total = lens.total_value(vault)
    trades = []
    targets = list(lens.target_weights(vault))
    values = [h.value(stack, i, vault.balances(t)) for i, t in enumerate(stack.tokens)]
    seller = max(range(len(values)), key=lambda i: values[i] - targets[i] * total // 10**18)
    for buyer, (value, target) in enumerate(zip(values, targets)):
        need = target * total // 10**18 - value
        if need <= 0 or buyer == seller:
            continue
        sold = stack.tokens[seller]
        amount_in = need * 10 ** stack.spec.assets[seller].decimals // vault.price(sold)
        quote = stack.venue.get_amount_out(sold, stack.tokens[buyer], amount_in)
        trades.append((stack.venue.address, sold.address, stack.tokens[buyer].address, amount_in, quote))
    return trades


def test_rebalance__oracle_moved_pool_did_not__reverts_slippage(drifted_once, keeper, h):
    """WBTC's oracle rallies another 40% but nobody arbitrages the pools: they still sell WBTC
    at the old price. Selling there would give WBTC away, so the vault refuses."""
    stack = drifted_once
    stack.set_price(WBTC, h.RALLY_PRICE * 1.4)
    assert stack.lens.needs_rebalance(stack.vault)[0]
    # The planner sees no fair pool and plans nothing ...
    assert not stack.plan().trades
    # ... and trades sized like its plan, accepting what the pools quote, are refused.
    trades = _planner_style_trades(stack, h)
    assert trades and trades[0][1] == stack.tokens[WBTC].address
    with ape.reverts("vault: slippage"):
        stack.vault.rebalance(trades, sender=keeper)


def test_rebalance__pool_pushed_far_from_oracle__reverts_slippage(drifted_once, keeper, attacker, h):
    """The oracle is right and the vault is due, but an attacker dumps WBTC into its pools first:
    the pools' WBTC price is 10% under the oracle when the keeper trades."""
    stack = drifted_once
    for i in (USDC, ETH, len(stack.tokens) - 1):
        wbtc, other = stack.tokens[WBTC], stack.tokens[i]
        r_wbtc, _ = stack.venue.get_reserves(wbtc, other)
        dump = r_wbtc * 11 // 200  # ~5.5% of the reserve: ~10% price move
        wbtc.mint(attacker, dump, sender=stack.owner)
        wbtc.approve(stack.venue, dump, sender=attacker)
        stack.venue.swap(wbtc, other, dump, 0, attacker, sender=attacker)
    trades = _planner_style_trades(stack, h)
    with ape.reverts("vault: slippage"):
        stack.vault.rebalance(trades, sender=keeper)
    assert not stack.plan().trades
