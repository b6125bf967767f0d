"""Many vaults, one market: an agent-based simulator of rebalancing vaults sharing pools.

Asset 0 is the numeraire (a stablecoin, price 1). Every other asset ``i`` trades against it on
one pool: constant-product (``x_i`` units of the asset, ``y_i`` of the numeraire; pool price
``y_i / x_i``) or one concentrated position of the same value (``Market.pool_kind``,
:mod:`ballast.systemic.pools`). The external price path (GBM, jumps or a CSV history: the backtester's price
models) is exogenous: nothing the vaults do moves it. Each step ``k``:

1. arbitrage: each pool is traded to the edge of its fee band around the external price of step
   ``k - arb_latency`` (:func:`ballast.venues.amm.arbitrage_input_np`); the arbitrageur pays the
   pool fee;
2. noise traders (optional): one signed trade per pool, ``noise`` times its asset reserve times a
   standard normal;
3. vaults: each measures its drift at the *external* price (its oracle is a feed, not the pool),
   evaluates its backtester policy (:func:`ballast.policy.needs_rebalance_np`,
   :func:`ballast.backtest.trade_keep`), and, if due and past its keeper's random delay, trades
   on the pools: sells first, then buys, in a random order of vaults that changes every step
   (the block's ordering), or, with ``Mitigation.auction``, sells its rebalance by Dutch auction
   to fillers who hedge on the pools over ``hedge_steps`` steps (:func:`auction_fills`). A vault
   forced to liquidate sells everything it holds on the pools first;
4. the pool prices after these trades are recorded (the price the next step's arbitrage corrects).

A vault's cost is the value it loses at external prices by trading (pool fee plus price impact,
negative when it trades against a stale pool at a better price) plus gas. Money is in floats
(numeraire units); this is a model, not accounting.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field, replace

import numpy as np
from numpy.typing import NDArray

from ballast.auction_model import AuctionModel
from ballast.backtest import _MIN_TRADE, _TRIGGERS, Policy, trade_keep
from ballast.constants import MAX_BPS
from ballast.policy import Trigger, needs_rebalance_np, update_variance_np
from ballast.route import AUCTION_GAS
from ballast.systemic.pools import make_pools

FloatArray = NDArray[np.float64]

__all__ = [
    "Market",
    "Mitigation",
    "NO_MITIGATION",
    "SystemicResult",
    "VaultGroup",
    "simulate_market",
]


@dataclass(frozen=True)
class VaultGroup:
    """``count`` vaults with one backtester policy (calendar, threshold or hybrid) and size."""

    policy: Policy
    count: int = 1
    value: float = 1_000_000.0

    def __post_init__(self) -> None:
        """Validates the group."""
        if self.policy.kind not in _TRIGGERS:
            raise ValueError(f"vault policies must be calendar, threshold or hybrid, got {self.policy.kind!r}")
        if self.count < 0 or self.value <= 0:
            raise ValueError("count must be >= 0 and value positive")


@dataclass(frozen=True)
class Market:
    """The shared pools, their arbitrageurs and noise traders, and the vaults' common settings.

    Attributes:
        weights_bps: Every vault's target weights, bps (asset 0 is the numeraire).
        depth: Numeraire reserve of each pool at the start (its asset reserve is ``depth / price``).
        fee_bps: Pool fee, bps of the input.
        arb_latency: Steps between an external price and the arbitrage that follows it.
        arb_to_edge: Arbitrageurs stop at the edge of the fee band (rational: the pool price
            stays within ``fee_bps`` of the external one); if False they trade the pool price
            exactly to the external price (as ``ballast.chain.market.arbitrage`` does in tests).
        noise: Noise trade per pool and step, as a share of the asset reserve (std. dev.).
        gas: Fixed cost per vault rebalance on the pools, numeraire.
        pool_kind: ``"cp"``, constant-product pools, or ``"v3"``, one concentrated position per
            pool of the same starting value (:mod:`ballast.systemic.pools`).
        range_bps: The concentrated position's half-width: ``pb / p = p / pa = 1 + range``.
        recentre: The concentrated position is re-centred when arbitrage leaves its range.
        vol_reference, vol_alpha_bps: The hybrid trigger's estimator settings.
    """

    weights_bps: tuple[int, ...] = (4_000, 3_000, 2_000, 1_000)
    depth: float = 50_000_000.0
    fee_bps: float = 30.0
    arb_latency: int = 0
    arb_to_edge: bool = True
    noise: float = 0.0
    gas: float = 10.0
    vol_reference: float = 0.6
    vol_alpha_bps: float = 500.0
    pool_kind: str = "cp"
    range_bps: float = 2_000.0
    recentre: bool = True

    def __post_init__(self) -> None:
        """Validates the market."""
        if self.pool_kind not in ("cp", "v3") or self.range_bps <= 0:
            raise ValueError("pool_kind must be 'cp' or 'v3' and range_bps positive")
        if len(self.weights_bps) < 2 or sum(self.weights_bps) != MAX_BPS or min(self.weights_bps) <= 0:
            raise ValueError(f"weights_bps: at least two positive weights summing to {MAX_BPS}")
        if self.depth <= 0 or not 0 <= self.fee_bps < MAX_BPS or self.arb_latency < 0 or self.noise < 0:
            raise ValueError("depth must be positive, fee_bps in [0, 10000), arb_latency and noise >= 0")

    @property
    def targets(self) -> FloatArray:
        """Target weights as fractions."""
        return np.asarray(self.weights_bps, dtype=np.float64) / MAX_BPS


@dataclass(frozen=True)
class Mitigation:
    """Changes to every vault's behaviour, measured on the same paths.

    Attributes:
        jitter: Mean random keeper delay, steps: a due vault trades each step with probability
            ``1 / (1 + jitter)`` (a geometric delay).
        stagger: Calendar dates: vault ``j``'s clock starts ``(j mod stagger) / stagger`` of an
            interval early, so the vaults' calendar dates are spread over ``stagger`` dates.
        fraction: If set, every vault trades only this share of its drift (partial rebalancing).
        auction: If set, every vault sells its rebalance by Dutch auction instead of trading on
            the pools (the fillers' model: :func:`auction_fills`); a forced liquidation still
            sells on the pools.
        hedge_steps: The fillers unwind the inventory a step's fills leave them on the pools in
            this many equal slices, one a step, starting with the fills' step.
    """

    jitter: float = 0.0
    stagger: int = 1
    fraction: float | None = None
    auction: AuctionModel | None = None
    hedge_steps: int = 1

    def __post_init__(self) -> None:
        """Validates the mitigation."""
        if self.jitter < 0 or self.stagger < 1 or (self.fraction is not None and not 0 < self.fraction <= 1):
            raise ValueError("jitter must be >= 0, stagger >= 1, fraction in (0, 1]")
        if self.hedge_steps < 1:
            raise ValueError("hedge_steps must be >= 1")


#: No mitigation: every vault trades as soon as its trigger is due, on its own calendar.
NO_MITIGATION = Mitigation()


@dataclass
class SystemicResult:
    """What :func:`simulate_market` records.

    Attributes:
        external: External price of each pooled asset, shape (steps + 1, paths, pools).
        pool: Pool price after each step's trades, same shape.
        trading: Whether each vault traded at each step, shape (steps + 1, paths, vaults).
        values: Each vault's value at external prices after each step, (steps + 1, paths, vaults).
        step_cost: Each vault's cost at each step (value lost at external prices by trading, plus
            gas), (steps + 1, paths, vaults); ``cost`` is its sum over steps.
        traded: Each vault's total traded notional (inputs at external prices), (paths, vaults).
        rebalances: Rebalances per vault, (paths, vaults).
        initial: Each vault's starting value, (vaults,).
        group: Index of each vault's group, (vaults,).
    """

    external: FloatArray
    pool: FloatArray
    trading: NDArray[np.bool_]
    values: FloatArray
    step_cost: FloatArray
    traded: FloatArray
    rebalances: NDArray[np.int64]
    initial: FloatArray
    group: NDArray[np.int64] = field(default_factory=lambda: np.zeros(0, dtype=np.int64))

    @property
    def cost(self) -> FloatArray:
        """Each vault's total cost, (paths, vaults)."""
        return self.step_cost.sum(axis=0)


