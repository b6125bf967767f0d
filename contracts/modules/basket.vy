# pragma version 0.4.3
"""
@title Ballast basket: target weights, bands, triggers, volatility
@notice Holds what the vault is supposed to look like and decides when it
        has drifted far enough to rebalance. Targets ramp linearly from the
        old to the new weights over a set period. The hybrid trigger scales
        each band by a volatility estimate that this module computes from
        oracle observations; the keeper never supplies it.
@dev One packed slot per asset, `asset_params`:
     ramp start weight, WAD (bits 0-63) | new target, bps (64-79)
     | band, bps (80-95) | outer band, bps (96-111)
"""

from contracts.modules import constants


# @dev Low 80 bits of `asset_params`: ramp-start weight and target.
_TARGET_BITS: constant(uint256) = 2**80 - 1
# @dev Low 64 bits of `asset_params`: ramp-start weight.
_START_BITS: constant(uint256) = 2**64 - 1

# @dev Packed ramp-start weight, target, band and outer band of each asset.
asset_params: HashMap[address, uint256]
# @dev Start and end (seconds) of the current target-weight ramp.
ramp_start: public(uint256)
ramp_end: public(uint256)
# @dev CALENDAR (0), THRESHOLD (1) or HYBRID (2).
trigger_type: public(uint256)
# @dev Seconds between calendar rebalances / hybrid band checks.
rebalance_interval: public(uint256)
# @dev Time of the last accepted rebalance (deployment time at first).
last_rebalance: public(uint256)
# @dev Annualised volatility (WAD) at which the hybrid band multiplier is 1.
vol_reference: public(uint256)
# @dev Weight of the newest observation in the variance EWMA, bps.
vol_alpha_bps: public(uint256)
# @dev Shortest time between two volatility observations, seconds.
vol_min_interval: public(uint256)
# @dev Time of the last volatility observation.
last_observation: public(uint256)
# @dev Price (WAD) at the last observation, per asset.
observed_price: public(HashMap[address, uint256])
# @dev EWMA of annualised variance (WAD) of each asset's returns.
variance: public(HashMap[address, uint256])


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
    self.last_rebalance = block.timestamp


