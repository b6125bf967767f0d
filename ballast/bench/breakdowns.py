"""Breakdowns of a measured transaction: by cost class against its floor, by call frame, by
storage variable."""

from __future__ import annotations

from collections import defaultdict

from ballast.bench.context import Context, Measured
from ballast.bench.floors import COLD_SLOAD
from ballast.bench.report import Table
from ballast.bench.trace import CLASSES, TxTrace

# ---------------------------------------------------------------- breakdowns


def class_table(ctx: Context, m: Measured, title: str) -> Table:
    """The measured gas by cost class beside the floor's."""
    tr = ctx.trace(m.txn_hash, m.gas, m.calldata)
    totals = tr.totals()
    floor = m.floor.by_class()
    table = Table(title, ["class", "floor", "measured", "extra", "count"])

    def row(name, measured, count, floor_gas=0):
        table.add(name, floor_gas, measured, measured - floor_gas, count)

    row("intrinsic (base + calldata)", tr.intrinsic, 1, floor["intrinsic"])
    row(
        "cold accounts",
        totals.get("account cold", (0, 0))[1],
        totals.get("account cold", (0, 0))[0],
        floor["cold accounts"],
    )
    storage = sum(totals.get(c, (0, 0))[1] for c in ("SLOAD cold", "SLOAD warm", "SSTORE"))
    row("storage: SLOAD + SSTORE", storage, tr.cold_slots(), floor["storage"])
    for cls in ("SLOAD cold", "SLOAD warm", "SSTORE"):
        count, gas = totals.get(cls, (0, 0))
        table.add(f"  of which {cls}", "", gas, "", count)
    row("logs", totals.get("LOG", (0, 0))[1], totals.get("LOG", (0, 0))[0], floor["logs"])
    for cls in ("call/access warm", "transient", "compute+memory"):
        count, gas = totals.get(cls, (0, 0))
        row(cls, gas, count)
    table.add("refund", "", -tr.refund, -tr.refund, "")
    table.add("total", m.floor.total, m.gas, m.gas - m.floor.total, "")
    table.notes.append(
        "storage count = distinct slots touched (cold); floor counts "
        f"{len(m.floor.slots)} slots, {len(m.floor.accounts)} accounts, {len(m.floor.logs)} logs"
    )
    if tr.unattributed:
        table.notes.append(f"{tr.unattributed:,} gas not attributed by the trace walk")
    return table


def storage_table(ctx: Context, m: Measured, title: str) -> Table:
    """Every storage access of the transaction, by contract kind and variable."""
    tr = ctx.trace(m.txn_hash, m.gas, m.calldata)
    rows: dict[str, dict] = {}
    for contract, slot, op, gas in tr.storage:
        name = ctx.slot_name(contract, slot)
        base, _, key = name.partition("[")
        var = f"{ctx.names.get(contract, contract[:10])}.{base}"
        row = rows.setdefault(var, {"cold": 0, "warm": 0, "write": 0, "gas": 0, "keys": {}})
        if op == "SLOAD":
            row["cold" if gas >= COLD_SLOAD else "warm"] += 1
        else:
            row["write"] += 1
        row["gas"] += gas
        if key:
            row["keys"]["[" + key] = None
    table = Table(title, ["variable", "cold SLOAD", "warm SLOAD", "SSTORE", "gas", "keys"])
    for var, row in sorted(rows.items(), key=lambda kv: -kv[1]["gas"]):
        keys = list(row["keys"])
        shown = " ".join(keys[:8]) + (f" ... ({len(keys)})" if len(keys) > 8 else "")
        table.add(var, row["cold"], row["warm"], row["write"], row["gas"], shown)
    table.add("total", *(sum(r[k] for r in rows.values()) for k in ("cold", "warm", "write", "gas")), "")
    table.notes.append(
        "SSTORE gas includes the cold surcharge when the slot was not read first; refunds not subtracted"
    )
    return table


def frame_table(ctx: Context, columns: list[tuple[str, list[TxTrace]]], title: str) -> Table:
    """Gas of each kind of call frame (its own opcodes), summed over the given transactions."""
    groups: dict[str, list[dict]] = defaultdict(lambda: [defaultdict(int) for _ in columns])
    for col, (_, traces) in enumerate(columns):
        for tr in traces:
            groups["intrinsic (base + calldata)"][col]["gas"] += tr.intrinsic
            groups["intrinsic (base + calldata)"][col]["n"] += 1
            groups["refund"][col]["gas"] -= tr.refund
            for frame in tr.root.walk():
                label = ctx.frame_label(frame)
                cell = groups[label][col]
                cell["gas"] += frame.own
                cell["n"] += 1
                for cls in CLASSES:
                    cell[cls] += frame.gas[cls]
                    cell["#" + cls] += frame.count[cls]
    headers = ["frame (own opcodes)"] + [f"{name} (calls)" for name, _ in columns]
    if len(columns) == 2:
        headers.append("extra")
    headers.append("where, first column (gas: count)")
    table = Table(title, headers)
    order = sorted(groups, key=lambda k: -max(abs(c["gas"]) for c in groups[k]))
    for label in order:
        cells = groups[label]
        row = [label] + [f"{c['gas']:,} ({c['n']})" if c["n"] else f"{c['gas']:,}" for c in cells]
        if len(columns) == 2:
            row.append(f"{cells[0]['gas'] - cells[1]['gas']:,}")
        detail = ", ".join(
            f"{cls} {cells[0][cls]:,}: {cells[0]['#' + cls]}" for cls in CLASSES if cells[0][cls] and cells[0]["n"]
        )
        row.append(detail)
        table.rows.append(row)
    totals = [sum(groups[k][i]["gas"] for k in groups) for i in range(len(columns))]
    total_row = ["total"] + [f"{t:,}" for t in totals]
    if len(columns) == 2:
        total_row.append(f"{totals[0] - totals[1]:,}")
    table.rows.append(total_row + [""])
    return table
