# pragma version 0.4.3
"""
@title Push swapper
@custom:contract-name PushSwapper
@notice Sends swaps the way the vault does: pulls `amount_in` from the
        caller, sends it to the venue's payee, then calls the venue's
        `swap`; one swap, or a list of them in one transaction. Lets an
        account trade any `IVenue` as the vault does: the local markets'
        arbitrageur, tests, the bench.
"""

from ethereum.ercs import IERC20
from interfaces import IVenue

# Enough for one arbitrage round of the demo's market (3 venues, 4 tokens) in one transaction.
MAX_SWAPS: constant(uint256) = 64


struct Swap:
    venue: address
    token_in: address
    token_out: address
    amount_in: uint256
    min_amount_out: uint256


@external
def swap(
    venue: address,
    token_in: address,
    token_out: address,
    amount_in: uint256,
    min_amount_out: uint256,
    receiver: address,
) -> uint256:
    """
    @notice Sell `amount_in` of the caller's `token_in` on `venue`.
    @dev The caller approves this contract for `amount_in` of `token_in`.
    @param venue The venue (an `IVenue`).
    @param token_in The token sold.
    @param token_out The token bought.
    @param amount_in The amount sold.
    @param min_amount_out Passed to the venue.
    @param receiver The address receiving `token_out`.
    @return uint256 What the venue returned.
    """
    return self._swap(venue, token_in, token_out, amount_in, min_amount_out, receiver)


@external
def swap_many(swaps: DynArray[Swap, MAX_SWAPS], receiver: address) -> DynArray[uint256, MAX_SWAPS]:
    """
    @notice Send `swaps` in order, each as `swap` does, in one transaction.
    @dev Each swap's input is pulled from the caller when it is sent, so a
         later swap may sell what an earlier one bought for the caller
         (when `receiver` is the caller). Any swap that fails reverts all.
    @param swaps The swaps, in order.
    @param receiver The address receiving every swap's output.
    @return DynArray[uint256, MAX_SWAPS] What each venue returned.
    """
    outs: DynArray[uint256, MAX_SWAPS] = []
    for s: Swap in swaps:
        outs.append(self._swap(s.venue, s.token_in, s.token_out, s.amount_in, s.min_amount_out, receiver))
    return outs


@internal
def _swap(
    venue: address,
    token_in: address,
    token_out: address,
    amount_in: uint256,
    min_amount_out: uint256,
    receiver: address,
) -> uint256:
    payee: address = staticcall IVenue(venue).payee(token_in, token_out)
    assert payee != empty(address), "push: venue has no pool"
    assert extcall IERC20(token_in).transferFrom(msg.sender, payee, amount_in, default_return_value=True)
    return extcall IVenue(venue).swap(token_in, token_out, amount_in, min_amount_out, receiver)
