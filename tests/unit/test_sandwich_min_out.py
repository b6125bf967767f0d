"""``amm.sandwich_safe_min_out``: the loosest min-out that leaves a sandwich no profit.

Checked by brute force against the sandwich's own arithmetic (``amm.sandwich_gain``): no
front-run the min-out admits gains the attacker more than the swaps' integer rounding, and a
slightly looser min-out admits one that gains. The first test fails when
``sandwich_safe_min_out`` skips its search and returns the output after a 10% front-run.
"""

from hypothesis import given, settings
from hypothesis import strategies as st

from ballast.venues import amm


def _largest_admitted(min_out, amount_in, r_in, r_out, fee):
    """The largest front-run after which the victim still receives ``min_out``."""
    lo, hi = 0, r_in
    while lo < hi:
        mid = (lo + hi + 1) // 2
        if amm.output_after_front_run(mid, r_in, r_out, fee, amount_in) >= min_out:
            lo = mid
        else:
            hi = mid - 1
    return lo


def _best_gain(limit, amount_in, r_in, r_out, fee):
    """The attacker's best result over front-runs of 0..limit (the gain is unimodal: ternary search)."""
    left, right = 0, limit
    while right - left > 2:
        m1, m2 = left + (right - left) // 3, right - (right - left) // 3
        if amm.sandwich_gain(m1, r_in, r_out, fee, amount_in) < amm.sandwich_gain(m2, r_in, r_out, fee, amount_in):
            left = m1
        else:
            right = m2
    return max(amm.sandwich_gain(x, r_in, r_out, fee, amount_in) for x in range(left, right + 1))


pools = st.tuples(
    st.integers(10**12, 10**27),  # reserve in
    st.integers(10**12, 10**27),  # reserve out
    st.sampled_from([1, 5, 30, 100]),  # fee bps
    st.integers(1, 1_000),  # trade size, in tenths of a bp of the input reserve (0.01% .. 10%)
)


@settings(max_examples=1000, deadline=None)
@given(pools)
def test_sandwich_safe_min_out__every_admitted_front_run__loses(pool):
    r_in, r_out, fee, size = pool
    amount_in = max(1, r_in * size // 100_000)
    min_out = amm.sandwich_safe_min_out(amount_in, r_in, r_out, fee)
    assert min_out <= amm.amount_out(amount_in, r_in, r_out, fee)
    limit = _largest_admitted(min_out, amount_in, r_in, r_out, fee)
    # At most two base units of each token (the integer rounding of the three swaps), valued in the input
    # token at the pool's price: far less than the attacker's gas.
    assert _best_gain(limit, amount_in, r_in, r_out, fee) <= 2 * (1 + -(-r_in // r_out))


@settings(max_examples=1000, deadline=None)
@given(pools)
def test_sandwich_safe_min_out__looser_by_a_millionth__admits_a_gain_or_is_capped(pool):
    """The bound is not needlessly tight: loosen it by 1e-6 and a profitable front-run fits, unless
    the min-out is already the output after a front-run of 10% of the pool (no size gains)."""
    r_in, r_out, fee, size = pool
    amount_in = max(1, r_in * size // 100_000)
    min_out = amm.sandwich_safe_min_out(amount_in, r_in, r_out, fee)
    capped = amm.output_after_front_run(r_in // 10, r_in, r_out, fee, amount_in)
    if min_out == capped:
        return
    looser = min_out - max(1, min_out // 1_000_000)
    limit = _largest_admitted(looser, amount_in, r_in, r_out, fee)
    assert _best_gain(limit, amount_in, r_in, r_out, fee) > 0


def test_sandwich_safe_min_out__demo_pools__tight_above_fee_times_depth_loose_below():
    """$20M per side, WBTC at $84,000 sold for USDC: $112k on a 30 bps pool is worth sandwiching
    (its impact exceeds twice the fee), $20k is not."""
    r_in, r_out = 20_000_000 * 10**8 // 84_000, 20_000_000 * 10**6
    big, small = 112_000 * 10**8 // 84_000, 20_000 * 10**8 // 84_000
    expected = amm.amount_out(big, r_in, r_out, 30)
    assert expected - amm.sandwich_safe_min_out(big, r_in, r_out, 30) < expected // 100_000  # < 0.1 bp
    expected = amm.amount_out(small, r_in, r_out, 30)
    assert amm.sandwich_safe_min_out(small, r_in, r_out, 30) < expected * 9_000 // 10_000  # looser than 10%
