# pragma version 0.4.3
"""
@title Ballast basket: target weights, bands, triggers, volatility
@notice Holds what the vault is supposed to look like and decides when it
        has drifted far enough to rebalance. Targets ramp linearly from the
        old to the new weights over a set period. The hybrid trigger scales
        each band by a volatility estimate that this module computes from
        oracle observations; the keeper never supplies it.
@dev Packed so that a rebalance reads few slots; every layout is in
     `packing`. Target and bands share each asset's `pricing.feed_config`
     word with its feed, which a rebalance reads anyway. `ramp_weight` is
     read only during a ramp. The vault's `raw_state()` returns these words
     as they are, for `VaultLens` to decode with the same `rules`.
     Timestamps fit 64 bits and durations are checked to; the vol reference is
     at most 10 WAD < 2**64; a variance at most 100 * (10 WAD)**2 / WAD = 1e22.
"""

from interfaces import IRules
from interfaces import IVault
from contracts.modules import constants
from contracts.modules import checks
from contracts.modules import pricing
from contracts.modules import packing

uses: pricing


# @dev The shared pure rules (`contracts/Rules.vy`): the ramp, the trigger and
#      the volatility update run there, outside the vault's code.
RULES: public(immutable(address))

# @dev Effective target (WAD) of each asset when the current ramp started.
ramp_weight: HashMap[address, uint256]
# @dev Packed ramp, last rebalance and last observation times (`packing`: clock).
_clock: uint256
# @dev Packed trigger parameters (`packing`: trigger).
_trigger: uint256
# @dev Packed observed price and variance EWMA of each asset (`packing`: observation).
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
def __init__(rules_contract: address):
    RULES = rules_contract
    self._clock = packing._pack(0, packing.LAST_REBALANCE_AT, packing.TIME_BITS, block.timestamp)


# ---------------------------------------------------------------- internal


@internal
@view
def _last_rebalance() -> uint256:
    return packing._unpack(self._clock, packing.LAST_REBALANCE_AT, packing.TIME_BITS)


@internal
@view
def _band(asset: address) -> uint256:
    return packing._unpack(pricing.feed_config[asset], packing.BAND_AT, packing.BPS_BITS)


@internal
def _set_bands(asset: address, band_bps: uint256, outer_band_bps: uint256):
    checks._require(band_bps > 0, "basket: zero band")
    checks._require(outer_band_bps >= band_bps and outer_band_bps <= constants.MAX_BPS, "basket: bad outer band")
    config: uint256 = packing._pack(pricing.feed_config[asset], packing.BAND_AT, packing.BPS_BITS, band_bps)
    pricing.feed_config[asset] = packing._pack(config, packing.OUTER_BAND_AT, packing.BPS_BITS, outer_band_bps)
    log BandsSet(asset=asset, band_bps=band_bps, outer_band_bps=outer_band_bps)


@internal
def _set_targets(
    assets: DynArray[address, constants.MAX_ASSETS],
    weights_bps: DynArray[uint256, constants.MAX_ASSETS],
    ramp_duration: uint256,
):
    """
    @dev Starts a ramp from the current effective targets to `weights_bps`.
         A zero `ramp_duration` sets them at once (the vault allows it only
         while it holds nothing).
    """
    checks._require(len(weights_bps) == len(assets), "basket: weights length")
    total: uint256 = 0
    for w: uint256 in weights_bps:
        total += w
    checks._require(total == constants.MAX_BPS, "basket: weights sum")
    start_weights: DynArray[uint256, constants.MAX_ASSETS] = self._targets(assets)
    for i: uint256 in range(len(assets), bound=constants.MAX_ASSETS):
        self.ramp_weight[assets[i]] = start_weights[i]
        pricing.feed_config[assets[i]] = packing._pack(
            pricing.feed_config[assets[i]], packing.TARGET_AT, packing.BPS_BITS, weights_bps[i]
        )
    ramp_end: uint256 = block.timestamp + ramp_duration
    checks._require(ramp_end <= packing.MAX_U64, "basket: ramp too long")
    clock: uint256 = packing._pack(self._clock, packing.RAMP_START_AT, packing.TIME_BITS, block.timestamp)
    self._clock = packing._pack(clock, packing.RAMP_END_AT, packing.TIME_BITS, ramp_end)
    log TargetWeightsSet(weights_bps=weights_bps, ramp_start=block.timestamp, ramp_end=ramp_end)


