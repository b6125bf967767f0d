"""Governance inputs an owner could fat-finger (or an attacker could try): invalid
configurations revert with their reason, at deployment and through the setters, and only
the owner (or a guardian, for the brakes) may call them. Each setter's own revert reasons
are tested once, in tests/unit/test_admin.py; this file keeps the cases not listed there."""

import ape
import pytest

from ballast.chain.deploy import asset_configs, vault_factory
from ballast.constants import (
    BPS_TO_WAD,
    MAX_BPS,
    MAX_SLIPPAGE_BPS,
    MIN_RAMP_DURATION,
    ROLE_KEEPER,
    WAD,
)

ZERO = "0x0000000000000000000000000000000000000000"
NOT_OWNER = "ownable: caller is not the owner"
# AssetConfig field positions.
ASSET, FEED, HEARTBEAT, MIN_ANSWER, MAX_ANSWER, TARGET, BAND, OUTER = range(8)


# ---------------------------------------------------------------- target weights


@pytest.mark.parametrize(
    "weights, reason",
    [
        ([4_000, 3_000, 2_000, 999], "basket: weights sum"),
        ([4_000, 3_000, 2_000, 1_001], "basket: weights sum"),
    ],
    ids=["sum-low", "sum-high"],
)  # all-zero, too short, too long: test_admin.py::test_set_target_weights__{not_summing_to_max_bps,wrong_length}
def test_set_target_weights__invalid_weights__reverts(stack, owner, weights, reason):
    with ape.reverts(reason):
        stack.vault.set_target_weights(weights, MIN_RAMP_DURATION, sender=owner)


# MIN_RAMP_DURATION - 1: test_admin.py::test_set_target_weights__ramp_too_short__reverts
@pytest.mark.parametrize("ramp", [0, 1], ids=["zero", "one-second"])
def test_set_target_weights__ramp_too_short__reverts(seeded, owner, ramp):
    # A vault that holds something (an empty one may retarget at once: test_admin.py).
    with ape.reverts("vault: ramp too short"):
        seeded.vault.set_target_weights([2_500] * 4, ramp, sender=owner)


def test_set_target_weights__minimum_ramp__starts_from_current_targets(lens, stack, owner):
    vault = stack.vault
    before = list(lens.target_weights(vault))
    tx = vault.set_target_weights([2_500] * 4, MIN_RAMP_DURATION, sender=owner)
    assert lens.ramp_end(vault) - lens.ramp_start(vault) == MIN_RAMP_DURATION
    assert lens.ramp_start(vault) == tx.timestamp
    # A view in the next block is at most a second or so into the ramp: no jump.
    for t0, t in zip(before, lens.target_weights(vault)):
        assert abs(t - t0) * MIN_RAMP_DURATION <= 2 * WAD


def test_set_target_weights__new_ramp_mid_ramp__restarts_from_effective_targets(lens, stack, owner, chain):
    """Changing course mid-ramp cannot make the targets jump either."""
    vault = stack.vault
    vault.set_target_weights([1_000, 1_000, 1_000, 7_000], MIN_RAMP_DURATION, sender=owner)
    chain.pending_timestamp += MIN_RAMP_DURATION // 2
    chain.mine()
    midway = list(lens.target_weights(vault))
    vault.set_target_weights([7_000, 1_000, 1_000, 1_000], MIN_RAMP_DURATION, sender=owner)
    largest_move = 6_000 * BPS_TO_WAD  # no target moves more than 60 points over a ramp
    for t0, t in zip(midway, lens.target_weights(vault)):
        assert abs(t - t0) * MIN_RAMP_DURATION <= 2 * largest_move  # two seconds of ramp at most


# ---------------------------------------------------------------- bands


@pytest.mark.parametrize(
    "band, outer, reason",
    [
        (0, 900, "basket: zero band"),
        (0, 0, "basket: zero band"),
    ],
    ids=["zero-band", "both-zero"],
)  # outer band below the band or above 100 %: test_admin.py::test_set_bands__bad_outer_band__reverts
def test_set_bands__invalid__reverts(stack, owner, band, outer, reason):
    with ape.reverts(reason):
        stack.vault.set_bands(stack.tokens[0], band, outer, sender=owner)


def test_set_bands__unknown_asset__reverts(project, stack, owner):
    stranger = project.MockERC20.deploy("Stranger", "STR", 18, sender=owner)
    with ape.reverts("vault: unknown asset"):
        stack.vault.set_bands(stranger, 300, 900, sender=owner)


# ---------------------------------------------------------------- deployment


def _deploy_args(stack):
    spec = stack.spec
    configs = [list(c) for c in asset_configs(spec, stack.tokens, stack.feeds)]
    trigger = (spec.trigger_type, spec.interval, spec.vol_reference, spec.vol_alpha_bps, spec.vol_min_interval)
    limits = (spec.max_slippage_bps, spec.max_cost_bps, spec.turnover_cap_bps, spec.turnover_period, spec.cooldown)
    return configs, trigger, limits


def _duplicate(configs):
    configs[3][ASSET] = configs[0][ASSET]


def _weights_off(configs):
    configs[0][TARGET] += 1


def _zero_band(configs):
    configs[2][BAND] = 0


def _one_asset(configs):
    del configs[1:]
    configs[0][TARGET] = MAX_BPS


