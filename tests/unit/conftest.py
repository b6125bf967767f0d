"""Fixtures shared by the unit tests beyond tests/conftest.py: a lending vault (lending_stack.py)."""

from __future__ import annotations

import pytest
from lending_stack import LENT_ASSETS, add_lending


@pytest.fixture
def lending(seeded, project, owner):
    """The default vault ($1M joined) with a sleeve and a market each for USDC and WETH."""
    return add_lending(seeded, project, owner)


@pytest.fixture
def lent(lending, keeper):
    """Half of the vault's USDC and WETH lent."""
    for i in LENT_ASSETS:
        lending.lend(i, 5_000, keeper)
    return lending
