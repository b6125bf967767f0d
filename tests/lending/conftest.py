"""Fixtures for the lending tests: a real Morpho Blue market with an ERC-4626 supply vault over it.

Builders are session-scoped (one Morpho Blue per session); ape's isolation restores the chain
around every test, so each test starts from the market as the fixture left it.
"""

from __future__ import annotations

import pytest

from ballast.chain.morpho import deploy_market, deploy_morpho

USDC = 10**6
WETH = 10**18
WETH_PRICE = 3_000  # USDC per WETH


@pytest.fixture(scope="session")
def lender(accounts):
    return accounts[6]


@pytest.fixture(scope="session")
def borrower(accounts):
    return accounts[7]


@pytest.fixture(scope="session")
def liquidator(accounts):
    return accounts[8]


@pytest.fixture(scope="session")
def morpho_blue(project, owner):
    """Morpho Blue (``@morpho-org/morpho-blue@1.0.0``) and its mock rate model: ``(morpho, irm)``."""
    return deploy_morpho(project, owner)


@pytest.fixture(scope="session")
def make_morpho_market(project, owner, morpho_blue):
    """Builder: ``make_morpho_market(loan_decimals=6, collateral_decimals=18, price=3000, cap=None)``
    creates a USDC-like/WETH-like market on the session's Morpho Blue and a 4626 vault over it."""
    morpho, irm = morpho_blue

    def build(loan_decimals=6, collateral_decimals=18, price=WETH_PRICE, cap=None, **kwargs):
        loan = project.MockERC20.deploy("Loan", "LOAN", loan_decimals, sender=owner)
        collateral = project.MockERC20.deploy("Collateral", "COLL", collateral_decimals, sender=owner)
        return deploy_market(project, owner, loan, collateral, price, cap=cap, morpho=morpho, irm=irm, **kwargs)

    return build


@pytest.fixture(scope="session")
def morpho_market(make_morpho_market):
    """A 6-decimal loan token against an 18-decimal collateral at 3,000, LLTV 86 %, no cap."""
    return make_morpho_market()


@pytest.fixture
def supplied_market(morpho_market, lender):
    """The market with 1,000,000 loan tokens deposited by ``lender`` through the 4626 vault."""
    morpho_market.deposit(lender, 1_000_000 * USDC)
    return morpho_market
