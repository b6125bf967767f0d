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
from contracts.modules import constants
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
def _set_feed(
    asset: address, config: uint256, bounds: uint256, feed: address, heartbeat: uint256, min_answer: uint256, max_answer: uint256
):
    """
    @dev Stores the feed config and bounds words that `Rules.feed_words`
         validated and packed.
    """
    self.feed_config[asset] = config
    self.feed_bounds[asset] = bounds
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
