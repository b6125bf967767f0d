"""Gas and throughput benchmark: ``ape run bench --network ethereum:local:foundry``.

Everything is measured in one run on a fresh anvil chain and written to ``BENCHMARKS.md``:

* gas (``gas_used`` of the receipts, 21,000 base included) of ``join``, ``deposit``, ``exit``
  and ``rebalance`` for vaults of 2, 4 and 8 assets over real Uniswap V2 pairs
  (:mod:`ballast.bench.vaults`), each beside a *floor* from the EIP gas schedule
  (:mod:`ballast.bench.floors`): the base cost, the call's calldata, and the cold accounts,
  storage slots and logs that any implementation of the operation must touch, item by item;
* the rebalance overhead on each real venue (:mod:`ballast.bench.venues`): a 4-asset vault whose
  only venue is Uniswap V2, Uniswap V3 or Balancer V2, priced by Chainlink's proxies, rebalanced
  through the keeper path, against the same swaps sent from an EOA through the venue's own router
  (:mod:`ballast.bench.routers`) from the same chain snapshot, and where the difference goes;
* references from the same run: snekmate's ERC-4626 ``deposit`` and ``redeem`` (over a
  ``MockERC20``) and an ERC-20 ``transfer``;
* throughput: ape transactions per second, planner latency on three real venues, the titanoboa
  state machine's steps per second (its CI profile, :func:`ballast.fuzz.measure_steps_per_second`)
  and the backtester's paths per second (``python -m ballast.backtest --bench``);
* lending off and on (:mod:`ballast.bench.lending`): the 4-asset vault's join, deposit, exit and
  rebalance without a sleeve and with half its idle USDC and WETH lent into Morpho Blue markets,
  the exit at 100 % utilisation and the rebalance that recalls, ``lend`` and ``recall``, and the
  vault's, the sleeve's and ``Rules``' code sizes (``ape run bench --only lending`` alone);
* the peers (:mod:`ballast.bench.peers`, :mod:`ballast.peers.race`): Ballast, Set Protocol v2 and a
  Balancer V2 pool through the same moves, with and without a sandwich attacker, the issue's
  targets and a breakdown of any rebalance-gas target missed (``--only peers`` alone);
* the sandwich matrix (:mod:`ballast.bench.sandwich`): pool depth, fee tier and trade size, every
  admitted front-run, the attacker's best result at oracle prices;
* the targets, met or not, and breakdowns of the gas from ``debug_traceTransaction`` (opcode
  classes per call frame, storage by variable).

Scenario conventions, chosen so that no storage refund blurs the schedule: entries are made by
a *new* holder (share balance 0 -> nonzero), exits are partial, every token balance touched is
nonzero before and after, and EOAs approve the max (the tokens then read the allowance but do
not write it).
"""

from __future__ import annotations

import os
import time
from pathlib import Path

from ballast.bench import sandwich
from ballast.bench.breakdowns import class_table, frame_table, storage_table
from ballast.bench.config import (
    AIM_OVERHEAD,
    OVERHEAD_VENUES,
    SIZES,
    TARGET_DEPOSIT_GAS,
    TARGET_FLOOR_RATIO,
    TARGET_OVERHEAD,
)
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
from ballast.bench.lending import bench_lending
from ballast.bench.peers import peer_tables
from ballast.bench.report import Table
from ballast.bench.throughput import ape_tps, backtest_rate, planner_latency, planner_table, three_venue_market
from ballast.bench.vaults import References, VaultRun, bench_references, bench_vault
from ballast.bench.venues import VENUE_NAMES, overhead_table, venue_label
from ballast.fuzz import measure_steps_per_second
from ballast.peers import race

