"""Uniswap V3's swap math, ported to Python integers, rounding for rounding.

A line-by-line port of ``@uniswap/v3-core@1.0.1``'s ``TickMath``, ``SqrtPriceMath``,
``SwapMath``, ``TickBitmap.nextInitializedTickWithinOneWord`` and the exact-input branch of
``UniswapV3Pool.swap``, so an off-chain quote equals the pool's output to the wei. Every
``require`` of the originals is an ``ArithmeticError``/``ValueError`` here; nothing is a float
except :func:`price_of`.
"""

from __future__ import annotations

import functools
import math
from dataclasses import dataclass, field

MIN_TICK = -887272
MAX_TICK = 887272
MIN_SQRT_RATIO = 4295128739
MAX_SQRT_RATIO = 1461446703485210103287273052203988822378723970342
Q96 = 1 << 96
Q128 = 1 << 128
FEE_DENOMINATOR = 1_000_000  # fees are in pips (hundredths of a basis point)
UINT256_MAX = (1 << 256) - 1
UINT160_MAX = (1 << 160) - 1
UINT128_MAX = (1 << 128) - 1


class WindowExceeded(LookupError):
    """A swap walked past the tick-bitmap words a snapshot has read."""


def _require(condition: bool, reason: str) -> None:
    if not condition:
        raise ArithmeticError(reason)


# ---------------------------------------------------------------- FullMath / UnsafeMath


def mul_div(a: int, b: int, denominator: int) -> int:
    """FullMath.mulDiv: floor(a * b / denominator), reverting if the result overflows uint256."""
    if denominator <= 0:
        raise ArithmeticError("mulDiv: zero denominator")
    result = a * b // denominator
    if result > UINT256_MAX:
        raise ArithmeticError("mulDiv: overflow")
    return result


def mul_div_rounding_up(a: int, b: int, denominator: int) -> int:
    """FullMath.mulDivRoundingUp: ceil(a * b / denominator)."""
    if denominator <= 0:
        raise ArithmeticError("mulDiv: zero denominator")
    result, rest = divmod(a * b, denominator)
    if result > UINT256_MAX:
        raise ArithmeticError("mulDiv: overflow")
    if rest:
        if result >= UINT256_MAX:
            raise ArithmeticError("mulDiv: overflow")
        result += 1
    return result


def div_rounding_up(x: int, y: int) -> int:
    """UnsafeMath.divRoundingUp: ceil(x / y) (y > 0)."""
    quotient, rest = divmod(x, y)
    return quotient + 1 if rest else quotient


def _to_uint160(x: int) -> int:
    _require(0 <= x <= UINT160_MAX, "SafeCast: uint160")
    return x


# ---------------------------------------------------------------- TickMath


_TICK_FACTORS = (
    (0x2, 0xFFF97272373D413259A46990580E213A),
    (0x4, 0xFFF2E50F5F656932EF12357CF3C7FDCC),
    (0x8, 0xFFE5CACA7E10E4E61C3624EAA0941CD0),
    (0x10, 0xFFCB9843D60F6159C9DB58835C926644),
    (0x20, 0xFF973B41FA98C081472E6896DFB254C0),
    (0x40, 0xFF2EA16466C96A3843EC78B326B52861),
    (0x80, 0xFE5DEE046A99A2A811C461F1969C3053),
    (0x100, 0xFCBE86C7900A88AEDCFFC83B479AA3A4),
    (0x200, 0xF987A7253AC413176F2B074CF7815E54),
    (0x400, 0xF3392B0822B70005940C7A398E4B70F3),
    (0x800, 0xE7159475A2C29B7443B29C7FA6E889D9),
    (0x1000, 0xD097F3BDFD2022B8845AD8F792AA5825),
    (0x2000, 0xA9F746462D870FDF8A65DC1F90E061E5),
    (0x4000, 0x70D869A156D2A1B890BB3DF62BAF32F7),
    (0x8000, 0x31BE135F97D08FD981231505542FCFA6),
    (0x10000, 0x9AA508B5B7A84E1C677DE54F3E99BC9),
    (0x20000, 0x5D6AF8DEDB81196699C329225EE604),
    (0x40000, 0x2216E584F5FA1EA926041BEDFE98),
    (0x80000, 0x48A170391F7DC42444E8FA2),
)


