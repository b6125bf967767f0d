"""Gas and throughput benchmark: ``ape run bench --network ethereum:local:foundry``.

Everything is measured in one run on a fresh anvil chain and written to ``BENCHMARKS.md``:

* gas (``gas_used`` of the receipts, 21,000 base included) of ``join``, ``deposit``, ``exit``
  and ``rebalance`` for vaults of 2, 4 and 8 assets. The rebalance trades are the planner's
  (:func:`ballast.planner.plan_rebalance`) after an oracle move and an arbitrage of the pools,
  as in :mod:`ballast.demo`; the same swaps are also sent straight to the same pools from an
  EOA, from the same chain snapshot, and the ratio of the two is the vault's overhead;
* references from the same run: snekmate's ERC-4626 ``deposit`` and ``redeem`` (over a
  ``MockERC20``), an ERC-20 ``transfer`` and one AMM swap;
* a *floor* for every operation from the EIP gas schedule (:class:`Floor`): the base cost,
  the call's calldata, and the cold accounts, storage slots and logs that any implementation
  of the operation must touch, listed item by item (the ``floor_*`` functions);
* throughput: ape transactions per second, planner latency, the titanoboa state machine's
  steps per second (the CI profile of ``tests/stateful``) and the backtester's paths per
  second (``python -m ballast.backtest --bench``);
* the targets, met or not, and for each one not met a breakdown of the gas from
  ``debug_traceTransaction`` (opcode classes per call frame).

Scenario conventions, chosen so that no storage refund blurs the schedule: entries are made by
a *new* holder (share balance 0 -> nonzero), exits are partial, every token balance touched is
nonzero before and after, and EOAs approve the max (snekmate then reads the allowance but does
not write it).
"""

from __future__ import annotations

import os
import time
from pathlib import Path

from ballast.bench.breakdowns import class_table, frame_table, storage_table
from ballast.bench.config import SIZES, TARGET_DEPOSIT_GAS, TARGET_FLOOR_RATIO, TARGET_OVERHEAD
from ballast.bench.context import Context, _selectors
from ballast.bench.floors import (
    CALLDATA_NONZERO,
    CALLDATA_ZERO,
    COLD_ACCOUNT,
    COLD_SLOAD,
    LOG_BASE,
    LOG_BYTE,
    LOG_TOPIC,
    SSTORE_RESET,
    SSTORE_SET,
    TX_BASE,
)
from ballast.bench.fuzz import STATEFUL_PYEVM_BUDGET, finish_stateful, start_stateful
from ballast.bench.report import Table
from ballast.bench.throughput import ape_tps, backtest_rate, planner_latency, planner_table
from ballast.bench.vaults import References, VaultRun, bench_references, bench_vault

# ---------------------------------------------------------------- the run


def run(
    project,
    chain,
    accounts,
    provider,
    output: Path | None = None,
    echo=print,
    stateful: bool = True,
    local_tps: tuple[float | None, str] = (None, "not measured"),
) -> dict:
    """Run the whole benchmark, print its tables, write ``output`` and return the figures."""
    started = time.perf_counter()
    load = os.getloadavg()[0]
    ctx = Context(project, chain, provider, list(accounts), echo)
    ctx.selectors = _selectors(project)
    client = provider.make_request("web3_clientVersion", [])
    hardfork = getattr(provider.settings, "evm_version", None) or "default"
    echo(f"Ballast benchmark on {client} (hardfork {hardfork}); gas = receipts' gas_used")
    echo("Gas: vaults of " + ", ".join(map(str, SIZES)) + " assets")
    runs = {n: bench_vault(ctx, n) for n in SIZES}
    refs = bench_references(ctx)
    gas_seconds = time.perf_counter() - started

    # Timing figures one at a time, after the gas phase, so that nothing competes with them.
    skipped = (None, "skipped (--no-stateful)")
    echo("Throughput: state machine (CI profile) on revm, then on titanoboa's py-evm ...")
    steps_rate, steps_note = finish_stateful(start_stateful("revm")) if stateful else skipped
    pyevm_rate, pyevm_note = finish_stateful(start_stateful("boa"), STATEFUL_PYEVM_BUDGET) if stateful else skipped
    tps, transfers, tps_seconds = ape_tps(refs)
    state, market = runs[max(SIZES)].planner_state
    planner = planner_latency(state, market)
    paths_rate, paths_note = backtest_rate()

    tables = build_tables(
        ctx,
        runs,
        refs,
        {
            "tps": (tps, transfers, tps_seconds),
            "local_tps": local_tps,
            "planner": planner,
            "steps": (steps_rate, steps_note),
            "steps_pyevm": (pyevm_rate, pyevm_note),
            "paths": (paths_rate, paths_note),
        },
    )
    elapsed = time.perf_counter() - started
    echo("")
    for table in tables["main"] + tables["breakdowns"]:
        echo(table.text())
        echo("")
    if output is not None:
        write_markdown(output, tables, runs, refs, client, hardfork, elapsed, gas_seconds, load)
        echo(f"wrote {output} ({elapsed:.0f} s)")
    return {"runs": runs, "refs": refs, "tables": tables, "seconds": elapsed}


