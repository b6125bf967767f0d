"""Owner setters, constructor validation, the target-weight ramp and the guardian switches."""

import ape
import pytest
from ape.utils import ZERO_ADDRESS

from ballast.chain.deploy import asset_configs
from ballast.constants import (
    BPS_TO_WAD,
    MAX_BPS,
    MAX_COST_BPS,
    MAX_ENTRY_HAIRCUT_BPS,
    MAX_SLIPPAGE_BPS,
    MIN_RAMP_DURATION,
    ROLE_ALLOCATOR,
    ROLE_GUARDIAN,
    ROLE_KEEPER,
    TRIGGER_CALENDAR,
    TRIGGER_HYBRID,
    TRIGGER_THRESHOLD,
    WAD,
)

NOT_OWNER = "ownable: caller is not the owner"
NOT_GUARDIAN = "vault: not guardian"
NEW_WEIGHTS = [2_500, 2_500, 2_500, 2_500]


# ---------------------------------------------------------------- helpers


def deploy_args(stack, configs=None):
    spec = stack.spec
    trigger = (spec.trigger_type, spec.interval, spec.vol_reference, spec.vol_alpha_bps, spec.vol_min_interval)
    limits = (spec.max_slippage_bps, spec.max_cost_bps, spec.turnover_cap_bps, spec.turnover_period, spec.cooldown)
    if configs is None:
        configs = asset_configs(spec, stack.tokens, stack.feeds)
    return (spec.name, spec.symbol, configs, trigger, limits, spec.entry_haircut_bps)


def with_field(config, index, value):
    config = list(config)
    config[index] = value
    return tuple(config)


# AssetConfig field positions.
ASSET, FEED, TARGET, BAND = 0, 1, 5, 6


# ---------------------------------------------------------------- constructor


def test_constructor__valid__sets_everything(lens, stack, owner):
    vault, spec = stack.vault, stack.spec
    assert vault.owner() == owner.address
    assert list(vault.get_assets()) == [t.address for t in stack.tokens]
    assert list(lens.target_weights(vault)) == [a.target_bps * BPS_TO_WAD for a in spec.assets]
    for token, a in zip(stack.tokens, spec.assets):
        assert tuple(lens.asset_config(vault, token)) == (a.target_bps, a.band_bps, a.outer_band_bps)
        assert lens.variance(vault, token) == spec.vol_reference**2 // WAD
    assert stack.limits() == deploy_args(stack)[4]
    assert stack.trigger() == deploy_args(stack)[3]
    assert lens.entry_haircut_bps(vault) == spec.entry_haircut_bps
    assert vault.decimals() == 18
    assert vault.totalSupply() == 0


def test_constructor__one_asset__reverts_too_few_assets(stack, project, owner):
    with ape.reverts("vault: too few assets"):
        project.Vault.deploy("One", "ONE", [stack.tokens[0]], stack.vault.RULES(), sender=owner)


def test_constructor__duplicate_asset__reverts(stack, project, owner):
    tokens = [stack.tokens[0], stack.tokens[1], stack.tokens[0]]
    with ape.reverts("vault: duplicate asset"):
        project.Vault.deploy("Dup", "DUP", tokens, stack.vault.RULES(), sender=owner)


def test_constructor__zero_asset__reverts_zero_address(stack, project, owner):
    with ape.reverts("vault: zero address"):
        project.Vault.deploy("Zero", "ZERO", [stack.tokens[0], ZERO_ADDRESS], stack.vault.RULES(), sender=owner)


def test_constructor__unconfigured__refuses_priced_entries_until_feeds_are_set(stack, project, owner, alice):
    vault = project.Vault.deploy("Bare", "BARE", stack.tokens, stack.vault.RULES(), sender=owner)
    assert vault.owner() == owner.address and list(vault.get_assets()) == [t.address for t in stack.tokens]
    stack.fund(alice, [10**6] * len(stack.tokens))
    with ape.reverts("pricing: no feed"):
        vault.join(0, [1] * len(stack.tokens), alice, sender=alice)


def test_set_target_weights__empty_vault__may_take_effect_at_once(stack, project, owner, lens):
    vault = project.Vault.deploy("Bare", "BARE", stack.tokens, stack.vault.RULES(), sender=owner)
    vault.set_target_weights(NEW_WEIGHTS, 0, sender=owner)
    assert list(lens.target_weights(vault)) == [w * BPS_TO_WAD for w in NEW_WEIGHTS]


