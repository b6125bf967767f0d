"""Both routes on the backtester's paths: pools (``ballast.backtest.simulate``) and Dutch auctions.

``python -m ballast.auction_model`` runs the backtester's default benchmark (its GBM, 4 assets at
40/30/20/10, a threshold trigger trading back to target) twice on the same price paths: once with
every rebalance on the pools (the backtester's own :func:`ballast.backtest.simulate`, its
proportional ``cost_bps`` plus the rebalance's gas from ``ballast.cost``), once with every rebalance
sold by auction (:func:`simulate_auctions`), and prints the cost per route in bps of value traded
and in bps a year of the vault, with the model's assumptions.

The auction model (the keeper's, :mod:`ballast.route`, with the market moving during the auction):

* at a due step the auction opens with lots sized as the contract sizes them (each surplus paired
  greedily with each deficit, to the targets; pairs under ``min_lot_usd`` left out and left drifting);
* during the auction the market moves block by block (``block_seconds``) by the path model's own
  GBM (same drifts, volatilities and correlations, at the block's step); the oracle starts within
  ``oracle_deviation_bps`` of the market (uniform, in log) and follows it as a Chainlink feed does:
  it is updated to the market when the market has moved more than ``oracle_deviation_bps`` from it;
* a lot selling ``i`` for ``j`` fills, whole, at the first block where the market's price of ``i`` in
  ``j`` over the oracle's, ``g``, is at least ``m(t)`` times ``1 + margin + fill gas / lot value``:
  a filler's margin and its gas (which the filler pays, and recovers in the discount);
* the vault loses, at market prices, ``lot value * (1 - m(t) / g)`` at the fill; the keeper pays
  ``open`` and ``close`` gas per auction (``ballast.route.AUCTION_GAS``, measured receipts); lots
  that never fill before the TTL are not traded (their drift stays until the trigger's next look);
* the fill's price moves are used only to time and price the fills: holdings are valued at the
  step's prices, as the backtester's own cost is; the vault's per-fill checks are not modelled
  (on chain a threshold vault stops taking fills once every asset is back inside its band,
  TECH_SPEC "Auctions", so real auctions trade less than to target); waiting costs nothing
  beyond the paths' own moves.
"""

from __future__ import annotations

import argparse
import dataclasses
import math
import sys
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from ballast.backtest import DAY, GBM, BacktestConfig, Policy, ideal_values, simulate
from ballast.constants import MAX_BPS, SECONDS_PER_YEAR
from ballast.cost import rebalance_gas
from ballast.policy import Trigger, needs_rebalance_np
from ballast.route import AUCTION_GAS, BLOCK_SECONDS, DEFAULT_ETH_USD, DEFAULT_FILLER_MARGIN_BPS, Curve

FloatArray = np.ndarray


@dataclass(frozen=True)
class AuctionModel:
    """The auction's curve, the fillers and the oracle of :func:`simulate_auctions`."""

    curve: Curve = Curve()
    filler_margin_bps: float = DEFAULT_FILLER_MARGIN_BPS
    oracle_deviation_bps: float = 50.0  # Chainlink's ETH/USD and BTC/USD deviation threshold
    block_seconds: int = BLOCK_SECONDS
    gas_price_gwei: float = 10.0
    eth_usd: float = float(DEFAULT_ETH_USD)

    @property
    def usd_per_gas(self) -> float:
        return self.gas_price_gwei * 1e-9 * self.eth_usd

    @property
    def blocks(self) -> int:
        return self.curve.ttl // self.block_seconds

    def multipliers(self) -> FloatArray:
        """``m`` at each block after opening, shape (blocks,)."""
        return np.array([self.curve.multiplier(b * self.block_seconds) for b in range(1, self.blocks + 1)])


@dataclass
class AuctionResults:
    """Per-path totals of :func:`simulate_auctions` (USD unless stated), shape (paths,)."""

    values: FloatArray  # (steps + 1, paths)
    cost: FloatArray  # discounts at market prices plus the keeper's gas
    gas: FloatArray  # the keeper's gas (open + close)
    traded: FloatArray  # sum over fills of lot value / vault value
    traded_usd: FloatArray
    auctions: FloatArray
    lots_offered: FloatArray
    lots_filled: FloatArray
    fill_seconds: FloatArray  # sum over fills
    price_vs_oracle: FloatArray  # sum over fills of m (1 = the oracle)


