# pragma version 0.4.3
"""
@title Ballast rules: the vault's arithmetic over its raw state, as pure functions
@notice Target ramps, weights, drift, the trigger, and the amounts of a join,
        an exit and a deposit, each a pure function of the vault's packed
        words (see `packing`), balances and prices. The vault computes its
        entries and its rebalance checks with them; `VaultLens` computes the
        views and previews with the same functions over the vault's
        `raw_state()`, so what the lens shows is what the vault enforces.
@dev Rounding, always in the vault's favour: values and weights round
     down, join amounts up, exit amounts and deposit shares down.
"""

from snekmate.utils import math
from contracts.modules import constants
from contracts.modules import packing


@internal
@pure
def _value(amount: uint256, price: uint256, config: uint256, roundup: bool) -> uint256:
    """
    @dev USD value (WAD) of `amount` base units of the asset whose feed
         config word is `config`, at `price` (WAD per whole token).
    """
    decimals: uint256 = packing._unpack(config, packing.TOKEN_DECIMALS_AT, packing.DECIMALS_BITS)
    return math._mul_div(amount, price, 10**decimals, roundup)


@internal
@pure
def _weights(values: DynArray[uint256, constants.MAX_ASSETS]) -> (uint256, DynArray[uint256, constants.MAX_ASSETS]):
    """
    @dev Total of `values` and each one's weight (WAD), rounded down. An
         empty vault has all-zero weights.
    """
    total: uint256 = 0
    for usd_value: uint256 in values:
        total += usd_value
    weights: DynArray[uint256, constants.MAX_ASSETS] = []
    for usd_value: uint256 in values:
        if total == 0:
            weights.append(0)
        else:
            weights.append(usd_value * constants.WAD // total)
    return total, weights


@internal
@pure
def _drifts(
    weights: DynArray[uint256, constants.MAX_ASSETS], targets: DynArray[uint256, constants.MAX_ASSETS]
) -> DynArray[int256, constants.MAX_ASSETS]:
    """
    @dev Weight minus target of each asset (WAD, signed).
    """
    drifts: DynArray[int256, constants.MAX_ASSETS] = []
    for i: uint256 in range(len(weights), bound=constants.MAX_ASSETS):
        # Both are at most WAD, far inside int256.
        drifts.append(convert(weights[i], int256) - convert(targets[i], int256))
    return drifts


@internal
@pure
def _targets(
    clock: uint256,
    configs: DynArray[uint256, constants.MAX_ASSETS],
    ramp_weights: DynArray[uint256, constants.MAX_ASSETS],
    now: uint256,
) -> DynArray[uint256, constants.MAX_ASSETS]:
    """
    @dev Effective target weights (WAD) at `now`, linear along the ramp,
         rounded down. `ramp_weights` (each asset's target when the ramp
         started) is read only while the ramp runs, so it may be empty after.
    """
    start: uint256 = packing._unpack(clock, packing.RAMP_START_AT, packing.TIME_BITS)
    end: uint256 = packing._unpack(clock, packing.RAMP_END_AT, packing.TIME_BITS)
    targets: DynArray[uint256, constants.MAX_ASSETS] = []
    for i: uint256 in range(len(configs), bound=constants.MAX_ASSETS):
        final: uint256 = packing._unpack(configs[i], packing.TARGET_AT, packing.BPS_BITS) * constants.BPS_TO_WAD
        if now >= end:
            targets.append(final)
            continue
        initial: uint256 = ramp_weights[i]
        elapsed: uint256 = now - start
        # end > now >= start, so end - start > 0.
        if final >= initial:
            targets.append(initial + (final - initial) * elapsed // (end - start))
        else:
            targets.append(initial - (initial - final) * elapsed // (end - start))
    return targets


@internal
@pure
def _vol_scale_bps(observation: uint256, trigger: uint256) -> uint256:
    """
    @dev Hybrid band multiplier from an asset's variance estimate, clamped
         to [VOL_SCALE_MIN_BPS, VOL_SCALE_MAX_BPS].
    """
    variance: uint256 = packing._unpack(observation, packing.VARIANCE_AT, packing.VARIANCE_BITS)
    reference: uint256 = packing._unpack(trigger, packing.VOL_REFERENCE_AT, packing.VOL_REFERENCE_BITS)
    scale: uint256 = isqrt(variance * constants.WAD) * constants.MAX_BPS // reference
    return min(max(scale, constants.VOL_SCALE_MIN_BPS), constants.VOL_SCALE_MAX_BPS)


@internal
@pure
def _needs_rebalance(
    trigger: uint256,
    clock: uint256,
    configs: DynArray[uint256, constants.MAX_ASSETS],
    observations: DynArray[uint256, constants.MAX_ASSETS],
    drifts: DynArray[int256, constants.MAX_ASSETS],
    now: uint256,
) -> (bool, String[16]):
    """
    @dev The trigger rule, mirrored exactly by `ballast.policy.needs_rebalance`.
         `observations` is read only by the hybrid trigger's clocked check.
    """
    trigger_type: uint256 = packing._unpack(trigger, packing.TRIGGER_TYPE_AT, packing.TRIGGER_TYPE_BITS)
    interval: uint256 = packing._unpack(trigger, packing.INTERVAL_AT, packing.INTERVAL_BITS)
    clock_due: bool = now >= packing._unpack(clock, packing.LAST_REBALANCE_AT, packing.TIME_BITS) + interval
    if trigger_type == constants.TRIGGER_CALENDAR:
        if clock_due:
            return True, "calendar"
        return False, ""
    if trigger_type == constants.TRIGGER_THRESHOLD:
        for i: uint256 in range(len(configs), bound=constants.MAX_ASSETS):
            if self._exceeds(drifts[i], packing._unpack(configs[i], packing.BAND_AT, packing.BPS_BITS)):
                return True, "threshold"
        return False, ""
    for i: uint256 in range(len(configs), bound=constants.MAX_ASSETS):
        if self._exceeds(drifts[i], packing._unpack(configs[i], packing.OUTER_BAND_AT, packing.BPS_BITS)):
            return True, "outer band"
    if not clock_due:
        return False, ""
    for i: uint256 in range(len(configs), bound=constants.MAX_ASSETS):
        band: uint256 = packing._unpack(configs[i], packing.BAND_AT, packing.BPS_BITS)
        if self._exceeds(drifts[i], band * self._vol_scale_bps(observations[i], trigger) // constants.MAX_BPS):
            return True, "hybrid"
    return False, ""


@internal
@pure
def _observe(
    observations: DynArray[uint256, constants.MAX_ASSETS],
    prices: DynArray[uint256, constants.MAX_ASSETS],
    clock: uint256,
    trigger: uint256,
    now: uint256,
) -> (DynArray[uint256, constants.MAX_ASSETS], DynArray[uint256, constants.MAX_ASSETS]):
    """
    @dev Folds one price observation per asset into the variance EWMA and
         returns the new observation words and variances. Returns nothing
         when the last observation is closer than `vol_min_interval`, so
         that sampling faster cannot inflate the estimate.
    """
    words: DynArray[uint256, constants.MAX_ASSETS] = []
    variances: DynArray[uint256, constants.MAX_ASSETS] = []
    last: uint256 = packing._unpack(clock, packing.LAST_OBSERVATION_AT, packing.TIME_BITS)
    if last != 0 and now < last + packing._unpack(trigger, packing.VOL_MIN_INTERVAL_AT, packing.INTERVAL_BITS):
        return words, variances
    alpha: uint256 = packing._unpack(trigger, packing.VOL_ALPHA_AT, packing.BPS_BITS)
    reference: uint256 = packing._unpack(trigger, packing.VOL_REFERENCE_AT, packing.VOL_REFERENCE_BITS)
    for i: uint256 in range(len(prices), bound=constants.MAX_ASSETS):
        observation: uint256 = observations[i]
        previous: uint256 = packing._observed_price(observation)
        var: uint256 = packing._unpack(observation, packing.VARIANCE_AT, packing.VARIANCE_BITS)
        if last != 0 and previous != 0:
            move: uint256 = max(prices[i], previous) - min(prices[i], previous)
            # Cap one return at 100x so that squaring it cannot overflow.
            ret: uint256 = min(move * constants.WAD // previous, 100 * constants.WAD)
            sample: uint256 = ret * ret * constants.SECONDS_PER_YEAR // (now - last) // constants.WAD
            var = (var * (constants.MAX_BPS - alpha) + sample * alpha) // constants.MAX_BPS
            # Cap at 100x the reference variance: a crash to near zero must not overflow later.
            var = min(var, 100 * reference * reference // constants.WAD)
        # A price is an answer below 2**128 times 10**k, k <= 18: while the
        # mantissa does not fit 128 bits it still ends in a zero, so this is exact.
        mantissa: uint256 = prices[i]
        power: uint256 = 0
        for _: uint256 in range(constants.MAX_DECIMALS):
            if mantissa >> packing.MANTISSA_BITS == 0:
                break
            mantissa //= 10
            power += 1
        word: uint256 = packing._pack(0, packing.MANTISSA_AT, packing.MANTISSA_BITS, mantissa)
        word = packing._pack(word, packing.POWER_AT, packing.POWER_BITS, power)
        words.append(packing._pack(word, packing.VARIANCE_AT, packing.VARIANCE_BITS, var))
        variances.append(var)
    return words, variances


@internal
@pure
def _check_drifts(
    drifts_before: DynArray[int256, constants.MAX_ASSETS],
    drifts_after: DynArray[int256, constants.MAX_ASSETS],
    configs: DynArray[uint256, constants.MAX_ASSETS],
    tolerance: uint256,
) -> (uint256, uint256):
    """
    @dev A rebalance's drift rules: no asset's drift grown by more than
         `tolerance`, none pushed past its band on the other side, and the
         total drift lowered. Returns the total drift before and after.
    """
    total_before: uint256 = 0
    total_after: uint256 = 0
    for i: uint256 in range(len(drifts_before), bound=constants.MAX_ASSETS):
        before: uint256 = convert(abs(drifts_before[i]), uint256)
        after: uint256 = convert(abs(drifts_after[i]), uint256)
        assert after <= before + tolerance, "vault: drift grew"
        band: int256 = convert(packing._unpack(configs[i], packing.BAND_AT, packing.BPS_BITS) * constants.BPS_TO_WAD, int256)
        crossed: bool = (drifts_before[i] > 0 and drifts_after[i] < -band) or (drifts_before[i] < 0 and drifts_after[i] > band)
        assert not crossed, "vault: overshoot"
        total_before += before
        total_after += after
    assert total_after < total_before, "vault: drift not reduced"
    return total_before, total_after


@internal
@pure
def _turnover_used(turnover: uint256, status: uint256, vault_value: uint256, now: uint256) -> uint256:
    """
    @dev Value (USD, WAD) still counted against the turnover cap at `now`: the
         last spend's total, less a refill of `turnover_cap_bps` of
         `vault_value` per `turnover_period` since (rounded down). Any
         interval of length d can trade at most cap * (1 + d / period), so no
         window boundary lets a keeper spend twice the cap at once.
    """
    used: uint256 = packing._unpack(turnover, packing.USED_AT, packing.USED_BITS)
    elapsed: uint256 = now - packing._unpack(turnover, packing.SPENT_AT, packing.TIME_BITS)
    cap: uint256 = packing._unpack(status, packing.TURNOVER_CAP_AT, packing.TURNOVER_CAP_BITS)
    period: uint256 = packing._unpack(status, packing.TURNOVER_PERIOD_AT, packing.DURATION_BITS)
    return used - min(used, vault_value * cap * elapsed // (period * constants.MAX_BPS))


@internal
@pure
def _exceeds(drift: int256, band_bps: uint256) -> bool:
    return convert(abs(drift), uint256) > band_bps * constants.BPS_TO_WAD


@internal
@pure
def _join_amounts(
    shares: uint256, balances: DynArray[uint256, constants.MAX_ASSETS], supply: uint256
) -> DynArray[uint256, constants.MAX_ASSETS]:
    """
    @dev What minting `shares` of `supply` takes of each balance, rounded up.
    """
    amounts: DynArray[uint256, constants.MAX_ASSETS] = []
    for balance: uint256 in balances:
        amounts.append(math._mul_div(shares, balance, supply, True))
    return amounts


@internal
@pure
def _exit_amounts(
    shares: uint256, balances: DynArray[uint256, constants.MAX_ASSETS], supply: uint256
) -> DynArray[uint256, constants.MAX_ASSETS]:
    """
    @dev What burning `shares` of `supply` pays of each balance, rounded
         down; nothing when there is no supply.
    """
    amounts: DynArray[uint256, constants.MAX_ASSETS] = []
    for balance: uint256 in balances:
        if supply == 0:
            amounts.append(0)
        else:
            amounts.append(math._mul_div(shares, balance, supply, False))
    return amounts


@internal
@pure
def _max_variance(observations: DynArray[uint256, constants.MAX_ASSETS]) -> uint256:
    """
    @dev The largest variance EWMA (annualised, WAD) of the observation words.
    """
    variance: uint256 = 0
    for observation: uint256 in observations:
        variance = max(variance, packing._unpack(observation, packing.VARIANCE_AT, packing.VARIANCE_BITS))
    return variance


@internal
@pure
def _entry_haircut(status: uint256, variance: uint256) -> uint256:
    """
    @dev The haircut (bps) on a single-asset deposit. With a cap set, it is
         sigma * sqrt(horizon / year), sigma = sqrt(`variance`), the largest
         annualised volatility among the basket's EWMA estimates, rounded
         up, then clamped to [floor, cap], the floor winning; else the
         floor. One asset's oracle lag of J gains a depositor about (1 - w) J
         of the deposit (the lagging asset) or w J (another one), both at
         most J: a haircut of sigma sqrt(T) covers a one-sigma move of the
         most volatile asset over T, z sigma sqrt(T) a horizon of z**2 T
         (TECH_SPEC: entry guard).
    """
    least: uint256 = packing._unpack(status, packing.HAIRCUT_AT, packing.BPS_BITS)
    cap: uint256 = packing._unpack(status, packing.HAIRCUT_CAP_AT, packing.BPS_BITS)
    if cap == 0:
        return least
    horizon: uint256 = packing._unpack(status, packing.HORIZON_AT, packing.HORIZON_BITS)
    # variance < 2**120 and horizon < 2**24: the product stays below 2**205.
    move: uint256 = isqrt(variance * horizon * constants.WAD // constants.SECONDS_PER_YEAR)
    scaled: uint256 = math._ceil_div(move * constants.MAX_BPS, constants.WAD)
    return max(least, min(scaled, cap))


@internal
@pure
def _deposit_shares(usd_value: uint256, vault_value_up: uint256, haircut_bps: uint256, supply: uint256) -> uint256:
    """
    @dev Shares for a deposit worth `usd_value` after the haircut, rounded
         down, into a vault worth `vault_value_up` (rounded up: fewer shares)
         with `supply` shares.
    """
    net: uint256 = math._mul_div(usd_value, constants.MAX_BPS - haircut_bps, constants.MAX_BPS, False)
    if supply == 0:
        if net <= constants.DEAD_SHARES:
            return 0
        return net - constants.DEAD_SHARES
    if vault_value_up == 0:
        # Only the dead shares remain and they own nothing: price at 1 USD.
        return net
    return math._mul_div(net, supply, vault_value_up, False)