STATEFUL_BUDGET = 200.0  # seconds of fuzzing on revm
STATEFUL_PYEVM_BUDGET = 60.0  # the same machine on titanoboa's py-evm, for reference

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
    echo("Gas: vaults of " + ", ".join(map(str, SIZES)) + " assets on Uniswap V2, then one per real venue")
    runs = {n: bench_vault(ctx, n) for n in SIZES}
    overhead = [bench_vault(ctx, 4, kind, fee, "chainlink") for kind, fee in OVERHEAD_VENUES]
    refs = bench_references(ctx)
    echo("Lending: the 4-asset vault with the sleeve off and on ...")
    lending = bench_lending(ctx)
    state, _ = runs[max(SIZES)].planner_state
    planner_market, planner_pools = three_venue_market(ctx, runs[max(SIZES)])
    echo("Peers: Ballast, Set Protocol v2 and Balancer V2 through the same moves ...")
    peers = race.run(project, chain, accounts, echo=lambda *_: None, measured=lambda g, h, d: ctx.trace(h, g, d))
    echo("Auction: one rebalance by the pools and by auction, under an adversary ...")
    from ballast.bench.auction import run_auction_bench

    auction_tables = run_auction_bench(project, chain, accounts, echo=lambda *_: None)
    gas_seconds = time.perf_counter() - started

    # Timing figures one at a time, after the gas phase, so that nothing competes with them.
    skipped = (None, "skipped (--no-stateful)")
    echo("Throughput: state machine (CI profile) on revm, then on titanoboa's py-evm ...")
    steps_rate, steps_note = measure_steps_per_second(STATEFUL_BUDGET, "revm") if stateful else skipped
    pyevm_rate, pyevm_note = measure_steps_per_second(STATEFUL_PYEVM_BUDGET, "boa") if stateful else skipped
    tps, transfers, tps_seconds = ape_tps(refs)
    planner = planner_latency(state, planner_market)
    paths_rate, paths_note = backtest_rate()
    echo("Sandwich matrix (the pools' exact math, no chain) ...")
    matrix_started = time.perf_counter()
    matrices = [(shape, sandwich.matrix(band)) for band, shape in sandwich.SHAPES]
    matrix_seconds = time.perf_counter() - matrix_started

    tables = build_tables(
        ctx,
        runs,
        overhead,
        refs,
        {
            "tps": (tps, transfers, tps_seconds),
            "local_tps": local_tps,
            "planner": (planner, planner_pools),
            "steps": (steps_rate, steps_note),
            "steps_pyevm": (pyevm_rate, pyevm_note),
            "paths": (paths_rate, paths_note),
        },
        matrices,
        matrix_seconds,
    )
    tables["main"] += peer_tables(ctx, peers)
    tables["lending"] = [lending]
    tables["auction"] = auction_tables
    elapsed = time.perf_counter() - started
    echo("")
    for table in tables["main"] + tables["lending"] + tables["auction"] + tables["breakdowns"]:
        echo(table.text())
        echo("")
    if output is not None:
        write_markdown(output, tables, runs, refs, client, hardfork, elapsed, gas_seconds, load)
        echo(f"wrote {output} ({elapsed:.0f} s)")
    return {"runs": runs, "overhead": overhead, "refs": refs, "tables": tables, "seconds": elapsed}


def run_lending(project, chain, accounts, provider, echo=print) -> Table:
    """Only the lending table (``ape run bench --only lending``): printed, nothing written."""
    started = time.perf_counter()
    ctx = Context(project, chain, provider, list(accounts), echo)
    ctx.selectors = _selectors(project)
    client = provider.make_request("web3_clientVersion", [])
    echo(f"Ballast benchmark, lending only, on {client}; gas = receipts' gas_used")
    table = bench_lending(ctx)
    echo("")
    echo(table.text())
    echo(f"({time.perf_counter() - started:.0f} s)")
    return table


def run_peers(project, chain, accounts, provider, echo=print) -> list[Table]:
    """Only the peers' tables (``ape run bench --only peers``): printed as text, then as the
    Markdown of BENCHMARKS.md's peers section; nothing written."""
    started = time.perf_counter()
    ctx = Context(project, chain, provider, list(accounts), echo)
    ctx.selectors = _selectors(project)
    client = provider.make_request("web3_clientVersion", [])
    echo(f"Ballast benchmark, peers only, on {client}; gas = receipts' gas_used")
    peers = race.run(project, chain, accounts, echo=lambda *_: None, measured=lambda g, h, d: ctx.trace(h, g, d))
    tables = peer_tables(ctx, peers)
    for table in tables:
        echo("")
        echo(table.text())
    echo("")
    echo("\n\n".join(table.markdown() for table in tables))
    echo(f"({time.perf_counter() - started:.0f} s)")
    return tables


