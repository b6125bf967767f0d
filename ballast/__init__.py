"""Ballast: the off-chain brain of the rebalancing vaults.

Scripts, bots, tests and the backtester all import from here; scripts stay thin.
"""

__all__ = ["constants"]
