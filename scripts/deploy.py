"""ape run deploy: deploy a vault from a portfolio spec to any ape network and record its addresses.

On a local network, a spec without addresses (specs/demo.yaml) gets a market of mock tokens,
Chainlink feeds and real pools first, so the vault has something to trade on. A spec over
existing contracts (specs/mainnet.yaml, e.g. on ethereum:mainnet-fork:foundry) is checked against
the chain first (code at every address, tokens as the spec says, factories holding its pools);
then only the vault and Ballast's adapters over the spec's factories are deployed.
"""

import click
from ape import project
from ape.cli import ConnectedProviderCommand, account_option

from ballast.chain.deploy import (
    check_existing_contracts,
    check_network,
    deploy_from_spec,
    load_spec,
    read_deployments,
    record,
)
from ballast.checks import click_callback, click_errors, require_address, require_factory, require_folder_for


def _valid_spec_path(path: str) -> str:
    load_spec(path)  # parsed again in cli(): cheap, and the path names the file in messages
    return path


@click.command(cls=ConnectedProviderCommand)
@account_option()
@click.option(
    "--spec",
    "spec_path",
    default="specs/demo.yaml",
    show_default=True,
    is_eager=True,
    callback=click_callback(_valid_spec_path),
    help="Portfolio spec (YAML).",
)
@click.option(
    "--keeper",
    default=None,
    callback=click_callback(lambda value: None if value is None else require_address(value, "--keeper")),
    help="Address granted the keeper role (default: the spec's).",
)
@click.option(
    "--factory",
    "factory_address",
    default=None,
    callback=click_callback(lambda value: None if value is None else require_address(value, "--factory")),
    help="A VaultFactory to create the vault with (default: a new one, recorded).",
)
@click.option(
    "--out",
    default="deployments",
    show_default=True,
    callback=click_callback(lambda value: require_folder_for(value, "--out", is_folder=True)),
    help="Folder for <network>.json.",
)
def cli(network, provider, account, spec_path, keeper, factory_address, out):
    """Deploy a Ballast vault from SPEC."""
    book = out / f"{provider.network.name}.json"
    with click_errors():  # every check before the first transaction
        spec = load_spec(spec_path)
        check_network(spec, spec_path, provider.network_choice, provider.network.is_local)
        mocks = not any(a.address for a in spec.assets)
        if not mocks:
            check_existing_contracts(spec, spec_path, project, provider)
        read_deployments(book)
        factory = factory_address and require_factory(factory_address, "--factory", project, provider)
    done = deploy_from_spec(project, account, spec, keeper=keeper, factory=factory)
    entry = record(book, provider, done)
    click.echo(f"vault {entry['vault']}")
    click.echo(f"assets {', '.join(entry['assets'])}")
    click.echo(f"venues {', '.join(entry['venues'])}")
    click.echo(f"lens {entry['lens']} (ape run keeper --lens)")
    click.echo(f"factory {entry['factory']}")
    click.echo(f"recorded in {book}")
