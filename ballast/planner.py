"""Trade planner: turns a drifted vault into the swaps that bring it back to target.

The plan is built against a snapshot of the venues' reserves and mirrors every check the
vault makes (slippage against the oracle, drift per asset and in total, cost, turnover), so
a plan that this module emits is one the vault accepts, unless the market moves in between;
then the min-outs make the rebalance revert rather than trade at a bad price.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass, field

from ballast.chain.state import VaultState
from ballast.constants import BPS_TO_WAD, MAX_BPS, MAX_TRADES, WAD
from ballast.policy import band_edge_deltas
from ballast.venues import amm
from ballast.venues.routing import Side, sandwich_safe_min_out, split_order


@dataclass
class Pool:
    """A constant-product (Uniswap V2 math) pool: a :class:`ballast.venues.routing.VenuePool`."""

    venue: str
    token_a: str
    token_b: str
    reserve_a: int
    reserve_b: int
    fee_bps: int

    @property
    def tokens(self) -> tuple[str, str]:
        return (self.token_a, self.token_b)

    def __deepcopy__(self, memo) -> Pool:
        # Every field is an int or a str: a shallow copy is a deep one, without copy's recursion
        # (the planner copies every pool of the market for each trial trade).
        return copy.copy(self)

    def _forward(self, token_in: str) -> bool:
        return str(token_in).lower() == self.token_a.lower()

    def has(self, token_in: str, token_out: str) -> bool:
        pair = {self.token_a.lower(), self.token_b.lower()}
        return (
            str(token_in).lower() != str(token_out).lower() and {str(token_in).lower(), str(token_out).lower()} == pair
        )

    def reserves(self, token_in: str) -> tuple[int, int]:
        """(reserve in, reserve out) when selling ``token_in``."""
        return (self.reserve_a, self.reserve_b) if self._forward(token_in) else (self.reserve_b, self.reserve_a)

    def quote(self, token_in: str, token_out: str, amount_in: int) -> int:
        return amm.amount_out(amount_in, *self.reserves(token_in), self.fee_bps)

    def apply(self, token_in: str, token_out: str, amount_in: int) -> int:
        out = self.quote(token_in, token_out, amount_in)
        if self._forward(token_in):
            self.reserve_a, self.reserve_b = self.reserve_a + amount_in, self.reserve_b - out
        else:
            self.reserve_b, self.reserve_a = self.reserve_b + amount_in, self.reserve_a - out
        return out

    def marginal_price(self, token_in: str, token_out: str) -> float:
        r_in, r_out = self.reserves(token_in)
        return (MAX_BPS - self.fee_bps) / MAX_BPS * r_out / r_in if r_in and r_out else 0.0

    def input_for_price(self, token_in: str, token_out: str, price: float) -> float:
        # The marginal output after x is g R_in R_out / (R_in + g x)^2.
        r_in, r_out = self.reserves(token_in)
        g = (MAX_BPS - self.fee_bps) / MAX_BPS
        if price <= 0 or not (r_in and r_out):
            return 0.0
        return max(((g * r_in * r_out / price) ** 0.5 - r_in) / g, 0.0)

    def depth(self, token_in: str, token_out: str) -> int:
        return self.reserves(token_in)[0]


@dataclass
class Market:
    """A snapshot of pools across venues, any curve (:class:`ballast.venues.routing.VenuePool`);
    trades update it in place. One pool per venue and pair."""

    pools: list = field(default_factory=list)

    def sides(self, token_in: str, token_out: str) -> list[Side]:
        """Every venue's pool for the pair, as sides selling ``token_in``, in venue order."""
        found = [Side(p, str(token_in), str(token_out)) for p in self.pools if p.has(token_in, token_out)]
        return sorted(found, key=lambda side: str(side.venue).lower())

    def side(self, venue: str, token_in: str, token_out: str) -> Side | None:
        key = str(venue).lower()
        return next((s for s in self.sides(token_in, token_out) if str(s.venue).lower() == key), None)

    def quote(self, venue: str, token_in: str, token_out: str, amount_in: int) -> int:
        side = self.side(venue, token_in, token_out)
        return side.quote(amount_in) if side else 0

    def sandwich_safe_min_out(self, venue: str, token_in: str, token_out: str, amount_in: int) -> int:
        """The loosest min-out on this pool that leaves a sandwich of the trade no profit."""
        side = self.side(venue, token_in, token_out)
        return sandwich_safe_min_out(side, amount_in) if side else 0

    def best_venue(self, token_in: str, token_out: str, amount_in: int) -> tuple[str | None, int]:
        best: tuple[str | None, int] = (None, 0)
        for side in self.sides(token_in, token_out):
            out = side.quote(amount_in)
            if out > best[1]:
                best = (side.venue, out)
        return best

    def apply(self, venue: str, token_in: str, token_out: str, amount_in: int) -> int:
        return self.side(venue, token_in, token_out).apply(amount_in)