def greedy_lots(surplus: FloatArray, deficit: FloatArray) -> FloatArray:
    """The contract's pairing, vectorised over paths: each surplus (paths, n) matched with each
    deficit in asset order; returns the pairs' USD, shape (paths, n, n) (sell ``i``, buy ``j``)."""
    surplus, deficit = surplus.copy(), deficit.copy()
    n = surplus.shape[1]
    lots = np.zeros((surplus.shape[0], n, n))
    for i in range(n):
        for j in range(n):
            pair = np.minimum(surplus[:, i], deficit[:, j])
            surplus[:, i] -= pair
            deficit[:, j] -= pair
            lots[:, i, j] = pair
    return lots


def market_during_auction(model: GBM, auction: AuctionModel, rng: np.random.Generator, events: int) -> FloatArray:
    """The market's log price over the oracle's at each block of ``events`` auctions, shape
    (blocks, events, n): the oracle starts within the deviation threshold and is updated to the
    market whenever the market moves beyond it."""
    blocks = auction.blocks
    step = dataclasses.replace(model, dt_seconds=float(auction.block_seconds))
    log_market = np.cumsum(step.log_returns(rng, events, blocks), axis=0)
    threshold = math.log1p(auction.oracle_deviation_bps / MAX_BPS)
    log_oracle = rng.uniform(-threshold, threshold, size=(events, model.n_assets))  # market starts at 0
    gaps = np.empty_like(log_market)
    for b in range(blocks):
        stale = np.abs(log_market[b] - log_oracle) > threshold
        log_oracle = np.where(stale, log_market[b], log_oracle)
        gaps[b] = log_market[b] - log_oracle
    return gaps


def fill_lots(
    lots: FloatArray, log_gaps: FloatArray, auction: AuctionModel
) -> tuple[FloatArray, FloatArray, FloatArray]:
    """When each lot fills and at what: ``lots`` (events, n, n) USD, ``log_gaps`` (blocks, events, n).

    Returns ``(block, multiplier, loss)``, each (events, n, n): the fill's block index (-1: never
    or no lot), ``m`` there, and the vault's loss at market prices, ``value * (1 - m / g)``."""
    log_m = np.log(auction.multipliers())
    fill_gas = AUCTION_GAS["fill"] * auction.usd_per_gas
    with np.errstate(divide="ignore"):
        log_threshold = np.log1p(auction.filler_margin_bps / MAX_BPS + fill_gas / lots)  # inf where no lot
    pair_gap = log_gaps[:, :, :, None] - log_gaps[:, :, None, :]  # (blocks, events, i, j): log g_ij
    crosses = pair_gap >= log_m[:, None, None, None] + log_threshold[None]
    first = np.argmax(crosses, axis=0)
    filled = crosses.any(axis=0) & (lots > 0)
    block = np.where(filled, first, -1)
    at = np.where(filled, first, 0)
    m = np.exp(log_m[at])
    g = np.exp(np.take_along_axis(pair_gap, at[None], axis=0)[0])
    loss = np.where(filled, lots * (1.0 - m / g), 0.0)
    return block, np.where(filled, m, 0.0), loss


