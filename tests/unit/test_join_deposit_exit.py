"""join(), deposit(), exit(): accounting, rounding, previews, reverts, events, odd tokens and attacks."""

import ape
import pytest
from ape.utils import ZERO_ADDRESS

from ballast.chain.deploy import vault_factory
from ballast.constants import DEAD_SHARES, MAX_BPS, TRIGGER_THRESHOLD, WAD

# A share of the supply or a value of a few dollars, small against the $1M seed.
SMALL_FRACTION = 1_000


# ---------------------------------------------------------------- helpers


def usd_value(stack, i, amount, roundup=False):
    """Oracle value (WAD) of ``amount`` base units of asset ``i``, rounded like the vault."""
    numerator = amount * stack.vault.price(stack.tokens[i])
    scale = 10 ** stack.spec.assets[i].decimals
    return -(-numerator // scale) if roundup else numerator // scale


def ceil_div(a, b):
    return -(-a // b)


def tracked(stack):
    return [stack.vault.balances(t) for t in stack.tokens]


def token_balances(stack, account):
    return [t.balanceOf(account) for t in stack.tokens]


def expected_deposit_shares(stack, i, amount):
    """Python mirror of ``_deposit_shares`` for a non-empty vault."""
    lens = stack.lens
    vault = stack.vault
    total = sum(usd_value(stack, j, vault.balances(t), roundup=True) for j, t in enumerate(stack.tokens))
    net = usd_value(stack, i, amount) * (MAX_BPS - lens.entry_haircut_bps(vault)) // MAX_BPS
    return net * vault.totalSupply() // total


def portfolio_value(stack, amounts):
    return sum(usd_value(stack, i, a) for i, a in enumerate(amounts))


# ---------------------------------------------------------------- join


def test_join__first_into_empty_vault__mints_value_minus_dead_shares(stack, alice):
    vault = stack.vault
    amounts = stack.weighted_units(1_000_000)
    stack.fund(alice, amounts)
    value = portfolio_value(stack, amounts)
    tx = vault.join(0, amounts, alice, sender=alice)
    assert vault.balanceOf(alice) == value - DEAD_SHARES
    assert vault.balanceOf(vault) == DEAD_SHARES
    assert vault.totalSupply() == value
    assert tracked(stack) == amounts
    assert token_balances(stack, vault) == amounts
    assert token_balances(stack, alice) == [0] * len(amounts)
    ev = tx.events.filter(vault.Join)[0]
    assert ev.shares == value - DEAD_SHARES
    assert list(ev.amounts) == amounts


def test_join__first_with_shares_equal_to_minted__succeeds(stack, alice):
    vault = stack.vault
    amounts = stack.weighted_units(10_000)
    stack.fund(alice, amounts)
    minted = portfolio_value(stack, amounts) - DEAD_SHARES
    vault.join(minted, amounts, alice, sender=alice)
    assert vault.balanceOf(alice) == minted


def test_join__first_with_shares_above_minted__reverts_below_minimum(stack, alice):
    amounts = stack.weighted_units(10_000)
    stack.fund(alice, amounts)
    minted = portfolio_value(stack, amounts) - DEAD_SHARES
    with ape.reverts("vault: shares below minimum"):
        stack.vault.join(minted + 1, amounts, alice, sender=alice)


def test_join__first_worth_dead_shares_or_less__reverts_too_small(stack, alice):
    last = len(stack.tokens) - 1
    price = stack.vault.price(stack.tokens[last])
    amount = DEAD_SHARES * 10 ** stack.spec.assets[last].decimals // price
    amounts = [0] * last + [amount]
    assert portfolio_value(stack, amounts) <= DEAD_SHARES
    stack.fund(alice, amounts)
    with ape.reverts("vault: first join too small"):
        stack.vault.join(0, amounts, alice, sender=alice)


def test_join__proportional_after_seed__takes_pro_rata_amounts_rounded_up(lens, seeded, bob):
    vault = seeded.vault
    supply = vault.totalSupply()
    shares = supply // SMALL_FRACTION + 12_345  # not a divisor of anything: forces rounding
    before = tracked(seeded)
    expected = [ceil_div(shares * b, supply) for b in before]
    assert any(shares * b % supply for b in before)
    assert list(lens.preview_join(vault, shares)) == expected
    seeded.fund(bob, [2 * e for e in expected])
    tx = vault.join(shares, [2 * e for e in expected], bob, sender=bob)
    assert list(tx.events.filter(vault.Join)[0].amounts) == expected
    assert vault.balanceOf(bob) == shares
    assert vault.totalSupply() == supply + shares
    assert tracked(seeded) == [b + e for b, e in zip(before, expected)]
    assert token_balances(seeded, bob) == expected  # funded 2x, paid 1x


def test_join__one_share__pays_one_unit_of_every_asset(seeded, bob):
    vault = seeded.vault
    seeded.fund(bob, [1] * len(seeded.tokens))
    vault.join(1, [1] * len(seeded.tokens), bob, sender=bob)
    assert token_balances(seeded, bob) == [0] * len(seeded.tokens)
    assert vault.balanceOf(bob) == 1


def test_join__amount_above_max__reverts(seeded, bob):
    shares = seeded.vault.totalSupply() // SMALL_FRACTION
    needed = list(seeded.lens.preview_join(seeded.vault, shares))
    seeded.fund(bob, needed)
    maxes = list(needed)
    maxes[2] -= 1
    with ape.reverts("vault: amount above maximum"):
        seeded.vault.join(shares, maxes, bob, sender=bob)


def test_join__zero_shares_after_seed__reverts(seeded, bob):
    with ape.reverts("vault: zero shares"):
        seeded.vault.join(0, [1] * len(seeded.tokens), bob, sender=bob)


def test_join__zero_receiver__reverts(seeded, bob):
    with ape.reverts("vault: zero receiver"):
        seeded.vault.join(1, [1] * len(seeded.tokens), ZERO_ADDRESS, sender=bob)


def test_join__wrong_amounts_length__reverts(seeded, bob):
    with ape.reverts("vault: amounts length"):
        seeded.vault.join(1, [1] * (len(seeded.tokens) - 1), bob, sender=bob)


def test_join__paused__reverts(seeded, guardian, bob):
    seeded.vault.pause(sender=guardian)
    with ape.reverts("vault: paused"):
        seeded.vault.join(1, [1] * len(seeded.tokens), bob, sender=bob)


def test_join__shut_down__reverts(seeded, guardian, bob):
    seeded.vault.shutdown(sender=guardian)
    with ape.reverts("vault: shut down"):
        seeded.vault.join(1, [1] * len(seeded.tokens), bob, sender=bob)


def test_join__event__has_sender_receiver_shares_amounts(lens, seeded, alice, bob):
    vault = seeded.vault
    shares = vault.totalSupply() // SMALL_FRACTION
    needed = list(lens.preview_join(vault, shares))
    seeded.fund(alice, needed)
    tx = vault.join(shares, needed, bob, sender=alice)
    events = tx.events.filter(vault.Join)
    assert len(events) == 1
    ev = events[0]
    assert ev.sender == alice.address
    assert ev.receiver == bob.address
    assert ev.shares == shares
    assert list(ev.amounts) == needed
    assert vault.balanceOf(bob) == shares


# ---------------------------------------------------------------- deposit


@pytest.mark.parametrize("i", [0, 1, 2, 3])
def test_deposit__each_asset__mints_haircut_value_times_supply_over_total_rounded_down(lens, seeded, bob, i):
    vault = seeded.vault
    amount = seeded.units(12_345.678)[i]
    expected = expected_deposit_shares(seeded, i, amount)
    assert lens.preview_deposit(vault, seeded.tokens[i], amount) == expected
    funding = [0] * len(seeded.tokens)
    funding[i] = amount
    seeded.fund(bob, funding)
    before = vault.balances(seeded.tokens[i])
    tx = vault.deposit(seeded.tokens[i], amount, expected, bob, sender=bob)
    assert tx.events.filter(vault.Deposit)[0].shares == expected
    assert vault.balanceOf(bob) == expected
    assert vault.balances(seeded.tokens[i]) == before + amount
    assert seeded.tokens[i].balanceOf(bob) == 0


def test_deposit__haircut__costs_the_depositor_the_haircut(lens, seeded, bob):
    vault = seeded.vault
    amount = seeded.units(10_000)[0]
    value = usd_value(seeded, 0, amount)
    shares = lens.preview_deposit(vault, seeded.tokens[0], amount)
    share_value = shares * lens.total_value(vault) // vault.totalSupply()
    assert share_value <= value * (MAX_BPS - lens.entry_haircut_bps(vault)) // MAX_BPS
    assert share_value * MAX_BPS >= value * (MAX_BPS - lens.entry_haircut_bps(vault) - 1)


def test_deposit__into_empty_vault__mints_net_value_minus_dead_shares(lens, stack, alice):
    vault = stack.vault
    amount = stack.units(10_000)[2]
    net = usd_value(stack, 2, amount) * (MAX_BPS - lens.entry_haircut_bps(vault)) // MAX_BPS
    stack.fund(alice, [0, 0, amount, 0])
    vault.deposit(stack.tokens[2], amount, 0, alice, sender=alice)
    assert vault.balanceOf(alice) == net - DEAD_SHARES
    assert vault.balanceOf(vault) == DEAD_SHARES
    assert vault.totalSupply() == net


def test_deposit__into_empty_vault_worth_dead_shares__reverts_zero_shares(stack, alice):
    price = stack.vault.price(stack.tokens[3])
    amount = DEAD_SHARES * 10 ** stack.spec.assets[3].decimals // price
    stack.fund(alice, [0, 0, 0, amount])
    with ape.reverts("vault: zero shares"):
        stack.vault.deposit(stack.tokens[3], amount, 0, alice, sender=alice)


def test_deposit__below_min_shares__reverts(seeded, bob):
    amount = seeded.units(1_000)[1]
    expected = seeded.lens.preview_deposit(seeded.vault, seeded.tokens[1], amount)
    seeded.fund(bob, [0, amount, 0, 0])
    with ape.reverts("vault: shares below minimum"):
        seeded.vault.deposit(seeded.tokens[1], amount, expected + 1, bob, sender=bob)


def test_deposit__zero_amount__reverts(seeded, bob):
    with ape.reverts("vault: zero amount"):
        seeded.vault.deposit(seeded.tokens[0], 0, 0, bob, sender=bob)


def test_deposit__unknown_asset__reverts(seeded, project, owner, bob):
    stranger = project.MockERC20.deploy("Stranger", "STR", 18, sender=owner)
    stranger.mint(bob, WAD, sender=owner)
    stranger.approve(seeded.vault, WAD, sender=bob)
    with ape.reverts("vault: unknown asset"):
        seeded.vault.deposit(stranger, WAD, 0, bob, sender=bob)


def test_deposit__zero_receiver__reverts(seeded, bob):
    with ape.reverts("vault: zero receiver"):
        seeded.vault.deposit(seeded.tokens[0], 1, 0, ZERO_ADDRESS, sender=bob)


def test_deposit__stale_price__reverts(seeded, bob, chain):
    amount = seeded.units(1_000)[0]
    seeded.fund(bob, [amount, 0, 0, 0])
    chain.pending_timestamp += seeded.spec.assets[0].heartbeat + 1
    with ape.reverts("pricing: stale"):
        seeded.vault.deposit(seeded.tokens[0], amount, 0, bob, sender=bob)


def test_deposit__paused__reverts(seeded, guardian, bob):
    seeded.vault.pause(sender=guardian)
    with ape.reverts("vault: paused"):
        seeded.vault.deposit(seeded.tokens[0], 1, 0, bob, sender=bob)


def test_deposit__shut_down__reverts(seeded, guardian, bob):
    seeded.vault.shutdown(sender=guardian)
    with ape.reverts("vault: shut down"):
        seeded.vault.deposit(seeded.tokens[0], 1, 0, bob, sender=bob)


def test_deposit__event__has_all_fields(lens, seeded, alice, bob):
    vault = seeded.vault
    amount = seeded.units(2_500)[3]
    expected = lens.preview_deposit(vault, seeded.tokens[3], amount)
    seeded.fund(alice, [0, 0, 0, amount])
    tx = vault.deposit(seeded.tokens[3], amount, 0, bob, sender=alice)
    events = tx.events.filter(vault.Deposit)
    assert len(events) == 1
    ev = events[0]
    assert ev.sender == alice.address
    assert ev.receiver == bob.address
    assert ev.asset == seeded.tokens[3].address
    assert ev.amount == amount
    assert ev.shares == expected
    assert ev.usd_value == usd_value(seeded, 3, amount)
    assert vault.balanceOf(bob) == expected


# ---------------------------------------------------------------- exit


def test_exit__part_of_shares__sends_pro_rata_amounts_rounded_down(lens, seeded, alice, bob):
    vault = seeded.vault
    supply = vault.totalSupply()
    shares = vault.balanceOf(alice) // 3 + 7
    before = tracked(seeded)
    expected = [shares * b // supply for b in before]
    assert any(shares * b % supply for b in before)
    assert list(lens.preview_exit(vault, shares)) == expected
    tx = vault.exit(shares, [0] * len(expected), bob, sender=alice)
    assert list(tx.events.filter(vault.Exit)[0].amounts) == expected
    assert token_balances(seeded, bob) == expected
    assert tracked(seeded) == [b - e for b, e in zip(before, expected)]
    assert token_balances(seeded, vault) == tracked(seeded)
    assert vault.totalSupply() == supply - shares


def test_exit__all_shares__leaves_dead_shares_their_rounding(seeded, alice):
    vault = seeded.vault
    supply = vault.totalSupply()
    before = tracked(seeded)
    vault.exit(vault.balanceOf(alice), [0] * len(before), alice, sender=alice)
    assert vault.totalSupply() == DEAD_SHARES
    assert tracked(seeded) == [ceil_div(DEAD_SHARES * b, supply) for b in before]


def test_exit__below_min_amounts_out__reverts(seeded, alice):
    shares = seeded.vault.balanceOf(alice) // 2
    mins = list(seeded.lens.preview_exit(seeded.vault, shares))
    mins[1] += 1
    with ape.reverts("vault: amount below minimum"):
        seeded.vault.exit(shares, mins, alice, sender=alice)


def test_exit__exact_min_amounts_out__succeeds(seeded, alice):
    shares = seeded.vault.balanceOf(alice) // 2
    mins = list(seeded.lens.preview_exit(seeded.vault, shares))
    seeded.vault.exit(shares, mins, alice, sender=alice)
    assert token_balances(seeded, alice) == mins


def test_exit__zero_shares__reverts(seeded, alice):
    with ape.reverts("vault: zero shares"):
        seeded.vault.exit(0, [0] * len(seeded.tokens), alice, sender=alice)


def test_exit__more_shares_than_held__reverts(seeded, bob):
    with ape.reverts("erc20: burn amount exceeds balance"):
        seeded.vault.exit(1, [0] * len(seeded.tokens), bob, sender=bob)


def test_exit__zero_receiver__reverts(seeded, alice):
    with ape.reverts("vault: zero receiver"):
        seeded.vault.exit(1, [0] * len(seeded.tokens), ZERO_ADDRESS, sender=alice)


def test_exit__wrong_amounts_length__reverts(seeded, alice):
    with ape.reverts("vault: amounts length"):
        seeded.vault.exit(1, [0] * (len(seeded.tokens) + 1), alice, sender=alice)


def _exit_half(stack, account):
    shares = stack.vault.balanceOf(account) // 2
    expected = list(stack.lens.preview_exit(stack.vault, shares))
    stack.vault.exit(shares, expected, account, sender=account)
    assert token_balances(stack, account) == expected
    assert all(e > 0 for e in expected)


def test_exit__paused__still_works(seeded, guardian, alice):
    seeded.vault.pause(sender=guardian)
    _exit_half(seeded, alice)


def test_exit__shut_down__still_works(seeded, guardian, alice):
    seeded.vault.shutdown(sender=guardian)
    _exit_half(seeded, alice)


def test_exit__stale_feeds__still_works(seeded, alice, chain):
    chain.pending_timestamp += seeded.spec.assets[0].heartbeat + 1
    with ape.reverts("pricing: stale"):
        seeded.lens.total_value(seeded.vault)
    _exit_half(seeded, alice)


def test_exit__reverting_feed__still_works(seeded, alice):
    seeded.feeds[1].set_reverting(True, sender=alice)
    with ape.reverts("feed: broken"):
        seeded.lens.total_value(seeded.vault)
    _exit_half(seeded, alice)


def test_exit__event__has_sender_receiver_shares_amounts(lens, seeded, alice, bob):
    vault = seeded.vault
    shares = vault.balanceOf(alice) // 5
    expected = list(lens.preview_exit(vault, shares))
    tx = vault.exit(shares, [0] * len(expected), bob, sender=alice)
    events = tx.events.filter(vault.Exit)
    assert len(events) == 1
    ev = events[0]
    assert ev.sender == alice.address
    assert ev.receiver == bob.address
    assert ev.shares == shares
    assert list(ev.amounts) == expected


# ---------------------------------------------------------------- previews


def test_preview_join__empty_vault__returns_zeros(stack):
    assert list(stack.lens.preview_join(stack.vault, WAD)) == [0] * len(stack.tokens)


def test_preview_join__equals_join(lens, seeded, bob):
    vault = seeded.vault
    shares = vault.totalSupply() // 7
    preview = list(lens.preview_join(vault, shares))
    seeded.fund(bob, preview)
    tx = vault.join(shares, preview, bob, sender=bob)
    assert list(tx.events.filter(vault.Join)[0].amounts) == preview
    assert token_balances(seeded, bob) == [0] * len(preview)


def test_preview_deposit__equals_deposit(lens, seeded, bob):
    vault = seeded.vault
    amount = seeded.units(33_333)[1]
    preview = lens.preview_deposit(vault, seeded.tokens[1], amount)
    seeded.fund(bob, [0, amount, 0, 0])
    vault.deposit(seeded.tokens[1], amount, preview, bob, sender=bob)
    assert vault.balanceOf(bob) == preview


def test_preview_deposit__unknown_asset__reverts(seeded, bob):
    with ape.reverts("lens: unknown asset"):
        seeded.lens.preview_deposit(seeded.vault, bob, 1)


def test_preview_exit__equals_exit(lens, seeded, alice):
    vault = seeded.vault
    shares = vault.balanceOf(alice) // 7
    preview = list(lens.preview_exit(vault, shares))
    vault.exit(shares, preview, alice, sender=alice)
    assert token_balances(seeded, alice) == preview


# ---------------------------------------------------------------- donations


def test_donation__token_sent_straight_to_vault__moves_neither_value_nor_exit(lens, seeded, owner, alice):
    vault = seeded.vault
    value = lens.total_value(vault)
    shares = vault.balanceOf(alice)
    exit_preview = list(lens.preview_exit(vault, shares))
    before = tracked(seeded)
    for token, units in zip(seeded.tokens, seeded.units(500_000)):
        token.mint(vault, units, sender=owner)
    assert lens.total_value(vault) == value
    assert list(lens.preview_exit(vault, shares)) == exit_preview
    assert tracked(seeded) == before
    vault.exit(shares, exit_preview, alice, sender=alice)
    assert token_balances(seeded, alice) == exit_preview


# ---------------------------------------------------------------- token matrix

TOKEN_MATRIX = [
    pytest.param(
        {
            "decimals": (6, 8, 18, 18),
            "prices": (1.0, 60_000.0, 3_000.0, 15.0),
            "weights": (4_000, 3_000, 2_000, 1_000),
        },
        id="6-8-18-18",
    ),
    pytest.param(
        {
            "decimals": (6, 8, 18, 18),
            "prices": (1.0, 60_000.0, 3_000.0, 15.0),
            "weights": (4_000, 3_000, 2_000, 1_000),
            "no_return": (0,),
        },
        id="6-8-18-18-usdt-like",
    ),
    pytest.param({"decimals": (18, 18), "prices": (3_000.0, 1.0), "weights": (5_000, 5_000)}, id="18-18"),
    pytest.param(
        {
            "decimals": (6,) * 8,
            "prices": (1.0, 2.0, 0.5, 10.0, 100.0, 0.01, 3.0, 1_000.0),
            "weights": (1_250,) * 8,
            "no_return": (3,),
        },
        id="6x8",
    ),
]


@pytest.mark.parametrize("config", TOKEN_MATRIX)
def test_join_exit__token_matrix__round_trip_never_returns_more_than_paid(lens, make_stack, alice, bob, config):
    stack = make_stack(depth_usd=100_000, **config)
    vault = stack.vault
    n = len(stack.tokens)
    seed_amounts = stack.weighted_units(100_000)
    stack.fund(alice, seed_amounts)
    vault.join(0, seed_amounts, alice, sender=alice)
    assert tracked(stack) == seed_amounts

    # Fund bob once (mint and approve are one transaction per token each, slow on 8 assets).
    for token, amount in zip(stack.tokens, seed_amounts):
        token.mint(bob, amount, sender=stack.owner)
        token.approve(vault, amount, sender=bob)
    bob_start = token_balances(stack, bob)

    # Several awkward share counts: one share, a prime, a third of the supply.
    bob_paid = [0] * n
    for shares in (1, 1_000_003, vault.totalSupply() // 3 + 1):
        needed = list(lens.preview_join(vault, shares))
        paid_before = token_balances(stack, bob)
        vault.join(shares, needed, bob, sender=bob)
        paid = [b - a for b, a in zip(paid_before, token_balances(stack, bob))]
        assert paid == needed
        bob_paid = [t + p for t, p in zip(bob_paid, paid)]
        got_before = token_balances(stack, bob)
        vault.exit(shares, [0] * n, bob, sender=bob)
        got = [a - b for a, b in zip(token_balances(stack, bob), got_before)]
        assert all(g <= p for g, p in zip(got, paid)), (shares, got, paid)
        assert vault.balanceOf(bob) == 0

    # Bob's rounding stays in the vault and accrues to alice, but together the two
    # never take out more of any token than they put in.
    vault.exit(vault.balanceOf(alice), [0] * n, alice, sender=alice)
    paid_in = [s + b for s, b in zip(seed_amounts, bob_paid)]
    bob_net = [end - start + paid for end, start, paid in zip(token_balances(stack, bob), bob_start, bob_paid)]
    taken_out = [a + b for a, b in zip(token_balances(stack, alice), bob_net)]
    assert all(o <= i for o, i in zip(taken_out, paid_in)), (taken_out, paid_in)
    assert token_balances(stack, vault) == tracked(stack)
    assert all(t > 0 for t in tracked(stack))  # the dead shares keep the rounding


# ---------------------------------------------------------------- fee-on-transfer


@pytest.fixture
def fee_vault(project, stack, owner, alice):
    """A two-asset vault, configured like ``stack``, whose first asset burns 1% of every transfer."""
    spec = stack.spec
    feed_decimals = stack.feeds[0].decimals()
    fee_token = project.FeeOnTransferToken.deploy("Fee", "FEE", 18, MAX_BPS // 100, sender=owner)
    plain = project.MockERC20.deploy("Plain", "PLN", 18, sender=owner)
    feeds = [project.MockPriceFeed.deploy(feed_decimals, 10**feed_decimals, sender=owner) for _ in range(2)]
    a = spec.assets[0]
    configs = [
        (
            token.address,
            feed.address,
            a.heartbeat,
            a.min_answer,
            a.max_answer,
            MAX_BPS // 2,
            a.band_bps,
            a.outer_band_bps,
        )
        for token, feed in zip((fee_token, plain), feeds)
    ]
    trigger = (TRIGGER_THRESHOLD, spec.interval, spec.vol_reference, spec.vol_alpha_bps, spec.vol_min_interval)
    limits = (spec.max_slippage_bps, spec.max_cost_bps, spec.turnover_cap_bps, spec.turnover_period, spec.cooldown)
    factory = vault_factory(project, owner)
    args = ("Fee Vault", "FEEV", configs, trigger, limits, spec.entry_haircut_bps, [], owner, owner, owner)
    vault = project.Vault.at(factory.deploy_vault(*args, sender=owner).events.filter(factory.VaultDeployed)[0].vault)
    for token in (fee_token, plain):
        token.mint(alice, 1_000 * WAD, sender=owner)
        token.approve(vault, 1_000 * WAD, sender=alice)
    return vault, fee_token, plain


def test_deposit__fee_on_transfer_token__reverts(fee_vault, alice):
    vault, fee_token, _ = fee_vault
    with ape.reverts("vault: fee-on-transfer token"):
        vault.deposit(fee_token, 100 * WAD, 0, alice, sender=alice)


def test_join__first_join_with_fee_on_transfer_token__reverts(fee_vault, alice):
    vault, _, _ = fee_vault
    with ape.reverts("vault: fee-on-transfer token"):
        vault.join(0, [100 * WAD, 100 * WAD], alice, sender=alice)


def test_deposit__plain_token_next_to_fee_token__succeeds(fee_vault, alice):
    vault, _, plain = fee_vault
    vault.deposit(plain, 100 * WAD, 0, alice, sender=alice)
    assert vault.balances(plain) == 100 * WAD


# ---------------------------------------------------------------- inflation attack


def test_deposit__inflation_attack_tiny_first_deposit_then_donation__victim_keeps_value(
    lens, stack, owner, attacker, bob
):
    vault = stack.vault
    token = stack.tokens[0]
    # The smallest first deposit that mints anything: one base unit of the 6-decimals asset.
    stack.fund(attacker, [1, 0, 0, 0])
    vault.deposit(token, 1, 0, attacker, sender=attacker)
    attacker_shares = vault.balanceOf(attacker)
    assert 0 < attacker_shares < WAD
    # Donate $1M straight to the vault.
    donation = stack.units(1_000_000)[0]
    token.mint(attacker, donation, sender=owner)
    token.transfer(vault, donation, sender=attacker)
    assert lens.total_value(vault) == usd_value(stack, 0, 1)

    amount = stack.units(100_000)[0]
    stack.fund(bob, [amount, 0, 0, 0])
    vault.deposit(token, amount, 0, bob, sender=bob)
    shares = vault.balanceOf(bob)
    assert shares > 0
    vault.exit(shares, [0] * len(stack.tokens), bob, sender=bob)
    back = portfolio_value(stack, token_balances(stack, bob))
    put_in = usd_value(stack, 0, amount)
    assert back * SMALL_FRACTION > put_in * (SMALL_FRACTION - 1)
    # The donation stays untracked: the attacker cannot take it back out.
    attacker_out = lens.preview_exit(vault, attacker_shares)
    assert attacker_out[0] < donation // SMALL_FRACTION