@functools.lru_cache(maxsize=65_536)
def get_sqrt_ratio_at_tick(tick: int) -> int:
    """TickMath.getSqrtRatioAtTick: sqrt(1.0001^tick) * 2^96, as a Q64.96 (rounded up).

    Cached: a pure function of the tick, and a swap loop asks it again for the same initialized
    ticks and word boundaries (the planner's sandwich search runs thousands of swaps per plan)."""
    abs_tick = abs(tick)
    _require(abs_tick <= MAX_TICK, "T")
    ratio = 0xFFFCB933BD6FAD37AA2D162D1A594001 if abs_tick & 0x1 else 1 << 128
    for bit, factor in _TICK_FACTORS:
        if abs_tick & bit:
            ratio = (ratio * factor) >> 128
    if tick > 0:
        ratio = UINT256_MAX // ratio
    return (ratio >> 32) + (1 if ratio % (1 << 32) else 0)


# ln(2**96) and ln(sqrt(1.0001)): a tick is log base sqrt(1.0001) of the sqrt price over 2**96.
_LN_Q96 = 96 * math.log(2)
_LN_SQRT_10001 = math.log(1.0001) / 2
# How near a whole tick a float estimate must be to be settled exactly: its error is below
# 1e-9 tick (math.log of an int is correct to about an ulp), and getSqrtRatioAtTick's rounding
# below 5e-6 tick (one unit of its Q64.96 result at MIN_SQRT_RATIO, ~2.3e-10 relative).
_TICK_MARGIN = 1e-3


def get_tick_at_sqrt_ratio(sqrt_price_x96: int) -> int:
    """TickMath.getTickAtSqrtRatio: the greatest tick whose sqrt ratio is <= ``sqrt_price_x96``.

    The tick from a float logarithm when it is well inside a tick (the greatest tick whose ratio
    is at most the price is then its floor, which is what the Solidity returns: its own bounds
    guarantee it, and ``tests/unit/test_v3_math.py`` compares the two); near a tick boundary,
    :func:`get_tick_at_sqrt_ratio_exact`, the Solidity's own steps.
    """
    if not MIN_SQRT_RATIO <= sqrt_price_x96 < MAX_SQRT_RATIO:
        raise ArithmeticError("R")
    estimate = (math.log(sqrt_price_x96) - _LN_Q96) / _LN_SQRT_10001
    tick = math.floor(estimate)
    if _TICK_MARGIN < estimate - tick < 1 - _TICK_MARGIN:
        return tick
    return get_tick_at_sqrt_ratio_exact(sqrt_price_x96)


def get_tick_at_sqrt_ratio_exact(sqrt_price_x96: int) -> int:
    """TickMath.getTickAtSqrtRatio step for step: the same log2 approximation as the Solidity
    (so the same tickLow/tickHi candidates), then the same tie-break by ``get_sqrt_ratio_at_tick``.
    """
    _require(MIN_SQRT_RATIO <= sqrt_price_x96 < MAX_SQRT_RATIO, "R")
    ratio = sqrt_price_x96 << 32
    msb = ratio.bit_length() - 1
    r = ratio >> (msb - 127) if msb >= 128 else ratio << (127 - msb)
    log_2 = (msb - 128) << 64
    for shift in range(63, 49, -1):
        r = (r * r) >> 127
        f = r >> 128
        log_2 |= f << shift
        r >>= f
    log_sqrt10001 = log_2 * 255738958999603826347141  # 128.128 number
    tick_low = (log_sqrt10001 - 3402992956809132418596140100660247210) >> 128
    tick_hi = (log_sqrt10001 + 291339464771989622907027621153398088495) >> 128
    if tick_low == tick_hi:
        return tick_low
    return tick_hi if get_sqrt_ratio_at_tick(tick_hi) <= sqrt_price_x96 else tick_low


