"""``join``, ``deposit`` and ``exit``, written once: preview -> check -> (confirm) -> send -> decode.

* :func:`preview_join`, :func:`preview_deposit`, :func:`preview_exit` read the lens's preview and
  derive the transaction's bound from it (``max_amounts_in`` / ``min_shares`` /
  ``min_amounts_out``) with a tolerance in bps, then check the sender's balances and allowances:
  an :class:`~ballast.checks.InputError` names what is short before anything is sent;
* the caller shows :func:`format_action` and asks for confirmation;
* :func:`send` sends the exact approvals the action needs, then the entry or exit; a revert
  raises :class:`VaultReverted` with the vault's reason as a sentence (:mod:`.reverts`);
* the returned :class:`Sent` is decoded from the receipt's ``Join``, ``Deposit`` or ``Exit`` event.

In a vault with a lending sleeve an exit has a second part: the vault pays the idle pro-rata
amounts (its ``Exit`` event, bounded by ``min_amounts_out``), then the sleeve pays the holder's
part of each market position, redeemed into the asset when the market can pay, else delivered as
market shares, else owed for a later ``claim``. :class:`LentPart` carries it, previewed
(:attr:`Action.lent`) and mined (:attr:`Sent.lent`, :func:`exit_lent_paid`).

Amounts are integers in base units (shares in WAD); :func:`to_units` parses what a user types.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation

from ballast.checks import ZERO_ADDRESS, InputError, require_range
from ballast.constants import DEAD_SHARES, MAX_BPS, RATE_SHARES, WAD
from ballast.depositor.reverts import explain

# Default tolerance between the preview and the transaction: the bound is the preview moved by it.
DEFAULT_SLIPPAGE_BPS = 50
SHARE_DECIMALS = 18


class VaultReverted(Exception):
    """The vault (or a token) refused a call or a transaction; the message is its reason as a sentence."""


def to_units(text, decimals: int, what: str) -> int:
    """``text`` (e.g. ``"1.5"``) in base units of ``decimals``; exact, positive, or :class:`InputError`."""
    try:
        amount = Decimal(str(text).strip().replace("_", ""))
    except InvalidOperation:
        raise InputError(f"{what}: must be a number, got {text!r}") from None
    units = amount.scaleb(decimals)
    if not amount.is_finite() or units != units.to_integral_value():
        raise InputError(f"{what}: must be a number with at most {decimals} decimals, got {text!r}")
    if units <= 0:
        raise InputError(f"{what}: must be positive, got {text!r}")
    return int(units)


def require_slippage(bps: int | None) -> int:
    """The tolerance in bps (default :data:`DEFAULT_SLIPPAGE_BPS`), 0 to 9,999."""
    return DEFAULT_SLIPPAGE_BPS if bps is None else int(require_range(bps, "--slippage-bps", 0, MAX_BPS - 1))


def _up(amount: int, bps: int) -> int:
    return -(-amount * (MAX_BPS + bps) // MAX_BPS)  # rounded up: a maximum in


def _down(amount: int, bps: int) -> int:
    return amount * (MAX_BPS - bps) // MAX_BPS  # rounded down: a minimum out


@dataclass
class Approval:
    """An ERC-20 approval the action needs first: exactly ``amount`` for the vault."""

    symbol: str
    token: str
    amount: int
    allowance: int  # the current one


@dataclass
class LentPart:
    """One asset's part of an exit that the vault's lending sleeve pays, beside the idle amounts.

    Previewed (:attr:`Action.lent`): the ``shares`` of the market the exit takes and ``assets``,
    their value at the market's reported rate, rounded down (what redeeming them pays when the
    market can). Mined (:attr:`Sent.lent`): ``assets`` redeemed into the asset, or, ``in_kind``,
    none and the ``shares`` delivered as market shares; of those, ``owed`` that the market would
    not even transfer, kept by the sleeve for the receiver's ``claim(market)``.
    """

    symbol: str
    decimals: int
    index: int  # in the basket
    market: str
    shares: int  # market shares, in the market's own units
    assets: int  # base units of the asset
    in_kind: bool = False
    owed: int = 0


@dataclass
class Action:
    """One previewed entry or exit, ready to confirm and send.

    ``pay`` and ``receive`` are the preview (base units in basket order; ``shares`` in WAD);
    ``args`` are the vault call's arguments, bounds included.
    """

    kind: str  # join | deposit | exit
    vault: str
    sender: str
    receiver: str
    slippage_bps: int
    shares: int  # shares minted (preview) or burnt
    min_shares: int  # for deposit (and a first join): fewest shares accepted
    pay: list[int]  # amounts paid in, per asset (deposit: one non-zero)
    bound: list[int]  # join: max_amounts_in; exit: min_amounts_out; deposit: the amount per asset
    receive: list[int]  # exit: amounts out, per asset
    symbols: list[str]
    decimals: list[int]
    args: tuple
    approvals: list[Approval] = field(default_factory=list)
    usd_value: int = 0  # deposit: oracle value of the amount (WAD), before the haircut
    lent: list[LentPart] = field(default_factory=list)  # exit: what the lending sleeve pays, not bounded


@dataclass
class Sent:
    """A mined entry or exit, decoded from its event."""

    kind: str
    tx_hash: str
    gas_used: int
    approvals: list[str]  # approval transaction hashes
    shares: int
    amounts: list[int]  # paid in (join, deposit) or sent out (exit), per asset; exit: the idle part
    usd_value: int = 0  # deposit only
    lent: list[LentPart] = field(default_factory=list)  # exit: what the lending sleeve paid


def _call(view, *args):
    """A lens or vault view; a revert becomes :class:`VaultReverted` with its sentence."""
    from ape.exceptions import ContractLogicError

    try:
        return view(*args)
    except ContractLogicError as err:
        raise VaultReverted(explain(err)) from None


def lending_sleeve(target):
    """The vault's ``LendingSleeve`` contract, or ``None`` without one."""
    from ape import project

    address = str(target.vault.sleeve())
    return None if address == ZERO_ADDRESS else project.LendingSleeve.at(address)