@dataclass
class PlannedTrade:
    venue: str
    token_in: str
    token_out: str
    amount_in: int
    min_amount_out: int
    expected_out: int
    value_in: int  # oracle USD value of the input, WAD, rounded up like the vault
    expected_value_out: int  # oracle USD value of the expected output, WAD
    fee_value: int  # USD lost to the venue fee, WAD

    def as_tuple(self) -> tuple:
        """The vault's ``Trade`` struct, in field order."""
        return (self.venue, self.token_in, self.token_out, self.amount_in, self.min_amount_out)

    @property
    def cost(self) -> int:
        return max(self.value_in - self.expected_value_out, 0)

    @property
    def impact_value(self) -> int:
        return max(self.cost - self.fee_value, 0)


@dataclass
class Plan:
    trades: list[PlannedTrade]
    reason: str  # why the plan is what it is (or empty)
    value_before: int
    value_after: int
    drifts_before: list[int]
    drifts_after: list[int]
    gas_cost_usd: int = 0  # estimated gas of the rebalance, USD (WAD)

    @property
    def value_traded(self) -> int:
        return sum(t.value_in for t in self.trades)

    @property
    def expected_cost(self) -> int:
        return max(self.value_before - self.value_after, 0)

    @property
    def total_cost(self) -> int:
        """Fees and price impact (value lost at oracle prices) plus gas, USD (WAD)."""
        return self.expected_cost + self.gas_cost_usd

    @property
    def max_drift_before(self) -> int:
        return max((abs(d) for d in self.drifts_before), default=0)

    @property
    def max_drift_after(self) -> int:
        return max((abs(d) for d in self.drifts_after), default=0)


