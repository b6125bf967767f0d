"""Deploy a Ballast stack on real Uniswap V2 pairs and V3 pools outside ape, and read it for the planner.

Each stack is what the vault meets on mainnet, in miniature: mock tokens (some USDT-like, some
calling back on transfer) and settable feeds, a fresh ``UniswapV2Factory`` and
``UniswapV3Factory`` deployed from the npm artifacts' bytecode (``@uniswap/v2-core@1.0.1``,
``@uniswap/v3-core@1.0.1``, the same files ape's tests and the demo deploy), pairs and pools
for the pairs the configuration names (V3 liquidity minted through
``contracts/periphery/UniswapV3Liquidity.vy``: half full range, half concentrated around the
price, as ``ballast.venues.uniswap_v3.seed_pool`` does under ape), each venue behind the
vault's adapter (``UniswapV2Venue``, ``UniswapV3Venue``), and the vault.

Contracts are compiled by titanoboa and executed, by default, on revm through ``pyrevm``
(``revm_env.py``: a call costs tens of microseconds); ``BALLAST_FUZZ_EVM=boa`` executes
them on titanoboa's own py-evm instead (far slower, same results). ``ENV`` is the chosen
environment: ``prank``, ``anchor``, ``time_travel``, ``timestamp`` as in ``boa.env``.

The vault imports ``from contracts.modules import ...``, ``from interfaces import ...``
and snekmate, so contracts are compiled with the repository root on the search path.
Compiled deployers are cached per process (titanoboa also caches on disk).
"""

from __future__ import annotations

import contextlib
import functools
import itertools
import json
import os
from dataclasses import dataclass, field, replace
from fractions import Fraction
from pathlib import Path

import boa
import boa.interpret
from boa.contracts.base_evm_contract import BoaError
from boa.contracts.vyper.vyper_contract import VyperContract
from eth_abi import encode
from eth_utils import keccak

from ballast.chain.deploy import asset_configs
from ballast.chain.market import arbitrage_snapshot
from ballast.chain.state import VaultState, read_state
from ballast.constants import WAD
from ballast.fuzz.revm_env import RevmDeployer, RevmEnv, RevmError, abi_type
from ballast.planner import Market, Plan, Pool, plan_rebalance
from ballast.venues import uniswap_v2, uniswap_v3
from ballast.venues import uniswap_v3_math as v3math

EVM_BACKEND = os.environ.get("BALLAST_FUZZ_EVM", "revm")
if EVM_BACKEND not in ("revm", "boa"):
    raise ValueError(f"BALLAST_FUZZ_EVM must be 'revm' or 'boa', not {EVM_BACKEND!r}")
ENV = RevmEnv() if EVM_BACKEND == "revm" else boa.env
# What a reverted call raises on the chosen backend.
EvmError: tuple[type[Exception], ...] = (RevmError,) if EVM_BACKEND == "revm" else (BoaError,)

ROOT = Path(__file__).resolve().parents[2]
CONTRACTS = ROOT / "contracts"

FEED_DECIMALS = 8
FEED_TO_WAD = 10 ** (18 - FEED_DECIMALS)
MAX_UINT = 2**256 - 1
# What an account that trades on the pools (the arbitrageur, outside traders) is minted of every
# token on its first trade: more than any pool or vault here ever holds, far below 2**256.
TRADER_FUNDS = 2**200

V2, V3 = "uniswap_v2", "uniswap_v3"
# Which pairs get a pool on which venue (``StackConfig.layout``): every pair on both; a mix
# (by pair: V3 only, V2 only, or both); or only the pairs of asset 0, on both (the others
# trade through it as a hub, and a direct trade finds no pool).
LAYOUTS = ("both", "mixed", "hub")


# --------------------------------------------------------------------------- compiling


@contextlib.contextmanager
def repo_search_path():
    """Compile with the repository root on titanoboa's import search path, then restore it."""
    previous = boa.interpret._search_path
    boa.interpret.set_search_paths([str(ROOT)])
    try:
        yield
    finally:
        boa.interpret.set_search_paths(previous)


_DEPLOY_SOURCE_MAPS: dict[int, object] = {}


class _Contract(VyperContract):
    """A ``VyperContract`` whose deployment source map is computed once per compiled contract.

    titanoboa recomputes it (re-assembling the init code) on every deployment, which is
    most of the cost of deploying the vault; the map only depends on the compiler output.
    """

    @property
    def _deployment_source_map(self):
        key = id(self.compiler_data)
        if key not in _DEPLOY_SOURCE_MAPS:
            _DEPLOY_SOURCE_MAPS[key] = VyperContract._deployment_source_map.func(self)
        return _DEPLOY_SOURCE_MAPS[key]


