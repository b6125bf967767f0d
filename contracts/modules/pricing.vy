# pragma version 0.4.3
"""
@title Ballast pricing
@notice Reads Chainlink AggregatorV3-style feeds and turns token amounts
        into USD values with 18 decimals. An answer is rejected when it is
        zero or negative, at or outside the feed's sane bounds (the LUNA
        case: a feed pinned at its floor), older than the feed's heartbeat,
        or from the future.
@dev Each asset's configuration is packed into two slots so that valuing
     the whole basket costs two storage reads per asset:
     `feed_config`: feed address (bits 0-159) | heartbeat seconds (160-191)
                    | feed decimals (192-199) | token decimals (200-207)
                    | bits 208-255: the basket's target and bands, which a
                    rebalance reads with the price (see `basket`)
     `feed_bounds`: min answer (bits 0-127) | max answer (128-255)
"""

from interfaces import IPriceFeed
from ethereum.ercs import IERC20Detailed
from snekmate.utils import math
from contracts.modules import constants
from contracts.modules import checks


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
    # Keep the basket's bits (208-255).
    self.feed_config[asset] = (
        (self.feed_config[asset] & ~(2**208 - 1))
        | convert(feed, uint256)
        | (heartbeat << 160)
        | (feed_decimals << 192)
        | (token_decimals << 200)
    )
    self.feed_bounds[asset] = min_answer | (max_answer << 128)
    log FeedSet(asset=asset, feed=feed, heartbeat=heartbeat, min_answer=min_answer, max_answer=max_answer)


@internal
@view
def _token_decimals(asset: address) -> uint256:
    return (self.feed_config[asset] >> 200) & 255


@internal
@view
def _price(asset: address) -> uint256:
    """
    @dev USD price of one whole token, 18 decimals. Reverts on a bad answer.
    """
    config: uint256 = self.feed_config[asset]
    feed: address = convert(convert(config & convert(max_value(uint160), uint256), uint160), address)
    assert feed != empty(address), "pricing: no feed"
    heartbeat: uint256 = (config >> 160) & convert(max_value(uint32), uint256)
    feed_decimals: uint256 = (config >> 192) & 255
    answer: int256 = 0
    updated_at: uint256 = 0
    _: uint80 = 0
    __: uint256 = 0
    ___: uint80 = 0
    _, answer, __, updated_at, ___ = staticcall IPriceFeed(feed).latestRoundData()
    assert answer > 0, "pricing: bad answer"
    bounds: uint256 = self.feed_bounds[asset]
    raw: uint256 = convert(answer, uint256)
    assert raw > bounds & convert(max_value(uint128), uint256) and raw < bounds >> 128, "pricing: answer at bound"
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
    return math._mul_div(amount, price, 10 ** self._token_decimals(asset), roundup)
