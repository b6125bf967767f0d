# pragma version 0.4.3
"""
@title Ballast basket: target weights, bands, triggers, volatility
@notice Holds what the vault is supposed to look like and decides when it
        has drifted far enough to rebalance. Targets ramp linearly from the
        old to the new weights over a set period. The hybrid trigger scales
        each band by a volatility estimate that this module computes from
        oracle observations; the keeper never supplies it.
@dev Packed so that a rebalance reads few slots (TECH_SPEC, storage notes):
     `pricing.feed_config[asset]` bits 208-255, shared with the feed that a
         rebalance reads anyway: target, bps (208-223) | band, bps (224-239)
         | outer band, bps (240-255)
     `ramp_weight[asset]`: effective target (WAD) when the ramp started; read
         only during a ramp
     `_observation[asset]`: observed price as mantissa (0-127) times ten to
         the power in bits 128-135 | variance, WAD (136-255)
     `_clock`: ramp start (0-63) | ramp end (64-127) | last rebalance (128-191)
         | last observation (192-255), seconds
     `_trigger`: type (0-7) | rebalance interval (8-71) | vol reference, WAD
         (72-135) | vol alpha, bps (136-151) | vol min interval (152-215)
     Timestamps fit 64 bits and durations are checked to; the vol reference is
     at most 10 WAD < 2**64; a variance at most 100 * (10 WAD)**2 / WAD = 1e22.
"""

from contracts.modules import constants
from contracts.modules import checks
from contracts.modules import pricing

uses: pricing


# @dev Where target, band and outer band sit in `pricing.feed_config`.
_TARGET_AT: constant(uint256) = 208
_BAND_AT: constant(uint256) = 224
_OUTER_AT: constant(uint256) = 240
_U64: constant(uint256) = 2**64 - 1
_U128: constant(uint256) = 2**128 - 1

# @dev Effective target (WAD) of each asset when the current ramp started.
ramp_weight: HashMap[address, uint256]
# @dev Packed ramp, last rebalance and last observation times (see above).
_clock: uint256
# @dev Packed trigger parameters (see above).
_trigger: uint256
# @dev Packed observed price and variance EWMA of each asset (see above).
_observation: HashMap[address, uint256]


event TargetWeightsSet:
    weights_bps: DynArray[uint256, constants.MAX_ASSETS]
    ramp_start: uint256
    ramp_end: uint256


event BandsSet:
    asset: indexed(address)
    band_bps: uint256
    outer_band_bps: uint256


event TriggerSet:
    trigger_type: uint256
    rebalance_interval: uint256
    vol_reference: uint256
    vol_alpha_bps: uint256
    vol_min_interval: uint256


event Observed:
    timestamp: uint256
    variances: DynArray[uint256, constants.MAX_ASSETS]


@deploy
def __init__():
    self._clock = block.timestamp << 128


# ---------------------------------------------------------------- getters


@view
@external
def ramp_start() -> uint256:
    """
    @notice Start (seconds) of the current target-weight ramp.
    """
    return self._clock & _U64


@view
@external
def ramp_end() -> uint256:
    """
    @notice End (seconds) of the current target-weight ramp.
    """
    return (self._clock >> 64) & _U64


@view
@external
def last_rebalance() -> uint256:
    """
    @notice Time of the last accepted rebalance (deployment time at first).
    """
    return self._last_rebalance()


@view
@external
def last_observation() -> uint256:
    """
    @notice Time of the last volatility observation (0 before the first).
    """
    return self._clock >> 192


@view
@external
def trigger_type() -> uint256:
    """
    @notice CALENDAR (0), THRESHOLD (1) or HYBRID (2).
    """
    return self._trigger & 255


@view
@external
def rebalance_interval() -> uint256:
    """
    @notice Seconds between calendar rebalances / hybrid band checks.
    """
    return (self._trigger >> 8) & _U64


@view
@external
def vol_reference() -> uint256:
    """
    @notice Annualised volatility (WAD) at which the hybrid band multiplier is 1.
    """
    return self._vol_reference()


@view
@external
def vol_alpha_bps() -> uint256:
    """
    @notice Weight of the newest observation in the variance EWMA, bps.
    """
    return (self._trigger >> 136) & 65535


@view
@external
def vol_min_interval() -> uint256:
    """
    @notice Shortest time between two volatility observations, seconds.
    """
    return self._trigger >> 152


@view
@external
def observed_price(arg0: address) -> uint256:
    """
    @notice Price (WAD) of asset `arg0` at the last observation.
    """
    return self._observed_price(self._observation[arg0])


@view
@external
def variance(arg0: address) -> uint256:
    """
    @notice EWMA of annualised variance (WAD) of asset `arg0`'s returns.
    """
    return self._observation[arg0] >> 136


# ---------------------------------------------------------------- internal


@internal
@view
def _last_rebalance() -> uint256:
    return (self._clock >> 128) & _U64


