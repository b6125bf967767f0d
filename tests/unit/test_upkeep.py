"""RebalanceUpkeep: Chainlink Automation's check and perform over a vault's DutchAuction.

`checkUpkeep` answers (True, abi(action)) with action 1 open, 2 close, 3 observe, or
(False, reason); `performUpkeep` re-checks and acts, so a second call reverts with the reason.
Automation's limits: check within 10M gas, perform within 5M, performData <= 2,000 bytes.
"""

import ape
import pytest
from eth_abi import decode, encode

from ballast.auction import DEFAULT_PARAMS, deploy_auction
from ballast.constants import ROLE_KEEPER
from ballast.spec import feed_answer

WBTC, ETH = 1, 2
OPEN, CLOSE, OBSERVE = 1, 2, 3
CHECK_GAS_LIMIT, PERFORM_GAS_LIMIT, PERFORM_DATA_LIMIT = 10_000_000, 5_000_000, 2_000


@pytest.fixture(scope="module")
def env(make_stack, project, owner, alice, lens):
    stack = make_stack()
    stack.seed(alice)
    stack.vault.set_limits(stack.limits(cooldown=0), sender=owner)
    stack.auction = deploy_auction(project, owner, stack.vault, lens)
    stack.upkeep = project.RebalanceUpkeep.deploy(stack.auction, sender=owner)
    stack.vault.set_role(stack.upkeep, ROLE_KEEPER, sender=owner)
    return stack


def check(stack):
    needed, data = stack.upkeep.checkUpkeep(b"")
    return needed, bytes(data)


def action(data):
    return decode(["uint256"], data)[0]


def test_deploy__zero_auction__reverts(project, owner):
    with ape.reverts("upkeep: zero address"):
        project.RebalanceUpkeep.deploy("0x0000000000000000000000000000000000000000", sender=owner)


def test_deploy__reads_the_auction_vault(env):
    assert (env.upkeep.AUCTION(), env.upkeep.VAULT()) == (env.auction.address, env.vault.address)


def test_check__nothing_due__false_with_reason(env):
    assert check(env) == (False, b"not due")


def test_perform__nothing_due__reverts_with_reason(env, alice):
    with ape.reverts("upkeep: not due"):
        env.upkeep.performUpkeep(encode(["uint256"], [OPEN]), sender=alice)


def test_check_and_perform__trigger_holds__opens_then_second_call_reverts(env, alice):
    env.set_price(WBTC, 84_000.0)
    needed, data = check(env)
    assert needed and action(data) == OPEN and len(data) <= PERFORM_DATA_LIMIT
    tx = env.upkeep.performUpkeep(data, sender=alice)  # anyone may send it
    assert tx.events.filter(env.upkeep.UpkeepPerformed)[0].action == OPEN
    assert tx.events.filter(env.auction.AuctionOpened)[0].opener == env.upkeep.address
    assert env.auction.is_open()
    assert check(env) == (False, b"auction open")
    with ape.reverts("upkeep: auction open"):
        env.upkeep.performUpkeep(data, sender=alice)
    assert env.auction.auction_id() == 1


def test_check_and_perform__ttl_passed__closes(env, alice, chain):
    env.set_price(WBTC, 84_000.0)
    env.upkeep.performUpkeep(encode(["uint256"], [OPEN]), sender=alice)
    chain.pending_timestamp = int(env.auction.opened_at()) + DEFAULT_PARAMS["ttl"] + 1
    chain.mine()
    needed, data = check(env)
    assert needed and action(data) == CLOSE
    tx = env.upkeep.performUpkeep(data, sender=alice)
    assert tx.events.filter(env.auction.AuctionClosed)[0].reason == "expired"
    # Still due and the keeper role skips the launcher window: the next check reopens.
    assert action(check(env)[1]) == OPEN


def test_check__trigger_gone_while_open__closes(env, alice):
    env.set_price(WBTC, 84_000.0)
    env.upkeep.performUpkeep(encode(["uint256"], [OPEN]), sender=alice)
    env.set_price(WBTC, 60_000.0)
    needed, data = check(env)
    assert needed and action(data) == CLOSE
    tx = env.upkeep.performUpkeep(data, sender=alice)
    assert tx.events.filter(env.auction.AuctionClosed)[0].reason == "trigger gone"


def test_perform__other_action_than_due__reverts(env, alice):
    env.set_price(WBTC, 84_000.0)
    with ape.reverts("upkeep: action changed"):
        env.upkeep.performUpkeep(encode(["uint256"], [CLOSE]), sender=alice)


