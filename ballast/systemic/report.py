"""Measures, experiments, tables and plots of the many-vaults simulator (:mod:`ballast.systemic.model`).

Every experiment of one run draws its price paths once and reuses them (and the simulator's seed)
for each variant, so differences between rows come from the vaults, not from the paths.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np
from tqdm import tqdm

from ballast.backtest import DAY, Policy, _pyplot
from ballast.constants import MAX_BPS
from ballast.systemic.model import (
    NO_MITIGATION,
    FloatArray,
    Market,
    Mitigation,
    SystemicResult,
    VaultGroup,
    simulate_market,
)

__all__ = [
    "POLICIES",
    "Scenario",
    "compare_pools",
    "contagion",
    "crowding",
    "format_rows",
    "measures",
    "mitigations",
    "mitigations_at_shock",
    "plot_crowding",
    "plot_mitigations",
    "plot_shock",
    "shock",
    "vault_groups",
    "with_jump",
]

#: The vault policies the command offers (the backtester's defaults: 30-day calendar, 300 bps bands).
POLICIES: dict[str, Policy] = {
    "calendar": Policy("calendar", "calendar", interval=30 * DAY),
    "threshold": Policy("threshold", "threshold", bands_bps=300.0, outer_bands_bps=300.0),
    "hybrid": Policy("hybrid", "hybrid", interval=7 * DAY, bands_bps=300.0, outer_bands_bps=900.0),
}


def vault_groups(policy: str, count: int, value: float) -> list[VaultGroup]:
    """``count`` vaults of one policy, or ``"mixed"``: the three policies in turn."""
    if policy != "mixed":
        return [VaultGroup(POLICIES[policy], count, value)]
    names = list(POLICIES)
    return [VaultGroup(POLICIES[n], count // 3 + (i < count % 3), value) for i, n in enumerate(names)]


def with_jump(prices: FloatArray, step: int, log_size: float) -> FloatArray:
    """``prices`` with every non-numeraire asset jumping by ``exp(log_size)`` at ``step`` (a copy)."""
    out = prices.copy()
    out[step:, :, 1:] *= np.exp(log_size)
    return out


def measures(result: SystemicResult) -> dict[str, float]:
    """The run's systemic measures (means over paths, vaults and pools).

    * ``sync``: in steps where at least one vault trades, the share of vaults that trade;
    * ``pressure_bps``: mean ``|ln(pool / external)|`` after trading, in those burst steps;
    * ``max_pressure_bps``: its largest value over every step, path and pool;
    * ``var_ratio``: variance of the pool's log returns (after-trade prices) over the external's;
    * ``cost_bps``: each vault's total cost, bps of its initial value;
    * ``rebalances``: rebalances per vault.
    """
    trading = result.trading[1:]
    count = trading.sum(axis=2)  # (steps, paths)
    burst = count > 0
    vaults = max(trading.shape[2], 1)
    deviation = np.abs(np.log(result.pool[1:] / result.external[1:])) * MAX_BPS  # (steps, paths, pools)
    pool_returns = np.diff(np.log(result.pool), axis=0)
    external_returns = np.diff(np.log(result.external), axis=0)
    return {
        "sync": float((count[burst] / vaults).mean()) if burst.any() else 0.0,
        "pressure_bps": float(deviation[burst].mean()) if burst.any() else 0.0,
        "max_pressure_bps": float(deviation.max()),
        "var_ratio": float(pool_returns.var() / external_returns.var()),
        "cost_bps": float((result.cost / result.initial).mean() * MAX_BPS) if result.initial.size else 0.0,
        "rebalances": float(result.rebalances.mean()) if result.initial.size else 0.0,
    }


@dataclass(frozen=True)
class Scenario:
    """One experiment's common inputs: paths, market, vault policy and size, simulator seed."""

    prices: FloatArray
    market: Market
    dt_seconds: float
    policy: str = "calendar"
    value: float = 1_000_000.0
    seed: int = 0

    def run(self, count: int, mitigation: Mitigation = NO_MITIGATION, **kwargs) -> SystemicResult:
        """Simulates ``count`` vaults on the scenario's paths (``kwargs``: :func:`simulate_market`'s)."""
        prices = kwargs.pop("prices", self.prices)
        groups = vault_groups(self.policy, count, self.value)
        return simulate_market(prices, groups, self.market, self.dt_seconds, mitigation, self.seed, **kwargs)


