"""DutchAuction: opening, the decay curve, fills by an independent filler, closing, griefing.

The default stack (tests/conftest.py): T0..T3 = 6/8/18/18 decimals at $1/$60k/$3k/$15,
targets 40/30/20/10 %, bands 3 %, max slippage 1.5 %, max cost 1 %; its cooldown is set to 0
here (the documented setting for auction fills, see TECH_SPEC "Auctions"). The auction
starts 2 % above the oracle, ends 1 % below after 30 minutes, takes fills for an hour; the
keeper alone may open for 10 minutes; lots under $1,000 are left out. A WBTC (T1) oracle
rally to $84k makes WBTC 7.5 % overweight: lots WBTC->USDC, WBTC->ETH, WBTC->ALT.
"""

import math

import ape
import pytest

from ballast.auction import (
    DEFAULT_PARAMS,
    constructor_args,
    decay_rate,
    deploy_auction,
    fill,
    multiplier,
    profitable_fill,
    read_auction,
)
from ballast.constants import MAX_BPS, WAD
from ballast.spec import feed_answer

USDC, WBTC, ETH, ALT = 0, 1, 2, 3
RALLY = 84_000.0
LENGTH, TTL, WINDOW = DEFAULT_PARAMS["length"], DEFAULT_PARAMS["ttl"], DEFAULT_PARAMS["launcher_window"]
START = WAD * (MAX_BPS + DEFAULT_PARAMS["premium_bps"]) // MAX_BPS
END = WAD * (MAX_BPS - DEFAULT_PARAMS["end_discount_bps"]) // MAX_BPS
# Seconds after opening by which the price is below the oracle (m(t) = 1 near t = 1,194).
DISCOUNT_AT = 1_500


@pytest.fixture(scope="module")
def filler(accounts):
    """An account with no role in the vault: any arbitrageur."""
    return accounts[6]


@pytest.fixture(scope="module")
def env(make_stack, project, owner, alice, lens):
    """The default vault seeded with $1M, cooldown 0, and its auction (keeper role, venue)."""
    stack = make_stack()
    stack.seed(alice)
    stack.vault.set_limits(stack.limits(cooldown=0), sender=owner)
    stack.auction = deploy_auction(project, owner, stack.vault, lens)
    return stack


@pytest.fixture
def rallied(env):
    env.set_price(WBTC, RALLY)
    return env


@pytest.fixture
def opened(rallied, keeper):
    rallied.open_tx = rallied.auction.open(sender=keeper)
    return rallied


def at(chain, auction, seconds):
    """Make the next transaction land ``seconds`` after the auction opened."""
    chain.pending_timestamp = int(auction.opened_at()) + seconds


