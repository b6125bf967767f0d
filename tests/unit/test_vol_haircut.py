"""The entry haircut that follows volatility: sigma * sqrt(horizon / year) of the basket's most
volatile asset (the vault's own EWMA estimates), within the owner's [floor, cap]
(``rules._entry_haircut``; TECH_SPEC: entry guard)."""

from __future__ import annotations

import math

import ape
import pytest

from ballast.constants import MAX_BPS, MAX_ENTRY_HAIRCUT_BPS, PACKING, SECONDS_PER_YEAR, WAD

NOT_OWNER = "ownable: caller is not the owner"
USD, BTC = 0, 1
FLOOR, CAP, HORIZON = 10, 200, 3_600  # 0.1 % to 2 %, one hour (one sigma of an hour's move)


def expected_haircut(variance, floor, cap, horizon):
    """The vault's formula in Python: ceil(isqrt(variance * horizon * WAD / year) * 10^4 / WAD),
    clamped to [floor, cap] with the floor winning; the floor alone without a cap."""
    if cap == 0:
        return floor
    move = math.isqrt(variance * horizon * WAD // SECONDS_PER_YEAR)
    return max(floor, min(-(-move * MAX_BPS // WAD), cap))


def _max_variance(lens, stack):
    return max(lens.variance(stack.vault, token) for token in stack.tokens)


def _observe_hours(stack, chain, hours, btc_moves=()):
    """One observation an hour (the trigger's vol_min_interval); BTC's feed moves by each factor."""
    for h in range(hours):
        if btc_moves:
            stack.set_price(BTC, stack.prices[BTC] * btc_moves[h % len(btc_moves)])
        chain.pending_timestamp += stack.lens.vol_min_interval(stack.vault)
        stack.vault.observe(sender=stack.owner)


@pytest.fixture
def capped(seeded, owner):
    seeded.vault.set_haircut_bounds(FLOOR, CAP, HORIZON, sender=owner)
    return seeded


# ---------------------------------------------------------------- set_haircut_bounds


def test_set_haircut_bounds__owner__stores_and_emits(stack, lens, owner):
    tx = stack.vault.set_haircut_bounds(FLOOR, CAP, HORIZON, sender=owner)
    (ev,) = tx.events.filter(stack.vault.HaircutBoundsSet)
    assert (ev.floor_bps, ev.cap_bps, ev.horizon) == (FLOOR, CAP, HORIZON)
    assert lens.haircut_bounds(stack.vault) == (FLOOR, CAP, HORIZON)
    assert lens.entry_haircut_bps(stack.vault) == FLOOR  # the floor is the flat haircut's field


def test_set_haircut_bounds__keeps_every_other_status_field(stack, lens, owner, guardian):
    limits = stack.limits()
    stack.vault.pause(sender=guardian)
    stack.vault.set_haircut_bounds(FLOOR, CAP, 2**24 - 1, sender=owner)
    assert stack.limits() == limits and lens.paused(stack.vault)
    assert lens.haircut_bounds(stack.vault) == (FLOOR, CAP, 2**24 - 1)


def test_set_haircut_bounds__zero_cap__flat_floor_and_no_horizon(seeded, lens, owner):
    seeded.vault.set_haircut_bounds(45, 0, HORIZON, sender=owner)
    assert lens.haircut_bounds(seeded.vault) == (45, 0, 0)
    assert seeded.vault.raw_state().status >> PACKING["HAIRCUT_CAP_AT"] == 0  # the vault skips the call
    assert lens.current_entry_haircut_bps(seeded.vault) == 45


def test_set_haircut_bounds__not_owner__reverts(stack, guardian):
    with ape.reverts(NOT_OWNER):
        stack.vault.set_haircut_bounds(FLOOR, CAP, HORIZON, sender=guardian)


@pytest.mark.parametrize(
    ("floor", "cap", "horizon", "reason"),
    [
        (FLOOR, MAX_ENTRY_HAIRCUT_BPS + 1, HORIZON, "vault: haircut too high"),
        (MAX_ENTRY_HAIRCUT_BPS + 1, 0, HORIZON, "vault: haircut too high"),
        (CAP + 1, CAP, HORIZON, "vault: bad haircut bounds"),
        (FLOOR, CAP, 0, "vault: bad haircut bounds"),
        (FLOOR, CAP, 2**24, "vault: horizon too long"),
    ],
)
def test_set_haircut_bounds__bad_input__reverts(stack, owner, floor, cap, horizon, reason):
    with ape.reverts(reason):
        stack.vault.set_haircut_bounds(floor, cap, horizon, sender=owner)


# ---------------------------------------------------------------- the haircut


def test_haircut__at_the_reference_volatility__is_sigma_sqrt_horizon(capped, lens, project):
    """Fresh estimates sit at the trigger's reference, 50 % a year: 0.5 * sqrt(3600 / 31,536,000)
    = 53.4 bps, rounded up to 54. The Rules contract and the lens agree with the formula."""
    variance = _max_variance(lens, capped)
    assert variance == WAD // 4
    haircut = lens.current_entry_haircut_bps(capped.vault)
    assert haircut == expected_haircut(variance, FLOOR, CAP, HORIZON) == 54
    rules = project.Rules.at(capped.vault.RULES())
    assert rules.entry_haircut(capped.vault.raw_state().status, variance) == haircut


def test_haircut__calm_market__falls_toward_the_floor(capped, lens, chain):
    """Twelve hourly observations with unchanged prices (the first only records them): the EWMA
    decays eleven times by 0.8, to 8.6 % of the reference variance (sigma 15 % a year), and the
    haircut to 16 bps."""
    _observe_hours(capped, chain, 12)
    variance = _max_variance(lens, capped)
    haircut = lens.current_entry_haircut_bps(capped.vault)
    assert haircut == expected_haircut(variance, FLOOR, CAP, HORIZON)
    assert FLOOR < haircut < 20


def test_haircut__fast_market__rises_to_the_cap(capped, lens, chain):
    """BTC's feed swings 4 % each hour: a sigma of about 240 % a year, and the haircut to its cap."""
    _observe_hours(capped, chain, 6, btc_moves=(1.04, 1 / 1.04))
    variance = _max_variance(lens, capped)
    assert variance == capped.vault.raw_state().assets[BTC].observation >> PACKING["VARIANCE_AT"]
    assert expected_haircut(variance, FLOOR, 10_000, HORIZON) > CAP
    assert lens.current_entry_haircut_bps(capped.vault) == CAP


def test_haircut__floor_above_the_scaled_value__the_floor_wins(capped, lens, owner):
    capped.vault.set_entry_haircut(150, sender=owner)  # the floor's field, left above sigma sqrt(T)
    assert lens.haircut_bounds(capped.vault) == (150, CAP, HORIZON)
    assert lens.current_entry_haircut_bps(capped.vault) == 150


@pytest.mark.parametrize("market", ["calm", "reference", "fast"])
def test_deposit__volatility_haircut__mints_the_lens_preview_and_the_formula(capped, lens, chain, bob, market):
    """preview_deposit is exact under the scaled haircut, and equal to the flat-haircut formula
    at the haircut the vault reports."""
    if market == "calm":
        _observe_hours(capped, chain, 12)
    elif market == "fast":
        _observe_hours(capped, chain, 6, btc_moves=(1.04, 1 / 1.04))
    vault, token = capped.vault, capped.tokens[USD]
    amount = capped.units(10_000)[USD]
    capped.fund(bob, [amount, 0, 0, 0])
    preview = lens.preview_deposit(vault, token, amount)
    haircut = lens.current_entry_haircut_bps(vault)
    assert haircut == expected_haircut(_max_variance(lens, capped), FLOOR, CAP, HORIZON)
    supply, total = vault.totalSupply(), lens.total_value(vault)
    tx = vault.deposit(token, amount, 0, bob, sender=bob)
    (ev,) = tx.events.filter(vault.Deposit)
    assert ev.shares == preview
    # shares = value * (1 - h) * supply / total, up to the vault's roundings
    assert ev.shares == pytest.approx(ev.usd_value * (MAX_BPS - haircut) / MAX_BPS * supply / total, rel=1e-12)


def test_deposit__fast_market_lag_of_the_haircut__no_profit(capped, lens, chain, attacker):
    """Fast market: the haircut is at its cap. The attacker deposits WBTC at a feed about to print
    a price lower by exactly the haircut, then exits in kind after the update: against holding
    the WBTC, no gain (the closed form (1 - h)(1 - wJ)/(1 - J) - 1 <= 0 for J <= h)."""
    _observe_hours(capped, chain, 6, btc_moves=(1.04, 1 / 1.04))
    vault = capped.vault
    haircut = lens.current_entry_haircut_bps(vault)
    assert haircut == CAP
    amount = capped.units(200_000)[BTC]
    capped.fund(attacker, [0, amount, 0, 0])
    vault.deposit(capped.tokens[BTC], amount, 0, attacker, sender=attacker)
    capped.set_price(BTC, capped.prices[BTC] * (1 - haircut / MAX_BPS))
    received = vault.exit(vault.balanceOf(attacker), [0] * 4, attacker, sender=attacker)
    got = [capped.tokens[i].balanceOf(attacker) for i in range(4)]
    worth = sum(got[i] * vault.price(capped.tokens[i]) // 10 ** capped.spec.assets[i].decimals for i in range(4))
    assert received and worth <= amount * vault.price(capped.tokens[BTC]) // 10**8
