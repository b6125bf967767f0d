# pragma version 0.4.3
"""
@title Ballast constant-product AMM venue
@custom:contract-name ConstantProductAMM
@notice A multi-pair constant-product (x * y = k, Uniswap V2 math) venue
        implementing `IVenue`. Liquidity is provided by the owner only and
        is not tokenised; it exists so that tests and simulations have a
        realistic venue with price impact.
@dev Reserves are tracked in storage, never read from `balanceOf(self)`, so
     a donation does not move the price. `swap` takes its input either
     pushed (sent to this venue before the call, as the vault does: what
     exceeds the tokens the pools hold is the input) or, when nothing was
     sent, pulled from the caller with `transferFrom` (as an EOA with an
     allowance trades through a router). Either way it prices the amount it
     actually received, so fee-on-transfer inputs are handled. Token
     calls use `default_return_value=True` so tokens that return nothing
     (USDT-like) work.
     `swap`, the liquidity functions and the quoting views share the
     reentrancy lock, so neither a reentrant swap nor a read-only reentrant
     quote can observe a half-updated pool.
"""

from ethereum.ercs import IERC20
from interfaces import IVenue
from snekmate.auth import ownable

implements: IVenue

initializes: ownable

exports: (
    ownable.owner,
    ownable.transfer_ownership,
)


# @dev Basis-point denominator.
_BPS: constant(uint256) = 10_000


# @dev Largest allowed fee: 10 %.
MAX_FEE_BPS: public(constant(uint256)) = 1_000


# @dev Swap fee in basis points, charged on the input amount.
fee_bps: public(immutable(uint256))


# @dev `reserves[a][b]` is the amount of `a` held in the (a, b) pool,
# so `reserves[b][a]` is the amount of `b` in the same pool.
reserves: public(HashMap[address, HashMap[address, uint256]])


# @dev `held[t]` is the sum of `t`'s reserves over every pool: any balance
# above it was pushed as the input of the next swap (or donated).
held: public(HashMap[address, uint256])


event LiquidityAdded:
    provider: indexed(address)
    token_a: indexed(address)
    token_b: indexed(address)
    amount_a: uint256
    amount_b: uint256


event LiquidityRemoved:
    receiver: indexed(address)
    token_a: indexed(address)
    token_b: indexed(address)
    amount_a: uint256
    amount_b: uint256


@deploy
def __init__(fee_bps_: uint256):
    """
    @notice Deploy the venue; the deployer becomes the owner.
    @param fee_bps_ Swap fee in basis points, at most `MAX_FEE_BPS`.
    """
    assert fee_bps_ <= MAX_FEE_BPS, "amm: fee too high"
    fee_bps = fee_bps_
    ownable.__init__()


@external
@nonreentrant
def add_liquidity(token_a: address, token_b: address, amount_a: uint256, amount_b: uint256):
    """
    @notice Add `amount_a` of `token_a` and `amount_b` of `token_b` to the
            (token_a, token_b) pool, creating it if needed. Owner only.
    @dev Both tokens are pulled with `transferFrom`; the amounts credited
         to the reserves are the balance deltas actually received.
    @param token_a The first token of the pair.
    @param token_b The second token of the pair.
    @param amount_a The amount of `token_a` to pull from the caller.
    @param amount_b The amount of `token_b` to pull from the caller.
    """
    ownable._check_owner()
    assert token_a != token_b, "amm: same token"
    assert token_a != empty(address) and token_b != empty(address), "amm: zero address"
    assert amount_a != 0 and amount_b != 0, "amm: zero amount"

    received_a: uint256 = self._pull(token_a, msg.sender, amount_a)
    received_b: uint256 = self._pull(token_b, msg.sender, amount_b)
    assert received_a != 0 and received_b != 0, "amm: zero amount"

    self.reserves[token_a][token_b] += received_a
    self.reserves[token_b][token_a] += received_b
    self.held[token_a] += received_a
    self.held[token_b] += received_b
    log LiquidityAdded(
        provider=msg.sender,
        token_a=token_a,
        token_b=token_b,
        amount_a=received_a,
        amount_b=received_b,
    )


@external
@nonreentrant
def remove_liquidity(
    token_a: address, token_b: address, amount_a: uint256, amount_b: uint256, receiver: address
):
    """
    @notice Withdraw `amount_a` of `token_a` and `amount_b` of `token_b`
            from the (token_a, token_b) pool to `receiver`. Owner only.
    @dev Removing liquidity unevenly moves the pool price; this is a test
         venue and the owner is trusted.
    @param token_a The first token of the pair.
    @param token_b The second token of the pair.
    @param amount_a The amount of `token_a` to withdraw.
    @param amount_b The amount of `token_b` to withdraw.
    @param receiver The address receiving both tokens.
    """
    ownable._check_owner()
    assert token_a != token_b, "amm: same token"
    assert receiver != empty(address), "amm: zero address"
    reserve_a: uint256 = self.reserves[token_a][token_b]
    reserve_b: uint256 = self.reserves[token_b][token_a]
    assert amount_a <= reserve_a and amount_b <= reserve_b, "amm: insufficient reserves"

    self.reserves[token_a][token_b] = reserve_a - amount_a
    self.reserves[token_b][token_a] = reserve_b - amount_b
    self.held[token_a] -= amount_a
    self.held[token_b] -= amount_b
    if amount_a != 0:
        assert extcall IERC20(token_a).transfer(receiver, amount_a, default_return_value=True), "amm: transfer failed"
    if amount_b != 0:
        assert extcall IERC20(token_b).transfer(receiver, amount_b, default_return_value=True), "amm: transfer failed"
    log LiquidityRemoved(
        receiver=receiver,
        token_a=token_a,
        token_b=token_b,
        amount_a=amount_a,
        amount_b=amount_b,
    )