def run_auction(project, chain, accounts, provider, echo=print) -> list[Table]:
    """Only the route comparison and the auction's fill quality (``ape run bench --only auction``,
    :mod:`ballast.bench.auction`): printed as text, then as Markdown; nothing written."""
    from ballast.bench.auction import run_auction_bench

    client = provider.make_request("web3_clientVersion", [])
    echo(f"Ballast benchmark, auction only, on {client}; gas = receipts' gas_used")
    return run_auction_bench(project, chain, accounts, echo=echo)


def _targets(runs: dict[int, VaultRun], overhead: list[VaultRun]) -> list[tuple]:
    """(name, goal, measured, met, measured transaction, run) for every target."""
    four = runs[4]
    targets = [
        (
            "deposit, one asset, 4-asset vault",
            f"<= {TARGET_DEPOSIT_GAS:,} gas",
            f"{four.deposit.gas:,} gas",
            four.deposit.gas <= TARGET_DEPOSIT_GAS,
            four.deposit,
            four,
        ),
        (
            "join, 4-asset vault",
            f"<= {TARGET_FLOOR_RATIO}x floor",
            f"{four.join.ratio:.2f}x floor",
            four.join.ratio <= TARGET_FLOOR_RATIO,
            four.join,
            four,
        ),
        (
            "exit, 4-asset vault",
            f"<= {TARGET_FLOOR_RATIO}x floor",
            f"{four.exit.ratio:.2f}x floor",
            four.exit.ratio <= TARGET_FLOOR_RATIO,
            four.exit,
            four,
        ),
    ]
    for r in overhead:
        targets.append(
            (
                f"rebalance overhead, {len(r.trades)} swaps, 4-asset vault, {VENUE_NAMES[r.kind]}",
                f"<= {TARGET_OVERHEAD}x the router (aim {AIM_OVERHEAD}x)",
                f"{r.overhead:.2f}x",
                r.overhead <= TARGET_OVERHEAD,
                r.rebalance,
                r,
            )
        )
    return targets


