"""The cost / tracking-error frontier, found by search rather than drawn family by family.

On the default benchmark (:class:`ballast.backtest.GBM`, 4 assets at 40/30/20/10, 2,000 paths
x 365 daily steps, 30 bps of value traded + $10 per rebalance on $100,000), :func:`run_frontier`

1. runs every policy of :func:`search_space` (trigger and check interval, band width and its
   shape across assets, how far a rebalance trades back, the planner's benefit-versus-cost gate)
   on the *search* paths (``search_seed``);
2. keeps the policies on the lower envelope there (no other policy has both a lower cost and a
   lower tracking error);
3. scores those, and every named policy (:func:`named_policies`, and the policy ``ape run
   deploy`` sets up by default, :func:`deploy_default`), on *other* paths (``seed``, the
   benchmark's own), and draws the envelope from the scored candidates only;
4. reports each named policy's excess cost over the envelope at equal tracking error: its cost
   over the cost of the cheapest envelope policy whose tracking error is no higher.

:func:`band_exponent` checks the "edge" rule against the proportional-cost closed form (one risky
asset, band half-width ``(3 lambda pi^2 (1-pi)^2 / (4 kappa))**(1/3)``).

``python -m ballast.frontier`` (``make frontier``) prints the tables and writes docs/frontier.png.
"""

from __future__ import annotations

import argparse
import itertools
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ballast.backtest import (
    DAY,
    DEFAULT_WEIGHTS_BPS,
    GBM,
    BacktestConfig,
    Metrics,
    Policy,
    _pyplot,
    _write_metrics,
    ideal_values,
    path_stats,
    run_backtest,
    simulate,
)
from ballast.constants import MAX_BPS
from ballast.sweep import run_sweep

__all__ = [
    "BandFit",
    "FrontierResult",
    "band_exponent",
    "deploy_default",
    "envelope",
    "envelope_cost_at",
    "format_frontier",
    "named_policies",
    "plot_frontier",
    "run_frontier",
    "search_space",
]

ROOT = Path(__file__).resolve().parent.parent
DEMO_SPEC = ROOT / "specs" / "demo.yaml"
#: The reference of the targets: the 30-day calendar.
CALENDAR_30D = "calendar 30d"

# ------------------------------------------------------------------ the space

#: Base band widths, bps (scaled per asset by the shape).
SEARCH_BANDS_BPS: tuple[float, ...] = (150, 200, 300, 400, 500, 650, 800, 1000, 1300)
#: Triggers: (label, kind, check interval in days for hybrid, check_steps for threshold).
SEARCH_TRIGGERS: tuple[tuple[str, str, float, int], ...] = (
    ("threshold", "threshold", 30.0, 1),
    ("threshold@7d", "threshold", 30.0, 7),
    ("hybrid@1d", "hybrid", 1.0, 1),
)
#: How far a rebalance trades: (label, mode, inner_ratio, fraction).
SEARCH_TRADES: tuple[tuple[str, str, float, float], ...] = (
    ("target", "target", 1.0, 0.5),
    ("edge", "edge", 1.0, 0.5),
    ("edge.5", "edge", 0.5, 0.5),
    ("edge.25", "edge", 0.25, 0.5),
    ("partial.5", "partial", 1.0, 0.5),
)
#: The planner's benefit-versus-cost gate, drift aversion in bps (None: no gate).
SEARCH_GATES: tuple[float | None, ...] = (None, 2_000.0)


def band_shapes(weights_bps: Sequence[int] = DEFAULT_WEIGHTS_BPS) -> dict[str, tuple[float, ...]]:
    """Per-asset band multipliers, mean 1: uniform; by weight; and Davis-Norman's ``(w (1 - w))**(2/3)``.

    The last one is the one-asset optimum ``band ~ (cost * w^2 (1 - w)^2 / kappa)**(1/3)`` applied
    to each asset against the rest of the basket.
    """
    w = np.asarray(weights_bps, dtype=np.float64) / MAX_BPS
    shapes = {"flat": np.ones_like(w), "weight": w, "dn": (w * (1 - w)) ** (2 / 3)}
    return {name: tuple(float(x) for x in s / s.mean()) for name, s in shapes.items()}