# ---------------------------------------------------------------- SqrtPriceMath


def get_next_sqrt_price_from_amount0_rounding_up(sqrt_px96: int, liquidity: int, amount: int, add: bool) -> int:
    """SqrtPriceMath.getNextSqrtPriceFromAmount0RoundingUp (with the same overflow fallback)."""
    if amount == 0:
        return sqrt_px96
    numerator1 = liquidity << 96
    if add:
        product = amount * sqrt_px96
        if product <= UINT256_MAX:  # the Solidity's `product / amount == sqrtPX96`
            denominator = numerator1 + product
            if denominator <= UINT256_MAX:  # the Solidity's `denominator >= numerator1`
                return mul_div_rounding_up(numerator1, sqrt_px96, denominator)
        added = numerator1 // sqrt_px96 + amount
        _require(added <= UINT256_MAX, "LowGasSafeMath: add")
        return div_rounding_up(numerator1, added)
    product = amount * sqrt_px96
    _require(product <= UINT256_MAX and numerator1 > product, "SqrtPriceMath: amount0 out")
    return _to_uint160(mul_div_rounding_up(numerator1, sqrt_px96, numerator1 - product))


def get_next_sqrt_price_from_amount1_rounding_down(sqrt_px96: int, liquidity: int, amount: int, add: bool) -> int:
    """SqrtPriceMath.getNextSqrtPriceFromAmount1RoundingDown."""
    if add:
        quotient = (amount << 96) // liquidity if amount <= UINT160_MAX else mul_div(amount, Q96, liquidity)
        return _to_uint160(sqrt_px96 + quotient)
    if amount <= UINT160_MAX:
        quotient = div_rounding_up(amount << 96, liquidity)
    else:
        quotient = mul_div_rounding_up(amount, Q96, liquidity)
    _require(sqrt_px96 > quotient, "SqrtPriceMath: amount1 out")
    return sqrt_px96 - quotient


def get_next_sqrt_price_from_input(sqrt_px96: int, liquidity: int, amount_in: int, zero_for_one: bool) -> int:
    """SqrtPriceMath.getNextSqrtPriceFromInput: rounds so the price never passes the true target."""
    _require(sqrt_px96 > 0 and liquidity > 0, "SqrtPriceMath: input")
    if zero_for_one:
        return get_next_sqrt_price_from_amount0_rounding_up(sqrt_px96, liquidity, amount_in, True)
    return get_next_sqrt_price_from_amount1_rounding_down(sqrt_px96, liquidity, amount_in, True)


def get_next_sqrt_price_from_output(sqrt_px96: int, liquidity: int, amount_out: int, zero_for_one: bool) -> int:
    """SqrtPriceMath.getNextSqrtPriceFromOutput."""
    _require(sqrt_px96 > 0 and liquidity > 0, "SqrtPriceMath: output")
    if zero_for_one:
        return get_next_sqrt_price_from_amount1_rounding_down(sqrt_px96, liquidity, amount_out, False)
    return get_next_sqrt_price_from_amount0_rounding_up(sqrt_px96, liquidity, amount_out, False)


def get_amount0_delta(sqrt_a: int, sqrt_b: int, liquidity: int, round_up: bool) -> int:
    """SqrtPriceMath.getAmount0Delta (unsigned): liquidity * (1/sqrt_a - 1/sqrt_b)."""
    if sqrt_a > sqrt_b:
        sqrt_a, sqrt_b = sqrt_b, sqrt_a
    numerator1 = liquidity << 96
    numerator2 = sqrt_b - sqrt_a
    _require(sqrt_a > 0, "SqrtPriceMath: zero price")
    if round_up:
        return div_rounding_up(mul_div_rounding_up(numerator1, numerator2, sqrt_b), sqrt_a)
    return mul_div(numerator1, numerator2, sqrt_b) // sqrt_a