def build_tables(ctx: Context, runs: dict[int, VaultRun], refs: References, speed: dict) -> dict:
    gas = Table(
        "Gas per operation (receipts, 21,000 base included)", ["operation", "assets", "gas", "floor", "x floor"]
    )
    for op in ("join", "deposit", "exit", "rebalance"):
        for n, r in runs.items():
            m = getattr(r, op)
            label = f"{op} ({len(r.trades)} swaps)" if op == "rebalance" else op
            gas.add(label, n, m.gas, m.floor.total, f"{m.ratio:.2f}x")
    for m in (refs.deposit_4626, refs.redeem_4626, refs.transfer, refs.swap):
        gas.add(m.op, "1" if "4626" in m.op else "-", m.gas, m.floor.total, f"{m.ratio:.2f}x")
    below = [m for r in runs.values() for m in (r.join, r.deposit, r.exit, r.rebalance)]
    below = [f"{m.op} ({m.n})" for m in below if m.gas < m.floor.total]
    if below:
        gas.notes.append("WARNING: below the floor, so the floor is wrong: " + ", ".join(below))
    gas.notes += [
        "join/deposit: a new holder; exit: half of a holder's shares",
        "rebalance: the vault's second; the planner's swaps after WBTC, +40% at the first, returns to its start price",
        "floor = EIP schedule: base + calldata + cold accounts + cold slots read/written + logs (see Floors)",
    ]

    reb = Table(
        "Rebalance vs the same swaps from an EOA (same pools, same starting state)",
        ["assets", "swaps", "vault rebalance", "EOA swaps", "overhead", "extra gas", "floor", "x floor"],
    )
    for n, r in runs.items():
        reb.add(
            n,
            len(r.trades),
            r.rebalance.gas,
            r.eoa_gas,
            f"{r.overhead:.2f}x",
            r.rebalance.gas - r.eoa_gas,
            r.rebalance.floor.total,
            f"{r.rebalance.ratio:.2f}x",
        )
    reb.notes.append("EOA swaps: one transaction per swap (each pays the 21,000 base); overhead = vault / EOA")

    four = runs[4]
    targets = [
        (
            "deposit, one asset, 4-asset vault",
            f"<= {TARGET_DEPOSIT_GAS:,} gas",
            f"{four.deposit.gas:,} gas",
            four.deposit.gas <= TARGET_DEPOSIT_GAS,
            four.deposit,
        ),
        (
            "join, 4-asset vault",
            f"<= {TARGET_FLOOR_RATIO}x floor",
            f"{four.join.ratio:.2f}x floor",
            four.join.ratio <= TARGET_FLOOR_RATIO,
            four.join,
        ),
        (
            "exit, 4-asset vault",
            f"<= {TARGET_FLOOR_RATIO}x floor",
            f"{four.exit.ratio:.2f}x floor",
            four.exit.ratio <= TARGET_FLOOR_RATIO,
            four.exit,
        ),
        (
            f"rebalance overhead, {len(four.trades)} swaps, 4-asset vault",
            f"<= {TARGET_OVERHEAD}x EOA swaps",
            f"{four.overhead:.2f}x",
            four.overhead <= TARGET_OVERHEAD,
            four.rebalance,
        ),
    ]
    tgt = Table("Targets", ["target", "goal", "measured", "status"])
    for name, goal, measured, ok, _ in targets:
        tgt.add(name, goal, measured, ok)
    if len(four.trades) != 3:
        tgt.notes.append(f"the planner made {len(four.trades)} swaps, not 3, for the 4-asset vault")

    tps, transfers, tps_seconds = speed["tps"]
    planner = speed["planner"]
    target = next(t for t in planner if t.mode == "target")
    steps_rate, steps_note = speed["steps"]
    pyevm_rate, pyevm_note = speed["steps_pyevm"]
    paths_rate, paths_note = speed["paths"]
    thr = Table("Throughput", ["measurement", "figure", "how"])
    thr.add(
        "ape transactions / s (local anvil)",
        f"{tps:,.1f}/s",
        f"{transfers} ERC-20 transfers in a loop, each awaited: {tps_seconds:.1f} s",
    )
    local_rate, local_note = speed["local_tps"]
    thr.add(
        "ape transactions / s (ape's embedded local network)",
        f"{local_rate:,.1f}/s" if local_rate else "-",
        local_note,
    )
    thr.add(
        f"planner latency, {max(SIZES)} assets, 3 venues",
        f"{target.median_ms:.2f} ms",
        f"plan_rebalance (target mode), median of {target.runs} (slowest {target.max_ms:.2f} ms, "
        f"{target.swaps} swaps); every mode in the next table",
    )
    thr.add(
        "state machine steps / s (titanoboa-compiled, on revm)",
        f"{steps_rate:,.1f}/s" if steps_rate else "-",
        steps_note,
    )
    thr.add(
        "state machine steps / s (titanoboa's py-evm)",
        f"{pyevm_rate:,.1f}/s" if pyevm_rate else "-",
        pyevm_note + ("; BALLAST_FUZZ_EVM=boa, the reference" if pyevm_rate else ""),
    )
    thr.add("backtester paths / s", f"{paths_rate:,.0f}/s" if paths_rate else "-", paths_note)

    breakdowns = []
    for name, _, _, ok, m in targets:
        if ok:
            continue
        breakdowns.append(class_table(ctx, m, f"Where the gas goes: {name} ({m.gas:,} gas, floor {m.floor.total:,})"))
        vault_tr = [ctx.trace(m.txn_hash, m.gas, m.calldata)]
        if m.op == "rebalance":
            eoa_tr = [ctx.trace(h, g, d) for g, h, d in four.eoa_swaps]
            breakdowns.append(
                frame_table(ctx, [("vault", vault_tr), ("EOA", eoa_tr)], f"By call frame: {name}, vault vs EOA")
            )
        else:
            breakdowns.append(frame_table(ctx, [("gas", vault_tr)], f"By call frame: {name}"))
        breakdowns.append(storage_table(ctx, m, f"Storage accesses by variable: {name}"))
    return {
        "main": [gas, reb, tgt, thr, planner_table(planner, max(SIZES))],
        "breakdowns": breakdowns,
        "targets": targets,
    }