@internal
def _set_bands(asset: address, band_bps: uint256, outer_band_bps: uint256):
    assert band_bps > 0, "basket: zero band"
    assert outer_band_bps >= band_bps and outer_band_bps <= constants.MAX_BPS, "basket: bad outer band"
    params: uint256 = self.asset_params[asset]
    # Keep bits 0-79 (ramp-start weight, target), replace the two bands.
    params = (params & _TARGET_BITS) | (band_bps << 80) | (outer_band_bps << 96)
    self.asset_params[asset] = params
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
    assert len(weights_bps) == len(assets), "basket: weights length"
    total: uint256 = 0
    for w: uint256 in weights_bps:
        total += w
    assert total == constants.MAX_BPS, "basket: weights sum"
    start_weights: DynArray[uint256, constants.MAX_ASSETS] = self._targets(assets)
    for i: uint256 in range(len(assets), bound=constants.MAX_ASSETS):
        params: uint256 = self.asset_params[assets[i]]
        self.asset_params[assets[i]] = (
            (params & ~_TARGET_BITS) | start_weights[i] | (weights_bps[i] << 64)
        )
    self.ramp_start = block.timestamp
    self.ramp_end = block.timestamp + ramp_duration
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
    assert trigger_type <= constants.TRIGGER_HYBRID, "basket: bad trigger"
    assert rebalance_interval > 0, "basket: zero interval"
    assert vol_reference > 0 and vol_reference <= 10 * constants.WAD, "basket: bad vol reference"
    assert vol_alpha_bps > 0 and vol_alpha_bps <= constants.MAX_BPS, "basket: bad vol alpha"
    assert vol_min_interval > 0, "basket: zero vol interval"
    if vol_reference != self.vol_reference:
        # A new reference restarts every estimate at multiplier 1.
        for asset: address in assets:
            self.variance[asset] = vol_reference * vol_reference // constants.WAD
    self.trigger_type = trigger_type
    self.rebalance_interval = rebalance_interval
    self.vol_reference = vol_reference
    self.vol_alpha_bps = vol_alpha_bps
    self.vol_min_interval = vol_min_interval
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
    start: uint256 = self.ramp_start
    end: uint256 = self.ramp_end
    for asset: address in assets:
        params: uint256 = self.asset_params[asset]
        final: uint256 = ((params >> 64) & 65535) * constants.BPS_TO_WAD
        if block.timestamp >= end:
            targets.append(final)
            continue
        initial: uint256 = params & _START_BITS
        elapsed: uint256 = block.timestamp - start
        # end > block.timestamp >= start, so end - start > 0.
        if final >= initial:
            targets.append(initial + (final - initial) * elapsed // (end - start))
        else:
            targets.append(initial - (initial - final) * elapsed // (end - start))
    return targets


@internal
@view
def _band(asset: address) -> uint256:
    return (self.asset_params[asset] >> 80) & 65535


@internal
@view
def _outer_band(asset: address) -> uint256:
    return (self.asset_params[asset] >> 96) & 65535


@internal
@view
def _vol_scale_bps(asset: address) -> uint256:
    """
    @dev Hybrid band multiplier, clamped to [VOL_SCALE_MIN_BPS, VOL_SCALE_MAX_BPS].
    """
    sigma: uint256 = isqrt(self.variance[asset] * constants.WAD)
    scale: uint256 = sigma * constants.MAX_BPS // self.vol_reference
    return min(max(scale, constants.VOL_SCALE_MIN_BPS), constants.VOL_SCALE_MAX_BPS)


@internal
@view
def _needs_rebalance(
    assets: DynArray[address, constants.MAX_ASSETS], drifts: DynArray[int256, constants.MAX_ASSETS]
) -> (bool, String[16]):
    """
    @dev The trigger rule, mirrored exactly by `ballast.policy.needs_rebalance`.
    """
    trigger: uint256 = self.trigger_type
    clock_due: bool = block.timestamp >= self.last_rebalance + self.rebalance_interval
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
def _observe(assets: DynArray[address, constants.MAX_ASSETS], prices: DynArray[uint256, constants.MAX_ASSETS]) -> bool:
    """
    @dev Folds one price observation per asset into the variance EWMA.
         Skipped (returns False) when the last one is too recent, so that
         sampling faster cannot inflate the estimate.
    """
    last: uint256 = self.last_observation
    if last != 0 and block.timestamp < last + self.vol_min_interval:
        return False
    alpha: uint256 = self.vol_alpha_bps
    variances: DynArray[uint256, constants.MAX_ASSETS] = []
    for i: uint256 in range(len(assets), bound=constants.MAX_ASSETS):
        asset: address = assets[i]
        previous: uint256 = self.observed_price[asset]
        var: uint256 = self.variance[asset]
        if last != 0 and previous != 0:
            move: uint256 = max(prices[i], previous) - min(prices[i], previous)
            # Cap one return at 100x so that squaring it cannot overflow.
            ret: uint256 = min(move * constants.WAD // previous, 100 * constants.WAD)
            sample: uint256 = ret * ret * constants.SECONDS_PER_YEAR // (block.timestamp - last) // constants.WAD
            var = (var * (constants.MAX_BPS - alpha) + sample * alpha) // constants.MAX_BPS
            # Cap at 100x the reference variance: a crash to near zero must not overflow later.
            var = min(var, 100 * self.vol_reference * self.vol_reference // constants.WAD)
            self.variance[asset] = var
        self.observed_price[asset] = prices[i]
        variances.append(var)
    self.last_observation = block.timestamp
    log Observed(timestamp=block.timestamp, variances=variances)
    return True
