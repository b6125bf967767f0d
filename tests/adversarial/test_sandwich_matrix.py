"""A few cells of the bench's sandwich matrix (``ballast.bench.sandwich``), on chain.

Per cell: a 2-asset vault (USDC, WBTC; 60% WBTC against a 50% target) whose only venue is a real
Uniswap V3 pool (``@uniswap/v3-core@1.0.1``'s bytecode) at one fee tier and liquidity shape; the
keeper path plans its rebalance (one WBTC sale, ``size`` of the pool's WBTC). A real attacker
account sends its front-run through the real ``SwapRouter`` (``@uniswap/v3-periphery@1.4.4``), the
keeper sends the rebalance, the attacker sends its best back-run: three transactions. Its result
at oracle prices is measured from its balances and compared with the back-run alone (the vault's
own impact arbitraged, open to anyone, sandwich or not), both on chain from the same snapshot.

The front-runs tried are the matrix's: the attacker's best over the grid of every admitted size
(computed with the pool's exact math, on the state the chain holds) and the largest the trade still
fills after. Each must gain nothing over the back-run alone and leave the vault within its bound,
and the chain must agree with the matrix's arithmetic to the wei.

Fails with the planner's min-outs at the vault's oracle bound alone (``planned_min_out`` returning
``oracle_min``): the attacker gains $87.53 in the 5 bps cell and $98.49 in the 1 bp one (``-s``
prints it). With the former sandwich-safe rule it gained $98.49 in the 1 bp cell too (the keeper's
snapshot reads the pool's ticks near the price only, and the front-runs that pay push the price
past them: they were counted as refused) and $0.000574 in the 5 bps cell (one WBTC base unit,
hidden from the former search by the rounding of a sell-back of exactly what was bought).
"""

import copy

import pytest

from ballast import keeper as keeper_path
from ballast.bench.sandwich import BACK_RUN_WINDOW_FINE, Asset, attack, best_back_run, evaluate, result
from ballast.constants import MAX_BPS
from ballast.venues import uniswap_v3
from ballast.venues.routing import Side

USD = 10**18
# (depth per side USD, fee bps, trade in bps of the pool's WBTC, V3 band bps or None: full range)
CELLS = [
    (2_000_000, 5, 100, None),  # the sandwich-safe bound binds: the min-out is the expected fill
    (2_000_000, 1, 100, 100),  # the same, on concentrated liquidity
    (2_000_000, 30, 10, None),  # the oracle bound binds: front-runs up to 0.56% of the pool still fill
    (20_000_000, 5, 100, 100),  # the oracle bound binds: front-runs up to 43% of the pool still fill
]
DEADLINE = 2**40


def _router_swap(router, token_in, token_out, fee, amount_in, min_out, account):
    params = (str(token_in), str(token_out), fee, str(account), DEADLINE, amount_in, min_out, 0)
    return router.exactInputSingle(params, sender=account)


