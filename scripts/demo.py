"""ape run demo: the end-to-end demo on ape's embedded local chain (``--auction``: the Dutch
auction scenario, as ``ape run demo_auction``)."""

import click
from ape import accounts, chain, project
from ape.cli import ConnectedProviderCommand, network_option
from ape.logging import logger

from ballast.auction import run_demo as run_auction_demo
from ballast.demo import run


@click.command(cls=ConnectedProviderCommand)
@network_option(default="ethereum:local:test")
@click.option("--days", default=60, show_default=True, help="Days of price path to walk.")
@click.option(
    "--auction",
    is_flag=True,
    help="Instead: a Dutch auction of a rebalance, opened by the upkeep, filled by an independent account, closed.",
)
def cli(network, days, auction):
    """Deploy a 40/30/20/10 vault on a local chain and rebalance it through a rally and a crash."""
    logger.set_level("WARNING")  # one line per transaction would bury the tables
    if auction:
        run_auction_demo(project, chain, accounts.test_accounts, echo=click.echo)
        return
    run(project, chain, accounts.test_accounts, days=days, echo=click.echo)
