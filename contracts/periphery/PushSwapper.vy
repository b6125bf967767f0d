# pragma version 0.4.3
"""
@title Push swapper
@custom:contract-name PushSwapper
@notice Sends one swap the way the vault does, in one transaction: pulls
        `amount_in` from the caller, sends it to the venue's payee, then
        calls the venue's `swap`. Lets an account trade any `IVenue` as
        the vault does: the local markets' arbitrageur, tests, the bench.
"""

from ethereum.ercs import IERC20
from interfaces import IVenue


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
    payee: address = staticcall IVenue(venue).payee(token_in, token_out)
    assert payee != empty(address), "push: venue has no pool"
    assert extcall IERC20(token_in).transferFrom(msg.sender, payee, amount_in, default_return_value=True)
    return extcall IVenue(venue).swap(token_in, token_out, amount_in, min_amount_out, receiver)