def preview_lent(target, shares: int) -> list[LentPart]:
    """The lent part an exit of ``shares`` would take (lens ``preview_exit_lent``), per asset with
    market shares to take, valued at the market's reported rate; empty without a sleeve."""
    sleeve = lending_sleeve(target)
    if sleeve is None:
        return []
    market_shares = [int(x) for x in _call(target.lens.preview_exit_lent, target.vault, shares)]
    parts = []
    for i, (token, taken) in enumerate(zip(target.tokens, market_shares)):
        if taken == 0:
            continue
        rate = int(sleeve.reported_rate(token.address))
        parts.append(
            LentPart(
                target.symbols[i],
                target.decimals[i],
                i,
                str(sleeve.market(token.address)),
                taken,
                taken * rate // RATE_SHARES,
            )
        )
    return parts


def exit_lent_paid(target, receipt) -> list[LentPart]:
    """An exit's lent part, from its sleeve's ``ExitPaid`` events (and ``Owed``, for the shares it
    could neither redeem nor transfer), one per asset paid; empty without a sleeve. The vault's
    ``Exit`` event carries the idle part only."""
    sleeve = lending_sleeve(target)
    if sleeve is None:
        return []
    owed: dict[str, int] = {}
    for event in receipt.events.filter(sleeve.Owed):
        market = str(event.market).lower()
        owed[market] = owed.get(market, 0) + int(event.shares)
    index = {str(t.address).lower(): i for i, t in enumerate(target.tokens)}
    paid = []
    for event in receipt.events.filter(sleeve.ExitPaid):
        i = index[str(event.asset).lower()]
        market = str(event.market)
        paid.append(
            LentPart(
                target.symbols[i],
                target.decimals[i],
                i,
                market,
                int(event.shares),
                int(event.assets),
                bool(event.in_kind),
                owed.get(market.lower(), 0),
            )
        )
    return paid