def search_space(
    weights_bps: Sequence[int] = DEFAULT_WEIGHTS_BPS, gates: Sequence[float | None] = SEARCH_GATES
) -> list[Policy]:
    """Every policy the frontier search tries (the grid of the ``SEARCH_*`` constants x shapes,
    with the benefit-versus-cost ``gates``; more gates make a larger space for timing sweeps).

    Names spell the parameters, e.g. ``threshold@7d flat 300bp edge.5 gate2000``.
    """
    policies = []
    shapes = band_shapes(weights_bps)
    for (label, kind, days, check), band, (shape, scale), (trade, mode, inner, fraction), gate in itertools.product(
        SEARCH_TRIGGERS, SEARCH_BANDS_BPS, shapes.items(), SEARCH_TRADES, gates
    ):
        bands = tuple(min(round(band * s, 1), MAX_BPS / 2) for s in scale)
        outer = tuple(min(3 * b, MAX_BPS) for b in bands) if kind == "hybrid" else bands
        name = f"{label} {shape} {band:g}bp {trade}" + ("" if gate is None else f" gate{gate:g}")
        policies.append(
            Policy(
                name,
                kind,  # type: ignore[arg-type]
                mode,  # type: ignore[arg-type]
                fraction=fraction,
                interval=days * DAY,
                bands_bps=bands,
                outer_bands_bps=outer,
                inner_ratio=inner,
                check_steps=check,
                drift_aversion_bps=gate,
            )
        )
    return policies


def named_policies() -> list[Policy]:
    """The policies the project names: the backtester's defaults and its calendar family."""
    named = [Policy(f"calendar {d}d", "calendar", interval=d * DAY) for d in (7, 14, 30, 60, 90, 120)]
    named += [
        Policy("threshold 300bp", "threshold", bands_bps=300, outer_bands_bps=300),
        Policy("threshold/edge 300bp", "threshold", "edge", bands_bps=300, outer_bands_bps=300),
        Policy("threshold/partial 300bp", "threshold", "partial", bands_bps=300, outer_bands_bps=300),
        Policy("hybrid 300bp 7d", "hybrid", interval=7 * DAY, bands_bps=300, outer_bands_bps=900),
        Policy("hybrid/edge 300bp 7d", "hybrid", "edge", interval=7 * DAY, bands_bps=300, outer_bands_bps=900),
    ]
    return named


def deploy_default(spec_path: str | Path = DEMO_SPEC) -> tuple[Policy, BacktestConfig]:
    """The policy ``ape run deploy`` sets up with no options: its default spec's trigger and bands,
    traded to target (the keeper's default plan), with the spec's volatility estimator.

    The demo spec's assets (USDC, WBTC, WETH, LINK at 40/30/20/10) stand in the benchmark's
    (STABLE, ETH, ALT, SMALL at the same weights).
    """
    import yaml

    from ballast.spec import spec_from_dict

    with open(spec_path, encoding="utf-8") as handle:
        spec = spec_from_dict(yaml.safe_load(handle), str(spec_path))
    kind = {0: "calendar", 1: "threshold", 2: "hybrid"}[spec.trigger_type]
    policy = Policy(
        f"deploy default ({kind} {spec.interval / DAY:g}d)",
        kind,  # type: ignore[arg-type]
        interval=spec.interval,
        bands_bps=tuple(float(a.band_bps) for a in spec.assets),
        outer_bands_bps=tuple(float(a.outer_band_bps) for a in spec.assets),
    )
    config = BacktestConfig(
        weights_bps=tuple(spec.weights_bps), vol_reference=spec.vol_reference / 1e18, vol_alpha_bps=spec.vol_alpha_bps
    )
    return policy, config


# --------------------------------------------------------------- the envelope


