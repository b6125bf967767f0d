"""The keeper path, written once: read -> decide -> plan -> preview -> send -> decode.

``ape run keeper``, the Silverback bot, the demo and the bench all go through it:

* :func:`read`: the vault's state and every venue's pools, at one block;
* :func:`decide`: the vault's own trigger, then the plan (:func:`ballast.planner.plan_rebalance`);
* :func:`format_decision`: the preview (state, trades, expected cost and drift);
* :func:`route`: pools or a Dutch auction, whichever is expected to cost less
  (:func:`ballast.route.choose_route`); :func:`open_auction` opens the auction;
* :func:`send`: the rebalance transaction;
* :func:`decode`: the realised fills and totals from the ``TradeExecuted`` and ``Rebalanced``
  events, and :func:`format_realised`, realised next to expected.
"""

from __future__ import annotations

from dataclasses import dataclass

from ballast.chain.market import snapshot_market
from ballast.chain.state import VaultState, read_state
from ballast.constants import WAD
from ballast.planner import Market, Plan, plan_rebalance
from ballast.route import Curve, RouteChoice, choose_route


@dataclass
class Decision:
    due: bool
    reason: str  # the vault's trigger reason, or why nothing is sent
    state: VaultState
    plan: Plan | None

    @property
    def actionable(self) -> bool:
        return self.due and self.plan is not None and bool(self.plan.trades)


def read(vault, venues: list, tokens: list, token_at, timestamp: int, lens) -> tuple[VaultState, Market]:
    """The vault's state, read through ``lens`` (a ``VaultLens``) in one call that also answers
    the trigger (``token_at`` maps an address to an ERC-20 instance), and a snapshot of every
    venue's pools among ``tokens``, all at one block (the latest when read), for a decision at
    ``timestamp``."""
    block = vault.provider.get_block("latest").number
    state = read_state(vault, token_at, timestamp, [str(v.address) for v in venues], lens, block=block)
    return state, snapshot_market(venues, tokens, block=block)


def decide(
    vault,
    state: VaultState,
    market,
    slippage_bps: int | None = None,
    min_trade_value: int = WAD,
    trigger: tuple[bool, str] | None = None,
) -> Decision:
    """Whether a rebalance is due (the lens's ``needs_rebalance`` answer read with ``state``, or
    ``trigger``, the caller's answer at this state) and, if so, its plan."""
    if state.timestamp < state.last_rebalance + state.cooldown:
        return Decision(
            False, "cooldown: next rebalance allowed at " + str(state.last_rebalance + state.cooldown), state, None
        )
    trigger = trigger if trigger is not None else state.trigger
    due, reason = trigger
    if not due:
        return Decision(False, "not due: every asset is inside its band (or the clock has not run)", state, None)
    plan = plan_rebalance(state, market, slippage_bps=slippage_bps, min_trade_value=min_trade_value)
    if not plan.trades:
        return Decision(True, f"{reason}, but no plan: {plan.reason}", state, plan)
    return Decision(True, reason, state, plan)


def format_decision(decision: Decision, gas_estimate: int | None = None) -> str:
    """The dry-run preview: the state, then each trade and the totals."""
    state = decision.state
    lines = [f"vault {state.address}: value ${state.total_value / WAD:,.2f}, supply {state.total_supply / WAD:,.4f}"]
    lines.append(f"{'asset':<8} {'weight':>8} {'target':>8} {'drift':>8} {'band':>6}")
    for asset, weight, drift in zip(state.assets, state.weights, state.drifts):
        lines.append(
            f"{asset.symbol:<8} {weight / 1e16:>7.2f}% {asset.target / 1e16:>7.2f}% {drift / 1e16:>+7.2f}% "
            f"{asset.band_bps / 100:>5.2f}%"
        )
    lines.append(f"decision: {'REBALANCE' if decision.actionable else 'wait'} ({decision.reason})")
    plan = decision.plan
    if plan and plan.trades:
        symbol = {a.address.lower(): a.symbol for a in state.assets}
        lines.append(
            f"{'venue':<12} {'in':<6} {'out':<6} {'amount in':>16} {'min out':>16} {'price':>14} {'fee $':>10} {'impact $':>10}"
        )
        for t in plan.trades:
            sold = state.assets[state.index(t.token_in)]
            bought = state.assets[state.index(t.token_out)]
            price = (t.expected_out / 10**bought.decimals) / (t.amount_in / 10**sold.decimals)
            lines.append(
                f"{t.venue[:10]:<12} {symbol[t.token_in.lower()]:<6} {symbol[t.token_out.lower()]:<6} "
                f"{t.amount_in / 10**sold.decimals:>16,.6f} {t.min_amount_out / 10**bought.decimals:>16,.6f} "
                f"{price:>14,.6f} {t.fee_value / WAD:>10,.2f} {t.impact_value / WAD:>10,.2f}"
            )
        lines.append(
            f"totals: traded ${plan.value_traded / WAD:,.2f}, expected cost ${plan.expected_cost / WAD:,.2f}, "
            f"max drift {plan.max_drift_before / 1e16:.2f}% -> {plan.max_drift_after / 1e16:.2f}%"
            + (f", gas ~{gas_estimate:,}" if gas_estimate else "")
        )
    return "\n".join(lines)


