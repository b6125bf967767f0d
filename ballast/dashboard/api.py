"""The dashboard's JSON, built on :mod:`ballast.depositor` (status, history, previews, sends, sentences).

Nothing here re-derives what the depositor library already says: the basket and trigger are
:func:`~ballast.depositor.status.read_status`, the ledger and NAV series are
:func:`~ballast.depositor.history.read_history`, entries and exits are the previews of
:mod:`ballast.depositor.entries` (same tolerances, exact approvals), revert reasons are
:func:`ballast.depositor.reverts.explain`. What this module adds is what a page needs around them:

* the unsigned transactions (``to``, ``data``) of a previewed action, for the page to send through
  an EIP-1193 provider (an injected wallet, or the node's unlocked accounts);
* the in-kind bundle one share redeems for now (the lens's ``preview_exit`` and
  ``preview_exit_lent``) next to its oracle value;
* per lent asset, the lending market's rate and the yield it has paid since the vault first lent.

Integers go out as decimal strings: a browser's JSON numbers lose precision past 2**53, and
balances in base units or WAD are far past it.
"""

from __future__ import annotations

import dataclasses

from ballast.checks import ZERO_ADDRESS, InputError, require_address
from ballast.constants import MAX_BPS, WAD
from ballast.depositor import as_json, entries, history, reverts, status

SECONDS_PER_YEAR = 31_536_000
ERROR_SELECTOR = "0x08c379a0"  # Error(string)