def simulate_auctions(
    policy: Policy,
    prices: FloatArray,
    config: BacktestConfig,
    model: GBM,
    auction: AuctionModel,
    rng: np.random.Generator,
    dt_seconds: float = DAY,
) -> AuctionResults:
    """Runs a threshold ``policy`` over ``prices`` (steps + 1, paths, n) selling each due
    rebalance by auction (the module's model); the trigger and the holdings as in
    :func:`ballast.backtest.simulate`."""
    if policy.kind != "threshold" or policy.mode != "target" or policy.check_steps != 1:
        raise ValueError("the auction model runs threshold policies trading to target, checked every step")
    targets = config.targets
    steps, paths, n = prices.shape
    steps -= 1
    units = (config.initial_value * targets) / prices[0]
    values = np.empty((steps + 1, paths))
    values[0] = config.initial_value
    zeros = lambda: np.zeros(paths)  # noqa: E731
    out = AuctionResults(values, *(zeros() for _ in range(9)))
    bands, outer = policy.bands(n)
    last = np.zeros(paths)
    min_lot = auction.curve.min_lot_usd / 1e18
    keeper_gas = (AUCTION_GAS["open"] + AUCTION_GAS["close"]) * auction.usd_per_gas
    for k in range(1, steps + 1):
        p = prices[k]
        held = units * p
        value = held.sum(axis=1)
        values[k] = value
        drift = held / value[:, None] - targets
        due, _ = needs_rebalance_np(
            Trigger.THRESHOLD, drift, bands, outer, k * dt_seconds, last, policy.interval, None, config.vol_reference
        )
        goal = targets * value[:, None]
        lots = greedy_lots(np.maximum(held - goal, 0.0), np.maximum(goal - held, 0.0))
        lots = np.where(lots >= min_lot, lots, 0.0)
        opened = due & (lots.sum(axis=(1, 2)) > 0)
        if not opened.any():
            continue
        idx = np.flatnonzero(opened)
        block, m, loss = fill_lots(lots[idx], market_during_auction(model, auction, rng, idx.size), auction)
        filled_lots = np.where(block >= 0, lots[idx], 0.0)
        moved = filled_lots.sum(axis=2) - filled_lots.sum(axis=1)  # USD sold per asset, minus bought
        fee = loss.sum(axis=(1, 2)) + keeper_gas
        new_held = held[idx] - moved
        new_value = value[idx] - fee
        units[idx] = (new_held * (new_value / new_held.sum(axis=1))[:, None]) / p[idx]
        values[k, idx] = new_value
        any_fill = (block >= 0).any(axis=(1, 2))
        last[idx] = np.where(any_fill, k * dt_seconds, last[idx])
        out.cost[idx] += fee
        out.gas[idx] += keeper_gas
        out.traded[idx] += filled_lots.sum(axis=(1, 2)) / value[idx]
        out.traded_usd[idx] += filled_lots.sum(axis=(1, 2))
        out.auctions[idx] += 1
        out.lots_offered[idx] += (lots[idx] > 0).sum(axis=(1, 2))
        out.lots_filled[idx] += (block >= 0).sum(axis=(1, 2))
        out.fill_seconds[idx] += np.where(block >= 0, (block + 1) * auction.block_seconds, 0).sum(axis=(1, 2))
        out.price_vs_oracle[idx] += m.sum(axis=(1, 2))
    return out


@dataclass
class RouteRow:
    route: str
    rebalances_per_year: float
    turnover: float  # value traded a year, fraction of the vault
    cost_bps_traded: float
    cost_bps_year: float
    gas_share: float
    note: str

    @property
    def turnover_pct(self) -> float:
        return 100 * self.turnover


def compare(
    paths: int = 2_000,
    steps: int = 365,
    seed: int = 0,
    config: BacktestConfig | None = None,
    band_bps: float = 300.0,
    auction: AuctionModel | None = None,
    model: GBM | None = None,
) -> tuple[list[RouteRow], dict]:
    """Pools and auctions on the same ``paths`` GBM paths (``model``, default the backtester's):
    one row per route and the figures."""
    config = config or BacktestConfig()
    auction = auction or AuctionModel()
    model = model or GBM()
    rng = np.random.default_rng(seed)
    prices = model.generate(rng, paths, steps)
    years = steps * model.dt_seconds / SECONDS_PER_YEAR
    policy = Policy(f"threshold {band_bps:g}bp", "threshold", bands_bps=band_bps, outer_bands_bps=band_bps)
    n = model.n_assets
    pool_gas = rebalance_gas(n, n - 1) * auction.usd_per_gas  # at most n - 1 swaps, as lots
    pools = simulate(policy, prices, dataclasses.replace(config, gas_usd=pool_gas), model.dt_seconds)
    auctions = simulate_auctions(policy, prices, config, model, auction, np.random.default_rng(seed + 1))
    ideal = ideal_values(prices, config)
    # Value traded in USD per path: the backtester records traded / value per rebalance; its cost
    # is cost_bps of it plus gas, so the USD traded is (cost - gas * rebalances) / cost_bps.
    pool_usd = (pools.cost - pool_gas * pools.rebalances) / (config.cost_bps / MAX_BPS)
    pool_traded = float(pool_usd.sum())
    rows = [
        RouteRow(
            "pools",
            float(pools.rebalances.mean() / years),
            float(pools.traded.mean() / years),
            float(pools.cost.sum() / pool_traded * MAX_BPS),
            float(pools.cost.mean() / config.initial_value / years * MAX_BPS),
            float((pool_gas * pools.rebalances).sum() / pools.cost.sum()),
            f"{config.cost_bps:g} bps of value traded + ${pool_gas:,.2f} gas a rebalance",
        ),
    ]
    filled = auctions.lots_filled.sum()
    rows.append(
        RouteRow(
            "auction",
            float(auctions.auctions.mean() / years),
            float(auctions.traded.mean() / years),
            float(auctions.cost.sum() / auctions.traded_usd.sum() * MAX_BPS),
            float(auctions.cost.mean() / config.initial_value / years * MAX_BPS),
            float(auctions.gas.sum() / auctions.cost.sum()),
            f"{filled / auctions.lots_offered.sum():.1%} of {auctions.lots_offered.sum():,.0f} lots filled, "
            f"mean fill {auctions.fill_seconds.sum() / filled / 60:.1f} min at "
            f"{auctions.price_vs_oracle.sum() / filled * MAX_BPS:,.1f} bps of the oracle",
        )
    )
    gap = {
        "pools": float((1 - pools.values[-1] / ideal[-1]).mean()),
        "auction": float((1 - auctions.values[-1] / ideal[-1]).mean()),
    }
    return rows, {"pool_gas": pool_gas, "years": years, "gap": gap, "policy": policy}