def get_amount1_delta(sqrt_a: int, sqrt_b: int, liquidity: int, round_up: bool) -> int:
    """SqrtPriceMath.getAmount1Delta (unsigned): liquidity * (sqrt_b - sqrt_a)."""
    if sqrt_a > sqrt_b:
        sqrt_a, sqrt_b = sqrt_b, sqrt_a
    if round_up:
        return mul_div_rounding_up(liquidity, sqrt_b - sqrt_a, Q96)
    return mul_div(liquidity, sqrt_b - sqrt_a, Q96)


def get_amount0_delta_signed(sqrt_a: int, sqrt_b: int, liquidity: int) -> int:
    """SqrtPriceMath.getAmount0Delta (signed liquidity): what a mint owes / a burn returns."""
    if liquidity < 0:
        return -get_amount0_delta(sqrt_a, sqrt_b, -liquidity, False)
    return get_amount0_delta(sqrt_a, sqrt_b, liquidity, True)


def get_amount1_delta_signed(sqrt_a: int, sqrt_b: int, liquidity: int) -> int:
    """SqrtPriceMath.getAmount1Delta (signed liquidity)."""
    if liquidity < 0:
        return -get_amount1_delta(sqrt_a, sqrt_b, -liquidity, False)
    return get_amount1_delta(sqrt_a, sqrt_b, liquidity, True)


# ---------------------------------------------------------------- SwapMath


def compute_swap_step(
    sqrt_current: int, sqrt_target: int, liquidity: int, amount_remaining: int, fee_pips: int
) -> tuple[int, int, int, int]:
    """SwapMath.computeSwapStep: ``(sqrt_next, amount_in, amount_out, fee_amount)``.

    ``amount_remaining`` >= 0 is an exact input, < 0 an exact output (as in the Solidity).
    """
    zero_for_one = sqrt_current >= sqrt_target
    exact_in = amount_remaining >= 0
    amount_in = amount_out = 0
    if exact_in:
        remaining_less_fee = mul_div(amount_remaining, FEE_DENOMINATOR - fee_pips, FEE_DENOMINATOR)
        if zero_for_one:
            amount_in = get_amount0_delta(sqrt_target, sqrt_current, liquidity, True)
        else:
            amount_in = get_amount1_delta(sqrt_current, sqrt_target, liquidity, True)
        if remaining_less_fee >= amount_in:
            sqrt_next = sqrt_target
        else:
            sqrt_next = get_next_sqrt_price_from_input(sqrt_current, liquidity, remaining_less_fee, zero_for_one)
    else:
        if zero_for_one:
            amount_out = get_amount1_delta(sqrt_target, sqrt_current, liquidity, False)
        else:
            amount_out = get_amount0_delta(sqrt_current, sqrt_target, liquidity, False)
        if -amount_remaining >= amount_out:
            sqrt_next = sqrt_target
        else:
            sqrt_next = get_next_sqrt_price_from_output(sqrt_current, liquidity, -amount_remaining, zero_for_one)
    reached = sqrt_target == sqrt_next
    if zero_for_one:
        if not (reached and exact_in):
            amount_in = get_amount0_delta(sqrt_next, sqrt_current, liquidity, True)
        if not (reached and not exact_in):
            amount_out = get_amount1_delta(sqrt_next, sqrt_current, liquidity, False)
    else:
        if not (reached and exact_in):
            amount_in = get_amount1_delta(sqrt_current, sqrt_next, liquidity, True)
        if not (reached and not exact_in):
            amount_out = get_amount0_delta(sqrt_current, sqrt_next, liquidity, False)
    if not exact_in and amount_out > -amount_remaining:
        amount_out = -amount_remaining
    if exact_in and sqrt_next != sqrt_target:
        fee_amount = amount_remaining - amount_in  # the rest of the input is the fee
    else:
        fee_amount = mul_div_rounding_up(amount_in, fee_pips, FEE_DENOMINATOR - fee_pips)
    return sqrt_next, amount_in, amount_out, fee_amount


# ---------------------------------------------------------------- TickBitmap


def tick_position(compressed: int) -> tuple[int, int]:
    return compressed >> 8, compressed % 256  # int16(tick >> 8), uint8(tick % 256) (two's complement)