@pytest.mark.parametrize("depth, fee_bps, size_bps, band_bps", CELLS)
def test_sandwich_matrix_cell__best_and_largest_front_run__attacker_gains_nothing_vault_within_bound(
    lens, make_stack, alice, keeper, attacker, chain, project, owner, depth, fee_bps, size_bps, band_bps
):
    stack = make_stack(
        decimals=(6, 8),
        prices=(1.0, 60_000.0),
        weights=(5_000, 5_000),
        venue_kind="uniswap_v3",
        fee_bps=fee_bps,
        depth_usd=depth,
        v3_band_bps=band_bps,
    )
    usdc, wbtc = stack.tokens
    vault, venue = stack.vault, stack.venue
    fee = fee_bps * 100
    pool = uniswap_v3.container("UniswapV3Pool").at(venue.pool_for(usdc, wbtc))
    pool_wbtc = int(depth / 60_000.0 * 10**8)

    # The chain's pool is the matrix's: seeded_state, built off-chain, equals what the pool holds.
    amounts = {str(usdc.address): int(depth * 10**6), str(wbtc.address): pool_wbtc}
    token0, token1 = uniswap_v3.sort_tokens(usdc, wbtc)
    state = uniswap_v3.seeded_state(amounts[token0], amounts[token1], fee, band_bps)
    read = uniswap_v3.read_pool_state(pool, words=8)
    assert (read.sqrt_price_x96, read.tick, read.liquidity) == (state.sqrt_price_x96, state.tick, state.liquidity)
    low, high = read.words  # the full range's ticks lie beyond the words read: compared within them
    assert read.bitmap == {w: b for w, b in state.bitmap.items() if low <= w <= high}
    assert read.liquidity_net == {
        t: n for t, n in state.liquidity_net.items() if low <= (t // state.tick_spacing) >> 8 <= high
    }
    for edge in uniswap_v3.full_range(state.tick_spacing):
        assert int(pool.ticks(edge)[1]) == state.liquidity_net[edge]
    side = Side(
        uniswap_v3.V3VenuePool(uniswap_v3.V3Pool(str(venue.address), token0, token1, str(pool.address), state)),
        str(wbtc.address),
        str(usdc.address),
    )

    # The vault: 60% WBTC against a 50% target, so its rebalance sells a tenth of its value.
    trade_usd = depth * size_bps / MAX_BPS
    seed = [int(0.4 * 10 * trade_usd * 10**6), int(0.6 * 10 * trade_usd / 60_000.0 * 10**8)]
    stack.fund(alice, seed)
    vault.join(0, seed, alice, sender=alice)
    chain.pending_timestamp += lens.cooldown(vault) + 1
    state_read, market = keeper_path.read(
        vault, [venue], stack.tokens, project.MockERC20.at, chain.pending_timestamp, lens
    )
    decision = keeper_path.decide(vault, state_read, market)
    assert decision.actionable, decision.reason
    (trade,) = decision.plan.trades
    assert (trade.token_in, trade.token_out) == (str(wbtc.address), str(usdc.address))
    sold = Asset(str(wbtc.address), 8, int(vault.price(wbtc)))
    bought = Asset(str(usdc.address), 6, int(vault.price(usdc)))
    # The attack on the min-out the vault sends (planned on the keeper's snapshot, a window of the pool's
    # ticks), and that min-out against the planner's rule on the whole pool.
    cell = evaluate(side, trade.amount_in, sold, bought, pool_wbtc, grid=16, min_out=trade.min_amount_out)
    assert cell.expected_out == trade.expected_out

    router = uniswap_v3.deploy_periphery(uniswap_v3.container("UniswapV3Factory").at(venue.factory()), owner)[1]
    for token in stack.tokens:
        token.mint(attacker, 10**30, sender=owner)
        token.approve(router, 2**256 - 1, sender=attacker)

    def sandwich(front_run):
        """Front-run (if any), rebalance, best back-run: the attacker's result and the vault's fill."""
        before = [int(t.balanceOf(attacker)) for t in (wbtc, usdc)]
        if front_run:
            _router_swap(router, wbtc, usdc, fee, front_run, 0, attacker)
        realised = keeper_path.decode(vault, keeper_path.send(vault, decision, keeper), decision)
        (fill,) = realised.fills
        after_trade = copy.deepcopy(side)
        if front_run:
            after_trade.apply(front_run)
        after_trade.apply(trade.amount_in)
        paid, received, _ = best_back_run(after_trade, sold, bought, BACK_RUN_WINDOW_FINE)
        if paid:  # min-out = the predicted output: the chain pays exactly what the pool math says
            _router_swap(router, usdc, wbtc, fee, paid, received, attacker)
        after = [int(t.balanceOf(attacker)) for t in (wbtc, usdc)]
        return result(sold, bought, after[0] - before[0], after[1] - before[1]), fill

    start = chain.snapshot()  # restoring a snapshot spends it: one per attack
    alone, fill = sandwich(0)
    chain.restore(start)
    assert alone == cell.back_run_alone
    assert fill.amount_out == trade.expected_out
    for front_run in sorted({cell.best.front_run, cell.best_front.front_run, cell.admitted} - {0}):
        start = chain.snapshot()
        got, fill = sandwich(front_run)
        chain.restore(start)
        predicted = attack(side, sold, bought, front_run, trade.amount_in, BACK_RUN_WINDOW_FINE)
        assert (got, fill.amount_out) == (predicted.result, predicted.victim_out)  # chain = matrix, to the wei
        gain = got - alone
        print(
            f"${depth / 1e6:g}M {fee_bps} bps {size_bps / 100:g}% band {band_bps}: front-run {front_run:,} "
            f"(admitted up to {cell.admitted:,}), sandwich gain ${float(gain) / USD:,.6f}"
        )
        assert gain <= 0, f"front-run {front_run:,}: the sandwich gains ${float(gain) / USD:,.6f}"
        assert (fill.value_in - fill.value_out) * MAX_BPS <= fill.value_in * lens.max_slippage_bps(vault)
    whole_pool = evaluate(side, trade.amount_in, sold, bought, pool_wbtc, grid=16)
    assert trade.min_amount_out == whole_pool.min_out, "the keeper's snapshot changed the planner's min-out"
