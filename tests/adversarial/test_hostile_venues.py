"""Hostile venues: a whitelisted venue that misbehaves in each way a venue can.

The vault pushes the input to the venue's payee and grants no allowance, then measures its own
balances around the swap and checks the fill against the oracles, so each misbehaviour makes
the whole rebalance revert with a reason, and nothing moves. ``contracts/test/HostileVenue.vy``
is the double: one behaviour at a time, ``HONEST`` as the control.
"""

import ape
import pytest
from ape.exceptions import TransactionError

USDC, WBTC = 0, 1
ZERO = "0x" + "00" * 20


@pytest.fixture
def hostile(project, drifted, owner):
    venue = project.HostileVenue.deploy(sender=owner)
    drifted.vault.set_venue(venue, True, sender=owner)
    return venue


def _sell_wbtc(stack, venue, h, usd=20_000):
    """Sell ``usd`` of the overweight WBTC for USDC on ``venue``: a trade the vault would accept
    at a fair fill. Returns the trade and the fair USDC output (at the oracle, minus 0.3 %)."""
    amount = h.unit_amount(stack, WBTC, usd)
    fair = usd * 10**6 * 997 // 1000
    stack.tokens[USDC].mint(venue, 10 * fair, sender=stack.owner)
    return (venue.address, stack.tokens[WBTC].address, stack.tokens[USDC].address, amount, fair), fair


def _unchanged(stack):
    return [stack.vault.balances(t) for t in stack.tokens] + [t.balanceOf(stack.vault) for t in stack.tokens]


def test_rebalance__honest_double__fills(drifted, hostile, keeper, h):
    """The control: the same trade on the double in HONEST mode is accepted."""
    trade, fair = _sell_wbtc(drifted, hostile, h)
    hostile.configure(hostile.HONEST(), fair, ZERO, sender=keeper)
    usdc_before = drifted.vault.balances(drifted.tokens[USDC])
    drifted.vault.rebalance([trade], sender=keeper)
    assert drifted.vault.balances(drifted.tokens[USDC]) == usdc_before + fair
    assert drifted.tokens[WBTC].balanceOf(hostile) == trade[3]
    assert drifted.tokens[WBTC].allowance(drifted.vault, hostile) == 0


@pytest.mark.parametrize(
    "mode, reason",
    [
        ("KEEP_LESS", "vault: venue took wrong amount"),
        ("REPORT_MORE", "vault: output below minimum"),
        ("PAY_ELSEWHERE", "vault: output below minimum"),
        ("REVERT", "hostile: refused"),
        ("NO_PAYEE", "vault: venue has no pool"),
        ("TAKE_MORE", "erc20: insufficient allowance"),
    ],
)
def test_rebalance__hostile_venue__reverts_with_reason(drifted, hostile, keeper, bob, h, mode, reason):
    trade, fair = _sell_wbtc(drifted, hostile, h)
    hostile.configure(getattr(hostile, mode)(), fair, bob, sender=keeper)
    before = _unchanged(drifted)
    with ape.reverts(reason):
        drifted.vault.rebalance([trade], sender=keeper)
    assert _unchanged(drifted) == before


def test_rebalance__pays_elsewhere_with_no_min_out__reverts_slippage(drifted, hostile, keeper, bob, h):
    """With no min-out of its own, the oracle check still catches a venue that pays someone else."""
    trade, fair = _sell_wbtc(drifted, hostile, h)
    hostile.configure(hostile.PAY_ELSEWHERE(), fair, bob, sender=keeper)
    with ape.reverts("vault: slippage"):
        drifted.vault.rebalance([trade[:4] + (0,)], sender=keeper)


@pytest.mark.parametrize("mode", ["REENTER_REBALANCE", "REENTER_EXIT", "REENTER_VIEW"])
def test_rebalance__venue_reenters_vault__reverts_on_the_lock(drifted, hostile, keeper, h, mode):
    """Rebalance, exit and the priced views share the vault's lock: a venue cannot reenter
    them, nor read a half-settled state. Vyper's lock reverts without a reason string."""
    trade, fair = _sell_wbtc(drifted, hostile, h)
    hostile.configure(getattr(hostile, mode)(), fair, ZERO, sender=keeper)
    before = _unchanged(drifted)
    with ape.reverts() as info:
        drifted.vault.rebalance([trade], sender=keeper)
    assert info.value.revert_message == TransactionError.DEFAULT_MESSAGE
    assert _unchanged(drifted) == before
