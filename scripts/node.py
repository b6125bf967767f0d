"""ape run node start|advance|stop|status: a persistent local anvil with the demo's vault (ballast/node.py).

ape run node start     # anvil on 127.0.0.1:8545, the demo's market and vault, deployments/local.json
ape run vault status --network ethereum:local:foundry
ape run node stop
"""

import click
from ape import accounts, networks, project
from ape.logging import logger

from ballast import node
from ballast.chain import skip_debug_log_replay
from ballast.chain.deploy import load_spec, read_deployments
from ballast.checks import click_errors, require_range


@click.group()
def cli():
    """A local anvil node that outlives one command."""


@cli.command()
@click.option("--spec", "spec_path", default="specs/demo.yaml", show_default=True, help="Portfolio spec (YAML).")
@click.option("--port", type=int, default=node.DEFAULT_PORT, show_default=True, help="Loopback port.")
@click.option("--out", default="deployments", show_default=True, help="Folder for local.json.")
def start(spec_path, port, out):
    """Start anvil, deploy SPEC's market and vault, fund depositors and make the first join."""
    with click_errors():
        require_range(port, "--port", 1024, 65535)
        spec = load_spec(spec_path)
        book = f"{out}/local.json"
        read_deployments(book)
        started = node.start(networks, port)
    click.echo(f"anvil pid {started.pid} at {started.url} (log {started.log})")
    logger.set_level("WARNING")
    skip_debug_log_replay()
    settings = {"host": started.url}
    with networks.ethereum.local.use_provider("foundry", provider_settings=settings) as provider:
        entry = node.provision(project, provider, accounts.test_accounts, spec, book)
    click.echo(f"vault {entry['vault']}\nlens {entry['lens']}\nfactory {entry['factory']}")
    click.echo(f"venues {', '.join(entry['venues'])}")
    click.echo(f"recorded in {book} (chain id {entry['chain_id']}); keeper TEST::1, depositors TEST::3, TEST::4")
    if port != node.DEFAULT_PORT:
        click.echo(f"export APE_FOUNDRY_HOST={started.url}  # for --network ethereum:local:foundry")
    click.echo("next: ape run vault status --network ethereum:local:foundry; stop: ape run node stop")


@cli.command()
def stop():
    """Stop the node started by `ape run node start`."""
    with click_errors():
        stopped = node.stop()
    click.echo(f"stopped anvil pid {stopped.pid} at {stopped.url}")


@cli.command()
@click.option("--seconds", type=int, default=3_600, show_default=True, help="How far to move the clock.")
def advance(seconds):
    """Move the node's clock forward and mine a block (anvil's evm_increaseTime)."""
    with click_errors():
        require_range(seconds, "--seconds", 1)
        timestamp = node.advance(seconds)
    click.echo(f"clock moved {seconds} s: latest block at {timestamp}")


@cli.command()
def status():
    """Whether the node runs."""
    found = node.running()
    click.echo(f"anvil pid {found.pid} at {found.url}" if found else "no node running")
