# pragma version 0.4.3
# pragma experimental-codegen
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
from snekmate.utils import math

implements: IRules


interface IUniswapV3Pool:
    def token0() -> address: view
    def token1() -> address: view


# TickMath's factors: sqrt(1.0001) ** -(2 ** k) as Q128.128, for k = 1 .. 19 (bit 0 is the start value).
TICK_FACTORS: constant(uint256[19]) = [
    340248342086729790484326174814286782778,
    340214320654664324051920982716015181260,
    340146287995602323631171512101879684304,
    340010263488231146823593991679159461444,
    339738377640345403697157401104375502016,
    339195258003219555707034227454543997025,
    338111622100601834656805679988414885971,
    335954724994790223023589805789778977700,
    331682121138379247127172139078559817300,
    323299236684853023288211250268160618739,
    307163716377032989948697243942600083929,
    277268403626896220162999269216087595045,
    225923453940442621947126027127485391333,
    149997214084966997727330242082538205943,
    66119101136024775622716233608466517926,
    12847376061809297530290974190478138313,
    485053260817066172746253684029974020,
    691415978906521570653435304214168,
    1404880482679654955896180642,
]
MAX_TICK: constant(uint256) = 887272


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


# ---------------------------------------------------------------- entry guard


@external
@pure
def haircut_word(status: uint256, floor_bps: uint256, cap_bps: uint256, horizon: uint256) -> uint256:
    """
    @notice Validates the volatility haircut's bounds and packs them into
            the status word `status` (`packing`: status): the haircut becomes
            sigma * sqrt(horizon / year) clamped to [floor_bps, cap_bps]
            (`rules._entry_haircut`); a zero `cap_bps` makes it `floor_bps`.
    """
    assert max(floor_bps, cap_bps) <= constants.MAX_ENTRY_HAIRCUT_BPS, "vault: haircut too high"
    assert cap_bps == 0 or (floor_bps <= cap_bps and horizon > 0), "vault: bad haircut bounds"
    assert horizon >> packing.HORIZON_BITS == 0, "vault: horizon too long"
    word: uint256 = packing._pack(status, packing.HAIRCUT_AT, packing.BPS_BITS, floor_bps)
    word = packing._pack(word, packing.HAIRCUT_CAP_AT, packing.BPS_BITS, cap_bps)
    # Without a cap the whole field above the floor's is zero: the vault then skips the call.
    return packing._pack(word, packing.HORIZON_AT, packing.HORIZON_BITS, horizon if cap_bps != 0 else 0)


@external
@pure
def entry_haircut(status: uint256, variance: uint256) -> uint256:
    """
    @notice The haircut (bps) on a single-asset deposit: the status word's
            floor, or its volatility-scaled value (`rules._entry_haircut`).
    @param status The vault's packed status word.
    @param variance The largest of the basket's variance EWMAs (annualised, WAD).
    """
    return rules._entry_haircut(status, variance)


@external
@view
def guard_word(asset: address, pool: address, window: uint256, max_deviation_bps: uint256, status: uint256) -> (uint256, uint256):
    """
    @notice Validates a price guard for `asset` of the calling vault and
            packs it (`packing`: price guard); a zero `pool` removes it (0).
            The pool must pair `asset` with another basket asset (the quote,
            priced by its own feed), and its observations must already reach
            `window` seconds back (`increaseObservationCardinalityNext`,
            then time). Also returns the status word `status` with its
            guarded flag set if, after this, some asset has a guard.
    """
    vault: IVault = IVault(msg.sender)
    assets: DynArray[address, constants.MAX_ASSETS] = staticcall vault.get_assets()
    word: uint256 = 0
    if pool != empty(address):
        word = self._guard_word(asset, pool, window, max_deviation_bps, assets)
    guarded: bool = word != 0
    for other: address in assets:
        if other != asset and staticcall vault.price_guard(other) != 0:
            guarded = True
    if guarded:
        return word, status | packing.GUARDED
    return word, status & ~packing.GUARDED


@internal
@view
def _guard_word(
    asset: address, pool: address, window: uint256, max_deviation_bps: uint256, assets: DynArray[address, constants.MAX_ASSETS]
) -> uint256:
    assert window >= constants.MIN_TWAP_WINDOW and window <= constants.MAX_TWAP_WINDOW, "vault: bad twap window"
    assert max_deviation_bps > 0 and max_deviation_bps <= constants.MAX_DEVIATION_BPS, "vault: bad deviation bound"
    token0: address = staticcall IUniswapV3Pool(pool).token0()
    quote: address = staticcall IUniswapV3Pool(pool).token1()
    is_token0: uint256 = 1
    if quote == asset:
        quote = token0
        is_token0 = 0
    else:
        assert token0 == asset, "vault: pool not of asset"
    index: uint256 = max_value(uint256)
    for i: uint256 in range(len(assets), bound=constants.MAX_ASSETS):
        if assets[i] == quote:
            index = i
    assert index != max_value(uint256), "vault: pool quote not in basket"
    ok: bool = False
    delta: int256 = 0
    ok, delta = self._tick_change(pool, window)
    assert ok, "vault: pool history too short"
    word: uint256 = packing._pack(convert(pool, uint256), packing.WINDOW_AT, packing.WINDOW_BITS, window)
    word = packing._pack(word, packing.DEVIATION_AT, packing.BPS_BITS, max_deviation_bps)
    word = packing._pack(word, packing.QUOTE_AT, packing.SMALL_BITS, index)
    word = packing._pack(word, packing.TOKEN0_AT, packing.SMALL_BITS, is_token0)
    asset_decimals: uint256 = convert(staticcall IERC20Detailed(asset).decimals(), uint256)
    word = packing._pack(word, packing.ASSET_DECIMALS_AT, packing.DECIMALS_BITS, asset_decimals)
    return packing._pack(word, packing.QUOTE_DECIMALS_AT, packing.DECIMALS_BITS, convert(staticcall IERC20Detailed(quote).decimals(), uint256))


