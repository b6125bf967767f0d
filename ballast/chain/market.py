"""Driving a local market: oracle updates and arbitrage that keeps pools at oracle prices."""

from __future__ import annotations

import itertools

from ballast.chain.pinned import at_block
from ballast.planner import Market, Pool
from ballast.venues import amm, balancer_v2, uniswap_v3

PUSH_SWAPPER_MAX_SWAPS = 64  # contracts/periphery/PushSwapper.vy MAX_SWAPS


def has_view(contract, name: str) -> bool:
    """Whether ``contract`` (an ape instance) has the view ``name`` in its ABI.

    Asked of the ABI, not with ``hasattr``: an ape instance may answer attributes that are not
    its functions.
    """
    contract_type = getattr(contract, "contract_type", None)
    if contract_type is None:
        return hasattr(contract, name)
    return any(m.name == name for m in contract_type.view_methods)


def snapshot_venue(venue, tokens: list, block: int | None = None) -> list:
    """The pools of one venue adapter among ``tokens``, as planner snapshots (any curve).

    The adapter's kind is read from its views: Balancer (``pool_id``), Uniswap V3 (``pool_state``),
    else a constant-product venue (``get_reserves``: the AMM double and Uniswap V2 pairs). Every
    call reads ``block`` when given (:func:`at_block`).
    """
    venue = at_block(venue, block)
    if has_view(venue, "pool_id"):
        return [balancer_v2.snapshot(venue)]
    if has_view(venue, "pool_state"):  # Uniswap V3: one pool per pair at the adapter's fee tier
        pools = (uniswap_v3.snapshot(venue, a, b, block=block) for a, b in itertools.combinations(tokens, 2))
        return [uniswap_v3.V3VenuePool(pool) for pool in pools if pool is not None and pool.liquidity]
    pools = []
    fee = int(venue.fee_bps())
    for a, b in itertools.combinations(tokens, 2):
        ra, rb = venue.get_reserves(a, b)
        if ra and rb:
            pools.append(Pool(str(venue.address), str(a), str(b), int(ra), int(rb), fee))
    return pools


def snapshot_market(venues: list, tokens: list, block: int | None = None) -> Market:
    """Every venue's pools among ``tokens`` in one :class:`Market` snapshot, read at ``block``
    (the latest when None)."""
    return market_from([pool for venue in venues for pool in snapshot_venue(venue, tokens, block)])


def market_from(pools: list[Pool]) -> Market:
    return Market(pools)


def push_swap(venue, token_in, token_out, amount_in: int, min_out: int, receiver, sender, swapper=None):
    """One swap the way the vault sends it: the input to ``venue.payee``, then ``venue.swap``.

    With ``swapper`` (a ``PushSwapper`` that ``sender`` has approved) both happen in one
    transaction; without, in two.
    """
    if swapper is not None:
        return swapper.swap(venue, token_in, token_out, amount_in, min_out, receiver, sender=sender)
    token_in.transfer(venue.payee(token_in, token_out), amount_in, sender=sender)
    return venue.swap(token_in, token_out, amount_in, min_out, receiver, sender=sender)


def arbitrage(venue, tokens: list, prices_wad: list[int], decimals: list[int], trader, swapper=None) -> int:
    """Swap every pool of ``venue`` back to the oracle prices; returns the number of swaps.

    ``trader`` must hold enough of every token. The arbitrageur trades the side that is
    cheap on the pool, like a real one would, pushing its input as the vault does (through
    ``swapper``, a ``PushSwapper`` it has approved, if given: one transaction per swap).
    """
    if not has_view(venue, "get_reserves"):
        return sum(
            arbitrage_snapshot(venue, pool, tokens, prices_wad, decimals, trader)
            for pool in snapshot_venue(venue, tokens)
        )
    swaps = 0
    fee = int(venue.fee_bps())
    for i, j in itertools.combinations(range(len(tokens)), 2):
        ra, rb = (int(x) for x in venue.get_reserves(tokens[i], tokens[j]))
        if not (ra and rb):
            continue
        # Prices per base unit, scaled so ratios stay integers.
        unit_a = prices_wad[i] * 10 ** (36 - decimals[i])
        unit_b = prices_wad[j] * 10 ** (36 - decimals[j])
        amount_a = amm.arbitrage_input(ra, rb, unit_a, unit_b, fee)
        amount_b = amm.arbitrage_input(rb, ra, unit_b, unit_a, fee)
        # Skip moves smaller than the fee band: they would lose money.
        if amount_a * 10_000 > ra * max(fee, 1):
            push_swap(venue, tokens[i], tokens[j], amount_a, 0, trader, trader, swapper)
            swaps += 1
        elif amount_b * 10_000 > rb * max(fee, 1):
            push_swap(venue, tokens[j], tokens[i], amount_b, 0, trader, trader, swapper)
            swaps += 1
    return swaps