# ---------------------------------------------------------------- set_role


@pytest.mark.parametrize(
    "roles", [0, ROLE_GUARDIAN, ROLE_KEEPER, ROLE_ALLOCATOR, ROLE_GUARDIAN | ROLE_KEEPER | ROLE_ALLOCATOR]
)
def test_set_role__owner__stores_and_emits(stack, owner, alice, roles):
    tx = stack.vault.set_role(alice, roles, sender=owner)
    assert stack.vault.roles(alice) == roles
    ev = tx.events.filter(stack.vault.RoleSet)[0]
    assert ev.account == alice.address
    assert ev.roles == roles


def test_set_role__not_owner__reverts(stack, guardian, alice):
    with ape.reverts(NOT_OWNER):
        stack.vault.set_role(alice, ROLE_KEEPER, sender=guardian)


def test_set_role__zero_address__reverts(stack, owner):
    with ape.reverts("vault: zero address"):
        stack.vault.set_role(ZERO_ADDRESS, ROLE_KEEPER, sender=owner)


def test_set_role__unknown_bit__reverts_bad_roles(stack, owner, alice):
    with ape.reverts("vault: bad roles"):
        stack.vault.set_role(alice, (ROLE_GUARDIAN | ROLE_KEEPER | ROLE_ALLOCATOR) + 1, sender=owner)


def test_set_role__revoked_keeper__cannot_rebalance(stack, owner, keeper):
    stack.vault.set_role(keeper, 0, sender=owner)
    with ape.reverts("vault: not keeper"):
        stack.vault.rebalance([], sender=keeper)


# ---------------------------------------------------------------- set_venue


@pytest.mark.parametrize("allowed", [True, False])
def test_set_venue__owner__stores_and_emits(stack, owner, alice, allowed):
    tx = stack.vault.set_venue(alice, allowed, sender=owner)
    assert stack.vault.venue_allowed(alice) == allowed
    ev = tx.events.filter(stack.vault.VenueSet)[0]
    assert ev.venue == alice.address
    assert ev.allowed == allowed


def test_set_venue__not_owner__reverts(stack, keeper, alice):
    with ape.reverts(NOT_OWNER):
        stack.vault.set_venue(alice, True, sender=keeper)


def test_set_venue__zero_address__reverts(stack, owner):
    with ape.reverts("vault: zero address"):
        stack.vault.set_venue(ZERO_ADDRESS, True, sender=owner)


# ---------------------------------------------------------------- set_limits


def test_set_limits__at_caps__stores_and_emits(stack, owner):
    vault = stack.vault
    limits = (MAX_SLIPPAGE_BPS, MAX_COST_BPS, 10 * MAX_BPS, 1, 0)
    tx = vault.set_limits(limits, sender=owner)
    assert stack.limits() == limits
    ev = tx.events.filter(vault.LimitsSet)[0]
    assert (ev.max_slippage_bps, ev.max_cost_bps, ev.turnover_cap_bps, ev.turnover_period, ev.cooldown) == limits


def test_set_limits__not_owner__reverts(stack, alice):
    with ape.reverts(NOT_OWNER):
        stack.vault.set_limits(stack.limits(), sender=alice)


@pytest.mark.parametrize(
    "changes,reason",
    [
        ({"max_slippage_bps": MAX_SLIPPAGE_BPS + 1}, "vault: slippage too high"),
        ({"max_cost_bps": MAX_COST_BPS + 1}, "vault: cost too high"),
        ({"turnover_cap_bps": 0}, "vault: bad turnover cap"),
        ({"turnover_cap_bps": 10 * MAX_BPS + 1}, "vault: bad turnover cap"),
        ({"turnover_period": 0}, "vault: zero turnover period"),
        ({"turnover_period": 2**64}, "vault: duration too long"),
        ({"cooldown": 2**64}, "vault: duration too long"),
    ],
    ids=["slippage", "cost", "turnover-zero", "turnover-above-10x", "turnover-period", "period-2^64", "cooldown-2^64"],
)
def test_set_limits__out_of_range__reverts(stack, owner, changes, reason):
    with ape.reverts(reason):
        stack.vault.set_limits(stack.limits(**changes), sender=owner)


# ---------------------------------------------------------------- set_entry_haircut


