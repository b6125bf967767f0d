"""Set Protocol v2, the peer, deployed from its own artifacts beside Ballast over the same tokens
and Uniswap V2 pairs: issuance, redemption, and a rebalance by its GeneralIndexModule."""

import pytest

from ballast.peers import set_protocol
from ballast.venues import uniswap_v2

SET_PRICE_USD = 100.0
USDC, WBTC, WETH, LINK = range(4)


@pytest.fixture(scope="module")
def v2(make_stack):
    return make_stack(venue_kind="uniswap_v2")


@pytest.fixture(scope="module")
def factory(v2):
    return uniswap_v2.container("UniswapV2Factory").at(v2.venue.factory())


@pytest.fixture(scope="module")
def system(v2, owner, factory):
    return set_protocol.deploy_system(owner, factory, v2.tokens[WETH])


@pytest.fixture(scope="module")
def set_token(v2, owner, system):
    assets = v2.spec.assets
    units = set_protocol.units_for(
        [a.target_bps / 10_000 for a in assets], [a.price for a in assets], [a.decimals for a in assets], SET_PRICE_USD
    )
    return set_protocol.create_set(system, v2.tokens, units, owner)


def _fund(v2, account, set_token, quantity):
    for token, address in zip(v2.tokens, set_token.getComponents()):
        assert token.address == address
        unit = int(set_token.getDefaultPositionRealUnit(address))
        token.mint(account, -(-unit * quantity // 10**18), sender=v2.owner)


def test_create_set__components_and_units_as_given(v2, set_token):
    assert list(set_token.getComponents()) == [t.address for t in v2.tokens]
    assert int(set_token.getDefaultPositionRealUnit(v2.tokens[USDC])) == 40 * 10**6  # $40 of $100


def test_issue_then_redeem__pays_and_returns_the_units(v2, system, set_token, alice):
    quantity = 10 * 10**18
    _fund(v2, alice, set_token, quantity)
    set_protocol.issue(system, set_token, quantity, alice, v2.tokens)
    assert set_token.balanceOf(alice) == quantity
    assert all(t.balanceOf(alice) == 0 for t in v2.tokens)
    set_protocol.redeem(system, set_token, quantity, alice)
    assert set_token.balanceOf(alice) == 0
    assert v2.tokens[USDC].balanceOf(alice) == 400 * 10**6


def test_rebalance_after_rally__every_component_reaches_its_target(v2, system, set_token, factory, owner, alice):
    quantity = 10_000 * 10**18  # $1M
    _fund(v2, alice, set_token, quantity)
    set_protocol.issue(system, set_token, quantity, alice, v2.tokens)
    v2.move_price(WBTC, 84_000.0, owner)
    prices = [a.price for a in v2.spec.assets]
    prices[WBTC] = 84_000.0
    held = [int(set_token.getDefaultPositionRealUnit(t)) for t in v2.tokens]
    value = sum(u * p / 10**a.decimals for u, p, a in zip(held, prices, v2.spec.assets))
    targets = set_protocol.units_for(
        [a.target_bps / 10_000 for a in v2.spec.assets], prices, [a.decimals for a in v2.spec.assets], value
    )
    result = set_protocol.rebalance(system, set_token, targets, owner, factory)
    assert result.trades == 3  # USDC, WBTC and LINK against WETH
    after = [int(set_token.getDefaultPositionRealUnit(t)) for t in v2.tokens]
    for i in (USDC, WBTC, LINK):
        assert abs(after[i] - targets[i]) * 1_000 <= targets[i], (i, after[i], targets[i])
    assert result.trade_gas > 0
