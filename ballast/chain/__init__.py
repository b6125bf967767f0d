"""Chain I/O: npm artifacts, deployment from a spec, the vault's state read, market snapshots
and the local arbitrageur, Chainlink's feed contracts."""

from __future__ import annotations

import os
from pathlib import Path

# Where ape-solidity (py-solc-x, which reads this at every call) finds its compilers: the npm
# solc-js shims that `make solc` writes. The Makefile exports the same; this covers a bare
# `ape test` or `ape run` after `make solc`. Without them py-solc-x would try to download.
os.environ.setdefault("SOLCX_BINARY_PATH", str(Path(__file__).resolve().parents[2] / ".solc"))


def skip_debug_log_replay() -> None:
    """Stop ape from replaying every contract transaction to look for ``console.log`` lines.

    After each transaction to a contract, ape builds its call tree to print debug logs; on its
    local ``test`` provider that is one more execution of the whole transaction by ``eth_call``
    (a third of the EVM time of the demo, measured with cProfile). Ballast's contracts and the
    npm contracts it deploys print nothing, so the demo, the bench and the tests switch it off.
    Receipts, events, gas and revert reasons are untouched.
    """
    from ape.api.transactions import ReceiptAPI

    ReceiptAPI.show_debug_logs = _no_debug_logs


def _no_debug_logs(receipt) -> None:
    return None