def _progress(total: int, desc: str, show: bool):
    """A tqdm bar on stderr (only on a terminal and when asked)."""
    return tqdm(total=total, desc=desc, unit="run", disable=not show or not sys.stderr.isatty())


def _runs(items: Sequence, run: Callable, desc: str, progress: bool) -> list:
    """``[run(item) for item in items]`` behind a progress bar."""
    out = []
    with _progress(len(items), desc, progress) as bar:
        for item in items:
            out.append(run(item))
            bar.update()
    return out


def crowding(scenario: Scenario, counts: Sequence[int], progress: bool = False) -> list[tuple[int, dict[str, float]]]:
    """The measures for each number of identical vaults (N = 0 is the pools with no vaults)."""
    results = _runs(counts, scenario.run, "crowding", progress)
    return [(n, measures(r)) for n, r in zip(counts, results, strict=True)]


def mitigations(
    scenario: Scenario, count: int, variants: dict[str, Mitigation], progress: bool = False
) -> list[tuple[str, dict[str, float]]]:
    """The measures of ``count`` vaults under each mitigation, on the same paths."""
    results = _runs(list(variants.items()), lambda kv: scenario.run(count, kv[1]), "mitigations", progress)
    return [(name, measures(r)) for name, r in zip(variants, results, strict=True)]


def shock(
    scenario: Scenario,
    counts: Sequence[int],
    step: int,
    log_size: float,
    window: int = 5,
    mitigation: Mitigation = NO_MITIGATION,
):
    """Pool against external price around a jump of every risky asset at ``step``.

    Returns ``(rows, results)``: per N, the measures plus ``overshoot_bps``, the largest move of
    the pool beyond the external price in the jump's direction over ``[step, step + window)``
    (positive: the pool overshoots, vaults amplify the jump; 0 or below: they damp it), and
    ``pushback_bps``, the largest move against the jump's direction (vaults buying the dip).
    """
    prices = with_jump(scenario.prices, step, log_size)
    results = [scenario.run(n, mitigation, prices=prices) for n in counts]
    rows = []
    sign = np.sign(log_size)
    for n, r in zip(counts, results, strict=True):
        gap = sign * np.log(r.pool[step : step + window] / r.external[step : step + window]) * MAX_BPS
        rows.append((n, measures(r) | {"overshoot_bps": float(gap.max()), "pushback_bps": float(-gap.min())}))
    return rows, results


def mitigations_at_shock(
    scenario: Scenario, count: int, variants: dict[str, Mitigation], step: int, log_size: float
) -> dict[str, dict[str, float]]:
    """Each mitigation's ``overshoot_bps`` and ``pushback_bps`` (:func:`shock`) with ``count`` vaults."""
    out = {}
    for name, mitigation in variants.items():
        ((_, row),) = shock(scenario, [count], step, log_size, mitigation=mitigation)[0]
        out[name] = {key: row[key] for key in ("overshoot_bps", "pushback_bps")}
    return out


def compare_pools(
    scenario: Scenario,
    shock_scenario: Scenario,
    counts: Sequence[int],
    step: int,
    log_size: float,
    range_bps: float,
    progress: bool = False,
) -> list[tuple[str, dict[str, float]]]:
    """Constant-product against concentrated pools of the same starting value (both sides'
    ``depth``), on the same paths: for each kind and N, the crowding measures of ``scenario``
    and the shock's overshoot and pushback of ``shock_scenario``."""
    rows = []
    items = [(kind, n) for kind in ("cp", "v3") for n in counts]

    def run(item):
        kind, n = item
        market = replace(scenario.market, pool_kind=kind, range_bps=range_bps)
        calm = measures(replace(scenario, market=market).run(n))
        ((_, hit),) = shock(replace(shock_scenario, market=market), [n], step, log_size)[0]
        label = "constant product" if kind == "cp" else f"v3 +/-{range_bps / 100:g}%"
        return label, n, calm | {key: hit[key] for key in ("overshoot_bps", "pushback_bps")}

    for label, n, m in _runs(items, run, "pools", progress):
        rows.append((f"{label}, N={n}", m))
    return rows