@pytest.mark.parametrize("haircut", [0, MAX_ENTRY_HAIRCUT_BPS])
def test_set_entry_haircut__owner__stores_and_emits(stack, owner, haircut):
    tx = stack.vault.set_entry_haircut(haircut, sender=owner)
    assert stack.lens.entry_haircut_bps(stack.vault) == haircut
    assert tx.events.filter(stack.vault.EntryHaircutSet)[0].entry_haircut_bps == haircut


def test_set_entry_haircut__while_paused_and_shut_down__keeps_both_flags(lens, stack, owner, guardian):
    vault = stack.vault
    vault.pause(sender=guardian)
    vault.set_entry_haircut(MAX_ENTRY_HAIRCUT_BPS, sender=owner)
    assert lens.paused(vault) and not lens.is_shutdown(vault)
    vault.shutdown(sender=guardian)
    vault.set_entry_haircut(0, sender=owner)
    assert lens.paused(vault) and lens.is_shutdown(vault)
    assert lens.entry_haircut_bps(vault) == 0


def test_pause_unpause_shutdown__keep_entry_haircut(lens, stack, owner, guardian):
    vault = stack.vault
    vault.set_entry_haircut(MAX_ENTRY_HAIRCUT_BPS, sender=owner)
    for action in (vault.pause, vault.unpause, vault.shutdown):
        action(sender=guardian)
        assert lens.entry_haircut_bps(vault) == MAX_ENTRY_HAIRCUT_BPS
    assert lens.is_shutdown(vault) and not lens.paused(vault)


def test_set_entry_haircut__not_owner__reverts(stack, guardian):
    with ape.reverts(NOT_OWNER):
        stack.vault.set_entry_haircut(0, sender=guardian)


def test_set_entry_haircut__too_high__reverts(stack, owner):
    with ape.reverts("vault: haircut too high"):
        stack.vault.set_entry_haircut(MAX_ENTRY_HAIRCUT_BPS + 1, sender=owner)


# ---------------------------------------------------------------- set_trigger


@pytest.mark.parametrize("trigger_type", [TRIGGER_CALENDAR, TRIGGER_THRESHOLD, TRIGGER_HYBRID])
def test_set_trigger__owner__stores_and_emits(stack, owner, trigger_type):
    vault = stack.vault
    trigger = (trigger_type, 7 * 86_400, 10 * WAD, MAX_BPS, 1)
    tx = vault.set_trigger(trigger, sender=owner)
    assert stack.trigger() == trigger
    ev = tx.events.filter(vault.TriggerSet)[0]
    assert (ev.trigger_type, ev.rebalance_interval, ev.vol_reference, ev.vol_alpha_bps, ev.vol_min_interval) == trigger


def test_set_trigger__new_vol_reference__resets_variance(lens, seeded, owner, chain):
    vault = seeded.vault
    # Move the estimate away from the reference first.
    vault.observe(sender=owner)
    seeded.set_price(1, seeded.spec.assets[1].price * 1.2)
    chain.pending_timestamp += lens.vol_min_interval(vault)
    vault.observe(sender=owner)
    old = lens.variance(vault, seeded.tokens[1])
    assert old != lens.vol_reference(vault) ** 2 // WAD
    # The same reference keeps the estimate.
    vault.set_trigger(seeded.trigger(rebalance_interval=1), sender=owner)
    assert lens.variance(vault, seeded.tokens[1]) == old
    # A new one restarts every estimate at reference squared.
    new_ref = lens.vol_reference(vault) * 2
    vault.set_trigger(seeded.trigger(vol_reference=new_ref), sender=owner)
    for token in seeded.tokens:
        assert lens.variance(vault, token) == new_ref * new_ref // WAD
        assert lens.vol_scale_bps(vault, token) == MAX_BPS


def test_set_trigger__not_owner__reverts(stack, keeper):
    with ape.reverts(NOT_OWNER):
        stack.vault.set_trigger(stack.trigger(), sender=keeper)


@pytest.mark.parametrize(
    "changes,reason",
    [
        ({"trigger_type": TRIGGER_HYBRID + 1}, "basket: bad trigger"),
        ({"rebalance_interval": 0}, "basket: zero interval"),
        ({"vol_reference": 0}, "basket: bad vol reference"),
        ({"vol_reference": 10 * WAD + 1}, "basket: bad vol reference"),
        ({"vol_alpha_bps": 0}, "basket: bad vol alpha"),
        ({"vol_alpha_bps": MAX_BPS + 1}, "basket: bad vol alpha"),
        ({"vol_min_interval": 0}, "basket: zero vol interval"),
        ({"rebalance_interval": 2**64}, "basket: interval too long"),
        ({"vol_min_interval": 2**64}, "basket: interval too long"),
    ],
    ids=[
        "type",
        "interval",
        "vol-ref-zero",
        "vol-ref-high",
        "alpha-zero",
        "alpha-high",
        "vol-interval",
        "interval-2^64",
        "vol-interval-2^64",
    ],
)
def test_set_trigger__out_of_range__reverts(stack, owner, changes, reason):
    with ape.reverts(reason):
        stack.vault.set_trigger(stack.trigger(**changes), sender=owner)


