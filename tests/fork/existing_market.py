"""Ballast over existing markets: a vault deployed from a spec that names tokens, feeds and
factories which are already on the chain, then joined, deposited into, rebalanced by the keeper
path and exited.

Two suites share this module (a sibling of theirs, on pytest's path as they are):
``test_mainnet_fork.py`` runs on
``ethereum:mainnet-fork:foundry`` over ``specs/mainnet.yaml`` (when ``BALLAST_MAINNET_RPC`` names
an upstream RPC), ``test_existing_market_local.py`` on ape's local chain over a market deployed
beforehand from the npm artifacts. Both deploy through :func:`deploy_existing` (the checks and
the deploy path of ``ape run deploy``) and run :func:`run_lifecycle`, then lend on an ERC-4626
market (:func:`run_lending`); neither deploys a mock token or a pool after its spec is written.
"""

from __future__ import annotations

import dataclasses
import itertools
import socket
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import yaml

from ballast import keeper as keeper_path
from ballast.chain import chainlink
from ballast.chain.deploy import Deployment, check_existing_contracts, check_network, deploy_from_spec, load_spec
from ballast.constants import DEAD_SHARES, MAX_BPS, WAD
from ballast.spec import PortfolioSpec, feed_answer
from ballast.venues import uniswap_v2, uniswap_v3

MAINNET = Path(__file__).resolve().parents[2] / "specs" / "mainnet.yaml"
FORK = "ethereum:mainnet-fork:foundry"


def without_cooldown(spec: PortfolioSpec) -> PortfolioSpec:
    """``spec`` with no rebalance cooldown.

    The vault's cooldown runs from its deployment, so its first rebalance waits ``cooldown``
    seconds (3600 in the specs). On a fork nothing refreshes Chainlink's rounds, and an hour of
    chain time makes the 3600 s feeds stale, so the suites deploy without it: no time passes
    between deployment and rebalance.
    """
    return dataclasses.replace(spec, cooldown=0)


@dataclass
class Lifecycle:
    """What :func:`run_lifecycle` saw, for the suites to print or check further."""

    decision: keeper_path.Decision
    realised: keeper_path.Realised
    received: dict  # account name -> amounts received on exit, in asset order


def usd_units(vault, token, usd: int) -> int:
    """Base units of ``token`` worth ``usd`` dollars at the vault's own (oracle) price."""
    return usd * WAD * 10 ** int(token.decimals()) // int(vault.price(token))


