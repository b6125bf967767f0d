# pragma version 0.4.3
"""
@title Ballast rules, deployed once and shared by every vault
@custom:contract-name Rules
@notice The pure half of the vault's rules as external functions: the
        target ramp, the trigger, the volatility observation, and the
        validation and packing of the owner's settings. Every vault calls
        one `Rules` contract (its immutable `RULES`) with `staticcall`, so
        this code takes no room in the vault's own. Curve's twocrypto-ng
        keeps its math in a separate contract for the same reason.
@dev Stateless and ownerless: nothing here can change after deployment,
     and a vault passes in every word it reads. The functions are those of
     `contracts/modules/rules.vy`, which `VaultLens` also uses, so the
     lens shows what the vault enforces. A reason raised here reaches the
     vault's caller unchanged.
"""

from ethereum.ercs import IERC20Detailed
from interfaces import IPriceFeed
from interfaces import IVault
from interfaces import IRules
from contracts.modules import constants
from contracts.modules import packing
from contracts.modules import rules

implements: IRules


@external
@pure
def targets(
    clock: uint256,
    configs: DynArray[uint256, constants.MAX_ASSETS],
    ramp_weights: DynArray[uint256, constants.MAX_ASSETS],
    now: uint256,
) -> DynArray[uint256, constants.MAX_ASSETS]:
    """
    @notice Effective target weights (WAD) at `now` along the ramp in `clock`.
    @param clock The vault's packed clock word.
    @param configs Each asset's packed feed config word (holds its target).
    @param ramp_weights Each asset's target when the ramp started (read only
           while the ramp runs; may be empty after it).
    @param now The block timestamp.
    """
    return rules._targets(clock, configs, ramp_weights, now)


@external
@pure
def due(
    trigger: uint256,
    clock: uint256,
    configs: DynArray[uint256, constants.MAX_ASSETS],
    ramp_weights: DynArray[uint256, constants.MAX_ASSETS],
    observations: DynArray[uint256, constants.MAX_ASSETS],
    weights: DynArray[uint256, constants.MAX_ASSETS],
    now: uint256,
) -> (DynArray[uint256, constants.MAX_ASSETS], DynArray[int256, constants.MAX_ASSETS], bool, String[16]):
    """
    @notice A rebalance's opening in one call: the effective targets, each
            asset's drift from them, whether the trigger holds and why.
    @param trigger The vault's packed trigger word.
    @param clock The vault's packed clock word.
    @param configs Each asset's packed feed config word (targets, bands).
    @param ramp_weights Each asset's target when the ramp started (read only
           while the ramp runs; may be empty after it).
    @param observations Each asset's packed observation (hybrid trigger only).
    @param weights Each asset's current weight (WAD).
    @param now The block timestamp.
    """
    targets: DynArray[uint256, constants.MAX_ASSETS] = rules._targets(clock, configs, ramp_weights, now)
    drifts: DynArray[int256, constants.MAX_ASSETS] = rules._drifts(weights, targets)
    due: bool = False
    reason: String[16] = ""
    due, reason = rules._needs_rebalance(trigger, clock, configs, observations, drifts, now)
    return targets, drifts, due, reason


@external
@pure
def observe(
    observations: DynArray[uint256, constants.MAX_ASSETS],
    prices: DynArray[uint256, constants.MAX_ASSETS],
    clock: uint256,
    trigger: uint256,
    now: uint256,
) -> (DynArray[uint256, constants.MAX_ASSETS], DynArray[uint256, constants.MAX_ASSETS]):
    """
    @notice The observation words and variances after folding in `prices`,
            or two empty arrays when the last observation is too recent.
    @param observations Each asset's packed observation word.
    @param prices Each asset's oracle price (WAD).
    @param clock The vault's packed clock word (last observation time).
    @param trigger The vault's packed trigger word (EWMA alpha, reference, interval).
    @param now The block timestamp.
    """
    return rules._observe(observations, prices, clock, trigger, now)


@external
@pure
def trigger_word(trigger: IVault.TriggerConfig) -> uint256:
    """
    @notice Validates `trigger` and packs it (`packing`: trigger).
    """
    assert trigger.trigger_type <= constants.TRIGGER_HYBRID, "basket: bad trigger"
    assert trigger.rebalance_interval > 0, "basket: zero interval"
    assert trigger.vol_reference > 0 and trigger.vol_reference <= 10 * constants.WAD, "basket: bad vol reference"
    assert trigger.vol_alpha_bps > 0 and trigger.vol_alpha_bps <= constants.MAX_BPS, "basket: bad vol alpha"
    assert trigger.vol_min_interval > 0, "basket: zero vol interval"
    assert trigger.rebalance_interval | trigger.vol_min_interval <= packing.MAX_U64, "basket: interval too long"
    word: uint256 = packing._pack(0, packing.TRIGGER_TYPE_AT, packing.TRIGGER_TYPE_BITS, trigger.trigger_type)
    word = packing._pack(word, packing.INTERVAL_AT, packing.INTERVAL_BITS, trigger.rebalance_interval)
    word = packing._pack(word, packing.VOL_REFERENCE_AT, packing.VOL_REFERENCE_BITS, trigger.vol_reference)
    word = packing._pack(word, packing.VOL_ALPHA_AT, packing.BPS_BITS, trigger.vol_alpha_bps)
    return packing._pack(word, packing.VOL_MIN_INTERVAL_AT, packing.INTERVAL_BITS, trigger.vol_min_interval)