@pytest.mark.parametrize("case", ["cooldown", "paused", "stale", "broken feed", "launcher window", "dust"])
def test_check__blocked__false_with_readable_reason(env, owner, guardian, chain, case, project, lens):
    env.set_price(WBTC, 84_000.0)
    upkeep = env.upkeep
    expected = case.encode()
    if case == "cooldown":
        env.vault.set_limits(env.limits(cooldown=30 * 86_400), sender=owner)
    elif case == "paused":
        env.vault.pause(sender=guardian)
    elif case == "stale":
        env.feeds[ETH].set_round(feed_answer(3_000.0, 8), chain.pending_timestamp - 2 * 86_400, sender=owner)
        expected = b"pricing: stale"
    elif case == "broken feed":
        env.feeds[ETH].set_reverting(True, sender=owner)
        expected = b"feed: broken"
    elif case == "launcher window":
        env.vault.set_role(upkeep, 0, sender=owner)  # without the keeper role it waits like anyone
    else:
        dust_auction = deploy_auction(project, owner, env.vault, lens, min_lot_usd=10**9 * 10**18)
        upkeep = project.RebalanceUpkeep.deploy(dust_auction, sender=owner)
        env.vault.set_role(upkeep, ROLE_KEEPER, sender=owner)
    needed, data = upkeep.checkUpkeep(b"")
    assert (needed, bytes(data)) == (False, expected)


def test_check_and_perform__hybrid_observation_due__observes(make_stack, project, owner, alice, lens, chain):
    stack = make_stack(trigger="hybrid")
    stack.seed(alice)
    auction = deploy_auction(project, owner, stack.vault, lens)
    upkeep = project.RebalanceUpkeep.deploy(auction, sender=owner)
    stack.vault.set_role(upkeep, ROLE_KEEPER, sender=owner)
    needed, data = upkeep.checkUpkeep(b"")
    assert needed and action(bytes(data)) == OBSERVE
    tx = upkeep.performUpkeep(bytes(data), sender=alice)
    assert tx.events.filter(stack.vault.Observed)
    assert lens.last_observation(stack.vault) == tx.timestamp
    assert bytes(upkeep.checkUpkeep(b"")[1]) == b"not due"
    with ape.reverts("upkeep: not due"):
        upkeep.performUpkeep(bytes(data), sender=alice)


def test_limits__eight_asset_vault__check_and_perform_within_automation_limits(
    make_stack, project, owner, alice, lens, keeper
):
    """The largest basket (MAX_ASSETS = 8) with seven lots: check's and perform's gas from
    receipts (the registry simulates check as a call), performData's length."""
    n = 8
    weights = [1_250] * n
    stack = make_stack(
        decimals=(6, 8, 18, 18, 6, 8, 18, 18), prices=(1.0, 60_000.0, 3_000.0, 15.0) * 2, weights=weights
    )
    stack.seed(alice)
    stack.vault.set_limits(stack.limits(cooldown=0), sender=owner)
    auction = deploy_auction(project, owner, stack.vault, lens)
    upkeep = project.RebalanceUpkeep.deploy(auction, sender=owner)
    stack.vault.set_role(upkeep, ROLE_KEEPER, sender=owner)
    stack.set_price(1, 90_000.0)  # one asset 50 % up: seven deficits
    needed, data = upkeep.checkUpkeep(b"")
    assert needed and len(bytes(data)) <= PERFORM_DATA_LIMIT
    # Sent as a transaction (it changes nothing) to read its gas from a receipt.
    check_gas = upkeep.checkUpkeep.transact(b"", sender=alice).gas_used
    assert upkeep.checkUpkeep(b"")[0]
    tx = upkeep.performUpkeep(bytes(data), sender=alice)
    assert auction.lot_count() == n - 1
    assert check_gas < CHECK_GAS_LIMIT and tx.gas_used < PERFORM_GAS_LIMIT
    print(f"8 assets: checkUpkeep {check_gas:,} gas, performUpkeep (open, 7 lots) {tx.gas_used:,} gas")


def test_checker__gelato_shape__reason_then_calldata_that_performs(env, alice):
    can_exec, payload = env.upkeep.checker()
    assert (can_exec, bytes(payload)) == (False, b"not due")
    env.set_price(WBTC, 84_000.0)
    can_exec, payload = env.upkeep.checker()
    payload = bytes(payload)
    assert can_exec and payload == bytes(env.upkeep.performUpkeep.encode_input(encode(["uint256"], [OPEN])))
    alice.transfer(env.upkeep, 0, data=payload)  # the payload as Gelato sends it: raw calldata
    assert env.auction.is_open() and env.auction.auction_id() == 1
