"""Lending: the sleeve, the allocator's lend and recall, lent value under manipulation and loss,
and exits that never block, against snekmate's ERC-4626 with failure switches
(contracts/test/HostileMarket.vy). tests/unit/test_lending_morpho.py runs the same vault against
Morpho Blue with real borrowers."""

import ape
import pytest
from ape.utils import ZERO_ADDRESS
from lending_stack import (
    BURN_GAS,
    FAKE_REDEEM,
    MAX_LOSS_BPS,
    NO_LIQUIDITY,
    REVERT_RATE,
    REVERT_REDEEM,
    REVERT_TRANSFER,
    RISE_BPS,
    USDC,
    WBTC,
    WETH,
)

from ballast.constants import MAX_BPS, PACKING

YEAR = 365 * 86_400
RATE_SHARES = 10**18

# The fixtures ``lending`` (a sleeve, a HostileMarket each for USDC and WETH) and ``lent`` (half
# of each lent) are in tests/unit/conftest.py.


# ---------------------------------------------------------------- set_sleeve


def test_set_sleeve__owner__stores_and_emits(seeded, project, owner):
    sleeve = project.LendingSleeve.deploy(seeded.vault, RISE_BPS, MAX_LOSS_BPS, sender=owner)
    tx = seeded.vault.set_sleeve(sleeve, sender=owner)
    assert seeded.vault.sleeve() == sleeve.address
    assert tx.events.filter(seeded.vault.SleeveSet)[0].sleeve == sleeve.address
    assert sleeve.VAULT() == seeded.vault.address
    assert seeded.vault.raw_state().status & PACKING["LENDING"]  # entries now read the sleeve


def test_set_sleeve__twice__reverts(lending, project, owner):
    other = project.LendingSleeve.deploy(lending.vault, RISE_BPS, MAX_LOSS_BPS, sender=owner)
    with ape.reverts("vault: sleeve already set"):
        lending.vault.set_sleeve(other, sender=owner)


def test_set_sleeve__another_vaults_sleeve__reverts(seeded, make_stack, project, owner):
    other_vault = make_stack().vault
    sleeve = project.LendingSleeve.deploy(other_vault, RISE_BPS, MAX_LOSS_BPS, sender=owner)
    with ape.reverts("vault: sleeve of another vault"):
        seeded.vault.set_sleeve(sleeve, sender=owner)


def test_set_sleeve__not_owner__reverts(seeded, project, owner, alice):
    sleeve = project.LendingSleeve.deploy(seeded.vault, RISE_BPS, MAX_LOSS_BPS, sender=owner)
    with ape.reverts("ownable: caller is not the owner"):
        seeded.vault.set_sleeve(sleeve, sender=alice)


def test_constructor__guards_out_of_range__revert(seeded, project, owner):
    with ape.reverts("sleeve: rate rise too high"):
        project.LendingSleeve.deploy(seeded.vault, 100_001, MAX_LOSS_BPS, sender=owner)
    with ape.reverts("sleeve: bad max loss"):
        project.LendingSleeve.deploy(seeded.vault, RISE_BPS, MAX_BPS + 1, sender=owner)


# ---------------------------------------------------------------- set_market, set_guards


def test_set_market__owner__stores_emits_and_checkpoints(lending, project, owner):
    token = lending.tokens[WBTC]
    market = project.HostileMarket.deploy(token, sender=owner)
    tx = lending.sleeve.set_market(token, market, 1_000, sender=owner)
    ev = tx.events.filter(lending.sleeve.MarketSet)[0]
    assert (ev.asset, ev.market, ev.buffer_bps) == (token.address, market.address, 1_000)
    assert lending.sleeve.market(token) == market.address and lending.sleeve.buffer_bps(token) == 1_000
    assert lending.sleeve.checkpoint_rate(token) == market.convertToAssets(RATE_SHARES)


