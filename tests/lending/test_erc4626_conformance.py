"""ERC-4626 conformance, a16z-style (``a16z/erc4626-tests``): round trips never gain, previews match
what the calls do and round in the vault's favour, conversions are monotone.

Run with hypothesis (few examples, so it stays fast) against three implementations on the same
states: OpenZeppelin 5.0.2's ERC4626 (``OZ4626``), snekmate's ``erc4626`` module
(``Snekmate4626``), and the face Ballast lends into, ``MorphoSupplyVault`` over a real Morpho Blue
market. Each example starts from a state hypothesis draws (a first depositor, a gain donated to
the vault so the share price is not 1, an actor holding shares) in a chain snapshot, and every
property runs from that state in its own nested snapshot (:func:`isolated`; ape's
``chain.isolate()`` swallows exceptions, assertion errors included, so it cannot be used here).
"""

from __future__ import annotations

import os
from contextlib import contextmanager

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ballast.chain.morpho import MAX_UINT256

DECIMALS = 6
FUNDS = 2**128  # the actor's balance: any mint in range is affordable
AMOUNT = st.integers(1, 10**12)
# Each example is ~25 transactions and 11 snapshots (3-6 s on ape's test chain): 3 per
# implementation in `make test`; BALLAST_4626_EXAMPLES=50 for a longer run.
EXAMPLES = settings(
    max_examples=int(os.environ.get("BALLAST_4626_EXAMPLES", "3")),
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
    database=None,
)


@contextmanager
def isolated(chain):
    """Run the block, then restore the chain; unlike ``chain.isolate()``, failures propagate."""
    snapshot = chain.snapshot()
    try:
        yield
    finally:
        chain.restore(snapshot)


class Target:
    """One ERC-4626 implementation over ``asset``; ``gain`` raises its assets per share."""

    def __init__(self, name, vault, asset, gain):
        self.name, self.vault, self.asset, self._gain = name, vault, asset, gain

    def gain(self, amount, sender):
        if amount:
            self._gain(amount, sender)


@pytest.fixture(scope="module")
def targets(project, owner, make_morpho_market):
    asset = project.MockERC20.deploy("Asset", "AST", DECIMALS, sender=owner)
    oz = project.OZ4626.deploy(asset, 0, "OZ vault", "ozV", sender=owner)
    snek = project.Snekmate4626.deploy("Snekmate vault", "snkV", asset, sender=owner)

    def donate(vault):
        return lambda amount, sender: asset.transfer(vault, amount, sender=sender)

    market = make_morpho_market(loan_decimals=DECIMALS)

    def supply_for_vault(amount, sender):  # Morpho's books: a gain is supply credited to the vault
        market.loan.approve(market.morpho, MAX_UINT256, sender=sender)
        market.morpho.supply(market.params, amount, 0, market.vault, b"", sender=sender)

    return {
        "oz": Target("oz", oz, asset, donate(oz)),
        "snekmate": Target("snekmate", snek, asset, donate(snek)),
        "morpho": Target("morpho", market.vault, market.loan, supply_for_vault),
    }


def _fund(target, account, owner):
    target.asset.mint(account, FUNDS, sender=owner)
    target.asset.approve(target.vault, MAX_UINT256, sender=account)


def _deposit(t, actor, assets):
    """(assets spent, shares received) of ``deposit(assets)``, from balance deltas."""
    a0, s0 = t.asset.balanceOf(actor), t.vault.balanceOf(actor)
    t.vault.deposit(assets, actor, sender=actor)
    return a0 - t.asset.balanceOf(actor), t.vault.balanceOf(actor) - s0


def _mint(t, actor, shares):
    a0, s0 = t.asset.balanceOf(actor), t.vault.balanceOf(actor)
    t.vault.mint(shares, actor, sender=actor)
    return a0 - t.asset.balanceOf(actor), t.vault.balanceOf(actor) - s0


