"""The keeper path's read is one block's state: the lens's snapshot and every venue's pools are
read at the same block, so blocks mined between the calls (or after) change nothing it returns."""

import pytest

from ballast import keeper as keeper_path
from ballast.chain.market import snapshot_market
from ballast.chain.pinned import AtBlock, at_block
from ballast.chain.state import read_state


@pytest.mark.parametrize("kind", ["uniswap_v2", "uniswap_v3", "balancer"])
def test_read__state_and_pools_at_one_block__later_blocks_change_nothing_read(
    make_stack, alice, attacker, lens, chain, project, kind
):
    stack = make_stack(venue_kind=kind)
    stack.seed(alice)
    head = chain.blocks.height
    state, market = keeper_path.read(
        stack.vault, [stack.venue], stack.tokens, project.MockERC20.at, chain.pending_timestamp, lens
    )
    assert state.block == head and market.pools
    # WBTC +50%: a new oracle round, and arbitrage swaps that move every pool holding WBTC.
    stack.move_price(1, 90_000.0, attacker)
    assert chain.blocks.height > head
    pinned_pools = snapshot_market([stack.venue], stack.tokens, block=head).pools
    latest_pools = snapshot_market([stack.venue], stack.tokens).pools
    assert pinned_pools == market.pools
    assert latest_pools != market.pools
    pinned = read_state(stack.vault, project.MockERC20.at, state.timestamp, None, lens, block=head)
    assert [a.price for a in pinned.assets] == [a.price for a in state.assets]
    assert pinned.assets[1].price != stack.state().assets[1].price


def test_at_block__calls_take_the_block_attributes_pass_through(seeded, alice, chain):
    token = seeded.tokens[0]
    head = chain.blocks.height
    before = token.balanceOf(alice)
    token.mint(alice, 5, sender=seeded.owner)
    pinned = at_block(token, head)
    assert isinstance(pinned, AtBlock) and pinned.address == token.address
    assert pinned.balanceOf(alice) == before and token.balanceOf(alice) == before + 5
    assert at_block(token, None) is token