@external
@view
def check_source(guard: uint256, price: uint256, quote_price: uint256, rebalance: bool) -> bool:
    """
    @notice Reverts unless the oracle price `price` of an asset whose price
            guard is `guard` lies within the guard's deviation of its pool's
            TWAP price (the TWAP tick times the quote asset's oracle price
            `quote_price`). A deposit's refusal and a rebalance's have their
            own reasons; a pool that cannot answer for its window refuses too.
    @param guard The asset's packed price guard (`packing`: price guard).
    @param price The asset's oracle price (WAD).
    @param quote_price The quote asset's oracle price (WAD).
    @param rebalance Whether a rebalance asks (else a deposit).
    @return True (a call must return a value to be made as a statement).
    """
    twap: uint256 = self._twap_price(guard, quote_price)
    gap: uint256 = max(twap, price) - min(twap, price)
    if gap * constants.MAX_BPS > price * packing._unpack(guard, packing.DEVIATION_AT, packing.BPS_BITS):
        if rebalance:
            raise "vault: rebalance price sources disagree"
        raise "vault: price sources disagree"
    return True


@external
@view
def twap_price(guard: uint256, quote_price: uint256) -> uint256:
    """
    @notice The USD price (WAD per whole token) of a guarded asset from its
            pool's TWAP over the guard's window and its quote asset's
            oracle price `quote_price`: what `check_sources` compares.
    """
    return self._twap_price(guard, quote_price)


@internal
@view
def _tick_change(pool: address, window: uint256) -> (bool, int256):
    """
    @dev The pool's tick cumulative over the last `window` seconds
         (`observe([window, 0])`), and whether the pool could answer.
    """
    ok: bool = False
    response: Bytes[256] = b""
    seconds_ago: DynArray[uint32, 2] = [convert(window, uint32), 0]
    ok, response = raw_call(
        pool,
        abi_encode(seconds_ago, method_id=method_id("observe(uint32[])")),
        max_outsize=256,
        is_static_call=True,
        revert_on_failure=False,
    )
    if not ok or len(response) != 256:
        return False, 0
    ticks: DynArray[int56, 2] = []
    liquidity: DynArray[uint160, 2] = []
    ticks, liquidity = abi_decode(response, (DynArray[int56, 2], DynArray[uint160, 2]))
    if len(ticks) != 2:
        return False, 0
    return True, convert(ticks[1], int256) - convert(ticks[0], int256)


@internal
@view
def _twap_price(guard: uint256, quote_price: uint256) -> uint256:
    """
    @dev The guarded asset's TWAP price in USD (WAD): the window's mean tick
         (rounded down, as Uniswap's OracleLibrary), turned to the asset's
         side, to quote units per whole asset, times the quote's price.
    """
    window: uint256 = packing._unpack(guard, packing.WINDOW_AT, packing.WINDOW_BITS)
    ok: bool = False
    delta: int256 = 0
    ok, delta = self._tick_change(packing._feed(guard), window)
    assert ok, "vault: twap unavailable"
    tick: int256 = delta // convert(window, int256)
    if delta < 0 and delta % convert(window, int256) != 0:
        tick -= 1
    if packing._unpack(guard, packing.TOKEN0_AT, packing.SMALL_BITS) == 0:
        tick = -tick  # token0 per token1 is the inverse price
    sqrt_price: uint256 = self._sqrt_ratio_at_tick(tick)
    ratio: uint256 = math._mul_div(sqrt_price, sqrt_price, 1 << 64, False)  # quote units per asset unit, Q128
    asset_scale: uint256 = 10 ** packing._unpack(guard, packing.ASSET_DECIMALS_AT, packing.DECIMALS_BITS)
    quote_scale: uint256 = 10 ** packing._unpack(guard, packing.QUOTE_DECIMALS_AT, packing.DECIMALS_BITS)
    return math._mul_div(ratio, quote_price * asset_scale, quote_scale << 128, False)


@internal
@pure
def _sqrt_ratio_at_tick(tick: int256) -> uint256:
    """
    @dev Uniswap V3's `TickMath.getSqrtRatioAtTick`: sqrt(1.0001 ** tick)
         as a Q64.96, rounded up, the same bits as the pool's.
    """
    abs_tick: uint256 = convert(abs(tick), uint256)
    assert abs_tick <= MAX_TICK, "vault: twap unavailable"
    ratio: uint256 = 1 << 128
    if abs_tick & 1 != 0:
        ratio = 340265354078544963557816517032075149313  # 0xfffcb933bd6fad37aa2d162d1a594001
    for k: uint256 in range(19):
        if abs_tick & (2 << k) != 0:
            ratio = (ratio * TICK_FACTORS[k]) >> 128
    if tick > 0:
        ratio = max_value(uint256) // ratio
    return (ratio >> 32) + convert(ratio % (1 << 32) != 0, uint256)
