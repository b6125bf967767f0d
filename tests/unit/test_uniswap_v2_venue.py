"""UniswapV2Venue against the real Uniswap V2 factory and pairs (``@uniswap/v2-core@1.0.1``'s
bytecode), and a vault rebalancing through it."""

import ape
import pytest

from ballast.venues import amm, uniswap_v2

USDC, WBTC, ETH = 0, 1, 2


@pytest.fixture(scope="module")
def v2(make_stack):
    return make_stack(venue_kind="uniswap_v2")


@pytest.fixture(scope="module")
def pusher(project, v2):
    """Sends a swap as the vault does: input to the payee (the pair), then ``swap``, in one transaction."""
    return project.PushSwapper.deploy(sender=v2.owner)


@pytest.fixture
def trader(accounts, v2, pusher):
    trader = accounts[6]
    for token in v2.tokens:
        token.mint(trader, 10**30, sender=v2.owner)
        token.approve(pusher, 2**256 - 1, sender=trader)
    return trader


def test_pair_init_code_hash__is_the_routers_constant():
    """Router02 hard-codes this hash; a factory deployed from the artifact must match it."""
    assert uniswap_v2.pair_init_code_hash().hex() == "96e8ac4277198ff8b6f785478aa9a39f403cb768dd02cbee326c3e7da348845f"


def test_pair_for__equals_the_factorys_pair(v2):
    factory = uniswap_v2.container("UniswapV2Factory").at(v2.venue.factory())
    for a, b in ((0, 1), (1, 0), (2, 3)):
        assert v2.venue.pair_for(v2.tokens[a], v2.tokens[b]) == factory.getPair(v2.tokens[a], v2.tokens[b])


def test_swap__output_equals_pair_math_and_planner_quote__to_the_wei(v2, trader, pusher):
    token_in, token_out = v2.tokens[WBTC], v2.tokens[USDC]
    amount = 3 * 10**8
    r_in, r_out = (int(r) for r in v2.venue.get_reserves(token_in, token_out))
    expected = amm.amount_out(amount, r_in, r_out, int(v2.venue.fee_bps()))
    assert v2.venue.get_amount_out(token_in, token_out, amount) == expected
    before = token_out.balanceOf(trader)
    tx = pusher.swap(v2.venue, token_in, token_out, amount, expected, trader, sender=trader)
    assert token_out.balanceOf(trader) - before == expected
    assert v2.venue.get_reserves(token_in, token_out) == (r_in + amount, r_out - expected)
    event = tx.events.filter(v2.venue.Swap)[0]
    assert (event.sender, event.token_in, event.token_out) == (pusher.address, token_in.address, token_out.address)
    assert (event.amount_in, event.amount_out, event.receiver) == (amount, expected, trader.address)


def test_swap__both_directions_of_a_pair(v2, trader, pusher):
    a, b = v2.tokens[ETH], v2.tokens[WBTC]
    for token_in, token_out, amount in ((a, b, 10**18), (b, a, 10**6)):
        quote = v2.venue.get_amount_out(token_in, token_out, amount)
        before = token_out.balanceOf(trader)
        pusher.swap(v2.venue, token_in, token_out, amount, quote, trader, sender=trader)
        assert token_out.balanceOf(trader) - before == quote > 0


def test_payee__is_the_pair_and_empty_without_one(project, v2, owner):
    stranger = project.MockERC20.deploy("X", "X", 18, sender=owner)
    assert v2.venue.payee(v2.tokens[ETH], v2.tokens[USDC]) == v2.venue.pair_for(v2.tokens[ETH], v2.tokens[USDC])
    assert v2.venue.payee(stranger, v2.tokens[USDC]) == "0x" + "00" * 20


def test_swap__pushed_input__sells_exactly_it_and_adapter_holds_nothing(v2, trader, pusher):
    token_in, token_out = v2.tokens[ETH], v2.tokens[USDC]
    before = token_in.balanceOf(trader)
    pusher.swap(v2.venue, token_in, token_out, 10**18, 0, trader, sender=trader)
    assert before - token_in.balanceOf(trader) == 10**18
    assert token_in.balanceOf(v2.venue) == token_out.balanceOf(v2.venue) == 0
    assert token_in.allowance(v2.vault, v2.venue) == 0


def test_swap__fee_on_transfer_input__prices_what_the_pair_received(project, v2, owner, trader, pusher):
    """The pair is paid 1 % less than ``amount_in``; the output is that of what arrived."""
    fot = project.FeeOnTransferToken.deploy("F", "F", 18, 100, sender=owner)
    fot.mint(trader, 10**24, sender=owner)
    fot.approve(pusher, 2**256 - 1, sender=trader)
    fot.mint(owner, 10**24, sender=owner)
    v2.tokens[USDC].mint(owner, 10**12, sender=owner)
    factory = uniswap_v2.container("UniswapV2Factory").at(v2.venue.factory())
    uniswap_v2.add_liquidity(factory, fot, v2.tokens[USDC], 10**22, 10**10, owner)
    r_in, r_out = (int(r) for r in v2.venue.get_reserves(fot, v2.tokens[USDC]))
    arrived = 10**20 - 10**20 // 100
    tx = pusher.swap(v2.venue, fot, v2.tokens[USDC], 10**20, 0, trader, sender=trader)
    event = tx.events.filter(v2.venue.Swap)[0]
    assert (event.amount_in, event.amount_out) == (arrived, amm.amount_out(arrived, r_in, r_out, 30))


