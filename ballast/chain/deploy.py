"""Deployment: a vault from a portfolio spec, and a local market of mock tokens, feeds and pools.

Used by ``ape run deploy``, ``ape run demo`` and the tests, with ape's ``project`` and an
account as the sender. :func:`deploy_from_spec` is the one path from a spec to a vault: a spec
without addresses gets a local market first; a spec over existing contracts (``specs/mainnet.yaml``)
gets Ballast's adapters over the existing factories it names, after
:func:`check_existing_contracts` has found every one of its addresses on the connected chain.
"""

from __future__ import annotations

import itertools
import json
from dataclasses import dataclass
from pathlib import Path

from ballast.chain import chainlink
from ballast.checks import ZERO_ADDRESS, InputError, require_code, require_instance
from ballast.constants import MAX_BPS, MAX_DECIMALS
from ballast.spec import (
    TRIGGERS,
    AssetSpec,
    FactoryVenueSpec,
    PortfolioSpec,
    SpecError,
    check_network,
    feed_answer,
    load_spec,
    spec_from_dict,
)
from ballast.venues import balancer_v2, uniswap_v2, uniswap_v3

__all__ = [
    "TRIGGERS",
    "AssetSpec",
    "LocalMarket",
    "PortfolioSpec",
    "SpecError",
    "Deployment",
    "asset_configs",
    "check_existing_contracts",
    "check_network",
    "deploy_factory_venue",
    "deploy_from_spec",
    "deploy_local_market",
    "deploy_sleeve",
    "deploy_venue",
    "deploy_vault",
    "feed_answer",
    "load_spec",
    "read_deployments",
    "record",
    "record_deployment",
    "spec_from_dict",
    "target_amounts",
]


def check_existing_contracts(spec: PortfolioSpec, where: str, project, provider) -> None:
    """Before a vault over existing contracts is deployed: what it and its adapters will meet.

    Every asset must be an ERC-20 whose ``decimals()`` equals the spec's (and is at most
    ``MAX_DECIMALS``, which ``pricing._set_feed`` asserts) and whose ``symbol()``, where it is a
    string, equals the spec's: a swapped or mistyped address is refused here, not found out in a
    mispriced vault. Every feed must answer ``decimals()``, every ``venues`` entry must be a
    contract, and every factory venue must be a factory of its kind (with the fee tier, for V3)
    whose registry holds each listed pool at the listed address, a contract there. Each problem
    names the field and the address.

    @param where Prefix of every message, usually the spec's path.
    """
    for i, asset in enumerate(spec.assets):
        what = f"{where}: assets[{i}].address"
        token = require_instance(asset.address, what, provider, project.MockERC20, "decimals", "an ERC-20 token")
        decimals = int(token.decimals())
        if decimals > MAX_DECIMALS:
            raise SpecError(f"{what}: decimals() must be <= {MAX_DECIMALS}, got {decimals}")
        if decimals != asset.decimals:
            raise SpecError(
                f"{where}: assets[{i}].decimals: the token at {asset.address} has {decimals} decimals, "
                f"the spec says {asset.decimals}"
            )
        symbol = _text_or_none(token.symbol)
        if symbol is not None and symbol != asset.symbol:
            raise SpecError(
                f"{where}: assets[{i}].symbol: the token at {asset.address} is {symbol!r}, the spec says {asset.symbol!r}"
            )
        what = f"{where}: assets[{i}].feed"
        decimals = int(
            require_instance(asset.feed, what, provider, project.MockPriceFeed, "decimals", "a price feed").decimals()
        )
        if decimals > MAX_DECIMALS:
            raise SpecError(f"{what}: decimals() must be <= {MAX_DECIMALS}, got {decimals}")
    for i, venue in enumerate(spec.venues):
        require_code(venue, f"{where}: venues[{i}]", provider)
    # Over existing tokens every market.venues entry names a factory (ballast.spec), so the
    # factory venues are market.venues, in order.
    for k, venue in enumerate(spec.factory_venues):
        _check_factory_venue(spec, venue, f"{where}: market.venues[{k}]", provider)


