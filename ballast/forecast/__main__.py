"""``python -m ballast.forecast``: the forecast scoreboard and the walk-forward policy table.

Three data sets (bootstrap of a real history, regime switching with an unseen
regime, the real history itself), each printed as two Markdown tables.
"""

from __future__ import annotations

import argparse
import logging
import sys
import time
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from ballast.backtest import _HelpFormatter, load_csv
from ballast.checks import require_file, require_folder_for, require_range
from ballast.forecast.evaluate import (
    HORIZON,
    bootstrap_set,
    default_forecasters,
    format_policies,
    format_scoreboard,
    history_segments,
    policy_table,
    real_history_csv,
    regime_set,
    run_forecasts,
    scoreboard,
    write_switches,
)
from ballast.forecast.scoreboard import commit_steps


def build_parser(prog: str | None = None) -> argparse.ArgumentParser:
    """The command-line parser of ``python -m ballast.forecast``."""
    parser = argparse.ArgumentParser(
        prog=prog or "python -m ballast.forecast",
        description="Score volatility forecasts walk-forward and test a forecast-driven band scale.",
        formatter_class=_HelpFormatter,
    )
    parser.add_argument("--paths", type=int, default=100, help="paths of the bootstrap and regime data sets")
    parser.add_argument("--warmup", type=int, default=500, help="steps seen before the first forecast")
    parser.add_argument("--test", type=int, default=365, help="test window, steps (history: segment length)")
    parser.add_argument("--csv", type=Path, help="real history (date,<asset>,...); default: arch's data")
    parser.add_argument("--refit-every", type=int, default=91, help="steps between GARCH / HAR refits")
    parser.add_argument("--band-bps", type=float, default=300.0, help="fixed band and hybrid base band, bps")
    parser.add_argument("--only", choices=("bootstrap", "regime", "history"), action="append", help="data sets")
    parser.add_argument("--out", type=Path, default=Path("out/forecast"), help="folder of the history CSV")
    parser.add_argument("--seed", type=int, default=0, help="random seed")
    parser.add_argument("--log-switches", action="store_true", help="log every fallback switch")
    return parser


def main(argv: Sequence[str] | None = None, prog: str | None = None) -> int:
    """Command-line entry point; returns the process exit status."""
    parser = build_parser(prog)
    args = parser.parse_args(argv)
    try:
        for name in ("paths", "warmup", "test", "refit_every"):
            require_range(getattr(args, name), "--" + name.replace("_", "-"), 1)
        require_range(args.band_bps, "--band-bps", 0, 10_000, low_open=True)
        if args.csv is not None:
            require_file(args.csv, "--csv")
        require_folder_for(args.out, "--out", is_folder=True)
    except ValueError as exc:
        parser.error(str(exc))
    if args.log_switches:
        logging.basicConfig(level=logging.INFO, format="%(name)s: %(message)s")
    csv_path = args.csv or real_history_csv(args.out / "history.csv")
    try:
        history = load_csv(csv_path)
    except ValueError as exc:
        parser.error(str(exc))
    forecasters = default_forecasters(args.refit_every)
    wanted = args.only or ["bootstrap", "regime", "history"]
    print(
        f"forecast horizon {HORIZON} steps (the hybrid's check interval), warm-up {args.warmup}, "
        f"refit every {args.refit_every}; history {csv_path} ({len(history.dates)} rows, "
        f"{','.join(history.names)}); cost 30 bps + $10 per rebalance on $100,000"
    )
    for kind in wanted:
        t0 = time.perf_counter()
        segments = None
        units = None
        if kind == "bootstrap":
            data = bootstrap_set(history, args.paths, args.warmup, args.test, args.seed)
            what = f"{args.paths} paths x {args.test} test steps"
        elif kind == "regime":
            data = regime_set(args.paths, args.warmup, args.test, args.seed)
            what = f"{args.paths} paths x {args.test} test steps, unseen regime at test steps 120-180"
        else:
            data, segments = history_segments(history, args.warmup, args.test)
            if segments < 2:
                parser.error(f"the history has {segments} test segment(s) after the warm-up; need 2")
            commits = commit_steps(data.returns.shape[0], HORIZON, data.warmup)
            where = np.minimum((commits - data.warmup) // args.test, segments - 1)  # the tail joins the last
            units = [np.flatnonzero(where == i) for i in range(segments)]
            what = f"{segments} consecutive segments x {args.test} steps, CI over segments"
        forecasts = run_forecasts(data, forecasters)
        fit_seconds = ", ".join(f"{k} {v:.1f}s" for k, v in forecasts.seconds.items())
        print()
        print(format_scoreboard(scoreboard(data, forecasts, units, seed=args.seed), f"Scoreboard: {data.name}, {what}"))
        print()
        rows = policy_table(data, forecasts, args.test, segments, args.band_bps, seed=args.seed)
        print(format_policies(rows, f"Walk-forward: {data.name}, {what}"))
        switches = write_switches(data, forecasts, args.out / f"switches_{kind}.csv")
        print(f"({time.perf_counter() - t0:.0f} s; forecasting {fit_seconds}; guard switches in {switches})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
