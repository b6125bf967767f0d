"""One keeper decision: read the vault, check its trigger, plan, preview, optionally send."""

from __future__ import annotations

from dataclasses import dataclass

from ballast.constants import WAD
from ballast.planner import Plan, plan_rebalance
from ballast.state import VaultState


@dataclass
class Decision:
    due: bool
    reason: str  # the vault's trigger reason, or why nothing is sent
    state: VaultState
    plan: Plan | None

    @property
    def actionable(self) -> bool:
        return self.due and self.plan is not None and bool(self.plan.trades)


def decide(vault, state: VaultState, market, slippage_bps: int | None = None, min_trade_value: int = WAD) -> Decision:
    """Ask the vault whether a rebalance is due and, if so, plan it."""
    if state.timestamp < state.last_rebalance + state.cooldown:
        return Decision(
            False, "cooldown: next rebalance allowed at " + str(state.last_rebalance + state.cooldown), state, None
        )
    due, reason = vault.needs_rebalance()
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
