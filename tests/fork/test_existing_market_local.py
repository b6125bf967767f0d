"""specs/mainnet.yaml's deploy path, offline: a spec over contracts that already exist on ape's
local chain (tokens, Chainlink's proxies, the real Uniswap V2 and V3 factories from npm and their
pools, all deployed before the spec is written) is checked, deployed and run through a vault's
life exactly as on the mainnet fork (``test_mainnet_fork.py``, which needs an upstream RPC).
"""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path

import pytest
from click.testing import CliRunner
from existing_market import ExistingMarket, deploy_existing, run_lending, run_lifecycle

from ballast.chain.deploy import check_existing_contracts, load_spec
from ballast.checks import InputError
from ballast.spec import feed_answer
from ballast.venues import uniswap_v3

ROOT = Path(__file__).resolve().parents[2]
NO_CODE = "0x1111111111111111111111111111111111111111"


@pytest.fixture(scope="module")
def market(project, owner):
    return ExistingMarket(project, owner)


@pytest.fixture
def spec_path(market, tmp_path):
    return market.write_spec(tmp_path)


def test_existing_market__only_the_vault_and_adapters_are_deployed(market, spec_path, project, owner, keeper):
    """The spec's tokens, feeds and factories are used as they are: the vault holds the spec's
    assets priced by its feeds, allows one adapter per market venue, each over the spec's
    factory and trading the spec's pools, and no factory gained a pool."""
    registry = market.registry()
    spec, done = deploy_existing(project, owner.provider, spec_path, owner, keeper)
    assert market.registry() == registry  # no pair and no pool created
    assert list(done.vault.get_assets()) == [a.address for a in spec.assets]
    for asset in spec.assets:
        assert done.vault.price(asset.address) == feed_answer(asset.price, 8) * 10**10
    assert [(v.kind, v.fee_bps) for v in spec.factory_venues] == [
        ("uniswap_v3", 5),
        ("uniswap_v3", 30),
        ("uniswap_v2", 30),
    ]
    for venue_spec, adapter in zip(spec.factory_venues, done.venues):
        assert done.vault.venue_allowed(adapter)
        assert adapter.factory() == venue_spec.factory
        address_of = {a.symbol: a.address for a in spec.assets}
        for pool in venue_spec.pools:
            tokens = [address_of[s] for s in pool.pair]
            derived = adapter.pair_for(*tokens) if venue_spec.kind == "uniswap_v2" else adapter.pool_for(*tokens)
            assert derived == pool.address
    assert [int(a.fee()) for a in done.venues[:2]] == [500, 3000]
    assert done.vault.roles(keeper) != 0 and done.lens.cooldown(done.vault) == 0


def test_existing_market__join_deposit_keeper_rebalance_exit(
    market, spec_path, project, owner, keeper, alice, bob, chain
):
    """The vault's life over the existing market, as on the fork (tokens minted here instead of
    sent by whales): the keeper path's realised fills equal its plan's to the wei."""
    spec, done = deploy_existing(project, owner.provider, spec_path, owner, keeper)
    tokens = [market.tokens[a.symbol] for a in spec.assets]

    def fund(account, i, amount):
        tokens[i].mint(account, amount, sender=owner)

    result = run_lifecycle(
        done, spec, tokens, project.MockERC20.at, fund, {"alice": alice, "bob": bob, "keeper": keeper}, chain
    )
    # USDC is sold for each of the three other assets (directly: every such pair has a pool).
    bought = {f.token_out for f in result.realised.fills}
    assert {f.token_in for f in result.realised.fills} == {tokens[0].address}
    assert bought == {t.address for t in tokens[1:]}


def test_existing_market__lend_into_an_erc4626_market__deposit_then_exits_redeem(
    market, spec_path, project, owner, keeper, alice, bob
):
    """The fork suite's lending leg over a market deployed beforehand (snekmate's ERC-4626,
    ``HostileMarket`` with no switch set): lend, a deposit priced with the lent part, and exits
    that redeem the lent part into the asset."""
    spec, done = deploy_existing(project, owner.provider, spec_path, owner, keeper)
    tokens = [market.tokens[a.symbol] for a in spec.assets]
    lending_market = project.HostileMarket.deploy(tokens[0], sender=owner)

    def fund(account, i, amount):
        tokens[i].mint(account, amount, sender=owner)

    life = run_lending(
        project, done, spec, tokens, lending_market, fund, {"alice": alice, "bob": bob, "keeper": keeper}, owner
    )
    assert life.lent > 0 and not any(e.in_kind for e in life.paid)


def venue(i: int, **fields):
    return lambda d: d["market"]["venues"][i].update(fields)


