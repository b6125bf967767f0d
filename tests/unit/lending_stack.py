"""Shared builder of the lending tests: the default seeded vault with a ``LendingSleeve`` and a
snekmate ERC-4626 market with failure switches (contracts/test/HostileMarket.vy) for USDC and for
WETH, each with another supplier's deposit so that the market has depth of its own. The fixtures
``lending`` and ``lent`` (tests/unit/conftest.py) build on it."""

from __future__ import annotations

from ballast.chain.deploy import deploy_sleeve
from ballast.constants import MAX_BPS

USDC, WBTC, WETH = 0, 1, 2
LENT_ASSETS = (USDC, WETH)
RISE_BPS = 2_000  # the counted rate may rise 20 % a year at most
MAX_LOSS_BPS = 100
BUFFER_BPS = 2_000

# HostileMarket's switches (``set_mode``), combinable.
NO_LIQUIDITY, REVERT_REDEEM, REVERT_TRANSFER, REVERT_RATE, BURN_GAS, FAKE_REDEEM = 1, 2, 4, 8, 16, 32


class Lending:
    """A stack with its sleeve and its markets (basket index => market)."""

    def __init__(self, stack, sleeve, markets):
        self.stack, self.vault, self.sleeve, self.markets = stack, stack.vault, sleeve, markets
        self.tokens = stack.tokens

    def lend(self, i, fraction_bps, keeper):
        """Lend ``fraction_bps`` of the vault's idle asset ``i``; returns the amount and the receipt."""
        amount = self.vault.balances(self.tokens[i]) * fraction_bps // MAX_BPS
        return amount, self.vault.lend(self.tokens[i], amount, sender=keeper)


def other_supplier(token, market, owner, amount):
    """Someone else's deposit, so that the market has depth of its own."""
    token.mint(owner, amount, sender=owner)
    token.approve(market, amount, sender=owner)
    market.deposit(amount, owner, sender=owner)


def add_lending(stack, project, owner) -> Lending:
    """A sleeve and a market each for USDC and WETH on ``stack``'s vault."""
    markets = {}
    for i in LENT_ASSETS:
        token = stack.tokens[i]
        markets[i] = project.HostileMarket.deploy(token, sender=owner)
        other_supplier(token, markets[i], owner, stack.vault.balances(token))
    sleeve = deploy_sleeve(
        project,
        owner,
        stack.vault,
        {stack.tokens[i]: m for i, m in markets.items()},
        BUFFER_BPS,
        RISE_BPS,
        MAX_LOSS_BPS,
    )
    return Lending(stack, sleeve, markets)