def _withdraw(t, actor, assets):
    """(assets received, shares burned) of ``withdraw(assets)``."""
    a0, s0 = t.asset.balanceOf(actor), t.vault.balanceOf(actor)
    t.vault.withdraw(assets, actor, actor, sender=actor)
    return t.asset.balanceOf(actor) - a0, s0 - t.vault.balanceOf(actor)


def _redeem(t, actor, shares):
    a0, s0 = t.asset.balanceOf(actor), t.vault.balanceOf(actor)
    t.vault.redeem(shares, actor, actor, sender=actor)
    return t.asset.balanceOf(actor) - a0, s0 - t.vault.balanceOf(actor)


def check_views(t, x, y):
    v = t.vault
    lo, hi = sorted((x, y))
    assert v.convertToShares(lo) <= v.convertToShares(hi), "convertToShares not monotone"
    assert v.convertToAssets(lo) <= v.convertToAssets(hi), "convertToAssets not monotone"
    assert v.previewDeposit(x) <= v.convertToShares(x), "previewDeposit rounds up"
    assert v.previewMint(x) >= v.convertToAssets(x), "previewMint rounds down"
    assert v.previewWithdraw(x) >= v.convertToShares(x), "previewWithdraw rounds down"
    assert v.previewRedeem(x) <= v.convertToAssets(x), "previewRedeem rounds up"


def check_calls(t, actor, x, chain):
    """Each property from the same state; ``x`` is an amount of assets or of shares."""
    v = t.vault
    held = v.balanceOf(actor)
    with isolated(chain):  # previewDeposit <= deposit
        preview = v.previewDeposit(x)
        assert preview <= _deposit(t, actor, x)[1]
    with isolated(chain):  # mint pulls at most previewMint
        preview = v.previewMint(x)
        spent, got = _mint(t, actor, x)
        assert got == x and spent <= preview
    with isolated(chain):  # withdraw burns at most previewWithdraw
        assets = min(x, v.maxWithdraw(actor))
        preview = v.previewWithdraw(assets)
        got, burned = _withdraw(t, actor, assets)
        assert got == assets and burned <= preview
    with isolated(chain):  # redeem pays at least previewRedeem
        shares = min(x, held)
        preview = v.previewRedeem(shares)
        assert _redeem(t, actor, shares)[0] >= preview
    # Round trips: the actor never ends with more than it started.
    with isolated(chain):  # deposit -> redeem
        _, shares = _deposit(t, actor, x)
        assert _redeem(t, actor, shares)[0] <= x
    with isolated(chain):  # deposit -> withdraw the same assets
        _, shares = _deposit(t, actor, x)
        assert _withdraw(t, actor, x)[1] >= shares
    with isolated(chain):  # mint -> redeem the same shares
        spent, _ = _mint(t, actor, x)
        assert _redeem(t, actor, x)[0] <= spent
    with isolated(chain):  # mint -> withdraw what it cost
        spent, _ = _mint(t, actor, x)
        assert _withdraw(t, actor, spent)[1] >= x
    with isolated(chain):  # redeem -> deposit what it paid
        shares = min(x, held)
        paid, _ = _redeem(t, actor, shares)
        assert _deposit(t, actor, paid)[1] <= shares
    with isolated(chain):  # withdraw -> mint the shares it burned
        assets = min(x, v.maxWithdraw(actor))
        _, burned = _withdraw(t, actor, assets)
        assert _mint(t, actor, burned)[0] >= assets


@pytest.mark.parametrize("name", ["oz", "snekmate", "morpho"])
@EXAMPLES
@given(seed=AMOUNT, gain=st.integers(0, 10**12), x=AMOUNT, y=AMOUNT)
def test_erc4626__a16z_properties__hold(targets, name, owner, alice, bob, chain, seed, gain, x, y):
    t = targets[name]
    with isolated(chain):
        for account in (alice, bob):
            _fund(t, account, owner)
        t.vault.deposit(seed, alice, sender=alice)
        t.gain(gain, alice)
        t.vault.deposit(10**13, bob, sender=bob)  # bob holds shares worth more than any x
        check_views(t, x, y)
        check_calls(t, bob, x, chain)
