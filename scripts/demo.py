"""ape run demo: the end-to-end demo on ape's embedded local chain."""

import click
from ape import accounts, chain, project
from ape.cli import ConnectedProviderCommand, network_option
from ape.logging import logger

from ballast.demo import run


@click.command(cls=ConnectedProviderCommand)
@network_option(default="ethereum:local:test")
@click.option("--days", default=60, show_default=True, help="Days of price path to walk.")
def cli(network, days):
    """Deploy a 40/30/20/10 vault on a local chain and rebalance it through a rally and a crash."""
    logger.set_level("WARNING")  # one line per transaction would bury the tables
    run(project, chain, accounts.test_accounts, days=days, echo=click.echo)