def plan_arbitrage(pool, tokens: list, prices_wad: list[int], decimals: list[int], passes: int = 8) -> list:
    """The swaps that bring one pool of any curve (a :class:`ballast.venues.routing.VenuePool`
    snapshot) back to the oracle prices, as ``(a, b, amount_in)`` (indices into ``tokens``),
    applied to ``pool`` as they are planned.

    For each pair, the side whose marginal price (fee included) is above the oracle ratio is
    sold until it reaches it (``input_for_price``), as an arbitrageur would. In a pool of more
    than two tokens each swap moves the other pairs too, so the pairs are gone over again (up
    to ``passes`` times) until a pass finds nothing to do.
    """
    swaps = []
    index = {str(t.address).lower(): k for k, t in enumerate(tokens)}
    held = [index[str(t).lower()] for t in pool.tokens if str(t).lower() in index]
    for _ in range(passes):
        found = len(swaps)
        for a, b in itertools.permutations(held, 2):
            # Oracle output of b per base unit of a, in base units.
            fair = prices_wad[a] * 10 ** decimals[b] / (prices_wad[b] * 10 ** decimals[a])
            token_in, token_out = str(tokens[a].address), str(tokens[b].address)
            if pool.marginal_price(token_in, token_out) <= fair * 1.0001:
                continue
            amount = int(pool.input_for_price(token_in, token_out, fair))
            if amount <= 0:
                continue
            pool.apply(token_in, token_out, amount)
            swaps.append((a, b, amount))
        if len(swaps) == found:
            break
    return swaps


def arbitrage_snapshot(
    venue, pool, tokens: list, prices_wad: list[int], decimals: list[int], trader, passes: int = 8, swapper=None
) -> int:
    """Send :func:`plan_arbitrage`'s swaps for ``pool`` (a snapshot of one pool of ``venue``),
    one transaction each; returns the number of swaps. ``trader`` must hold enough of every token."""
    swaps = plan_arbitrage(pool, tokens, prices_wad, decimals, passes)
    for a, b, amount in swaps:
        push_swap(venue, tokens[a], tokens[b], amount, 0, trader, trader, swapper)
    return len(swaps)


def arbitrage_market(
    market: Market, venues: list, tokens: list, prices_wad: list[int], decimals: list[int], trader, swapper
) -> int:
    """Bring every pool of ``market`` (a snapshot the caller keeps up to date: no chain read)
    back to the oracle prices, in one transaction through ``swapper`` (a ``PushSwapper`` that
    ``trader`` has approved for every token; ``swap_many``), as an arbitrageur bundling a block's
    swaps would. Returns the number of swaps."""
    by_address = {str(v.address).lower(): v for v in venues}
    swaps = [
        (by_address[str(pool.venue).lower()].address, tokens[a].address, tokens[b].address, amount, 0)
        for pool in market.pools
        for a, b, amount in plan_arbitrage(pool, tokens, prices_wad, decimals)
    ]
    for start in range(0, len(swaps), PUSH_SWAPPER_MAX_SWAPS):
        swapper.swap_many(swaps[start : start + PUSH_SWAPPER_MAX_SWAPS], trader, sender=trader)
    return len(swaps)


def apply_fills(market: Market, fills) -> None:
    """Move ``market``'s snapshot by realised fills (``venue``, ``token_in``, ``token_out``,
    ``amount_in`` attributes), as the pools moved."""
    for f in fills:
        market.side(f.venue, f.token_in, f.token_out).apply(f.amount_in)
