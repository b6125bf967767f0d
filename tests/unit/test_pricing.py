"""pricing: feed normalisation, every answer rejection, and set_feed validation."""

import ape
import pytest
from ape.utils import ZERO_ADDRESS

from ballast.chain.deploy import feed_answer
from ballast.constants import MAX_BPS, WAD

MAX_UINT32 = 2**32 - 1
MAX_UINT128 = 2**128 - 1
MAX_FEED_DECIMALS = 18  # MAX_DECIMALS in constants.vy


@pytest.fixture
def feed_for(project, owner):
    """Deploys a fresh MockPriceFeed with ``decimals`` answering ``answer``."""

    def deploy(decimals, answer):
        return project.MockPriceFeed.deploy(decimals, answer, sender=owner)

    return deploy


def heartbeat(stack, i=0):
    return stack.spec.assets[i].heartbeat


# ---------------------------------------------------------------- normalisation


@pytest.mark.parametrize("feed_decimals", [6, 8, 18])
@pytest.mark.parametrize("i", [0, 1, 2], ids=["token6", "token8", "token18"])
def test_price__feed_and_token_decimals__normalised_to_wad(stack, feed_for, owner, alice, feed_decimals, i):
    vault, token = stack.vault, stack.tokens[i]
    token_decimals = stack.spec.assets[i].decimals
    # An answer with a non-zero last digit, so a wrong scale cannot hide.
    answer = feed_answer(stack.spec.assets[i].price, feed_decimals) + 7
    feed = feed_for(feed_decimals, answer)
    vault.set_feed(token, feed, heartbeat(stack, i), 0, MAX_UINT128, sender=owner)
    expected_price = answer * 10 ** (MAX_FEED_DECIMALS - feed_decimals)
    assert vault.price(token) == expected_price

    # Token decimals: one whole token (plus one base unit) is valued at the price, rounded down.
    amount = 10**token_decimals + 1
    funding = [0] * len(stack.tokens)
    funding[i] = amount
    stack.fund(alice, funding)
    tx = vault.deposit(token, amount, 0, alice, sender=alice)
    assert tx.events.filter(vault.Deposit)[0].usd_value == amount * expected_price // 10**token_decimals


def test_price__default_stack__one_whole_token_in_usd_wad(stack):
    for token, asset in zip(stack.tokens, stack.spec.assets):
        assert stack.vault.price(token) == int(asset.price) * WAD


def test_price__no_feed__reverts(stack, alice):
    with ape.reverts("pricing: no feed"):
        stack.vault.price(alice)


# ---------------------------------------------------------------- bad answers


@pytest.mark.parametrize("answer", [0, -1, -(10**8)], ids=["zero", "minus-one", "negative"])
def test_price__non_positive_answer__reverts_bad_answer(stack, owner, answer):
    stack.feeds[0].set_answer(answer, sender=owner)
    with ape.reverts("pricing: bad answer"):
        stack.vault.price(stack.tokens[0])


def test_price__answer_at_min_bound__reverts(stack, owner):
    vault, token, feed = stack.vault, stack.tokens[1], stack.feeds[1]
    answer = feed.latest_answer()
    vault.set_feed(token, feed, heartbeat(stack, 1), answer, MAX_UINT128, sender=owner)
    with ape.reverts("pricing: answer at bound"):
        vault.price(token)


def test_price__answer_below_min_bound__reverts(stack, owner):
    vault, token, feed = stack.vault, stack.tokens[1], stack.feeds[1]
    answer = feed.latest_answer()
    vault.set_feed(token, feed, heartbeat(stack, 1), answer + 1, MAX_UINT128, sender=owner)
    with ape.reverts("pricing: answer at bound"):
        vault.price(token)


def test_price__answer_at_max_bound__reverts(stack, owner):
    vault, token, feed = stack.vault, stack.tokens[1], stack.feeds[1]
    answer = feed.latest_answer()
    vault.set_feed(token, feed, heartbeat(stack, 1), 0, answer, sender=owner)
    with ape.reverts("pricing: answer at bound"):
        vault.price(token)


def test_price__answer_just_inside_bounds__accepted(stack, owner):
    vault, token, feed = stack.vault, stack.tokens[1], stack.feeds[1]
    answer = feed.latest_answer()
    vault.set_feed(token, feed, heartbeat(stack, 1), answer - 1, answer + 1, sender=owner)
    assert vault.price(token) == answer * 10 ** (MAX_FEED_DECIMALS - feed.decimals())


# Views run in the latest block: ``chain.mine(timestamp=t)`` makes them see exactly ``t``.


def test_price__answer_exactly_heartbeat_old__accepted(stack, chain):
    chain.mine(timestamp=stack.feeds[0].updated_at() + heartbeat(stack))
    assert stack.vault.price(stack.tokens[0]) == int(stack.spec.assets[0].price) * WAD


def test_price__answer_heartbeat_plus_one_old__reverts_stale(stack, chain):
    chain.mine(timestamp=stack.feeds[0].updated_at() + heartbeat(stack) + 1)
    with ape.reverts("pricing: stale"):
        stack.vault.price(stack.tokens[0])


def test_price__pending_timestamp_past_heartbeat__reverts_stale(stack, chain):
    chain.pending_timestamp += heartbeat(stack) + 1
    with ape.reverts("pricing: stale"):
        stack.vault.price(stack.tokens[0])


