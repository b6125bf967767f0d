# pragma version 0.4.3
"""
@title Mock Chainlink AggregatorV3 price feed (test double)
@custom:contract-name MockPriceFeed
@notice Anyone may set the answer, the round timestamp, or make the feed
        revert. Test use only.
"""

from interfaces import IPriceFeed

implements: IPriceFeed


# @dev Emitted on every answer change (mirrors Chainlink's event).
event AnswerUpdated:
    current: indexed(int256)
    roundId: indexed(uint256)
    updatedAt: uint256


event RevertingSet:
    reverting: bool


decimals: public(uint8)
latest_answer: public(int256)
updated_at: public(uint256)
round_id: public(uint80)
reverting: public(bool)
# @dev Every round's answer and timestamp, for `getRoundData` (the deposit queue proves a round's start with it).
round_answer: public(HashMap[uint80, int256])
round_updated_at: public(HashMap[uint80, uint256])


@deploy
def __init__(decimals_: uint8, initial_answer: int256):
    """
    @notice Deploy the feed at round 1 with `updated_at = block.timestamp`.
    @param decimals_ The feed's answer decimals.
    @param initial_answer The first answer.
    """
    self.decimals = decimals_
    self._set(initial_answer, block.timestamp)


@external
def set_answer(answer: int256):
    """
    @notice Publish a new round with `answer` at the current block time.
    @param answer The new answer.
    """
    self._set(answer, block.timestamp)


@external
def set_round(answer: int256, updated_at: uint256):
    """
    @notice Publish a new round with `answer` and an arbitrary
            `updated_at` (e.g. in the past, to simulate staleness).
    @param answer The new answer.
    @param updated_at The round's update timestamp.
    """
    self._set(answer, updated_at)


@external
def set_reverting(flag: bool):
    """
    @notice While `flag` is set, `latestRoundData` reverts with
            "feed: broken".
    @param flag Whether the feed reverts.
    """
    self.reverting = flag
    log RevertingSet(reverting=flag)


@view
@external
def latestRoundData() -> (uint80, int256, uint256, uint256, uint80):
    """
    @notice The latest round, Chainlink AggregatorV3 layout.
    @return uint80 roundId
    @return int256 answer
    @return uint256 startedAt (equal to updatedAt)
    @return uint256 updatedAt
    @return uint80 answeredInRound (equal to roundId)
    """
    assert not self.reverting, "feed: broken"
    round_id: uint80 = self.round_id
    updated_at: uint256 = self.updated_at
    return round_id, self.latest_answer, updated_at, updated_at, round_id


@view
@external
def getRoundData(round_id: uint80) -> (uint80, int256, uint256, uint256, uint80):
    """
    @notice A past round, Chainlink AggregatorV3 layout; reverts with
            "feed: no round" for a round never published.
    @param round_id The round.
    @return uint80 roundId
    @return int256 answer
    @return uint256 startedAt (equal to updatedAt)
    @return uint256 updatedAt
    @return uint80 answeredInRound (equal to roundId)
    """
    assert not self.reverting, "feed: broken"
    assert round_id > 0 and round_id <= self.round_id, "feed: no round"
    updated_at: uint256 = self.round_updated_at[round_id]
    return round_id, self.round_answer[round_id], updated_at, updated_at, round_id


@internal
def _set(answer: int256, updated_at: uint256):
    round_id: uint80 = self.round_id + 1
    self.round_id = round_id
    self.latest_answer = answer
    self.updated_at = updated_at
    self.round_answer[round_id] = answer
    self.round_updated_at[round_id] = updated_at
    log AnswerUpdated(current=answer, roundId=convert(round_id, uint256), updatedAt=updated_at)
