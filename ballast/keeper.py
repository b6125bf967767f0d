"""The keeper path, written once: read -> decide -> plan -> preview -> send -> decode.

``ape run keeper``, the Silverback bot, the demo and the bench all go through it:

* :func:`read`: the vault's state and every venue's pools, at one block;
* :func:`decide`: the vault's own trigger, then the plan (:func:`ballast.planner.plan_rebalance`);
* :func:`recall_first`: a plan that sells more of a lent asset than the vault holds idle, while
  that asset's market reports more than the sleeve counts, gets the shortfall recalled first
  (``vault.recall``) and is made again on the new state (:func:`shortfalls` says which);
* :func:`format_decision`: the preview (state, trades, expected cost and drift);
* :func:`route`: pools or a Dutch auction, whichever is expected to cost less
  (:func:`ballast.route.choose_route`); :func:`open_auction` opens the auction;
* :func:`send`: the rebalance transaction;
* :func:`decode`: the realised fills and totals from the ``TradeExecuted`` and ``Rebalanced``
  events, and :func:`format_realised`, realised next to expected.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from ballast.chain.market import snapshot_market
from ballast.chain.state import VaultState, read_state
from ballast.constants import ROLE_ALLOCATOR, WAD
from ballast.planner import Market, Plan, plan_rebalance
from ballast.route import Curve, RouteChoice, choose_route


@dataclass
class Decision:
    due: bool
    reason: str  # the vault's trigger reason, or why nothing is sent
    state: VaultState
    plan: Plan | None
    market: Any = None  # the pools the plan was made on (decide's ``market``)
    recalls: list[Recall] = field(default_factory=list)  # sent first by recall_first
    unrecalled: list[Recall] = field(default_factory=list)  # found by recall_first, not sent (reason says why)

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
        return Decision(True, f"{reason}, but no plan: {plan.reason}", state, plan, market)
    return Decision(True, reason, state, plan, market)


# ---------------------------------------------------------------- recall first


@dataclass
class Recall:
    """A lent asset the plan sells past its idle balance while its market reports more than the
    sleeve counts: the rebalance would recall the shortfall itself and realise part of the
    uncounted excess, which the plan (made on the counted state) does not foresee."""

    asset: str
    symbol: str
    shortfall: int  # the plan's sales of it above idle, base units
    amount: int  # what to recall first: the shortfall grossed up by reported / counted lent
    lent: int  # lent at the counted rate (the sleeve's ``lent_assets(False)``)
    lent_reported: int  # lent at the market's reported rate (``lent_assets(True)``)
    receipt: Any = None  # the ``vault.recall`` receipt, once sent


def shortfalls(vault, decision: Decision) -> list[Recall]:
    """For an actionable decision, each asset whose trades sell more than the vault holds idle
    (``vault.balances``; the plan's state counts idle plus lent) while its market reports more than
    the sleeve counts (``lent_assets(True)`` above ``lent_assets(False)``). Buys of an asset earlier
    in the plan count toward its idle at their ``min_amount_out``. Reads only; empty when the vault
    does not lend, nothing is sold past idle, or every such market is counted at its reported rate.

    The amount to recall is the shortfall times reported / counted (rounded up, at most the counted
    lent): the recall realises part of the excess, the re-made plan then sells part of that gain
    too, and this covers it, so one recall per asset is enough."""
    if not decision.actionable:
        return []
    state, trades = decision.state, decision.plan.trades
    idle: dict[int, int] = {}  # of each asset sold, read when first sold
    bought: dict[int, int] = {}  # of each asset, bought by earlier trades (at least their min out)
    short: dict[int, int] = {}
    for t in trades:
        s, b = state.index(t.token_in), state.index(t.token_out)
        if s not in idle:
            idle[s] = int(vault.balances(state.assets[s].address)) + bought.get(s, 0)
        if t.amount_in > idle[s]:
            short[s] = short.get(s, 0) + t.amount_in - idle[s]
            idle[s] = t.amount_in
        idle[s] -= t.amount_in
        if b in idle:
            idle[b] += t.min_amount_out
        else:
            bought[b] = bought.get(b, 0) + t.min_amount_out
    if not short:
        return []
    sleeve = _sleeve(vault)
    if sleeve is None:
        return []
    counted, reported = list(sleeve.lent_assets(False)), list(sleeve.lent_assets(True))
    found = []
    for i, shortfall in sorted(short.items()):
        lent, lent_reported = int(counted[i]), int(reported[i])
        if lent == 0 or lent_reported <= lent:
            continue  # no excess: the rebalance's own recall realises nothing
        amount = min(-(-shortfall * lent_reported // lent), lent)
        asset = state.assets[i]
        found.append(Recall(asset.address, asset.symbol, shortfall, max(amount, shortfall), lent, lent_reported))
    return found


def can_recall(vault, sender) -> bool:
    """Whether ``sender`` may call ``vault.recall`` (the allocator role)."""
    return sender is not None and int(vault.roles(sender)) & ROLE_ALLOCATOR != 0


def recall_first(vault, decision: Decision, sender, redecide: Callable[[], Decision], rounds: int = 3) -> Decision:
    """The step between :func:`decide` and :func:`send`: for each asset of :func:`shortfalls`,
    ``vault.recall`` (one per asset, from ``sender``, which must hold the allocator role), then
    ``redecide()`` (the caller's read and :func:`decide`, on the new state), up to ``rounds``
    times. Returns the decision to send, with the recalls sent (``recalls``, each with its
    receipt), or ``decision`` itself when nothing needs recalling.

    Why: the rebalance would recall the shortfall itself, at the market's reported rate, and the
    part of the excess it realises raises the vault's counted value inside the rebalance; an
    untouched underweight asset's drift then grows and the vault refuses the plan ("vault: drift
    grew"), again and again while the state stays the same. Recalled first, the gain is counted
    before the plan is made.

    Nothing is sent when ``sender`` is None (a preview) or lacks the allocator role: the plan is
    left as is and the decision's reason says why."""
    pending = shortfalls(vault, decision)
    if not pending:
        return decision
    what = ", ".join(f"{_units(r.amount, decision.state, r.asset)} {r.symbol}" for r in pending)
    why = f"the plan sells {', '.join(r.symbol for r in pending)} past idle at a market rate above the counted one"
    if sender is None:
        decision.reason += f"; recall first: {what} ({why}); not sent in a preview"
        decision.unrecalled = pending
        return decision
    if not can_recall(vault, sender):
        decision.reason += (
            f"; not recalled first: {sender.address} lacks the allocator role, so the plan is left as is "
            f"({why}: the vault may refuse it, 'vault: drift grew')"
        )
        decision.unrecalled = pending
        return decision
    sent: list[Recall] = []
    for _ in range(rounds):
        for r in pending:
            r.receipt = vault.recall(r.asset, r.amount, sender=sender)
            sent.append(r)
        decision = redecide()
        pending = shortfalls(vault, decision)
        if not pending:
            break
    decision.recalls, decision.unrecalled = sent, pending
    done = ", ".join(f"{_units(r.amount, decision.state, r.asset)} {r.symbol}" for r in sent)
    decision.reason += f"; recalled first: {done}, then planned again"
    if pending:
        decision.reason += f"; still short after {rounds} rounds: {', '.join(r.symbol for r in pending)}"
    return decision


def _sleeve(vault):
    """The vault's ``LendingSleeve``, or None without one."""
    from ape import project

    address = str(vault.sleeve())
    return None if int(address, 16) == 0 else project.LendingSleeve.at(address)


def _units(amount: int, state: VaultState, asset: str) -> str:
    return f"{amount / 10 ** state.assets[state.index(asset)].decimals:,.6f}"


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
    for label, recalls in (("recalled first", decision.recalls), ("to recall first", decision.unrecalled)):
        for r in recalls:
            tx = f", gas {r.receipt.gas_used:,}, tx {r.receipt.txn_hash}" if r.receipt is not None else ""
            lines.append(
                f"{label}: {_units(r.amount, state, r.asset)} {r.symbol} (sold past idle "
                f"{_units(r.shortfall, state, r.asset)}; lent {_units(r.lent, state, r.asset)} counted, "
                f"{_units(r.lent_reported, state, r.asset)} at the market's rate){tx}"
            )
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