class FastDeployer:
    """Deploys a compiled contract like ``VyperDeployer.deploy``, reusing its deployment source map."""

    def __init__(self, deployer):
        self.deployer = deployer

    def deploy(self, *args):
        return _Contract(self.deployer.compiler_data, *args, filename=self.deployer.filename)

    def deploy_as_blueprint(self):
        return self.deployer.deploy_as_blueprint()

    def at(self, address):
        return self.deployer.at(address)


class ArtifactDeployer:
    """``deploy(*args)`` and ``at(address)`` for a contract of an npm artifact (its own bytecode),
    on either backend."""

    def __init__(self, artifact):
        self.abi = artifact.abi
        self.bytecode = bytes.fromhex(artifact.bytecode.removeprefix("0x"))
        self._factory = boa.loads_abi(json.dumps(artifact.abi), name=artifact.name) if EVM_BACKEND == "boa" else None

    def deploy(self, *args):
        if self._factory is None:
            return ENV.deploy(self.bytecode, self.abi, *args)
        constructor = next((e for e in self.abi if e["type"] == "constructor"), {"inputs": []})
        data = self.bytecode + encode([abi_type(i) for i in constructor["inputs"]], list(args))
        address, _ = ENV.deploy_code(bytecode=data)
        return self._factory.at(address)

    def at(self, address: str):
        if self._factory is None:
            return ENV.at(address, self.abi)
        return self._factory.at(address)


# One call that reads what the invariants check after every step, and one that reads every
# pool's price state for the planner's snapshot (a titanoboa or facade call costs far more in
# Python than a staticcall inside the EVM).
LENS_SOURCE = """
# pragma version 0.4.3
from ethereum.ercs import IERC20

interface IVault:
    def balances(asset: address) -> uint256: view

interface IPair:
    def getReserves() -> (uint112, uint112, uint32): view

interface IPool:
    def slot0() -> (uint160, int24, uint16, uint16, uint16, uint8, bool): view
    def liquidity() -> uint128: view

interface ISleeve:
    def market_shares(asset: address) -> uint256: view
    def checkpoint_rate(asset: address) -> uint256: view
    def checkpoint_time(asset: address) -> uint256: view
    def peak_rate(asset: address) -> uint256: view
    def owed(holder: address, market: address) -> uint256: view
    def lent_assets(entry: bool) -> DynArray[uint256, 8]: view

@view
@external
def read(
    vault: address, tokens: DynArray[address, 8], holders: DynArray[address, 16]
) -> (uint256, DynArray[uint256, 16], DynArray[uint256, 8], DynArray[uint256, 8]):
    shares: DynArray[uint256, 16] = []
    for holder: address in holders:
        shares.append(staticcall IERC20(vault).balanceOf(holder))
    tracked: DynArray[uint256, 8] = []
    real: DynArray[uint256, 8] = []
    for token: address in tokens:
        tracked.append(staticcall IVault(vault).balances(token))
        real.append(staticcall IERC20(token).balanceOf(vault))
    return staticcall IERC20(vault).totalSupply(), shares, tracked, real

@view
@external
def token_balances(tokens: DynArray[address, 8], holder: address) -> DynArray[uint256, 8]:
    out: DynArray[uint256, 8] = []
    for token: address in tokens:
        out.append(staticcall IERC20(token).balanceOf(holder))
    return out

@view
@external
def balances_of(tokens: DynArray[address, 8], holders: DynArray[address, 16]) -> DynArray[uint256, 128]:
    out: DynArray[uint256, 128] = []
    for holder: address in holders:
        for token: address in tokens:
            out.append(staticcall IERC20(token).balanceOf(holder))
    return out

@view
@external
def lending(
    sleeve: address, indices: DynArray[uint256, 8], tokens: DynArray[address, 8],
    markets: DynArray[address, 8], holders: DynArray[address, 16]
) -> DynArray[uint256, 256]:
    # Per lent asset: the sleeve's market shares, its share balance in the market, the market's
    # supply and assets, the checkpoint rate and time, the peak rate, lent_assets(False) and
    # lent_assets(True); then per holder, what the sleeve owes it and its market shares.
    out: DynArray[uint256, 256] = []
    counted: DynArray[uint256, 8] = staticcall ISleeve(sleeve).lent_assets(False)
    entry: DynArray[uint256, 8] = staticcall ISleeve(sleeve).lent_assets(True)
    for k: uint256 in range(len(tokens), bound=8):
        token: address = tokens[k]
        market: address = markets[k]
        out.append(staticcall ISleeve(sleeve).market_shares(token))
        out.append(staticcall IERC20(market).balanceOf(sleeve))
        out.append(staticcall IERC20(market).totalSupply())
        out.append(staticcall IERC20(token).balanceOf(market))
        out.append(staticcall ISleeve(sleeve).checkpoint_rate(token))
        out.append(staticcall ISleeve(sleeve).checkpoint_time(token))
        out.append(staticcall ISleeve(sleeve).peak_rate(token))
        out.append(counted[indices[k]])
        out.append(entry[indices[k]])
        for holder: address in holders:
            out.append(staticcall ISleeve(sleeve).owed(holder, market))
            out.append(staticcall IERC20(market).balanceOf(holder))
    return out

@view
@external
def pools(pairs: DynArray[address, 28], v3_pools: DynArray[address, 28]) -> DynArray[uint256, 140]:
    # Per V2 pair: reserve0, reserve1. Per V3 pool: sqrtPriceX96, tick + 2**23, liquidity.
    out: DynArray[uint256, 140] = []
    for pair: address in pairs:
        r0: uint112 = 0
        r1: uint112 = 0
        t: uint32 = 0
        r0, r1, t = staticcall IPair(pair).getReserves()
        out.append(convert(r0, uint256))
        out.append(convert(r1, uint256))
    for pool: address in v3_pools:
        sqrt_price: uint160 = 0
        tick: int24 = 0
        a: uint16 = 0
        b: uint16 = 0
        c: uint16 = 0
        d: uint8 = 0
        e: bool = False
        sqrt_price, tick, a, b, c, d, e = staticcall IPool(pool).slot0()
        out.append(convert(sqrt_price, uint256))
        out.append(convert(convert(tick, int256) + 2**23, uint256))
        out.append(convert(staticcall IPool(pool).liquidity(), uint256))
    return out
"""
TICK_OFFSET = 2**23  # the lens returns ticks (int24) shifted to be non-negative