def envelope(metrics: Sequence[Metrics]) -> list[Metrics]:
    """The lower envelope: policies no other beats on both cost and tracking error, by tracking error."""
    out: list[Metrics] = []
    for m in sorted(metrics, key=lambda m: (m.tracking_error, m.cost)):
        if not out or m.cost < out[-1].cost:
            out.append(m)
    return out


def envelope_cost_at(front: Sequence[Metrics], tracking_error: float) -> Metrics | None:
    """The cheapest envelope policy whose tracking error is at most ``tracking_error`` (None: none is)."""
    fits = [m for m in front if m.tracking_error <= tracking_error]
    return min(fits, key=lambda m: m.cost) if fits else None


@dataclass
class FrontierResult:
    """Output of :func:`run_frontier`.

    Attributes:
        searched: Metrics of the whole search space on the search paths.
        candidates: The search's envelope, scored on the held-out paths.
        front: The envelope of ``candidates`` (held-out).
        named: Named policies and the deploy default, held-out.
        default_name: Name of the deploy default in ``named``.
        seconds: Wall time.
        settings: What ran (paths, seeds, scheduler), for the printout.
    """

    searched: list[Metrics]
    candidates: list[Metrics]
    front: list[Metrics]
    named: list[Metrics]
    default_name: str
    seconds: float
    settings: dict[str, object]


def run_frontier(
    paths: int = 2_000,
    seed: int = 0,
    search_paths: int = 2_000,
    search_seed: int = 1,
    steps: int = 365,
    space: Sequence[Policy] | None = None,
    scheduler: object = "local",
    workers: int | None = None,
    progress: bool = True,
) -> FrontierResult:
    """Searches ``space`` on the search paths; scores its envelope and the named policies on the others.

    ``seed`` and ``search_seed`` must differ: the envelope is judged on paths the search never saw.
    """
    if seed == search_seed:
        raise ValueError("the search and scoring seeds must differ (held-out scoring)")
    start = time.perf_counter()
    model, config = GBM(), BacktestConfig()
    space = list(search_space() if space is None else space)
    kw = {"scheduler": scheduler, "workers": workers, "progress": progress}
    searched = run_sweep(model, space, config, search_paths, steps, search_seed, **kw)
    by_name = {p.name: p for p in space}
    chosen = [by_name[m.policy] for m in envelope(searched)]
    named = named_policies()
    scored = run_sweep(model, chosen + named, config, paths, steps, seed, **kw)
    candidates, named_metrics = scored[: len(chosen)], scored[len(chosen) :]
    policy, default_config = deploy_default()
    named_metrics.append(run_backtest(model, [policy], default_config, paths, steps, seed, progress=False).metrics[0])
    settings = {
        "paths": paths,
        "seed": seed,
        "search_paths": search_paths,
        "search_seed": search_seed,
        "steps": steps,
        "space": len(space),
        "scheduler": scheduler if isinstance(scheduler, str) else "client",
    }
    return FrontierResult(
        searched, candidates, envelope(candidates), named_metrics, policy.name, time.perf_counter() - start, settings
    )


# ------------------------------------------------------------------- reports


def _row(cells: Sequence[str], widths: Sequence[int]) -> str:
    return "  ".join(c.ljust(w) if i == 0 else c.rjust(w) for i, (c, w) in enumerate(zip(cells, widths, strict=True)))