@external
@nonreentrant
def swap(
    token_in: address,
    token_out: address,
    amount_in: uint256,
    min_amount_out: uint256,
    receiver: address,
) -> uint256:
    """
    @notice Sell `amount_in` of `token_in` for the constant-product output
            of `token_out`, sent to `receiver`. The input is what was sent
            to this venue before the call; if nothing was, `amount_in` is
            pulled from the caller.
    @dev The input priced is what actually arrived, so a fee-on-transfer
         token gets a smaller output. Output rounds down:
         out = in_fee * R_out // (R_in * 10_000 + in_fee), with
         in_fee = received * (10_000 - fee_bps).
    @param token_in The token sold.
    @param token_out The token bought.
    @param amount_in The amount of `token_in` sold (pulled from the caller
           only when none was sent first).
    @param min_amount_out Revert unless at least this much is sent.
    @param receiver The address receiving `token_out`.
    @return uint256 The amount of `token_out` sent to `receiver`.
    """
    reserve_in: uint256 = self.reserves[token_in][token_out]
    reserve_out: uint256 = self.reserves[token_out][token_in]
    assert reserve_in != 0 and reserve_out != 0, "amm: no pool"
    assert amount_in != 0, "amm: zero amount"
    assert receiver != empty(address), "amm: zero address"

    held_in: uint256 = self.held[token_in]
    received: uint256 = staticcall IERC20(token_in).balanceOf(self) - held_in
    if received == 0:
        received = self._pull(token_in, msg.sender, amount_in)
    amount_out: uint256 = self._amount_out(received, reserve_in, reserve_out)
    assert amount_out != 0 and amount_out >= min_amount_out, "amm: insufficient output"

    self.reserves[token_in][token_out] = reserve_in + received
    self.reserves[token_out][token_in] = reserve_out - amount_out
    self.held[token_in] = held_in + received
    self.held[token_out] -= amount_out
    assert extcall IERC20(token_out).transfer(receiver, amount_out, default_return_value=True), "amm: transfer failed"

    log IVenue.Swap(
        sender=msg.sender,
        token_in=token_in,
        token_out=token_out,
        amount_in=received,
        amount_out=amount_out,
        receiver=receiver,
    )
    return amount_out


@view
@external
@nonreentrant
def payee(token_in: address, token_out: address) -> address:
    """
    @notice Where to send the input of a swap: this venue, if it has a
            (token_in, token_out) pool.
    @param token_in The token sold.
    @param token_out The token bought.
    @return address This venue, or `empty(address)` if there is no pool.
    """
    if self.reserves[token_in][token_out] == 0 or self.reserves[token_out][token_in] == 0:
        return empty(address)
    return self


@view
@external
@nonreentrant
def get_amount_out(token_in: address, token_out: address, amount_in: uint256) -> uint256:
    """
    @notice Quote of `swap` at current reserves (0 if no pool exists).
    @dev Assumes the full `amount_in` arrives (no transfer fee).
    @param token_in The token sold.
    @param token_out The token bought.
    @param amount_in The amount of `token_in` sold.
    @return uint256 The amount of `token_out` `swap` would send.
    """
    reserve_in: uint256 = self.reserves[token_in][token_out]
    reserve_out: uint256 = self.reserves[token_out][token_in]
    if reserve_in == 0 or reserve_out == 0:
        return 0
    return self._amount_out(amount_in, reserve_in, reserve_out)


@view
@external
@nonreentrant
def get_reserves(token_a: address, token_b: address) -> (uint256, uint256):
    """
    @notice Reserves of the (token_a, token_b) pool, in that order.
    @param token_a The first token of the pair.
    @param token_b The second token of the pair.
    @return uint256 The amount of `token_a` in the pool.
    @return uint256 The amount of `token_b` in the pool.
    """
    return self.reserves[token_a][token_b], self.reserves[token_b][token_a]


@view
@internal
def _amount_out(amount_in: uint256, reserve_in: uint256, reserve_out: uint256) -> uint256:
    """
    @dev Uniswap V2 output for `amount_in`, fee on the input, rounded down.
    """
    in_with_fee: uint256 = amount_in * (_BPS - fee_bps)
    return in_with_fee * reserve_out // (reserve_in * _BPS + in_with_fee)


@internal
def _pull(token: address, sender: address, amount: uint256) -> uint256:
    """
    @dev `transferFrom` `amount` of `token` from `sender` to this contract
         and return the balance delta actually received.
    """
    before: uint256 = staticcall IERC20(token).balanceOf(self)
    assert extcall IERC20(token).transferFrom(sender, self, amount, default_return_value=True), "amm: transfer failed"
    return staticcall IERC20(token).balanceOf(self) - before