@dataclass(frozen=True)
class Deployers:
    vault: object
    token: object
    no_return_token: object
    reentrant_token: object
    feed: object
    lens: object  # LENS_SOURCE: the invariants' and the planner's bulk reads
    views: object  # contracts/periphery/VaultLens.vy: the vault's views and the keeper's state
    factory: object  # contracts/VaultFactory.vy, over a blueprint of the vault under test
    rules: object  # contracts/Rules.vy: the vaults' shared pure rules
    hostile_venue: object  # contracts/test/HostileVenue.vy: failure injection
    v2_venue: object
    v3_venue: object
    v3_liquidity: object
    swapper: object  # contracts/periphery/PushSwapper.vy: how traders push a swap, as the vault does
    sleeve: object  # contracts/LendingSleeve.vy: one per lending vault
    market: object  # contracts/test/HostileMarket.vy: an ERC-4626 lending market with failure switches
    queue: object  # contracts/entry/DepositQueue.vy: asynchronous deposits of one asset
    v2_factory: object  # npm artifacts from here on
    v2_pair: object
    v3_factory: object
    v3_pool: object


def vault_source() -> str:
    """The vault source under test: ``BALLAST_FUZZ_VAULT`` if set, else ``contracts/Vault.vy``."""
    return os.environ.get("BALLAST_FUZZ_VAULT") or str(CONTRACTS / "Vault.vy")


def sleeve_source() -> str:
    """The lending sleeve under test: ``BALLAST_FUZZ_SLEEVE`` if set, else ``contracts/LendingSleeve.vy``."""
    return os.environ.get("BALLAST_FUZZ_SLEEVE") or str(CONTRACTS / "LendingSleeve.vy")


def queue_source() -> str:
    """The deposit queue under test: ``BALLAST_FUZZ_QUEUE`` if set, else ``contracts/entry/DepositQueue.vy``."""
    return os.environ.get("BALLAST_FUZZ_QUEUE") or str(CONTRACTS / "entry" / "DepositQueue.vy")


def balances_calldata(token) -> bytes:
    """Calldata of ``vault.balances(token)`` (for a token's call-back hook to read mid-transfer)."""
    return keccak(text="balances(address)")[:4] + bytes(12) + bytes.fromhex(str(token.address)[2:])


