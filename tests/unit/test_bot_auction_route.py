"""The keeper bot's route: with a DutchAuction, a due state goes to the cheaper route under the
same once-per-state claim; an opened auction is never opened twice, and the bot waits for its fills."""

import logging

from test_route import _rallied_with_auction

from ballast.bot import SENT, SKIP, WAIT, KeeperLoop
from ballast.chain.erc20 import token_at


def _loop(stack, keeper, gas_gwei):
    return KeeperLoop(
        stack.vault,
        keeper,
        [stack.venue],
        token_at=token_at,
        lens=stack.lens,
        auction=stack.auction,
        gas_price_wei=gas_gwei * 10**9,
        eth_usd=3_000 * 10**18,
        logger=logging.getLogger("test.bot.auction"),
    )


def test_bot_route__auction_cheaper__opens_it_once_then_waits_for_fills(
    make_stack, project, owner, alice, keeper, lens, chain
):
    stack = _rallied_with_auction(make_stack, project, owner, alice, lens, chain, fee_bps=100, depth_usd=20_000_000)
    balances = [stack.vault.balances(t) for t in stack.tokens]
    loop = _loop(stack, keeper, gas_gwei=1)
    first = loop.on_block(chain.blocks.head)
    assert first.action == SENT and "route: auction (auction:" in first.reason and "opened auction 1" in first.reason
    assert stack.auction.is_open() and [stack.vault.balances(t) for t in stack.tokens] == balances
    chain.mine()
    second = loop.on_block(chain.blocks.head)  # same vault state: the ledger holds it
    assert second.action == SKIP and "already sent" in second.reason
    third = _loop(stack, keeper, gas_gwei=1).on_block(chain.blocks.head)  # a fresh process, no ledger
    assert third.action == WAIT and third.reason == "an auction is open: its fills rebalance the vault"
    assert int(stack.auction.auction_id()) == 1


def test_bot_route__pools_cheaper__rebalances_and_opens_nothing(make_stack, project, owner, alice, keeper, lens, chain):
    stack = _rallied_with_auction(make_stack, project, owner, alice, lens, chain, fee_bps=30)
    drift = stack.lens.max_drift(stack.vault)
    outcome = _loop(stack, keeper, gas_gwei=50).on_block(chain.blocks.head)
    assert outcome.action == SENT and "Rebalanced" in outcome.reason
    assert int(stack.auction.auction_id()) == 0 and stack.lens.max_drift(stack.vault) < drift
