"""``python -m ballast.systemic``: many vaults on one market; tables to stdout, PNG plots to ``--out``."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path

import numpy as np

from ballast.auction_model import AuctionModel
from ballast.backtest import DEFAULT_WEIGHTS_BPS, _equal_weights, _floats, _HelpFormatter, _ints, _model
from ballast.checks import InputError, require_file, require_folder_for, require_range
from ballast.constants import MAX_BPS
from ballast.systemic.model import Market, Mitigation
from ballast.systemic.report import (
    POLICIES,
    Scenario,
    compare_pools,
    contagion,
    crowding,
    format_rows,
    mitigations,
    mitigations_at_shock,
    plot_crowding,
    plot_mitigations,
    plot_shock,
    shock,
)

#: Annual vols of the built-in models: asset 0 is the numeraire, so it does not move.
VOLS = (0.0, 0.6, 0.8, 1.0)
COUNTS = (0, 1, 2, 5, 10, 20, 50, 100)
KEYS = ("sync", "pressure_bps", "max_pressure_bps", "var_ratio", "cost_bps", "rebalances")


def build_parser(prog: str | None = None) -> argparse.ArgumentParser:
    """The command-line parser of ``python -m ballast.systemic``."""
    parser = argparse.ArgumentParser(
        prog=prog or "python -m ballast.systemic",
        description="Many Ballast-style vaults rebalancing through shared constant-product or concentrated pools.",
        formatter_class=_HelpFormatter,
    )
    parser.add_argument("--paths", type=int, default=40, help="number of price paths")
    parser.add_argument("--steps", type=int, default=365, help="steps (days) per path")
    parser.add_argument("--model", choices=("gbm", "jump", "csv"), default="gbm", help="external price model")
    parser.add_argument("--csv", type=Path, help="price history for --model csv (date,<numeraire>,<asset>,...)")
    parser.add_argument("--block", type=int, default=20, help="bootstrap block length for csv with --paths > 1")
    parser.add_argument("--vols", type=_floats, help="annual vols for gbm/jump (default 0,0.6,0.8,1.0)")
    parser.add_argument("--vaults", type=int, default=100, help="largest number of vaults")
    parser.add_argument("--counts", type=_ints, help="vault counts of the crowding table (default 0,1,2,5,...)")
    parser.add_argument("--policy", choices=(*POLICIES, "mixed"), default="calendar", help="vault trigger policy")
    parser.add_argument(
        "--shock-policy", choices=(*POLICIES, "mixed"), default="threshold", help="vault policy of the shock runs"
    )
    parser.add_argument("--value", type=float, default=1_000_000.0, help="each vault's initial value")
    parser.add_argument("--depth", type=float, default=50_000_000.0, help="numeraire reserve of each pool")
    parser.add_argument("--fee-bps", type=float, default=30.0, help="pool fee, bps")
    parser.add_argument(
        "--pool", choices=("cp", "v3"), default="cp", help="pools of the main tables: constant product or concentrated"
    )
    parser.add_argument(
        "--range-bps", type=float, default=2_000.0, help="concentrated position's half-width: pb/p = p/pa = 1 + range"
    )
    parser.add_argument("--latency", type=int, default=0, help="arbitrage latency, steps")
    parser.add_argument("--noise", type=float, default=0.0, help="noise trade per step, share of pool reserve")
    parser.add_argument("--gas", type=float, default=10.0, help="cost per vault rebalance")
    parser.add_argument("--jump", type=float, default=-0.3, help="log size of the shock of every risky asset")
    parser.add_argument("--jump-step", type=int, default=100, help="step of the shock")
    parser.add_argument("--jitter", type=float, default=2.0, help="mitigation: mean keeper delay, steps")
    parser.add_argument("--stagger", type=int, default=5, help="mitigation: calendar dates K")
    parser.add_argument("--fraction", type=float, default=0.5, help="mitigation: partial rebalance share")
    parser.add_argument(
        "--hedge-steps",
        type=int,
        default=5,
        help="mitigation: auction fillers unwind on the pools over this many steps",
    )
    parser.add_argument("--out", type=Path, default=Path("out/systemic"), help="output folder")
    parser.add_argument("--seed", type=int, default=0, help="random seed")
    parser.add_argument("--quiet", action="store_true", help="no progress bar")
    return parser


def _check_args(args: argparse.Namespace) -> None:
    """Refuses out-of-range options and unreadable files before any simulation (InputError)."""
    for name in ("paths", "steps", "block", "vaults"):
        require_range(getattr(args, name), f"--{name}", 1)
    for i, n in enumerate(args.counts or ()):
        require_range(n, f"--counts[{i}]", 0, args.vaults)
    require_range(args.value, "--value", 0, low_open=True)
    require_range(args.depth, "--depth", 0, low_open=True)
    require_range(args.fee_bps, "--fee-bps", 0, MAX_BPS - 1)
    require_range(args.latency, "--latency", 0, args.steps)
    require_range(args.noise, "--noise", 0, 0.5)
    require_range(args.gas, "--gas", 0)
    require_range(args.jump, "--jump", -5, 5)
    require_range(args.jump_step, "--jump-step", 1, args.steps)
    require_range(args.jitter, "--jitter", 0)
    require_range(args.stagger, "--stagger", 1)
    require_range(args.fraction, "--fraction", 0, 1, low_open=True)
    require_range(args.range_bps, "--range-bps", 0, low_open=True)
    require_range(args.hedge_steps, "--hedge-steps", 1)
    for i, vol in enumerate(args.vols or ()):
        require_range(vol, f"--vols[{i}]", 0)
    if args.csv is not None:
        require_file(args.csv, "--csv")
    require_folder_for(args.out, "--out", is_folder=True)


def main(argv: Sequence[str] | None = None, prog: str | None = None) -> int:
    """Command-line entry point; returns the process exit status."""
    parser = build_parser(prog)
    args = parser.parse_args(argv)
    try:
        _check_args(args)
        args.vols = args.vols or VOLS
        model, names, steps = _model(args)
        if args.jump_step > steps:
            raise InputError(f"--jump-step: must be <= the {steps} steps of the history, got {args.jump_step}")
        weights = DEFAULT_WEIGHTS_BPS if model.n_assets == len(DEFAULT_WEIGHTS_BPS) else _equal_weights(model.n_assets)
        market = Market(
            weights_bps=weights, depth=args.depth, fee_bps=args.fee_bps, arb_latency=args.latency,
            noise=args.noise, gas=args.gas, pool_kind=args.pool, range_bps=args.range_bps,
        )  # fmt: skip
    except (ValueError, OSError) as exc:
        parser.error(str(exc))

    prices = model.generate(np.random.default_rng(args.seed), args.paths, steps)
    scenario = Scenario(prices, market, float(model.dt_seconds), args.policy, args.value, args.seed)
    counts = args.counts or tuple(n for n in COUNTS if n <= args.vaults)
    progress = not args.quiet
    print(
        f"{args.model}: {args.paths} path(s) x {steps} steps; assets {','.join(names)} (first = numeraire), "
        f"weights {','.join(map(str, weights))} bps; {args.policy} vaults of {args.value:,.0f}; pools of "
        f"{args.depth:,.0f} numeraire each ({args.pool}), fee {args.fee_bps:g} bps, arbitrage latency {args.latency} step(s), "
        f"noise {args.noise:g}; gas {args.gas:g} per rebalance"
    )

    print("\nCrowding: N identical vaults on the same pools (N = 0: pools, arbitrage and noise only)")
    crowd = crowding(scenario, counts, progress)
    print(format_rows("N", crowd, KEYS))

    n = args.vaults
    variants = {
        "none": Mitigation(),
        f"jitter {args.jitter:g}": Mitigation(jitter=args.jitter),
        f"stagger {args.stagger}": Mitigation(stagger=args.stagger),
        f"partial {args.fraction:g}": Mitigation(fraction=args.fraction),
        "auction, hedge 1": Mitigation(auction=AuctionModel()),
        f"auction, hedge {args.hedge_steps}": Mitigation(auction=AuctionModel(), hedge_steps=args.hedge_steps),
    }
    step = args.jump_step
    shocked_scenario = replace(scenario, policy=args.shock_policy)
    print(
        f"\nMitigations, {n} vaults, same paths ({args.policy}; overshoot and pushback: {args.shock_policy} "
        f"vaults at the shock of step {step})"
    )
    mitigated = mitigations(scenario, n, variants, progress)
    at_shock = mitigations_at_shock(shocked_scenario, n, variants, step, args.jump)
    mitigated = [(name, m | at_shock[name]) for name, m in mitigated]
    print(format_rows("mitigation", mitigated, (*KEYS, "overshoot_bps", "pushback_bps")))

    shock_counts = sorted({0, 1, max(n // 10, 1), n})
    shocked, results = shock(shocked_scenario, shock_counts, step, args.jump)
    print(
        f"\nShock, {args.shock_policy} vaults: every risky asset x{np.exp(args.jump):.3g} at step {step} (pool minus external in the jump's direction)"
    )
    print(format_rows("N", shocked, ("overshoot_bps", "pushback_bps", "var_ratio", "cost_bps")))

    hit = contagion(shocked_scenario, n, step, args.jump)
    print(
        f"\nContagion: vault 0 of {n} {args.shock_policy} vaults shuts down at the shock and sells everything on the pools"
    )
    print(format_rows("measure", [("bps", hit)], tuple(hit)))

    pool_counts = sorted({1, max(n // 10, 1), n})
    print(
        f"\nPools of the same value: constant product against a concentrated position of +/-"
        f"{args.range_bps / 100:g}% (re-centred when arbitrage leaves it); {args.policy} vaults, "
        f"overshoot and pushback: {args.shock_policy} vaults at the shock"
    )
    pooled = compare_pools(scenario, shocked_scenario, pool_counts, step, args.jump, args.range_bps, progress)
    print(
        format_rows(
            "pools, N", pooled, ("sync", "pressure_bps", "var_ratio", "cost_bps", "overshoot_bps", "pushback_bps")
        )
    )

    args.out.mkdir(parents=True, exist_ok=True)
    sub = f"{args.model}, {args.paths} paths, vaults of {args.value:,.0f}, pools {args.depth:,.0f}"
    written = [
        plot_shock(
            results, shock_counts, step, args.out / "systemic_shock.png", f"Pool vs external at the shock; {sub}"
        ),
        plot_crowding(crowd, args.out / "systemic_crowding.png", f"Cost per vault against N; {sub}"),
        plot_mitigations(mitigated, args.out / "systemic_mitigations.png", f"{n} vaults; {sub}"),
    ]
    for path in written:
        print(f"wrote {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
