# pragma version 0.4.3
"""
@title Ballast pricing
@notice Reads Chainlink AggregatorV3-style feeds and turns token amounts
        into USD values with 18 decimals. An answer is rejected when it is
        zero or negative, at or outside the feed's sane bounds (the LUNA
        case: a feed pinned at its floor), older than the feed's heartbeat,
        or from the future.
@dev Each asset's configuration is packed into two words (`packing`:
     feed config, feed bounds) so that valuing the whole basket costs two
     storage reads per asset. The feed config word also carries the
     basket's target and bands, which a rebalance reads with the price.
"""

from interfaces import IPriceFeed
from ethereum.ercs import IERC20Detailed
from contracts.modules import constants
from contracts.modules import checks
from contracts.modules import packing
from contracts.modules import rules


# @dev Packed feed address, heartbeat and decimals of each asset.
feed_config: HashMap[address, uint256]
# @dev Packed exclusive sane bounds of each asset's feed answer.
feed_bounds: HashMap[address, uint256]


event FeedSet:
    asset: indexed(address)
    feed: indexed(address)
    heartbeat: uint256
    min_answer: uint256
    max_answer: uint256


@deploy
def __init__():
    pass


@internal
def _set_feed(asset: address, feed: address, heartbeat: uint256, min_answer: uint256, max_answer: uint256):
    """
    @dev Validates and stores the feed of `asset`; reads both decimals once.
    """
    checks._require(feed != empty(address), "pricing: zero feed")
    checks._require(heartbeat > 0 and heartbeat <= convert(max_value(uint32), uint256), "pricing: bad heartbeat")
    checks._require(max_answer > min_answer and max_answer <= convert(max_value(uint128), uint256), "pricing: bad bounds")
    feed_decimals: uint256 = convert(staticcall IPriceFeed(feed).decimals(), uint256)
    token_decimals: uint256 = convert(staticcall IERC20Detailed(asset).decimals(), uint256)
    checks._require(feed_decimals <= constants.MAX_DECIMALS, "pricing: feed decimals")
    checks._require(token_decimals <= constants.MAX_DECIMALS, "pricing: token decimals")
    config: uint256 = packing._pack(self.feed_config[asset], packing.FEED_AT, packing.FEED_BITS, convert(feed, uint256))
    config = packing._pack(config, packing.HEARTBEAT_AT, packing.HEARTBEAT_BITS, heartbeat)
    config = packing._pack(config, packing.FEED_DECIMALS_AT, packing.DECIMALS_BITS, feed_decimals)
    self.feed_config[asset] = packing._pack(config, packing.TOKEN_DECIMALS_AT, packing.DECIMALS_BITS, token_decimals)
    bounds: uint256 = packing._pack(0, packing.MIN_ANSWER_AT, packing.ANSWER_BITS, min_answer)
    self.feed_bounds[asset] = packing._pack(bounds, packing.MAX_ANSWER_AT, packing.ANSWER_BITS, max_answer)
    log FeedSet(asset=asset, feed=feed, heartbeat=heartbeat, min_answer=min_answer, max_answer=max_answer)


@internal
@view
def _price(asset: address) -> uint256:
    """
    @dev USD price of one whole token, 18 decimals. Reverts on a bad answer.
    """
    config: uint256 = self.feed_config[asset]
    feed: address = packing._feed(config)
    assert feed != empty(address), "pricing: no feed"
    heartbeat: uint256 = packing._unpack(config, packing.HEARTBEAT_AT, packing.HEARTBEAT_BITS)
    feed_decimals: uint256 = packing._unpack(config, packing.FEED_DECIMALS_AT, packing.DECIMALS_BITS)
    answer: int256 = 0
    updated_at: uint256 = 0
    _: uint80 = 0
    __: uint256 = 0
    ___: uint80 = 0
    _, answer, __, updated_at, ___ = staticcall IPriceFeed(feed).latestRoundData()
    assert answer > 0, "pricing: bad answer"
    bounds: uint256 = self.feed_bounds[asset]
    raw: uint256 = convert(answer, uint256)
    assert raw > packing._unpack(bounds, packing.MIN_ANSWER_AT, packing.ANSWER_BITS), "pricing: answer at bound"
    assert raw < packing._unpack(bounds, packing.MAX_ANSWER_AT, packing.ANSWER_BITS), "pricing: answer at bound"
    assert updated_at <= block.timestamp, "pricing: future answer"
    assert block.timestamp - updated_at <= heartbeat, "pricing: stale"
    # feed_decimals <= 18, so the scale is at most 1e18 and raw < 2**128: no overflow.
    return raw * 10 ** (constants.MAX_DECIMALS - feed_decimals)


@internal
@view
def _value(asset: address, amount: uint256, price: uint256, roundup: bool) -> uint256:
    """
    @dev USD value (18 decimals) of `amount` base units of `asset` at `price`.
    """
    return rules._value(amount, price, self.feed_config[asset], roundup)
