"""``history``: a vault's rebalances, entries, exits and NAV per share, all from its events.

One log query over the vault's ``Join``, ``Deposit``, ``Exit``, ``Rebalanced`` and
``TradeExecuted`` events. Each rebalance carries its fills (``TradeExecuted`` of the same
transaction, each with its cost in bps against the oracle), its gas (the receipt) and the total
drift before and after (``sum |weight - target|``, from the event). The share supply is rebuilt
from the entries and exits (the vault's first entry also mints ``DEAD_SHARES`` to itself), so
each rebalance gives a NAV per share: ``value_after * WAD // supply``. Read from a later block,
the supply starts from ``totalSupply()`` at the block before it.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from ballast.constants import DEAD_SHARES, MAX_BPS, WAD
from ballast.keeper import Fill


@dataclass
class Flow:
    """An entry or exit: ``amounts`` per asset in base units (paid in, or sent out)."""

    kind: str  # join | deposit | exit
    block: int
    timestamp: int
    tx_hash: str
    sender: str
    receiver: str
    shares: int
    amounts: list[int]
    usd_value: int = 0  # deposit: oracle value paid, WAD


@dataclass
class RebalanceRecord:
    block: int
    timestamp: int
    tx_hash: str
    keeper: str
    reason: str
    gas_used: int
    value_before: int
    value_after: int
    cost: int  # USD, WAD
    cost_bps: float  # of value_before, to 0.01 bps (for display)
    value_traded: int
    total_drift_before: int  # WAD
    total_drift_after: int  # WAD
    weights_before: list[int]
    weights_after: list[int]
    fills: list[dict] = field(default_factory=list)  # each Fill's fields and its cost in bps


@dataclass
class NavPoint:
    block: int
    timestamp: int
    event: str  # what set it: "rebalance", or "now"
    nav_per_share: int  # USD per share, WAD
    total_supply: int


@dataclass
class History:
    vault: str
    rebalances: list[RebalanceRecord]
    flows: list[Flow]
    nav: list[NavPoint]


EVENTS = ("Join", "Deposit", "Exit", "Rebalanced", "TradeExecuted")


def _logs(vault, provider, start_block: int):
    from ape.types import LogFilter

    head = provider.get_block("latest").number
    log_filter = LogFilter(
        addresses=[vault.address],
        events=[getattr(vault, name).abi for name in EVENTS],
        start_block=start_block,
        stop_block=head,
    )
    return sorted(provider.get_contract_logs(log_filter), key=lambda log: (log.block_number, log.log_index))


def read_history(target, provider, start_block: int = 0) -> History:
    """The :class:`History` of ``target.vault`` from ``start_block`` (default: the whole chain)."""
    vault = target.vault
    logs = _logs(vault, provider, start_block)
    times: dict[int, int] = {}

    def timestamp(block: int) -> int:
        if block not in times:
            times[block] = int(provider.get_block(block).timestamp)
        return times[block]

    fills_of: dict[str, list[Fill]] = {}
    for log in logs:
        if log.event_name == "TradeExecuted":
            a = log.event_arguments
            fills_of.setdefault(str(log.transaction_hash), []).append(
                Fill(
                    str(a["venue"]),
                    str(a["token_in"]),
                    str(a["token_out"]),
                    int(a["amount_in"]),
                    int(a["amount_out"]),
                    int(a["value_in"]),
                    int(a["value_out"]),
                    None,
                )
            )
    supply = int(vault.totalSupply(block_id=start_block - 1)) if start_block > 0 else 0
    flows, rebalances, nav = [], [], []
    for log in logs:
        a, block, tx = log.event_arguments, int(log.block_number), str(log.transaction_hash)
        if log.event_name in ("Join", "Deposit", "Exit"):
            kind = log.event_name.lower()
            if kind == "deposit":
                amounts = [int(a["amount"]) if str(t.address) == str(a["asset"]) else 0 for t in target.tokens]
            else:
                amounts = [int(x) for x in a["amounts"]]
            shares = int(a["shares"])
            if kind == "exit":
                supply -= shares
            else:
                supply += shares + (DEAD_SHARES if supply == 0 else 0)
            flows.append(
                Flow(
                    kind,
                    block,
                    timestamp(block),
                    tx,
                    str(a["sender"]),
                    str(a["receiver"]),
                    shares,
                    amounts,
                    int(a.get("usd_value", 0)),
                )
            )
        elif log.event_name == "Rebalanced":
            before, cost = int(a["value_before"]), int(a["cost"])
            fills = fills_of.get(tx, [])
            rebalances.append(
                RebalanceRecord(
                    block=block,
                    timestamp=timestamp(block),
                    tx_hash=tx,
                    keeper=str(a["keeper"]),
                    reason=str(a["reason"]),
                    gas_used=int(provider.get_receipt(tx).gas_used),
                    value_before=before,
                    value_after=int(a["value_after"]),
                    cost=cost,
                    cost_bps=round(cost * MAX_BPS / before, 2) if before else 0.0,
                    value_traded=int(a["value_traded"]),
                    total_drift_before=int(a["total_drift_before"]),
                    total_drift_after=int(a["total_drift_after"]),
                    weights_before=[int(w) for w in a["weights_before"]],
                    weights_after=[int(w) for w in a["weights_after"]],
                    fills=[{**vars(f), "cost_bps": round(f.cost_bps, 2)} for f in fills],
                )
            )
            if supply:
                nav.append(
                    NavPoint(block, timestamp(block), "rebalance", int(a["value_after"]) * WAD // supply, supply)
                )
    now_supply = int(vault.totalSupply())
    if now_supply:
        head = provider.get_block("latest")
        value = int(target.lens.total_value(vault))
        nav.append(NavPoint(int(head.number), int(head.timestamp), "now", value * WAD // now_supply, now_supply))
    return History(str(vault.address), rebalances, flows, nav)


def format_history(h: History, target) -> str:
    """The history as three tables: rebalances with their fills, entries and exits, NAV per share."""
    symbol = {str(t.address).lower(): s for t, s in zip(target.tokens, target.symbols)}
    decimals = {str(t.address).lower(): d for t, d in zip(target.tokens, target.decimals)}
    lines = [f"vault {h.vault}: {len(h.rebalances)} rebalances, {len(h.flows)} entries and exits", ""]
    lines.append(
        f"{'block':>7} {'reason':<11} {'traded $':>12} {'cost $':>10} {'cost bps':>8} {'sum|drift| before':>17} "
        f"{'after':>7} {'gas':>9}"
    )
    for r in h.rebalances:
        lines.append(
            f"{r.block:>7} {r.reason:<11} {r.value_traded / WAD:>12,.2f} {r.cost / WAD:>10,.2f} {r.cost_bps:>8.2f} "
            f"{r.total_drift_before / 1e16:>16.2f}% {r.total_drift_after / 1e16:>6.2f}% {r.gas_used:>9,}"
        )
        for f in r.fills:
            t_in, t_out = f["token_in"].lower(), f["token_out"].lower()
            lines.append(
                f"{'':>7}   fill {symbol[t_in]:>6} -> {symbol[t_out]:<6} "
                f"{f['amount_in'] / 10 ** decimals[t_in]:>16,.6f} -> {f['amount_out'] / 10 ** decimals[t_out]:>16,.6f} "
                f"on {f['venue'][:10]}  {f['cost_bps']:.2f} bps vs oracle"
            )
    lines += ["", f"{'block':>7} {'flow':<8} {'shares':>18}  amounts"]
    for f in h.flows:
        moved = ", ".join(
            f"{x / 10**d:,.{min(d, 6)}f} {s}" for x, s, d in zip(f.amounts, target.symbols, target.decimals) if x
        )
        lines.append(f"{f.block:>7} {f.kind:<8} {f.shares / WAD:>18,.6f}  {moved}")
    lines += ["", f"{'block':>7} {'at':<10} {'NAV per share $':>16} {'supply':>18}"]
    for p in h.nav:
        lines.append(f"{p.block:>7} {p.event:<10} {p.nav_per_share / WAD:>16,.6f} {p.total_supply / WAD:>18,.6f}")
    return "\n".join(lines)