def _zero_asset(configs):
    configs[1][ASSET] = ZERO


def _zero_feed(configs):
    configs[1][FEED] = ZERO


def _inverted_bounds(configs):
    configs[1][MIN_ANSWER], configs[1][MAX_ANSWER] = 10**12, 10**6


def _zero_heartbeat(configs):
    configs[1][HEARTBEAT] = 0


@pytest.mark.parametrize(
    "corrupt, reason",
    [
        (_duplicate, "vault: duplicate asset"),
        (_weights_off, "basket: weights sum"),
        (_zero_band, "basket: zero band"),
        (_one_asset, "vault: too few assets"),
        (_zero_asset, "vault: zero address"),
        (_zero_feed, "pricing: zero feed"),
        (_inverted_bounds, "pricing: bad bounds"),
        (_zero_heartbeat, "pricing: bad heartbeat"),
    ],
    ids=lambda v: v.__name__.strip("_") if callable(v) else None,
)
def test_deploy__invalid_asset_config__reverts(project, stack, owner, corrupt, reason):
    configs, trigger, limits = _deploy_args(stack)
    corrupt(configs)
    factory = vault_factory(project, owner)
    with ape.reverts(reason):
        factory.deploy_vault(
            "Bad", "BAD", [tuple(c) for c in configs], trigger, limits, 30, [], owner, owner, owner, sender=owner
        )


def test_deploy__valid_config__succeeds(project, stack, owner):
    """Control for the cases above: the uncorrupted arguments deploy."""
    configs, trigger, limits = _deploy_args(stack)
    factory = vault_factory(project, owner)
    tx = factory.deploy_vault(
        "Good", "GOOD", [tuple(c) for c in configs], trigger, limits, 30, [], owner, owner, owner, sender=owner
    )
    vault = project.Vault.at(tx.events.filter(factory.VaultDeployed)[0].vault)
    assert list(vault.get_assets()) == [t.address for t in stack.tokens]


# ---------------------------------------------------------------- limits, trigger, roles, feeds


# set_limits, set_entry_haircut, set_trigger and set_role input reverts: tests/unit/test_admin.py, not repeated here.


def test_set_feed__invalid__reverts(stack, owner):
    vault, token, feed = stack.vault, stack.tokens[1], stack.feeds[1]
    with ape.reverts("pricing: bad bounds"):
        vault.set_feed(token, feed, 3_600, 5, 5, sender=owner)
    with ape.reverts("pricing: bad bounds"):
        vault.set_feed(token, feed, 3_600, 0, 2**128, sender=owner)
    with ape.reverts("pricing: bad heartbeat"):
        vault.set_feed(token, feed, 2**32, 0, 2**128 - 1, sender=owner)
    with ape.reverts("pricing: zero feed"):
        vault.set_feed(token, ZERO, 3_600, 0, 2**128 - 1, sender=owner)


# ---------------------------------------------------------------- who may call


def _owner_calls(stack, attacker):
    vault, token, feed = stack.vault, stack.tokens[0], stack.feeds[0]
    spec = stack.spec
    return {
        "set_target_weights": lambda: vault.set_target_weights([2_500] * 4, MIN_RAMP_DURATION, sender=attacker),
        "set_bands": lambda: vault.set_bands(token, 300, 900, sender=attacker),
        "set_feed": lambda: vault.set_feed(token, feed, 3_600, 0, 2**128 - 1, sender=attacker),
        "set_venue": lambda: vault.set_venue(attacker, True, sender=attacker),
        "set_role": lambda: vault.set_role(attacker, ROLE_KEEPER, sender=attacker),
        "set_limits": lambda: vault.set_limits(stack.limits(max_slippage_bps=MAX_SLIPPAGE_BPS), sender=attacker),
        "set_entry_haircut": lambda: vault.set_entry_haircut(0, sender=attacker),
        "set_trigger": lambda: vault.set_trigger(
            (spec.trigger_type, spec.interval, spec.vol_reference, spec.vol_alpha_bps, spec.vol_min_interval),
            sender=attacker,
        ),
        "transfer_ownership": lambda: vault.transfer_ownership(attacker, sender=attacker),
    }


@pytest.mark.parametrize(
    "name",
    [
        "set_target_weights",
        "set_bands",
        "set_feed",
        "set_venue",
        "set_role",
        "set_limits",
        "set_entry_haircut",
        "set_trigger",
        "transfer_ownership",
    ],
)
def test_owner_setter__called_by_attacker__reverts(stack, attacker, name):
    with ape.reverts(NOT_OWNER):
        _owner_calls(stack, attacker)[name]()


def test_owner_setter__called_by_keeper_or_guardian__reverts(stack, keeper, guardian):
    for account in (keeper, guardian):
        with ape.reverts(NOT_OWNER):
            stack.vault.set_venue(account, True, sender=account)
        with ape.reverts(NOT_OWNER):
            stack.vault.set_limits(stack.limits(max_slippage_bps=MAX_SLIPPAGE_BPS), sender=account)


def test_guardian_functions__called_by_attacker_or_keeper__revert(stack, attacker, keeper):
    for account in (attacker, keeper):
        for fn in (stack.vault.pause, stack.vault.unpause, stack.vault.shutdown):
            with ape.reverts("vault: not guardian"):
                fn(sender=account)