def build_tables(
    ctx: Context,
    runs: dict[int, VaultRun],
    overhead: list[VaultRun],
    refs: References,
    speed: dict,
    matrices: list[tuple[str, list]],
    matrix_seconds: float,
) -> dict:
    gas = Table(
        "Gas per operation (receipts, 21,000 base included)",
        ["operation", "assets", "gas", "floor", "x floor"],
        about="What each entry point costs against the least the EIP schedule allows for it, for vaults of "
        "2, 4 and 8 assets on real Uniswap V2 pairs, priced by the settable test feed (one slot per read, as "
        "the floors assume), with references measured in the same run.",
    )
    for op in ("join", "deposit", "exit", "rebalance"):
        for n, r in runs.items():
            m = getattr(r, op)
            label = f"{op} ({len(r.trades)} swaps, Uniswap V2)" if op == "rebalance" else op
            gas.add(label, n, m.gas, m.floor.total, f"{m.ratio:.2f}x")
    for m in (refs.deposit_4626, refs.redeem_4626, refs.transfer):
        gas.add(m.op, "1" if "4626" in m.op else "-", m.gas, m.floor.total, f"{m.ratio:.2f}x")
    below = [m for r in runs.values() for m in (r.join, r.deposit, r.exit, r.rebalance)]
    below = [f"{m.op} ({m.n})" for m in below if m.gas < m.floor.total]
    if below:
        gas.notes.append("WARNING: below the floor, so the floor is wrong: " + ", ".join(below))
    gas.notes += [
        "join/deposit: a new holder; exit: half of a holder's shares",
        "rebalance: the vault's second, through the keeper path; the planner's swaps after WBTC, +40% at the first, "
        "returns to its start price (pools arbitraged to the oracle each time)",
        "floor = EIP schedule: base + calldata + cold accounts + cold slots read/written + logs (see Floors)",
    ]

    reb = overhead_table(ctx, [runs[n] for n in SIZES] + overhead)
    reb.about = (
        "The vault's rebalance against the same swaps sent from an EOA through each venue's own router, on the "
        "same real pools from the same chain state, and the difference by part: the rows with Chainlink's proxies "
        "are what a vault on mainnet pays; the settable-feed rows isolate the oracle's share and the asset count."
    )

    targets = _targets(runs, overhead)
    tgt = Table(
        "Targets",
        ["target", "goal", "measured", "status"],
        about="The issue's gas targets, each met or not; every one not met has its breakdowns below.",
    )
    for name, goal, measured, ok, _, _ in targets:
        tgt.add(name, goal, measured, ok)
    for r in overhead:
        if len(r.trades) != 3:
            tgt.notes.append(f"the planner made {len(r.trades)} swaps, not 3, on {VENUE_NAMES[r.kind]}")

    tps, transfers, tps_seconds = speed["tps"]
    planner, planner_pools = speed["planner"]
    target = next(t for t in planner if t.mode == "target")
    steps_rate, steps_note = speed["steps"]
    pyevm_rate, pyevm_note = speed["steps_pyevm"]
    paths_rate, paths_note = speed["paths"]
    thr = Table(
        "Throughput",
        ["measurement", "figure", "how"],
        about="Wall-clock speed of the tooling on this machine (these figures depend on its load).",
    )
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
        f"planner latency, {max(SIZES)} assets, 3 venues (one V3)",
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
    thr.add(
        "sandwich matrix",
        f"{matrix_seconds:.1f} s",
        f"{sum(len(cells) for _, cells in matrices)} cells, every admitted front-run on a grid, exact pool math",
    )
    plan_tbl = planner_table(planner, max(SIZES), planner_pools)
    plan_tbl.about = (
        "How long the planner takes to plan the 8-asset vault's rebalance over three real venues read from the "
        "chain (Uniswap V2 pairs, Uniswap V3 pools, a Balancer pool), against the issue's 50 ms."
    )
    sandwiches = []
    for shape, cells in matrices:
        table = sandwich.matrix_table(cells, shape)
        table.about = (
            f"What a sandwich of one planned trade earns on Uniswap V3 pools ({shape}), by depth, fee tier and trade "
            "size, over every front-run the planner's min-out still lets fill: it must be at most 0 in every cell, "
            "and the vault's loss within its bound."
        )
        sandwiches.append(table)

    four = runs[4].rebalance
    where = class_table(
        ctx,
        four,
        f"Where the gas goes: rebalance, 3 swaps, 4-asset vault, Uniswap V2, settable feed ({four.gas:,} gas, "
        f"floor {four.floor.total:,})",
    )
    where.about = "The 4-asset rebalance's gas by cost class beside its floor's (the settable feed: one slot a read)."
    breakdowns = [where]
    for r in overhead:
        vault_tr = [ctx.trace(r.rebalance.txn_hash, r.rebalance.gas, r.rebalance.calldata)]
        eoa_tr = [ctx.trace(h, g, d) for g, h, d in r.eoa_swaps]
        name = f"rebalance, {len(r.trades)} swaps, 4-asset vault, {venue_label(r)}"
        table = frame_table(ctx, [("vault", vault_tr), ("EOA", eoa_tr)], f"By call frame: {name}, vault vs router")
        table.about = (
            f"Each kind of call frame's own gas in the vault's rebalance and in the router's swaps ({r.router}), "
            "and in the first column where it goes."
        )
        breakdowns.append(table)
    for name, _, _, ok, m, _ in targets:
        if ok:
            continue
        if m.floor is not None:
            table = class_table(ctx, m, f"Where the gas goes: {name} ({m.gas:,} gas, floor {m.floor.total:,})")
            table.about = "The measured gas by cost class beside the floor's."
            breakdowns.append(table)
        if m.op != "rebalance":
            table = frame_table(ctx, [("gas", [ctx.trace(m.txn_hash, m.gas, m.calldata)])], f"By call frame: {name}")
            breakdowns.append(table)
        table = storage_table(ctx, m, f"Storage accesses by variable: {name}")
        table.about = "Every storage access of the transaction by contract and variable (slots named from layouts)."
        breakdowns.append(table)
    return {
        "main": [gas, reb, tgt, thr, plan_tbl, *sandwiches],
        "breakdowns": breakdowns,
        "targets": targets,
    }