@pytest.mark.parametrize(
    "args, reason",
    [
        (lambda x, m: (x.tokens[WBTC], m, MAX_BPS + 1), "sleeve: bad buffer"),
        (lambda x, m: (x.tokens[USDC], m, 0), "sleeve: market in use"),
        (lambda x, m: (x.tokens[3], m, 0), "sleeve: market asset mismatch"),
        (lambda x, m: (m, m, 0), "sleeve: unknown asset"),
    ],
)
def test_set_market__bad_input__reverts(lent, project, owner, args, reason):
    market = project.HostileMarket.deploy(lent.tokens[WBTC], sender=owner)
    with ape.reverts(reason):
        lent.sleeve.set_market(*args(lent, market), sender=owner)


def test_set_market__not_owner__reverts(lending, alice):
    with ape.reverts("sleeve: not owner"):
        lending.sleeve.set_market(lending.tokens[USDC], ZERO_ADDRESS, 0, sender=alice)


def test_set_guards__owner__stores_and_emits_else_reverts(lending, owner, alice):
    tx = lending.sleeve.set_guards(500, 50, sender=owner)
    ev = tx.events.filter(lending.sleeve.GuardsSet)[0]
    assert (ev.max_rate_rise_bps, ev.max_loss_bps) == (500, 50)
    assert (lending.sleeve.max_rate_rise_bps(), lending.sleeve.max_loss_bps()) == (500, 50)
    with ape.reverts("sleeve: not owner"):
        lending.sleeve.set_guards(500, 50, sender=alice)


# ---------------------------------------------------------------- lend


def test_lend__allocator__moves_idle_into_the_market_and_keeps_the_value(lending, lens, keeper):
    vault, sleeve, usdc = lending.vault, lending.sleeve, lending.tokens[USDC]
    value, weights, idle = lens.total_value(vault), list(lens.current_weights(vault)), vault.balances(usdc)
    amount, tx = lending.lend(USDC, 5_000, keeper)
    ev = tx.events.filter(sleeve.Lent)[0]
    assert (ev.asset, ev.market, ev.assets) == (usdc.address, lending.markets[USDC].address, amount)
    assert vault.balances(usdc) == idle - amount
    assert sleeve.market_shares(usdc) == ev.shares == lending.markets[USDC].balanceOf(sleeve)
    assert lens.lent(vault)[USDC] == amount
    # Idle plus lent: the value and weights do not move (lent rounds up by at most one unit).
    assert value <= lens.total_value(vault) <= value + 10**12
    assert list(lens.current_weights(vault)) == pytest.approx(weights, abs=10)


def test_lend__not_allocator__reverts(lending, alice):
    with ape.reverts("vault: not allocator"):
        lending.vault.lend(lending.tokens[USDC], 1, sender=alice)


@pytest.mark.parametrize(
    "asset, fraction, reason",
    [
        (USDC, 0, "vault: zero amount"),
        (USDC, MAX_BPS + 1, "vault: amount above balance"),
        (WBTC, 1_000, "sleeve: no market"),
        (USDC, 9_000, "sleeve: below idle buffer"),
    ],
)
def test_lend__bad_amount__reverts(lending, keeper, asset, fraction, reason):
    amount = lending.vault.balances(lending.tokens[asset]) * fraction // MAX_BPS + (fraction > MAX_BPS)
    with ape.reverts(reason):
        lending.vault.lend(lending.tokens[asset], amount, sender=keeper)


def test_lend__above_max_deposit__reverts(lending, owner, keeper):
    lending.markets[USDC].set_deposit_cap(10, sender=owner)
    with ape.reverts("sleeve: above max deposit"):
        lending.vault.lend(lending.tokens[USDC], 11, sender=keeper)


def test_lend__paused__reverts(lending, guardian, keeper):
    lending.vault.pause(sender=guardian)
    with ape.reverts("vault: paused"):
        lending.vault.lend(lending.tokens[USDC], 1, sender=keeper)


