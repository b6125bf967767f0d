# pragma version 0.4.3
# pragma experimental-codegen
"""
@title Ballast venue over Uniswap V3 pools (one fee tier)
@custom:contract-name UniswapV3Venue
@notice Sells an exact input on the Uniswap V3 pool of one fee tier, with
        the pool's own math, no router. The caller pushes `amount_in` to
        `payee(...)` (this adapter) and calls `swap` in the same
        transaction; the pool sends the output straight to `receiver`.
@dev The pool address is derived from the factory, the pool init-code
     hash and the fee (CREATE2, as the periphery's `PoolAddress`), so no
     registry call is paid. For the duration of one `swap`, transient
     storage names the pool, the token it may be paid and the most it may
     be paid; `uniswapV3SwapCallback` pays only that pool, only that token,
     at most that amount, and only once. After the pool returns, the
     whole input must have been consumed and the output must reach the
     minimum; the adapter keeps no tokens.

     Price limit (see `_price_limit`): the pool is sent the extreme limit
     (MIN_SQRT_RATIO + 1 or MAX_SQRT_RATIO - 1). `min_amount_out` enters
     as a check of the pool's start price against P* = min_out /
     (amount_in * (1 - fee)), the marginal price at which even the whole
     fill could not reach min_out: every unit of input is priced at or
     below the start price, so a pool already at or past P* is refused
     before any transfer. P* is NOT passed as the pool's limit because the
     last unit of a fill is always priced below the fill's average, so a
     fill that meets min_out exactly ends past P* and would be stopped.
"""

from ethereum.ercs import IERC20
from interfaces import IVenue
from snekmate.utils import math

implements: IVenue


interface IUniswapV3Pool:
    def swap(
        recipient: address,
        zeroForOne: bool,
        amountSpecified: int256,
        sqrtPriceLimitX96: uint160,
        data: Bytes[32],
    ) -> (int256, int256): nonpayable
    def slot0() -> (uint160, int24, uint16, uint16, uint16, uint8, bool): view
    def liquidity() -> uint128: view


# @dev TickMath.MIN_SQRT_RATIO + 1 and MAX_SQRT_RATIO - 1: the loosest limits a pool accepts.
MIN_SQRT_LIMIT: constant(uint160) = 4295128739 + 1
MAX_SQRT_LIMIT: constant(uint160) = 1461446703485210103287273052203988822378723970342 - 1
# @dev Fees are in pips: hundredths of a basis point.
FEE_DENOMINATOR: constant(uint256) = 1_000_000
# @dev 2**96: the fixed point of a Q64.96 sqrt price.
Q96: constant(uint256) = 2**96


# @dev The Uniswap V3 factory whose pools this venue trades.
factory: public(immutable(address))
# @dev keccak256 of the pool's creation code, for CREATE2 addresses.
pool_init_code_hash: public(immutable(bytes32))
# @dev The fee tier traded, in pips (500 = 0.05%).
fee: public(immutable(uint24))

# @dev The pool the running `swap` called; empty outside a swap and once paid.
_expected_pool: transient(address)
# @dev The token the running `swap` sells.
_paid_token: transient(address)
# @dev The most the running `swap` may pay the pool.
_max_payment: transient(uint256)
# @dev Whether the running `swap` sells token0 (then amount0Delta is what it owes).
_zero_for_one: transient(bool)


event Swap:
    sender: indexed(address)
    token_in: indexed(address)
    token_out: indexed(address)
    amount_in: uint256
    amount_out: uint256
    receiver: address


