"""Trade planner: turns a drifted vault into the swaps that bring it back to target.

The plan is built against a snapshot of the venues' reserves and mirrors every check the
vault makes (slippage against the oracle, drift per asset and in total, cost, turnover), so
a plan that this module emits is one the vault accepts, unless the market moves in between;
then the min-outs make the rebalance revert rather than trade at a bad price.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass, field

from ballast import amm
from ballast.constants import BPS_TO_WAD, MAX_BPS, MAX_TRADES, WAD
from ballast.state import VaultState


@dataclass
class Pool:
    venue: str
    token_a: str
    token_b: str
    reserve_a: int
    reserve_b: int
    fee_bps: int


@dataclass
class Market:
    """A snapshot of constant-product pools across venues; trades update it in place."""

    pools: list[Pool] = field(default_factory=list)

    @staticmethod
    def _key(address: str) -> str:
        return str(address).lower()

    def _find(self, venue: str, token_in: str, token_out: str) -> tuple[Pool, bool] | None:
        tin, tout, v = self._key(token_in), self._key(token_out), self._key(venue)
        for pool in self.pools:
            if self._key(pool.venue) != v:
                continue
            a, b = self._key(pool.token_a), self._key(pool.token_b)
            if (a, b) == (tin, tout):
                return pool, True
            if (a, b) == (tout, tin):
                return pool, False
        return None

    def quote(self, venue: str, token_in: str, token_out: str, amount_in: int) -> int:
        found = self._find(venue, token_in, token_out)
        if found is None:
            return 0
        pool, forward = found
        r_in, r_out = (pool.reserve_a, pool.reserve_b) if forward else (pool.reserve_b, pool.reserve_a)
        return amm.amount_out(amount_in, r_in, r_out, pool.fee_bps)

    def best_venue(self, token_in: str, token_out: str, amount_in: int) -> tuple[str | None, int]:
        best: tuple[str | None, int] = (None, 0)
        for venue in {p.venue for p in self.pools}:
            out = self.quote(venue, token_in, token_out, amount_in)
            if out > best[1]:
                best = (venue, out)
        return best

    def apply(self, venue: str, token_in: str, token_out: str, amount_in: int) -> int:
        out = self.quote(venue, token_in, token_out, amount_in)
        pool, forward = self._find(venue, token_in, token_out)
        if forward:
            pool.reserve_a += amount_in
            pool.reserve_b -= out
        else:
            pool.reserve_b += amount_in
            pool.reserve_a -= out
        return out


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

    @property
    def value_traded(self) -> int:
        return sum(t.value_in for t in self.trades)

    @property
    def expected_cost(self) -> int:
        return max(self.value_before - self.value_after, 0)

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


def _pair_trades(
    state: VaultState, market: Market, scale_bps: int, slippage_bps: int, min_trade_value: int
) -> list[PlannedTrade]:
    total = state.total_value
    deltas = []  # USD to buy (+) or sell (-) per asset, WAD
    for asset in state.assets:
        deltas.append((asset.target * total // WAD - asset.value) * scale_bps // MAX_BPS)
    sellers = sorted(((-d, i) for i, d in enumerate(deltas) if d < 0), reverse=True)
    buyers = sorted(((d, i) for i, d in enumerate(deltas) if d > 0), reverse=True)
    trades: list[PlannedTrade] = []
    sell_left = {i: v for v, i in sellers}
    buy_left = {i: v for v, i in buyers}
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
            continue
        sold, bought = state.assets[s], state.assets[b]
        amount_in = min(usd * 10**sold.decimals // sold.price, sold.balance)
        venue, expected_out = market.best_venue(sold.address, bought.address, amount_in)
        if venue is None or amount_in == 0:
            continue
        value_in = _value(amount_in, sold.price, sold.decimals, True)
        oracle_out = value_in * 10**bought.decimals // bought.price
        min_out = oracle_out * (MAX_BPS - slippage_bps) // MAX_BPS
        if expected_out < min_out:
            continue  # this pool is too shallow or off-price for this size: leave it to the next plan
        market.apply(venue, sold.address, bought.address, amount_in)
        fee = next(p.fee_bps for p in market.pools if p.venue == venue)
        trades.append(
            PlannedTrade(
                venue=venue,
                token_in=sold.address,
                token_out=bought.address,
                amount_in=amount_in,
                min_amount_out=min_out,
                expected_out=expected_out,
                value_in=value_in,
                expected_value_out=_value(expected_out, bought.price, bought.decimals, False),
                fee_value=value_in * fee // MAX_BPS,
            )
        )
    return trades


def plan_rebalance(
    state: VaultState,
    market: Market,
    slippage_bps: int | None = None,
    min_trade_value: int = WAD,
) -> Plan:
    """Plan the swaps that bring every asset back to its target weight.

    ``slippage_bps`` bounds each trade's realised price against the oracle (defaults to the
    vault's own bound); ``min_trade_value`` (USD, WAD) keeps dust trades out. If the full
    plan would break the cost or turnover limit, it is scaled down until it fits.
    """
    slippage = state.max_slippage_bps if slippage_bps is None else min(slippage_bps, state.max_slippage_bps)
    empty = Plan([], "", state.total_value, state.total_value, state.drifts, state.drifts)
    if state.total_value == 0:
        empty.reason = "vault is empty"
        return empty
    reason = ""
    for scale_bps in (10_000, 7_500, 5_000, 2_500, 1_000):
        trades = _pair_trades(state, copy.deepcopy(market), scale_bps, slippage, min_trade_value)
        if not trades:
            reason = "no trade worth making (dust, or no pool at a fair price)"
            continue
        reason = check(state, trades)
        if not reason:
            after = simulate(state, trades)
            return Plan(trades, "", state.total_value, after.total_value, state.drifts, after.drifts)
    empty.reason = reason
    return empty