def test_lend__no_sleeve__reverts(seeded, keeper):
    with ape.reverts("vault: no sleeve"):
        seeded.vault.lend(seeded.tokens[USDC], 1, sender=keeper)


def test_sleeve_entry_points__not_vault__revert(lending, alice):
    usdc = lending.tokens[USDC]
    with ape.reverts("sleeve: not vault"):
        lending.sleeve.supply(usdc, 1, 0, sender=alice)
    with ape.reverts("sleeve: not vault"):
        lending.sleeve.pull(usdc, 1, sender=alice)
    with ape.reverts("sleeve: not vault"):
        lending.sleeve.pay_exit(alice, 1, 1, sender=alice)


# ---------------------------------------------------------------- recall


def test_recall__allocator__brings_the_amount_back_to_idle(lent, keeper):
    vault, usdc = lent.vault, lent.tokens[USDC]
    idle, shares = vault.balances(usdc), lent.sleeve.market_shares(usdc)
    tx = vault.recall(usdc, 1_000 * 10**6, sender=keeper)
    ev = tx.events.filter(lent.sleeve.Recalled)[0]
    assert (ev.asset, ev.assets) == (usdc.address, 1_000 * 10**6)
    assert vault.balances(usdc) == idle + 1_000 * 10**6
    assert lent.sleeve.market_shares(usdc) == shares - ev.shares


def test_recall__paused_or_shut_down__still_allowed(lent, guardian, keeper):
    lent.vault.shutdown(sender=guardian)
    lent.vault.recall(lent.tokens[USDC], 1, sender=keeper)


def test_recall__not_allocator__reverts(lent, alice):
    with ape.reverts("vault: not allocator"):
        lent.vault.recall(lent.tokens[USDC], 1, sender=alice)


def test_recall__market_without_liquidity__reverts_with_its_reason(lent, owner, keeper):
    lent.markets[USDC].set_mode(NO_LIQUIDITY, sender=owner)
    with ape.reverts("market: no liquidity"):
        lent.vault.recall(lent.tokens[USDC], 1, sender=keeper)


# ---------------------------------------------------------------- exits never block


def exit_all(stack, holder, **kw):
    shares = stack.vault.balanceOf(holder)
    return shares, stack.vault.exit(shares, [0] * len(stack.tokens), holder, sender=holder, **kw)


def test_exit__market_can_pay__redeems_the_lent_part_into_the_asset(lent, alice):
    vault, sleeve, usdc = lent.vault, lent.sleeve, lent.tokens[USDC]
    supply, idle, held = vault.totalSupply(), vault.balances(usdc), sleeve.market_shares(usdc)
    shares, tx = exit_all(lent.stack, alice)
    part = held * shares // supply
    paid = [e for e in tx.events.filter(sleeve.ExitPaid) if e.asset == usdc.address][0]
    assert (paid.receiver, paid.shares, paid.in_kind) == (alice.address, part, False)
    assert paid.assets > 0
    assert usdc.balanceOf(alice) == idle * shares // supply + paid.assets
    assert sleeve.market_shares(usdc) == held - part
    assert lent.markets[USDC].balanceOf(alice) == 0


@pytest.mark.parametrize("mode", [NO_LIQUIDITY, REVERT_REDEEM, FAKE_REDEEM, BURN_GAS])
def test_exit__market_cannot_pay__delivers_market_shares_in_kind(lent, owner, alice, mode):
    """100 % utilisation, a reverting or lying redeem, or one that burns all its gas: the exit
    still succeeds, and the holder receives the market shares themselves."""
    market, usdc = lent.markets[USDC], lent.tokens[USDC]
    held, supply = lent.sleeve.market_shares(usdc), lent.vault.totalSupply()
    market.set_mode(mode, sender=owner)
    shares, tx = exit_all(lent.stack, alice, gas=8_000_000)
    paid = [e for e in tx.events.filter(lent.sleeve.ExitPaid) if e.asset == usdc.address][0]
    assert paid.in_kind and paid.assets == 0
    assert market.balanceOf(alice) == paid.shares == held * shares // supply