def _table(header: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    widths = [max(len(str(r[i])) for r in [header, *rows]) for i in range(len(header))]
    lines = [_row(header, widths), "-" * (sum(widths) + 2 * (len(widths) - 1))]
    return "\n".join([*lines, *(_row(r, widths) for r in rows)])


def excess(m: Metrics, front: Sequence[Metrics]) -> tuple[Metrics | None, float | None]:
    """The envelope policy a named one is measured against, and the named one's excess cost (fraction)."""
    best = envelope_cost_at(front, m.tracking_error)
    if best is None or best.cost <= 0:
        return best, None
    return best, m.cost / best.cost - 1.0


def format_frontier(result: FrontierResult) -> str:
    """The three tables: the envelope, each named policy's excess cost over it, and the targets."""
    s = result.settings
    out = [
        f"GBM benchmark, 4 assets 40/30/20/10, 30 bps + $10 per rebalance on $100,000, {s['steps']} daily steps. "
        f"Search: {s['space']} policies on {s['search_paths']:,} paths (seed {s['search_seed']}); "
        f"scored on {s['paths']:,} held-out paths (seed {s['seed']}); {result.seconds:,.0f} s on {s['scheduler']}.",
        "",
        "Envelope (held-out): cheapest policies for their tracking error",
    ]
    rows = [
        [
            m.policy,
            f"{100 * m.tracking_error:.2f}%",
            f"{100 * m.cost:.3f}%",
            f"{m.rebalances:.1f}",
            f"{100 * m.turnover:.1f}%",
        ]
        for m in result.front
    ]
    out.append(_table(["policy", "track err", "cost", "rebal", "turnover"], rows))
    out += ["", "Named policies against the envelope at equal (or lower) tracking error"]
    rows = []
    for m in result.named:
        best, extra = excess(m, result.front)
        rows.append(
            [
                m.policy,
                f"{100 * m.tracking_error:.2f}%",
                f"{100 * m.cost:.3f}%",
                f"{m.rebalances:.1f}",
                f"{100 * m.turnover:.1f}%",
                "-" if best is None else f"{100 * best.cost:.3f}%",
                "below the envelope's range" if extra is None else f"{100 * extra:+.0f}%",
                "-" if best is None else best.policy,
            ]
        )
    header = ["policy", "track err", "cost", "rebal", "turnover", "envelope", "excess", "envelope policy"]
    out.append(_table(header, rows))
    out += ["", targets_text(result)]
    return "\n".join(out)


def targets_text(result: FrontierResult) -> str:
    """The two targets, met or not, with the numbers."""
    named = {m.policy: m for m in result.named}
    calendar = named[CALENDAR_30D]
    best = envelope_cost_at(result.front, calendar.tracking_error)
    lines = ["Targets"]
    if best is None:
        lines.append(
            f"- no envelope policy reaches the 30-day calendar's tracking error {100 * calendar.tracking_error:.2f}%"
        )
    else:
        ratio = best.cost / calendar.cost
        lines.append(
            f"- cost-aware policy at the 30-day calendar's tracking error ({100 * calendar.tracking_error:.2f}%): "
            f"{best.policy}, tracking error {100 * best.tracking_error:.2f}%, cost {100 * best.cost:.3f}% = "
            f"{ratio:.2f}x the calendar's {100 * calendar.cost:.3f}% (target <= 0.5x: {'met' if ratio <= 0.5 else 'NOT met'})"
        )
    for name in (result.default_name, "threshold 300bp"):
        m = named[name]
        ref, extra = excess(m, result.front)
        if extra is None:
            lines.append(f"- {name}: no envelope policy at or below its tracking error {100 * m.tracking_error:.2f}%")
        else:
            verdict = "met" if extra <= 0.10 else "NOT met"
            lines.append(
                f"- {name}: cost {100 * m.cost:.3f}% at tracking error {100 * m.tracking_error:.2f}%, "
                f"{100 * extra:+.0f}% over the envelope ({ref.policy}, {100 * ref.cost:.3f}%) (target <= +10%: {verdict})"
            )
    return "\n".join(lines)


def plot_frontier(result: FrontierResult, path: str | Path) -> Path:
    """Cost against tracking error: the searched space, the held-out envelope and the named policies."""
    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(9, 6), dpi=120)
    ax.scatter(
        [100 * m.tracking_error for m in result.searched],
        [100 * max(m.cost, 1e-6) for m in result.searched],
        s=6,
        color="0.75",
        label=f"searched ({len(result.searched)} policies, search paths)",
    )
    ax.plot(
        [100 * m.tracking_error for m in result.front],
        [100 * m.cost for m in result.front],
        "-o",
        color="black",
        ms=3,
        drawstyle="steps-post",
        label="envelope (held-out paths)",
    )
    for m in result.named:
        ax.scatter([100 * m.tracking_error], [100 * m.cost], s=30, zorder=3)
        ax.annotate(
            m.policy, (100 * m.tracking_error, 100 * m.cost), textcoords="offset points", xytext=(4, 3), fontsize=7
        )
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlabel("tracking error vs the ideal target portfolio (annualised, %)")
    ax.set_ylabel("total cost paid (% of initial value)")
    s = result.settings
    ax.set_title(
        f"Cost / tracking-error frontier, found by search\nGBM, {s['paths']:,} held-out paths x {s['steps']} days, "
        r"30 bps + \$10 per rebalance on \$100,000",
        fontsize=10,
    )
    ax.grid(True, which="both", alpha=0.3)
    ax.legend(fontsize=8, loc="upper right")
    fig.tight_layout()
    out = Path(path)
    out.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(out)
    plt.close(fig)
    return out


