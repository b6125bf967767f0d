"""Planner latency benchmark: ``python -m ballast.planner_bench``.

An 8-asset vault up to 30% off target, every pair pooled on 3 constant-product venues of different
depths (so orders are split), timed over many runs. Prints a table; no chain needed.
"""

from __future__ import annotations

import argparse
import itertools
import random
import statistics
import time

from ballast.constants import BPS_TO_WAD, WAD
from ballast.planner import Market, Pool, plan_rebalance
from ballast.state import AssetState, VaultState


def synthetic(n_assets: int = 8, n_venues: int = 3, seed: int = 0) -> tuple[VaultState, Market]:
    rng = random.Random(seed)
    weights = [10_000 // n_assets] * n_assets
    weights[0] += 10_000 - sum(weights)
    assets = []
    for i, w in enumerate(weights):
        decimals = (6, 8, 18)[i % 3]
        price = rng.randint(1, 60_000) * WAD
        usd = 10_000_000 * w // 10_000 * rng.uniform(0.7, 1.3)
        balance = int(usd * 10**decimals * WAD // price)
        assets.append(AssetState(f"0x{i + 1:040x}", f"A{i}", decimals, balance, price, w * BPS_TO_WAD, 200, 600))
    state = VaultState(
        "0x" + "f" * 40, assets, 10**25, 10**9, 1, 86_400, 0, WAD // 2, 0, 150, 100, 10_000, 86_400, 0, 0
    )
    pools = []
    for venue_index, depth_usd in zip(range(n_venues), (60_000_000, 30_000_000, 10_000_000)):
        venue = f"0x{0xA0 + venue_index:040x}"
        for a, b in itertools.combinations(assets, 2):
            ra = depth_usd * 10**a.decimals * WAD // a.price
            rb = depth_usd * 10**b.decimals * WAD // b.price
            pools.append(Pool(venue, a.address, b.address, ra, rb, 30))
    return state, Market(pools)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=200)
    parser.add_argument("--assets", type=int, default=8)
    parser.add_argument("--venues", type=int, default=3)
    args = parser.parse_args(argv)
    state, market = synthetic(args.assets, args.venues)
    print(f"{'mode':<10} {'swaps':>5} {'median ms':>10} {'p95 ms':>8} {'target ms':>10}")
    for mode in ("target", "edge", "partial"):
        plan = plan_rebalance(state, market, mode=mode, fraction_bps=5_000)
        times = []
        for _ in range(args.runs):
            start = time.perf_counter()
            plan_rebalance(state, market, mode=mode, fraction_bps=5_000)
            times.append((time.perf_counter() - start) * 1_000)
        times.sort()
        print(
            f"{mode:<10} {len(plan.trades):>5} {statistics.median(times):>10.2f} "
            f"{times[int(0.95 * (len(times) - 1))]:>8.2f} {'< 50':>10}"
        )


if __name__ == "__main__":
    main()
