"""A vault's revert reasons, each as a sentence a depositor can act on.

``REASONS`` maps every revert string of ``contracts/Vault.vy``, ``Rules.vy``, ``LendingSleeve.vy``, ``contracts/modules/*.vy``, the
lens and the factory (and the snekmate ERC-20 reasons a token or the share can raise) to one
sentence; ``tests/unit/test_depositor_reverts.py`` checks that no string in those sources is
missing. :func:`explain` turns an exception from a call or a transaction into that sentence.
"""

from __future__ import annotations

import re

REASONS: dict[str, str] = {
    # entries and exits
    "vault: paused": "The vault is paused: joins, deposits and rebalances are stopped (exits still work).",
    "vault: shut down": "The vault is shut down for good: only exits remain.",
    "vault: zero receiver": "The receiver is the zero address.",
    "vault: amounts length": "The amounts list must have one entry per basket asset.",
    "vault: first join too small": "The first join into an empty vault must be worth more than the dead shares.",
    "vault: shares below minimum": "The vault would mint fewer shares than your minimum (the price moved past your slippage tolerance).",
    "vault: zero shares": "The amount is too small to mint or burn a single share unit.",
    "vault: amount above maximum": "The join would take more of an asset than your maximum (the basket changed past your slippage tolerance).",
    "vault: empty basket": "The vault holds nothing to join in kind.",
    "vault: zero amount": "The amount is zero.",
    "vault: unknown asset": "That token is not one of the vault's basket assets.",
    "vault: amount below minimum": "The exit would send less of an asset than your minimum (the basket changed past your slippage tolerance).",
    "vault: fee-on-transfer token": "The token delivered less than the amount sent (a fee-on-transfer token), which the vault refuses.",
    # rebalance
    "vault: not keeper": "Only the keeper may rebalance.",
    "vault: no trades": "A rebalance needs at least one trade.",
    "vault: cooldown": "The rebalance cooldown has not passed since the last rebalance.",
    "vault: rebalance not due": "The vault's trigger does not hold: no rebalance is due.",
    "vault: venue not allowed": "The venue is not whitelisted by the vault.",
    "vault: same token": "A trade must sell one asset for a different one.",
    "vault: amount above balance": "A trade sells more than the vault's tracked balance.",
    "vault: venue has no pool": "The venue has no pool for that pair.",
    "vault: venue took wrong amount": "The venue took a different amount than the trade pushed to it.",
    "vault: output below minimum": "A trade returned less than its minimum output.",
    "vault: slippage": "A trade lost more than the vault's slippage limit against the oracle.",
    "vault: cost too high": "The rebalance would lose more value than the vault's cost limit.",
    "vault: turnover cap": "The rebalance would trade more than the vault's turnover cap for this period.",
    "vault: drift grew": "The rebalance would move an asset further from its target.",
    "vault: overshoot": "The rebalance would push an asset past its band on the other side.",
    "vault: drift not reduced": "The rebalance would not reduce the total drift.",
    # owner and guardian
    "vault: not guardian": "Only the owner or the guardian may do this.",
    "vault: zero address": "An address is the zero address.",
    "vault: duplicate asset": "An asset appears twice in the basket.",
    "vault: too few assets": "A vault needs at least two assets.",
    "vault: bad roles": "Those role bits do not exist.",
    "vault: ramp too short": "A target-weight ramp of a funded vault is shorter than the minimum.",
    "vault: slippage too high": "The slippage limit is above the protocol's maximum.",
    "vault: bad turnover cap": "The turnover cap is zero or above ten times the vault's value.",
    "vault: zero turnover period": "The turnover period is zero.",
    "vault: duration too long": "A duration does not fit in 64 bits.",
    "vault: haircut too high": "The entry haircut is above the protocol's maximum.",
    "vault: bad haircut bounds": "The volatility haircut's floor is above its cap, or its horizon is zero.",
    "vault: horizon too long": "The volatility haircut's horizon does not fit in 24 bits (about 194 days).",
    "vault: bad twap window": "The price guard's TWAP window is outside the protocol's bounds (5 minutes to 7 days).",
    "vault: bad deviation bound": "The price guard's deviation bound is zero or above the protocol's maximum.",
    "vault: pool not of asset": "The price guard's pool does not trade that asset.",
    "vault: pool quote not in basket": "The price guard's pool pairs the asset with a token the vault cannot price.",
    "vault: pool history too short": "The pool's observations do not reach back one TWAP window yet: raise its observation cardinality and wait.",
    # entry guard (single-asset deposits and rebalances)
    "vault: price sources disagree": "The asset's oracle price and its pool's TWAP disagree by more than the vault's bound: single-asset deposits of it wait until they agree (joins and exits still work).",
    "vault: rebalance price sources disagree": "An asset's oracle price and its pool's TWAP disagree by more than the vault's bound: the rebalance waits until they agree.",
    "vault: twap unavailable": "A price guard's pool cannot answer for its TWAP window: guarded deposits and rebalances wait (exits still work).",
    "basket: zero band": "A drift band is zero.",
    "basket: bad outer band": "An outer band is below its band or above 100%.",
    "basket: weights length": "The target weights must have one entry per basket asset.",
    "basket: weights sum": "The target weights must sum to 100%.",
    "basket: ramp too long": "The ramp ends too far in the future.",
    "basket: bad trigger": "The trigger type is not calendar, threshold or hybrid.",
    "basket: zero interval": "The rebalance interval is zero.",
    "basket: bad vol reference": "The volatility reference is zero or above 1000%.",
    "basket: bad vol alpha": "The volatility EWMA weight is zero or above 100%.",
    "basket: zero vol interval": "The minimum volatility interval is zero.",
    "basket: interval too long": "An interval does not fit in 64 bits.",
    # pricing (every priced entry, preview and rebalance)
    "pricing: no feed": "An asset has no price feed yet: the vault cannot price it.",
    "pricing: bad answer": "A price feed answered zero or a negative price.",
    "pricing: answer at bound": "A price feed's answer is at its configured minimum or maximum (a circuit breaker).",
    "pricing: future answer": "A price feed's answer is dated in the future.",
    "pricing: stale": "A price feed is stale (older than its heartbeat): priced entries stop until it updates (exits still work).",
    "pricing: zero feed": "The feed address is the zero address.",
    "pricing: bad heartbeat": "The heartbeat is zero or does not fit in 32 bits.",
    "pricing: bad bounds": "The feed's answer bounds are empty or too wide.",
    "pricing: feed decimals": "The feed has too many decimals.",
    "pricing: token decimals": "The token has too many decimals.",
    # periphery
    "lens: unknown asset": "That token is not one of the vault's basket assets.",
    "factory: no blueprint": "The factory's blueprint has no code.",
    "factory: zero owner": "The vault's owner is the zero address.",
    # ERC-20 (snekmate): the basket tokens and the vault's shares
    "erc20: insufficient allowance": "A token's allowance to the vault is too low for this amount.",
    # lending (the vault's LendingSleeve)
    "factory: no rules": "The factory was given no Rules contract.",
    "vault: no sleeve": "The vault has no lending sleeve: nothing can be lent or recalled.",
    "vault: not allocator": "Only an account with the allocator role may lend or recall.",
    "vault: recall short": "The lending market paid back less than the amount recalled.",
    "vault: sleeve already set": "The vault already has its lending sleeve; it can be set only once.",
    "vault: sleeve of another vault": "That lending sleeve belongs to another vault.",
    "sleeve: above max deposit": "The lending market accepts no more than its maxDeposit.",
    "sleeve: bad buffer": "The idle buffer must be at most 10,000 bps.",
    "sleeve: bad max loss": "The loss that pauses lending must be at most 10,000 bps.",
    "sleeve: below idle buffer": "Lending this much would leave the idle balance below its buffer.",
    "sleeve: loss above max": "Lending is paused: the market stands at a loss above the vault's maximum.",
    "sleeve: market asset mismatch": "The market's asset() is not this asset.",
    "sleeve: market has no rate": "The market reports a zero share price.",
    "sleeve: market in use": "The vault still has shares in the current market; recall them before replacing it.",
    "sleeve: market took wrong amount": "The lending market did not take exactly the amount lent.",
    "sleeve: no market": "No lending market is set for this asset.",
    "sleeve: no shares": "The lending market minted no shares for the deposit.",
    "sleeve: not owner": "Only the vault's owner may configure its lending sleeve.",
    "sleeve: not vault": "Only the sleeve's vault may move its funds.",
    "sleeve: nothing owed": "No market shares are owed to you.",
    "sleeve: rate rise too high": "The lent value's rise bound must be at most 100,000 bps a year.",
    "sleeve: recall above lent": "The recall would burn more market shares than the vault holds there.",
    "sleeve: unknown asset": "That asset is not in the vault's basket.",
    "erc20: transfer amount exceeds balance": "A token balance is too low for this amount.",
    "erc20: burn amount exceeds balance": "You hold fewer shares than you are exiting with.",
    "erc20: transfer to the zero address": "The receiver is the zero address.",
    "ownable: caller is not the owner": "Only the vault's owner may do this.",
}

_QUOTED_REASON = re.compile(r"((?:vault|basket|pricing|lens|factory|sleeve|erc20|ownable): [a-z0-9 \-]+)")


def reason_of(error: BaseException | str) -> str | None:
    """The raw revert string in ``error`` (an ape ``ContractLogicError`` or its text), if any."""
    message = getattr(error, "revert_message", None) or str(error)
    if message in REASONS:
        return message
    match = _QUOTED_REASON.search(message)
    return match.group(1).strip() if match else (message or None)


def explain(error: BaseException | str) -> str:
    """One sentence for ``error``: the mapped sentence, with the raw reason in brackets."""
    reason = reason_of(error)
    if reason in REASONS:
        return f"{REASONS[reason]} ({reason!r})"
    return f"The vault reverted: {reason or 'no reason given'}."
