"""The persistent local chain (ballast/node.py) on anvil: it outlives the command that started it,
and the depositor CLI works against it across connections until it is stopped.

Skipped without ``node_modules/.bin/anvil``. Runs on a free loopback port, never 8545.
"""

from __future__ import annotations

import json
import os
import socket
from pathlib import Path

import pytest
import yaml
from depositor_cli import run

from ballast import node
from ballast.constants import WAD
from ballast.spec import spec_from_dict

ROOT = Path(__file__).resolve().parents[2]
ANVIL_BIN = ROOT / "node_modules" / ".bin"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def small_demo_spec():
    """specs/demo.yaml on one constant-product AMM with settable feeds: the same vault, deployed fast."""
    data = yaml.safe_load((ROOT / "specs" / "demo.yaml").read_text())
    data["market"] = {"venue": "amm", "fee_bps": 30, "depth_usd": 20_000_000}
    data["feeds"]["kind"] = "mock"
    return spec_from_dict(data)


def test_node__start_provision_cli_across_connections_stop(networks, project, accounts, tmp_path, monkeypatch):
    if not (ANVIL_BIN / "anvil").exists():
        pytest.skip(f"{ANVIL_BIN / 'anvil'} is missing: run `npm ci --no-audit --no-fund` (or `make test`)")
    monkeypatch.setenv("PATH", f"{ANVIL_BIN}{os.pathsep}{os.environ.get('PATH', '')}")
    monkeypatch.delenv("APE_FOUNDRY_HOST", raising=False)
    started = node.start(networks, _free_port(), tmp_path / "node")
    try:
        with pytest.raises(node.InputError, match="already running"):
            node.start(networks, _free_port(), tmp_path / "node")
        settings = {"host": started.url}
        book = tmp_path / "deployments"
        with networks.ethereum.local.use_provider("foundry", provider_settings=settings, disconnect_after=True) as p:
            entry = node.provision(project, p, accounts, small_demo_spec(), book / "local.json")
        assert entry["chain_id"] == 31337
        # A new connection, as the next command makes: the node and its vault are still there.
        with networks.ethereum.local.use_provider("foundry", provider_settings=settings, disconnect_after=True):
            status = json.loads(run(book, "status", "--json").output)["result"]
            assert status["total_value"] // WAD == 1_000_000  # the first join, made by provision
            deposit = run(book, "deposit", "--asset", "USDC", "--amount", "250000", "--yes", "--account", "TEST::4")
            assert deposit.exit_code == 0, deposit.output
            status = json.loads(run(book, "status", "--json").output)["result"]
            assert status["due"] is True and status["reason"] == "outer band"
        assert node.running(tmp_path / "node").pid == started.pid
    finally:
        node.stop(tmp_path / "node")
    assert node.running(tmp_path / "node") is None