@functools.cache
def deployers() -> Deployers:
    """Compiled (not deployed) contracts; compiled once per process.

    ``BALLAST_FUZZ_VAULT`` names another vault source to fuzz instead of ``contracts/Vault.vy``
    (e.g. a deliberately broken copy, to check that the suite notices); ``BALLAST_FUZZ_SLEEVE``
    and ``BALLAST_FUZZ_QUEUE`` likewise for ``contracts/LendingSleeve.vy`` and
    ``contracts/entry/DepositQueue.vy``.
    """
    with repo_search_path():
        vyper = [
            boa.load_partial(vault_source()),
            boa.load_partial(str(CONTRACTS / "test" / "MockERC20.vy")),
            boa.load_partial(str(CONTRACTS / "test" / "NoReturnToken.vy")),
            boa.load_partial(str(CONTRACTS / "test" / "ReentrantToken.vy")),
            boa.load_partial(str(CONTRACTS / "test" / "MockPriceFeed.vy")),
            boa.loads_partial(LENS_SOURCE, name="Lens"),
            boa.load_partial(str(CONTRACTS / "periphery" / "VaultLens.vy")),
            boa.load_partial(str(CONTRACTS / "VaultFactory.vy")),
            boa.load_partial(str(CONTRACTS / "Rules.vy")),
            boa.load_partial(str(CONTRACTS / "test" / "HostileVenue.vy")),
            boa.load_partial(str(CONTRACTS / "venues" / "UniswapV2Venue.vy")),
            boa.load_partial(str(CONTRACTS / "venues" / "UniswapV3Venue.vy")),
            boa.load_partial(str(CONTRACTS / "periphery" / "UniswapV3Liquidity.vy")),
            boa.load_partial(str(CONTRACTS / "periphery" / "PushSwapper.vy")),
            boa.load_partial(sleeve_source()),
            boa.load_partial(str(CONTRACTS / "test" / "HostileMarket.vy")),
            boa.load_partial(queue_source()),
        ]
    if EVM_BACKEND == "revm":
        compiled = [RevmDeployer(ENV, d.compiler_data) for d in vyper]
    else:
        compiled = [FastDeployer(d) for d in vyper]
    npm = [
        uniswap_v2.artifact("UniswapV2Factory"),
        uniswap_v2.artifact("UniswapV2Pair"),
        uniswap_v3.artifact("UniswapV3Factory"),
        uniswap_v3.artifact("UniswapV3Pool"),
    ]
    return Deployers(*compiled, *(ArtifactDeployer(a) for a in npm))


def revert_reason(err: Exception) -> str:
    """The revert string of the innermost failing frame (``""`` when there is none)."""
    if isinstance(err, RevmError):
        return err.reason
    frame = err.stack_trace.last_frame
    if isinstance(frame, str):
        return frame
    try:
        reason = frame.pretty_vm_reason
    except Exception:  # noqa: BLE001 - no vm error on this frame
        return str(getattr(frame, "error_detail", "") or "")
    # py-evm spells a revert without data (Vyper's reentrancy lock, a failed bool-less call) so.
    return reason if isinstance(reason, str) and reason != "Revert(b'')" else ""


# --------------------------------------------------------------------------- configuration


@dataclass
class AssetParams:
    decimals: int
    answer: int  # initial feed answer, FEED_DECIMALS decimals (USD per whole token)
    target_bps: int
    band_bps: int
    outer_band_bps: int
    no_return: bool = False  # USDT-like token that returns nothing
    reentrant: bool = False  # ReentrantToken (18 decimals): a one-shot call-back hook on its next transfer
    heartbeat: int = 86_400
    min_answer: int = 0  # exclusive sane bounds of the feed answer
    max_answer: int = 2**128 - 1