@internal
def _set_trigger(trigger: IVault.TriggerConfig, assets: DynArray[address, constants.MAX_ASSETS]):
    """
    @dev `Rules.trigger_word` validates and packs. A new volatility
         reference restarts every estimate at multiplier 1.
    """
    word: uint256 = staticcall IRules(RULES).trigger_word(trigger)
    if trigger.vol_reference != packing._unpack(self._trigger, packing.VOL_REFERENCE_AT, packing.VOL_REFERENCE_BITS):
        for asset: address in assets:
            self._observation[asset] = packing._pack(
                self._observation[asset],
                packing.VARIANCE_AT,
                packing.VARIANCE_BITS,
                trigger.vol_reference * trigger.vol_reference // constants.WAD,
            )
    self._trigger = word
    log TriggerSet(
        trigger_type=trigger.trigger_type,
        rebalance_interval=trigger.rebalance_interval,
        vol_reference=trigger.vol_reference,
        vol_alpha_bps=trigger.vol_alpha_bps,
        vol_min_interval=trigger.vol_min_interval,
    )


@internal
@view
def _configs(assets: DynArray[address, constants.MAX_ASSETS]) -> DynArray[uint256, constants.MAX_ASSETS]:
    configs: DynArray[uint256, constants.MAX_ASSETS] = []
    for asset: address in assets:
        configs.append(pricing.feed_config[asset])
    return configs


@internal
@view
def _targets(assets: DynArray[address, constants.MAX_ASSETS]) -> DynArray[uint256, constants.MAX_ASSETS]:
    """
    @dev Effective target weights (WAD) at this block (`Rules.targets`).
         The ramp's start weights are read only while it runs.
    """
    clock: uint256 = self._clock
    ramp_weights: DynArray[uint256, constants.MAX_ASSETS] = []
    if block.timestamp < packing._unpack(clock, packing.RAMP_END_AT, packing.TIME_BITS):
        for asset: address in assets:
            ramp_weights.append(self.ramp_weight[asset])
    return staticcall IRules(RULES).targets(clock, self._configs(assets), ramp_weights, block.timestamp)


@internal
@view
def _due(
    assets: DynArray[address, constants.MAX_ASSETS], weights: DynArray[uint256, constants.MAX_ASSETS]
) -> (DynArray[uint256, constants.MAX_ASSETS], DynArray[int256, constants.MAX_ASSETS], bool, String[16]):
    """
    @dev Targets, drifts and the trigger's answer (`Rules.due`). The ramp's
         start weights are read only while it runs, the volatility
         estimates only by the hybrid trigger.
    """
    clock: uint256 = self._clock
    trigger: uint256 = self._trigger
    ramp_weights: DynArray[uint256, constants.MAX_ASSETS] = []
    if block.timestamp < packing._unpack(clock, packing.RAMP_END_AT, packing.TIME_BITS):
        for asset: address in assets:
            ramp_weights.append(self.ramp_weight[asset])
    observations: DynArray[uint256, constants.MAX_ASSETS] = []
    if packing._unpack(trigger, packing.TRIGGER_TYPE_AT, packing.TRIGGER_TYPE_BITS) == constants.TRIGGER_HYBRID:
        for asset: address in assets:
            observations.append(self._observation[asset])
    return staticcall IRules(RULES).due(trigger, clock, self._configs(assets), ramp_weights, observations, weights, block.timestamp)


@internal
def _observe(
    assets: DynArray[address, constants.MAX_ASSETS],
    prices: DynArray[uint256, constants.MAX_ASSETS],
    rebalanced: bool,
) -> bool:
    """
    @dev Folds one price observation per asset into the variance EWMA
         (`Rules.observe`). Skipped (returns False) when the last one is
         too recent. `rebalanced` also stamps the last rebalance, in the
         same slot write.
    """
    clock: uint256 = self._clock
    if rebalanced:
        clock = packing._pack(clock, packing.LAST_REBALANCE_AT, packing.TIME_BITS, block.timestamp)
    observations: DynArray[uint256, constants.MAX_ASSETS] = []
    for asset: address in assets:
        observations.append(self._observation[asset])
    words: DynArray[uint256, constants.MAX_ASSETS] = []
    variances: DynArray[uint256, constants.MAX_ASSETS] = []
    words, variances = staticcall IRules(RULES).observe(observations, prices, clock, self._trigger, block.timestamp)
    if len(words) == 0:
        if rebalanced:
            self._clock = clock
        return False
    for i: uint256 in range(len(assets), bound=constants.MAX_ASSETS):
        self._observation[assets[i]] = words[i]
    self._clock = packing._pack(clock, packing.LAST_OBSERVATION_AT, packing.TIME_BITS, block.timestamp)
    log Observed(timestamp=block.timestamp, variances=variances)
    return True