def _open(target) -> None:
    """Joins and deposits need an open vault: said before any preview."""
    if target.lens.is_shutdown(target.vault):
        raise VaultReverted(explain("vault: shut down"))
    if target.lens.paused(target.vault):
        raise VaultReverted(explain("vault: paused"))


def _check_payments(target, sender: str, amounts: list[int], approve: bool) -> list[Approval]:
    """Balances must cover ``amounts``; short allowances become approvals (or errors with ``approve=False``)."""
    approvals = []
    vault = str(target.vault.address)
    for token, symbol, decimals, amount in zip(target.tokens, target.symbols, target.decimals, amounts):
        if amount == 0:
            continue
        balance = int(token.balanceOf(sender))
        if balance < amount:
            raise InputError(
                f"--account: {sender} holds {balance / 10**decimals:,.{decimals}f} {symbol}, "
                f"needs {amount / 10**decimals:,.{decimals}f}: insufficient balance"
            )
        allowance = int(token.allowance(sender, vault))
        if allowance < amount:
            if not approve:
                raise InputError(
                    f"--no-approve: {sender} allows the vault {allowance / 10**decimals:,.{decimals}f} {symbol}, "
                    f"needs {amount / 10**decimals:,.{decimals}f}: insufficient allowance"
                )
            approvals.append(Approval(symbol, str(token.address), amount, allowance))
    return approvals


def _action(target, kind, sender, receiver, slippage, **fields) -> Action:
    n = len(target.tokens)
    defaults = dict(shares=0, min_shares=0, pay=[0] * n, bound=[0] * n, receive=[0] * n)
    defaults.update(fields)
    return Action(
        kind=kind,
        vault=str(target.vault.address),
        sender=str(sender),
        receiver=str(receiver),
        slippage_bps=slippage,
        symbols=target.symbols,
        decimals=target.decimals,
        **defaults,
    )


