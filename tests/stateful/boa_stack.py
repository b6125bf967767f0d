"""Deploy a Ballast stack (tokens, feeds, AMM, vault) outside ape and read it for the planner.

Contracts are compiled by titanoboa and executed, by default, on revm through ``pyrevm``
(``revm_env.py``: a call costs tens of microseconds); ``BALLAST_FUZZ_EVM=boa`` executes
them on titanoboa's own py-evm instead (~100 times slower, same results). ``ENV`` is the
chosen environment: ``prank``, ``anchor``, ``time_travel``, ``timestamp`` as in ``boa.env``.

The vault imports ``from contracts.modules import ...``, ``from interfaces import ...``
and snekmate, so contracts are compiled with the repository root on the search path.
Compiled deployers are cached per process (titanoboa also caches on disk).
"""

from __future__ import annotations

import contextlib
import dataclasses
import functools
import itertools
import os
from dataclasses import dataclass, field
from pathlib import Path

import boa
import boa.interpret
from boa.contracts.base_evm_contract import BoaError
from boa.contracts.vyper.vyper_contract import VyperContract
from eth_utils import keccak

from ballast.chain.state import VaultState, read_state
from ballast.constants import ROLE_GUARDIAN, ROLE_KEEPER, WAD
from ballast.planner import Market, Plan, Pool, plan_rebalance
from ballast.venues import amm as amm_math

try:
    from .revm_env import RevmDeployer, RevmEnv, RevmError
except ImportError:  # imported as a top-level module (the script runner puts this folder on sys.path)
    from revm_env import RevmDeployer, RevmEnv, RevmError  # type: ignore[no-redef]

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


# One call that reads what the invariants check after every step (a titanoboa call costs far
# more in Python than a staticcall inside the EVM).
LENS_SOURCE = """
# pragma version 0.4.3
from ethereum.ercs import IERC20

interface IVault:
    def balances(asset: address) -> uint256: view

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
"""

# A venue that misbehaves on purpose, so that the vault's own checks of what a venue did can
# be reached (the constant-product AMM never takes a wrong amount, and enforces the minimum
# output itself). Mode 1: pulls half the input it is given and pays nothing; mode 2: pulls the
# input and pays one unit less than the minimum output asked for (nothing if that is 0), from
# a balance minted to it beforehand.
ROGUE_VENUE_SOURCE = """
# pragma version 0.4.3
from ethereum.ercs import IERC20

mode: public(uint256)

@external
def set_mode(mode: uint256):
    self.mode = mode

@view
@external
def payee(token_in: address, token_out: address) -> address:
    if self.mode == 3:
        return empty(address)
    return self

@external
def swap(token_in: address, token_out: address, amount_in: uint256, min_amount_out: uint256, receiver: address) -> uint256:
    out: uint256 = 0
    if self.mode == 1:
        # keeps only half of the input it was sent
        assert extcall IERC20(token_in).transfer(msg.sender, amount_in - amount_in // 2, default_return_value=True)
    elif min_amount_out > 0:
        out = min_amount_out - 1
    if out > 0:
        assert extcall IERC20(token_out).transfer(receiver, out, default_return_value=True)
    return out
"""


@dataclass(frozen=True)
class Deployers:
    vault: object
    token: object
    no_return_token: object
    reentrant_token: object
    feed: object
    amm: object
    lens: object
    rogue_venue: object


def vault_source() -> str:
    """The vault source under test: ``BALLAST_FUZZ_VAULT`` if set, else ``contracts/Vault.vy``."""
    return os.environ.get("BALLAST_FUZZ_VAULT") or str(CONTRACTS / "Vault.vy")


def balances_calldata(token) -> bytes:
    """Calldata of ``vault.balances(token)`` (for a token's call-back hook to read mid-transfer)."""
    return keccak(text="balances(address)")[:4] + bytes(12) + bytes.fromhex(str(token.address)[2:])


@functools.cache
def deployers() -> Deployers:
    """Compiled (not deployed) contracts; compiled once per process.

    ``BALLAST_FUZZ_VAULT`` names another vault source to fuzz instead of ``contracts/Vault.vy``
    (e.g. a deliberately broken copy, to check that the suite notices).
    """
    with repo_search_path():
        compiled = Deployers(
            vault=boa.load_partial(vault_source()),
            token=boa.load_partial(str(CONTRACTS / "test" / "MockERC20.vy")),
            no_return_token=boa.load_partial(str(CONTRACTS / "test" / "NoReturnToken.vy")),
            reentrant_token=boa.load_partial(str(CONTRACTS / "test" / "ReentrantToken.vy")),
            feed=boa.load_partial(str(CONTRACTS / "test" / "MockPriceFeed.vy")),
            amm=boa.load_partial(str(CONTRACTS / "venues" / "ConstantProductAMM.vy")),
            lens=boa.loads_partial(LENS_SOURCE, name="Lens"),
            rogue_venue=boa.loads_partial(ROGUE_VENUE_SOURCE, name="RogueVenue"),
        )
    partials = [getattr(compiled, f.name) for f in dataclasses.fields(compiled)]  # astuple() would deep-copy
    if EVM_BACKEND == "revm":
        return Deployers(*(RevmDeployer(ENV, d.compiler_data) for d in partials))
    return Deployers(*(FastDeployer(d) for d in partials))


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
    return reason if isinstance(reason, str) else ""


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
    fee_bps: int = 30
    depth_usd: int = 10_000_000  # USD per side of every pair's pool

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


