"""The peers' race (:mod:`ballast.peers.race`) as the bench's tables: the race, its sandwich leg,
the issue's targets, and a breakdown by call frame of every rebalance-gas target missed."""

from __future__ import annotations

from ballast.bench.breakdowns import frame_table, storage_table
from ballast.bench.context import Context, Measured
from ballast.bench.report import Table


def peer_tables(ctx: Context, result: dict) -> list[Table]:
    """Every peers table of one race run on ``ctx``'s chain (traces need ``debug_traceTransaction``)."""
    from ballast.peers.race import attacked_table, targets_table

    tables = [peers_table(result), attacked_table(result["attacked"]), targets_table(result["targets"])]
    ctx.name(*result["contracts"])
    ctx.label(*result.get("labels", []))
    by = {(r.system, r.move): r for r in result["rows"]}
    for name, _, measured, met in result["targets"]:
        if met or not name.startswith("rebalance gas, "):
            continue
        move = name.removeprefix("rebalance gas, ")
        ours, theirs = by["Ballast", move], by["Set v2", move]
        table = frame_table(
            ctx,
            [("Ballast", [ctx.trace(h, g, d) for g, h, d in ours.receipts])]
            + [("Set v2", [ctx.trace(h, g, d) for g, h, d in theirs.receipts])],
            f"By call frame: the rebalance at {move}, Ballast vs Set v2 ({measured}, target <= 0.5x)",
        )
        table.about = (
            f"Where each system's rebalance gas goes at {move} (the target missed): each kind of call frame's own "
            "opcodes, Ballast's one transaction against Set's startRebalance and trades; the target needs Ballast "
            f"at or under {theirs.gas // 2:,} gas, {ours.gas - theirs.gas // 2:,} less than it used."
        )
        tables.append(table)
        gas, txn_hash, calldata = ours.receipts[0]
        table = storage_table(
            ctx,
            Measured("rebalance", 4, gas, None, txn_hash, calldata),
            f"Storage accesses by variable: Ballast's rebalance at {move} ({gas:,} gas)",
        )
        table.about = "Every storage access of Ballast's rebalance transaction by contract and variable."
        tables.append(table)
    return tables


def peers_table(result: dict) -> Table:
    """Ballast, Set Protocol v2 and a Balancer V2 weighted pool through the race's two moves."""
    table = Table(
        "Against the peers on the same chain: Ballast, Set Protocol v2, Balancer V2 (ape run peers)",
        [
            "system",
            "move",
            "txs",
            "trades",
            "gas",
            "gas / trade",
            "traded $",
            "lost $",
            "lost bps traded",
            "lost bps basket",
            "AMM model bps",
        ],
        about="A $1M basket at 40/30/20/10 in each system, on the same tokens, Chainlink feeds and Uniswap V2 "
        "pairs ($20M a side, 30 bps); WBTC +40% then -30%, the pairs arbitraged to the oracle first (each to the "
        "edge of its fee band), and every measured turn from that same chain state (a snapshot restored before "
        "each; every measured transaction in a block of its own, 12 s after the last); each brought "
        "back to its targets: Ballast by one keeper-path rebalance, Set by its GeneralIndexModule "
        "(startRebalance, one trade per component against WETH, 50 bps limits), Balancer passively by "
        "arbitrage swaps (its loss is their profit, its LVR). Losses at oracle prices; the AMM model is the "
        "backtester's zero-fee weighted pool over the same jump.",
    )
    for r in result["rows"]:
        table.add(
            r.system,
            r.move,
            r.transactions,
            r.trades,
            f"{r.gas:,}",
            f"{r.gas_per_trade:,}",
            f"{r.value_traded:,.0f}",
            f"{r.value_lost:,.0f}",
            f"{r.value_lost * 1e4 / r.value_traded:.1f}",
            f"{r.value_lost * 1e4 / r.basket:.2f}",
            "" if r.model_bps is None else f"{r.model_bps:.2f}",
        )
    by = {(r.system, r.move): r for r in result["rows"]}
    moves = [r.move for r in result["rows"] if r.system == "Ballast"]
    ratios = ", ".join(f"{by['Ballast', m].gas / by['Set v2', m].gas:.2f}x" for m in moves)
    table.notes.append(f"Ballast's rebalance gas / Set's: {ratios} (target <= 0.5x)")
    table.notes.append("entry and exit gas: " + ", ".join(f"{k} {v:,}" for k, v in result["entry"].items()))
    return table
