"""``ballast.venues.uniswap_v3_math``'s fast paths against the Solidity's steps: the tick from a
float logarithm against ``get_tick_at_sqrt_ratio_exact`` (TickMath's own log2 approximation),
and ``swap_exact_input``'s inlined exact-input step against the loop over ``compute_swap_step``
(the line-by-line port of ``SwapMath.computeSwapStep``). No chain: the pool-to-the-wei checks
are in ``test_uniswap_v3_venue.py``."""

from __future__ import annotations

import random

import pytest

from ballast.venues import uniswap_v3_math as v3
from ballast.venues.uniswap_v3 import seeded_state


def _outcome(fn, *args):
    try:
        return "ok", fn(*args)
    except Exception as err:  # noqa: BLE001 - the same error, type and message, is the point
        return type(err).__name__, str(err)


def _reference_swap(state, zero_for_one, amount_in, limit=None):
    """``UniswapV3Pool.swap``'s exact-input loop over :func:`compute_swap_step`, as ported."""
    v3._require(amount_in > 0, "AS")
    if limit is None:
        limit = v3.MIN_SQRT_RATIO + 1 if zero_for_one else v3.MAX_SQRT_RATIO - 1
    if zero_for_one:
        v3._require(v3.MIN_SQRT_RATIO < limit < state.sqrt_price_x96, "SPL")
    else:
        v3._require(state.sqrt_price_x96 < limit < v3.MAX_SQRT_RATIO, "SPL")
    remaining, out = amount_in, 0
    sqrt_price, tick, liquidity, crossed = state.sqrt_price_x96, state.tick, state.liquidity, 0
    while remaining != 0 and sqrt_price != limit:
        start = sqrt_price
        tick_next, initialized = v3.next_initialized_tick_within_one_word(
            state.bitmap, tick, state.tick_spacing, zero_for_one, state.words
        )
        tick_next = min(max(tick_next, v3.MIN_TICK), v3.MAX_TICK)
        sqrt_next = v3.get_sqrt_ratio_at_tick(tick_next)
        past_limit = sqrt_next < limit if zero_for_one else sqrt_next > limit
        sqrt_price, step_in, step_out, fee_amount = v3.compute_swap_step(
            sqrt_price, limit if past_limit else sqrt_next, liquidity, remaining, state.fee
        )
        remaining -= step_in + fee_amount
        out += step_out
        if sqrt_price == sqrt_next:
            if initialized:
                net = state.liquidity_net.get(tick_next, 0)
                liquidity += -net if zero_for_one else net
                v3._require(0 <= liquidity <= v3.UINT128_MAX, "LiquidityMath: LS/LA")
                crossed += 1
            tick = tick_next - 1 if zero_for_one else tick_next
        elif sqrt_price != start:
            tick = v3.get_tick_at_sqrt_ratio_exact(sqrt_price)
    return v3.SwapResult(amount_in - remaining, out, sqrt_price, tick, liquidity, crossed)


def test_tick_at_sqrt_ratio_equals_the_solidity_steps():
    rng = random.Random(7)
    prices = [v3.MIN_SQRT_RATIO - 1, v3.MIN_SQRT_RATIO, v3.MAX_SQRT_RATIO - 1, v3.MAX_SQRT_RATIO, v3.Q96]
    for _ in range(20_000):
        prices.append(rng.randrange(v3.MIN_SQRT_RATIO, v3.MAX_SQRT_RATIO))
        prices.append(int(2 ** rng.uniform(32, 160)))
        tick = rng.randint(v3.MIN_TICK, v3.MAX_TICK)
        prices.extend(v3.get_sqrt_ratio_at_tick(tick) + d for d in (-1, 0, 1, rng.randint(-(10**9), 10**9)))
    for price in prices:
        assert _outcome(v3.get_tick_at_sqrt_ratio, price) == _outcome(v3.get_tick_at_sqrt_ratio_exact, price), price


@pytest.mark.parametrize("fee", [100, 500, 3000, 10000])
def test_swap_exact_input_equals_the_compute_swap_step_loop(fee):
    rng = random.Random(fee)
    states = []
    for _ in range(4):
        full = seeded_state(
            rng.randrange(10**3, 10**27), rng.randrange(10**3, 10**27), fee, rng.choice([None, 10, 1000])
        )
        center = (full.tick // full.tick_spacing) >> 8
        windowed = v3.PoolState(**{**vars(full), "words": (center - 1, center + 1)})
        states += [full, windowed]
    for _ in range(1_500):
        state = rng.choice(states)
        amount = rng.choice([0, 1, rng.randrange(1, 10**6), int(10 ** rng.uniform(0, 28)), rng.randrange(1, 2**257)])
        limit = None if rng.random() < 0.8 else state.sqrt_price_x96 + rng.randint(-(10**20), 10**20)
        zero_for_one = rng.random() < 0.5
        got = _outcome(v3.swap_exact_input, state, zero_for_one, amount, limit)
        assert got == _outcome(_reference_swap, state, zero_for_one, amount, limit), (state, zero_for_one, amount)


def test_mul_div_rounding_equals_the_definition():
    rng = random.Random(3)
    for _ in range(5_000):
        a, b = rng.randrange(2 ** rng.randint(1, 260)), rng.randrange(2 ** rng.randint(1, 260))
        d = rng.randrange(1, 2 ** rng.randint(1, 260))
        exact = -(-a * b // d)
        expected = ("ok", exact) if exact <= v3.UINT256_MAX else ("ArithmeticError", "mulDiv: overflow")
        assert _outcome(v3.mul_div_rounding_up, a, b, d) == expected
        assert v3.div_rounding_up(a, d) == -(-a // d)
    assert _outcome(v3.mul_div_rounding_up, 1, 1, 0) == ("ArithmeticError", "mulDiv: zero denominator")