def units_for_usd(usd: int, answer: int, decimals: int) -> int:
    """Base units of a token worth ``usd`` whole USD at feed ``answer`` (rounded down)."""
    return usd * 10**FEED_DECIMALS * 10**decimals // answer


# --------------------------------------------------------------------------- the stack


@dataclass
class BoaStack:
    """A deployed vault with its tokens, feeds and one constant-product venue."""

    config: StackConfig
    owner: str
    keeper: str
    guardian: str
    tokens: list
    feeds: list
    amm: object
    vault: object
    lens: object
    _by_address: dict = field(default_factory=dict)

    @classmethod
    def deploy(cls, config: StackConfig, keeper: str, guardian: str) -> BoaStack:
        """Deploy tokens, feeds, an AMM with a pool for every pair, and the vault.

        ``ENV.eoa`` owns the vault and the AMM and provides the AMM's liquidity.
        """
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
        venue = d.amm.deploy(config.fee_bps)
        for token, a in zip(tokens, config.assets):
            per_pool = units_for_usd(config.depth_usd, a.answer, a.decimals)
            token.mint(owner, per_pool * (len(tokens) - 1))
            token.approve(venue.address, MAX_UINT)
        for i, j in itertools.combinations(range(len(tokens)), 2):
            a, b = config.assets[i], config.assets[j]
            venue.add_liquidity(
                tokens[i],
                tokens[j],
                units_for_usd(config.depth_usd, a.answer, a.decimals),
                units_for_usd(config.depth_usd, b.answer, b.decimals),
            )
        asset_configs = [
            (
                token.address,
                feed.address,
                a.heartbeat,
                a.min_answer,
                a.max_answer,
                a.target_bps,
                a.band_bps,
                a.outer_band_bps,
            )
            for token, feed, a in zip(tokens, feeds, config.assets)
        ]
        vault = d.vault.deploy(
            "Ballast Fuzz", "BFUZZ", asset_configs, config.trigger, config.limits, config.entry_haircut_bps
        )
        vault.set_venue(venue.address, True)
        vault.set_role(keeper, ROLE_KEEPER)
        vault.set_role(guardian, ROLE_GUARDIAN)
        stack = cls(config, owner, keeper, guardian, tokens, feeds, venue, vault, d.lens.deploy())
        stack._by_address = {str(t.address).lower(): t for t in tokens}
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

    def pool_pairs(self):
        return itertools.combinations(range(self.n), 2)

    def market(self) -> Market:
        """A planner :class:`Market` snapshot of every pool's reserves."""
        fee = int(self.amm.fee_bps())
        pools = []
        for i, j in self.pool_pairs():
            ra, rb = self.amm.get_reserves(self.tokens[i], self.tokens[j])
            if ra and rb:
                pools.append(
                    Pool(str(self.amm.address), str(self.tokens[i].address), str(self.tokens[j].address), ra, rb, fee)
                )
        return Market(pools)

    def swap(self, trader: str, i: int, j: int, amount_in: int, min_out: int = 0) -> int:
        """``trader`` swaps ``amount_in`` of asset ``i`` for ``j`` on the AMM (minting what it needs)."""
        token = self.tokens[i]
        token.mint(trader, amount_in)
        with ENV.prank(trader):
            token.approve(self.amm.address, amount_in)
            return self.amm.swap(token, self.tokens[j], amount_in, min_out, trader)

    def arbitrage(self, trader: str, answers: list[int] | None = None) -> int:
        """Swap every pool back to the oracle price ratio (as ``ballast.chain.market.arbitrage``); returns swaps made."""
        answers = answers or self.answers()
        decimals = [a.decimals for a in self.config.assets]
        fee = int(self.amm.fee_bps())
        swaps = 0
        for i, j in self.pool_pairs():
            ra, rb = self.amm.get_reserves(self.tokens[i], self.tokens[j])
            if not (ra and rb):
                continue
            unit_i = answers[i] * 10 ** (36 - decimals[i])
            unit_j = answers[j] * 10 ** (36 - decimals[j])
            amount_i = amm_math.arbitrage_input(ra, rb, unit_i, unit_j, fee)
            amount_j = amm_math.arbitrage_input(rb, ra, unit_j, unit_i, fee)
            try:
                if amount_i * 10_000 > ra * max(fee, 1):
                    self.swap(trader, i, j, amount_i)
                    swaps += 1
                elif amount_j * 10_000 > rb * max(fee, 1):
                    self.swap(trader, j, i, amount_j)
                    swaps += 1
            except EvmError:
                pass  # a pool drained to dust cannot be moved with a nonzero output; leave it
        return swaps

    # ---------------------------------------------------------------- vault reads

    def state(self) -> VaultState:
        """A :class:`ballast.chain.state.VaultState` of the vault now. Raises ``EvmError`` on a bad price."""
        return read_state(self.vault, self.token_at, ENV.timestamp, [str(self.amm.address)])

    def plan(self, **kwargs) -> Plan:
        """What ``ballast.planner.plan_rebalance`` proposes against the live reserves."""
        return plan_rebalance(self.state(), self.market(), **kwargs)

    def tracked(self) -> list[int]:
        return [int(self.vault.balances(t)) for t in self.tokens]

    def rebalance(self, trades: list[tuple]) -> int:
        """Submit ``trades`` (``Trade`` tuples) as the keeper; returns the vault's reported cost."""
        with ENV.prank(self.keeper):
            return self.vault.rebalance(trades)


def plan_trades(plan: Plan) -> list[tuple]:
    return [t.as_tuple() for t in plan.trades]
