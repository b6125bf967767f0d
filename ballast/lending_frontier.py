"""Lending's trade-off for an analyst: the yield an idle buffer gives up against the exit
shortfall it prevents (``python -m ballast.lending_frontier``).

A vault lends ``1 - buffer`` of its holding of an asset into one ERC-4626 market and keeps
``buffer`` idle. Its exits are pro rata: each pays ``buffer`` of its part of the asset from idle
and ``1 - buffer`` from the market, redeemed when the market has the liquidity and delivered in
market shares (in kind) when it has not (TECH_SPEC, Lending). So the buffer does not make an exit
more liquid by paying first; it makes the lent part smaller, and a market with *some* liquidity
left pays a small lent part in full. The shortfall is therefore convex in the lent fraction,
while the yield is linear in it: the first points of buffer buy the least.

The model, per path and day:

* the market's utilisation ``U`` is an AR(1) in logit space around ``target_utilisation``, and
  stress episodes (Poisson, ``stress_per_year``, lasting ``stress_days`` on average) pull it
  towards ``stress_utilisation`` (100% by default: borrowers take everything);
* the market's liquidity is ``(1 - U) * market_multiple`` holdings of the vault's asset;
* suppliers earn the borrow rate of the curve (constant, or kinked as Aave's and Morpho's
  adaptive curve at its target) times ``U``, less the market's fee;
* holders exit a fraction of the vault each day (lognormal around ``daily_exit``), and
  ``stress_exit`` of it on the first day of each stress episode (a run);
* an exit's lent part is redeemed up to the liquidity of that day, the rest is delivered in kind.

Reported per buffer: the yield (bps a year of the vault's value, for an asset of weight
``weight``), the exit shortfall (the share of all exit value delivered in kind, and its worst
day), and the share of exit days with any shortfall. Floats throughout: this is a model for
choosing a parameter, not money math.
"""

from __future__ import annotations

import argparse
import dataclasses
from collections.abc import Sequence
from pathlib import Path

import numpy as np

DAYS_PER_YEAR = 365
DEFAULT_BUFFERS = (0.0, 0.05, 0.10, 0.15, 0.20, 0.30, 0.40, 0.50, 0.75, 1.0)


@dataclasses.dataclass(frozen=True)
class RateCurve:
    """Borrow rate (a year) as a function of utilisation: ``constant`` when set, else a kinked
    curve: ``base + slope_below * U / kink`` below the kink, then ``slope_above`` more at 100%."""

    constant: float | None = None
    base: float = 0.0
    slope_below: float = 0.04
    slope_above: float = 0.60
    kink: float = 0.90

    def borrow_rate(self, utilisation: np.ndarray) -> np.ndarray:
        if self.constant is not None:
            return np.full_like(utilisation, self.constant, dtype=float)
        below = np.minimum(utilisation, self.kink) / self.kink
        above = np.maximum(utilisation - self.kink, 0.0) / (1.0 - self.kink)
        return self.base + self.slope_below * below + self.slope_above * above

    def supply_rate(self, utilisation: np.ndarray, fee: float) -> np.ndarray:
        """What suppliers earn: the borrow rate on the borrowed share, less the market's fee."""
        return self.borrow_rate(utilisation) * utilisation * (1.0 - fee)


@dataclasses.dataclass(frozen=True)
class LendingModel:
    """The market, the holders' exits, and the asset's place in the vault."""

    curve: RateCurve = RateCurve()
    fee: float = 0.0
    target_utilisation: float = 0.85
    reversion: float = 0.10  # share of the logit gap closed each day
    volatility: float = 0.15  # daily noise of the logit
    stress_per_year: float = 2.0
    stress_days: float = 3.0
    stress_utilisation: float = 1.0
    market_multiple: float = 10.0  # market supply over the vault's holding of the asset
    daily_exit: float = 0.002  # median fraction of the vault exiting on a day
    exit_dispersion: float = 1.0  # sigma of the exits' lognormal
    stress_exit: float = 0.10  # fraction exiting on a stress episode's first day
    weight: float = 0.40  # the asset's weight in the vault

    def __post_init__(self) -> None:
        for name in ("target_utilisation", "stress_utilisation", "fee", "weight"):
            value = getattr(self, name)
            if not 0.0 <= value <= 1.0:
                raise ValueError(f"{name} must be within [0, 1], got {value}")
        if not 0.0 < self.target_utilisation < 1.0:
            raise ValueError("target_utilisation must be strictly between 0 and 1")
        if self.stress_days <= 0 or self.market_multiple <= 0 or self.stress_per_year < 0:
            raise ValueError("stress_days and market_multiple must be positive, stress_per_year >= 0")


