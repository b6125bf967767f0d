"""A persistent local chain: an anvil node that outlives one command, with the demo's vault on it.

``ape run node start`` (``make node``) starts anvil in the background (npm's ``@foundry-rs/anvil``,
the flags ape-foundry itself would use, so ape's test accounts are its unlocked accounts), waits
for it, deploys the spec's market, a factory, a vault and a lens through
:func:`ballast.chain.deploy.deploy_from_spec` (the path of ``ape run deploy``), records them with
the chain id in ``deployments/local.json``, funds the depositor accounts with the basket's mock
tokens and makes the first join through :mod:`ballast.depositor`. ``ape run deploy``,
``ape run keeper`` and ``ape run vault`` then reach it with ``--network ethereum:local:foundry``
(``APE_FOUNDRY_HOST`` for a port other than 8545). ``ape run node advance`` moves its clock (past a
cooldown, say); ``ape run node stop`` (``make node-stop``) stops the process it started, by its
recorded pid.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import time
import urllib.request
from dataclasses import dataclass
from pathlib import Path

from ballast.checks import InputError

NODE_DIR = Path(".node")
DEFAULT_PORT = 8545
# The accounts of ape's test mnemonic (the same as anvil's): deployer, keeper, depositors.
DEPLOYER, KEEPER, DEPOSITORS = 0, 1, (3, 4)
SEED_USD = 1_000_000  # the first join, at target weights
FUND_USD = 250_000  # what each depositor account is given of every asset, in USD per asset


@dataclass
class Node:
    pid: int
    url: str
    log: Path


def _rpc(url: str, method: str, params: list | None = None, timeout: float = 1.0):
    """One JSON-RPC call; ``None`` when nothing answers at ``url``."""
    body = json.dumps({"jsonrpc": "2.0", "id": 1, "method": method, "params": params or []}).encode()
    request = urllib.request.Request(url, body, {"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            return json.loads(response.read()).get("result")
    except (OSError, ValueError):
        return None


def _alive(pid: int) -> bool:
    try:
        cmdline = Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return False
    return b"anvil" in cmdline


def running(folder: str | Path = NODE_DIR) -> Node | None:
    """The node this folder's pid file records, if that anvil process is still alive."""
    folder = Path(folder)
    try:
        record = json.loads((folder / "node.json").read_text())
    except (OSError, ValueError):
        return None
    node = Node(int(record["pid"]), record["url"], folder / "anvil.log")
    return node if _alive(node.pid) else None


def anvil_command(networks, port: int) -> list[str]:
    """The anvil command line ape-foundry would run for ``ethereum:local:foundry`` on ``port``."""
    provider = networks.ethereum.local.get_provider("foundry", provider_settings={"host": f"http://127.0.0.1:{port}"})
    return provider.build_command()


def start(networks, port: int = DEFAULT_PORT, folder: str | Path = NODE_DIR, timeout: float = 30.0) -> Node:
    """Start anvil on ``port`` in its own session (it outlives this process) and wait until it answers.

    Refuses when this folder's node still runs, or when something already answers on the port.
    """
    folder = Path(folder)
    if node := running(folder):
        raise InputError(f"node: already running (pid {node.pid}, {node.url}): stop it first (make node-stop)")
    url = f"http://127.0.0.1:{port}"
    if _rpc(url, "web3_clientVersion") is not None:
        raise InputError(f"--port: something already answers at {url}: choose another port")
    folder.mkdir(parents=True, exist_ok=True)
    log = folder / "anvil.log"
    with log.open("w") as out:
        process = subprocess.Popen(
            anvil_command(networks, port), stdout=out, stderr=subprocess.STDOUT, start_new_session=True
        )
    deadline = time.monotonic() + timeout
    while _rpc(url, "web3_clientVersion") is None:
        if process.poll() is not None or time.monotonic() > deadline:
            process.kill()
            raise InputError(f"node: anvil did not start on {url} (see {log})")
        time.sleep(0.2)
    (folder / "node.json").write_text(json.dumps({"pid": process.pid, "url": url}) + "\n")
    return Node(process.pid, url, log)


def stop(folder: str | Path = NODE_DIR, timeout: float = 10.0) -> Node:
    """Stop the anvil process this folder records (SIGTERM to its pid), and forget it."""
    folder = Path(folder)
    node = running(folder)
    (folder / "node.json").unlink(missing_ok=True)
    if node is None:
        raise InputError(f"node: no node is running from {folder}")
    os.kill(node.pid, signal.SIGTERM)
    deadline = time.monotonic() + timeout
    while _alive(node.pid) and time.monotonic() < deadline:
        time.sleep(0.1)
    return node


def advance(seconds: int, folder: str | Path = NODE_DIR) -> int:
    """Move the running node's clock ``seconds`` ahead and mine a block; returns its timestamp."""
    node = running(folder)
    if node is None:
        raise InputError(f"node: no node is running from {folder}")
    _rpc(node.url, "evm_increaseTime", [int(seconds)])
    _rpc(node.url, "evm_mine")
    return int(_rpc(node.url, "eth_getBlockByNumber", ["latest", False])["timestamp"], 16)


def provision(project, provider, accounts, spec, book: str | Path) -> dict:
    """Deploy ``spec``'s market and vault on the connected node, record them in ``book``, fund the
    depositor accounts and make the first join ($1M at target weights, as account 3).

    @return The deployment record's entry.
    """
    from ballast.chain.deploy import deploy_from_spec, record, target_amounts
    from ballast.depositor import entries
    from ballast.depositor.target import resolve

    deployer, keeper = accounts[DEPLOYER], accounts[KEEPER]
    done = deploy_from_spec(project, deployer, spec, keeper=keeper)
    entry = record(book, provider, done)
    per_asset = [int(FUND_USD / a.price * 10**a.decimals) for a in spec.assets]
    seed = target_amounts(spec, SEED_USD)
    for i in DEPOSITORS:
        for token, fund, extra in zip(done.tokens, per_asset, seed):
            token.mint(accounts[i], fund + (extra if i == DEPOSITORS[0] else 0), sender=deployer)
    target = resolve(project, provider, folder=Path(book).parent)
    first = accounts[DEPOSITORS[0]]
    entries.send(target, entries.preview_join(target, first.address, amounts=seed), first)
    return entry
