"""ape run bench: the gas and throughput benchmark (ballast/bench/); writes BENCHMARKS.md.

Needs anvil on PATH (``npm install`` puts it in node_modules/.bin). ape-foundry starts it;
this script asks for the Cancun hardfork (the vault's compile target) and a free local port,
unless ape-config.yaml or APE_FOUNDRY_HOST say otherwise.
"""

import os
import shutil
import socket
from pathlib import Path

import click
from ape import accounts, chain, networks, project
from ape.logging import logger

from ballast.bench import ROOT, ape_local_tps, run, run_lending, run_peers
from ballast.bench.run import run_auction
from ballast.checks import InputError, click_errors, require_folder_for, require_network


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _provider_settings(network: str) -> dict:
    if not network.endswith(":foundry"):
        return {}
    configured = networks.ethereum.local.get_provider("foundry").config
    settings = {}
    if not configured.evm_version:
        settings["evm_version"] = "cancun"
    if not configured.host and "APE_FOUNDRY_HOST" not in os.environ:
        settings["host"] = f"http://127.0.0.1:{_free_port()}"
    return settings


@click.command()
@click.option("--network", default="ethereum:local:foundry", show_default=True, help="ape network choice.")
@click.option("--output", default=str(ROOT / "BENCHMARKS.md"), show_default=True, type=click.Path(path_type=Path))
@click.option("--no-stateful", is_flag=True, help="Skip the titanoboa state machine's steps/s (saves ~3 minutes).")
@click.option(
    "--only",
    type=click.Choice(["lending", "peers", "auction"]),
    default=None,
    help="Print one part alone, writing nothing (lending: about a minute; peers: the race's tables, "
    "then their Markdown; auction: the pool and auction routes under an adversary, and each fill's price).",
)
def cli(network, output, no_stateful, only):
    """Measure gas (join, deposit, exit, rebalance; 2, 4, 8 assets) and throughput on anvil."""
    with click_errors():  # before the first transaction (the throughput run below)
        require_folder_for(output, "--output")
        if network.endswith(":foundry") and shutil.which("anvil") is None:
            raise InputError(f"--network: {network!r} needs anvil on PATH (`npm ci` puts it in node_modules/.bin)")
        target = require_network(network, networks, _provider_settings(network))
    logger.set_level("WARNING")  # one line per transaction would bury the tables
    if only == "lending":
        with target as provider:
            run_lending(project, chain, accounts.test_accounts, provider, echo=click.echo)
        return
    if only == "auction":
        with target as provider:
            run_auction(project, chain, accounts.test_accounts, provider, echo=click.echo)
        return
    if only == "peers":
        with target as provider:
            run_peers(project, chain, accounts.test_accounts, provider, echo=click.echo)
        return
    click.echo("Throughput: ape transactions on ape's embedded local network ...")
    local_tps = ape_local_tps(project, accounts.test_accounts, networks)
    with target as provider:
        run(
            project,
            chain,
            accounts.test_accounts,
            provider,
            output,
            echo=click.echo,
            stateful=not no_stateful,
            local_tps=local_tps,
        )
