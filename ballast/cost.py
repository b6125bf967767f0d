"""Cost model of a rebalance: venue fees, price impact and gas, all in USD (WAD).

Fees and impact come from the planner's constant-product simulation against the oracle
price (``PlannedTrade.fee_value`` / ``impact_value``); gas comes from a linear model of the
vault's measured receipts (see BENCHMARKS.md) at a given gas price and ETH price.
"""

from __future__ import annotations

from dataclasses import dataclass

from ballast.constants import WAD

# Receipt gas of a rebalance ~= base + per asset (prices, weights) + per swap (calls, logs).
# Fitted to BENCHMARKS.md (2/4/8 assets with 1/3/7 swaps: 185.8k / 357.5k / 707.7k measured;
# the model gives 187k / 359k / 703k).
REBALANCE_BASE_GAS = 85_000
REBALANCE_GAS_PER_ASSET = 16_000
REBALANCE_GAS_PER_SWAP = 70_000


def rebalance_gas(n_assets: int, n_swaps: int) -> int:
    """Estimated receipt gas of a rebalance with ``n_swaps`` swaps over ``n_assets`` assets."""
    return REBALANCE_BASE_GAS + REBALANCE_GAS_PER_ASSET * n_assets + REBALANCE_GAS_PER_SWAP * n_swaps


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