@dataclass
class StackConfig:
    assets: list[AssetParams]
    trigger_type: int = 1
    rebalance_interval: int = 86_400
    vol_reference: int = WAD // 2
    vol_alpha_bps: int = 2_000
    vol_min_interval: int = 3_600
    max_slippage_bps: int = 150
    max_cost_bps: int = 100
    turnover_cap_bps: int = 10_000
    turnover_period: int = 86_400
    cooldown: int = 3_600
    entry_haircut_bps: int = 30
    depth_usd: int = 10_000_000  # USD per side of every pool
    v3_fee: int = 500  # the Uniswap V3 fee tier traded, pips (100, 500, 3000, 10000)
    v3_band_bps: int = 1_000  # the concentrated half of each V3 pool's liquidity: about +-this around the price
    layout: str = "both"  # which pairs have a pool on which venue (see LAYOUTS)
    # Lending: the assets with a market (none: no sleeve), each one's idle buffer (bps), and the
    # sleeve's guards (fastest counted-rate rise, bps per year; loss that pauses lending, bps).
    lent: tuple[int, ...] = ()
    buffer_bps: tuple[int, ...] = ()
    max_rate_rise_bps: int = 2_000
    max_loss_bps: int = 100

    @property
    def trigger(self) -> tuple:
        return (
            self.trigger_type,
            self.rebalance_interval,
            self.vol_reference,
            self.vol_alpha_bps,
            self.vol_min_interval,
        )

    @property
    def limits(self) -> tuple:
        return (self.max_slippage_bps, self.max_cost_bps, self.turnover_cap_bps, self.turnover_period, self.cooldown)

    def venues_of(self, i: int, j: int) -> tuple[str, ...]:
        """The venues with a pool for assets ``i`` < ``j`` under :attr:`layout`."""
        if self.layout == "both":
            return (V2, V3)
        if self.layout == "hub":
            return (V2, V3) if i == 0 else ()
        return ((V3,), (V2,), (V2, V3))[(i + j) % 3]


def units_for_usd(usd: int, answer: int, decimals: int) -> int:
    """Base units of a token worth ``usd`` whole USD at feed ``answer`` (rounded down)."""
    return usd * 10**FEED_DECIMALS * 10**decimals // answer


# --------------------------------------------------------------------------- the stack


@dataclass
class PoolRecord:
    """One pool of the stack: a Uniswap V2 pair or V3 pool of assets ``i`` < ``j``."""

    kind: str  # V2 or V3
    i: int
    j: int
    contract: object
    tokens: tuple[str, str]  # (token0, token1): the pool's order, by address
    ticks: v3math.PoolState | None = None  # V3: fee, spacing and initialized ticks, read once after seeding

    @property
    def address(self) -> str:
        return str(self.contract.address)


