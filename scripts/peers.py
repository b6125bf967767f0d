"""ape run peers: Ballast against Set Protocol v2 and Balancer V2 on the same chain and moves."""

import click
from ape import accounts, chain, project
from ape.cli import ConnectedProviderCommand

from ballast.peers.race import run


@click.command(cls=ConnectedProviderCommand)
def cli(network, provider):
    """Bring a $1M Ballast vault, SetToken and Balancer pool back to target through two WBTC moves."""
    run(project, chain, accounts.test_accounts, echo=click.echo)