def contagion(scenario: Scenario, count: int, step: int, log_size: float) -> dict[str, float]:
    """Vault 0 shuts down at a jump of ``log_size`` at ``step`` and sells everything on the pools.

    Compared with the same paths and seed without the liquidation: the liquidating vault's own
    cost of the exit, the pool's deviation after the dump, and the other vaults' extra cost (their
    final value lost at external prices), bps of initial value.
    """
    prices = with_jump(scenario.prices, step, log_size)
    calm = scenario.run(count, prices=prices)
    hit = scenario.run(count, prices=prices, liquidate=(0, step))
    others = slice(1, None)
    lost = (calm.values[-1][:, others] - hit.values[-1][:, others]) / hit.initial[others] * MAX_BPS
    dev = np.log(hit.pool[step] / hit.external[step]) * MAX_BPS
    return {
        "exit_cost_bps": float(hit.step_cost[step, :, 0].mean() / hit.initial[0] * MAX_BPS),
        "pool_gap_bps": float(dev.min()),
        "others_extra_cost_bps": float(lost.mean()) if count > 1 else 0.0,
        "others_worst_bps": float(lost.max()) if count > 1 else 0.0,
    }


# ----------------------------------------------------------------------- tables


def format_rows(first: str, rows: Sequence[tuple[object, dict[str, float]]], keys: Sequence[str]) -> str:
    """A Markdown table: one row per ``(label, measures)``, one column per key."""
    head = f"| {first} | " + " | ".join(keys) + " |"
    rule = "|" + "---|" * (len(keys) + 1)
    body = [f"| {label} | " + " | ".join(f"{m[k]:.3g}" for k in keys) + " |" for label, m in rows]
    return "\n".join([head, rule, *body])


# ------------------------------------------------------------------------ plots


def _save(plt, fig, ax, path: Path, title: str) -> Path:
    """Titles ``ax``, writes ``fig`` to ``path`` (small PNG) and closes it."""
    ax.set_title(title, fontsize=9)
    fig.tight_layout()
    fig.savefig(path, dpi=80)
    plt.close(fig)
    return path


def plot_shock(results: Sequence[SystemicResult], counts: Sequence[int], step: int, path: Path, title: str) -> Path:
    """Pool price against external price (path 0, first pooled asset) around the jump."""
    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(7, 4))
    lo, hi = max(step - 3, 0), step + 8
    steps = np.arange(lo, hi)
    ax.plot(steps, results[0].external[lo:hi, 0, 0], "k-", lw=2, label="external")
    for n, r in zip(counts, results, strict=True):
        ax.plot(steps, r.pool[lo:hi, 0, 0], "o--", ms=3, label=f"pool, {n} vaults")
    ax.set_xlabel("step (day)")
    ax.set_ylabel("price (numeraire)")
    ax.legend(fontsize=8)
    return _save(plt, fig, ax, path, title)


def plot_crowding(rows: Sequence[tuple[int, dict[str, float]]], path: Path, title: str) -> Path:
    """Cost per vault against N."""
    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(6, 4))
    shown = [(n, m) for n, m in rows if n > 0]
    ax.plot([n for n, _ in shown], [m["cost_bps"] for _, m in shown], "o-")
    ax.set_xscale("log")
    ax.set_xlabel("vaults N (same policy, same pools)")
    ax.set_ylabel("cost per vault, bps of value")
    ax.grid(alpha=0.3)
    return _save(plt, fig, ax, path, title)


def plot_mitigations(rows: Sequence[tuple[str, dict[str, float]]], path: Path, title: str) -> Path:
    """Synchronisation, price pressure, cost and rebalances per vault under each mitigation (a
    mitigation that stops the vaults trading is cheap: the last panel shows it)."""
    plt = _pyplot()
    fig, axes = plt.subplots(1, 4, figsize=(13, 3.5))
    names = [name for name, _ in rows]
    for ax, key, label in zip(
        axes,
        ("sync", "pressure_bps", "cost_bps", "rebalances"),
        ("synchronisation", "pressure in bursts, bps", "cost per vault, bps", "rebalances per vault"),
    ):
        ax.bar(names, [m[key] for _, m in rows])
        ax.set_title(label, fontsize=9)
        ax.tick_params(axis="x", labelrotation=30, labelsize=8)
    fig.suptitle(title, fontsize=9)
    fig.tight_layout()
    fig.savefig(path, dpi=80)
    plt.close(fig)
    return path
