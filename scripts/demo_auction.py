"""ape run demo_auction: a Dutch auction of a vault's rebalance on ape's embedded local chain."""

import click
from ape import accounts, chain, project
from ape.cli import ConnectedProviderCommand, network_option
from ape.logging import logger

from ballast.auction import run_demo


@click.command(cls=ConnectedProviderCommand)
@network_option(default="ethereum:local:test")
def cli(network):
    """Open an auction through the Automation upkeep after a WBTC rally, fill it from an
    independent account, close it through the upkeep, and print the fills and the gas."""
    logger.set_level("WARNING")
    run_demo(project, chain, accounts.test_accounts, echo=click.echo)