@internal
@view
def _vol_reference() -> uint256:
    return (self._trigger >> 72) & _U64


@internal
@pure
def _observed_price(packed: uint256) -> uint256:
    return (packed & _U128) * 10 ** ((packed >> 128) & 255)


@internal
def _set_bands(asset: address, band_bps: uint256, outer_band_bps: uint256):
    checks._require(band_bps > 0, "basket: zero band")
    checks._require(outer_band_bps >= band_bps and outer_band_bps <= constants.MAX_BPS, "basket: bad outer band")
    # Keep the feed and the target (bits 0-223), replace the two bands.
    pricing.feed_config[asset] = (
        (pricing.feed_config[asset] & (2**_BAND_AT - 1)) | (band_bps << _BAND_AT) | (outer_band_bps << _OUTER_AT)
    )
    log BandsSet(asset=asset, band_bps=band_bps, outer_band_bps=outer_band_bps)


@internal
def _set_targets(
    assets: DynArray[address, constants.MAX_ASSETS],
    weights_bps: DynArray[uint256, constants.MAX_ASSETS],
    ramp_duration: uint256,
):
    """
    @dev Starts a ramp from the current effective targets to `weights_bps`.
         A zero `ramp_duration` is only used at deployment.
    """
    checks._require(len(weights_bps) == len(assets), "basket: weights length")
    total: uint256 = 0
    for w: uint256 in weights_bps:
        total += w
    checks._require(total == constants.MAX_BPS, "basket: weights sum")
    start_weights: DynArray[uint256, constants.MAX_ASSETS] = self._targets(assets)
    for i: uint256 in range(len(assets), bound=constants.MAX_ASSETS):
        self.ramp_weight[assets[i]] = start_weights[i]
        config: uint256 = pricing.feed_config[assets[i]]
        pricing.feed_config[assets[i]] = (config & ~(65535 << _TARGET_AT)) | (weights_bps[i] << _TARGET_AT)
    ramp_end: uint256 = block.timestamp + ramp_duration
    checks._require(ramp_end <= _U64, "basket: ramp too long")
    self._clock = (self._clock & ~_U128) | block.timestamp | (ramp_end << 64)
    log TargetWeightsSet(weights_bps=weights_bps, ramp_start=block.timestamp, ramp_end=block.timestamp + ramp_duration)