def write_markdown(path: Path, tables: dict, runs, refs, client, hardfork, elapsed, gas_seconds, load) -> None:
    floors = [m.floor for r in runs.values() for m in (r.join, r.deposit, r.exit, r.rebalance)]
    floors += [m.floor for m in (refs.deposit_4626, refs.redeem_4626, refs.transfer, refs.swap)]
    lines = [
        "# Ballast benchmarks",
        "",
        "Generated by `make bench` (`ape run bench --network ethereum:local:foundry`; source "
        "`ballast/bench/`). Do not edit by hand.",
        "",
        f"Node: {client}, hardfork {hardfork}. Gas is `gas_used` from the receipts (21,000 base included). "
        f"Run time {elapsed:.0f} s (gas phase {gas_seconds:.0f} s). Gas figures are deterministic; the "
        f"throughput figures depend on the machine and its load ({os.cpu_count()} CPUs, load average "
        f"{load:.1f} at the start).",
        "",
    ]
    for table in tables["main"]:
        lines += [table.markdown(), ""]
    if tables["breakdowns"]:
        lines += [
            "## Breakdowns of the targets not met",
            "",
            "From `debug_traceTransaction` (call tracer + struct logs): each opcode's gas is charged to "
            "its call frame; a call's own cost (cold or warm access, memory) to the caller.",
            "",
        ]
        for table in tables["breakdowns"]:
            lines += [table.markdown(), ""]
    lines += [
        "## Floors",
        "",
        "Each floor is computed in `ballast/bench/floors.py` (`floor_*`) from the EIP schedule: "
        f"{TX_BASE:,} base; calldata {CALLDATA_NONZERO}/{CALLDATA_ZERO} per nonzero/zero byte of the call as made; "
        f"{COLD_ACCOUNT:,} per distinct external contract that must be called; {COLD_SLOAD:,} per distinct "
        f"slot that must be read; per slot that must change {COLD_SLOAD:,} + {SSTORE_SET:,} (zero to nonzero) or "
        f"{COLD_SLOAD:,} + {SSTORE_RESET:,} (nonzero to nonzero); logs {LOG_BASE} + {LOG_TOPIC}/topic + "
        f"{LOG_BYTE}/byte. Warm accesses, computation and memory are not counted. Labels: `T0..` the "
        "basket's tokens, `F0..` their feeds.",
        "",
        "```",
    ]
    for floor in floors:
        lines += floor.describe()
    lines += ["```", ""]
    path.write_text("\n".join(lines))
