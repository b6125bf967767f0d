"""ape run deploy: deploy a vault from a portfolio spec to any ape network and record its addresses.

On a local network, assets without an `address` in the spec are deployed as mock tokens with
mock feeds and a constant-product venue, so the vault has something to trade on.
"""

from pathlib import Path

import click
from ape import project
from ape.cli import ConnectedProviderCommand, account_option

from ballast.deploy import SpecError, deploy_local_market, deploy_vault, load_spec, record_deployment


@click.command(cls=ConnectedProviderCommand)
@account_option()
@click.option("--spec", "spec_path", default="specs/demo.yaml", show_default=True, help="Portfolio spec (YAML).")
@click.option("--keeper", default=None, help="Address granted the keeper role (default: the spec's).")
@click.option("--out", default="deployments", show_default=True, help="Folder for <network>.json.")
def cli(network, provider, account, spec_path, keeper, out):
    """Deploy a Ballast vault from SPEC."""
    try:
        spec = load_spec(spec_path)
    except (SpecError, OSError) as err:
        raise click.ClickException(str(err)) from err
    missing = [a.symbol for a in spec.assets if not (a.address and a.feed)]
    if missing:
        if not provider.network.is_local:
            raise click.ClickException(f"assets {missing} have no address/feed; mocks are for local networks only")
        market = deploy_local_market(project, account, spec)
        tokens, feeds, venues = market.tokens, market.feeds, [market.venue]
    else:
        tokens = [a.address for a in spec.assets]
        feeds = [a.feed for a in spec.assets]
        venues = list(spec.venues)
        if not venues:
            raise click.ClickException("the spec names no venues for a vault over existing tokens")
    vault = deploy_vault(project, account, spec, tokens, feeds, venues, keeper=keeper)
    entry = record_deployment(
        Path(out) / f"{provider.network.name}.json", provider.network.name, vault, tokens, feeds, venues
    )
    click.echo(f"vault {entry['vault']}")
    click.echo(f"assets {', '.join(entry['assets'])}")
    click.echo(f"venues {', '.join(entry['venues'])}")
    click.echo(f"recorded in {Path(out) / (provider.network.name + '.json')}")