def _value(amount: int, price: int, decimals: int, roundup: bool) -> int:
    numerator = amount * price
    scale = 10**decimals
    return -(-numerator // scale) if roundup else numerator // scale


def min_amount_out(value_in: int, price_out: int, decimals_out: int, slippage_bps: int) -> int:
    """Fewest base units out that pass the vault's slippage check, rounded up.

    The vault accepts ``floor(out * price / 10^dec) * MAX_BPS >= value_in * (MAX_BPS - slippage)``;
    this is the smallest ``out`` that satisfies it, so the venue's own min-out binds first.
    """
    need = -(-value_in * (MAX_BPS - slippage_bps) // MAX_BPS)
    return -(-need * 10**decimals_out // price_out)


def planned_min_out(side: Side, amount_in: int, oracle_min: int) -> int:
    """The min-out the planner sends for selling ``amount_in`` on ``side``: never looser than the
    oracle bound ``oracle_min`` (:func:`min_amount_out`), tighter where a sandwich would pay
    (:func:`ballast.venues.routing.sandwich_safe_min_out`). The bench's sandwich matrix attacks
    exactly this rule."""
    return max(oracle_min, sandwich_safe_min_out(side, amount_in, oracle_min))


def simulate(state: VaultState, trades: list[PlannedTrade]) -> VaultState:
    """The vault state after ``trades`` fill at their expected outputs."""
    after = copy.deepcopy(state)
    for trade in trades:
        after.assets[after.index(trade.token_in)].balance -= trade.amount_in
        after.assets[after.index(trade.token_out)].balance += trade.expected_out
    return after


def check(state: VaultState, trades: list[PlannedTrade]) -> str:
    """Mirror of the vault's post-trade checks; returns the revert reason or ``""``."""
    if not trades:
        return "vault: no trades"
    if len(trades) > MAX_TRADES:
        return "vault: too many trades"
    after = simulate(state, trades)
    for trade in trades:
        if trade.expected_out < trade.min_amount_out:
            return "vault: output below minimum"
        if trade.expected_value_out * MAX_BPS < trade.value_in * (MAX_BPS - state.max_slippage_bps):
            return "vault: slippage"
    if any(a.balance < 0 for a in after.assets):
        return "vault: amount above balance"
    before_value, after_value = state.total_value, after.total_value
    cost = max(before_value - after_value, 0)
    if cost * MAX_BPS > before_value * state.max_cost_bps:
        return "vault: cost too high"
    if state.turnover_left() < sum(t.value_in for t in trades):
        return "vault: turnover cap"
    tolerance = -(-cost * WAD // after_value) if after_value else 0
    total_before = total_after = 0
    for asset, d0, d1 in zip(state.assets, state.drifts, after.drifts):
        if abs(d1) > abs(d0) + tolerance:
            return "vault: drift grew"
        band = asset.band_bps * BPS_TO_WAD
        if (d0 > 0 and d1 < -band) or (d0 < 0 and d1 > band):
            return "vault: overshoot"
        total_before += abs(d0)
        total_after += abs(d1)
    if total_after >= total_before:
        return "vault: drift not reduced"
    return ""


def target_deltas(state: VaultState, mode: str = "target", fraction_bps: int = MAX_BPS) -> list[int]:
    """USD (WAD) to buy (+) or sell (-) of each asset for a target mode.

    * ``"target"``: every asset all the way back to its target;
    * ``"edge"``: every asset outside its band back to its band edge, no further (the optimum
      with purely proportional costs); the one definition, shared with the backtester, is
      :func:`ballast.policy.band_edge_deltas`;
    * ``"partial"``: every asset ``fraction_bps`` of the way to its target (with a fixed cost per
      rebalance, trading into the band beats stopping at its edge).

    Buys and sells are then matched by scaling the larger side down (rounding dust in "edge"
    mode), so every asset still moves toward its target.
    """
    total = state.total_value
    if mode not in ("target", "edge", "partial"):
        raise ValueError(f"unknown target mode {mode!r}: use target, edge or partial")
    gaps = [asset.target * total // WAD - asset.value for asset in state.assets]
    if mode == "target":
        deltas = gaps
    elif mode == "partial":
        deltas = [gap * fraction_bps // MAX_BPS for gap in gaps]
    else:
        bands = [asset.band_bps * BPS_TO_WAD * total // WAD for asset in state.assets]
        one_unit = sum(_value(1, asset.price, asset.decimals, True) for asset in state.assets)  # rounding
        deltas = band_edge_deltas(gaps, bands, dust=one_unit)
    buys = sum(d for d in deltas if d > 0)
    sells = -sum(d for d in deltas if d < 0)
    if buys and sells and buys != sells:
        # Match the two sides; the scaled side still moves toward target, just less far.
        if buys > sells:
            deltas = [d * sells // buys if d > 0 else d for d in deltas]
        else:
            deltas = [d * buys // sells if d < 0 else d for d in deltas]
    elif not (buys and sells):
        deltas = [0] * len(deltas)
    return deltas


def split_across_venues(pools: list[tuple[str, int, int, int]], amount_in: int) -> list[tuple[str, int]]:
    """Split ``amount_in`` across constant-product pools ``(venue, reserve_in, reserve_out,
    fee_bps)`` so their marginal prices end equal (:func:`ballast.venues.routing.split_order`)."""
    sides = [Side(Pool(venue, "in", "out", r_in, r_out, fee), "in", "out") for venue, r_in, r_out, fee in pools]
    return [(side.venue, amount) for side, amount in split_order(sides, amount_in)]


def _leg(
    state: VaultState, market: Market, s: int, b: int, amount_in: int, slippage_bps: int
) -> list[PlannedTrade] | None:
    """Trades selling ``amount_in`` of asset ``s`` for asset ``b`` across every direct pool."""
    sold, bought = state.assets[s], state.assets[b]
    trades = []
    for side, amount in split_order(market.sides(sold.address, bought.address), amount_in):
        venue = side.venue
        try:
            expected_out = side.quote(amount)
        except ArithmeticError:  # beyond what the curve accepts (Balancer's 30 % cap)
            return None
        value_in = _value(amount, sold.price, sold.decimals, True)
        oracle_min = min_amount_out(value_in, bought.price, bought.decimals, slippage_bps)
        if expected_out < oracle_min or expected_out == 0:
            return None  # too shallow or off-price at this size
        min_out = planned_min_out(side, amount, oracle_min)
        side.apply(amount)
        trades.append(
            PlannedTrade(
                venue=venue,
                token_in=sold.address,
                token_out=bought.address,
                amount_in=amount,
                min_amount_out=min_out,
                expected_out=expected_out,
                value_in=value_in,
                expected_value_out=_value(expected_out, bought.price, bought.decimals, False),
                fee_value=int(value_in * side.fee_bps) // MAX_BPS,
            )
        )
    return trades or None


def _route(
    state: VaultState, market: Market, s: int, b: int, amount_in: int, slippage_bps: int, hub: int | None
) -> list[PlannedTrade]:
    """A direct trade if any venue has the pair, else two legs through the hub asset."""
    trial = copy.deepcopy(market)
    direct = _leg(state, trial, s, b, amount_in, slippage_bps)
    if direct:
        market.pools = trial.pools
        return direct
    if hub is None or hub in (s, b):
        return []
    trial = copy.deepcopy(market)
    first = _leg(state, trial, s, hub, amount_in, slippage_bps)
    if not first:
        return []
    second = _leg(state, trial, hub, b, sum(t.expected_out for t in first), slippage_bps)
    if not second:
        return []
    market.pools = trial.pools
    return first + second


def _pair_trades(
    state: VaultState,
    market: Market,
    deltas: list[int],
    slippage_bps: int,
    min_trade_value: int,
    hub: int | None,
) -> list[PlannedTrade]:
    trades: list[PlannedTrade] = []
    sell_left = {i: -d for i, d in enumerate(deltas) if d < 0}
    buy_left = {i: d for i, d in enumerate(deltas) if d > 0}
    while sell_left and buy_left and len(trades) < MAX_TRADES:
        s = max(sell_left, key=sell_left.get)
        b = max(buy_left, key=buy_left.get)
        usd = min(sell_left[s], buy_left[b])
        sell_left[s] -= usd
        buy_left[b] -= usd
        if sell_left[s] < min_trade_value:
            del sell_left[s]
        if buy_left[b] < min_trade_value:
            del buy_left[b]
        if usd < min_trade_value:
            continue  # dust: never worth a swap
        sold = state.assets[s]
        amount_in = min(usd * 10**sold.decimals // sold.price, sold.balance)
        if amount_in == 0:
            continue
        trades.extend(_route(state, market, s, b, amount_in, slippage_bps, hub))
    return trades[:MAX_TRADES]


def benefit(state: VaultState, after: VaultState, drift_aversion_bps: int) -> int:
    """USD (WAD) a rebalance is worth: the fall in the drift penalty it buys.

    The penalty of holding drifts ``d`` (WAD fractions) is ``V * kappa * sum(d_i^2)`` with
    ``kappa = drift_aversion_bps / MAX_BPS`` per unit of squared weight: the tracking-error
    cost, quadratic as in the no-trade-band literature, that the vault pays until the next
    check. With ``kappa = 1`` (10_000 bps), two assets 5% off cost 0.5% of value; two assets
    0.5% off cost 0.005%.
    """
    before_sq = sum(d * d for d in state.drifts)
    after_sq = sum(d * d for d in after.drifts)
    gain_wad = max(before_sq - after_sq, 0) // WAD  # WAD-scaled sum of squares
    return state.total_value * gain_wad // WAD * drift_aversion_bps // MAX_BPS


def plan_rebalance(
    state: VaultState,
    market: Market,
    slippage_bps: int | None = None,
    min_trade_value: int = WAD,
    mode: str = "target",
    fraction_bps: int = MAX_BPS,
    gas_cost_usd: int = 0,
    drift_aversion_bps: int | None = None,
    hub: str | None = None,
) -> Plan:
    """Plan the swaps that bring the vault back toward its targets.

    ``slippage_bps`` bounds each trade's realised price against the oracle (defaults to the
    vault's own bound); ``min_trade_value`` (USD, WAD) keeps dust trades out; ``mode`` and
    ``fraction_bps`` choose how far to trade (:func:`target_deltas`). Orders are split across
    venues by equal marginal prices and routed through ``hub`` (a basket asset; default: the
    asset with the most pools) when no venue has the pair. If the full plan would break the
    cost or turnover limit, it is scaled down until it fits. With ``drift_aversion_bps`` set,
    the plan is dropped when its :func:`benefit` is below its cost (fees, impact and
    ``gas_cost_usd``), and the plan's ``reason`` says so.
    """
    slippage = state.max_slippage_bps if slippage_bps is None else min(slippage_bps, state.max_slippage_bps)
    empty = Plan([], "", state.total_value, state.total_value, state.drifts, state.drifts)
    if state.total_value == 0:
        empty.reason = "vault is empty"
        return empty
    hub_index = _hub(state, market) if hub is None else state.index(hub)
    base = target_deltas(state, mode, fraction_bps)
    reason = "nothing to trade in this mode"
    for scale_bps in (10_000, 7_500, 5_000, 2_500, 1_000):
        deltas = [d * scale_bps // MAX_BPS for d in base]
        if not any(deltas):
            break
        trades = _pair_trades(state, copy.deepcopy(market), deltas, slippage, min_trade_value, hub_index)
        if not trades:
            reason = "no trade worth making (dust, or no pool at a fair price)"
            continue
        reason = check(state, trades)
        if reason:
            continue
        after = simulate(state, trades)
        plan = Plan(trades, "", state.total_value, after.total_value, state.drifts, after.drifts, gas_cost_usd)
        if drift_aversion_bps is not None:
            worth = benefit(state, after, drift_aversion_bps)
            if worth < plan.total_cost:
                empty.reason = f"not worth it: benefit ${worth / WAD:,.2f} < cost ${plan.total_cost / WAD:,.2f}"
                return empty
        return plan
    empty.reason = reason
    return empty


def _hub(state: VaultState, market: Market) -> int | None:
    """The basket asset that appears in the most pools: the natural routing hub."""
    counts = [0] * len(state.assets)
    for pool in market.pools:
        held = {str(t).lower() for t in pool.tokens}
        for i, asset in enumerate(state.assets):
            if asset.address.lower() in held:
                counts[i] += 1
    return max(range(len(counts)), key=counts.__getitem__) if any(counts) else None