def _text_or_none(view):
    """``view()`` as text, or ``None`` when it does not answer one (e.g. a ``bytes32`` symbol)."""
    try:
        value = view()
    except Exception:  # a revert, or data that does not decode as a string
        return None
    return value if isinstance(value, str) else None


def _check_factory_venue(spec: PortfolioSpec, venue: FactoryVenueSpec, where: str, provider) -> None:
    """The factory of ``venue`` is one of its kind, with its fee tier, and holds every listed pool."""
    require_code(venue.factory, f"{where}.factory", provider)
    if venue.kind == "uniswap_v2":
        factory = uniswap_v2.container("UniswapV2Factory").at(venue.factory)
        label, view, args = "Uniswap V2", "allPairsLength", ()
    else:
        factory = uniswap_v3.container("UniswapV3Factory").at(venue.factory)
        label, view, args = "Uniswap V3", "feeAmountTickSpacing", (venue.fee_bps * 100,)
    try:
        answer = int(getattr(factory, view)(*args))
    except Exception:  # a revert, or data that does not decode: not that kind of factory
        raise SpecError(
            f"{where}.factory: {venue.factory} is not a {label} factory (its {view}() call failed)"
        ) from None
    if venue.kind == "uniswap_v3" and answer == 0:
        raise SpecError(
            f"{where}.fee_bps: the factory at {venue.factory} has no {venue.fee_bps} bps tier "
            f"(feeAmountTickSpacing({venue.fee_bps * 100}) is 0)"
        )
    address_of = {a.symbol: a.address for a in spec.assets}
    for j, pool in enumerate(venue.pools):
        what = f"{where}.pools[{j}].address"
        tokens = [address_of[symbol] for symbol in pool.pair]
        if venue.kind == "uniswap_v2":
            registered, call = factory.getPair(*tokens), f"getPair({', '.join(pool.pair)})"
        else:
            fee = venue.fee_bps * 100
            registered, call = factory.getPool(*tokens, fee), f"getPool({', '.join(pool.pair)}, {fee})"
        if str(registered).lower() != pool.address.lower():
            raise SpecError(
                f"{what}: the factory's {call} is {registered}, not {pool.address} "
                "(no such pool, or a factory whose pools are not at the Uniswap CREATE2 addresses)"
            )
        require_code(pool.address, what, provider)


@dataclass
class LocalMarket:
    """Tokens, feeds and the venues the spec's ``feeds.kind`` and ``market`` ask for: Chainlink's
    contracts, Uniswap V2 pairs, Uniswap V3 pools, a Balancer weighted pool, or the test doubles."""

    tokens: list
    feeds: list
    venues: list
    prices: list[float]

    @property
    def venue(self):
        """The first venue (a spec with one venue has only this one)."""
        return self.venues[0]


def _deploy_feed(project, sender, spec: PortfolioSpec, price: float):
    answer = feed_answer(price, spec.feed_decimals)
    if spec.feed_kind == "chainlink":
        return chainlink.deploy_feed(sender, spec.feed_decimals, answer)
    return project.MockPriceFeed.deploy(spec.feed_decimals, answer, sender=sender)


def deploy_local_market(project, sender, spec: PortfolioSpec, liquidity_provider=None) -> LocalMarket:
    """Deploy a mock token and a feed for every asset, and every venue of ``spec.market_venues``
    with its pools funded (minted to ``liquidity_provider``, default ``sender``): per pair,
    ``spec.depth_usd`` per side on pair venues; one weighted pool worth ``depth_usd`` per asset
    on Balancer."""
    tokens = [project.MockERC20.deploy(a.symbol, a.symbol, a.decimals, sender=sender) for a in spec.assets]
    feeds = [_deploy_feed(project, sender, spec, a.price) for a in spec.assets]
    lp = liquidity_provider or sender
    venues = [deploy_venue(project, sender, spec, tokens, kind, fee_bps, lp) for kind, fee_bps in spec.market_venues]
    return LocalMarket(tokens, feeds, venues, [a.price for a in spec.assets])


