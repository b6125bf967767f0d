"""The benchmark's scenario: targets, the markets' assets and prices, and the vault spec."""

from __future__ import annotations

from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

# ---------------------------------------------------------------- targets

TARGET_DEPOSIT_GAS = 170_000  # deposit of one asset into a 4-asset vault
TARGET_FLOOR_RATIO = 1.3  # join and exit of a 4-asset vault, x floor
TARGET_OVERHEAD = 1.3  # rebalance of 3 swaps in a 4-asset vault, x the same swaps from an EOA through the router
AIM_OVERHEAD = 1.15  # the same, the aim
# The per-venue overhead: (kind, fee bps), each a 4-asset vault whose only venue it is.
OVERHEAD_VENUES = (("uniswap_v2", 30), ("uniswap_v3", 5), ("balancer", 30))

# ---------------------------------------------------------------- the benchmark's markets

# (symbol, decimals, price USD); the first n make an n-asset vault.
ASSETS = [
    ("USDC", 6, 1.0),
    ("WBTC", 8, 60_000.0),
    ("WETH", 18, 3_000.0),
    ("LINK", 18, 15.0),
    ("SOL", 9, 150.0),
    ("DAI", 18, 1.0),
    ("ARB", 18, 0.8),
    ("UNI", 18, 7.0),
]
WEIGHTS = {2: [5_000, 5_000], 4: [4_000, 3_000, 2_000, 1_000], 8: [1_250] * 8}
SIZES = (2, 4, 8)
SEED_USD = 1_000_000  # first join, at target weights
DEPOSIT_USD = 10_000  # single-asset deposit of asset 0, small enough to leave the drift alone
RALLY = 1.4  # asset 1 (WBTC) moves +40% and back: every basket drifts past its 3% band
DEPTH_USD = 50_000_000  # each pool, per side (per asset in Balancer's one pool)
FEED_DECIMALS = 8


def bench_spec(n: int, venue: str = "uniswap_v2", fee_bps: int = 30, feeds: str = "mock") -> dict:
    """The portfolio spec of the n-asset benchmark vault (threshold trigger, 3% bands), trading on
    one local ``venue`` at ``fee_bps`` and priced by ``feeds`` (``mock``: the settable test feed;
    ``chainlink``: Chainlink's proxy over its mock aggregator)."""
    return {
        "name": f"Ballast Bench {n}",
        "symbol": f"BB{n}",
        "entry_haircut_bps": 30,
        "trigger": {"type": "threshold", "interval": 86_400, "vol_reference": 0.5},
        "limits": {
            "max_slippage_bps": 150,
            "max_cost_bps": 100,
            "turnover_cap_bps": 10_000,
            "turnover_period": 86_400,
            "cooldown": 3_600,
        },
        "feeds": {"kind": feeds, "decimals": FEED_DECIMALS},
        "market": {"venue": venue, "fee_bps": fee_bps, "depth_usd": DEPTH_USD},
        "assets": [
            {"symbol": s, "decimals": d, "price": p, "target_bps": w, "band_bps": 300, "outer_band_bps": 900}
            for (s, d, p), w in zip(ASSETS[:n], WEIGHTS[n])
        ],
    }