def strings(value):
    """``value`` (JSON-ready data) with every integer as a decimal string (booleans kept)."""
    if isinstance(value, bool) or value is None:
        return value
    if isinstance(value, int):
        return str(value)
    if isinstance(value, dict):
        return {k: strings(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [strings(v) for v in value]
    return value


def _plain(command: str, target, result) -> dict:
    return strings(as_json(command, target, result))


def exit_bundle(target, shares: int = WAD) -> dict:
    """What ``shares`` (default one share) redeem for now, in kind, next to its oracle value.

    Per asset: the idle amount (lens ``preview_exit``) and, with a lending sleeve, the lent part
    as the library previews it (:func:`~ballast.depositor.entries.preview_lent`: the market's
    shares the exit takes, counted in the asset at the market's reported rate, what redeeming
    them pays when the market can); each valued at the oracle price. The total is compared with
    the NAV per share (value of the vault per share, the lens's ``total_value``).
    """
    from ape.exceptions import ContractLogicError

    vault, lens = target.vault, target.lens
    supply = int(vault.totalSupply())
    try:
        idle = [int(x) for x in lens.preview_exit(vault, shares)] if supply else [0] * len(target.tokens)
        prices = [int(vault.price(t.address)) for t in target.tokens]
        lent = {part.index: part for part in entries.preview_lent(target, shares)} if supply else {}
    except ContractLogicError as err:
        return {"error": reverts.explain(err)}
    except entries.VaultReverted as err:
        return {"error": str(err)}
    rows, total = [], 0
    for i, (symbol, decimals, amount, price) in enumerate(zip(target.symbols, target.decimals, idle, prices)):
        part = lent.get(i)
        lent_shares, from_lent = (part.shares, part.assets) if part else (0, 0)
        value = (amount + from_lent) * price // 10**decimals
        total += value
        rows.append(
            {
                "symbol": symbol,
                "decimals": decimals,
                "idle": amount,
                "market_shares": lent_shares,
                "from_lent": from_lent,
                "amount": amount + from_lent,
                "price": price,
                "value": value,
            }
        )
    value_now = int(lens.total_value(vault))
    nav = value_now * WAD // supply if supply else 0
    return strings({"shares": shares, "assets": rows, "total_value": total, "nav_per_share": nav * shares // WAD})


def lending(target, provider) -> list[dict]:
    """Per basket asset with a lending market: what is lent, the market's and the counted rate,
    and the yield the market paid since the vault first lent it (annualised, simple interest
    on the rate: ``(rate_now / rate_then - 1) * year / elapsed``), in bps. Empty without a sleeve."""
    sleeve = entries.lending_sleeve(target)
    if sleeve is None:
        return []
    lent = [int(x) for x in target.lens.lent(target.vault)]
    head = provider.get_block("latest")
    first_lent = {}
    for log in sleeve.Lent.range(0, int(head.number) + 1):
        first_lent.setdefault(str(log.asset).lower(), int(log.block_number))
    rows = []
    for token, symbol, decimals, amount in zip(target.tokens, target.symbols, target.decimals, lent):
        market = str(sleeve.market(token.address))
        if market == ZERO_ADDRESS:
            continue
        rate_now = int(sleeve.reported_rate(token.address))
        counted = int(sleeve.counted_rate(token.address))
        since = first_lent.get(str(token.address).lower())
        yield_bps, elapsed = None, 0
        if since is not None:
            rate_then = int(sleeve.reported_rate(token.address, block_id=since))
            elapsed = int(head.timestamp) - int(provider.get_block(since).timestamp)
            if rate_then and elapsed:
                yield_bps = (rate_now - rate_then) * MAX_BPS * SECONDS_PER_YEAR // (rate_then * elapsed)
        rows.append(
            {
                "symbol": symbol,
                "decimals": decimals,
                "market": market,
                "lent": amount,
                "market_shares": int(sleeve.market_shares(token.address)),
                "reported_rate": rate_now,
                "counted_rate": counted,
                "since_block": since,
                "elapsed": elapsed,
                "yield_bps": yield_bps,
            }
        )
    return strings(rows)


def overview(target, provider) -> dict:
    """Everything the page's read-only panels show, at the latest block."""
    data = _plain("status", target, status.read_status(target))
    data["exit_bundle"] = exit_bundle(target)
    data["lending"] = lending(target, provider)
    return data


def read_history(target, provider) -> dict:
    """The depositor library's history (rebalances with fills, entries and exits, NAV series)."""
    return _plain("history", target, history.read_history(target, provider))


def account(target, address: str) -> dict:
    """``address``'s shares and, per basket asset, its balance and its allowance to the vault."""
    address = require_address(address, "account")
    vault = str(target.vault.address)
    return strings(
        {
            "address": address,
            "shares": int(target.vault.balanceOf(address)),
            "assets": [
                {"symbol": s, "balance": int(t.balanceOf(address)), "allowance": int(t.allowance(address, vault))}
                for s, t in zip(target.symbols, target.tokens)
            ],
        }
    )


def _slippage(request: dict) -> int | None:
    text = str(request.get("slippage_bps", "")).strip()
    if not text:
        return None
    if not text.isdigit():
        raise InputError(f"slippage: must be a whole number of bps, got {text!r}")
    return int(text)


def preview(target, request: dict) -> entries.Action:
    """The :class:`~ballast.depositor.entries.Action` a form asks for: ``kind`` (join | deposit |
    exit), ``sender``, and the amounts as typed (``shares``; ``asset`` and ``amount``; ``amounts``
    for a first join), parsed exactly by :func:`~ballast.depositor.entries.to_units`."""
    kind = request.get("kind")
    sender = require_address(str(request.get("sender", "")), "account")
    receiver = request.get("receiver") or None
    slippage = _slippage(request)
    if kind == "join":
        typed = request.get("amounts") or []
        if any(str(a).strip() for a in typed):
            amounts = [
                entries.to_units(a, d, f"amount of {s}") for a, d, s in zip(typed, target.decimals, target.symbols)
            ]
            return entries.preview_join(target, sender, amounts=amounts, slippage_bps=slippage, receiver=receiver)
        shares = entries.to_units(request.get("shares", ""), entries.SHARE_DECIMALS, "shares")
        return entries.preview_join(target, sender, shares, slippage_bps=slippage, receiver=receiver)
    if kind == "deposit":
        i = target.index(str(request.get("asset", "")))
        amount = entries.to_units(request.get("amount", ""), target.decimals[i], "amount")
        return entries.preview_deposit(target, sender, target.symbols[i], amount, slippage, receiver)
    if kind == "exit":
        shares = entries.to_units(request.get("shares", ""), entries.SHARE_DECIMALS, "shares")
        return entries.preview_exit(target, sender, shares, slippage, receiver)
    raise InputError(f"kind: must be join, deposit or exit, got {kind!r}")


def transactions(target, action: entries.Action) -> list[dict]:
    """The unsigned transactions of ``action`` in the order :func:`~ballast.depositor.entries.send`
    sends them: each exact approval, then the vault call with its bounds."""
    vault = target.vault
    txs = []
    for approval in action.approvals:
        token = target.tokens[action.symbols.index(approval.symbol)]
        txs.append(
            {
                "label": f"approve {approval.symbol}",
                "from": action.sender,
                "to": str(token.address),
                "data": _hex(token.approve.encode_input(vault.address, approval.amount)),
            }
        )
    method = getattr(vault, action.kind)
    txs.append(
        {
            "label": action.kind,
            "from": action.sender,
            "to": str(vault.address),
            "data": _hex(method.encode_input(*action.args)),
        }
    )
    return txs


def _hex(data) -> str:
    text = data.hex() if isinstance(data, bytes | bytearray) else str(data)
    return text if text.startswith("0x") else "0x" + text


def prepare(target, request: dict) -> dict:
    """The preview (the library's :class:`Action` and its text) and the transactions to send."""
    action = preview(target, request)
    return {
        "preview": _plain(action.kind, target, action)["result"],
        "text": entries.format_action(action),
        "transactions": transactions(target, action),
    }


def decode(target, provider, request: dict) -> dict:
    """The mined entry or exit of ``tx_hash``, decoded by the library (its event), with its line;
    an exit's lent part (the library's :attr:`~ballast.depositor.entries.Sent.lent`) goes out
    beside it as ``lent``."""
    kind = request.get("kind")
    if kind not in ("join", "deposit", "exit"):
        raise InputError(f"kind: must be join, deposit or exit, got {kind!r}")
    receipt = provider.get_receipt(str(request.get("tx_hash", "")))
    if receipt.failed:
        return {"error": explain_failed(receipt, provider)}
    sent = entries.decode(target, kind, receipt, [str(h) for h in request.get("approvals", [])])
    # The page's shapes as before the lent part joined Sent: ``sent`` without it, ``lent`` beside
    # it with the fields the page reads (the owed shares are in the text).
    plain = dataclasses.asdict(sent)
    lent = [{k: v for k, v in part.items() if k != "owed"} for part in plain.pop("lent")]
    return {"sent": strings(plain), "lent": strings(lent), "text": entries.format_sent(sent, target)}


def explain_failed(receipt, provider) -> str:
    """A mined, failed transaction's reason as the library's sentence: the revert string of its
    trace, else of the same call replayed at the block before it (a node that mined it without
    estimating gas first, as anvil does for its unlocked accounts)."""
    try:
        message = receipt.trace.revert_message
    except Exception:  # noqa: BLE001 - a node without traces: replay instead
        message = None
    if not message:
        call = {"from": str(receipt.sender), "to": str(receipt.receiver), "data": _hex(receipt.transaction.data)}
        try:
            provider.make_request("eth_call", [call, hex(int(receipt.block_number) - 1)])
        except Exception as err:  # noqa: BLE001 - the revert is what is looked for
            message = getattr(err, "revert_message", None) or str(err)
    return reverts.explain(message or "")


def error_reason(message: str, data=None) -> str:
    """The revert string of a JSON-RPC error: ``Error(string)`` decoded from ``data`` when it
    carries one, else the message itself."""
    if isinstance(data, dict):  # some wallets nest it: {"data": {"data": "0x..."}}
        data = data.get("data")
    if isinstance(data, str) and data.startswith(ERROR_SELECTOR) and len(data) > 10:
        from eth_abi import decode as abi_decode

        try:
            return abi_decode(["string"], bytes.fromhex(data[10:]))[0]
        except Exception:  # noqa: BLE001 - malformed data: fall back on the message
            pass
    return str(message or "")


def explain(request: dict) -> dict:
    """A wallet's or node's error for a sent transaction, as the library's sentence."""
    return {"error": reverts.explain(error_reason(request.get("message", ""), request.get("data")))}