def preview_join(
    target, sender, shares: int = 0, amounts: list[int] | None = None, slippage_bps=None, receiver=None, approve=True
) -> Action:
    """A join of ``shares`` (WAD) at the lens's ``preview_join``, each amount's maximum raised by
    the tolerance. Into an empty vault, the first join pays exactly ``amounts`` and its minimum is
    their oracle value less the dead shares, lowered by the tolerance."""
    slippage = require_slippage(slippage_bps)
    receiver = str(receiver or sender)
    _open(target)
    vault, lens = target.vault, target.lens
    supply = int(vault.totalSupply())
    if supply == 0:
        if not amounts or len(amounts) != len(target.tokens) or not any(amounts):
            raise InputError(
                f"--amounts: the vault is empty: the first join needs one amount per asset ({', '.join(target.symbols)})"
            )
        prices = [int(_call(vault.price, t.address)) for t in target.tokens]
        value = sum(a * p // 10**d for a, p, d in zip(amounts, prices, target.decimals))
        if value <= DEAD_SHARES:
            raise VaultReverted(explain("vault: first join too small"))
        minted, minimum = value - DEAD_SHARES, _down(value - DEAD_SHARES, slippage)
        approvals = _check_payments(target, str(sender), amounts, approve)
        return _action(
            target,
            "join",
            sender,
            receiver,
            slippage,
            shares=minted,
            min_shares=minimum,
            pay=list(amounts),
            bound=list(amounts),
            args=(minimum, list(amounts), receiver),
            approvals=approvals,
        )
    if amounts:
        raise InputError("--amounts: only for the first join into an empty vault; give --shares")
    if shares <= 0:
        raise InputError("--shares: must be positive")
    pay = [int(x) for x in _call(lens.preview_join, vault, shares)]
    bound = [_up(a, slippage) for a in pay]
    approvals = _check_payments(target, str(sender), bound, approve)
    return _action(
        target,
        "join",
        sender,
        receiver,
        slippage,
        shares=shares,
        pay=pay,
        bound=bound,
        args=(shares, bound, receiver),
        approvals=approvals,
    )


def preview_deposit(target, sender, asset: str, amount: int, slippage_bps=None, receiver=None, approve=True) -> Action:
    """A single-asset deposit of ``amount`` base units of ``asset`` (address or symbol) at the lens's
    ``preview_deposit``, the minimum shares lowered by the tolerance."""
    slippage = require_slippage(slippage_bps)
    receiver = str(receiver or sender)
    i = target.index(asset)
    _open(target)
    token = target.tokens[i]
    shares = int(_call(target.lens.preview_deposit, target.vault, token.address, amount))
    if shares == 0:
        raise VaultReverted(explain("vault: zero shares"))
    price = int(_call(target.vault.price, token.address))
    pay = [0] * len(target.tokens)
    pay[i] = amount
    approvals = _check_payments(target, str(sender), pay, approve)
    minimum = _down(shares, slippage)
    return _action(
        target,
        "deposit",
        sender,
        receiver,
        slippage,
        shares=shares,
        min_shares=minimum,
        pay=pay,
        bound=list(pay),
        args=(str(token.address), amount, minimum, receiver),
        approvals=approvals,
        usd_value=amount * price // 10 ** target.decimals[i],
    )


def preview_exit(target, sender, shares: int, slippage_bps=None, receiver=None) -> Action:
    """An exit of ``shares`` (WAD) at the lens's ``preview_exit``, each minimum lowered by the
    tolerance, and, with a lending sleeve, the lent part (:func:`preview_lent`), which the minimums
    do not bound: the sleeve pays it whatever its market can do. Works while paused or shut down,
    as the vault's exit does."""
    slippage = require_slippage(slippage_bps)
    receiver = str(receiver or sender)
    held = int(target.vault.balanceOf(sender))
    if held == 0:
        raise InputError(f"--account: {sender} holds no shares of vault {target.vault.address}")
    if shares <= 0:
        raise InputError("--shares: must be positive")
    if held < shares:
        raise InputError(
            f"--shares: {sender} holds {held / WAD:,.18f} shares, exiting {shares / WAD:,.18f}: insufficient balance"
        )
    receive = [int(x) for x in _call(target.lens.preview_exit, target.vault, shares)]
    bound = [_down(a, slippage) for a in receive]
    return _action(
        target,
        "exit",
        sender,
        receiver,
        slippage,
        shares=shares,
        receive=receive,
        bound=bound,
        args=(shares, bound, receiver),
        lent=preview_lent(target, shares),
    )


def format_action(action: Action) -> str:
    """The preview, as the confirmation shows it."""

    def amount(x, i):
        d = action.decimals[i]
        return f"{x / 10**d:,.{min(d, 8)}f}"

    lines = [f"{action.kind} on vault {action.vault} from {action.sender} (receiver {action.receiver})"]
    if action.kind == "exit":
        lines.append(f"burn {action.shares / WAD:,.6f} shares; receive (at least, -{action.slippage_bps} bps):")
        rows = zip(action.receive, action.bound)
    elif action.kind == "join":
        minted = f"mint {action.shares / WAD:,.6f} shares"
        if action.min_shares:
            minted += f" (at least {action.min_shares / WAD:,.6f}, -{action.slippage_bps} bps)"
        lines.append(f"{minted}; pay (at most, +{action.slippage_bps} bps):")
        rows = zip(action.pay, action.bound)
    else:
        lines.append(
            f"pay {', '.join(amount(x, i) + ' ' + s for i, (x, s) in enumerate(zip(action.pay, action.symbols)) if x)}"
            f" (oracle value ${action.usd_value / WAD:,.2f}); mint {action.shares / WAD:,.6f} shares "
            f"(at least {action.min_shares / WAD:,.6f}, -{action.slippage_bps} bps)"
        )
        rows = ()
    for i, (preview, bound) in enumerate(rows):
        lines.append(f"  {action.symbols[i]:<8} {amount(preview, i):>20} {amount(bound, i):>20}")
    if action.lent:
        lines.append("and from lending, at each market's rate (the minimums above bound only the idle part):")
        for part in action.lent:
            lines.append(f"  {part.symbol:<8} {amount(part.assets, part.index):>20}   {part.shares:,} market shares")
        lines.append("  redeemed into the asset when its market can pay, else delivered as the market's shares")
    for a in action.approvals:
        i = action.symbols.index(a.symbol)
        lines.append(
            f"approve {amount(a.amount, i)} {a.symbol} for the vault first (allowance {amount(a.allowance, i)})"
        )
    return "\n".join(lines)


def _send(method, *args, sender):
    from ape.exceptions import ContractLogicError

    try:
        return method(*args, sender=sender)
    except ContractLogicError as err:
        raise VaultReverted(explain(err)) from None


def send(target, action: Action, account) -> Sent:
    """Send ``action``'s approvals (exact amounts), then its entry or exit; decode the receipt."""
    vault = target.vault
    approval_hashes = []
    for a in action.approvals:
        token = target.tokens[action.symbols.index(a.symbol)]
        receipt = _send(token.approve, vault.address, a.amount, sender=account)
        approval_hashes.append(str(receipt.txn_hash))
    method = {"join": vault.join, "deposit": vault.deposit, "exit": vault.exit}[action.kind]
    receipt = _send(method, *action.args, sender=account)
    return decode(target, action.kind, receipt, approval_hashes)


def decode(target, kind: str, receipt, approvals: list[str] | None = None) -> Sent:
    """The :class:`Sent` of ``receipt`` from its ``Join``, ``Deposit`` or ``Exit`` event."""
    vault = target.vault
    event_type = {"join": vault.Join, "deposit": vault.Deposit, "exit": vault.Exit}[kind]
    event = receipt.events.filter(event_type)[0]
    if kind == "deposit":
        amounts = [int(event.amount) if str(t.address) == str(event.asset) else 0 for t in target.tokens]
        usd = int(event.usd_value)
    else:
        amounts, usd = [int(x) for x in event.amounts], 0
    lent = exit_lent_paid(target, receipt) if kind == "exit" else []
    return Sent(
        kind, str(receipt.txn_hash), int(receipt.gas_used), list(approvals or []), int(event.shares), amounts, usd, lent
    )


def _lent_text(part: LentPart) -> str:
    """One mined lent part, as :func:`format_sent` says it."""
    if not part.in_kind:
        return f"{part.assets / 10**part.decimals:,.{min(part.decimals, 8)}f} {part.symbol} redeemed"
    if part.owed:
        return f"{part.owed:,} market shares of {part.symbol} owed: claim them from the sleeve (market {part.market})"
    return f"{part.shares:,} market shares of {part.symbol} in kind (its market could not pay)"


def format_sent(sent: Sent, target) -> str:
    """The mined entry or exit, in a line; an exit's lent part follows its idle amounts."""
    moved = ", ".join(
        f"{x / 10**d:,.{min(d, 8)}f} {s}" for x, s, d in zip(sent.amounts, target.symbols, target.decimals) if x
    )
    verb = {"join": "paid", "deposit": "paid", "exit": "received"}[sent.kind]
    shares = {"exit": "burnt"}.get(sent.kind, "minted")
    if sent.lent:
        moved = (moved or "nothing from idle") + "; from lending: " + ", ".join(_lent_text(p) for p in sent.lent)
    return f"{sent.kind}: {shares} {sent.shares / WAD:,.6f} shares, {verb} {moved}; gas {sent.gas_used:,}, tx {sent.tx_hash}"
