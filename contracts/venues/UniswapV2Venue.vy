# pragma version 0.4.3
# pragma experimental-codegen
"""
@title Ballast venue over Uniswap V2 pairs
@custom:contract-name UniswapV2Venue
@notice Sells an exact input on a Uniswap V2 pair (no router), with the
        pair's own math: 0.3% fee on the input, output rounded down.
@dev The caller sends the input straight to the pair (`payee` returns
     it), then `swap` prices what the pair received beyond its reserves
     with the pair's own formula and calls `pair.swap`, which sends the
     output to `receiver`. No allowance and no extra transfer are paid. The
     pair address is derived from the factory and the pair's init-code hash
     (CREATE2), so no registry call is paid. The adapter holds no tokens
     and no state. Quoting views (`get_amount_out`, `get_reserves`,
     `fee_bps`) let the off-chain planner snapshot pairs.
"""

from ethereum.ercs import IERC20
from interfaces import IVenue

implements: IVenue


interface IUniswapV2Pair:
    def getReserves() -> (uint112, uint112, uint32): view
    def swap(amount0Out: uint256, amount1Out: uint256, to: address, data: Bytes[32]): nonpayable


# @dev Uniswap V2's fee: 997 / 1000 of the input is priced.
FEE_BPS: constant(uint256) = 30


# @dev The Uniswap V2 factory whose pairs this venue trades.
factory: public(immutable(address))
# @dev keccak256 of the pair's creation code, for CREATE2 addresses.
pair_init_code_hash: public(immutable(bytes32))


event Swap:
    sender: indexed(address)
    token_in: indexed(address)
    token_out: indexed(address)
    amount_in: uint256
    amount_out: uint256
    receiver: address


@deploy
def __init__(factory_: address, pair_init_code_hash_: bytes32):
    """
    @notice Trade the pairs of `factory_`.
    @param factory_ A Uniswap V2 factory.
    @param pair_init_code_hash_ keccak256 of that factory's pair creation code.
    """
    assert factory_ != empty(address), "uniswap_v2: zero factory"
    factory = factory_
    pair_init_code_hash = pair_init_code_hash_


@view
@external
def payee(token_in: address, token_out: address) -> address:
    """
    @notice Where to send the input of a swap: the (token_in, token_out)
            pair itself.
    @param token_in The token sold.
    @param token_out The token bought.
    @return address The pair, or `empty(address)` if it does not exist.
    """
    pair: address = self._pair(token_in, token_out)
    if pair.codesize == 0:
        return empty(address)
    return pair


@external
def swap(
    token_in: address,
    token_out: address,
    amount_in: uint256,
    min_amount_out: uint256,
    receiver: address,
) -> uint256:
    """
    @notice Sell the `amount_in` of `token_in` already sent to the pair for
            at least `min_amount_out` of `token_out`, delivered to
            `receiver`.
    @dev What the pair holds beyond its reserves is priced, so a
         fee-on-transfer input gets the output of what arrived.
    @param token_in The token sold.
    @param token_out The token bought.
    @param amount_in The amount sent to the pair (must be nonzero).
    @param min_amount_out Revert unless at least this much is sent.
    @param receiver The address receiving `token_out`.
    @return uint256 The output amount.
    """
    assert amount_in > 0, "uniswap_v2: zero amount"
    pair: address = self._pair(token_in, token_out)
    assert pair.codesize > 0, "uniswap_v2: no pair"
    reserve_in: uint256 = 0
    reserve_out: uint256 = 0
    reserve_in, reserve_out = self._reserves(pair, token_in, token_out)
    received: uint256 = staticcall IERC20(token_in).balanceOf(pair) - reserve_in
    amount_out: uint256 = self._amount_out(received, reserve_in, reserve_out)
    assert amount_out > 0, "uniswap_v2: zero output"
    assert amount_out >= min_amount_out, "uniswap_v2: insufficient output"
    if convert(token_in, uint160) < convert(token_out, uint160):
        extcall IUniswapV2Pair(pair).swap(0, amount_out, receiver, b"")
    else:
        extcall IUniswapV2Pair(pair).swap(amount_out, 0, receiver, b"")
    log Swap(
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
def get_amount_out(token_in: address, token_out: address, amount_in: uint256) -> uint256:
    """
    @notice Output of `swap` at the pair's current reserves (0 if no pair).
    """
    pair: address = self._pair(token_in, token_out)
    if pair.codesize == 0:
        return 0
    reserve_in: uint256 = 0
    reserve_out: uint256 = 0
    reserve_in, reserve_out = self._reserves(pair, token_in, token_out)
    return self._amount_out(amount_in, reserve_in, reserve_out)


@view
@external
def get_reserves(token_a: address, token_b: address) -> (uint256, uint256):
    """
    @notice Reserves of the (token_a, token_b) pair, in that order ((0, 0) if none).
    """
    pair: address = self._pair(token_a, token_b)
    if pair.codesize == 0:
        return 0, 0
    return self._reserves(pair, token_a, token_b)


@view
@external
def fee_bps() -> uint256:
    """
    @notice The pairs' swap fee in basis points (Uniswap V2: 30).
    """
    return FEE_BPS


@view
@external
def pair_for(token_a: address, token_b: address) -> address:
    """
    @notice The CREATE2 address of the (token_a, token_b) pair (it may not exist).
    """
    return self._pair(token_a, token_b)


@internal
@view
def _pair(token_a: address, token_b: address) -> address:
    token0: address = token_a
    token1: address = token_b
    if convert(token_b, uint160) < convert(token_a, uint160):
        token0 = token_b
        token1 = token_a
    salt: bytes32 = keccak256(concat(convert(token0, bytes20), convert(token1, bytes20)))
    digest: bytes32 = keccak256(concat(b"\xff", convert(factory, bytes20), salt, pair_init_code_hash))
    return convert(convert(slice(digest, 12, 20), bytes20), address)


@internal
@view
def _reserves(pair: address, token_in: address, token_out: address) -> (uint256, uint256):
    reserve0: uint112 = 0
    reserve1: uint112 = 0
    _: uint32 = 0
    reserve0, reserve1, _ = staticcall IUniswapV2Pair(pair).getReserves()
    if convert(token_in, uint160) < convert(token_out, uint160):
        return convert(reserve0, uint256), convert(reserve1, uint256)
    return convert(reserve1, uint256), convert(reserve0, uint256)


@internal
@pure
def _amount_out(amount_in: uint256, reserve_in: uint256, reserve_out: uint256) -> uint256:
    # UniswapV2Library.getAmountOut: reserves < 2**112, so no product overflows.
    if amount_in == 0 or reserve_in == 0 or reserve_out == 0:
        return 0
    in_with_fee: uint256 = amount_in * (10_000 - FEE_BPS)
    return in_with_fee * reserve_out // (reserve_in * 10_000 + in_with_fee)
