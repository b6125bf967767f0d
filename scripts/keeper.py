"""ape run keeper: one keeper decision. Dry run by default; --send executes the rebalance."""

import click
from ape import chain, project
from ape.cli import ConnectedProviderCommand, account_option

from ballast import keeper as keeper_path
from ballast.chain.erc20 import token_at
from ballast.checks import (
    click_callback,
    click_errors,
    require_address,
    require_allowed_venue,
    require_lens,
    require_range,
    require_role,
    require_vault,
    require_venue,
)
from ballast.constants import MAX_BPS, ROLE_KEEPER


@click.command(cls=ConnectedProviderCommand)
@account_option()
@click.option(
    "--vault",
    "vault_address",
    required=True,
    callback=click_callback(lambda value: require_address(value, "--vault")),
    help="Vault address.",
)
@click.option(
    "--venue",
    "venue_addresses",
    multiple=True,
    callback=click_callback(lambda values: [require_address(v, "--venue") for v in values]),
    help="Venue(s) to plan on (repeatable).",
)
@click.option(
    "--lens",
    "lens_address",
    required=True,
    callback=click_callback(lambda value: require_address(value, "--lens")),
    help="A VaultLens (deployments/<network>.json records one): the vault's state and trigger in one call.",
)
@click.option(
    "--slippage-bps",
    type=int,
    default=None,
    callback=click_callback(
        lambda value: None if value is None else require_range(value, "--slippage-bps", 0, MAX_BPS)
    ),
    help="Tighter slippage bound than the vault's.",
)
@click.option("--send", is_flag=True, help="Send the rebalance (default: preview only).")
def cli(network, provider, account, vault_address, venue_addresses, lens_address, slippage_bps, send):
    """Check VAULT's trigger, plan a rebalance and preview it."""
    with click_errors():  # every check before the first call that could send
        vault = require_vault(vault_address, "--vault", project, provider)
        venues = [require_venue(v, "--venue", project, provider) for v in venue_addresses]
        for venue in venue_addresses:
            require_allowed_venue(vault, venue, "--venue")
        require_role(vault, account.address, ROLE_KEEPER, "--account")
        lens = require_lens(lens_address, "--lens", project, provider)
    tokens = [token_at(a) for a in vault.get_assets()]
    state, market = keeper_path.read(vault, venues, tokens, token_at, chain.pending_timestamp, lens)
    decision = keeper_path.decide(vault, state, market, slippage_bps=slippage_bps)
    gas = None
    if decision.actionable:
        trades = [t.as_tuple() for t in decision.plan.trades]
        gas = vault.rebalance.estimate_gas_cost(trades, sender=account)
    click.echo(keeper_path.format_decision(decision, gas))
    if not decision.actionable:
        return
    if not send:
        click.echo("dry run: pass --send to execute")
        return
    receipt = keeper_path.send(vault, decision, account)
    click.echo(keeper_path.format_realised(keeper_path.decode(vault, receipt, decision), decision))
