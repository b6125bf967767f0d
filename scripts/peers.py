"""ape run peers: Ballast against Set Protocol v2 on the same chain, pools and moves."""

import click
from ape import accounts, chain, project
from ape.cli import ConnectedProviderCommand

from ballast.peers.race import run


@click.command(cls=ConnectedProviderCommand)
def cli(network, provider):
    """Rebalance a $1M Ballast vault and a $1M SetToken through the same two WBTC moves."""
    run(project, chain, accounts.test_accounts, echo=click.echo)