@dataclass
class FuzzStack:
    """A deployed vault with its tokens, feeds, and Uniswap V2 and V3 venues over real pools."""

    config: StackConfig
    owner: str
    keeper: str
    guardian: str
    tokens: list
    feeds: list
    vault: object
    lens: object  # LENS_SOURCE's bulk reads
    views: object  # VaultLens: the vault's views
    v2: object  # the UniswapV2Venue adapter (whitelisted)
    v3: object  # the UniswapV3Venue adapter of ``config.v3_fee`` (whitelisted)
    swapper: object  # PushSwapper: traders' swaps, pushed as the vault pushes them
    pools: list[PoolRecord]
    v2_fee_bps: int  # what the V2 adapter reports (Uniswap V2: 30)
    sleeve: object = None  # the LendingSleeve (None: the vault does not lend)
    markets: dict = field(default_factory=dict)  # asset index -> its HostileMarket
    _by_address: dict = field(default_factory=dict)
    _pool_index: dict = field(default_factory=dict)  # (kind, i, j) -> PoolRecord
    _kinds: dict = field(default_factory=dict)  # adapter address (lower case) -> V2 / V3
    _token_infos: dict = field(default_factory=dict)  # token address (lower case) -> _TokenInfo

    @classmethod
    def deploy(cls, config: StackConfig, keeper: str, guardian: str) -> FuzzStack:
        """Deploy tokens, feeds, both factories and adapters, the pools of ``config.layout``
        (``depth_usd`` per side at the feeds' prices), and the vault, which whitelists both
        adapters. ``ENV.eoa`` owns everything and provides the liquidity."""
        d = deployers()
        owner = str(ENV.eoa)
        tokens, feeds = [], []
        for i, a in enumerate(config.assets):
            if a.reentrant:
                assert a.decimals == 18, "ReentrantToken has 18 decimals"
                tokens.append(d.reentrant_token.deploy(f"Token {i}", f"T{i}"))
            else:
                kind = d.no_return_token if a.no_return else d.token
                tokens.append(kind.deploy(f"Token {i}", f"T{i}", a.decimals))
            feeds.append(d.feed.deploy(FEED_DECIMALS, a.answer))
        v2_factory = d.v2_factory.deploy(owner)
        v2 = d.v2_venue.deploy(v2_factory.address, uniswap_v2.pair_init_code_hash())
        v3_factory = d.v3_factory.deploy()
        if config.v3_fee == uniswap_v3.LOW_FEE:  # enabled by governance on mainnet, not by the 1.0.1 factory
            v3_factory.enableFeeAmount(uniswap_v3.LOW_FEE, uniswap_v3.LOW_FEE_TICK_SPACING)
        v3 = d.v3_venue.deploy(v3_factory.address, uniswap_v3.pool_init_code_hash(), config.v3_fee)
        helper = d.v3_liquidity.deploy(v3_factory.address)
        for token in tokens:
            token.approve(helper.address, MAX_UINT)
        pools = []
        for i, j in itertools.combinations(range(len(tokens)), 2):
            amounts = [
                units_for_usd(config.depth_usd, config.assets[k].answer, config.assets[k].decimals) for k in (i, j)
            ]
            # Pools keep their tokens in address order (token0, token1).
            (t0, a0), (t1, a1) = sorted(zip((tokens[i], tokens[j]), amounts), key=lambda x: int(str(x[0].address), 16))
            for kind in config.venues_of(i, j):
                t0.mint(owner, a0)
                t1.mint(owner, a1)
                if kind == V2:
                    pools.append(_seed_pair(d, v2_factory, t0, t1, a0, a1, owner, i, j))
                else:
                    pools.append(_seed_v3_pool(d, v3_factory, helper, t0, t1, a0, a1, config, i, j))
        # ``AssetParams`` carries the fields of a spec's ``AssetSpec`` that the vault's config needs.
        configs = asset_configs(config, [t.address for t in tokens], [f.address for f in feeds])
        factory = d.factory.deploy(d.vault.deploy_as_blueprint().address, d.rules.deploy().address)
        venues = [v2.address, v3.address]
        args = ("Ballast Fuzz", "BFUZZ", configs, config.trigger, config.limits, config.entry_haircut_bps, venues)
        vault = d.vault.at(factory.deploy_vault(*args, keeper, guardian, owner))
        lens, views, swapper = d.lens.deploy(), d.views.deploy(), d.swapper.deploy()
        sleeve, markets = None, {}
        if config.lent:
            # One HostileMarket per lent asset, whitelisted with its buffer; the factory already
            # gave the keeper the allocator role.
            sleeve = d.sleeve.deploy(vault.address, config.max_rate_rise_bps, config.max_loss_bps)
            for i, buffer in zip(config.lent, config.buffer_bps):
                markets[i] = d.market.deploy(tokens[i].address)
                sleeve.set_market(tokens[i].address, markets[i].address, buffer)
            vault.set_sleeve(sleeve.address)
        stack = cls(
            config,
            owner,
            keeper,
            guardian,
            tokens,
            feeds,
            vault,
            lens,
            views,
            v2,
            v3,
            swapper,
            pools,
            int(v2.fee_bps()),
            sleeve,
            markets,
        )
        stack._by_address = {str(t.address).lower(): t for t in tokens}
        stack._pool_index = {(p.kind, p.i, p.j): p for p in pools}
        stack._kinds = {str(v2.address).lower(): V2, str(v3.address).lower(): V3}
        return stack

    # ---------------------------------------------------------------- tokens

    @property
    def n(self) -> int:
        return len(self.tokens)

    def token_at(self, address):
        return self._by_address[str(address).lower()]

    def fund(self, account: str, amounts: list[int], spender=None) -> None:
        """Mint ``amounts`` (base units, in basket order) to ``account`` and approve ``spender`` (the vault)."""
        spender = spender or self.vault
        for token, amount in zip(self.tokens, amounts):
            if amount:
                token.mint(account, amount)
                with ENV.prank(account):
                    token.approve(spender.address, amount)

    def token_balances(self, account) -> list[int]:
        return list(self.lens.token_balances([t.address for t in self.tokens], account))

    def holders_token_balances(self, holders: list[str]) -> dict[str, list[int]]:
        """Every token balance of every one of ``holders``, in one call."""
        words = list(self.lens.balances_of([t.address for t in self.tokens], holders))
        return {who: words[k * self.n : (k + 1) * self.n] for k, who in enumerate(holders)}

    def snapshot(self, holders: list[str]) -> tuple[int, list[int], list[int], list[int]]:
        """(totalSupply, shares of ``holders``, tracked balances, real token balances of the vault) in one call."""
        supply, shares, tracked, real = self.lens.read(self.vault.address, [t.address for t in self.tokens], holders)
        return supply, list(shares), list(tracked), list(real)

    # ---------------------------------------------------------------- oracles

    def answers(self) -> list[int]:
        """Raw feed answers (no validation: a stale or broken feed still has one)."""
        return [int(f.latest_answer()) for f in self.feeds]

    def prices_wad(self) -> list[int]:
        return [a * FEED_TO_WAD for a in self.answers()]

    def set_answer(self, i: int, answer: int) -> None:
        self.feeds[i].set_answer(answer)

    # ---------------------------------------------------------------- market

    @property
    def venues(self) -> list:
        return [self.v2, self.v3]

    def venue_kind(self, venue) -> str | None:
        """V2 or V3 for the stack's adapters (by address), else None."""
        return self._kinds.get(str(getattr(venue, "address", venue)).lower())

    def pool(self, kind: str, i: int, j: int) -> PoolRecord | None:
        """The ``kind`` pool of assets ``i`` and ``j`` (either order), or None."""
        return self._pool_index.get((kind, min(i, j), max(i, j)))

    def has_pool(self, i: int, j: int) -> bool:
        """Whether either venue has a pool of assets ``i`` and ``j``."""
        return self.pool(V2, i, j) is not None or self.pool(V3, i, j) is not None

    def market(self) -> Market:
        """A planner :class:`Market` of every pool, read in one call: V2 reserves (a constant-product
        :class:`ballast.planner.Pool`), V3 price, tick and in-range liquidity on top of the ticks read
        after seeding (a :class:`ballast.venues.uniswap_v3.V3VenuePool`: the pool's own swap loop).

        Only the stack mints V3 positions, all at deployment, so the initialized ticks and their
        liquidityNet never change afterwards; swaps move only what is read here."""
        pairs = [p for p in self.pools if p.kind == V2]
        v3_pools = [p for p in self.pools if p.kind == V3]
        words = self.lens.pools([p.address for p in pairs], [p.address for p in v3_pools]) if self.pools else []
        out, at = [], 0
        v2, v3 = str(self.v2.address), str(self.v3.address)
        for p in pairs:
            if words[at] and words[at + 1]:
                out.append(Pool(v2, *p.tokens, words[at], words[at + 1], self.v2_fee_bps))
            at += 2
        for p in v3_pools:
            sqrt_price, tick, liquidity = words[at], words[at + 1] - TICK_OFFSET, words[at + 2]
            at += 3
            state = replace(p.ticks, sqrt_price_x96=sqrt_price, tick=tick, liquidity=liquidity)
            out.append(uniswap_v3.V3VenuePool(uniswap_v3.V3Pool(v3, *p.tokens, p.address, state)))
        return Market(out)

    def _ensure_funded(self, trader: str) -> None:
        """Mint ``trader`` ``TRADER_FUNDS`` of every token and let the swapper take them, unless it
        still has half of that of the first token: asked of the chain, not remembered, since an
        ``anchor`` may have rolled the funding back."""
        if int(self.tokens[0].balanceOf(trader)) >= TRADER_FUNDS // 2:
            return
        for token in self.tokens:
            token.mint(trader, TRADER_FUNDS)
            with ENV.prank(trader):
                token.approve(self.swapper.address, MAX_UINT)

    def swap(self, trader: str, venue, i: int, j: int, amount_in: int, min_out: int = 0) -> int:
        """``trader`` sells ``amount_in`` of asset ``i`` for ``j`` on ``venue``, pushing the input
        to its payee and calling ``swap`` in one transaction, as the vault does."""
        self._ensure_funded(trader)
        with ENV.prank(trader):
            return self.swapper.swap(venue, self.tokens[i], self.tokens[j], amount_in, min_out, trader)

    def arbitrage(self, trader: str, answers: list[int] | None = None) -> int:
        """Swap every pool back to the oracle prices through its own swap
        (``ballast.chain.market.arbitrage_snapshot``: the side priced above the oracle, fee
        included, is sold until its marginal price meets it); returns the swaps made."""
        self._ensure_funded(trader)
        prices = [a * FEED_TO_WAD for a in (answers or self.answers())]
        decimals = [a.decimals for a in self.config.assets]
        venues = {str(self.v2.address): self.v2, str(self.v3.address): self.v3}
        swaps = 0
        for pool in self.market().pools:
            try:
                swaps += arbitrage_snapshot(
                    venues[pool.venue], pool, self.tokens, prices, decimals, trader, swapper=self.swapper
                )
            except EvmError:
                pass  # a pool drained to dust cannot be moved with a nonzero output; leave it
        return swaps

    # ---------------------------------------------------------------- vault reads

    def state(self) -> VaultState:
        """A :class:`ballast.chain.state.VaultState` of the vault now. Raises ``EvmError`` on a bad price."""
        return read_state(
            self.vault, self._token_info, ENV.timestamp, [str(v.address) for v in self.venues], self.views
        )

    def _token_info(self, address) -> _TokenInfo:
        """A token's symbol and decimals, asked of it once (they never change)."""
        key = str(address).lower()
        if key not in self._token_infos:
            token = self.token_at(address)
            self._token_infos[key] = _TokenInfo(token.symbol(), int(token.decimals()))
        return self._token_infos[key]

    def plan(self, **kwargs) -> Plan:
        """What ``ballast.planner.plan_rebalance`` proposes against the live pools."""
        return plan_rebalance(self.state(), self.market(), **kwargs)

    def lending_books(self, holders: list[str]) -> dict[int, tuple[tuple, dict]]:
        """Per lent asset, in one lens call: (the sleeve's market shares, its balance in the
        market, the market's supply and assets, checkpoint rate and time, peak rate,
        ``lent_assets(False)``, ``lent_assets(True)``) and, per holder, (owed, market shares)."""
        lent = sorted(self.markets)
        words = self.lens.lending(
            self.sleeve.address,
            lent,
            [self.tokens[i].address for i in lent],
            [self.markets[i].address for i in lent],
            holders,
        )
        out, at = {}, 0
        for i in lent:
            book = tuple(int(w) for w in words[at : at + 9])
            at += 9
            per_holder = {}
            for who in holders:
                per_holder[who] = (int(words[at]), int(words[at + 1]))
                at += 2
            out[i] = (book, per_holder)
        return out

    def tracked(self) -> list[int]:
        return [int(self.vault.balances(t)) for t in self.tokens]

    def rebalance(self, trades: list[tuple]) -> int:
        """Submit ``trades`` (``Trade`` tuples) as the keeper; returns the vault's reported cost."""
        with ENV.prank(self.keeper):
            return self.vault.rebalance(trades)