def _vault_trades(units, price, pools, buy, sell):
    """One vault's trades on every pool, vectorised over paths; updates ``units`` and ``pools``.

    ``sell`` / ``buy`` are the numeraire values to sell / buy of each pooled asset at external
    ``price``, shape (paths, pools). Sells go first; buys are scaled down if the numeraire the
    vault then holds cannot pay for them. What a concentrated pool cannot take at its range edge
    stays with the vault. Returns the notional traded, shape (paths,).
    """
    proceeds, sold = pools.sell(sell / price)
    units[:, 1:] -= sold
    units[:, 0] += proceeds.sum(axis=1)
    total = buy.sum(axis=1)
    scale = np.where(total > units[:, 0], np.maximum(units[:, 0], 0.0) / np.maximum(total, 1e-300), 1.0)
    got, spent = pools.buy(buy * scale[:, None])
    units[:, 0] -= spent.sum(axis=1)
    units[:, 1:] += got
    return (sold * price).sum(axis=1) + spent.sum(axis=1)


def fill_level(auction: AuctionModel, lot: FloatArray, hedge_cost: FloatArray) -> FloatArray:
    """The highest multiplier at which a filler takes a lot of ``lot`` (numeraire): the external
    value it receives over the value it pays, ``1 / m``, must cover its margin, its fill gas per
    unit of lot and its hedge's cost per unit (fee and impact on the pools):
    ``m <= 1 / (1 + margin + fill gas / lot + hedge cost)``."""
    fill_gas = AUCTION_GAS["fill"] * auction.usd_per_gas
    with np.errstate(divide="ignore"):
        return 1.0 / (1.0 + auction.filler_margin_bps / MAX_BPS + fill_gas / lot + np.maximum(hedge_cost, 0.0))