@external
@pure
def limits_word(status: uint256, limits: IVault.Limits) -> uint256:
    """
    @notice Validates `limits` and packs them into the status word `status`
            (`packing`: status), leaving its flags and haircut unchanged.
    """
    assert limits.max_slippage_bps <= constants.MAX_SLIPPAGE_BPS, "vault: slippage too high"
    assert limits.max_cost_bps <= constants.MAX_COST_BPS, "vault: cost too high"
    assert limits.turnover_cap_bps > 0 and limits.turnover_cap_bps <= 10 * constants.MAX_BPS, "vault: bad turnover cap"
    assert limits.turnover_period > 0, "vault: zero turnover period"
    assert limits.turnover_period | limits.cooldown <= packing.MAX_U64, "vault: duration too long"
    word: uint256 = packing._pack(status, packing.SLIPPAGE_AT, packing.BPS_BITS, limits.max_slippage_bps)
    word = packing._pack(word, packing.COST_AT, packing.BPS_BITS, limits.max_cost_bps)
    word = packing._pack(word, packing.TURNOVER_CAP_AT, packing.TURNOVER_CAP_BITS, limits.turnover_cap_bps)
    word = packing._pack(word, packing.TURNOVER_PERIOD_AT, packing.DURATION_BITS, limits.turnover_period)
    return packing._pack(word, packing.COOLDOWN_AT, packing.DURATION_BITS, limits.cooldown)


@external
@view
def feed_words(
    asset: address, feed: address, heartbeat: uint256, min_answer: uint256, max_answer: uint256, config: uint256
) -> (uint256, uint256):
    """
    @notice Validates a feed for `asset` and returns its feed config word
            (built on `config`, keeping the target and bands there) and its
            bounds word (`packing`: feed config, feed bounds). Reads the
            feed's and the token's decimals.
    """
    assert feed != empty(address), "pricing: zero feed"
    assert heartbeat > 0 and heartbeat <= convert(max_value(uint32), uint256), "pricing: bad heartbeat"
    assert max_answer > min_answer and max_answer <= convert(max_value(uint128), uint256), "pricing: bad bounds"
    feed_decimals: uint256 = convert(staticcall IPriceFeed(feed).decimals(), uint256)
    token_decimals: uint256 = convert(staticcall IERC20Detailed(asset).decimals(), uint256)
    assert feed_decimals <= constants.MAX_DECIMALS, "pricing: feed decimals"
    assert token_decimals <= constants.MAX_DECIMALS, "pricing: token decimals"
    word: uint256 = packing._pack(config, packing.FEED_AT, packing.FEED_BITS, convert(feed, uint256))
    word = packing._pack(word, packing.HEARTBEAT_AT, packing.HEARTBEAT_BITS, heartbeat)
    word = packing._pack(word, packing.FEED_DECIMALS_AT, packing.DECIMALS_BITS, feed_decimals)
    word = packing._pack(word, packing.TOKEN_DECIMALS_AT, packing.DECIMALS_BITS, token_decimals)
    bounds: uint256 = packing._pack(0, packing.MIN_ANSWER_AT, packing.ANSWER_BITS, min_answer)
    return word, packing._pack(bounds, packing.MAX_ANSWER_AT, packing.ANSWER_BITS, max_answer)


@external
@pure
def settle(
    turnover: uint256,
    status: uint256,
    traded: uint256,
    value_before: uint256,
    drifts_before: DynArray[int256, constants.MAX_ASSETS],
    weights_after: DynArray[uint256, constants.MAX_ASSETS],
    targets: DynArray[uint256, constants.MAX_ASSETS],
    configs: DynArray[uint256, constants.MAX_ASSETS],
    tolerance: uint256,
    now: uint256,
) -> (uint256, uint256, uint256):
    """
    @notice A rebalance's closing checks in one call, reverting with their
            reasons: the turnover cap (the allowance refills continuously,
            `turnover_cap_bps` of the value per period), then the drift rules
            (no asset's drift grown by more than `tolerance`, none pushed past
            its band on the other side, the total lowered).
    @return The new turnover word, and the total drift before and after (WAD).
    """
    used: uint256 = rules._turnover_used(turnover, status, value_before, now) + traded
    cap: uint256 = packing._unpack(status, packing.TURNOVER_CAP_AT, packing.TURNOVER_CAP_BITS)
    # `used` must also fit its 192 bits: unreachable below 6e38 USD of value.
    assert used < 2**192 and used * constants.MAX_BPS <= value_before * cap, "vault: turnover cap"
    word: uint256 = packing._pack(packing._pack(0, packing.SPENT_AT, packing.TIME_BITS, now), packing.USED_AT, packing.USED_BITS, used)
    total_before: uint256 = 0
    total_after: uint256 = 0
    total_before, total_after = rules._check_drifts(drifts_before, rules._drifts(weights_after, targets), configs, tolerance)
    return word, total_before, total_after
