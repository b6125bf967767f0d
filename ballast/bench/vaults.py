"""Gas of the vault's entry points (join, deposit, exit) and of a rebalance through the keeper
path, for a vault over real pools, with the same swaps sent from an EOA through the venue's own
router beside it; and the references measured in the same run (snekmate's ERC-4626, an ERC-20
transfer)."""

from __future__ import annotations

from dataclasses import dataclass

from ballast import keeper as keeper_path
from ballast.bench.config import DEPOSIT_USD, FEED_DECIMALS, RALLY, SEED_USD, bench_spec
from ballast.bench.context import Context, Measured, _tx
from ballast.bench.floors import (
    floor_4626_deposit,
    floor_4626_redeem,
    floor_deposit,
    floor_erc20_transfer,
    floor_exit,
    floor_join,
    floor_rebalance,
)
from ballast.bench.routers import Router, deploy_router
from ballast.chain import chainlink
from ballast.chain.deploy import deploy_local_market, deploy_vault, feed_answer, spec_from_dict
from ballast.chain.market import arbitrage
from ballast.constants import ROLE_KEEPER
from ballast.venues import balancer_v2, uniswap_v2, uniswap_v3

ADAPTERS = {"uniswap_v2": "UniswapV2Venue", "uniswap_v3": "UniswapV3Venue", "balancer": "BalancerV2Venue"}


@dataclass
class VaultRun:
    n: int
    kind: str  # the venue kind (uniswap_v2, uniswap_v3, balancer)
    fee_bps: int
    feeds: str  # mock or chainlink
    join: Measured
    deposit: Measured
    exit: Measured
    rebalance: Measured  # its floor: Uniswap V2 with the settable feed only (None otherwise)
    router: str  # what the EOA called
    eoa_swaps: list[tuple[int, str, bytes]]
    trades: list[tuple[int, int]]
    stack: dict  # spec, tokens, feeds, venue, vault: for the planner's market
    planner_state: tuple | None = None

    @property
    def eoa_gas(self) -> int:
        return sum(g for g, _, _ in self.eoa_swaps)

    @property
    def overhead(self) -> float:
        return self.rebalance.gas / self.eoa_gas


def _name_market(ctx: Context, kind: str, venue, tokens: list, feeds: list, router: Router) -> None:
    """Names and labels of every contract the rebalance and the router swaps touch."""
    ctx.name((venue, ADAPTERS[kind]), (router.contract, router.name.split(".")[0]), *((t, "Token") for t in tokens))
    for i, feed in enumerate(feeds):
        if isinstance(feed, chainlink.Feed):
            ctx.name((feed.proxy, "ChainlinkProxy"), (feed.aggregator, "ChainlinkAggregator"))
        else:
            ctx.name((feed, "Feed"))
        ctx.label((feed, f"F{i}"))
    if kind == "balancer":
        ctx.name((balancer_v2.container("Vault").at(venue.vault()), "BalancerVault"))
        ctx.name((balancer_v2.container("WeightedPool").at(venue.pool()), "WeightedPool"))
        return
    pool_of, container = (
        (venue.pair_for, uniswap_v2.container("UniswapV2Pair"))
        if kind == "uniswap_v2"
        else (venue.pool_for, uniswap_v3.container("UniswapV3Pool"))
    )
    for i, a in enumerate(tokens):
        for j in range(i + 1, len(tokens)):
            address = str(pool_of(a, tokens[j]))
            ctx.name((container.at(address), "UniswapV2Pair" if kind == "uniswap_v2" else "UniswapV3Pool"))
            ctx.label((address, f"pair[T{i}/T{j}]"))


