"""rebalance(): the success path, its event, and every revert reason."""

import ape
import pytest

from ballast.constants import BPS_TO_WAD


@pytest.fixture
def drifted(seeded, keeper, attacker, chain):
    """WBTC rallies 40%: it is overweight beyond its band and the trigger holds."""
    seeded.move_price(1, 84_000.0, attacker)
    chain.pending_timestamp += 3_601
    return seeded


def test_rebalance__planned_trades__reduce_drift_and_emit(lens, drifted, keeper):
    vault = drifted.vault
    due, reason = lens.needs_rebalance(vault)
    assert due and reason == "threshold"
    before = lens.max_drift(vault)
    plan = drifted.plan()
    assert plan.trades, plan.reason
    tx = vault.rebalance([t.as_tuple() for t in plan.trades], sender=keeper)
    after = lens.max_drift(vault)
    assert after < before
    assert after < 300 * BPS_TO_WAD  # inside the 3% band
    events = tx.events.filter(vault.Rebalanced)
    assert len(events) == 1
    ev = events[0]
    assert ev.reason == "threshold"
    assert ev.total_drift_after < ev.total_drift_before
    assert ev.cost * 10_000 <= ev.value_before * lens.max_cost_bps(vault)
    assert len(tx.events.filter(vault.TradeExecuted)) == len(plan.trades)
    assert lens.last_rebalance(vault) == tx.timestamp


def test_rebalance__not_keeper__reverts(drifted, alice):
    plan = drifted.plan()
    with ape.reverts("vault: not keeper"):
        drifted.vault.rebalance([t.as_tuple() for t in plan.trades], sender=alice)


def test_needs_rebalance__empty_vault__not_due(stack):
    assert tuple(stack.lens.needs_rebalance(stack.vault)) == (False, "")
