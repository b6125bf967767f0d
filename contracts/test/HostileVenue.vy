# pragma version 0.4.3
"""
@title Hostile venue (test double)
@custom:contract-name HostileVenue
@notice An `IVenue` that misbehaves in one chosen way, so tests can check
        that the vault refuses each: take more than it was sent, keep less,
        report an output it did not pay, pay someone else, reenter the
        vault, revert, or name no payee.
"""

from ethereum.ercs import IERC20
from interfaces import IVenue

implements: IVenue


interface IVaultEntry:
    def rebalance(trades: DynArray[Trade, 16]) -> uint256: nonpayable
    def exit(shares: uint256, min_amounts: DynArray[uint256, 8], receiver: address) -> DynArray[uint256, 8]: nonpayable
    def total_value() -> uint256: view


struct Trade:
    venue: address
    token_in: address
    token_out: address
    amount_in: uint256
    min_amount_out: uint256


# @dev Behaviours, one at a time.
HONEST: public(constant(uint256)) = 0
TAKE_MORE: public(constant(uint256)) = 1
KEEP_LESS: public(constant(uint256)) = 2
REPORT_MORE: public(constant(uint256)) = 3
PAY_ELSEWHERE: public(constant(uint256)) = 4
REENTER_REBALANCE: public(constant(uint256)) = 5
REENTER_EXIT: public(constant(uint256)) = 6
REENTER_VIEW: public(constant(uint256)) = 7
REVERT: public(constant(uint256)) = 8
NO_PAYEE: public(constant(uint256)) = 9


# @dev The chosen behaviour.
mode: public(uint256)
# @dev What an honest fill of any swap pays (set by the test).
payout: public(uint256)
# @dev Where PAY_ELSEWHERE sends the output.
elsewhere: public(address)


event Swap:
    sender: indexed(address)
    token_in: indexed(address)
    token_out: indexed(address)
    amount_in: uint256
    amount_out: uint256
    receiver: address


@external
def configure(mode: uint256, payout: uint256, elsewhere: address):
    """
    @notice Choose the behaviour and the output every swap pays.
    @param mode One of the constants above.
    @param payout The output amount an honest fill pays.
    @param elsewhere Where PAY_ELSEWHERE sends it.
    """
    self.mode = mode
    self.payout = payout
    self.elsewhere = elsewhere


@view
@external
def payee(token_in: address, token_out: address) -> address:
    """
    @notice This venue, or nobody in NO_PAYEE mode.
    """
    if self.mode == NO_PAYEE:
        return empty(address)
    return self


@external
def swap(
    token_in: address,
    token_out: address,
    amount_in: uint256,
    min_amount_out: uint256,
    receiver: address,
) -> uint256:
    """
    @notice Pay `payout` of `token_out` to `receiver`, or misbehave.
    @return The output it claims to have sent.
    """
    mode: uint256 = self.mode
    paid_to: address = receiver
    pays: uint256 = self.payout
    if mode == TAKE_MORE:
        # No allowance exists: this must fail in the token.
        extcall IERC20(token_in).transferFrom(msg.sender, self, 1)
    elif mode == KEEP_LESS:
        extcall IERC20(token_in).transfer(msg.sender, 1)
    elif mode == REPORT_MORE:
        pays = min_amount_out - 1
    elif mode == PAY_ELSEWHERE:
        paid_to = self.elsewhere
    elif mode == REENTER_REBALANCE:
        extcall IVaultEntry(msg.sender).rebalance([])
    elif mode == REENTER_EXIT:
        extcall IVaultEntry(msg.sender).exit(0, [], self)
    elif mode == REENTER_VIEW:
        pays = staticcall IVaultEntry(msg.sender).total_value()
    elif mode == REVERT:
        raise "hostile: refused"
    extcall IERC20(token_out).transfer(paid_to, pays)
    log Swap(
        sender=msg.sender, token_in=token_in, token_out=token_out, amount_in=amount_in, amount_out=min_amount_out, receiver=receiver
    )
    return min_amount_out