def next_initialized_tick_within_one_word(
    bitmap: dict[int, int], tick: int, tick_spacing: int, lte: bool, words: tuple[int, int] | None = None
) -> tuple[int, bool]:
    """TickBitmap.nextInitializedTickWithinOneWord over ``bitmap`` (word position -> uint256).

    ``words`` = (lowest, highest) word position read from the chain; a lookup outside it raises
    :class:`WindowExceeded` instead of guessing (``None``: ``bitmap`` is complete).
    """
    compressed = tick // tick_spacing  # floor: the Solidity's truncation then `compressed--`
    if not lte:
        compressed += 1
    word_pos, bit_pos = tick_position(compressed)
    if words is not None and not words[0] <= word_pos <= words[1]:
        raise WindowExceeded(f"tick bitmap word {word_pos} is outside the snapshot's words {words}")
    word = bitmap.get(word_pos, 0)
    if lte:
        masked = word & ((1 << bit_pos) - 1 + (1 << bit_pos))
        if masked:
            return (compressed - (bit_pos - (masked.bit_length() - 1))) * tick_spacing, True
        return (compressed - bit_pos) * tick_spacing, False
    masked = word & ~((1 << bit_pos) - 1) & UINT256_MAX
    if masked:
        lsb = (masked & -masked).bit_length() - 1
        return (compressed + (lsb - bit_pos)) * tick_spacing, True
    return (compressed + (255 - bit_pos)) * tick_spacing, False


# ---------------------------------------------------------------- the pool's swap loop


@dataclass
class PoolState:
    """What ``UniswapV3Pool.swap`` reads and moves: price, tick, in-range liquidity, initialized ticks."""

    sqrt_price_x96: int
    tick: int
    liquidity: int
    fee: int  # pips
    tick_spacing: int
    liquidity_net: dict[int, int] = field(default_factory=dict)  # initialized tick -> liquidityNet
    bitmap: dict[int, int] = field(default_factory=dict)  # word position -> uint256
    words: tuple[int, int] | None = None  # word positions read (None: complete)


@dataclass(frozen=True)
class SwapResult:
    amount_in: int  # input consumed, fee included (the pool's positive delta)
    amount_out: int  # output paid (minus the pool's negative delta)
    sqrt_price_x96: int
    tick: int
    liquidity: int
    ticks_crossed: int  # initialized ticks crossed