def fill_multiplier(auction: AuctionModel, level: FloatArray) -> FloatArray:
    """The curve's multiplier at the first block (``block_seconds`` apart, the first one after
    the opening) at or below ``level``; NaN where none comes before the TTL (the lot is not
    filled). The oracle is the external price, which does not move within a step."""
    m = auction.multipliers()  # non-increasing
    first = np.searchsorted(-m, -np.asarray(level), side="left")
    return np.where(first < m.size, m[np.minimum(first, m.size - 1)], np.nan)


def auction_fills(auction: AuctionModel, pools, price, sells, buys, hedge_steps: int):
    """A step's auctions, all vaults at once; ``sells`` / ``buys`` (paths, vaults, pools) are the
    numeraire values each auctioning vault offers and asks for, at the external ``price``.

    The model: every lot trades one pooled asset against the numeraire (the contract pairs
    surplus with deficit assets; through the numeraire is the same to first order); lots under
    the curve's ``min_lot_usd`` are left out. The fillers net their step's inventory per asset
    (sells minus buys over every vault) and price the cost of hedging it on the pool now, in
    ``hedge_steps`` equal slices each quoted on the current pool (between slices arbitrage
    brings the pool back): ``hedge cost = 1 - proceeds(slice) / slice`` at external prices. Each
    lot fills whole at :func:`fill_multiplier` of :func:`fill_level`; the vault pays
    ``lot * m`` of what it buys per ``lot`` it sells (a loss of ``lot (1 - m)``).

    Returns ``(sell_m, buy_m, offered)``: the fill multiplier of each lot (0 where unfilled) and
    whether each vault offered any lot (opened an auction), (paths, vaults).
    """
    min_lot = auction.curve.min_lot_usd / 1e18
    sells = np.where(sells >= min_lot, sells, 0.0)
    buys = np.where(buys >= min_lot, buys, 0.0)
    net = (sells - buys).sum(axis=1)  # (paths, pools): numeraire value the fillers must sell
    slice_ = np.abs(net) / hedge_steps
    got_sell = pools.quote_sell(np.maximum(net, 0.0) / hedge_steps / price) * hedge_steps
    got_buy = pools.quote_buy(np.maximum(-net, 0.0) / hedge_steps) * price * hedge_steps
    with np.errstate(divide="ignore", invalid="ignore"):
        hedge_cost = np.where(slice_ > 0, 1.0 - np.where(net > 0, got_sell, got_buy) / np.abs(net), 0.0)
    out = []
    for lots in (sells, buys):
        m = fill_multiplier(auction, fill_level(auction, lots, hedge_cost[:, None, :]))
        out.append(np.where((lots > 0) & np.isfinite(m), m, 0.0))
    return out[0], out[1], ((sells > 0) | (buys > 0)).any(axis=2)


