"""Choosing the route of a due rebalance: trade now on the pools, or open a Dutch auction.

Both costs are the vault's value lost at oracle prices (the measure of the vault's own ``cost``
check and of the planner's ``expected_cost``), plus the gas its side pays, in USD (WAD ints at
the edges, floats inside the model).

**Pools** (:func:`pool_cost`): the plan's fees and price impact (``ballast.cost.breakdown``: the
planner's simulation against the oracle) plus the rebalance's gas (``ballast.cost.rebalance_gas``)
at the given gas price and ETH price.

**Auction** (:func:`auction_cost`), the model:

* lots are the contract's (:func:`auction_lots`: each overweight asset's surplus paired greedily
  with each underweight asset's deficit at the oracle, pairs under ``min_lot_usd`` left out);
* a lot selling ``i`` for ``j`` is worth ``g = (P_i / O_i) / (P_j / O_j)`` of its oracle price to
  a filler who values the tokens at market prices ``P`` (the oracle-vs-market gap;
  :func:`market_gap` reads it off the deepest pool's mid price, 1 when no pool has the pair);
* the filler takes the whole lot at the first block (every ``BLOCK_SECONDS`` from opening) where
  ``g / m(t) >= 1 + margin + fill_gas / lot_value``: its margin and its own gas, which the
  filler pays and recovers through the discount, so fill gas is counted once, inside the discount;
  ``m(t) = max(END, START * exp(-rate * t))`` is the contract's curve (:class:`Curve`). With the
  gap fixed over the auction, the crossing is the closed form ``t* = ln(START (1 + mu) / g) / rate``
  rounded up to a block; no crossing when ``g / (1 + mu) < END`` (the lot is never filled);
* the vault loses ``value * (1 - m(t_fill))`` at the oracle per lot (negative: a fill above the
  oracle), and the keeper pays the gas of ``open`` and of ``close`` (measured receipts,
  :data:`AUCTION_GAS`);
* waiting: ``waiting_bps_per_hour`` of the value traded per hour until the last fill; 0 by default
  (with martingale prices holding the drift a few minutes longer costs nothing in expectation:
  its risk, ``drift * sigma * sqrt(t)``, is not a cost in this comparison).

:func:`choose_route` compares the two in bps of value traded (the auction trades every lot to the
targets; the plan may trade less) and says why.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

from ballast import cost as cost_model
from ballast.auction import DEFAULT_PARAMS
from ballast.constants import MAX_BPS, WAD

# Receipt gas of the auction's steps, 4-asset vault, 3 lots (``ape run demo_auction``, TECH_SPEC
# "Auctions"): the keeper's ``open``, one filler's ``fill`` and the guardian's ``close``.
AUCTION_GAS = {"open": 389_739, "fill": 350_357, "close": 39_302}
BLOCK_SECONDS = 12
DEFAULT_FILLER_MARGIN_BPS = 30
DEFAULT_ETH_USD = 3_000


@dataclass(frozen=True)
class Curve:
    """The auction's price curve: ``m(t) = max(end, start * exp(-rate * t))``, ``end`` from
    ``length`` on, fills until ``ttl`` (multipliers of the oracle price as floats, rate per second)."""

    premium_bps: int = DEFAULT_PARAMS["premium_bps"]
    end_discount_bps: int = DEFAULT_PARAMS["end_discount_bps"]
    length: int = DEFAULT_PARAMS["length"]
    ttl: int = DEFAULT_PARAMS["ttl"]
    min_lot_usd: int = DEFAULT_PARAMS["min_lot_usd"]  # WAD

    @property
    def start(self) -> float:
        return (MAX_BPS + self.premium_bps) / MAX_BPS

    @property
    def end(self) -> float:
        return (MAX_BPS - self.end_discount_bps) / MAX_BPS

    @property
    def rate(self) -> float:
        """Decay per second: ``ln(start / end) / length``."""
        return math.log(self.start / self.end) / self.length

    def multiplier(self, t: float) -> float:
        """``m(t)``."""
        return self.end if t >= self.length else max(self.end, self.start * math.exp(-self.rate * t))

    def fill_time(self, level: float, block_seconds: int = BLOCK_SECONDS) -> int | None:
        """Seconds after opening of the first block (``block_seconds`` apart, the first one
        after the opening's) whose multiplier is at most ``level``; None if none before the TTL."""
        first = block_seconds
        if level >= self.multiplier(first):
            return first
        if level < self.end:
            return None
        t = math.log(self.start / level) / self.rate
        t_block = max(first, math.ceil(t / block_seconds - 1e-9) * block_seconds)
        return t_block if t_block <= self.ttl else None

    @classmethod
    def of(cls, auction) -> Curve:
        """The curve of a deployed ``DutchAuction`` (its immutables)."""
        return cls(
            premium_bps=int(auction.START_MULTIPLIER()) * MAX_BPS // WAD - MAX_BPS,
            end_discount_bps=int(auction.END_DISCOUNT_BPS()),
            length=int(auction.LENGTH()),
            ttl=int(auction.TTL()),
            min_lot_usd=int(auction.MIN_LOT_USD()),
        )


@dataclass
class LotEstimate:
    """One lot and the model's fill: when, at what multiplier, what the vault loses."""

    sell: str
    buy: str
    value: float  # USD at the oracle
    gap: float  # g: market over oracle of the sold token in the bought one
    threshold: float  # 1 + margin + the filler's gas over the lot's value
    fill_seconds: int | None
    multiplier: float | None

    @property
    def discount(self) -> float:
        """USD the vault loses at the oracle (negative: sold above it); 0 when never filled."""
        return 0.0 if self.multiplier is None else self.value * (1.0 - self.multiplier)


@dataclass
class RouteCost:
    """One route's expected cost, USD."""

    route: str  # "pools" or "auction"
    value_traded: float
    trading: float  # pools: fees + impact; auction: the discount at the fills
    gas: float  # what the vault's keeper pays
    waiting: float = 0.0
    available: bool = True
    why_not: str = ""
    detail: str = ""
    lots: list[LotEstimate] = field(default_factory=list)

    @property
    def total(self) -> float:
        return self.trading + self.gas + self.waiting

    @property
    def bps(self) -> float:
        """Total cost in bps of the value traded (inf when nothing would trade)."""
        return self.total * MAX_BPS / self.value_traded if self.value_traded > 0 else math.inf


@dataclass
class RouteChoice:
    route: str  # "pools" or "auction"
    reason: str
    pools: RouteCost
    auction: RouteCost


def auction_lots(state, min_lot_usd: int = DEFAULT_PARAMS["min_lot_usd"]) -> list[tuple[int, int, int]]:
    """The lots ``DutchAuction.open`` would offer at ``state``: ``(sell index, buy index, USD
    WAD)``, each surplus paired greedily with each deficit in asset order, as the contract does."""
    values = [a.value for a in state.assets]
    total = sum(values)
    goals = [a.target * total // WAD for a in state.assets]
    surplus = [v - min(v, g) for v, g in zip(values, goals)]
    deficit = [g - min(v, g) for v, g in zip(values, goals)]
    lots = []
    for i in range(len(values)):
        for j in range(len(values)):
            pair = min(surplus[i], deficit[j])
            if pair == 0:
                continue
            surplus[i] -= pair
            deficit[j] -= pair
            if pair >= min_lot_usd:
                lots.append((i, j, pair))
    return lots


def market_gap(state, market, i: int, j: int) -> float:
    """``g`` of selling asset ``i`` for ``j``: the deepest pool's mid price (its marginal price
    without the fee) in USD terms over the oracle ratio; 1.0 when no pool has the pair."""
    if market is None:
        return 1.0
    sell, buy = state.assets[i], state.assets[j]
    sides = [s for s in market.sides(sell.address, buy.address) if s.marginal_price() > 0]
    if not sides:
        return 1.0
    side = max(sides, key=lambda s: s.depth())
    mid = side.marginal_price() / (1 - side.fee_bps / MAX_BPS)  # buy units per sell unit
    return mid * 10**sell.decimals / 10**buy.decimals * buy.price / sell.price


def pool_cost(state, plan, gas_price_wei: int, eth_usd: int) -> RouteCost:
    """The plan's fees, impact and gas (``ballast.cost``), USD."""
    if plan is None or not plan.trades:
        why = plan.reason if plan is not None else "no plan"
        return RouteCost("pools", 0.0, 0.0, 0.0, available=False, why_not=why or "no trade")
    parts = cost_model.breakdown(plan.trades, len(state.assets), gas_price_wei, eth_usd)
    return RouteCost(
        "pools",
        plan.value_traded / WAD,
        (parts.fees + parts.impact) / WAD,
        parts.gas / WAD,
        detail=f"fees ${parts.fees / WAD:,.2f} + impact ${parts.impact / WAD:,.2f}, {len(plan.trades)} swaps",
    )


def auction_cost(
    state,
    market,
    gas_price_wei: int,
    eth_usd: int,
    curve: Curve = Curve(),
    filler_margin_bps: float = DEFAULT_FILLER_MARGIN_BPS,
    waiting_bps_per_hour: float = 0.0,
    gaps: dict[tuple[int, int], float] | None = None,
    gas: dict[str, int] = AUCTION_GAS,
) -> RouteCost:
    """The auction's expected cost under the module's model. ``gaps`` overrides
    :func:`market_gap` per ``(sell, buy)`` index pair."""
    if curve.end_discount_bps > state.max_slippage_bps:
        return RouteCost("auction", 0.0, 0.0, 0.0, available=False, why_not="end discount above the vault's bound")
    lots = auction_lots(state, curve.min_lot_usd)
    if not lots:
        return RouteCost("auction", 0.0, 0.0, 0.0, available=False, why_not="dust: no lot worth opening")
    usd_per_gas = gas_price_wei * eth_usd / WAD / WAD  # USD per gas unit
    fill_gas_usd = gas["fill"] * usd_per_gas
    estimates = []
    for i, j, value_wad in lots:
        value = value_wad / WAD
        g = gaps[(i, j)] if gaps and (i, j) in gaps else market_gap(state, market, i, j)
        threshold = 1 + filler_margin_bps / MAX_BPS + fill_gas_usd / value
        t = curve.fill_time(g / threshold)
        estimates.append(
            LotEstimate(
                state.assets[i].symbol,
                state.assets[j].symbol,
                value,
                g,
                threshold,
                t,
                None if t is None else curve.multiplier(t),
            )
        )
    traded = sum(e.value for e in estimates)
    keeper_gas = (gas["open"] + gas["close"]) * usd_per_gas
    unfilled = [e for e in estimates if e.fill_seconds is None]
    last = max((e.fill_seconds or 0) for e in estimates)
    waiting = traded * waiting_bps_per_hour / MAX_BPS * last / 3_600
    cost = RouteCost(
        "auction",
        traded,
        sum(e.discount for e in estimates),
        keeper_gas,
        waiting,
        lots=estimates,
        detail=(
            f"{len(estimates)} lots, last fill at {last / 60:.1f} min; fillers' gas "
            f"${fill_gas_usd * len(estimates):,.2f} inside the discount"
        ),
    )
    if unfilled:
        cost.available = False
        cost.why_not = ", ".join(
            f"{e.sell}->{e.buy} never crosses (gap {(e.gap - 1) * MAX_BPS:+.1f} bps < end {curve.end_discount_bps} bps"
            f" + filler {(e.threshold - 1) * MAX_BPS:.1f} bps)"
            for e in unfilled
        )
    return cost


def choose_route(
    state,
    market,
    plan,
    gas_price_wei: int,
    eth_usd: int,
    curve: Curve = Curve(),
    filler_margin_bps: float = DEFAULT_FILLER_MARGIN_BPS,
    waiting_bps_per_hour: float = 0.0,
    gaps: dict[tuple[int, int], float] | None = None,
) -> RouteChoice:
    """Pools or auction, whichever costs fewer bps of the value it trades (ties: pools), with
    both costs and the reason. ``eth_usd`` is WAD; see the module's notes for the model."""
    pools = pool_cost(state, plan, gas_price_wei, eth_usd)
    auction = auction_cost(state, market, gas_price_wei, eth_usd, curve, filler_margin_bps, waiting_bps_per_hour, gaps)
    if not auction.available and not pools.available:
        return RouteChoice("none", f"no route: pools: {pools.why_not}; auction: {auction.why_not}", pools, auction)
    if not auction.available:
        return RouteChoice("pools", f"pools: the auction is out ({auction.why_not})", pools, auction)
    if not pools.available:
        return RouteChoice("auction", f"auction: {auction.bps:.1f} bps; no pool plan ({pools.why_not})", pools, auction)
    if auction.bps < pools.bps:
        return RouteChoice("auction", f"auction: {auction.bps:.1f} bps < pools {pools.bps:.1f} bps", pools, auction)
    return RouteChoice("pools", f"pools: {pools.bps:.1f} bps <= auction {auction.bps:.1f} bps", pools, auction)


def format_route(choice: RouteChoice) -> str:
    """The comparison, as the keeper's preview prints it."""
    lines = [
        f"{'route':<8} {'traded $':>14} {'trading $':>11} {'gas $':>9} {'wait $':>8} {'total $':>11} {'bps':>7}  notes"
    ]
    for c in (choice.pools, choice.auction):
        if c.value_traded <= 0:
            lines.append(f"{c.route:<8} {'-':>14} {'-':>11} {'-':>9} {'-':>8} {'-':>11} {'-':>7}  {c.why_not}")
            continue
        note = c.detail + ("" if c.available else f"; OUT: {c.why_not}")
        lines.append(
            f"{c.route:<8} {c.value_traded:>14,.2f} {c.trading:>11,.2f} {c.gas:>9,.2f} {c.waiting:>8,.2f} "
            f"{c.total:>11,.2f} {c.bps:>7.1f}  {note}"
        )
    for e in choice.auction.lots:
        when = "never" if e.fill_seconds is None else f"{e.fill_seconds / 60:.1f} min, m {e.multiplier:.5f}"
        lines.append(
            f"  lot {e.sell}->{e.buy} ${e.value:,.0f}: gap {(e.gap - 1) * MAX_BPS:+.1f} bps, "
            f"filler needs {(e.threshold - 1) * MAX_BPS:.1f} bps, fills {when}"
        )
    lines.append(f"route: {choice.route.upper()} ({choice.reason})")
    return "\n".join(lines)