# ------------------------------------------------ the proportional-cost check


@dataclass
class BandFit:
    """Optimal bands fitted across costs, against the closed form.

    Attributes:
        costs_bps: Proportional costs.
        fitted_bps: The band half-width that minimises cost + kappa * TE^2 at each cost, bps.
        closed_bps: ``(3 lambda pi^2 (1 - pi)^2 / (4 kappa))**(1/3)``, bps.
        exponent: Slope of log(fitted) on log(cost).
    """

    costs_bps: tuple[float, ...]
    fitted_bps: tuple[float, ...]
    closed_bps: tuple[float, ...]
    exponent: float


def band_exponent(
    costs_bps: Sequence[float] = (2.5, 5, 10, 20, 40, 80),
    bands_bps: Sequence[float] | None = None,
    kappa: float = 0.375,
    sigma: float = 1.0,
    weight: float = 0.5,
    paths: int = 200,
    years: float = 1.0,
    step_hours: float = 2.0,
    seed: int = 7,
) -> BandFit:
    """The "edge" rule's optimal band across proportional costs, on simulated paths.

    One risky asset (volatility ``sigma``) against cash at weight ``weight``, threshold trigger in
    "edge" mode, no fixed cost. For each band the backtester measures the annual turnover ``T(b)``
    and tracking error ``TE(b)``; the objective at cost ``lambda`` is ``lambda T(b) + kappa TE(b)^2``
    (cost per year plus the quadratic tracking penalty). Its minimiser, refined by a parabola in
    log band around the grid's best, is the fitted band. Continuous-time theory for this objective
    (the drift is a Brownian motion of volatility ``s = pi (1 - pi) sigma`` reflected in
    ``[-b, b]``: ``T = s^2 / (2 b)``, ``TE^2 = sigma^2 b^2 / 3``) gives
    ``b* = (3 lambda pi^2 (1 - pi)^2 / (4 kappa))**(1/3)``: exponent 1/3. Turnover does not depend
    on ``lambda`` to first order, so each band is simulated once, with no cost.
    """
    dt = step_hours * 3600
    steps = round(years * 365 * 24 / step_hours)
    model = GBM(mu=(0.0, 0.0), sigma=(0.0, sigma), corr=((1.0, 0.0), (0.0, 1.0)), dt_seconds=dt)
    prices = model.generate(np.random.default_rng(seed), paths, steps)
    w = round(weight * MAX_BPS)
    config = BacktestConfig(weights_bps=(MAX_BPS - w, w), cost_bps=0.0, gas_usd=0.0, initial_value=1e6)
    ideal = ideal_values(prices, config)
    bands = np.asarray(bands_bps if bands_bps is not None else np.geomspace(150, 1500, 11), dtype=np.float64)
    turnover, te2 = [], []
    for b in bands:
        result = simulate(Policy("edge", "threshold", "edge", bands_bps=b, outer_bands_bps=b), prices, config, dt)
        stats = path_stats(result, ideal, config, dt)
        turnover.append(stats["turnover"].mean())
        te2.append((stats["te"] ** 2).mean())
    fitted, closed = [], []
    for lam in costs_bps:
        objective = lam / MAX_BPS * np.asarray(turnover) + kappa * np.asarray(te2)
        i = int(objective.argmin())
        lo, hi = max(i - 2, 0), min(i + 3, bands.size)
        c2, c1, _ = np.polyfit(np.log(bands[lo:hi]), objective[lo:hi], 2)
        fitted.append(float(np.exp(-c1 / (2 * c2))) if c2 > 0 else float(bands[i]))
        pi2 = (weight * (1 - weight)) ** 2
        closed.append(MAX_BPS * (3 * lam / MAX_BPS * pi2 / (4 * kappa)) ** (1 / 3))
    slope = float(np.polyfit(np.log(costs_bps), np.log(fitted), 1)[0])
    return BandFit(tuple(costs_bps), tuple(fitted), tuple(closed), slope)


