"""The race's sandwich search for exact-output buys (Set's ``swapTokensForExactTokens``), on a
Uniswap V2 pool's integer math, against brute force and the router's own formula."""

import copy

from ballast.bench.sandwich import Asset, best_back_run, result
from ballast.constants import WAD
from ballast.peers.sandwich import buy_exact, evaluate_exact_input, evaluate_exact_output
from ballast.peers.set_protocol import v2_amount_in
from ballast.planner import Pool
from ballast.venues import amm
from ballast.venues.routing import Side

WETH = Asset("0x" + "00" * 19 + "01", 18, 3_000 * WAD)
LINK = Asset("0x" + "00" * 19 + "02", 18, 15 * WAD)


def _side(depth_usd: int) -> Side:
    """A WETH/LINK pair at the oracle price, ``depth_usd`` a side, selling WETH for LINK."""
    weth = depth_usd * WAD // WETH.price * 10**18
    link = depth_usd * WAD // LINK.price * 10**18
    return Side(Pool("0x" + "11" * 20, WETH.address, LINK.address, weth, link, 30), WETH.address, LINK.address)


def test_buy_exact__router_amount_in__reserves_move_by_paid_and_bought():
    side = _side(1_000_000)
    pool = copy.deepcopy(side)
    amount_out = 1_000 * 10**18
    paid = buy_exact(pool, amount_out)
    assert paid == v2_amount_in(amount_out, side.pool.reserve_a, side.pool.reserve_b)
    assert amm.amount_out(paid, side.pool.reserve_a, side.pool.reserve_b, 30) >= amount_out  # the pair's K holds
    assert amm.amount_out(paid - 2, side.pool.reserve_a, side.pool.reserve_b, 30) < amount_out  # and no slack
    assert (pool.pool.reserve_a, pool.pool.reserve_b) == (
        side.pool.reserve_a + paid,
        side.pool.reserve_b - amount_out,
    )


def test_exact_output__max_in_is_the_quote__only_rounding_admitted():
    side = _side(2_000_000)
    amount_out = 2_000 * 10**18  # $30k of LINK on a $2M pool
    quote = v2_amount_in(amount_out, side.pool.reserve_a, side.pool.reserve_b)
    plan = evaluate_exact_output(side, amount_out, quote, WETH, LINK)
    # Only front-runs of a few wei leave the router's rounded-up input unchanged; what they gain
    # is the rounding of the back-run, under a millionth of a dollar.
    assert WETH.value(plan.admitted) < WAD // 10**6
    assert plan.back_run_alone > 0
    assert 0 <= plan.best.result - plan.back_run_alone < WAD // 10**6


def test_exact_output__loose_max_in__admitted_is_the_largest_and_a_front_run_pays():
    side = _side(2_000_000)
    amount_out = 2_000 * 10**18
    quote = v2_amount_in(amount_out, side.pool.reserve_a, side.pool.reserve_b)
    max_in = quote * 10_200 // 10_000  # 2% over the quote: a large trade on a shallow pool

    def paid_after(x):
        pool = copy.deepcopy(side)
        pool.apply(x)
        return buy_exact(pool, amount_out)

    plan = evaluate_exact_output(side, amount_out, max_in, WETH, LINK)
    assert paid_after(plan.admitted) <= max_in < paid_after(plan.admitted + 1)
    assert 0 < plan.best.front_run <= plan.admitted
    assert plan.best.result > plan.back_run_alone  # the sandwich pays
    # The best's result, recomputed by hand: front-run, the victim's buy, the exact back-run.
    pool = copy.deepcopy(side)
    got = pool.apply(plan.best.front_run)
    assert buy_exact(pool, amount_out) == plan.best.victim_out <= max_in
    back = best_back_run(pool, WETH, LINK, 64)
    assert result(WETH, LINK, -plan.best.front_run, got) + back[2] == plan.best.result


def test_exact_input__min_out_is_the_quote__no_front_run_admitted():
    side = _side(2_000_000)
    amount_in = 10 * 10**18  # $30k of WETH
    quote = side.quote(amount_in)
    plan = evaluate_exact_input(side, amount_in, quote, WETH, LINK)
    assert plan.admitted == 0 and plan.best.front_run == 0
    loose = evaluate_exact_input(side, amount_in, quote * 9_800 // 10_000, WETH, LINK)
    assert loose.admitted > 0 and loose.best.result > loose.back_run_alone