def test_exit__market_refuses_even_transfers__owes_the_shares_then_pays_the_claim(lent, owner, alice):
    market = lent.markets[USDC]
    market.set_mode(NO_LIQUIDITY | REVERT_TRANSFER, sender=owner)
    _, tx = exit_all(lent.stack, alice)
    owed = tx.events.filter(lent.sleeve.Owed)[0]
    assert owed.holder == alice.address and lent.sleeve.owed(alice, market) == owed.shares > 0
    with ape.reverts("market: transfer refused"):
        lent.sleeve.claim(market, sender=alice)
    market.set_mode(0, sender=owner)
    tx = lent.sleeve.claim(market, sender=alice)
    assert tx.events.filter(lent.sleeve.Claimed)[0].shares == owed.shares
    assert market.balanceOf(alice) == owed.shares and lent.sleeve.owed(alice, market) == 0
    with ape.reverts("sleeve: nothing owed"):
        lent.sleeve.claim(market, sender=alice)


def test_exit__rate_unreadable__exit_works_and_entries_use_the_checkpoint(lent, lens, owner, alice):
    usdc = lent.tokens[USDC]
    checkpoint = lent.sleeve.checkpoint_rate(usdc)
    lent.markets[USDC].set_mode(REVERT_RATE, sender=owner)
    assert lent.sleeve.counted_rate(usdc) == checkpoint and lent.sleeve.reported_rate(usdc) == 0
    assert lens.total_value(lent.vault) > 0  # entries still price the lent part
    exit_all(lent.stack, alice)


# ---------------------------------------------------------------- lent value: interest, manipulation, loss


def donate(lending, i, fraction_bps, owner):
    """Send the market ``fraction_bps`` of its assets for nothing: its share price jumps."""
    market, token = lending.markets[i], lending.tokens[i]
    amount = market.totalAssets() * fraction_bps // MAX_BPS
    token.mint(owner, amount, sender=owner)
    token.transfer(market, amount, sender=owner)


def test_donation__jumps_the_market_rate__the_vault_counts_only_the_bound(lent, lens, chain, owner, bob):
    """A donation of 50 % of the market in one block moves the reported rate by 50 % and the
    vault's counted value (weights, drift, trigger) by no more than the bound allows for the
    seconds since the checkpoint (parts per billion). An entry pays for the lent part at the
    reported rate: a deposit right after mints as many fewer shares as the donation's share adds."""
    usdc, sleeve, vault = lent.tokens[USDC], lent.sleeve, lent.vault
    value, preview = lens.total_value(vault), lens.preview_deposit(vault, usdc, 10_000 * 10**6)
    lent_usd = lens.lent(vault)[USDC] * 10**12  # USDC: 6 decimals at $1
    since = sleeve.checkpoint_time(usdc)
    donate(lent, USDC, 5_000, owner)
    assert sleeve.reported_rate(usdc) == pytest.approx(sleeve.checkpoint_rate(usdc) * 1.5, rel=1e-6)
    sleeve.checkpoint(usdc, sender=bob)  # anyone may record it: the bound still holds
    chain.mine()
    bound = lent_usd * RISE_BPS * (chain.blocks.head.timestamp - since) // (MAX_BPS * YEAR) + 10**12
    assert value <= lens.total_value(vault) <= value + bound
    assert lens.total_value(vault) < value + lent_usd // 10**6  # the donation itself: +50 % of lent
    entry_value = value + lent_usd // 2  # what an entry pays for: the lent part at the reported rate
    assert lens.preview_deposit(vault, usdc, 10_000 * 10**6) == pytest.approx(preview * value / entry_value, rel=1e-6)