def deploy_venue(
    project, sender, spec: PortfolioSpec, tokens: list, kind: str, fee_bps: int, lp, depth_usd=None, band_bps=1_000
):
    """One local venue of ``kind`` (``amm``, ``uniswap_v2``, ``uniswap_v3``, ``balancer``) over
    ``tokens``, its pools funded by ``lp`` at ``depth_usd`` (default: the spec's); returns the
    Ballast adapter the vault trades. Uniswap V3 pools get half their liquidity full range and half
    within about ``band_bps`` of the price (all full range with ``band_bps=None``)."""
    depth = spec.depth_usd if depth_usd is None else depth_usd
    if kind == "balancer":
        bvault, factory = balancer_v2.deploy_vault(sender)
        weights = [a.target_bps for a in spec.assets]
        pool, pool_id = balancer_v2.create_weighted_pool(factory, tokens, weights, fee_bps * 10**14, sender)
        total = depth * len(tokens)
        amounts = [int(total * a.target_bps / MAX_BPS / a.price * 10**a.decimals) for a in spec.assets]
        for token, amount in zip(tokens, amounts):
            token.mint(lp, amount, sender=sender)
        balancer_v2.join_init(bvault, pool_id, tokens, amounts, lp)
        return balancer_v2.deploy_venue(project, bvault, pool_id, sender)
    if kind == "uniswap_v2":
        factory, venue = uniswap_v2.deploy_venue(project, sender)
    elif kind == "uniswap_v3":
        factory, venue = uniswap_v3.deploy_venue(project, sender, fee=fee_bps * 100)
        helper = uniswap_v3.deploy_liquidity_helper(project, factory, sender)
    else:
        venue = project.ConstantProductAMM.deploy(fee_bps, sender=sender)
    for (i, a), (j, b) in itertools.combinations(list(enumerate(spec.assets)), 2):
        amount_a = int(depth / a.price * 10**a.decimals)
        amount_b = int(depth / b.price * 10**b.decimals)
        tokens[i].mint(lp, amount_a, sender=sender)
        tokens[j].mint(lp, amount_b, sender=sender)
        if kind == "uniswap_v2":
            uniswap_v2.add_liquidity(factory, tokens[i], tokens[j], amount_a, amount_b, lp)
        elif kind == "uniswap_v3":
            uniswap_v3.seed_pool(factory, helper, tokens[i], tokens[j], amount_a, amount_b, fee_bps * 100, lp, band_bps)
        else:
            tokens[i].approve(venue, amount_a, sender=lp)
            tokens[j].approve(venue, amount_b, sender=lp)
            venue.add_liquidity(tokens[i], tokens[j], amount_a, amount_b, sender=lp)
    return venue


def deploy_factory_venue(project, sender, venue: FactoryVenueSpec):
    """Ballast's adapter over the existing factory of ``venue``: the only contract deployed for
    it (the factory's pools are traded as they are; none is created, no fee tier enabled)."""
    if venue.kind == "uniswap_v2":
        return uniswap_v2.deploy_adapter(project, venue.factory, sender)
    return uniswap_v3.deploy_adapter(project, venue.factory, venue.fee_bps * 100, sender)


@dataclass
class Deployment:
    """What :func:`deploy_from_spec` deployed or used: the vault, its tokens and feeds (instances
    for a local market, addresses for existing ones) and every venue it allows."""

    vault: object
    tokens: list
    feeds: list
    venues: list
    market: LocalMarket | None = None  # the local market, for a spec without addresses
    lens: object = None  # a VaultLens: the vault's views, and the keeper's one-call read
    factory: object = None  # the VaultFactory that created the vault