def run_lifecycle(
    deployment: Deployment,
    spec: PortfolioSpec,
    tokens: list,
    token_at,
    fund,
    actors: dict,
    chain,
    seed_usd: int = 1_000_000,
    deposit_usd: int = 600_000,
) -> Lifecycle:
    """Alice joins ``seed_usd`` in kind at the targets, Bob deposits ``deposit_usd`` of the first
    asset (which pushes it past its outer band), the keeper path reads, decides, sends and
    decodes a rebalance on the deployment's venues, and both exit everything.

    ``tokens`` are ERC-20 instances in asset order; ``token_at`` maps an address to one (for the
    keeper's state read); ``fund(account, i, amount)`` gives ``account`` ``amount`` of asset
    ``i`` (minted locally, sent by a whale on the fork); ``actors`` has ``alice``, ``bob`` and
    ``keeper`` (who holds the keeper role); the deployment's venues are adapter instances.
    Asserts each step's outcome.
    """
    lens = deployment.lens
    vault, alice, bob, keeper = deployment.vault, actors["alice"], actors["bob"], actors["keeper"]
    seed = [usd_units(vault, t, seed_usd * a.target_bps // MAX_BPS) for t, a in zip(tokens, spec.assets)]
    for i, (token, amount) in enumerate(zip(tokens, seed)):
        fund(alice, i, amount)
        token.approve(vault, amount, sender=alice)
    vault.join(0, seed, alice, sender=alice)
    assert vault.totalSupply() - vault.balanceOf(alice) == DEAD_SHARES
    assert [int(vault.balances(t)) for t in tokens] == seed  # the first join takes exactly what is offered

    amount = usd_units(vault, tokens[0], deposit_usd)
    fund(bob, 0, amount)
    tokens[0].approve(vault, amount, sender=bob)
    expected_shares = int(lens.preview_deposit(vault, tokens[0], amount))
    vault.deposit(tokens[0], amount, expected_shares, bob, sender=bob)
    assert vault.balanceOf(bob) == expected_shares > 0
    assert tuple(lens.needs_rebalance(vault)) == (True, "outer band"), "the single-asset deposit should trip the band"

    venues = deployment.venues
    state, market = keeper_path.read(vault, venues, tokens, token_at, chain.pending_timestamp, lens)
    decision = keeper_path.decide(vault, state, market)
    assert decision.actionable, decision.reason
    receipt = keeper_path.send(vault, decision, keeper)
    realised = keeper_path.decode(vault, receipt, decision)
    # Nothing trades between the read and the send, and the snapshots swap as the pools do.
    assert [(f.amount_in, f.amount_out) for f in realised.fills] == [
        (t.amount_in, t.expected_out) for t in decision.plan.trades
    ]
    assert realised.total_drift_after < realised.total_drift_before
    assert realised.cost * MAX_BPS <= realised.value_before * spec.max_cost_bps
    weights = [int(w) for w in lens.current_weights(vault)]
    for asset, weight in zip(spec.assets, weights):
        assert abs(weight - asset.target_bps * WAD // MAX_BPS) <= asset.band_bps * WAD // MAX_BPS, (asset, weight)
    assert all(int(t.balanceOf(v)) == 0 for t in tokens for v in venues)  # adapters keep nothing

    received = {}
    for name, holder in (("alice", alice), ("bob", bob)):
        shares = int(vault.balanceOf(holder))
        before = [int(t.balanceOf(holder)) for t in tokens]
        expected = [int(x) for x in lens.preview_exit(vault, shares)]
        vault.exit(shares, [0] * len(tokens), holder, sender=holder)
        received[name] = [int(t.balanceOf(holder)) - b for t, b in zip(tokens, before)]
        assert received[name] == expected and vault.balanceOf(holder) == 0
    assert vault.totalSupply() == DEAD_SHARES
    return Lifecycle(decision, realised, received)


@dataclass
class LendingLife:
    """What :func:`run_lending` saw."""

    lent: int  # base units of the first asset lent into the market
    paid: list  # the sleeve's ExitPaid events of the two exits, in order (alice, bob)


def run_lending(
    project,
    deployment: Deployment,
    spec: PortfolioSpec,
    tokens: list,
    market,
    fund,
    actors: dict,
    owner,
    seed_usd: int = 1_000_000,
    deposit_usd: int = 100_000,
) -> LendingLife:
    """Lending on an existing ERC-4626 market: on a fresh vault, the owner attaches a sleeve with
    ``market`` for the first asset (20 % idle buffer), Alice seeds the vault in kind, the keeper
    (the allocator) lends half of the idle first asset, Bob deposits ``deposit_usd`` of it (priced
    with the lent part at the market's reported rate), and both exit: the lent part comes back
    redeemed when the market can pay, else in market shares. Asserts each step's outcome.
    """
    from ballast.chain.deploy import deploy_sleeve

    vault, lens, alice, bob, keeper = (
        deployment.vault,
        deployment.lens,
        actors["alice"],
        actors["bob"],
        actors["keeper"],
    )
    assert str(market.asset()).lower() == str(tokens[0].address).lower(), "the market must lend the first asset"
    sleeve = deploy_sleeve(project, owner, vault, {tokens[0]: market}, 2_000, 2_000, 100)
    seed = [usd_units(vault, t, seed_usd * a.target_bps // MAX_BPS) for t, a in zip(tokens, spec.assets)]
    for i, (token, amount) in enumerate(zip(tokens, seed)):
        fund(alice, i, amount)
        token.approve(vault, amount, sender=alice)
    vault.join(0, seed, alice, sender=alice)

    value = int(lens.total_value(vault))
    amount = int(vault.balances(tokens[0])) // 2
    tx = vault.lend(tokens[0], amount, sender=keeper)
    lent_event = tx.events.filter(sleeve.Lent)[0]
    assert lent_event.assets == amount and lent_event.shares == sleeve.market_shares(tokens[0]) > 0
    assert int(vault.balances(tokens[0])) == seed[0] - amount
    # The market's own rounding costs the vault at most a unit or two of the asset.
    assert amount - 2 <= int(lens.lent(vault)[0]) <= amount + 1
    assert abs(int(lens.total_value(vault)) - value) <= 2 * int(vault.price(tokens[0])) // 10 ** int(
        tokens[0].decimals()
    )

    deposit = usd_units(vault, tokens[0], deposit_usd)
    fund(bob, 0, deposit)
    tokens[0].approve(vault, deposit, sender=bob)
    expected_shares = int(lens.preview_deposit(vault, tokens[0], deposit))
    vault.deposit(tokens[0], deposit, expected_shares, bob, sender=bob)
    assert int(vault.balanceOf(bob)) == expected_shares > 0

    paid = []
    for holder in (alice, bob):
        shares = int(vault.balanceOf(holder))
        idle = [int(x) for x in lens.preview_exit(vault, shares)]
        market_shares = int(lens.preview_exit_lent(vault, shares)[0])
        redeemable = int(market.previewRedeem(market_shares))
        before = int(tokens[0].balanceOf(holder)), int(market.balanceOf(holder))
        tx = vault.exit(shares, [0] * len(tokens), holder, sender=holder)
        event = tx.events.filter(sleeve.ExitPaid)[0]
        assert event.shares == market_shares and event.receiver == holder.address
        got_asset = int(tokens[0].balanceOf(holder)) - before[0]
        got_shares = int(market.balanceOf(holder)) - before[1]
        if event.in_kind:
            assert (got_asset, got_shares, event.assets) == (idle[0], market_shares, 0)
        else:
            # Interest accrues per block: the redeem pays at least what it previewed a block before.
            assert got_shares == 0 and got_asset == idle[0] + event.assets
            assert redeemable <= event.assets <= redeemable + redeemable // 10_000 + 1
        paid.append(event)
    assert vault.totalSupply() == DEAD_SHARES
    return LendingLife(amount, paid)


def deploy_existing(project, provider, path, deployer, keeper) -> tuple[PortfolioSpec, Deployment]:
    """The spec at ``path`` (without cooldown, :func:`without_cooldown`), checked against the
    connected chain and deployed as ``ape run deploy`` does it."""
    spec = without_cooldown(load_spec(path))
    check_network(spec, str(path), provider.network_choice, provider.network.is_local)
    check_existing_contracts(spec, str(path), project, provider)
    return spec, deploy_from_spec(project, deployer, spec, keeper=keeper)


# The local stand-ins of the mainnet assets (symbol, decimals, USD price) and of the pools the
# spec counts on: a pool of every traded pair at one tier at least, none for (WETH, LINK) at 5 bps.
ASSETS = (("USDC", 6, 1.0), ("WETH", 18, 3_000.0), ("WBTC", 8, 60_000.0), ("LINK", 18, 15.0))
V3_POOLS = {5: (("USDC", "WETH"), ("WBTC", "USDC"), ("LINK", "USDC")), 30: (("USDC", "WETH"), ("WBTC", "WETH"))}
V2_PAIRS = (("USDC", "WETH"), ("LINK", "WETH"))
DEPTH_USD = 20_000_000


class ExistingMarket:
    """Tokens, feeds, factories and pools deployed before any spec names them."""

    def __init__(self, project, owner):
        self.owner = owner
        self.tokens = {s: project.MockERC20.deploy(s, s, d, sender=owner) for s, d, _ in ASSETS}
        self.feeds = {s: chainlink.deploy_feed(owner, 8, feed_answer(p, 8)) for s, _, p in ASSETS}
        self.v3 = uniswap_v3.container("UniswapV3Factory").deploy(sender=owner)
        self.v2 = uniswap_v2.container("UniswapV2Factory").deploy(owner.address, sender=owner)
        helper = uniswap_v3.deploy_liquidity_helper(project, self.v3, owner)
        for fee_bps, pairs in V3_POOLS.items():
            for a, b in pairs:
                uniswap_v3.seed_pool(
                    self.v3, helper, self.tokens[a], self.tokens[b], *self._mint(a, b), fee_bps * 100, owner
                )
        for a, b in V2_PAIRS:
            uniswap_v2.add_liquidity(self.v2, self.tokens[a], self.tokens[b], *self._mint(a, b), owner)

    def _mint(self, a: str, b: str) -> tuple[int, int]:
        """Mint ``DEPTH_USD`` of each of a and b to the owner; returns the amounts."""
        amounts = []
        for symbol in (a, b):
            _, decimals, price = next(x for x in ASSETS if x[0] == symbol)
            amounts.append(int(DEPTH_USD / price * 10**decimals))
            self.tokens[symbol].mint(self.owner, amounts[-1], sender=self.owner)
        return amounts[0], amounts[1]

    def registry(self) -> dict:
        """Every pool address the two factories' registries hold for the four assets."""
        found = {}
        for a, b in itertools.combinations(self.tokens.values(), 2):
            found[("v2", a.symbol(), b.symbol())] = str(self.v2.getPair(a, b))
            for fee in (100, 500, 3000, 10000):
                found[(fee, a.symbol(), b.symbol())] = str(self.v3.getPool(a, b, fee))
        return found

    def spec_data(self) -> dict:
        """specs/mainnet.yaml with the local addresses: the pools as the factories' registries
        list them (the spec loader re-derives each by CREATE2 and compares)."""
        data = yaml.safe_load(MAINNET.read_text())
        for asset in data["assets"]:
            asset.update(address=str(self.tokens[asset["symbol"]].address), feed=self.feeds[asset["symbol"]].address)
        v3_5, v3_30, v2 = data["market"]["venues"]
        for venue, fee_bps in ((v3_5, 5), (v3_30, 30)):
            venue["factory"] = str(self.v3.address)
            venue["pools"] = [
                {"pair": list(p), "address": str(self.v3.getPool(*self._pair(p), fee_bps * 100))}
                for p in V3_POOLS[fee_bps]
            ]
        v2["factory"] = str(self.v2.address)
        v2["pools"] = [{"pair": list(p), "address": str(self.v2.getPair(*self._pair(p)))} for p in V2_PAIRS]
        return data

    def _pair(self, pair) -> list:
        return [self.tokens[s] for s in pair]

    def write_spec(self, folder: Path, change=None) -> Path:
        data = self.spec_data()
        if change:
            change(data)
        path = folder / "existing.yaml"
        path.write_text(yaml.safe_dump(data, sort_keys=False))
        return path


def free_port() -> int:
    """A loopback port no one listens on now (for an anvil of our own, never someone else's)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@contextmanager
def fork_of(networks, upstream: str, block: int | None = None):
    """ape connected to ``ethereum:mainnet-fork:foundry`` forking ``upstream`` (an RPC URL) at
    ``block`` (default: its latest), on an anvil of its own (a free port: never another session's
    node on 8545), with time frozen: each block one second after the last, so that the feeds'
    rounds age only by the blocks mined."""
    fork = {"upstream_provider": upstream} | ({"block_number": block} if block is not None else {})
    settings = {"host": f"http://127.0.0.1:{free_port()}", "fork": {"ethereum": {"mainnet": fork}}}
    with networks.parse_network_choice(FORK, provider_settings=settings, disconnect_after=True) as provider:
        provider.make_request("anvil_setBlockTimestampInterval", [1])
        yield provider


def whale_funder(accounts, tokens: list, whales: list[str]):
    """``fund(account, i, amount)`` for :func:`run_lifecycle`: ``whales[i]`` (impersonated, given
    gas money) sends ``amount`` of ``tokens[i]``, after checking it holds that much."""

    def fund(account, i, amount):
        whale = accounts[whales[i]]
        account.provider.set_balance(whale.address, 10**18)  # a whale may be a contract without ETH
        held = int(tokens[i].balanceOf(whale))
        assert held >= amount, f"whale {whale.address} holds {held} base units of {tokens[i].address}, {amount} needed"
        tokens[i].transfer(account, amount, sender=whale)

    return fund
