"""Depositors' tools, written once for the command line (``ape run vault``) and a future page.

* :mod:`.target`: which vault, checked (network, code, a Ballast vault, its lens);
* :mod:`.status`: basket, weights against targets and bands, NAV, the trigger and why;
* :mod:`.entries`: join, deposit, exit: preview -> check -> confirm -> send -> decode;
* :mod:`.history`: rebalances with fills, entries and exits, NAV per share, from events;
* :mod:`.reverts`: every revert reason of the vault as a sentence;
* :func:`as_json`: any of their results as plain JSON data.
"""

from __future__ import annotations

import dataclasses


def as_json(command: str, target, result) -> dict:
    """``result`` (a dataclass or a dict of them) as JSON-ready data, with the command and where it ran.

    Integers stay integers in their on-chain units (base units, WAD, bps).
    """

    def plain(value):
        if dataclasses.is_dataclass(value):
            return {k: plain(v) for k, v in dataclasses.asdict(value).items()}
        if isinstance(value, dict):
            return {k: plain(v) for k, v in value.items()}
        if isinstance(value, list | tuple):
            return [plain(v) for v in value]
        return value if value is None or isinstance(value, bool | int | float | str) else str(value)

    return {
        "command": command,
        "network": target.network,
        "chain_id": target.chain_id,
        "vault": str(target.vault.address),
        "lens": str(target.lens.address),
        "assets": [
            {"symbol": s, "address": str(t.address), "decimals": d}
            for s, t, d in zip(target.symbols, target.tokens, target.decimals)
        ],
        "result": plain(result),
    }