def deploy_from_spec(project, sender, spec: PortfolioSpec, keeper=None, factory=None) -> Deployment:
    """The vault of ``spec``, the same way on every network: over a fresh local market of mock
    tokens, feeds and pools when the spec has no addresses (every venue allowed); over the
    spec's tokens and feeds otherwise, trading its ``venues`` and an adapter deployed over each
    factory of ``market.venues``. The caller checks the spec against the chain first
    (:func:`check_network`, :func:`check_existing_contracts`), before anything is sent. The vault
    comes from ``factory`` (a ``VaultFactory``), or from a new one."""
    factory = factory or vault_factory(project, sender)
    if not any(a.address for a in spec.assets):
        market = deploy_local_market(project, sender, spec)
        tokens, feeds, venues = market.tokens, market.feeds, market.venues
    else:
        market = None
        tokens = [a.address for a in spec.assets]
        feeds = [a.feed for a in spec.assets]
        venues = list(spec.venues) + [deploy_factory_venue(project, sender, v) for v in spec.factory_venues]
    vault = deploy_vault(project, sender, spec, tokens, feeds, venues, keeper=keeper, factory=factory)
    return Deployment(vault, tokens, feeds, venues, market, project.VaultLens.deploy(sender=sender), factory)


def target_amounts(spec: PortfolioSpec, usd_total: float) -> list[int]:
    """Base units of each asset in ``usd_total`` USD split at the spec's targets and prices."""
    return [int(usd_total * a.target_bps / MAX_BPS / a.price * 10**a.decimals) for a in spec.assets]


def asset_configs(spec: PortfolioSpec, tokens: list, feeds: list) -> list[tuple]:
    """The vault's ``AssetConfig`` structs, in field order."""
    return [
        (
            str(token),
            str(feed),
            a.heartbeat,
            a.min_answer,
            a.max_answer,
            a.target_bps,
            a.band_bps,
            a.outer_band_bps,
        )
        for a, token, feed in zip(spec.assets, tokens, feeds)
    ]


def trigger_config(spec) -> tuple:
    """The vault's ``TriggerConfig`` struct of ``spec``, in field order."""
    return (spec.trigger_type, spec.interval, spec.vol_reference, spec.vol_alpha_bps, spec.vol_min_interval)


def limits_config(spec) -> tuple:
    """The vault's ``Limits`` struct of ``spec``, in field order."""
    return (spec.max_slippage_bps, spec.max_cost_bps, spec.turnover_cap_bps, spec.turnover_period, spec.cooldown)


# Factories this process deployed, by chain id: reused while their code is still on the chain
# (a test's snapshot revert can take it away).
# The factory deployed in this process, per chain: (chain id, genesis block hash), since two local
# chains (ape's test chain, an anvil) share chain id 31337 and the same deployer's addresses.
_FACTORIES: dict[tuple[int, str], str] = {}


def _address(account) -> str:
    """An account's or a contract's address, or an address as it is."""
    return str(getattr(account, "address", account) or ZERO_ADDRESS)


def deploy_factory(project, sender):
    """A ``VaultFactory`` over a fresh EIP-5202 blueprint of the vault and a fresh ``Rules``."""
    blueprint = project.Vault.declare(sender=sender).contract_address
    return project.VaultFactory.deploy(blueprint, project.Rules.deploy(sender=sender), sender=sender)


def vault_factory(project, sender):
    """This chain's ``VaultFactory``: the one deployed earlier in this process if it is still
    there (a snapshot rolled back, or another chain with the same id and deployer, may have put
    another contract at its address), else a new one."""
    provider = project.provider
    key = (provider.chain_id, str(provider.get_block(0).hash.hex()))
    address = _FACTORIES.get(key)
    if address and provider.get_code(address) and _is_factory(project.VaultFactory.at(address)):
        return project.VaultFactory.at(address)
    factory = deploy_factory(project, sender)
    _FACTORIES[key] = str(factory.address)
    return factory


