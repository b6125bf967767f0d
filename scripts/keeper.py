"""ape run keeper: one keeper decision. Dry run by default; --send executes the rebalance.

A plan that sells a lent asset past the vault's idle balance while its market reports more than
the sleeve counts is refused by the vault ("vault: drift grew"); with ``--send`` the keeper (as
allocator) recalls the shortfall first and plans again (``ballast.keeper.recall_first``); the dry
run says so and estimates no gas for the plan as is.

A due decision also prints the route comparison (ballast/route.py): the plan on the pools against
a Dutch auction. With ``--auction ADDRESS`` (a DutchAuction of this vault), ``--send`` opens the
auction instead when it is expected to cost less; without it, the pools are always used."""

import click
from ape import chain, project
from ape.cli import ConnectedProviderCommand, account_option

from ballast import keeper as keeper_path
from ballast.chain.erc20 import token_at
from ballast.checks import (
    InputError,
    click_callback,
    click_errors,
    require_address,
    require_allowed_venue,
    require_instance,
    require_lens,
    require_range,
    require_role,
    require_vault,
    require_venue,
)
from ballast.constants import MAX_BPS, ROLE_KEEPER, WAD
from ballast.route import DEFAULT_ETH_USD, DEFAULT_FILLER_MARGIN_BPS, format_route


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
@click.option(
    "--auction",
    "auction_address",
    default=None,
    callback=click_callback(lambda value: None if value is None else require_address(value, "--auction")),
    help="A DutchAuction of this vault: --send opens it when the route comparison prefers it.",
)
@click.option(
    "--gas-gwei",
    type=float,
    default=None,
    callback=click_callback(lambda value: None if value is None else require_range(value, "--gas-gwei", 0, 10_000)),
    help="Gas price of the route comparison (default: the chain's).",
)
@click.option(
    "--eth-usd",
    type=float,
    default=None,
    callback=click_callback(lambda value: None if value is None else require_range(value, "--eth-usd", 0, 10**7)),
    help=f"ETH price of the route comparison (default: a WETH/ETH asset's oracle, else {DEFAULT_ETH_USD}).",
)
@click.option(
    "--filler-margin-bps",
    type=float,
    default=DEFAULT_FILLER_MARGIN_BPS,
    show_default=True,
    callback=click_callback(lambda value: require_range(value, "--filler-margin-bps", 0, MAX_BPS)),
    help="The edge over market prices a filler needs before it takes a lot (its gas comes on top).",
)
@click.option("--send", is_flag=True, help="Send the rebalance (default: preview only).")
def cli(
    network,
    provider,
    account,
    vault_address,
    venue_addresses,
    lens_address,
    slippage_bps,
    auction_address,
    gas_gwei,
    eth_usd,
    filler_margin_bps,
    send,
):
    """Check VAULT's trigger, plan a rebalance, compare the pools with an auction and preview it."""
    with click_errors():  # every check before the first call that could send
        vault = require_vault(vault_address, "--vault", project, provider)
        venues = [require_venue(v, "--venue", project, provider) for v in venue_addresses]
        for venue in venue_addresses:
            require_allowed_venue(vault, venue, "--venue")
        require_role(vault, account.address, ROLE_KEEPER, "--account")
        lens = require_lens(lens_address, "--lens", project, provider)
        auction = None
        if auction_address is not None:
            auction = require_instance(
                auction_address, "--auction", provider, project.DutchAuction, "END_MULTIPLIER", "a DutchAuction"
            )
            if str(auction.VAULT()).lower() != str(vault.address).lower():
                raise InputError(f"--auction: {auction_address} sells for vault {auction.VAULT()}, not {vault.address}")
    tokens = [token_at(a) for a in vault.get_assets()]

    def read_and_decide():
        state, market = keeper_path.read(vault, venues, tokens, token_at, chain.pending_timestamp, lens)
        return keeper_path.decide(vault, state, market, slippage_bps=slippage_bps)

    # A lent asset sold past idle at a market rate above the counted one: recall it first (with
    # --send, as allocator, unless an auction is open) and plan again; a preview says so and sends nothing.
    recaller = account if send and not (auction is not None and auction.is_open()) else None
    decision = keeper_path.recall_first(vault, read_and_decide(), recaller, read_and_decide)
    state, market = decision.state, decision.market
    gas = None
    if decision.actionable and not decision.unrecalled:  # the plan as is could be refused: no estimate
        trades = [t.as_tuple() for t in decision.plan.trades]
        gas = vault.rebalance.estimate_gas_cost(trades, sender=account)
    click.echo(keeper_path.format_decision(decision, gas))
    choice = None
    if decision.due:
        gas_price = int(gas_gwei * 10**9) if gas_gwei is not None else int(provider.gas_price)
        eth = _eth_usd(state) if eth_usd is None else int(eth_usd * WAD)
        choice = keeper_path.route(
            decision, market, gas_price, eth, auction=auction, filler_margin_bps=filler_margin_bps
        )
        click.echo(
            f"route at {gas_price / 1e9:g} gwei, ETH ${eth / WAD:,.2f}, filler margin {filler_margin_bps:g} bps:"
        )
        click.echo(format_route(choice))
    if auction is not None and auction.is_open():
        click.echo(f"auction {auction.auction_id()} is open: nothing sent (its fills rebalance the vault)")
        return
    if auction is not None and choice is not None and choice.route == "auction":
        if not send:
            click.echo("dry run: pass --send to open the auction")
            return
        receipt = keeper_path.open_auction(auction, account)
        opened = receipt.events.filter(auction.AuctionOpened)[0]
        click.echo(
            f"opened auction {opened.auction_id}: {opened.lots} lots, gas {receipt.gas_used:,}, tx {receipt.txn_hash}"
        )
        return
    if not decision.actionable:
        return
    if not send:
        click.echo("dry run: pass --send to execute")
        return
    receipt = keeper_path.send(vault, decision, account)
    click.echo(keeper_path.format_realised(keeper_path.decode(vault, receipt, decision), decision))


def _eth_usd(state) -> int:
    """A WETH or ETH asset's oracle price (WAD), else the default."""
    for asset in state.assets:
        if asset.symbol.upper() in ("WETH", "ETH"):
            return asset.price
    return DEFAULT_ETH_USD * WAD
