"""Fixtures and helpers shared by the adversarial tests.

Everything is valued the way the vault values it: base units times the validated
oracle price (``vault.price``), divided by the token's scale, rounded down.
"""

from __future__ import annotations

from fractions import Fraction

import pytest

from ballast.constants import MAX_BPS

# Asset indices of the default stack (USDC-like 6 dec, WBTC-like 8, ETH-like 18, X 18).
USDC, WBTC, ETH, ALT = 0, 1, 2, 3
# WBTC rallies 40% from its 60k seed price: overweight by 7.5% against a 3% band.
RALLY_PRICE = 84_000.0


class Helpers:
    """Oracle-price accounting for tests (a fixture, so test files need no import path)."""

    RALLY_PRICE = RALLY_PRICE

    @staticmethod
    def value(stack, i, amount, roundup=False):
        """Oracle USD value (WAD) of ``amount`` base units of asset ``i``, rounded like the vault."""
        numerator = amount * stack.vault.price(stack.tokens[i])
        scale = 10 ** stack.spec.assets[i].decimals
        return -(-numerator // scale) if roundup else numerator // scale

    @classmethod
    def worth(cls, stack, amounts):
        """Oracle USD value (WAD) of a list of amounts in basket order."""
        return sum(cls.value(stack, i, a) for i, a in enumerate(amounts))

    @staticmethod
    def holdings(stack, account):
        return [int(t.balanceOf(account)) for t in stack.tokens]

    @classmethod
    def wallet_value(cls, stack, account):
        """Oracle value of every basket token ``account`` holds outside the vault."""
        return cls.worth(stack, cls.holdings(stack, account))

    @classmethod
    def claim_value(cls, stack, account):
        """Oracle value of what ``account`` would get by exiting all its shares now."""
        shares = stack.vault.balanceOf(account)
        return cls.worth(stack, list(stack.lens.preview_exit(stack.vault, shares))) if shares else 0

    @staticmethod
    def value_per_share(stack):
        """Exact oracle value per share (no rounding): total value of tracked balances / supply."""
        vault = stack.vault
        numerator = sum(
            Fraction(vault.balances(t) * vault.price(t), 10**a.decimals)
            for t, a in zip(stack.tokens, stack.spec.assets)
        )
        return numerator / vault.totalSupply()

    @staticmethod
    def arm(stack, account, amount=10**36):
        """Mint ``account`` a war chest of every token, far larger than any pool, and approve the venue."""
        for token in stack.tokens:
            token.mint(account, amount, sender=stack.owner)
            token.approve(stack.venue, 2**256 - 1, sender=account)

    @staticmethod
    def least_fill(stack, trade):
        """Smallest output that passes both the planned min-out and the vault's oracle slippage check."""
        token_out = stack.project.MockERC20.at(trade.token_out)
        price, scale = stack.vault.price(token_out), 10 ** token_out.decimals()
        floor_value = -(-trade.value_in * (MAX_BPS - stack.lens.max_slippage_bps(stack.vault)) // MAX_BPS)
        return max(trade.min_amount_out, -(-floor_value * scale // price))

    @staticmethod
    def trades(plan):
        return [t.as_tuple() for t in plan.trades]

    @staticmethod
    def unit_amount(stack, i, usd):
        """Base units of asset ``i`` worth ``usd`` dollars at its current oracle price."""
        return int(usd * 10**18) * 10 ** stack.spec.assets[i].decimals // stack.vault.price(stack.tokens[i])


@pytest.fixture(scope="session")
def h():
    return Helpers


@pytest.fixture(scope="session")
def arb(accounts):
    """An arbitrageur that keeps pools at oracle prices; never the account under test."""
    return accounts[7]


def _drift(stack, arb, chain):
    stack.move_price(WBTC, RALLY_PRICE, arb)
    chain.pending_timestamp += stack.lens.cooldown(stack.vault) + 1
    return stack


@pytest.fixture
def drifted(seeded, arb, chain):
    """WBTC rallies 40% (oracle and pools): overweight beyond its band, the trigger holds,
    the cooldown since deployment is over."""
    return _drift(seeded, arb, chain)


@pytest.fixture(scope="module")
def seeded_once(stack, alice):
    """``seeded`` built once per module (each test still starts from this snapshot).
    Do not mix with the function-scoped ``seeded``/``drifted`` in the same module."""
    stack.seed(alice)
    return stack


@pytest.fixture(scope="module")
def drifted_once(stack, alice, arb, chain):
    """``drifted`` built once per module; same caveat as ``seeded_once``."""
    stack.seed(alice)
    return _drift(stack, arb, chain)