@dataclass
class Stack:
    """An n-asset benchmark vault over one real market, seeded by alice, and what the scenario
    steps use: the spec, tokens, feeds, venue, lens, the EOA's router and ``fund``."""

    ctx: Context
    n: int
    kind: str
    feeds_kind: str
    spec: object
    tokens: list
    feeds: list
    venue: object
    vault: object
    lens: object
    router: Router

    @property
    def decimals(self) -> list[int]:
        return [a.decimals for a in self.spec.assets]

    def fund(self, account, amounts, spender=None) -> None:
        """Mint ``amounts`` to ``account`` and approve ``spender`` for the max (if any)."""
        deployer = self.ctx.accounts[0]
        for token, amount in zip(self.tokens, amounts):
            token.mint(account, amount, sender=deployer)
            if spender is not None:
                token.approve(spender, 2**256 - 1, sender=account)


def deploy_stack(ctx: Context, n: int, kind: str = "uniswap_v2", fee_bps: int = 30, feeds_kind: str = "mock") -> Stack:
    """Deploy an n-asset vault whose only venue is a real ``kind`` market, name its contracts for
    the traces, and let alice seed it at target weights (the inception, not measured)."""
    project = ctx.project
    deployer, keeper, alice = ctx.accounts[:3]
    spec = spec_from_dict(bench_spec(n, kind, fee_bps, feeds_kind))
    market = deploy_local_market(project, deployer, spec)
    tokens, feeds, venue = market.tokens, market.feeds, market.venue
    vault = deploy_vault(project, deployer, spec, tokens, feeds, [venue], keeper=keeper)
    lens = project.VaultLens.deploy(sender=deployer)
    assert int(vault.roles(keeper)) & ROLE_KEEPER
    router = deploy_router(kind, venue, fee_bps, deployer)
    ctx.name((vault, "Vault"))
    _name_market(ctx, kind, venue, tokens, feeds, router)
    ctx.label((vault, "vault"), (venue, "venue"), *((t, f"T{i}") for i, t in enumerate(tokens)))
    ctx.label(*zip(ctx.accounts[:7], ("deployer", "keeper", "alice", "bob", "carol", "dave", "arb")))
    stack = Stack(ctx, n, kind, feeds_kind, spec, tokens, feeds, venue, vault, lens, router)
    seed = [int(SEED_USD * a.target_bps / 10_000 / a.price * 10**a.decimals) for a in spec.assets]
    stack.fund(alice, seed, vault)
    vault.join(0, seed, alice, sender=alice)
    return stack


def measure_join(stack: Stack) -> Measured:
    """bob, a new holder, mints a tenth of the supply in kind."""
    bob, vault, n = stack.ctx.accounts[3], stack.vault, stack.n
    shares = int(vault.totalSupply()) // 10
    need = [int(x) for x in stack.lens.preview_join(vault, shares)]
    stack.fund(bob, [2 * x for x in need], vault)
    gas, txh, data = _tx(vault.join(shares, [2 * x for x in need], bob, sender=bob))
    return Measured("join", n, gas, floor_join(n, data), txh, data)


def measure_deposit(stack: Stack) -> Measured:
    """carol, a new holder, pays asset 0 at its oracle value."""
    deployer, carol = stack.ctx.accounts[0], stack.ctx.accounts[4]
    token, asset = stack.tokens[0], stack.spec.assets[0]
    amount = int(DEPOSIT_USD / asset.price * 10**asset.decimals)
    token.mint(carol, 2 * amount, sender=deployer)
    token.approve(stack.vault, 2**256 - 1, sender=carol)
    gas, txh, data = _tx(stack.vault.deposit(token, amount, 0, carol, sender=carol))
    return Measured("deposit", stack.n, gas, floor_deposit(stack.n, data), txh, data)