def swap_assets(i: int, j: int):
    """Swap the addresses and feeds of assets i and j (their pools then dropped: they would no
    longer be the factories' pools of the pairs named)."""

    def change(d):
        a, b = d["assets"][i], d["assets"][j]
        (a["address"], b["address"]), (a["feed"], b["feed"]) = (b["address"], a["address"]), (b["feed"], a["feed"])
        for v in d["market"]["venues"]:
            v["pools"] = []

    return change


def add_pool(i: int, pair: list[str]):
    """List a pool that the factory of venue i has not created (at its CREATE2 address)."""

    def change(d):
        v = d["market"]["venues"][i]
        tokens = {a["symbol"]: a["address"] for a in d["assets"]}
        address = uniswap_v3.pool_address(v["factory"], tokens[pair[0]], tokens[pair[1]], v["fee_bps"] * 100)
        v["pools"].append({"pair": pair, "address": address})

    return change


CHECKS = [
    # (checked: each case fails with its check removed from check_existing_contracts; without the
    # checks, a wrong token or feed is only found out when the vault misprices or reverts)
    (
        "feed without code",
        lambda d: d["assets"][1].update(feed=NO_CODE),
        "assets[1].feed: no contract at {no_code} on {net}",
    ),
    ("swapped decimals", swap_assets(1, 2), "assets[1].decimals: the token at {WBTC} has 8 decimals, the spec says 18"),
    ("swapped symbols", swap_assets(1, 3), "assets[1].symbol: the token at {LINK} is 'LINK', the spec says 'WETH'"),
    (
        "factory without code",
        venue(0, factory=NO_CODE, pools=[]),
        "market.venues[0].factory: no contract at {no_code} on {net}",
    ),
    (
        "fee tier the factory lacks",
        venue(0, fee_bps=1, pools=[]),
        "market.venues[0].fee_bps: the factory at {v3} has no 1 bps tier (feeAmountTickSpacing(100) is 0)",
    ),
    (
        "v2 factory as v3",
        lambda d: venue(0, factory=d["market"]["venues"][2]["factory"], pools=[])(d),
        "market.venues[0].factory: {v2} is not a Uniswap V3 factory (its feeAmountTickSpacing() call failed)",
    ),
    (
        "v3 factory as v2",
        lambda d: venue(2, factory=d["market"]["venues"][0]["factory"], pools=[])(d),
        "market.venues[2].factory: {v3} is not a Uniswap V2 factory (its allPairsLength() call failed)",
    ),
    (
        "pool never created",
        add_pool(0, ["WETH", "LINK"]),
        "market.venues[0].pools[3].address: the factory's getPool(WETH, LINK, 500) is "
        "0x0000000000000000000000000000000000000000, not {pool} (no such pool, or a factory whose pools are not "
        "at the Uniswap CREATE2 addresses)",
    ),
]


@pytest.mark.parametrize("change, message", [c[1:] for c in CHECKS], ids=[c[0] for c in CHECKS])
def test_existing_market__spec_the_chain_contradicts__refused_before_sending(
    market, tmp_path, project, owner, chain, change, message
):
    path = market.write_spec(tmp_path, change)
    spec = load_spec(path)
    tokens = {symbol: str(token.address) for symbol, token in market.tokens.items()}  # where each really is
    pool = spec.factory_venues[0].pools[-1].address if spec.factory_venues[0].pools else None
    expected = message.format(
        no_code=NO_CODE,
        net=owner.provider.network_choice,
        v3=market.v3.address,
        v2=market.v2.address,
        pool=pool,
        **tokens,
    )
    height = chain.blocks.height
    with pytest.raises(InputError) as err:
        check_existing_contracts(spec, str(path), project, owner.provider)
    assert str(err.value) == f"{path}: {expected}"
    assert chain.blocks.height == height


def _deploy_cli():
    """The ``cli`` command of scripts/deploy.py (the scripts folder is not a package)."""
    spec = importlib.util.spec_from_file_location("ballast_script_deploy", ROOT / "scripts" / "deploy.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.cli


def test_existing_market__ape_run_deploy__vault_and_three_adapters_recorded(market, spec_path, tmp_path):
    """``ape run deploy --spec`` with a spec over existing contracts: the assets recorded are the
    spec's own addresses, and the venues are the three adapters it deployed."""
    args = [
        "--spec",
        str(spec_path),
        "--account",
        "TEST::0",
        "--out",
        str(tmp_path / "d"),
        "--network",
        "ethereum:local:test",
    ]
    result = CliRunner().invoke(_deploy_cli(), args, catch_exceptions=False)
    assert result.exit_code == 0, result.output
    entry = json.loads((tmp_path / "d" / "local.json").read_text())["local"]
    spec = load_spec(spec_path)
    assert entry["assets"] == [a.address for a in spec.assets] and entry["feeds"] == [a.feed for a in spec.assets]
    assert (
        len(entry["venues"]) == 3 and result.output.splitlines()[-1] == f"recorded in {tmp_path / 'd' / 'local.json'}"
    )