def swap_exact_input(
    state: PoolState, zero_for_one: bool, amount_in: int, sqrt_price_limit_x96: int | None = None
) -> SwapResult:
    """The exact-input branch of ``UniswapV3Pool.swap``, step for step (``state`` is not changed).

    The loop stops when the input is spent or the price reaches the limit (default: the
    extreme, MIN/MAX_SQRT_RATIO -/+ 1, as a router sends). Protocol fees do not change amounts.
    """
    _require(amount_in > 0, "AS")
    if sqrt_price_limit_x96 is None:
        sqrt_price_limit_x96 = MIN_SQRT_RATIO + 1 if zero_for_one else MAX_SQRT_RATIO - 1
    limit = sqrt_price_limit_x96
    if zero_for_one:
        _require(MIN_SQRT_RATIO < limit < state.sqrt_price_x96, "SPL")
    else:
        _require(state.sqrt_price_x96 < limit < MAX_SQRT_RATIO, "SPL")
    remaining, out = amount_in, 0
    sqrt_price, tick, liquidity, crossed = state.sqrt_price_x96, state.tick, state.liquidity, 0
    fee, fee_complement = state.fee, FEE_DENOMINATOR - state.fee
    bitmap, spacing, words, nets = state.bitmap, state.tick_spacing, state.words, state.liquidity_net
    while remaining != 0 and sqrt_price != limit:
        start = sqrt_price
        tick_next, initialized = next_initialized_tick_within_one_word(bitmap, tick, spacing, zero_for_one, words)
        tick_next = min(max(tick_next, MIN_TICK), MAX_TICK)
        sqrt_next = get_sqrt_ratio_at_tick(tick_next)
        past_limit = sqrt_next < limit if zero_for_one else sqrt_next > limit
        target = limit if past_limit else sqrt_next
        # SwapMath.computeSwapStep(start, target, liquidity, remaining, fee) for an exact input
        # (remaining > 0), inlined: compute_swap_step's branches and checks, in its order.
        down = start >= target
        remaining_less_fee = remaining * fee_complement // FEE_DENOMINATOR
        if remaining_less_fee > UINT256_MAX:
            raise ArithmeticError("mulDiv: overflow")
        if down:
            step_in = get_amount0_delta(target, start, liquidity, True)
        else:
            step_in = get_amount1_delta(start, target, liquidity, True)
        if remaining_less_fee >= step_in:
            sqrt_price = target
            if down:
                step_out = get_amount1_delta(target, start, liquidity, False)
            else:
                step_out = get_amount0_delta(start, target, liquidity, False)
            fee_amount = mul_div_rounding_up(step_in, fee, fee_complement)
        else:
            sqrt_price = get_next_sqrt_price_from_input(start, liquidity, remaining_less_fee, down)
            if down:
                if sqrt_price != target:
                    step_in = get_amount0_delta(sqrt_price, start, liquidity, True)
                step_out = get_amount1_delta(sqrt_price, start, liquidity, False)
            else:
                if sqrt_price != target:
                    step_in = get_amount1_delta(start, sqrt_price, liquidity, True)
                step_out = get_amount0_delta(start, sqrt_price, liquidity, False)
            if sqrt_price != target:
                fee_amount = remaining - step_in  # the rest of the input is the fee
            else:
                fee_amount = mul_div_rounding_up(step_in, fee, fee_complement)
        remaining -= step_in + fee_amount
        out += step_out
        if sqrt_price == sqrt_next:
            if initialized:
                net = nets.get(tick_next, 0)
                liquidity += -net if zero_for_one else net
                _require(0 <= liquidity <= UINT128_MAX, "LiquidityMath: LS/LA")
                crossed += 1
            tick = tick_next - 1 if zero_for_one else tick_next
        elif sqrt_price != start:
            tick = get_tick_at_sqrt_ratio(sqrt_price)
    return SwapResult(amount_in - remaining, out, sqrt_price, tick, liquidity, crossed)


# ---------------------------------------------------------------- prices and liquidity (periphery)


def sqrt_price_x96_from_price(price: float | int, numerator: int = 1, denominator: int = 1) -> int:
    """The Q64.96 sqrt price for ``price`` = token1 per token0 in raw base units.

    ``price`` may be given exactly as ``numerator / denominator`` (ints) instead of a float.
    """
    from fractions import Fraction
    from math import isqrt

    ratio = Fraction(price) * numerator / denominator
    _require(ratio > 0, "price must be positive")
    return isqrt(ratio.numerator * (1 << 192) // ratio.denominator)


def price_of(sqrt_price_x96: int) -> float:
    """token1 per token0 in raw base units (a float, for display and planning only)."""
    return (sqrt_price_x96 / Q96) ** 2


def liquidity_for_amounts(sqrt_price: int, sqrt_a: int, sqrt_b: int, amount0: int, amount1: int) -> int:
    """LiquidityAmounts.getLiquidityForAmounts (periphery): the most liquidity both amounts pay for."""
    if sqrt_a > sqrt_b:
        sqrt_a, sqrt_b = sqrt_b, sqrt_a

    def for_amount0(lo: int, hi: int) -> int:
        return mul_div(amount0, mul_div(lo, hi, Q96), hi - lo)

    def for_amount1(lo: int, hi: int) -> int:
        return mul_div(amount1, Q96, hi - lo)

    if sqrt_price <= sqrt_a:
        liquidity = for_amount0(sqrt_a, sqrt_b)
    elif sqrt_price < sqrt_b:
        liquidity = min(for_amount0(sqrt_price, sqrt_b), for_amount1(sqrt_a, sqrt_price))
    else:
        liquidity = for_amount1(sqrt_a, sqrt_b)
    _require(liquidity <= UINT128_MAX, "liquidity overflows uint128")
    return liquidity