def worth(stack, i, amount, roundup=False):
    numerator = amount * stack.vault.price(stack.tokens[i])
    scale = 10 ** stack.spec.assets[i].decimals
    return -(-numerator // scale) if roundup else numerator // scale


def fund(stack, account, i, amount):
    stack.tokens[i].mint(account, amount, sender=stack.owner)
    stack.tokens[i].approve(stack.auction, amount, sender=account)


def usdc(dollars):
    return dollars * 10**6


# ---------------------------------------------------------------- deployment and the curve


@pytest.mark.parametrize(
    "change, reason",
    [
        ({"vault": "0x0000000000000000000000000000000000000000"}, "auction: zero address"),
        ({"premium_bps": 0}, "auction: bad premium"),
        ({"premium_bps": MAX_BPS + 1}, "auction: bad premium"),
        ({"end_discount_bps": MAX_BPS}, "auction: bad end discount"),
        ({"length": 59}, "auction: bad length"),
        ({"ttl": LENGTH - 1}, "auction: bad length"),
        ({"launcher_window": 2**64}, "auction: bad window"),
    ],
)
def test_deploy__bad_parameter__reverts(project, owner, env, lens, change, reason):
    params = {k: v for k, v in change.items() if k != "vault"}
    with ape.reverts(reason):
        project.DutchAuction.deploy(*constructor_args(change.get("vault", env.vault), lens, **params), sender=owner)


def test_deploy__curve_constants__start_end_and_rate_as_documented(env):
    a = env.auction
    assert a.START_MULTIPLIER() == START and a.END_MULTIPLIER() == END
    # ln(START/END)/LENGTH rounded down: slower than the exact rate by under 1e-15 relative.
    assert a.DECAY_RATE() <= decay_rate(START, END, LENGTH) < a.DECAY_RATE() * (1 + 1e-15) + 1
    assert (a.VAULT(), a.LENS(), a.LENGTH(), a.TTL()) == (env.vault.address, env.lens.address, LENGTH, TTL)
    assert (a.LAUNCHER_WINDOW(), a.MIN_LOT_USD(), a.END_DISCOUNT_BPS()) == (WINDOW, 1_000 * WAD, 100)


def test_multiplier__every_minute__matches_python_mirror_and_never_below_end(opened):
    a = opened.auction
    t0, rate = int(a.opened_at()), int(a.DECAY_RATE())
    previous = None
    for elapsed in list(range(0, TTL + 1, 60)) + [1, LENGTH - 1, LENGTH, LENGTH + 1]:
        on_chain = int(a.multiplier(t0 + elapsed))
        mirror = multiplier(START, END, rate, LENGTH, elapsed)
        assert on_chain == pytest.approx(mirror, rel=1e-15)
        assert END <= on_chain <= START
        if previous is not None and elapsed > 0 and elapsed <= LENGTH and elapsed % 60 == 0:
            assert on_chain <= previous  # it only decays
        if elapsed % 60 == 0:
            previous = on_chain
    assert a.multiplier(t0) == START
    assert a.multiplier(t0 + LENGTH) == END
    # Exponential: equal steps of time divide the price by equal factors.
    r1 = a.multiplier(t0 + 600) / a.multiplier(t0)
    r2 = a.multiplier(t0 + 1_200) / a.multiplier(t0 + 600)
    assert r1 == pytest.approx(r2, rel=1e-12)
    assert r1 == pytest.approx(math.exp(-rate * 600 / WAD), rel=1e-12)


# ---------------------------------------------------------------- open


def test_open__keeper_when_due__offers_each_surplus_for_each_deficit(rallied, keeper, lens):
    a, vault, tokens = rallied.auction, rallied.vault, rallied.tokens
    tx = a.open(sender=keeper)
    opened = tx.events.filter(a.AuctionOpened)
    assert len(opened) == 1
    assert (opened[0].auction_id, opened[0].opener, opened[0].reason) == (1, keeper.address, "threshold")
    assert (opened[0].start_multiplier, opened[0].end_multiplier) == (START, END)
    assert opened[0].ends_at == opened[0].opened_at + TTL
    offered = tx.events.filter(a.LotOffered)
    assert [(e.sell, e.buy) for e in offered] == [(tokens[WBTC].address, tokens[j].address) for j in (USDC, ETH, ALT)]
    # Each lot is the deficit of its buy asset at the oracle: (target - weight) * value.
    total = lens.total_value(vault)
    weights, targets = lens.current_weights(vault), lens.target_weights(vault)
    for e, j in zip(offered, (USDC, ETH, ALT)):
        deficit = targets[j] * total // WAD - worth(rallied, j, vault.balances(tokens[j]))
        assert abs(e.usd_value - deficit) <= 2 * WAD // 10**6
        assert e.sell_amount == e.usd_value * 10**8 // vault.price(tokens[WBTC])
        assert a.lots(e.lot).sell_left == e.sell_amount
    assert sum(e.usd_value for e in offered) == pytest.approx((weights[WBTC] - targets[WBTC]) * total // WAD, rel=1e-6)
    assert a.is_open() and a.auction_id() == 1 and a.lot_count() == 3


def test_open__stranger_inside_launcher_window__reverts(rallied, filler):
    assert rallied.auction.open_status(filler) == (False, "launcher window")
    with ape.reverts("auction: launcher window"):
        rallied.auction.open(sender=filler)


def test_open__stranger_after_launcher_window__opens(rallied, filler, chain):
    chain.pending_timestamp += WINDOW
    chain.mine()
    assert rallied.auction.open_status(filler) == (True, "")
    tx = rallied.auction.open(sender=filler)
    assert tx.events.filter(rallied.auction.AuctionOpened)[0].opener == filler.address


def test_open__already_open__reverts(opened, keeper):
    assert opened.auction.open_status(keeper) == (False, "auction open")
    with ape.reverts("auction: already open"):
        opened.auction.open(sender=keeper)


def test_open__not_due__reverts(env, keeper):
    assert env.auction.open_status(keeper) == (False, "not due")
    with ape.reverts("auction: not due"):
        env.auction.open(sender=keeper)


def test_open__vault_paused__reverts(rallied, keeper, guardian):
    rallied.vault.pause(sender=guardian)
    with ape.reverts("auction: paused"):
        rallied.auction.open(sender=keeper)


def test_open__vault_cooldown__reverts(rallied, keeper, owner):
    rallied.vault.set_limits(rallied.limits(cooldown=30 * 86_400), sender=owner)
    assert rallied.auction.open_status(keeper) == (False, "cooldown")
    with ape.reverts("auction: cooldown"):
        rallied.auction.open(sender=keeper)


def test_open__end_discount_beyond_vault_slippage__reverts(rallied, keeper, owner):
    rallied.vault.set_limits(rallied.limits(max_slippage_bps=50), sender=owner)
    with ape.reverts("auction: end below bound"):
        rallied.auction.open(sender=keeper)


def test_open__stale_oracle__reverts_with_feed_reason(rallied, keeper, chain):
    rallied.feeds[ETH].set_round(feed_answer(3_000.0, 8), chain.pending_timestamp - 2 * 86_400, sender=rallied.owner)
    assert rallied.auction.open_status(keeper) == (False, "pricing: stale")
    with ape.reverts("pricing: stale"):
        rallied.auction.open(sender=keeper)


# ---------------------------------------------------------------- fill


def test_fill__independent_filler__pays_vault_and_receives_at_curve_price(opened, filler, chain):
    a, vault, tokens = opened.auction, opened.vault, opened.tokens
    pay = usdc(20_000)
    fund(opened, filler, USDC, pay)
    m = a.multiplier(int(a.opened_at()) + DISCOUNT_AT)
    vault_usdc, vault_wbtc = vault.balances(tokens[USDC]), vault.balances(tokens[WBTC])
    at(chain, a, DISCOUNT_AT)
    tx = a.fill(0, pay, 0, sender=filler)
    filled = tx.events.filter(a.Filled)[0]
    assert (filled.auction_id, filled.lot, filled.filler) == (1, 0, filler.address)
    assert (filled.bought, filled.multiplier) == (pay, m)
    # The vault was paid `pay` and sold `sold`, both measured by its own TradeExecuted.
    trade = tx.events.filter(vault.TradeExecuted)[0]
    assert (trade.venue, trade.amount_in, trade.amount_out) == (a.address, filled.sold, pay)
    assert vault.balances(tokens[USDC]) == vault_usdc + pay
    assert vault.balances(tokens[WBTC]) == vault_wbtc - filled.sold
    assert tokens[WBTC].balanceOf(filler) == filled.sold and tokens[USDC].balanceOf(filler) == 0
    # Sold = pay / (oracle ratio * m), rounded down; its price against the oracle is m (to 1 bps).
    expected = (pay * vault.price(tokens[USDC]) // 10**6) * WAD // m * 10**8 // vault.price(tokens[WBTC])
    assert filled.sold == expected
    assert filled.price_vs_oracle_bps == worth(opened, USDC, pay) * MAX_BPS // worth(opened, WBTC, filled.sold, True)
    assert abs(filled.price_vs_oracle_bps - m * MAX_BPS // WAD) <= 1
    assert filled.price_vs_oracle_bps >= MAX_BPS - DEFAULT_PARAMS["end_discount_bps"]
    assert tx.events.filter(a.Swap)[0].amount_out == pay
    assert all(t.balanceOf(a) == 0 for t in tokens)  # nothing stays in the auction
    assert a.lots(0).sell_left == opened.open_tx.events.filter(a.LotOffered)[0].sell_amount - filled.sold


def test_fill__partial_fills__lot_shrinks_by_each(opened, filler, bob, chain):
    a = opened.auction
    left = a.lots(0).sell_left
    for account, dollars, t in ((filler, 10_000, DISCOUNT_AT), (bob, 5_000, DISCOUNT_AT + 60)):
        fund(opened, account, USDC, usdc(dollars))
        at(chain, a, t)
        tx = a.fill(0, usdc(dollars), 0, sender=account)
        sold = tx.events.filter(a.Filled)[0].sold
        assert a.lots(0).sell_left == left - sold
        left -= sold
    assert a.is_open()


def test_fill__more_than_left__takes_the_rest_and_pays_less(opened, filler, chain):
    a, vault = opened.auction, opened.vault
    # Lot 1 (WBTC -> ETH, ~$24k) bought with up to 20 ETH ($60k): the rest is taken.
    offer = a.lots(1)
    budget = 20 * 10**18
    fund(opened, filler, ETH, budget)
    at(chain, a, LENGTH)
    tx = a.fill(1, budget, 0, sender=filler)
    filled = tx.events.filter(a.Filled)[0]
    assert filled.sold == offer.sell_left and a.lots(1).sell_left == 0
    assert filled.bought < budget
    # What was paid covers the rest at END times the oracle, rounded up.
    value_sold = worth(opened, WBTC, filled.sold, True)
    assert worth(opened, ETH, filled.bought) * WAD >= value_sold * END - WAD * 10**0
    assert opened.tokens[ETH].balanceOf(filler) == budget - filled.bought
    assert vault.balances(opened.tokens[ETH]) > 0


def test_quote__more_than_left__the_rest_for_less(opened):
    a = opened.auction
    left = a.lots(2).sell_left
    sold, paid = a.quote(2, 10**30)
    assert sold == left and 0 < paid < 10**30
    small_sold, small_paid = a.quote(2, paid // 2)
    assert small_paid == paid // 2 and 0 < small_sold < left


def test_fill__price_limit_not_met__reverts(opened, filler, chain):
    a = opened.auction
    fund(opened, filler, USDC, usdc(10_000))
    at(chain, a, DISCOUNT_AT)
    sold, _ = a.quote(0, usdc(10_000))
    at(chain, a, DISCOUNT_AT)
    with ape.reverts("auction: price above limit"):
        a.fill(0, usdc(10_000), sold * 2, sender=filler)


@pytest.mark.parametrize(
    "lot, amount, reason",
    [(7, 10**6, "auction: no such lot"), (0, 0, "auction: zero amount"), (0, 1, "auction: zero fill")],
)
def test_fill__bad_arguments__revert(opened, filler, chain, lot, amount, reason):
    fund(opened, filler, USDC, usdc(1))
    at(chain, opened.auction, DISCOUNT_AT)
    with ape.reverts(reason):
        opened.auction.fill(lot, amount, 0, sender=filler)


def test_fill__no_auction__reverts(rallied, filler):
    with ape.reverts("auction: not open"):
        rallied.auction.fill(0, 10**6, 0, sender=filler)


def test_fill__after_ttl__reverts_expired(opened, filler, chain):
    fund(opened, filler, USDC, usdc(1_000))
    at(chain, opened.auction, TTL + 1)
    with ape.reverts("auction: expired"):
        opened.auction.fill(0, usdc(1_000), 0, sender=filler)


def test_fill__lot_taken__reverts(opened, filler, chain):
    a = opened.auction
    fund(opened, filler, ETH, 40 * 10**18)
    at(chain, a, LENGTH)
    a.fill(1, 20 * 10**18, 0, sender=filler)
    with ape.reverts("auction: lot taken"):
        a.fill(1, 10**18, 0, sender=filler)


def test_fill__oracle_moves_after_opening__priced_at_fill_block_oracle(opened, filler, chain):
    """A price seen at opening is never sold at: WBTC's oracle rises 20 % after opening and
    the fill pays for WBTC at the new price (times the curve)."""
    a, vault, tokens = opened.auction, opened.vault, opened.tokens
    opened.set_price(WBTC, RALLY * 1.2)
    fund(opened, filler, USDC, usdc(20_000))
    at(chain, a, DISCOUNT_AT)
    tx = a.fill(0, usdc(20_000), 0, sender=filler)
    filled = tx.events.filter(a.Filled)[0]
    paid_usd = worth(opened, USDC, filled.bought)
    sold_usd_now = filled.sold * vault.price(tokens[WBTC]) // 10**8
    assert paid_usd * WAD >= sold_usd_now * filled.multiplier - WAD * WAD // 10**6
    assert filled.price_vs_oracle_bps >= MAX_BPS - DEFAULT_PARAMS["end_discount_bps"]


def test_fill__end_of_curve__passes_vault_slippage_bound(opened, filler, chain):
    a = opened.auction
    fund(opened, filler, USDC, usdc(20_000))
    at(chain, a, TTL)
    tx = a.fill(0, usdc(20_000), 0, sender=filler)
    filled = tx.events.filter(a.Filled)[0]
    assert filled.multiplier == END
    assert filled.price_vs_oracle_bps == MAX_BPS - DEFAULT_PARAMS["end_discount_bps"]


def test_fill__premium_with_untraded_underweight_asset__vault_refuses_drift_grew(opened, filler, chain):
    """Known and left alone (reported): a fill above the oracle raises the vault's value, so
    ETH's and ALT's weights (untraded, underweight) fall; the vault tolerates drift growth only
    for a loss (`cost`), so it refuses the gain. Fills in this basket clear once m(t) <= 1."""
    fund(opened, filler, USDC, usdc(10_000))
    at(chain, opened.auction, 60)
    with ape.reverts("vault: drift grew"):
        opened.auction.fill(0, usdc(10_000), 0, sender=filler)


def test_fill__vault_cooldown_set__second_fill_waits(opened, filler, owner, chain):
    """The documented trade-off: with a vault cooldown, fills are spaced by it."""
    a = opened.auction
    opened.vault.set_limits(opened.limits(cooldown=600), sender=owner)
    fund(opened, filler, USDC, usdc(20_000))
    at(chain, a, DISCOUNT_AT)
    a.fill(0, usdc(10_000), 0, sender=filler)
    at(chain, a, DISCOUNT_AT + 60)
    with ape.reverts("vault: cooldown"):
        a.fill(0, usdc(10_000), 0, sender=filler)
    at(chain, a, DISCOUNT_AT + 600)
    a.fill(0, usdc(10_000), 0, sender=filler)


def test_fill__trigger_gone_midway__vault_refuses_and_anyone_closes(opened, filler, chain):
    """Lots are sized to the targets; the vault trades only while its trigger holds."""
    a = opened.auction
    fund(opened, filler, USDC, usdc(60_000))
    fund(opened, filler, ETH, 20 * 10**18)
    at(chain, a, DISCOUNT_AT)
    a.fill(0, usdc(60_000), 0, sender=filler)  # the whole USDC lot: WBTC drift 3.2 % > 3 %
    at(chain, a, DISCOUNT_AT + 10)
    a.fill(1, 2 * 10**18, 0, sender=filler)  # WBTC drift now under its band: trigger gone
    assert not opened.lens.needs_rebalance(opened.vault)[0]
    assert a.close_reason() == "trigger gone"
    with ape.reverts("vault: rebalance not due"):
        a.fill(1, 10**18, 0, sender=filler)
    tx = a.close(sender=filler)
    closed = tx.events.filter(a.AuctionClosed)[0]
    assert (closed.auction_id, closed.closer, closed.reason) == (1, filler.address, "trigger gone")
    assert not a.is_open()


# ---------------------------------------------------------------- close


def test_close__guardian_any_time__closes(opened, guardian):
    assert opened.auction.close_reason() == ""
    tx = opened.auction.close(sender=guardian)
    assert tx.events.filter(opened.auction.AuctionClosed)[0].reason == "guardian"
    assert not opened.auction.is_open()
    assert opened.auction.last_closed() == tx.timestamp


def test_close__vault_owner_any_time__closes(opened, owner):
    opened.auction.close(sender=owner)
    assert not opened.auction.is_open()


def test_close__stranger_while_running__reverts(opened, filler):
    with ape.reverts("auction: still running"):
        opened.auction.close(sender=filler)


def test_close__after_ttl__anyone_closes_expired(opened, filler, chain):
    at(chain, opened.auction, TTL + 1)
    chain.mine()
    assert opened.auction.close_reason() == "expired"
    tx = opened.auction.close(sender=filler)
    assert tx.events.filter(opened.auction.AuctionClosed)[0].reason == "expired"


def test_close__none_open__reverts(env, guardian):
    assert env.auction.close_reason() == ""
    with ape.reverts("auction: not open"):
        env.auction.close(sender=guardian)


def test_close__targets_reached__last_fill_closes(make_stack, project, owner, alice, lens, keeper, filler, chain):
    """A 2-asset vault: one lot; taking all of it closes the auction. Its premium fill passes
    the vault's checks here (no untraded asset) and raises the vault's value."""
    two = make_stack(decimals=(6, 18), prices=(1.0, 3_000.0), weights=(5_000, 5_000))
    two.seed(alice)
    two.vault.set_limits(two.limits(cooldown=0), sender=owner)
    two.auction = deploy_auction(project, owner, two.vault, lens)
    two.set_price(1, 3_600.0)
    a = two.auction
    a.open(sender=keeper)
    assert a.lot_count() == 1
    value_before = lens.total_value(two.vault)
    fund(two, filler, 0, usdc(100_000))
    at(chain, a, 60)
    tx = a.fill(0, usdc(100_000), 0, sender=filler)
    filled = tx.events.filter(a.Filled)[0]
    assert filled.price_vs_oracle_bps > MAX_BPS  # paid above the oracle
    assert lens.total_value(two.vault) > value_before
    assert a.lots(0).sell_left == 0
    assert tx.events.filter(a.AuctionClosed)[0].reason == "targets reached"
    assert not a.is_open()
    assert abs(lens.drifts(two.vault)[0]) < WAD // 1_000


# ---------------------------------------------------------------- the venue side


def test_swap__outside_a_fill__reverts(opened, filler):
    t = opened.tokens
    with ape.reverts("auction: not during a fill"):
        opened.auction.swap(t[WBTC], t[USDC], 1, 1, opened.vault, sender=filler)


def test_payee__outside_a_fill__is_empty_so_no_keeper_can_route_through_it(opened, keeper):
    t = opened.tokens
    assert opened.auction.payee(t[WBTC], t[USDC]) == "0x0000000000000000000000000000000000000000"
    with ape.reverts("vault: venue has no pool"):
        opened.vault.rebalance([(opened.auction, t[WBTC], t[USDC], 10**6, 0)], sender=keeper)


# ---------------------------------------------------------------- griefing and hostile tokens


def test_grief__manipulated_price_at_opening__no_cheap_sale_and_real_rebalance_unblocked(
    rallied, attacker, keeper, chain
):
    """Reserve PR #903's lesson: whoever opens an auction must not be able to stop the vault
    from rebalancing. An attacker opens one right after a spiked oracle (WBTC +40 %); the
    price reverts. Its lots no longer help the vault, so the vault refuses every fill; anyone
    closes it ("trigger gone"); the keeper's own rebalance and the next auction are unaffected."""
    a = rallied.auction
    chain.pending_timestamp += WINDOW
    a.open(sender=attacker)
    rallied.set_price(WBTC, 60_000.0)
    fund(rallied, attacker, USDC, usdc(20_000))
    for t in (120, DISCOUNT_AT, TTL):  # not even at the end price
        at(chain, a, t)
        with ape.reverts("vault: rebalance not due"):
            a.fill(0, usdc(20_000), 0, sender=attacker)
    a.close(sender=attacker)
    # The real move comes: the keeper rebalances on the AMM while a fresh auction is open too.
    rallied.move_price(WBTC, RALLY, keeper)
    a.open(sender=keeper)
    plan = rallied.plan()
    assert plan.trades
    rallied.vault.rebalance([t.as_tuple() for t in plan.trades], sender=keeper)


def test_grief__dust_imbalance__opens_nothing(env, owner, keeper, attacker, chain):
    """Bands of 1 bps make a 0.1 % move due; every pair is under MIN_LOT_USD, so no auction
    opens (and none can hold the slot)."""
    for i in range(4):
        env.vault.set_bands(env.tokens[i], 1, 3, sender=owner)
    env.set_price(WBTC, 60_060.0)
    assert env.lens.needs_rebalance(env.vault)[0]
    chain.pending_timestamp += WINDOW
    assert env.auction.open_status(attacker) == (False, "dust")
    with ape.reverts("auction: dust"):
        env.auction.open(sender=attacker)


def test_fill__fee_on_transfer_buy_token__reverts(project, owner, alice, keeper, filler, lens, chain):
    """A basket asset that takes a fee on transfer (held at zero, bought by the auction): the
    vault would receive less than the fill pays, so the fill is refused."""
    fot = project.FeeOnTransferToken.deploy("Fee", "FEE", 18, 100, sender=owner)
    usd = project.MockERC20.deploy("USD", "USD", 6, sender=owner)
    feeds = [project.MockPriceFeed.deploy(8, feed_answer(1.0, 8), sender=owner) for _ in range(2)]
    configs = [(t.address, f.address, 86_400, 0, 2**128 - 1, 5_000, 300, 900) for t, f in zip((usd, fot), feeds)]
    from ballast.chain.deploy import ZERO_ADDRESS, vault_factory

    factory = vault_factory(project, owner)
    args = (
        "Fee",
        "FEE",
        configs,
        (1, 86_400, WAD // 2, 2_000, 3_600),
        (150, 100, 10_000, 86_400, 0),
        30,
        [],
        keeper,
        ZERO_ADDRESS,
        owner,
    )
    vault = project.Vault.at(factory.deploy_vault(*args, sender=owner).events.filter(factory.VaultDeployed)[0].vault)
    usd.mint(alice, usdc(100_000), sender=owner)
    usd.approve(vault, usdc(100_000), sender=alice)
    vault.join(0, [usdc(100_000), 0], alice, sender=alice)  # all USD, no FEE: FEE is underweight
    auction = deploy_auction(project, owner, vault, lens)
    auction.open(sender=keeper)
    fot.mint(filler, 10**22, sender=owner)
    fot.approve(auction, 10**22, sender=filler)
    chain.pending_timestamp = int(auction.opened_at()) + LENGTH
    with ape.reverts("auction: fee-on-transfer token"):
        auction.fill(0, 10**21, 0, sender=filler)


def test_fill__filler_reenters__reverts(project, owner, alice, keeper, filler, lens, chain):
    """The buy token calls back into `fill` from inside the fill's payment: the lock refuses
    it and the whole fill reverts; the same call outside a fill succeeds."""
    rt = project.ReentrantToken.deploy("Reentrant", "RT", sender=owner)
    usd = project.MockERC20.deploy("USD", "USD", 6, sender=owner)
    feeds = [project.MockPriceFeed.deploy(8, feed_answer(p, 8), sender=owner) for p in (1.0, 2_000.0)]
    configs = [(t.address, f.address, 86_400, 0, 2**128 - 1, 5_000, 300, 900) for t, f in zip((usd, rt), feeds)]
    from ballast.chain.deploy import ZERO_ADDRESS, vault_factory

    factory = vault_factory(project, owner)
    args = (
        "Re",
        "RE",
        configs,
        (1, 86_400, WAD // 2, 2_000, 3_600),
        (150, 100, 10_000, 86_400, 0),
        30,
        [],
        keeper,
        ZERO_ADDRESS,
        owner,
    )
    vault = project.Vault.at(factory.deploy_vault(*args, sender=owner).events.filter(factory.VaultDeployed)[0].vault)
    usd.mint(alice, usdc(600_000), sender=owner)
    usd.approve(vault, usdc(600_000), sender=alice)
    rt.mint(alice, 200 * 10**18, sender=owner)
    rt.approve(vault, 200 * 10**18, sender=alice)
    vault.join(0, [usdc(600_000), 200 * 10**18], alice, sender=alice)  # RT 40 %: underweight
    auction = deploy_auction(project, owner, vault, lens)
    auction.open(sender=keeper)
    rt.mint(filler, 100 * 10**18, sender=owner)
    rt.approve(auction, 100 * 10**18, sender=filler)
    # The token contract as a filler of its own: RT to pay with, its allowance to the auction.
    rt.mint(rt, 10 * 10**18, sender=owner)
    rt.arm(rt, rt.approve.encode_input(auction, 2**256 - 1), sender=filler)
    rt.transfer(filler, 0, sender=filler)  # fires the hook: rt approves the auction
    chain.pending_timestamp = int(auction.opened_at()) + LENGTH
    left = auction.lots(0).sell_left
    rt.arm(auction, auction.fill.encode_input(0, 10**18, 0), sender=filler)
    with pytest.raises(ape.exceptions.ContractLogicError):  # the lock reverts with no reason
        auction.fill(0, 10 * 10**18, 0, sender=filler)
    assert auction.lots(0).sell_left == left and rt.balanceOf(filler) == 100 * 10**18
    # Still armed (the revert undid the hook's disarming): fired outside a fill, the same call fills.
    tx = rt.transfer(filler, 0, sender=filler)
    assert tx.events.filter(auction.Filled)[0].filler == rt.address
    assert auction.lots(0).sell_left < left


# ---------------------------------------------------------------- the off-chain filler


def test_filler_helper__profitable_lot__fills_and_skips_unprofitable(opened, filler, chain):
    a, vault, tokens = opened.auction, opened.vault, opened.tokens
    now = int(a.opened_at()) + DISCOUNT_AT
    lots = read_auction(a, vault, now)
    assert [lot.sell_left for lot in lots] == [a.lots(i).sell_left for i in range(3)]
    external = {t.address: p for t, p in zip(tokens, opened.prices)}
    # At m ~ 0.995 a filler valuing at the oracle gains ~0.5 %: a 10 bps margin is met, 100 is not.
    assert profitable_fill(lots[0], external, 100, usdc(50_000)) is None
    buy_amount, min_sell = profitable_fill(lots[0], external, 10, usdc(50_000))
    fund(opened, filler, USDC, buy_amount)
    chain.pending_timestamp = now
    tx = fill(a, lots[0], buy_amount, min_sell, filler, tokens[USDC])
    assert tx.events.filter(a.Filled)[0].sold >= min_sell


def test_fill__calendar_trigger__one_fill_then_trigger_gone(
    make_stack, project, owner, alice, lens, keeper, filler, chain
):
    """The documented limit of an unchanged vault: a calendar trigger is reset by the first
    fill (it stamps the last rebalance), so a calendar vault's auction takes one fill."""
    cal = make_stack(trigger="calendar", cooldown=0)
    cal.seed(alice)
    cal.auction = deploy_auction(project, owner, cal.vault, lens)
    chain.pending_timestamp += 86_400
    for i, price in enumerate((1.0, RALLY, 3_000.0, 15.0)):  # fresh answers after a day
        cal.set_price(i, price)
    a = cal.auction
    a.open(sender=keeper)
    fund(cal, filler, USDC, usdc(20_000))
    at(chain, a, DISCOUNT_AT)
    a.fill(0, usdc(10_000), 0, sender=filler)
    with ape.reverts("vault: rebalance not due"):
        a.fill(0, usdc(10_000), 0, sender=filler)
    assert a.close(sender=filler).events.filter(a.AuctionClosed)[0].reason == "trigger gone"