def round_trip_gain(lent, holder, enter):
    """Tokens ``holder`` has after ``enter()`` then an exit of every share it got, less before
    (per asset, base units). The markets can pay, so the exit's lent part comes back redeemed."""
    before = [t.balanceOf(holder) for t in lent.tokens]
    enter()
    exit_all(lent.stack, holder)
    assert all(lent.markets[i].balanceOf(holder) == 0 for i in lent.markets)
    return [t.balanceOf(holder) - b for t, b in zip(lent.tokens, before)]


def test_donation__join_then_exit__takes_none_of_it_from_the_holders(lent, lens, owner, bob):
    """After a 50 % donation to the USDC market the counted rate lags the reported one. A join
    priced at the counted rate and an exit of market shares worth the reported one would take 10 %
    of the vault's part of the donation (5 % of its lent USDC) from the other holders; an entry
    pays the reported rate, so the round trip returns no more of any asset than it paid."""
    vault = lent.vault
    donate(lent, USDC, 5_000, owner)
    shares = vault.totalSupply() // 10
    amounts = list(lens.preview_join(vault, shares))
    lent.stack.fund(bob, amounts)
    gains = round_trip_gain(lent, bob, lambda: vault.join(shares, amounts, bob, sender=bob))
    assert all(g <= 0 for g in gains), gains


def test_donation__deposit_then_exit__takes_none_of_it_from_the_holders(lent, lens, owner, bob):
    """The same with a single-asset deposit of USDC: the oracle value of what comes back is no more
    than what was deposited (the haircut and rounding keep a little for the vault)."""
    vault, stack, usdc = lent.vault, lent.stack, lent.tokens[USDC]
    donate(lent, USDC, 5_000, owner)
    amount = 100_000 * 10**6
    usdc.mint(bob, amount, sender=stack.owner)
    usdc.approve(vault, amount, sender=bob)
    gains = round_trip_gain(lent, bob, lambda: vault.deposit(usdc, amount, 0, bob, sender=bob))
    value = sum(g * vault.price(t) // 10 ** t.decimals() for g, t in zip(gains, lent.tokens))
    assert value <= 0, value


def test_donation__unlocks_no_faster_than_the_bound(lent, chain, owner):
    usdc, sleeve = lent.tokens[USDC], lent.sleeve
    start = sleeve.checkpoint_rate(usdc)
    donate(lent, USDC, 5_000, owner)
    chain.pending_timestamp += YEAR // 12
    chain.mine()
    counted = sleeve.counted_rate(usdc)
    allowance = start + start * RISE_BPS * (chain.blocks.head.timestamp - sleeve.checkpoint_time(usdc)) // (
        MAX_BPS * YEAR
    )
    assert counted == allowance < sleeve.reported_rate(usdc)
    assert counted == pytest.approx(start * (1 + 0.2 / 12), rel=1e-3)


def test_interest_within_the_bound__counted_in_full(lent, chain, owner):
    """0.4 % over 30 days (about 5 % a year): under the 20 % bound, all of it counts."""
    usdc, sleeve = lent.tokens[USDC], lent.sleeve
    chain.pending_timestamp += 30 * 86_400
    donate(lent, USDC, 40, owner)
    chain.mine()
    assert sleeve.counted_rate(usdc) == sleeve.reported_rate(usdc) > sleeve.checkpoint_rate(usdc)