@dataclass(frozen=True)
class _TokenInfo:
    """A token's fixed metadata, answered as ``read_state`` asks a token (``symbol()``, ``decimals()``)."""

    symbol_: str
    decimals_: int

    def symbol(self) -> str:
        return self.symbol_

    def decimals(self) -> int:
        return self.decimals_


def _seed_pair(d: Deployers, factory, token0, token1, amount0: int, amount1: int, owner: str, i: int, j: int):
    """The (token0, token1) pair of ``factory`` (tokens in address order), created and funded with
    ``owner``'s amounts (``ballast.venues.uniswap_v2.add_liquidity``, without ape)."""
    factory.createPair(token0.address, token1.address)
    pair = d.v2_pair.at(factory.getPair(token0.address, token1.address))
    token0.transfer(pair.address, amount0)
    token1.transfer(pair.address, amount1)
    pair.mint(owner)
    return PoolRecord(V2, i, j, pair, (str(token0.address), str(token1.address)))


def _seed_v3_pool(d: Deployers, factory, helper, token0, token1, amount0: int, amount1: int, config, i, j):
    """The ``config.v3_fee`` pool of (token0, token1) (in address order), created at the ratio of
    the amounts and funded with them (``ballast.venues.uniswap_v3.seed_pool``'s positions,
    without ape); its ticks are then read back from the pool."""
    fee = config.v3_fee
    factory.createPool(token0.address, token1.address, fee)
    pool = d.v3_pool.at(factory.getPool(token0.address, token1.address, fee))
    pool.initialize(v3math.sqrt_price_x96_from_price(Fraction(amount1, amount0)))  # token1 per token0
    sqrt_price, tick = (int(x) for x in pool.slot0()[:2])
    spacing = int(pool.tickSpacing())
    positions = uniswap_v3.seed_positions(tick, spacing, amount0, amount1, config.v3_band_bps)
    for lower, upper, paid0, paid1 in positions:
        helper.mint(pool.address, lower, upper, uniswap_v3.position_liquidity(sqrt_price, lower, upper, paid0, paid1))
    words = [(t // spacing) >> 8 for lower, upper, *_ in positions for t in (lower, upper)]
    ticks = uniswap_v3.read_pool_state(pool, word_positions=words)
    return PoolRecord(V3, i, j, pool, (str(token0.address), str(token1.address)), ticks)


def plan_trades(plan: Plan) -> list[tuple]:
    return [t.as_tuple() for t in plan.trades]
