"""The per-venue overhead: a vault rebalance (3 swaps, 4 assets, through the keeper path) against
the same swaps sent from an EOA through each venue's own router, on real Uniswap V2, Uniswap V3
and Balancer V2 pools, and where the difference goes.

The difference is read from the traces by call frame and grouped by what each frame is: the
transactions' intrinsic cost (one transaction against one per swap), the vault's own opcodes (its checks
of every price, balance, drift and limit, its bookkeeping and its events), the oracle reads, the
Ballast adapter against the router, the pools, and the tokens.
"""

from __future__ import annotations

from collections import defaultdict

from ballast.bench.config import AIM_OVERHEAD, TARGET_OVERHEAD
from ballast.bench.context import Context
from ballast.bench.report import Table
from ballast.bench.vaults import VaultRun

VENUE_NAMES = {"uniswap_v2": "Uniswap V2", "uniswap_v3": "Uniswap V3", "balancer": "Balancer V2"}
# Frame kinds (Context.names) by what they are, for the difference.
CATEGORIES = {
    "Vault": "vault",
    "Feed": "oracle",
    "ChainlinkProxy": "oracle",
    "ChainlinkAggregator": "oracle",
    "UniswapV2Venue": "adapter / router",
    "UniswapV3Venue": "adapter / router",
    "BalancerV2Venue": "adapter / router",
    "UniswapV2Router02": "adapter / router",
    "SwapRouter": "adapter / router",
    "UniswapV2Pair": "pools",
    "UniswapV3Pool": "pools",
    "BalancerVault": "pools",
    "WeightedPool": "pools",
    "Token": "tokens",
}
PARTS = ("intrinsic", "refund", "vault", "oracle", "adapter / router", "pools", "tokens", "other")


def venue_label(run: VaultRun) -> str:
    fee = f"{run.fee_bps} bps"
    pool = f"one weighted pool of the {run.n}" if run.kind == "balancer" else "a pool per pair"
    return f"{VENUE_NAMES[run.kind]} ({fee}, {pool})"


def parts(ctx: Context, traces) -> dict[str, int]:
    """Gas of ``traces`` (transactions) by part: intrinsic, refund, then each frame's own opcodes by kind."""
    out: dict[str, int] = defaultdict(int)
    for tr in traces:
        out["intrinsic"] += tr.intrinsic
        out["refund"] -= tr.refund
        for frame in tr.root.walk():
            out[CATEGORIES.get(ctx.names.get(frame.to, ""), "other")] += frame.own
    return out


def traces_of(ctx: Context, run: VaultRun) -> tuple[list, list]:
    """(the vault's rebalance, the EOA's router swaps) as traces."""
    vault = [ctx.trace(run.rebalance.txn_hash, run.rebalance.gas, run.rebalance.calldata)]
    eoa = [ctx.trace(h, g, d) for g, h, d in run.eoa_swaps]
    return vault, eoa


def overhead_table(ctx: Context, runs: list[VaultRun]) -> Table:
    """One row per venue: the vault's rebalance, the router's swaps, the ratio, and the difference
    by part (vault minus EOA, gas)."""
    table = Table(
        "Rebalance vs the same swaps through each venue's own router (same pools, same state)",
        [
            "venue",
            "assets",
            "feeds",
            "swaps",
            "vault rebalance",
            "EOA via router",
            "router",
            "ratio",
            f"<= {TARGET_OVERHEAD}x",
            f"aim {AIM_OVERHEAD}x",
            *(f"diff: {p}" for p in PARTS),
        ],
    )
    for run in runs:
        vault, eoa = traces_of(ctx, run)
        mine, theirs = parts(ctx, vault), parts(ctx, eoa)
        table.add(
            venue_label(run),
            run.n,
            "Chainlink proxy" if run.feeds == "chainlink" else "settable (test)",
            len(run.trades),
            run.rebalance.gas,
            run.eoa_gas,
            run.router,
            f"{run.overhead:.2f}x",
            run.overhead <= TARGET_OVERHEAD,
            run.overhead <= AIM_OVERHEAD,
            *(f"{mine.get(p, 0) - theirs.get(p, 0):+,}" for p in PARTS),
        )
    table.notes += [
        "vault: the keeper path's rebalance (read, decide, send, decode), the second after WBTC +40% and back, pools "
        "arbitraged to the oracle; EOA: the same swaps (amounts, pools, order) from the same snapshot, one "
        "transaction each, with a standing approval of the router; every fill equals the plan's to the wei",
        "diff (vault minus EOA, from the traces): intrinsic = base + calldata (one transaction against one per swap); "
        "refund = storage refunds (a token balance that goes to zero and back within the transaction); vault = the vault's own opcodes (its checks of every price, balance, drift and limit, the bookkeeping, "
        "its events); oracle = the price reads; adapter / router = Ballast's adapter against the router; pools and "
        "tokens: the same swaps' own work (the vault pushes its input by transfer, the router pulls by transferFrom)",
    ]
    return table