def _auction_step(auction, pool, ext, full, units, want, opened, hedge_queue, hedge_steps, keeper_gas, cost, traded):
    """The auctions of one step (:func:`auction_fills`): settles every filled lot in the vaults'
    ``units``, charges each vault that opened an auction (offered a lot) the keeper's open and close gas, adds
    the fillers' net inventory to ``hedge_queue`` in equal slices and records ``cost`` and
    ``traded`` (in place). Returns which vaults had a lot filled (their rebalance, for the trigger)."""
    if not opened.any():
        return np.zeros_like(opened)
    sells = np.where(opened[..., None], np.maximum(-want[..., 1:], 0.0), 0.0)
    buys = np.where(opened[..., None], np.maximum(want[..., 1:], 0.0), 0.0)
    sell_m, buy_m, offered = auction_fills(auction, pool, ext, sells, buys, hedge_steps)
    sold = np.where(sell_m > 0, sells, 0.0)
    bought = np.where(buy_m > 0, buys, 0.0)
    before = (units * full[:, None, :]).sum(axis=2)
    units[..., 1:] -= sold / ext[:, None, :]
    units[..., 0] += (sold * sell_m).sum(axis=2)
    # buys are paid from the numeraire held after the sells, scaled down if it falls short
    pay = bought.sum(axis=2)
    scale = np.where(pay > units[..., 0], np.maximum(units[..., 0], 0.0) / np.maximum(pay, 1e-300), 1.0)
    bought = bought * scale[..., None]
    units[..., 0] -= bought.sum(axis=2)
    units[..., 1:] += bought * buy_m / ext[:, None, :]
    units[..., 0] -= np.where(offered, keeper_gas, 0.0)
    cost += before - (units * full[:, None, :]).sum(axis=2)
    traded += sold.sum(axis=2) + bought.sum(axis=2)
    # the fillers hold what the vaults sold and owe what they bought: unwound on the pools
    inventory = (sold - bought * buy_m).sum(axis=1) / ext  # units, (paths, pools)
    hedge_queue += inventory / hedge_steps
    return (sold.sum(axis=2) + bought.sum(axis=2)) > 0