@deploy
def __init__(factory_: address, pool_init_code_hash_: bytes32, fee_: uint24):
    """
    @notice Trade the `fee_` pools of `factory_`.
    @dev The factory may enable the fee tier after this deploy
         (`enableFeeAmount`); a pool of a tier it never enables never exists.
    @param factory_ A Uniswap V3 factory.
    @param pool_init_code_hash_ keccak256 of that factory's pool creation code.
    @param fee_ The fee tier in pips (100, 500, 3000, 10000, ...).
    """
    assert factory_ != empty(address), "uniswap_v3: zero factory"
    assert convert(fee_, uint256) < FEE_DENOMINATOR, "uniswap_v3: bad fee"
    factory = factory_
    pool_init_code_hash = pool_init_code_hash_
    fee = fee_


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
    @notice Sell exactly `amount_in` of `token_in`, already transferred to
            this adapter (`payee`) in this transaction, for at least
            `min_amount_out` of `token_out`, delivered to `receiver`.
    @dev Pulls nothing from the caller. Tokens held here are paid to the
         pool, so they must be pushed in the same transaction as the call.
    @param token_in The token sold.
    @param token_out The token bought.
    @param amount_in The exact input.
    @param min_amount_out The least acceptable output.
    @param receiver Who receives the output.
    @return The output amount.
    """
    assert amount_in > 0, "uniswap_v3: zero amount"
    # The pool takes amountSpecified as an int256.
    assert amount_in <= convert(max_value(int256), uint256), "uniswap_v3: amount too large"
    pool: address = self._pool(token_in, token_out)
    assert pool.codesize > 0, "uniswap_v3: no pool"
    zero_for_one: bool = convert(token_in, uint160) < convert(token_out, uint160)
    limit: uint160 = self._price_limit(pool, zero_for_one, amount_in, min_amount_out)

    self._expected_pool = pool
    self._paid_token = token_in
    self._max_payment = amount_in
    self._zero_for_one = zero_for_one
    amount0: int256 = 0
    amount1: int256 = 0
    amount0, amount1 = extcall IUniswapV3Pool(pool).swap(
        receiver, zero_for_one, convert(amount_in, int256), limit, b""
    )
    self._expected_pool = empty(address)

    paid: int256 = amount1
    received: int256 = amount0
    if zero_for_one:
        paid = amount0
        received = amount1
    # The pool takes less than the whole input only when it stopped at the limit.
    assert paid == convert(amount_in, int256), "uniswap_v3: price limit reached"
    amount_out: uint256 = convert(-received, uint256)
    assert amount_out >= min_amount_out, "uniswap_v3: insufficient output"
    log Swap(
        sender=msg.sender,
        token_in=token_in,
        token_out=token_out,
        amount_in=amount_in,
        amount_out=amount_out,
        receiver=receiver,
    )
    return amount_out


@external
def uniswapV3SwapCallback(amount0Delta: int256, amount1Delta: int256, data: Bytes[32]):
    """
    @notice Pay the pool of the running `swap` what it is owed.
    @dev Only the pool the running swap named may call, and only once;
         only the positive delta (the input) is paid, in the swap's input
         token, never more than its `amount_in`.
    @param amount0Delta The pool's token0 balance change (> 0: owed to it).
    @param amount1Delta The pool's token1 balance change (> 0: owed to it).
    @param data Unused.
    """
    pool: address = self._expected_pool
    assert pool != empty(address) and msg.sender == pool, "uniswap_v3: wrong pool"
    self._expected_pool = empty(address)
    owed: int256 = amount1Delta
    if self._zero_for_one:
        owed = amount0Delta
    if owed <= 0:
        return
    assert convert(owed, uint256) <= self._max_payment, "uniswap_v3: overpayment"
    assert extcall IERC20(self._paid_token).transfer(pool, convert(owed, uint256), default_return_value=True)


@view
@external
def payee(token_in: address, token_out: address) -> address:
    """
    @notice Where the caller sends `amount_in` before `swap`: this adapter
            (empty if the pair has no pool of this fee tier).
    @param token_in The token sold.
    @param token_out The token bought.
    @return This adapter, or empty(address).
    """
    if token_in == token_out or self._pool(token_in, token_out).codesize == 0:
        return empty(address)
    return self


@view
@external
def pool_for(token_a: address, token_b: address) -> address:
    """
    @notice The CREATE2 address of the (token_a, token_b) pool of this fee
            tier (it may not exist).
    @param token_a One token.
    @param token_b The other token.
    @return The pool address.
    """
    return self._pool(token_a, token_b)


@view
@external
def fee_bps() -> uint256:
    """
    @notice The fee tier in basis points, rounded down (100 pips: 1 bps).
    @return The fee in basis points.
    """
    return convert(fee, uint256) // 100


@view
@external
def pool_state(token_a: address, token_b: address) -> (uint160, int24, uint128):
    """
    @notice The pool's sqrt price (Q64.96, token1 per token0), tick and
            in-range liquidity ((0, 0, 0) if there is no pool).
    @param token_a One token.
    @param token_b The other token.
    @return sqrtPriceX96, tick, liquidity.
    """
    pool: address = self._pool(token_a, token_b)
    if pool.codesize == 0:
        return 0, 0, 0
    sqrt_price: uint160 = 0
    tick: int24 = 0
    a: uint16 = 0
    b: uint16 = 0
    c: uint16 = 0
    d: uint8 = 0
    e: bool = False
    sqrt_price, tick, a, b, c, d, e = staticcall IUniswapV3Pool(pool).slot0()
    return sqrt_price, tick, staticcall IUniswapV3Pool(pool).liquidity()


@internal
@view
def _pool(token_a: address, token_b: address) -> address:
    token0: address = token_a
    token1: address = token_b
    if convert(token_b, uint160) < convert(token_a, uint160):
        token0 = token_b
        token1 = token_a
    salt: bytes32 = keccak256(abi_encode(token0, token1, fee))
    digest: bytes32 = keccak256(concat(b"\xff", convert(factory, bytes20), salt, pool_init_code_hash))
    return convert(convert(slice(digest, 12, 20), bytes20), address)


@internal
@view
def _price_limit(pool: address, zero_for_one: bool, amount_in: uint256, min_amount_out: uint256) -> uint160:
    """
    @dev The sqrt price limit sent to the pool, after refusing a pool whose
         start price makes `min_amount_out` unreachable.
         Each step of a V3 swap prices its input at or below the step's
         start price (outputs round down, inputs up), and the fee takes at
         least `fee / 1e6` of every step, so for the whole fill
             amount_out <= amount_in * (1e6 - fee) / 1e6 * P0
         where P0 is the start price, out per in: sqrtP**2 / 2**192 for
         token0 -> token1, 2**192 / sqrtP**2 the other way. Equivalently P0
         must exceed P* = min_out / (amount_in * (1 - fee)); if it does
         not, the swap is refused here ("uniswap_v3: insufficient output")
         before the pool moves. The bound is rounded up, so it never
         refuses a fill the pool would make.
         No tighter limit is safe: the price at the end of a fill that
         meets min_out can be anywhere below P* (the last unit is priced
         below the average; a liquidity gap moves the price without
         consuming input), so the pool gets the extreme limit and the
         exact check is `amount_out >= min_amount_out` after it returns.
    """
    if min_amount_out > 0:
        self._check_start_price(pool, zero_for_one, amount_in, min_amount_out)
    if zero_for_one:
        return MIN_SQRT_LIMIT
    return MAX_SQRT_LIMIT


@internal
@view
def _check_start_price(pool: address, zero_for_one: bool, amount_in: uint256, min_amount_out: uint256):
    sqrt_price: uint160 = 0
    tick: int24 = 0
    a: uint16 = 0
    b: uint16 = 0
    c: uint16 = 0
    d: uint8 = 0
    e: bool = False
    sqrt_price, tick, a, b, c, d, e = staticcall IUniswapV3Pool(pool).slot0()
    s: uint256 = convert(sqrt_price, uint256)
    # amount_in < 2**255 and the factor < 1e6, so the product fits.
    priced: uint256 = amount_in // FEE_DENOMINATOR * (FEE_DENOMINATOR - convert(fee, uint256)) + (
        amount_in % FEE_DENOMINATOR
    ) * (FEE_DENOMINATOR - convert(fee, uint256)) // FEE_DENOMINATOR
    best: uint256 = 0
    if zero_for_one:
        best = math._mul_div(math._mul_div(priced, s, Q96, True), s, Q96, True)
    else:
        best = math._mul_div(math._mul_div(priced, Q96, s, True), Q96, s, True)
    assert best >= min_amount_out, "uniswap_v3: insufficient output"