def format_band_fit(fit: BandFit) -> str:
    """The fitted bands against the closed form, and the exponent."""
    rows = [
        [f"{c:g}", f"{f:.0f}", f"{k:.0f}", f"{f / k:.2f}"]
        for c, f, k in zip(fit.costs_bps, fit.fitted_bps, fit.closed_bps, strict=True)
    ]
    text = _table(["cost bps", "fitted band bps", "closed form bps", "ratio"], rows)
    return f"{text}\nexponent of band on cost: {fit.exponent:.3f} (theory 1/3 = 0.333)"


# ----------------------------------------------------------------------- CLI


def main(argv: Sequence[str] | None = None) -> int:
    """``python -m ballast.frontier``: the search, its tables and docs/frontier.png."""
    parser = argparse.ArgumentParser(
        prog="python -m ballast.frontier",
        description="Search rebalancing policies for the cost / tracking-error envelope (held-out scoring).",
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
    )
    parser.add_argument("--paths", type=int, default=2_000, help="held-out scoring paths (the benchmark)")
    parser.add_argument("--seed", type=int, default=0, help="scoring seed (the benchmark's)")
    parser.add_argument("--search-paths", type=int, default=2_000, help="search paths")
    parser.add_argument("--search-seed", type=int, default=1, help="search seed (must differ from --seed)")
    parser.add_argument("--steps", type=int, default=365, help="daily steps per path")
    parser.add_argument("--scheduler", default="local", help="local, sync, or a Dask scheduler address tcp://host:port")
    parser.add_argument("--workers", type=int, help="local cluster worker processes (default: cores)")
    parser.add_argument("--plot", type=Path, default=ROOT / "docs" / "frontier.png", help="output PNG")
    parser.add_argument("--csv", type=Path, default=ROOT / "out" / "frontier", help="folder for the metrics as CSV")
    parser.add_argument("--band-fit", action="store_true", help="also fit the edge band's exponent on cost (1/3)")
    parser.add_argument("--quiet", action="store_true", help="no progress bar")
    args = parser.parse_args(argv)
    if args.seed == args.search_seed:
        parser.error("--seed and --search-seed must differ (the envelope is scored on held-out paths)")
    result = run_frontier(
        args.paths,
        args.seed,
        args.search_paths,
        args.search_seed,
        args.steps,
        scheduler=args.scheduler,
        workers=args.workers,
        progress=not args.quiet,
    )
    print(format_frontier(result))
    print(f"wrote {plot_frontier(result, args.plot)}")
    args.csv.mkdir(parents=True, exist_ok=True)
    for name, rows in (("searched", result.searched), ("envelope", result.front), ("named", result.named)):
        _write_metrics(rows, args.csv / f"{name}.csv")
    print(f"wrote {args.csv}/searched.csv, envelope.csv, named.csv")
    if args.band_fit:
        print()
        print("Edge rule against the proportional-cost closed form (one risky asset, sigma 1, 50/50, kappa 0.375)")
        print(format_band_fit(band_exponent()))
    return 0


if __name__ == "__main__":
    sys.exit(main())