def simulate_market(
    prices: FloatArray,
    groups: Sequence[VaultGroup],
    market: Market,
    dt_seconds: float,
    mitigation: Mitigation = NO_MITIGATION,
    seed: int = 0,
    liquidate: tuple[int, int] | None = None,
) -> SystemicResult:
    """Runs the vaults of ``groups`` through the shared pools over ``prices``.

    Args:
        prices: External prices, shape (steps + 1, paths, assets); divided by asset 0's, which
            becomes the numeraire.
        groups: The vaults, by policy; a group may be empty.
        market: Pools, arbitrage, noise and common settings.
        dt_seconds: Step length, seconds.
        mitigation: Jitter, staggered calendars, partial rebalancing, auctions.
        seed: Seed of the random order of vaults, keeper delays and noise trades (the same seed
            draws the same numbers whatever the vaults do, so runs compare on equal terms).
        liquidate: ``(vault, step)``: that vault shuts down at that step and sells every asset it
            holds on the pools (first in the block), then never trades again.
    """
    if prices.ndim != 3 or prices.shape[0] < 2 or prices.shape[2] != len(market.weights_bps):
        raise ValueError("prices must have shape (steps + 1, paths, assets) with one asset per target weight")
    external = prices[..., 1:] / prices[..., :1]
    steps, paths, pools = external.shape[0] - 1, external.shape[1], external.shape[2]
    targets = market.targets
    n_assets = targets.size
    if mitigation.fraction is not None:
        groups = [replace(g, policy=replace(g.policy, mode="partial", fraction=mitigation.fraction)) for g in groups]
    group_of = np.concatenate([np.full(g.count, i, dtype=np.int64) for i, g in enumerate(groups)] or [[]])
    group_of = group_of.astype(np.int64)
    vaults = group_of.size
    initial = np.array([groups[g].value for g in group_of], dtype=np.float64)
    members = [np.flatnonzero(group_of == i) for i in range(len(groups))]
    if liquidate is not None and not (0 <= liquidate[0] < vaults and 1 <= liquidate[1] <= steps):
        raise ValueError(f"liquidate: vault must be in [0, {vaults}) and step in [1, {steps}], got {liquidate}")

    rng = np.random.default_rng(seed)
    pool = make_pools(
        market.pool_kind, market.depth, np.broadcast_to(external[0], (paths, pools)), market.fee_bps,
        market.range_bps, market.recentre,
    )  # fmt: skip
    auction = mitigation.auction
    hedge_queue = np.zeros((mitigation.hedge_steps, paths, pools))  # units the fillers sell (+) / buy (-)
    keeper_gas = (AUCTION_GAS["open"] + AUCTION_GAS["close"]) * auction.usd_per_gas if auction else 0.0
    full = np.concatenate([np.ones((paths, 1)), external[0]], axis=1)
    units = initial[None, :, None] * targets / full[:, None, :]  # (paths, vaults, assets)
    last = np.zeros((paths, vaults))
    for i, idx in enumerate(members):
        if groups[i].policy.kind == "calendar" and mitigation.stagger > 1:
            last[:, idx] = -(np.arange(idx.size) % mitigation.stagger) / mitigation.stagger * groups[i].policy.interval
    variance = np.full((paths, n_assets), market.vol_reference**2)
    hybrid = any(g.policy.kind == "hybrid" and g.count for g in groups)
    alive = np.ones(vaults, dtype=bool)
    act_p = 1.0 / (1.0 + mitigation.jitter)

    pool_rec = np.empty_like(external)
    pool_rec[0] = pool.price()
    trading = np.zeros((steps + 1, paths, vaults), dtype=bool)
    values = np.empty((steps + 1, paths, vaults))
    values[0] = initial
    cost = np.zeros((steps + 1, paths, vaults))
    traded = np.zeros((paths, vaults))
    rebalances = np.zeros((paths, vaults), dtype=np.int64)

    for k in range(1, steps + 1):
        # Random numbers first, always the same count, so runs on one seed stay comparable.
        order = rng.permutation(vaults)
        gate = rng.random((paths, vaults)) < act_p
        noise = rng.standard_normal((paths, pools))
        ext = external[k]
        # 1. arbitrage toward the (possibly stale) external price, to the edge of the fee band.
        seen = external[max(k - market.arb_latency, 0)]
        band = 1.0 if market.arb_to_edge else 1.0 - market.fee_bps / MAX_BPS
        pool.arbitrage(seen, band)
        # 2. noise traders: a share of the depth in units (constant product: of the asset reserve).
        if market.noise > 0:
            reserve = pool.x if market.pool_kind == "cp" else market.depth / pool.price()
            trade = market.noise * reserve * noise
            pool.sell(trade)
            pool.buy(-trade * pool.price())
        # 3. vault decisions at external prices.
        full = np.concatenate([np.ones((paths, 1)), ext], axis=1)
        held = units * full[:, None, :]
        value = held.sum(axis=2)
        drift = held / value[..., None] - targets
        if hybrid:
            update_variance_np(
                variance, full / np.concatenate([np.ones((paths, 1)), external[k - 1]], axis=1) - 1.0,
                dt_seconds, market.vol_alpha_bps, market.vol_reference,
            )  # fmt: skip
        now = k * dt_seconds
        do = np.zeros((paths, vaults), dtype=bool)
        new_weights = np.broadcast_to(targets, (paths, vaults, n_assets)).copy()
        for i, idx in enumerate(members):
            if idx.size == 0:
                continue
            policy = groups[i].policy
            d = drift[:, idx].reshape(-1, n_assets)
            vols = np.sqrt(np.repeat(variance, idx.size, axis=0)) if policy.kind == "hybrid" else None
            bands, outer = policy.bands(n_assets)
            due, _ = needs_rebalance_np(
                _TRIGGERS.get(policy.kind, Trigger.THRESHOLD), d, bands, outer, now,
                last[:, idx].reshape(-1), policy.interval, vols, market.vol_reference,
            )  # fmt: skip
            keep, gross = trade_keep(policy, np.abs(d), vols, market.vol_reference)
            keep_col = keep[:, None] if isinstance(keep, np.ndarray) else keep
            do[:, idx] = (due & (gross > _MIN_TRADE)).reshape(paths, idx.size)
            new_weights[:, idx] = (targets + keep_col * d).reshape(paths, idx.size, n_assets)
        do &= gate & alive
        forced = None
        if liquidate is not None and k == liquidate[1]:
            forced = liquidate[0]
            alive[forced] = False
            do[:, forced] = True
            new_weights[:, forced] = 0.0
            new_weights[:, forced, 0] = 1.0
            order = np.concatenate([[forced], order[order != forced]])
        # 4. trades, in the block's order (by auction: every auctioning vault's lots at once).
        want = value[..., None] * new_weights - held  # numeraire value to buy (+) / sell (-)
        on_pool = do.copy()
        if auction is not None:
            on_pool[:] = False
            if forced is not None:
                on_pool[:, forced] = do[:, forced]
            do = _auction_step(
                auction, pool, ext, full, units, want, do & ~on_pool, hedge_queue, mitigation.hedge_steps,
                keeper_gas, cost[k], traded,
            ) | on_pool  # fmt: skip
        for j in order:
            if not on_pool[:, j].any():
                continue
            mask = on_pool[:, j][:, None]
            delta = np.where(mask, want[:, j, 1:], 0.0)
            u = units[:, j]
            before = (u * full).sum(axis=1)
            traded[:, j] += _vault_trades(u, ext, pool, np.maximum(delta, 0), np.maximum(-delta, 0))
            gas = np.where(on_pool[:, j], market.gas, 0.0)
            u[:, 0] -= gas
            cost[k, :, j] = before - (u * full).sum(axis=1)
        if auction is not None:  # the fillers' hedge slice of this step
            pool.sell(np.maximum(hedge_queue[0], 0.0))
            pool.buy(np.maximum(-hedge_queue[0], 0.0) * ext)
            hedge_queue[:-1], hedge_queue[-1] = hedge_queue[1:].copy(), 0.0
        last = np.where(do & (np.arange(vaults) != forced), now, last)
        rebalances += do
        trading[k] = do
        values[k] = (units * full[:, None, :]).sum(axis=2)
        pool_rec[k] = pool.price()

    return SystemicResult(external, pool_rec, trading, values, cost, traded, rebalances, initial, group_of)