def _logit(u: float) -> float:
    return float(np.log(u / (1.0 - u)))


def simulate_market(model: LendingModel, paths: int, days: int, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Utilisation ``[paths, days]`` and the stress-onset mask of the same shape."""
    rng = np.random.default_rng(seed)
    onset = rng.random((paths, days)) < model.stress_per_year / DAYS_PER_YEAR
    # Each onset starts an episode whose length is geometric with the stated mean.
    length = rng.geometric(1.0 / model.stress_days, size=(paths, days))
    in_stress = np.zeros((paths, days), dtype=bool)
    remaining = np.zeros(paths, dtype=int)
    for t in range(days):
        remaining = np.where(onset[:, t], np.maximum(remaining, length[:, t]), remaining)
        in_stress[:, t] = remaining > 0
        remaining = np.maximum(remaining - 1, 0)
    centre = _logit(model.target_utilisation)
    x = np.full(paths, centre)
    noise = rng.standard_normal((paths, days)) * model.volatility
    utilisation = np.empty((paths, days))
    for t in range(days):
        x = x + model.reversion * (centre - x) + noise[:, t]
        calm = 1.0 / (1.0 + np.exp(-x))
        utilisation[:, t] = np.where(in_stress[:, t], model.stress_utilisation, calm)
    return utilisation, onset


def simulate_exits(model: LendingModel, onset: np.ndarray, seed: int = 0) -> np.ndarray:
    """Fraction of the vault exiting each day, ``[paths, days]``; runs on stress onsets."""
    rng = np.random.default_rng(seed + 1)
    daily = model.daily_exit * np.exp(model.exit_dispersion * rng.standard_normal(onset.shape))
    return np.minimum(np.where(onset, daily + model.stress_exit, daily), 1.0)


@dataclasses.dataclass(frozen=True)
class FrontierPoint:
    buffer: float
    yield_bps: float  # a year, of the vault's value
    shortfall_pct: float  # of all exit value of the asset, delivered in market shares
    worst_day_pct: float  # the largest share of one day's exit delivered in kind
    days_short_pct: float  # share of days with exits where some part went in kind


def frontier(
    model: LendingModel,
    buffers: Sequence[float] = DEFAULT_BUFFERS,
    paths: int = 2_000,
    days: int = DAYS_PER_YEAR,
    seed: int = 0,
) -> list[FrontierPoint]:
    """Yield against exit shortfall for each idle buffer, on the same market and exit paths."""
    utilisation, onset = simulate_market(model, paths, days, seed)
    exits = simulate_exits(model, onset, seed)
    liquidity = (1.0 - utilisation) * model.market_multiple
    supply_apr = model.curve.supply_rate(utilisation, model.fee)
    points = []
    for buffer in buffers:
        if not 0.0 <= buffer <= 1.0:
            raise ValueError(f"a buffer must be within [0, 1], got {buffer}")
        lent = 1.0 - buffer
        lent_part = exits * lent  # holdings of the asset, per day
        in_kind = np.maximum(lent_part - liquidity, 0.0)
        yield_bps = float(np.mean(supply_apr * lent)) * model.weight * 10_000
        total_exit = float(exits.sum())
        share_in_kind = in_kind / np.where(exits > 0, exits, 1.0)
        points.append(
            FrontierPoint(
                buffer=buffer,
                yield_bps=yield_bps,
                shortfall_pct=100.0 * float(in_kind.sum()) / total_exit if total_exit > 0 else 0.0,
                worst_day_pct=100.0 * float(share_in_kind.max()),
                days_short_pct=100.0 * float(np.mean(in_kind > 0)),
            )
        )
    return points


def format_frontier(points: Sequence[FrontierPoint]) -> str:
    header = f"{'idle buffer':>11} {'yield bps/yr':>12} {'exit in kind %':>14} {'worst day %':>11} {'days short %':>12}"
    lines = [header, "-" * len(header)]
    for p in points:
        lines.append(
            f"{p.buffer:>10.0%} {p.yield_bps:>12.1f} {p.shortfall_pct:>14.3f} {p.worst_day_pct:>11.2f} {p.days_short_pct:>12.3f}"
        )
    return "\n".join(lines)


def plot_frontier(points: Sequence[FrontierPoint], path: str | Path, title: str = "") -> Path:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fig, ax = plt.subplots(figsize=(7, 4.5))
    x = [p.shortfall_pct for p in points]
    y = [p.yield_bps for p in points]
    ax.plot(x, y, marker="o")
    for p in points:
        ax.annotate(f"{p.buffer:.0%}", (p.shortfall_pct, p.yield_bps), textcoords="offset points", xytext=(5, -10))
    ax.set_xlabel("exit value delivered in market shares (in kind), %")
    ax.set_ylabel("lending yield, bps of the vault a year")
    ax.set_title(title or "Idle buffer: yield against exit shortfall")
    ax.grid(True, alpha=0.3)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


def build_parser(prog: str | None = None) -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog=prog, description=__doc__.split("\n\n")[0], formatter_class=argparse.ArgumentDefaultsHelpFormatter
    )
    parser.add_argument("--paths", type=int, default=2_000)
    parser.add_argument("--days", type=int, default=DAYS_PER_YEAR)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--rate", type=float, default=None, help="a constant borrow rate instead of the kinked curve")
    parser.add_argument("--stress-per-year", type=float, default=LendingModel.stress_per_year)
    parser.add_argument("--stress-utilisation", type=float, default=LendingModel.stress_utilisation)
    parser.add_argument("--market-multiple", type=float, default=LendingModel.market_multiple)
    parser.add_argument("--stress-exit", type=float, default=LendingModel.stress_exit)
    parser.add_argument("--weight", type=float, default=LendingModel.weight)
    parser.add_argument("--plot", default="docs/lending_frontier.png", help="PNG to write ('' for none)")
    return parser


def main(argv: Sequence[str] | None = None, prog: str | None = None) -> int:
    args = build_parser(prog).parse_args(argv)
    if args.paths < 1 or args.days < 1:
        raise SystemExit("--paths and --days must be at least 1")
    curve = RateCurve(constant=args.rate) if args.rate is not None else RateCurve()
    try:
        model = LendingModel(
            curve=curve,
            stress_per_year=args.stress_per_year,
            stress_utilisation=args.stress_utilisation,
            market_multiple=args.market_multiple,
            stress_exit=args.stress_exit,
            weight=args.weight,
        )
    except ValueError as err:
        raise SystemExit(str(err)) from None
    points = frontier(model, paths=args.paths, days=args.days, seed=args.seed)
    print(
        f"lending frontier: {args.paths} paths x {args.days} days; utilisation around "
        f"{model.target_utilisation:.0%}, {model.stress_per_year:g} stress episodes a year at "
        f"{model.stress_utilisation:.0%} (mean {model.stress_days:g} days) with {model.stress_exit:.0%} of the vault "
        f"exiting on their first day; market {model.market_multiple:g}x the vault's holding; asset weight {model.weight:.0%}"
    )
    print(format_frontier(points))
    if args.plot:
        print(f"plot: {plot_frontier(points, args.plot)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(prog="python -m ballast.lending_frontier"))