def measure_exit(stack: Stack) -> Measured:
    """bob takes half of his shares out in kind."""
    bob, vault, n = stack.ctx.accounts[3], stack.vault, stack.n
    gas, txh, data = _tx(vault.exit(int(vault.balanceOf(bob)) // 2, [0] * n, bob, sender=bob))
    return Measured("exit", n, gas, floor_exit(n, data), txh, data)


def fund_arbitrageur(stack: Stack) -> list[float]:
    """arb holds every token and approved the venue; returns the prices the moves start from."""
    stack.fund(stack.ctx.accounts[6], [2**200] * stack.n, stack.venue)
    return [a.price for a in stack.spec.assets]


def move_and_decide(stack: Stack, prices: list[float], price_1: float):
    """Two hours on, WBTC (asset 1) at ``price_1``, the arbitrageur brings the pools to the oracle
    and the keeper path reads the vault and decides: ``(state, snapshot, decision)``."""
    ctx, project, chain = stack.ctx, stack.ctx.project, stack.ctx.chain
    deployer, arb = ctx.accounts[0], ctx.accounts[6]
    chain.pending_timestamp += 7_200
    prices[1] = price_1
    stack.feeds[1].set_answer(feed_answer(price_1, FEED_DECIMALS), sender=deployer)
    wad = [feed_answer(p, FEED_DECIMALS) * 10 ** (18 - FEED_DECIMALS) for p in prices]
    arbitrage(stack.venue, stack.tokens, wad, stack.decimals, arb)
    state, snapshot = keeper_path.read(
        stack.vault, [stack.venue], stack.tokens, project.MockERC20.at, chain.pending_timestamp, stack.lens
    )
    decision = keeper_path.decide(stack.vault, state, snapshot)
    assert decision.actionable, f"{stack.n}-asset vault on {stack.kind}, WBTC at {price_1:,.0f}: {decision.reason}"
    return state, snapshot, decision


def trade_indices(stack: Stack, plan) -> list[tuple[int, int]]:
    """(asset in, asset out) of each planned trade."""
    index = {str(t.address).lower(): i for i, t in enumerate(stack.tokens)}
    return [(index[t.token_in.lower()], index[t.token_out.lower()]) for t in plan.trades]


def send_rebalance(stack: Stack, decision, timestamp: int) -> Measured:
    """The keeper's rebalance in a block at ``timestamp``, its fills as planned."""
    keeper, chain, n = stack.ctx.accounts[1], stack.ctx.chain, stack.n
    chain.pending_timestamp = timestamp
    receipt = keeper_path.send(stack.vault, decision, keeper)
    realised = keeper_path.decode(stack.vault, receipt, decision)
    assert [f.amount_out for f in realised.fills] == [t.expected_out for t in decision.plan.trades]
    gas, txh, data = _tx(receipt)
    trades = trade_indices(stack, decision.plan)
    # The rebalance floor models Uniswap V2 pairs and one slot per price read (the settable feed).
    mock_v2 = (stack.kind, stack.feeds_kind) == ("uniswap_v2", "mock")
    floor = floor_rebalance(n, trades, data, moved={1}) if mock_v2 else None
    return Measured("rebalance", n, gas, floor, txh, data)


def bench_vault(
    ctx: Context, n: int, kind: str = "uniswap_v2", fee_bps: int = 30, feeds_kind: str = "mock"
) -> VaultRun:
    """Deploy an n-asset vault whose only venue is a real ``kind`` market, measure join, deposit
    and exit, then a rebalance planned and sent by the keeper path, and the same swaps sent from an
    EOA through the venue's own router from the same chain state."""
    chain = ctx.chain
    dave = ctx.accounts[5]
    stack = deploy_stack(ctx, n, kind, fee_bps, feeds_kind)
    spec, tokens, router = stack.spec, stack.tokens, stack.router
    join = measure_join(stack)
    deposit = measure_deposit(stack)
    exit_ = measure_exit(stack)

    # Rebalances: two hours on WBTC rallies, the arbitrageur brings the pools to the oracle and the
    # keeper rebalances (a warm-up, not measured: it leaves the turnover, observation and timestamp
    # slots as a running vault has them); two hours later WBTC falls back, the pools follow, and the
    # second, measured, rebalance comes.
    prices = fund_arbitrageur(stack)
    _, _, decision = move_and_decide(stack, prices, spec.assets[1].price * RALLY)
    keeper_path.send(stack.vault, decision, ctx.accounts[1])
    state, snapshot, decision = move_and_decide(stack, prices, spec.assets[1].price)
    plan = decision.plan
    index = {str(t.address).lower(): i for i, t in enumerate(tokens)}
    trades = trade_indices(stack, plan)
    # dave, the EOA that repeats the swaps, holds every token and approved the router for good.
    stack.fund(dave, [int(1_000_000 / a.price * 10**a.decimals) for a in spec.assets], router.contract)

    # Both sides land in a later block than the arbitrage (12 s on), as a keeper's transaction does:
    # each pool then updates its price accumulators or observations on its first swap, and the gas
    # does not depend on how fast this machine sent the transactions.
    timestamp = chain.pending_timestamp + 12
    start = chain.snapshot()
    chain.pending_timestamp = timestamp
    eoa = []
    for t in plan.trades:
        bought = tokens[index[t.token_out.lower()]]
        before = int(bought.balanceOf(dave))
        eoa.append(_tx(router.swap(t, dave)))
        assert int(bought.balanceOf(dave)) - before == t.expected_out, f"{router.name}: not the planned fill"
        ctx.trace(eoa[-1][1], eoa[-1][0], eoa[-1][2])  # traced now: the snapshot is restored below
    chain.restore(start)
    rebalance = send_rebalance(stack, decision, timestamp)
    run = VaultRun(
        n,
        kind,
        fee_bps,
        feeds_kind,
        join,
        deposit,
        exit_,
        rebalance,
        router.name,
        eoa,
        trades,
        {"spec": spec, "tokens": tokens, "feeds": stack.feeds, "venue": stack.venue, "vault": stack.vault},
        (state, snapshot),
    )
    ctx.echo(
        f"  {n} assets on {kind} ({fee_bps} bps, {feeds_kind} feeds): join {join.gas:,}, deposit {deposit.gas:,}, "
        f"exit {exit_.gas:,}, rebalance {rebalance.gas:,} ({len(trades)} swaps; {router.name} {run.eoa_gas:,})"
    )
    return run


@dataclass
class References:
    deposit_4626: Measured
    redeem_4626: Measured
    transfer: Measured
    token: object
    holders: tuple


def bench_references(ctx: Context) -> References:
    """snekmate ERC-4626 deposit and redeem and an ERC-20 transfer, in this run."""
    project = ctx.project
    deployer, _, alice, bob, carol = ctx.accounts[:5]
    token = project.MockERC20.deploy("Ref", "REF", 18, sender=deployer)
    ref = project.Snekmate4626.deploy("Ref 4626", "R4626", token, sender=deployer)
    ctx.name((token, "Token"), (ref, "Snekmate4626"))
    one = 10**18
    for account in (alice, bob, carol, deployer):
        token.mint(account, 10_000 * one, sender=deployer)
        token.approve(ref, 2**256 - 1, sender=account)
    ref.deposit(1_000 * one, alice, sender=alice)  # inception, not measured
    gas, txh, data = _tx(ref.deposit(100 * one, carol, sender=carol))
    deposit = Measured("ERC-4626 deposit (snekmate)", None, gas, floor_4626_deposit(data), txh, data)
    gas, txh, data = _tx(ref.redeem(int(ref.balanceOf(carol)) // 2, carol, carol, sender=carol))
    redeem = Measured("ERC-4626 redeem (snekmate)", None, gas, floor_4626_redeem(data), txh, data)
    gas, txh, data = _tx(token.transfer(bob, one, sender=alice))
    transfer = Measured("ERC-20 transfer", None, gas, floor_erc20_transfer(data), txh, data)
    return References(deposit, redeem, transfer, token, (alice, bob))