@internal
def _set_trigger(
    trigger_type: uint256,
    rebalance_interval: uint256,
    vol_reference: uint256,
    vol_alpha_bps: uint256,
    vol_min_interval: uint256,
    assets: DynArray[address, constants.MAX_ASSETS],
):
    checks._require(trigger_type <= constants.TRIGGER_HYBRID, "basket: bad trigger")
    checks._require(rebalance_interval > 0, "basket: zero interval")
    checks._require(vol_reference > 0 and vol_reference <= 10 * constants.WAD, "basket: bad vol reference")
    checks._require(vol_alpha_bps > 0 and vol_alpha_bps <= constants.MAX_BPS, "basket: bad vol alpha")
    checks._require(vol_min_interval > 0, "basket: zero vol interval")
    checks._require(rebalance_interval | vol_min_interval <= _U64, "basket: interval too long")
    if vol_reference != self._vol_reference():
        # A new reference restarts every estimate at multiplier 1.
        for asset: address in assets:
            packed: uint256 = self._observation[asset]
            self._observation[asset] = (packed & (2**136 - 1)) | ((vol_reference * vol_reference // constants.WAD) << 136)
    self._trigger = (
        trigger_type
        | (rebalance_interval << 8)
        | (vol_reference << 72)
        | (vol_alpha_bps << 136)
        | (vol_min_interval << 152)
    )
    log TriggerSet(
        trigger_type=trigger_type,
        rebalance_interval=rebalance_interval,
        vol_reference=vol_reference,
        vol_alpha_bps=vol_alpha_bps,
        vol_min_interval=vol_min_interval,
    )


@internal
@view
def _targets(assets: DynArray[address, constants.MAX_ASSETS]) -> DynArray[uint256, constants.MAX_ASSETS]:
    """
    @dev Effective target weights (WAD) at this block, linear along the ramp,
         rounded down.
    """
    targets: DynArray[uint256, constants.MAX_ASSETS] = []
    clock: uint256 = self._clock
    start: uint256 = clock & _U64
    end: uint256 = (clock >> 64) & _U64
    for asset: address in assets:
        final: uint256 = self._target_bps(asset) * constants.BPS_TO_WAD
        if block.timestamp >= end:
            targets.append(final)
            continue
        initial: uint256 = self.ramp_weight[asset]
        elapsed: uint256 = block.timestamp - start
        # end > block.timestamp >= start, so end - start > 0.
        if final >= initial:
            targets.append(initial + (final - initial) * elapsed // (end - start))
        else:
            targets.append(initial - (initial - final) * elapsed // (end - start))
    return targets


@internal
@view
def _target_bps(asset: address) -> uint256:
    return (pricing.feed_config[asset] >> _TARGET_AT) & 65535


@internal
@view
def _band(asset: address) -> uint256:
    return (pricing.feed_config[asset] >> _BAND_AT) & 65535


@internal
@view
def _outer_band(asset: address) -> uint256:
    return pricing.feed_config[asset] >> _OUTER_AT


@internal
@view
def _vol_scale_bps(asset: address) -> uint256:
    """
    @dev Hybrid band multiplier, clamped to [VOL_SCALE_MIN_BPS, VOL_SCALE_MAX_BPS].
    """
    sigma: uint256 = isqrt((self._observation[asset] >> 136) * constants.WAD)
    scale: uint256 = sigma * constants.MAX_BPS // self._vol_reference()
    return min(max(scale, constants.VOL_SCALE_MIN_BPS), constants.VOL_SCALE_MAX_BPS)


@internal
@view
def _needs_rebalance(
    assets: DynArray[address, constants.MAX_ASSETS], drifts: DynArray[int256, constants.MAX_ASSETS]
) -> (bool, String[16]):
    """
    @dev The trigger rule, mirrored exactly by `ballast.policy.needs_rebalance`.
    """
    packed: uint256 = self._trigger
    trigger: uint256 = packed & 255
    clock_due: bool = block.timestamp >= self._last_rebalance() + ((packed >> 8) & _U64)
    if trigger == constants.TRIGGER_CALENDAR:
        if clock_due:
            return True, "calendar"
        return False, ""
    if trigger == constants.TRIGGER_THRESHOLD:
        for i: uint256 in range(len(assets), bound=constants.MAX_ASSETS):
            if convert(abs(drifts[i]), uint256) > self._band(assets[i]) * constants.BPS_TO_WAD:
                return True, "threshold"
        return False, ""
    for i: uint256 in range(len(assets), bound=constants.MAX_ASSETS):
        if convert(abs(drifts[i]), uint256) > self._outer_band(assets[i]) * constants.BPS_TO_WAD:
            return True, "outer band"
    if not clock_due:
        return False, ""
    for i: uint256 in range(len(assets), bound=constants.MAX_ASSETS):
        band: uint256 = self._band(assets[i]) * self._vol_scale_bps(assets[i]) // constants.MAX_BPS
        if convert(abs(drifts[i]), uint256) > band * constants.BPS_TO_WAD:
            return True, "hybrid"
    return False, ""


@internal
def _observe(
    assets: DynArray[address, constants.MAX_ASSETS],
    prices: DynArray[uint256, constants.MAX_ASSETS],
    rebalanced: bool,
) -> bool:
    """
    @dev Folds one price observation per asset into the variance EWMA.
         Skipped (returns False) when the last one is too recent, so that
         sampling faster cannot inflate the estimate. `rebalanced` also
         stamps the last rebalance, in the same slot write.
    """
    clock: uint256 = self._clock
    if rebalanced:
        clock = (clock & ~(_U64 << 128)) | (block.timestamp << 128)
    last: uint256 = clock >> 192
    packed_trigger: uint256 = self._trigger
    if last != 0 and block.timestamp < last + (packed_trigger >> 152):
        if rebalanced:
            self._clock = clock
        return False
    alpha: uint256 = (packed_trigger >> 136) & 65535
    reference: uint256 = (packed_trigger >> 72) & _U64
    variances: DynArray[uint256, constants.MAX_ASSETS] = []
    for i: uint256 in range(len(assets), bound=constants.MAX_ASSETS):
        asset: address = assets[i]
        packed: uint256 = self._observation[asset]
        previous: uint256 = self._observed_price(packed)
        var: uint256 = packed >> 136
        if last != 0 and previous != 0:
            move: uint256 = max(prices[i], previous) - min(prices[i], previous)
            # Cap one return at 100x so that squaring it cannot overflow.
            ret: uint256 = min(move * constants.WAD // previous, 100 * constants.WAD)
            sample: uint256 = ret * ret * constants.SECONDS_PER_YEAR // (block.timestamp - last) // constants.WAD
            var = (var * (constants.MAX_BPS - alpha) + sample * alpha) // constants.MAX_BPS
            # Cap at 100x the reference variance: a crash to near zero must not overflow later.
            var = min(var, 100 * reference * reference // constants.WAD)
        # A price is an answer below 2**128 times 10**k, k <= 18: while the
        # mantissa does not fit 128 bits it still ends in a zero, so this is exact.
        mantissa: uint256 = prices[i]
        power: uint256 = 0
        for _: uint256 in range(constants.MAX_DECIMALS):
            if mantissa <= _U128:
                break
            mantissa //= 10
            power += 1
        self._observation[asset] = mantissa | (power << 128) | (var << 136)
        variances.append(var)
    self._clock = (clock & (2**192 - 1)) | (block.timestamp << 192)
    log Observed(timestamp=block.timestamp, variances=variances)
    return True