def test_swap__receiver__gets_the_output(v2, trader, bob, pusher):
    token_in, token_out = v2.tokens[ETH], v2.tokens[USDC]
    quote = v2.venue.get_amount_out(token_in, token_out, 10**18)
    pusher.swap(v2.venue, token_in, token_out, 10**18, quote, bob, sender=trader)
    assert token_out.balanceOf(bob) == quote


def test_swap__min_out_one_above_quote__reverts(v2, trader, pusher):
    token_in, token_out = v2.tokens[ETH], v2.tokens[USDC]
    quote = v2.venue.get_amount_out(token_in, token_out, 10**18)
    with ape.reverts("uniswap_v2: insufficient output"):
        pusher.swap(v2.venue, token_in, token_out, 10**18, quote + 1, trader, sender=trader)


def test_swap__zero_amount__reverts(v2, trader, pusher):
    with ape.reverts("uniswap_v2: zero amount"):
        pusher.swap(v2.venue, v2.tokens[ETH], v2.tokens[USDC], 0, 0, trader, sender=trader)


def test_swap__dust_with_zero_output__reverts(v2, trader, pusher):
    with ape.reverts("uniswap_v2: zero output"):
        pusher.swap(v2.venue, v2.tokens[USDC], v2.tokens[WBTC], 1, 0, trader, sender=trader)


def test_swap__no_pair__reverts_and_views_return_zero(project, v2, trader, owner):
    stranger = project.MockERC20.deploy("X", "X", 18, sender=owner)
    assert v2.venue.get_reserves(stranger, v2.tokens[USDC]) == (0, 0)
    assert v2.venue.get_amount_out(stranger, v2.tokens[USDC], 10**18) == 0
    with ape.reverts("uniswap_v2: no pair"):
        v2.venue.swap(stranger, v2.tokens[USDC], 10**18, 0, trader, sender=trader)


def test_deploy__zero_factory__reverts(project, owner):
    with ape.reverts("uniswap_v2: zero factory"):
        project.UniswapV2Venue.deploy("0x" + "00" * 20, uniswap_v2.pair_init_code_hash(), sender=owner)


def test_rebalance__through_v2_pairs__fills_exactly_as_planned(v2, alice, keeper, accounts, chain):
    """The planner's snapshot of the real pairs predicts every fill to the wei."""
    v2.rebalance_after_rally(alice, keeper, accounts[7], chain)


# ---- PushSwapper: the arbitrageur's and the tests' way of trading as the vault does


def test_push_swapper_swap_many__sends_each_swap_in_order_in_one_transaction(v2, trader, pusher):
    """The second swap sells what the first bought: each input is pulled when its swap is sent."""
    eth, usdc, wbtc = v2.tokens[ETH], v2.tokens[USDC], v2.tokens[WBTC]
    first = amm.amount_out(10**18, *(int(r) for r in v2.venue.get_reserves(eth, usdc)), 30)
    r_usdc, r_wbtc = (int(r) for r in v2.venue.get_reserves(usdc, wbtc))
    second = amm.amount_out(first, r_usdc, r_wbtc, 30)
    usdc.transfer(v2.owner, usdc.balanceOf(trader), sender=trader)  # the second swap can only sell the first's output
    before = wbtc.balanceOf(trader)
    tx = pusher.swap_many(
        [(v2.venue, eth, usdc, 10**18, first), (v2.venue, usdc, wbtc, first, second)], trader, sender=trader
    )
    assert wbtc.balanceOf(trader) - before == second
    assert usdc.balanceOf(trader) == 0
    swaps = tx.events.filter(v2.venue.Swap)
    assert [(e.token_in, e.amount_in, e.amount_out) for e in swaps] == [
        (eth.address, 10**18, first),
        (usdc.address, first, second),
    ]


def test_push_swapper_swap_many__one_failing_swap__reverts_them_all(v2, trader, pusher):
    eth, usdc = v2.tokens[ETH], v2.tokens[USDC]
    quote = int(v2.venue.get_amount_out(eth, usdc, 10**18))
    before = eth.balanceOf(trader)
    with ape.reverts("uniswap_v2: insufficient output"):
        pusher.swap_many(
            [(v2.venue, eth, usdc, 10**18, quote), (v2.venue, eth, usdc, 10**18, 2**200)], trader, sender=trader
        )
    assert eth.balanceOf(trader) == before


def test_push_swapper__venue_without_a_pool__reverts(project, v2, owner, trader, pusher):
    stranger = project.MockERC20.deploy("X", "X", 18, sender=owner)
    stranger.mint(trader, 10**18, sender=owner)
    stranger.approve(pusher, 2**256 - 1, sender=trader)
    with ape.reverts("push: venue has no pool"):
        pusher.swap(v2.venue, stranger, v2.tokens[USDC], 10**18, 0, trader, sender=trader)
    with ape.reverts("push: venue has no pool"):
        pusher.swap_many([(v2.venue, stranger, v2.tokens[USDC], 10**18, 0)], trader, sender=trader)
