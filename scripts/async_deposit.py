"""ape run async_deposit: one asynchronous deposit (request, delay, new rounds, settle, claim) into the
demo basket (specs/demo.yaml) priced by Chainlink's own feeds, on ape's embedded local chain."""

import click
from ape import accounts, chain, project
from ape.cli import ConnectedProviderCommand, network_option
from ape.logging import logger

from ballast.chain import chainlink, skip_debug_log_replay
from ballast.chain.deploy import deploy_factory, deploy_vault, feed_answer, load_spec, target_amounts
from ballast.demo import SPEC
from ballast.depositor.requests import demo_async_deposit


@click.command(cls=ConnectedProviderCommand)
@network_option(default="ethereum:local:test")
def cli(network):
    """Deploy the demo basket without venues, seed $1M, and settle one queued WBTC deposit."""
    logger.set_level("WARNING")
    skip_debug_log_replay()
    owner, keeper, alice, bob = accounts.test_accounts[:4]
    spec = load_spec(SPEC)
    tokens = [project.MockERC20.deploy(a.symbol, a.symbol, a.decimals, sender=owner) for a in spec.assets]
    feeds = [
        chainlink.deploy_feed(owner, spec.feed_decimals, feed_answer(a.price, spec.feed_decimals)) for a in spec.assets
    ]
    vault = deploy_vault(project, owner, spec, tokens, feeds, [], keeper=keeper, factory=deploy_factory(project, owner))
    amounts = target_amounts(spec, 1_000_000)
    for token, amount in zip(tokens, amounts):
        token.mint(alice, amount, sender=owner)
        token.approve(vault, amount, sender=alice)
    vault.join(0, amounts, alice, sender=alice)
    click.echo(f"{spec.name}: $1M joined at {'/'.join(str(a.target_bps // 100) for a in spec.assets)}")
    demo_async_deposit(project, chain, vault, tokens, feeds, bob, keeper, owner, echo=click.echo)