# ---------------------------------------------------------------- route


def route(decision: Decision, market, gas_price_wei: int, eth_usd: int, auction=None, **model) -> RouteChoice | None:
    """For a due decision, the expected cost of its plan on the pools against that of a Dutch
    auction (``auction``'s curve, or the default one when None); ``model`` goes to
    :func:`ballast.route.choose_route` (``filler_margin_bps``, ``waiting_bps_per_hour``, ``gaps``).
    None when nothing is due."""
    if not decision.due:
        return None
    curve = Curve.of(auction) if auction is not None else Curve()
    return choose_route(decision.state, market, decision.plan, gas_price_wei, eth_usd, curve, **model)


def open_auction(auction, sender, **tx_kwargs):
    """Open ``auction`` (the keeper's right inside the launcher window); returns the receipt."""
    return auction.open(sender=sender, **tx_kwargs)


# ---------------------------------------------------------------- send and decode


@dataclass
class Fill:
    """One realised trade (a ``TradeExecuted`` event) and what the plan expected of it."""

    venue: str
    token_in: str
    token_out: str
    amount_in: int
    amount_out: int
    value_in: int  # oracle USD value of the input, WAD
    value_out: int  # oracle USD value of the output, WAD
    expected_out: int | None  # the plan's quote (None: not in the plan)

    @property
    def cost_bps(self) -> float:
        """The fill's cost against the oracle, in bps of the value sold."""
        return (self.value_in - self.value_out) * 10_000 / self.value_in if self.value_in else 0.0


@dataclass
class Realised:
    """A sent rebalance, decoded from its receipt."""

    tx_hash: str
    gas_used: int
    reason: str
    value_before: int
    value_after: int
    cost: int
    value_traded: int
    total_drift_before: int
    total_drift_after: int
    max_drift_after: int
    fills: list[Fill]


def send(vault, decision: Decision, sender, **tx_kwargs):
    """Send the decision's rebalance; returns the receipt."""
    return vault.rebalance([t.as_tuple() for t in decision.plan.trades], sender=sender, **tx_kwargs)


def decode(vault, receipt, decision: Decision) -> Realised:
    """The realised rebalance from ``receipt``'s events, each fill next to the plan's trade."""
    event = receipt.events.filter(vault.Rebalanced)[0]
    planned = list(decision.plan.trades) if decision.plan else []
    fills = [
        Fill(
            str(f.venue),
            str(f.token_in),
            str(f.token_out),
            int(f.amount_in),
            int(f.amount_out),
            int(f.value_in),
            int(f.value_out),
            planned[k].expected_out if k < len(planned) else None,
        )
        for k, f in enumerate(receipt.events.filter(vault.TradeExecuted))
    ]
    targets = [a.target for a in decision.state.assets]
    return Realised(
        tx_hash=str(receipt.txn_hash),
        gas_used=int(receipt.gas_used),
        reason=str(event.reason),
        value_before=int(event.value_before),
        value_after=int(event.value_after),
        cost=int(event.cost),
        value_traded=int(event.value_traded),
        total_drift_before=int(event.total_drift_before),
        total_drift_after=int(event.total_drift_after),
        max_drift_after=max(abs(int(w) - t) for w, t in zip(event.weights_after, targets)),
        fills=fills,
    )


def format_realised(realised: Realised, decision: Decision) -> str:
    """The realised rebalance next to the expected one: per fill, then the totals."""
    state, plan = decision.state, decision.plan
    symbol = {a.address.lower(): a.symbol for a in state.assets}
    lines = [f"{'fill':<12} {'in':<6} {'out':<6} {'out / expected':>22} {'cost bps':>9}"]
    for f in realised.fills:
        bought = state.assets[state.index(f.token_out)]
        expected = "-" if f.expected_out is None else f"{f.expected_out / 10**bought.decimals:,.6f}"
        lines.append(
            f"{f.venue[:10]:<12} {symbol[f.token_in.lower()]:<6} {symbol[f.token_out.lower()]:<6} "
            f"{f.amount_out / 10**bought.decimals:>,.6f} / {expected:<10} {f.cost_bps:>9.2f}"
        )
    lines.append(
        f"realised: cost ${realised.cost / WAD:,.2f} (expected ${plan.expected_cost / WAD:,.2f}), "
        f"max drift {realised.max_drift_after / 1e16:.2f}% (expected {plan.max_drift_after / 1e16:.2f}%), "
        f"gas {realised.gas_used:,}, tx {realised.tx_hash}"
    )
    return "\n".join(lines)
