"""Driving a local market: oracle updates and arbitrage that keeps pools at oracle prices."""

from __future__ import annotations

import itertools

from ballast.planner import Market, Pool
from ballast.venues import amm, balancer_v2, uniswap_v3


def has_view(contract, name: str) -> bool:
    """Whether ``contract`` (an ape instance) has the view ``name`` in its ABI.

    Asked of the ABI, not with ``hasattr``: an ape instance may answer attributes that are not
    its functions.
    """
    contract_type = getattr(contract, "contract_type", None)
    if contract_type is None:
        return hasattr(contract, name)
    return any(m.name == name for m in contract_type.view_methods)


def snapshot_venue(venue, tokens: list) -> list:
    """The pools of one venue adapter among ``tokens``, as planner snapshots (any curve).

    The adapter's kind is read from its views: Balancer (``pool_id``), Uniswap V3 (``pool_state``),
    else a constant-product venue (``get_reserves``: the AMM double and Uniswap V2 pairs).
    """
    if has_view(venue, "pool_id"):
        return [balancer_v2.snapshot(venue)]
    if has_view(venue, "pool_state"):  # Uniswap V3: one pool per pair at the adapter's fee tier
        pools = (uniswap_v3.snapshot(venue, a, b) for a, b in itertools.combinations(tokens, 2))
        return [uniswap_v3.V3VenuePool(pool) for pool in pools if pool is not None and pool.liquidity]
    pools = []
    fee = int(venue.fee_bps())
    for a, b in itertools.combinations(tokens, 2):
        ra, rb = venue.get_reserves(a, b)
        if ra and rb:
            pools.append(Pool(str(venue.address), str(a), str(b), int(ra), int(rb), fee))
    return pools


def snapshot_market(venues: list, tokens: list) -> Market:
    """Every venue's pools among ``tokens`` in one :class:`Market` snapshot."""
    return market_from([pool for venue in venues for pool in snapshot_venue(venue, tokens)])


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


def arbitrage_snapshot(
    venue, pool, tokens: list, prices_wad: list[int], decimals: list[int], trader, passes: int = 8, swapper=None
) -> int:
    """Swap one pool of any curve (a :class:`ballast.venues.routing.VenuePool` snapshot ``pool`` of
    ``venue``) until no pair's marginal price beats the oracle's; returns the number of swaps.

    For each pair, the side whose marginal price (fee included) is above the oracle ratio is
    sold until it reaches it (``input_for_price``), as an arbitrageur would; the snapshot moves
    with each swap. In a pool of more than two tokens each swap moves the other pairs too, so
    the pairs are gone over again (up to ``passes`` times) until a pass finds nothing to do.
    ``trader`` must hold enough of every token.
    """
    swaps = 0
    index = {str(t.address).lower(): k for k, t in enumerate(tokens)}
    held = [index[str(t).lower()] for t in pool.tokens if str(t).lower() in index]
    for _ in range(passes):
        swapped = 0
        for a, b in itertools.permutations(held, 2):
            # Oracle output of b per base unit of a, in base units.
            fair = prices_wad[a] * 10 ** decimals[b] / (prices_wad[b] * 10 ** decimals[a])
            token_in, token_out = str(tokens[a].address), str(tokens[b].address)
            if pool.marginal_price(token_in, token_out) <= fair * 1.0001:
                continue
            amount = int(pool.input_for_price(token_in, token_out, fair))
            if amount <= 0:
                continue
            push_swap(venue, tokens[a], tokens[b], amount, 0, trader, trader, swapper)
            pool.apply(token_in, token_out, amount)
            swapped += 1
        swaps += swapped
        if not swapped:
            break
    return swaps


def arbitrage_market(
    market: Market, venues: list, tokens: list, prices_wad: list[int], decimals: list[int], trader, swapper=None
) -> int:
    """:func:`arbitrage_snapshot` over every pool of ``market`` (a snapshot the caller keeps up
    to date: no chain read), each traded through its venue among ``venues``."""
    by_address = {str(v.address).lower(): v for v in venues}
    return sum(
        arbitrage_snapshot(
            by_address[str(pool.venue).lower()], pool, tokens, prices_wad, decimals, trader, swapper=swapper
        )
        for pool in market.pools
    )


def apply_fills(market: Market, fills) -> None:
    """Move ``market``'s snapshot by realised fills (``venue``, ``token_in``, ``token_out``,
    ``amount_in`` attributes), as the pools moved."""
    for f in fills:
        market.side(f.venue, f.token_in, f.token_out).apply(f.amount_in)