def test_loss__lowers_the_value_at_once_and_pauses_lending_until_acknowledged(lent, lens, owner, keeper):
    vault, sleeve, usdc, market = lent.vault, lent.sleeve, lent.tokens[USDC], lent.markets[USDC]
    value, lent_usdc = lens.total_value(vault), lens.lent(vault)[USDC]
    market.lose(market.totalAssets() // 10, sender=owner)  # bad debt: suppliers lose 10 %
    assert lens.lent(vault)[USDC] == pytest.approx(lent_usdc * 0.9, rel=1e-6)
    assert lens.total_value(vault) == pytest.approx(value - lent_usdc * 10**12 // 10, rel=1e-6)
    with ape.reverts("sleeve: loss above max"):
        vault.lend(usdc, 1_000, sender=keeper)
    tx = sleeve.acknowledge_loss(usdc, sender=owner)
    assert tx.events.filter(sleeve.LossAcknowledged)[0].rate == sleeve.peak_rate(usdc)
    vault.lend(usdc, 1_000, sender=keeper)


def test_loss__market_loses_everything__counted_at_zero_at_once_not_at_the_checkpoint(lent, lens, owner, keeper):
    """A market that lost everything answers a rate of 0 (WETH's: 18 decimals, so one share of
    10**18 rounds to nothing): a real answer, not a failed call, so the lent part counts nothing
    in the same block and lending pauses. Fails on a sleeve that takes 0 for "unreadable"."""
    vault, sleeve, weth, market = lent.vault, lent.sleeve, lent.tokens[WETH], lent.markets[WETH]
    value, lent_weth = lens.total_value(vault), lens.lent(vault)[WETH]
    lent_usd = lent_weth * vault.price(weth) // 10**18
    market.lose(weth.balanceOf(market), sender=owner)
    assert sleeve.reported_rate(weth) == 0 and sleeve.counted_rate(weth) == 0
    assert lens.lent(vault)[WETH] == 0
    assert lens.total_value(vault) == pytest.approx(value - lent_usd, rel=1e-9)
    with ape.reverts("sleeve: loss above max"):
        vault.lend(weth, 1_000, sender=keeper)


def test_loss_within_max_loss__lending_continues(lent, owner, keeper):
    market = lent.markets[USDC]
    market.lose(market.totalAssets() * MAX_LOSS_BPS // MAX_BPS // 2, sender=owner)
    lent.vault.lend(lent.tokens[USDC], 1_000, sender=keeper)


# ---------------------------------------------------------------- entries and rebalances count idle plus lent


def test_join__pays_in_proportion_to_idle_plus_lent(lent, lens, bob):
    vault = lent.vault
    shares = vault.totalSupply() // 100
    amounts = list(lens.preview_join(vault, shares))
    holdings = [vault.balances(t) + lens.lent(vault)[i] for i, t in enumerate(lent.tokens)]
    assert amounts == [-(-shares * h // vault.totalSupply()) for h in holdings]
    idle = [vault.balances(t) for t in lent.tokens]
    lent.stack.fund(bob, amounts)
    vault.join(shares, amounts, bob, sender=bob)
    assert [vault.balances(t) for t in lent.tokens] == [b + a for b, a in zip(idle, amounts)]
    assert vault.balanceOf(bob) == shares


def test_rebalance__trade_above_idle__recalls_the_shortfall_first(lending, lens, owner, keeper, attacker, chain):
    """USDC mostly lent (no buffer); WBTC falls 40 % so USDC is overweight: the planned sale
    of USDC is larger than what is idle, and the vault recalls the difference in the same call."""
    vault, usdc = lending.vault, lending.tokens[USDC]
    lending.sleeve.set_market(usdc, lending.markets[USDC], 0, sender=owner)
    lending.lend(USDC, 9_500, keeper)
    lending.stack.move_price(WBTC, lending.stack.spec.assets[WBTC].price * 0.6, attacker)
    chain.pending_timestamp += lens.cooldown(vault) + 1
    drift_before = lens.max_drift(vault)
    plan = lending.stack.plan()
    sells = [t for t in plan.trades if t.token_in == usdc.address]
    assert sells and sells[0].amount_in > vault.balances(usdc)
    tx = vault.rebalance([t.as_tuple() for t in plan.trades], sender=keeper)
    assert tx.events.filter(lending.sleeve.Recalled)
    assert lens.max_drift(vault) < drift_before
