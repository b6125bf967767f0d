"""The Python trigger policies and volatility estimator agree with the vault, state by state."""

from math import isqrt

import pytest

from ballast.constants import WAD
from ballast.policy import VolEstimator, needs_rebalance

# (asset index, new price, seconds to wait) applied in sequence; each step is compared.
PATH = [
    (1, 61_000.0, 3_600),
    (2, 3_300.0, 7_200),
    (1, 72_000.0, 86_400),
    (3, 11.0, 3_000),
    (2, 2_400.0, 90_000),
    (0, 1.0, 86_400),
]


def refresh_feeds(stack, index, price):
    """Move one price and re-post the others, as live feeds do within their heartbeat."""
    for i, current in enumerate(stack.prices):
        stack.set_price(i, price if i == index else current)


def python_decision(stack, now):
    state = stack.state()
    vols = [isqrt(a.variance * WAD) for a in state.assets]
    return needs_rebalance(
        state.trigger_type,
        state.drifts,
        [a.band_bps for a in state.assets],
        [a.outer_band_bps for a in state.assets],
        now,
        state.last_rebalance,
        state.rebalance_interval,
        vols,
        state.vol_reference,
    )


@pytest.mark.parametrize("trigger", ["calendar", "threshold", "hybrid"])
def test_needs_rebalance__python_policy__matches_vault(make_stack, alice, attacker, chain, trigger):
    stack = make_stack(trigger=trigger, bands=[150, 150, 150, 150])
    stack.seed(alice)
    seen = set()
    for index, price, wait in PATH:
        chain.pending_timestamp += wait
        refresh_feeds(stack, index, price)
        stack.vault.observe(sender=attacker)
        chain.mine()
        now = chain.blocks.head.timestamp
        on_chain = tuple(stack.lens.needs_rebalance(stack.vault))
        assert python_decision(stack, now) == on_chain
        seen.add(on_chain)
    assert len(seen) >= 2, "the path must exercise both a due and a not-due state"


def test_observe__python_estimator__matches_vault_variance(lens, stack, alice, attacker, chain):
    stack.seed(alice)
    vault = stack.vault
    estimator = VolEstimator(lens.vol_reference(vault), lens.vol_alpha_bps(vault), lens.vol_min_interval(vault), 4)
    for index, price, wait in PATH:
        chain.pending_timestamp += wait
        refresh_feeds(stack, index, price)
        tx = vault.observe(sender=attacker)
        prices = [vault.price(a) for a in vault.get_assets()]
        recorded = estimator.observe(tx.timestamp, prices)
        assert recorded == (lens.last_observation(vault) == tx.timestamp)
        assert estimator.variances == [lens.variance(vault, a) for a in vault.get_assets()]