def format_rows(rows: Sequence[RouteRow]) -> str:
    head = f"{'route':<8} {'rebal/yr':>9} {'turnover/yr':>12} {'bps traded':>11} {'bps/yr vault':>13} {'gas share':>10}  notes"
    lines = [head, "-" * len(head)]
    for r in rows:
        lines.append(
            f"{r.route:<8} {r.rebalances_per_year:>9.2f} {r.turnover_pct:>11.1f}% {r.cost_bps_traded:>11.1f} "
            f"{r.cost_bps_year:>13.2f} {r.gas_share:>9.1%}  {r.note}"
        )
    return "\n".join(lines)


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m ballast.auction_model", description=__doc__.split("\n\n")[0])
    p.add_argument("--paths", type=int, default=2_000)
    p.add_argument("--steps", type=int, default=365, help="days")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--band-bps", type=float, default=300.0)
    p.add_argument("--value", type=float, default=BacktestConfig().initial_value, help="vault value, USD")
    p.add_argument("--cost-bps", type=float, default=BacktestConfig().cost_bps, help="pools: fee + impact")
    p.add_argument("--gas-gwei", type=float, default=10.0)
    p.add_argument("--eth-usd", type=float, default=float(DEFAULT_ETH_USD))
    p.add_argument("--filler-margin-bps", type=float, default=float(DEFAULT_FILLER_MARGIN_BPS))
    p.add_argument("--oracle-deviation-bps", type=float, default=50.0)
    return p


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    for name in ("paths", "steps"):
        if getattr(args, name) <= 0:
            print(f"--{name}: must be positive", file=sys.stderr)
            return 2
    config = BacktestConfig(cost_bps=args.cost_bps, initial_value=args.value)
    auction = AuctionModel(
        filler_margin_bps=args.filler_margin_bps,
        oracle_deviation_bps=args.oracle_deviation_bps,
        gas_price_gwei=args.gas_gwei,
        eth_usd=args.eth_usd,
    )
    rows, info = compare(args.paths, args.steps, args.seed, config, args.band_bps, auction)
    c = auction.curve
    print(
        f"{args.paths:,} GBM paths x {args.steps} days (the backtester's defaults: 4 assets 40/30/20/10, vols "
        f"5/60/80/100 %), vault ${args.value:,.0f}, {info['policy'].name} to target, seed {args.seed}"
    )
    print(
        f"pools: {args.cost_bps:g} bps of value traded (fee + impact) + rebalance gas ${info['pool_gas']:,.2f} "
        f"(ballast.cost, 3 swaps); gas {args.gas_gwei:g} gwei, ETH ${args.eth_usd:,.0f}"
    )
    print(
        f"auction: {c.premium_bps / 100:+.2f}% -> {-c.end_discount_bps / 100:+.2f}% of the oracle over "
        f"{c.length // 60} min, TTL {c.ttl // 60} min, lots >= ${c.min_lot_usd / 1e18:,.0f}; fillers need "
        f"{args.filler_margin_bps:g} bps + their gas ({AUCTION_GAS['fill']:,} gas = "
        f"${AUCTION_GAS['fill'] * auction.usd_per_gas:,.2f}) over market prices; oracle follows the market "
        f"at a {args.oracle_deviation_bps:g} bps deviation threshold; keeper pays open + close "
        f"(${(AUCTION_GAS['open'] + AUCTION_GAS['close']) * auction.usd_per_gas:,.2f})"
    )
    print(format_rows(rows))
    print(
        "bps traded: total cost over total value traded; bps/yr vault: mean cost a year over the initial "
        "value; gap to the ideal portfolio: " + ", ".join(f"{k} {v * 100:.3f}%" for k, v in info["gap"].items())
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
