"""Cost model of a rebalance: venue fees, price impact and gas, all in USD (WAD).

Fees and impact come from the planner's constant-product simulation against the oracle
price (``PlannedTrade.fee_value`` / ``impact_value``); gas comes from a linear model of the
vault's measured receipts (see BENCHMARKS.md) at a given gas price and ETH price.
"""

from __future__ import annotations

from dataclasses import dataclass

from ballast.constants import WAD

# Receipt gas of a rebalance ~= base + per asset (prices, weights) + per swap, by venue kind (the
# venue's own calls, transfers and logs, plus the vault's per-trade checks and event).
# Fitted by least squares (:func:`fit_swap_gas`, per asset held at 16,000) to 17 receipts of 4-asset
# vaults priced by Chainlink proxies: the 14 rebalances of `make demo` (3 to 7 swaps over Uniswap V2,
# V3 at 5 bps and a Balancer weighted pool) and `make bench`'s three 3-swap rebalances on one venue
# each (455,817 V2, 503,637 V3, 468,283 Balancer). The model is within 6.4% of all 17 (4.1% but
# one). The demo alone cannot tell the base from a V3 swap (every one of its rebalances has three),
# hence the bench's rows. The AMM double is priced as a V2 pair (the same math). Since then the
# base carries the shared Rules contract's three calls (+21,830 on a one-trade rebalance, measured
# against the vault before them), and each lent asset adds two reads of its market's rate through
# the sleeve (+120,360 for USDC and WETH on Morpho Blue in `ape run bench --only lending`).
REBALANCE_BASE_GAS = 216_400
REBALANCE_GAS_PER_ASSET = 16_000
REBALANCE_GAS_PER_LENT_ASSET = 60_200
SWAP_GAS = {
    "amm": 69_600,
    "uniswap_v2": 69_600,
    "uniswap_v3": 77_800,
    "balancer": 66_100,
}
DEFAULT_VENUE = "uniswap_v2"


def rebalance_gas(n_assets: int, swaps: int | list[str], lent_assets: int = 0) -> int:
    """Estimated receipt gas of a rebalance over ``n_assets`` assets, ``lent_assets`` of them with
    a lending position; ``swaps`` is the venue kind of each swap (``SWAP_GAS``'s keys), or their
    number, each then priced as a Uniswap V2 swap."""
    kinds = [DEFAULT_VENUE] * swaps if isinstance(swaps, int) else swaps
    return (
        REBALANCE_BASE_GAS
        + REBALANCE_GAS_PER_ASSET * n_assets
        + REBALANCE_GAS_PER_LENT_ASSET * lent_assets
        + sum(SWAP_GAS[k] for k in kinds)
    )


def fit_swap_gas(samples: list[tuple[int, list[str], int]]) -> tuple[int, dict[str, int]]:
    """Least-squares base gas and gas per swap by venue kind from receipts.

    ``samples`` are ``(n_assets, kinds of the swaps, receipt gas)``; the per-asset term is held at
    ``REBALANCE_GAS_PER_ASSET`` (the samples of one vault all have the same number of assets, so
    they cannot tell it from the base). Returns ``(base, {kind: gas per swap})``, rounded to 100.
    """
    import numpy as np

    kinds = sorted({k for _, ks, _ in samples for k in ks})
    rows = [[1.0] + [float(ks.count(k)) for k in kinds] for _, ks, _ in samples]
    target = [gas - REBALANCE_GAS_PER_ASSET * n for n, _, gas in samples]
    solution, *_ = np.linalg.lstsq(np.array(rows), np.array(target, dtype=float), rcond=None)
    rounded = [int(round(x / 100)) * 100 for x in solution]
    return rounded[0], dict(zip(kinds, rounded[1:]))


def gas_cost_usd(gas_units: int, gas_price_wei: int, eth_usd: int) -> int:
    """USD (WAD) of ``gas_units`` at ``gas_price_wei`` with ETH at ``eth_usd`` (WAD), rounded up."""
    return -(-gas_units * gas_price_wei * eth_usd // WAD)


@dataclass
class CostBreakdown:
    fees: int
    impact: int
    gas: int

    @property
    def total(self) -> int:
        return self.fees + self.impact + self.gas


def breakdown(trades, n_assets: int, gas_price_wei: int = 0, eth_usd: int = 0) -> CostBreakdown:
    """Fees, impact and gas of a list of ``PlannedTrade`` (USD, WAD)."""
    gas = gas_cost_usd(rebalance_gas(n_assets, len(trades)), gas_price_wei, eth_usd) if trades else 0
    return CostBreakdown(
        fees=sum(t.fee_value for t in trades),
        impact=sum(t.impact_value for t in trades),
        gas=gas,
    )