def test_price__updated_in_the_future__reverts(stack, owner, chain):
    feed = stack.feeds[2]
    feed.set_round(feed.latest_answer(), chain.pending_timestamp + 3_600, sender=owner)
    with ape.reverts("pricing: future answer"):
        stack.vault.price(stack.tokens[2])


def test_price__reverting_feed__bubbles_feed_revert(stack, alice):
    stack.feeds[3].set_reverting(True, sender=alice)
    with ape.reverts("feed: broken"):
        stack.vault.price(stack.tokens[3])


def test_deposit__reverting_feed_of_another_asset__reverts_but_exit_works(lens, seeded, alice, bob):
    vault = seeded.vault
    amount = seeded.units(1_000)[0]
    seeded.fund(bob, [amount, 0, 0, 0])
    seeded.feeds[3].set_reverting(True, sender=bob)
    with ape.reverts("feed: broken"):
        vault.deposit(seeded.tokens[0], amount, 0, bob, sender=bob)
    shares = vault.balanceOf(alice) // 2
    expected = list(lens.preview_exit(vault, shares))
    vault.exit(shares, expected, alice, sender=alice)
    assert [t.balanceOf(alice) for t in seeded.tokens] == expected


def test_deposit__stale_feed_of_another_asset__reverts(seeded, bob, owner, chain):
    amount = seeded.units(1_000)[0]
    seeded.fund(bob, [amount, 0, 0, 0])
    feed = seeded.feeds[2]
    feed.set_round(feed.latest_answer(), chain.pending_timestamp - heartbeat(seeded, 2) - 10, sender=owner)
    with ape.reverts("pricing: stale"):
        seeded.vault.deposit(seeded.tokens[0], amount, 0, bob, sender=bob)


def test_deposit__price_change__moves_shares_by_price(lens, seeded, owner, bob):
    """A higher oracle price of the deposited asset (others fixed) mints proportionally more."""
    vault, token = seeded.vault, seeded.tokens[3]
    amount = seeded.units(100)[3]
    before = lens.preview_deposit(vault, token, amount)
    seeded.set_price(3, seeded.spec.assets[3].price * 2)
    after = lens.preview_deposit(vault, token, amount)
    # The total value rises too, by the asset's weight; the ratio is 2 / (1 + weight).
    weight_bps = seeded.spec.assets[3].target_bps
    assert abs(after * (MAX_BPS + weight_bps) - before * 2 * MAX_BPS) <= before * 2 * MAX_BPS // 10**6


# ---------------------------------------------------------------- set_feed


def test_set_feed__valid__stores_and_emits_feed_set(stack, feed_for, owner):
    vault, token = stack.vault, stack.tokens[2]
    answer = feed_answer(2_500.0, 8)
    feed = feed_for(8, answer)
    tx = vault.set_feed(token, feed, 1_800, 1, MAX_UINT128, sender=owner)
    events = tx.events.filter(vault.FeedSet)
    assert len(events) == 1
    ev = events[0]
    assert ev.asset == token.address
    assert ev.feed == feed.address
    assert ev.heartbeat == 1_800
    assert ev.min_answer == 1
    assert ev.max_answer == MAX_UINT128
    assert vault.price(token) == answer * 10 ** (MAX_FEED_DECIMALS - 8)


def test_set_feed__new_heartbeat__applies(stack, feed_for, owner, chain):
    vault, token = stack.vault, stack.tokens[2]
    feed = feed_for(8, feed_answer(2_500.0, 8))
    vault.set_feed(token, feed, 60, 0, MAX_UINT128, sender=owner)
    chain.mine(timestamp=feed.updated_at() + 60)
    assert vault.price(token) > 0
    chain.mine(timestamp=feed.updated_at() + 61)
    with ape.reverts("pricing: stale"):
        vault.price(token)


def test_set_feed__zero_feed__reverts(stack, owner):
    with ape.reverts("pricing: zero feed"):
        stack.vault.set_feed(stack.tokens[0], ZERO_ADDRESS, heartbeat(stack), 0, MAX_UINT128, sender=owner)


@pytest.mark.parametrize("bad", [0, MAX_UINT32 + 1], ids=["zero", "above-uint32"])
def test_set_feed__bad_heartbeat__reverts(stack, owner, bad):
    with ape.reverts("pricing: bad heartbeat"):
        stack.vault.set_feed(stack.tokens[0], stack.feeds[0], bad, 0, MAX_UINT128, sender=owner)


def test_set_feed__max_heartbeat__accepted(stack, owner):
    stack.vault.set_feed(stack.tokens[0], stack.feeds[0], MAX_UINT32, 0, MAX_UINT128, sender=owner)


@pytest.mark.parametrize(
    "bounds",
    [(5, 5), (6, 5), (0, 0), (0, MAX_UINT128 + 1)],
    ids=["equal", "inverted", "both-zero", "max-above-uint128"],
)
def test_set_feed__bad_bounds__reverts(stack, owner, bounds):
    with ape.reverts("pricing: bad bounds"):
        stack.vault.set_feed(stack.tokens[0], stack.feeds[0], heartbeat(stack), *bounds, sender=owner)


def test_set_feed__feed_with_too_many_decimals__reverts(stack, feed_for, owner):
    feed = feed_for(MAX_FEED_DECIMALS + 1, 10 ** (MAX_FEED_DECIMALS + 1))
    with ape.reverts("pricing: feed decimals"):
        stack.vault.set_feed(stack.tokens[0], feed, heartbeat(stack), 0, MAX_UINT128, sender=owner)
