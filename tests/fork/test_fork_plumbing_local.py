"""The mainnet-fork suite's machinery, offline: ``existing_market.fork_of`` forks a local anvil
(started here with mainnet's chain id, standing in for ``BALLAST_MAINNET_RPC``), and a vault over
a market deployed on the fork lives through ``run_lifecycle`` with its accounts funded by an
impersonated whale, as ``test_mainnet_fork.py`` does on mainnet's state.

What this cannot show is mainnet itself (its tokens, feeds and pools); what it shows is that ape
test switches to ``ethereum:mainnet-fork:foundry`` and back inside one session, that the fork is
an anvil of its own forking the URL given, that time advances one second a block, and that
impersonation and the keeper path work there.
"""

from __future__ import annotations

import subprocess
import time
from pathlib import Path

import pytest
from existing_market import ExistingMarket, deploy_existing, fork_of, free_port, run_lifecycle, whale_funder

ROOT = Path(__file__).resolve().parents[2]
ANVIL = ROOT / "node_modules" / ".bin" / "anvil"
# Holds no key (only impersonation can move its tokens) and, like the Aave aTokens that fund the
# mainnet suite, has code and no ETH.
WHALE = "0x000000000000000000000000000000000000dEaD"


@pytest.fixture(scope="module")
def upstream():
    """The URL of an anvil of our own on a free port with chain id 1, stopped (by its pid) after."""
    if not ANVIL.exists():
        pytest.skip(f"{ANVIL} is missing: run `npm ci --no-audit --no-fund` (or `make test`)")
    port = free_port()
    node = subprocess.Popen(
        [str(ANVIL), "--port", str(port), "--chain-id", "1", "--silent"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        _wait_for(url, node)
        yield url
    finally:
        node.terminate()
        node.wait(timeout=30)


def _wait_for(url: str, node, seconds: float = 30.0) -> None:
    """Until the node at ``url`` answers a JSON-RPC call (or fail after ``seconds``)."""
    from web3 import HTTPProvider, Web3

    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if node.poll() is not None:
            pytest.fail(f"the upstream anvil exited with status {node.returncode}")
        try:
            if Web3(HTTPProvider(url)).eth.chain_id == 1:
                return
        except Exception:  # not listening yet
            pass
        time.sleep(0.2)
    pytest.fail(f"the upstream anvil at {url} did not answer within {seconds} s")


def test_fork_of__a_local_upstream__lifecycle_with_an_impersonated_whale(
    upstream, networks, project, accounts, chain, tmp_path
):
    local_height = chain.blocks.height
    with fork_of(networks, upstream) as fork:
        assert type(fork).__name__ == "FoundryForkProvider" and fork.fork_url == upstream
        assert fork.network_choice.startswith("ethereum:mainnet-fork:foundry") and fork.chain_id == 1
        owner = accounts[0]
        market = ExistingMarket(project, owner)
        path = market.write_spec(tmp_path)
        spec, done = deploy_existing(project, fork, path, owner, accounts[1])
        tokens = [market.tokens[a.symbol] for a in spec.assets]
        fork.make_request("anvil_setCode", [WHALE, "0x00"])
        for token in tokens:
            token.mint(WHALE, 10**40, sender=owner)
        height, timestamp = chain.blocks.height, chain.blocks.head.timestamp
        fund = whale_funder(accounts, tokens, [WHALE] * len(tokens))
        actors = {"alice": accounts[3], "bob": accounts[4], "keeper": accounts[1]}
        result = run_lifecycle(done, spec, tokens, project.MockERC20.at, fund, actors, chain)
        assert result.realised.fills
        # Time frozen: one second a block, whatever the wall clock did meanwhile.
        assert chain.blocks.head.timestamp - timestamp == chain.blocks.height - height > 10
        assert all(int(t.balanceOf(WHALE)) < 10**40 for t in tokens)  # the whale paid
    assert chain.provider.network.name == "local" and chain.blocks.height == local_height