def _is_factory(contract) -> bool:
    """Whether ``contract`` answers the factory's views with a blueprint that has code."""
    try:
        return bool(contract.provider.get_code(contract.VAULT_BLUEPRINT())) and int(contract.vault_count()) >= 0
    except Exception:  # another contract: its selectors revert or decode to nothing
        return False


def deploy_vault(
    project, sender, spec: PortfolioSpec, tokens: list, feeds: list, venues: list, keeper=None, factory=None
):
    """Deploy and configure a vault for ``spec`` over ``tokens``/``feeds`` in one factory call:
    ``venues`` whitelisted, the keeper and guardian given their roles, ``sender`` the owner."""
    factory = factory or vault_factory(project, sender)
    receipt = factory.deploy_vault(
        spec.name,
        spec.symbol,
        asset_configs(spec, tokens, feeds),
        trigger_config(spec),
        limits_config(spec),
        spec.entry_haircut_bps,
        [_address(v) for v in venues],
        _address(keeper or spec.keeper),
        _address(spec.guardian),
        _address(sender),
        sender=sender,
    )
    return project.Vault.at(receipt.events.filter(factory.VaultDeployed)[-1].vault)


def deploy_sleeve(project, sender, vault, markets: dict, buffer_bps: int, max_rate_rise_bps: int, max_loss_bps: int):
    """A ``LendingSleeve`` for ``vault``, attached to it (``sender`` is the vault's owner), with
    ``markets`` (asset address -> ERC-4626 market) whitelisted at ``buffer_bps`` idle each. The
    counted rate may rise at most ``max_rate_rise_bps`` per year; a loss above ``max_loss_bps``
    pauses lending."""
    sleeve = project.LendingSleeve.deploy(vault, max_rate_rise_bps, max_loss_bps, sender=sender)
    vault.set_sleeve(sleeve, sender=sender)
    for asset, market in markets.items():
        sleeve.set_market(_address(asset), _address(market), buffer_bps, sender=sender)
    return sleeve


def read_deployments(path: str | Path) -> dict:
    """The deployment book at ``path`` (``{}`` when missing); :class:`InputError` if it is not one.

    Checked before deploying, so that recording the addresses cannot fail afterwards.
    """
    path = Path(path)
    if not path.exists():
        if path.parent.exists() and not path.parent.is_dir():
            raise InputError(f"--out: {str(path.parent)!r} exists and is not a folder")
        return {}
    try:
        book = json.loads(path.read_text())
    except (OSError, UnicodeDecodeError, ValueError) as err:
        raise InputError(f"--out: cannot read the deployment record {str(path)!r}: {err}") from None
    if not isinstance(book, dict):
        raise InputError(f"--out: {str(path)!r} must hold a JSON object (one entry per network)")
    return book


def record_deployment(
    path: str | Path,
    network: str,
    vault,
    tokens: list,
    feeds: list,
    venues: list,
    lens=None,
    factory=None,
    chain_id: int | None = None,
) -> dict:
    """Write the deployed addresses to ``path`` (JSON, one entry per network) and return the entry.

    @param chain_id The chain they are on: commands reading the record refuse another chain.
    """
    path = Path(path)
    book = read_deployments(path)
    entry = {
        "vault": str(vault.address),
        "assets": [str(t) for t in tokens],
        "feeds": [str(f) for f in feeds],
        "venues": [str(v) for v in venues],
    }
    if lens is not None:
        entry["lens"] = str(lens.address)
    if factory is not None:
        entry["factory"] = str(factory.address)
    if chain_id is not None:
        entry["chain_id"] = int(chain_id)
    book[network] = entry
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(book, indent=2) + "\n")
    return entry


def record(path: str | Path, provider, done: Deployment) -> dict:
    """Record what :func:`deploy_from_spec` returned (``done``) on ``provider``'s network and
    chain in the deployment book at ``path``; returns the entry."""
    return record_deployment(
        path,
        provider.network.name,
        done.vault,
        done.tokens,
        done.feeds,
        done.venues,
        done.lens,
        done.factory,
        provider.chain_id,
    )
