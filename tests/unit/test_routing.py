"""``ballast.venues.routing``: the one venue protocol, the generic order splitter and the generic
sandwich-safe min-out, on pools of different curves (pure Python, no chain).

The splitter is checked by the marginal prices it leaves (equal across the pools it uses, and
every unused pool no better), the sandwich search against the constant-product closed form of
``ballast.venues.amm`` (identical results) and, on a Balancer weighted pool, by brute force over every
front-run the min-out admits.
"""

import math

from hypothesis import given, settings
from hypothesis import strategies as st

from ballast.planner import Pool
from ballast.venues import amm, routing
from ballast.venues.balancer_math import ONE, WeightedPool, scaling_factor

A, B, C = "0x" + "aa" * 20, "0x" + "bb" * 20, "0x" + "cc" * 20


def weighted(balances, weights_pct, decimals=(18, 18), fee_bps=30, venue="0xBAL"):
    return WeightedPool(
        venue=venue,
        tokens=[A, B],
        balances=list(balances),
        weights=[w * ONE // 100 for w in weights_pct],
        scaling_factors=[scaling_factor(d) for d in decimals],
        swap_fee=fee_bps * 10**14,
    )


def marginal_at(side, x):
    """d(output)/d(input) of one swap of ``x`` from the side's current state, by finite difference
    (the quantity the split equalises: the next unit's output, had it been in the same swap)."""
    h = max(x // 1_000, 10**6)
    return (side.quote(x + h) - side.quote(x - h)) / (2 * h)


def test_split_order__constant_product_and_weighted__marginal_prices_end_equal():
    cp = routing.Side(Pool("0xCP", A, B, 4_000 * ONE, 4_000 * ONE, 30), A, B)
    bal = routing.Side(weighted((2_000 * ONE, 6_000 * ONE), (25, 75), fee_bps=10), A, B)
    parts = routing.split_order([cp, bal], 300 * ONE)
    assert sum(a for _, a in parts) == 300 * ONE and len(parts) == 2
    m_cp, m_bal = (marginal_at(side, amount) for side, amount in parts)
    assert abs(m_cp - m_bal) / m_cp < 1e-5
    # And the split beats either pool alone.
    split_out = sum(side.quote(amount) for side, amount in parts)
    assert split_out > max(cp.quote(300 * ONE), bal.quote(300 * ONE))


def test_split_order__pool_priced_worse_than_the_fill__gets_nothing():
    good = routing.Side(Pool("0xGOOD", A, B, 1_000 * ONE, 1_000 * ONE, 30), A, B)
    bad = routing.Side(weighted((1_000 * ONE, 500 * ONE), (50, 50)), A, B)
    assert [(s.venue, a) for s, a in routing.split_order([good, bad], ONE)] == [("0xGOOD", ONE)]


def test_input_for_price__weighted_pool__lands_on_that_marginal_price():
    pool = weighted((5_000_000 * 10**6, 200 * 10**8), (60, 40), decimals=(6, 8))
    side = routing.Side(pool, A, B)
    target = side.marginal_price() * 0.97
    x = int(side.input_for_price(target))
    assert math.isclose(marginal_at(side, x), target, rel_tol=1e-5)


def test_input_for_price__weighted_pool__capped_at_30_percent_of_the_balance():
    pool = weighted((1_000 * ONE, 1_000 * ONE), (50, 50))
    assert pool.input_for_price(A, B, 1e-9) < 300 * ONE


cp_pools = st.tuples(
    st.integers(10**12, 10**27),
    st.integers(10**12, 10**27),
    st.sampled_from([1, 5, 30, 100]),
    st.integers(1, 1_000),
)


@settings(max_examples=300, deadline=None)
@given(cp_pools)
def test_sandwich_safe_min_out__constant_product__equals_the_closed_form_search(pool):
    r_in, r_out, fee, size = pool
    amount_in = max(1, r_in * size // 100_000)
    side = routing.Side(Pool("0xCP", A, B, r_in, r_out, fee), A, B)
    assert routing.sandwich_safe_min_out(side, amount_in) == amm.sandwich_safe_min_out(amount_in, r_in, r_out, fee)


@settings(max_examples=60, deadline=None)
@given(
    st.integers(10**20, 10**26),
    st.integers(10**20, 10**26),
    st.sampled_from([(50, 50), (80, 20), (20, 80), (40, 60)]),
    st.sampled_from([1, 5, 30, 100]),
    st.integers(10, 1_000),
)
def test_sandwich_safe_min_out__weighted_pool__every_admitted_front_run_loses(b_in, b_out, weights, fee, size):
    side = routing.Side(weighted((b_in, b_out), weights, fee_bps=fee), A, B)
    amount_in = b_in * size // 100_000
    min_out = routing.sandwich_safe_min_out(side, amount_in)
    assert min_out <= side.quote(amount_in)
    # Every front-run, on a grid up to the pool's cap, that leaves the victim its min-out.
    for k in range(1, 61):
        front = b_in * k // 200
        if routing.output_after_front_run(side, front, amount_in) < min_out:
            break
        # A few base units of rounding at most, across the three swaps.
        assert routing.sandwich_gain(side, front, amount_in) <= 4