# ---------------------------------------------------------------- set_target_weights


def test_set_target_weights__owner__emits_ramp(lens, stack, owner):
    vault = stack.vault
    duration = 2 * MIN_RAMP_DURATION
    tx = vault.set_target_weights(NEW_WEIGHTS, duration, sender=owner)
    ev = tx.events.filter(vault.TargetWeightsSet)[0]
    assert list(ev.weights_bps) == NEW_WEIGHTS
    assert ev.ramp_start == tx.timestamp
    assert ev.ramp_end == tx.timestamp + duration
    assert lens.ramp_start(vault) == tx.timestamp
    assert lens.ramp_end(vault) == tx.timestamp + duration
    for token, w in zip(stack.tokens, NEW_WEIGHTS):
        assert lens.asset_config(vault, token)[0] == w


def test_set_target_weights__not_owner__reverts(stack, alice):
    with ape.reverts(NOT_OWNER):
        stack.vault.set_target_weights(NEW_WEIGHTS, MIN_RAMP_DURATION, sender=alice)


def test_set_target_weights__ramp_too_short__reverts(seeded, owner):
    with ape.reverts("vault: ramp too short"):
        seeded.vault.set_target_weights(NEW_WEIGHTS, MIN_RAMP_DURATION - 1, sender=owner)


def test_set_target_weights__ramp_ending_past_2_64__reverts(stack, owner):
    with ape.reverts("basket: ramp too long"):
        stack.vault.set_target_weights(NEW_WEIGHTS, 2**64, sender=owner)


@pytest.mark.parametrize(
    "weights", [[2_500, 2_500, 2_500, 2_499], [2_500, 2_500, 2_500, 2_501], [0, 0, 0, 0]], ids=["low", "high", "zero"]
)
def test_set_target_weights__not_summing_to_max_bps__reverts(stack, owner, weights):
    with ape.reverts("basket: weights sum"):
        stack.vault.set_target_weights(weights, MIN_RAMP_DURATION, sender=owner)


@pytest.mark.parametrize("weights", [[5_000, 5_000], [2_000] * 5], ids=["short", "long"])
def test_set_target_weights__wrong_length__reverts(stack, owner, weights):
    with ape.reverts("basket: weights length"):
        stack.vault.set_target_weights(weights, MIN_RAMP_DURATION, sender=owner)


def _ramp_expected(initial, final, start, end, now):
    """Python mirror of ``basket._targets``."""
    if now >= end:
        return list(final)
    elapsed = now - start
    return [
        i + (f - i) * elapsed // (end - start) if f >= i else i - (i - f) * elapsed // (end - start)
        for i, f in zip(initial, final)
    ]


