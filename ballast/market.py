"""Driving a local market: oracle updates and arbitrage that keeps pools at oracle prices."""

from __future__ import annotations

import itertools

from ballast import amm
from ballast.planner import Market, Pool


def snapshot_market(venues: list, tokens: list) -> Market:
    """Read every pair's reserves on every venue into a :class:`Market` snapshot."""
    pools = []
    for venue in venues:
        fee = int(venue.fee_bps())
        for a, b in itertools.combinations(tokens, 2):
            ra, rb = venue.get_reserves(a, b)
            if ra and rb:
                pools.append(Pool(str(venue.address), str(a), str(b), int(ra), int(rb), fee))
    return market_from(pools)


def market_from(pools: list[Pool]) -> Market:
    return Market(pools)


def arbitrage(venue, tokens: list, prices_wad: list[int], decimals: list[int], trader) -> int:
    """Swap every pool of ``venue`` back to the oracle prices; returns the number of swaps.

    ``trader`` must hold enough of every token and have approved the venue. The
    arbitrageur trades the side that is cheap on the pool, like a real one would.
    """
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
            venue.swap(tokens[i], tokens[j], amount_a, 0, trader, sender=trader)
            swaps += 1
        elif amount_b * 10_000 > rb * max(fee, 1):
            venue.swap(tokens[j], tokens[i], amount_b, 0, trader, sender=trader)
            swaps += 1
    return swaps
