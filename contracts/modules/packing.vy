# pragma version 0.4.3
"""
@title Ballast packing: every packed word's layout, in one place
@notice The vault keeps its configuration and clocks packed into a few
        storage words so that a rebalance reads few slots. Each field of
        each word is named here by its offset and width, and read and
        written only through `_unpack` and `_pack`; the vault, its modules
        and the lens share this file, so a layout cannot differ between
        them. twocrypto-ng's packing utilities are the example.
@dev Layouts (bit offsets, low to high):
     feed config (per asset): feed address (0-159) | heartbeat, s (160-191)
         | feed decimals (192-199) | token decimals (200-207) | target, bps
         (208-223) | band, bps (224-239) | outer band, bps (240-255)
     feed bounds (per asset): min answer (0-127) | max answer (128-255)
     observation (per asset): observed price mantissa (0-127) | its power of
         ten (128-135) | variance EWMA, WAD (136-255)
     clock: ramp start (0-63) | ramp end (64-127) | last rebalance (128-191)
         | last observation (192-255), seconds
     trigger: type (0-7) | rebalance interval (8-71) | vol reference, WAD
         (72-135) | vol alpha, bps (136-151) | vol min interval (152-215)
     status: paused (bit 0) | shut down (bit 1) | lending (bit 2) | guarded
         (bit 3) | entry haircut (the floor when it follows volatility), bps
         (8-23) | max slippage, bps (24-39) | max cost, bps (40-55) | turnover
         cap, bps (56-87) | turnover period, s (88-151) | cooldown, s (152-215)
         | haircut cap, bps (216-231; 0: the haircut does not follow
         volatility) | haircut horizon, s (232-255)
     price guard (per asset, 0: none): Uniswap V3 pool (0-159) | TWAP
         window, s (160-191) | largest deviation, bps (192-207) | quote
         asset's index in the basket (208-215) | asset is token0 (216-223)
         | asset decimals (224-231) | quote decimals (232-239)
     turnover: period start, s (0-63) | USD value traded in it, WAD (64-255)
"""

# feed config
FEED_AT: constant(uint256) = 0
FEED_BITS: constant(uint256) = 160
HEARTBEAT_AT: constant(uint256) = 160
HEARTBEAT_BITS: constant(uint256) = 32
FEED_DECIMALS_AT: constant(uint256) = 192
TOKEN_DECIMALS_AT: constant(uint256) = 200
DECIMALS_BITS: constant(uint256) = 8
TARGET_AT: constant(uint256) = 208
BAND_AT: constant(uint256) = 224
OUTER_BAND_AT: constant(uint256) = 240
BPS_BITS: constant(uint256) = 16
# feed bounds
MIN_ANSWER_AT: constant(uint256) = 0
MAX_ANSWER_AT: constant(uint256) = 128
ANSWER_BITS: constant(uint256) = 128
# observation
MANTISSA_AT: constant(uint256) = 0
MANTISSA_BITS: constant(uint256) = 128
POWER_AT: constant(uint256) = 128
POWER_BITS: constant(uint256) = 8
VARIANCE_AT: constant(uint256) = 136
VARIANCE_BITS: constant(uint256) = 120
# clock
RAMP_START_AT: constant(uint256) = 0
RAMP_END_AT: constant(uint256) = 64
LAST_REBALANCE_AT: constant(uint256) = 128
LAST_OBSERVATION_AT: constant(uint256) = 192
TIME_BITS: constant(uint256) = 64
# The largest time or duration a 64-bit field holds.
MAX_U64: constant(uint256) = 2**64 - 1
# trigger
TRIGGER_TYPE_AT: constant(uint256) = 0
TRIGGER_TYPE_BITS: constant(uint256) = 8
INTERVAL_AT: constant(uint256) = 8
INTERVAL_BITS: constant(uint256) = 64
VOL_REFERENCE_AT: constant(uint256) = 72
VOL_REFERENCE_BITS: constant(uint256) = 64
VOL_ALPHA_AT: constant(uint256) = 136
VOL_MIN_INTERVAL_AT: constant(uint256) = 152
# status
PAUSED: constant(uint256) = 1
SHUTDOWN: constant(uint256) = 2
# Set once a lending sleeve is attached: entries and rebalances read the sleeve only then.
LENDING: constant(uint256) = 4
# Set while some asset has a price guard: entries and rebalances read the guards only then.
GUARDED: constant(uint256) = 8
HAIRCUT_AT: constant(uint256) = 8
SLIPPAGE_AT: constant(uint256) = 24
COST_AT: constant(uint256) = 40
TURNOVER_CAP_AT: constant(uint256) = 56
TURNOVER_CAP_BITS: constant(uint256) = 32
TURNOVER_PERIOD_AT: constant(uint256) = 88
COOLDOWN_AT: constant(uint256) = 152
DURATION_BITS: constant(uint256) = 64
HAIRCUT_CAP_AT: constant(uint256) = 216
HORIZON_AT: constant(uint256) = 232
HORIZON_BITS: constant(uint256) = 24
# price guard
POOL_AT: constant(uint256) = 0
WINDOW_AT: constant(uint256) = 160
WINDOW_BITS: constant(uint256) = 32
DEVIATION_AT: constant(uint256) = 192
QUOTE_AT: constant(uint256) = 208
SMALL_BITS: constant(uint256) = 8
TOKEN0_AT: constant(uint256) = 216
ASSET_DECIMALS_AT: constant(uint256) = 224
QUOTE_DECIMALS_AT: constant(uint256) = 232
# turnover
SPENT_AT: constant(uint256) = 0
USED_AT: constant(uint256) = 64
USED_BITS: constant(uint256) = 192


@internal
@pure
def _unpack(word: uint256, at: uint256, bits: uint256) -> uint256:
    """
    @dev The `bits`-wide field of `word` that starts at bit `at`.
    """
    return (word >> at) & ((1 << bits) - 1)


@internal
@pure
def _pack(word: uint256, at: uint256, bits: uint256, field: uint256) -> uint256:
    """
    @dev `word` with its `bits`-wide field at `at` replaced by `field`, every
         other bit kept. `field` must fit `bits`: every caller bounds its
         input first, with its own revert reason (a wider one would spill
         into the next field, so the round-trip test checks each bound).
    """
    return (word & ~(((1 << bits) - 1) << at)) | (field << at)


@internal
@pure
def _feed(config: uint256) -> address:
    """
    @dev The price feed of a feed config word.
    """
    return convert(convert(self._unpack(config, FEED_AT, FEED_BITS), uint160), address)


@internal
@pure
def _observed_price(observation: uint256) -> uint256:
    """
    @dev The price (WAD) an observation word holds: mantissa times ten to its power.
    """
    return self._unpack(observation, MANTISSA_AT, MANTISSA_BITS) * 10 ** self._unpack(
        observation, POWER_AT, POWER_BITS
    )