def test_target_weights__ramp__linear_from_old_to_new(lens, stack, owner, chain):
    vault = stack.vault
    old = list(lens.target_weights(vault))
    new = [w * BPS_TO_WAD for w in NEW_WEIGHTS]
    duration = 2 * MIN_RAMP_DURATION
    tx = vault.set_target_weights(NEW_WEIGHTS, duration, sender=owner)
    start, end = lens.ramp_start(vault), lens.ramp_end(vault)

    # At the start (the ramp's own block), the targets have not moved.
    assert list(lens.target_weights(vault)) == old
    assert chain.blocks.head.timestamp == tx.timestamp == start

    # A second in: a hair off the old weights, exactly on the line.
    chain.mine(timestamp=start + 1)
    assert list(lens.target_weights(vault)) == _ramp_expected(old, new, start, end, start + 1)

    # Midway: strictly between old and new for every asset that moves.
    chain.mine(timestamp=start + duration // 2)
    mid = list(lens.target_weights(vault))
    assert mid == _ramp_expected(old, new, start, end, start + duration // 2)
    for o, m, n in zip(old, mid, new):
        assert min(o, n) < m < max(o, n)
        assert abs(2 * m - (o + n)) <= 2  # the midpoint, up to rounding down

    # One second before the end: not there yet. At and after the end: exactly the new weights.
    chain.mine(timestamp=end - 1)
    assert list(lens.target_weights(vault)) != new
    chain.mine(timestamp=end)
    assert list(lens.target_weights(vault)) == new
    chain.mine(timestamp=end + 86_400)
    assert list(lens.target_weights(vault)) == new


def test_target_weights__new_ramp_mid_ramp__starts_from_effective_targets(lens, stack, owner, chain):
    vault = stack.vault
    old = list(lens.target_weights(vault))
    duration = 2 * MIN_RAMP_DURATION
    vault.set_target_weights(NEW_WEIGHTS, duration, sender=owner)
    start, end = lens.ramp_start(vault), lens.ramp_end(vault)
    chain.pending_timestamp = start + duration // 2
    tx = vault.set_target_weights(list(stack.spec.weights_bps), duration, sender=owner)
    mid = _ramp_expected(old, [w * BPS_TO_WAD for w in NEW_WEIGHTS], start, end, tx.timestamp)
    assert list(lens.target_weights(vault)) == mid
    chain.mine(timestamp=lens.ramp_end(vault))
    assert list(lens.target_weights(vault)) == old


# ---------------------------------------------------------------- set_bands


def test_set_bands__owner__stores_and_emits(lens, stack, owner):
    vault, token = stack.vault, stack.tokens[2]
    tx = vault.set_bands(token, 150, MAX_BPS, sender=owner)
    assert tuple(lens.asset_config(vault, token)) == (stack.spec.assets[2].target_bps, 150, MAX_BPS)
    ev = tx.events.filter(vault.BandsSet)[0]
    assert ev.asset == token.address
    assert ev.band_bps == 150
    assert ev.outer_band_bps == MAX_BPS


def test_set_bands__equal_bands__accepted(stack, owner):
    stack.vault.set_bands(stack.tokens[0], 200, 200, sender=owner)
    assert tuple(stack.lens.asset_config(stack.vault, stack.tokens[0]))[1:] == (200, 200)


def test_set_bands__keeps_target_weight_and_ramp(lens, stack, owner, chain):
    vault = stack.vault
    old = list(lens.target_weights(vault))
    new = [w * BPS_TO_WAD for w in NEW_WEIGHTS]
    vault.set_target_weights(NEW_WEIGHTS, MIN_RAMP_DURATION, sender=owner)
    start, end = lens.ramp_start(vault), lens.ramp_end(vault)
    chain.pending_timestamp = start + MIN_RAMP_DURATION // 3
    tx = vault.set_bands(stack.tokens[1], 100, 400, sender=owner)
    assert list(lens.target_weights(vault)) == _ramp_expected(old, new, start, end, tx.timestamp)
    assert tuple(lens.asset_config(vault, stack.tokens[1])) == (NEW_WEIGHTS[1], 100, 400)
    chain.mine(timestamp=end)
    assert list(lens.target_weights(vault)) == new


def test_set_bands__not_owner__reverts(stack, alice):
    with ape.reverts(NOT_OWNER):
        stack.vault.set_bands(stack.tokens[0], 100, 300, sender=alice)


def test_set_bands__zero_band__reverts(stack, owner):
    with ape.reverts("basket: zero band"):
        stack.vault.set_bands(stack.tokens[0], 0, 300, sender=owner)


@pytest.mark.parametrize("band,outer", [(300, 299), (300, MAX_BPS + 1)], ids=["below-band", "above-max-bps"])
def test_set_bands__bad_outer_band__reverts(stack, owner, band, outer):
    with ape.reverts("basket: bad outer band"):
        stack.vault.set_bands(stack.tokens[0], band, outer, sender=owner)


def test_set_bands__unknown_asset__reverts(stack, owner, alice):
    with ape.reverts("vault: unknown asset"):
        stack.vault.set_bands(alice, 100, 300, sender=owner)


# ---------------------------------------------------------------- set_feed (validation in test_pricing.py)


def test_set_feed__owner__stores_and_emits(stack, project, owner):
    vault, token = stack.vault, stack.tokens[0]
    feed = project.MockPriceFeed.deploy(8, 2 * 10**8, sender=owner)
    tx = vault.set_feed(token, feed, 3_600, 1, 10**12, sender=owner)
    ev = tx.events.filter(vault.FeedSet)[0]
    assert (ev.asset, ev.feed, ev.heartbeat, ev.min_answer, ev.max_answer) == (
        token.address,
        feed.address,
        3_600,
        1,
        10**12,
    )
    assert vault.price(token) == 2 * WAD


def test_set_feed__not_owner__reverts(stack, guardian):
    with ape.reverts(NOT_OWNER):
        stack.vault.set_feed(stack.tokens[0], stack.feeds[0], 3_600, 0, 10**12, sender=guardian)


def test_set_feed__unknown_asset__reverts(stack, owner, alice):
    with ape.reverts("vault: unknown asset"):
        stack.vault.set_feed(alice, stack.feeds[0], 3_600, 0, 10**12, sender=owner)


# ---------------------------------------------------------------- unknown-asset views


# asset_config and vol_scale_bps of an unknown asset: tests/unit/test_vault_lens.py (the lens's reason).


# ---------------------------------------------------------------- ownership


def test_transfer_ownership__new_owner__can_set_and_old_cannot(stack, owner, alice):
    stack.vault.transfer_ownership(alice, sender=owner)
    assert stack.vault.owner() == alice.address
    stack.vault.set_entry_haircut(0, sender=alice)
    with ape.reverts(NOT_OWNER):
        stack.vault.set_entry_haircut(0, sender=owner)


# ---------------------------------------------------------------- guardian


@pytest.fixture
def due(seeded):
    """WBTC's oracle up 40%: past its band, so the threshold trigger holds."""
    seeded.set_price(1, seeded.spec.assets[1].price * 1.4)
    assert tuple(seeded.lens.needs_rebalance(seeded.vault)) == (True, "threshold")
    return seeded


@pytest.mark.parametrize("who", ["guardian", "owner"])
def test_pause__guardian_or_owner__pauses_and_emits(stack, request, who):
    account = request.getfixturevalue(who)
    tx = stack.vault.pause(sender=account)
    assert stack.lens.paused(stack.vault)
    ev = tx.events.filter(stack.vault.Paused)[0]
    assert ev.account == account.address
    assert bool(ev.paused) is True


@pytest.mark.parametrize("who", ["guardian", "owner"])
def test_unpause__guardian_or_owner__unpauses_and_emits(stack, guardian, request, who):
    stack.vault.pause(sender=guardian)
    account = request.getfixturevalue(who)
    tx = stack.vault.unpause(sender=account)
    assert not stack.lens.paused(stack.vault)
    ev = tx.events.filter(stack.vault.Paused)[0]
    assert ev.account == account.address
    assert bool(ev.paused) is False


@pytest.mark.parametrize("who", ["guardian", "owner"])
def test_shutdown__guardian_or_owner__shuts_down_and_emits(stack, request, who):
    account = request.getfixturevalue(who)
    tx = stack.vault.shutdown(sender=account)
    assert stack.lens.is_shutdown(stack.vault)
    ev = tx.events.filter(stack.vault.Shutdown)[0]
    assert ev.account == account.address


@pytest.mark.parametrize("who", ["alice", "keeper"])
@pytest.mark.parametrize("action", ["pause", "unpause", "shutdown"])
def test_guardian_action__not_guardian__reverts(stack, request, who, action):
    account = request.getfixturevalue(who)
    with ape.reverts(NOT_GUARDIAN):
        getattr(stack.vault, action)(sender=account)


def test_guardian_action__revoked_guardian__reverts(stack, owner, guardian):
    stack.vault.set_role(guardian, ROLE_KEEPER, sender=owner)
    with ape.reverts(NOT_GUARDIAN):
        stack.vault.pause(sender=guardian)


def test_needs_rebalance__paused__false_until_unpaused(lens, due, guardian):
    vault = due.vault
    vault.pause(sender=guardian)
    assert tuple(lens.needs_rebalance(vault)) == (False, "")
    vault.unpause(sender=guardian)
    assert tuple(lens.needs_rebalance(vault)) == (True, "threshold")


def test_needs_rebalance__shut_down__false(due, guardian):
    due.vault.shutdown(sender=guardian)
    assert tuple(due.lens.needs_rebalance(due.vault)) == (False, "")


def test_shutdown__unpause__stays_shut_down(lens, seeded, guardian, bob):
    vault = seeded.vault
    vault.shutdown(sender=guardian)
    vault.unpause(sender=guardian)
    assert lens.is_shutdown(vault)
    with ape.reverts("vault: shut down"):
        vault.join(1, [1] * len(seeded.tokens), bob, sender=bob)