AUCTION_INTRO = (
    "## Auctions: the pool route and the auction route\n\n"
    "Source `ballast/bench/auction.py`; `ape run bench --only auction` prints these tables alone. One "
    "rebalance, from one chain snapshot, by the keeper's plan on the pools (with the sandwich attacker of "
    "`ballast.bench.sandwich` on each trade) and by a Dutch auction (`contracts/auction/DutchAuction.vy`) "
    "filled by a competitive filler and by an adversary who fills at the curve's end. The route model "
    "(`ballast/route.py`) and the backtester's auction fills (`python -m ballast.auction_model`): "
    'TECH_SPEC "Choosing the route".'
)


# Sections of BENCHMARKS.md measured by other commands (they say which), carried over as they are.
KEPT_SECTIONS = ("## Entries: the guarded instant deposit and the asynchronous path (issue 13)", "## Sweeps on Dask")


def kept_sections(text: str) -> list[str]:
    """The :data:`KEPT_SECTIONS` of an existing BENCHMARKS.md, each from its heading to the next
    ``## `` heading, in the order they appear."""
    kept, lines = [], text.split("\n")
    for i, line in enumerate(lines):
        if line.strip() in KEPT_SECTIONS:
            end = next((j for j in range(i + 1, len(lines)) if lines[j].startswith("## ")), len(lines))
            kept.append("\n".join(lines[i:end]).rstrip() + "\n")
    return kept


def write_markdown(path: Path, tables: dict, runs, refs, client, hardfork, elapsed, gas_seconds, load) -> None:
    kept = kept_sections(path.read_text()) if path.exists() else []
    floors = [m.floor for r in runs.values() for m in (r.join, r.deposit, r.exit, r.rebalance)]
    floors += [m.floor for m in (refs.deposit_4626, refs.redeem_4626, refs.transfer)]
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
    if tables.get("lending"):
        lines += [
            "## Lending",
            "",
            "Source `ballast/bench/lending.py`; `ape run bench --only lending` prints this table alone. The vault "
            "lends idle balances through its `LendingSleeve` into ERC-4626 markets (here a supply vault over a real "
            "Morpho Blue market); its holdings are idle plus lent, so every entry and rebalance reads the sleeve's "
            "`lent_assets()`, and an exit pays the lent part from the markets, or in market shares when they "
            "cannot pay. Each row's two figures come from the same chain snapshot.",
            "",
        ]
        for table in tables["lending"]:
            lines += [table.markdown(), ""]
    if tables.get("auction"):
        lines += [AUCTION_INTRO, ""]
        for table in tables["auction"]:
            lines += [table.markdown(), ""]
    if tables["breakdowns"]:
        lines += [
            "## Breakdowns",
            "",
            "From `debug_traceTransaction` (call tracer + struct logs): each opcode's gas is charged to "
            "its call frame; a call's own cost (cold or warm access, memory) to the caller. First the "
            "rebalance against each venue's router, then every target not met.",
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
        "basket's tokens, `F0..` their feeds, `pair[Ti/Tj]` their Uniswap V2 pairs.",
        "",
        "```",
    ]
    for floor in floors:
        lines += floor.describe()
    lines += ["```", ""]
    for section in kept:
        lines += [section]
    path.write_text("\n".join(lines))
