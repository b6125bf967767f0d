"""Gas of the vault's entry points (join, deposit, exit, rebalance) for 2, 4 and 8 assets, and
the references measured beside them (snekmate's ERC-4626, an ERC-20 transfer, one AMM swap)."""

from __future__ import annotations

from dataclasses import dataclass

from ballast.bench.config import DEPOSIT_USD, FEED_DECIMALS, RALLY, SEED_USD, SIZES, bench_spec
from ballast.bench.context import Context, Measured, _tx
from ballast.bench.floors import (
    floor_4626_deposit,
    floor_4626_redeem,
    floor_amm_swap,
    floor_deposit,
    floor_erc20_transfer,
    floor_exit,
    floor_join,
    floor_rebalance,
)
from ballast.chain.deploy import deploy_local_market, deploy_vault, feed_answer, spec_from_dict
from ballast.chain.market import arbitrage, snapshot_market
from ballast.chain.state import read_state
from ballast.constants import ROLE_KEEPER
from ballast.planner import plan_rebalance


@dataclass
class VaultRun:
    n: int
    join: Measured
    deposit: Measured
    exit: Measured
    rebalance: Measured
    eoa_swaps: list[tuple[int, str, bytes]]
    trades: list[tuple[int, int]]
    planner_state: tuple | None = None

    @property
    def eoa_gas(self) -> int:
        return sum(g for g, _, _ in self.eoa_swaps)

    @property
    def overhead(self) -> float:
        return self.rebalance.gas / self.eoa_gas


def bench_vault(ctx: Context, n: int) -> VaultRun:
    """Deploy an n-asset stack, then measure join, deposit, exit and a planner-made rebalance."""
    project, chain = ctx.project, ctx.chain
    deployer, keeper, alice, bob, carol, dave, arb = ctx.accounts[:7]
    spec = spec_from_dict(bench_spec(n))
    market = deploy_local_market(project, deployer, spec)
    tokens, feeds, venue = market.tokens, market.feeds, market.venue
    vault = deploy_vault(project, deployer, spec, tokens, feeds, [venue], keeper=keeper)
    assert int(vault.roles(keeper)) == ROLE_KEEPER
    ctx.name((vault, "Vault"), (venue, "AMM"), *((t, "Token") for t in tokens), *((f, "Feed") for f in feeds))
    ctx.label((vault, "vault"), (venue, "venue"), *((t, f"T{i}") for i, t in enumerate(tokens)))
    ctx.label(*((f, f"F{i}") for i, f in enumerate(feeds)))
    ctx.label(*zip(ctx.accounts[:7], ("deployer", "keeper", "alice", "bob", "carol", "dave", "arb")))
    decimals = [a.decimals for a in spec.assets]
    max_uint = 2**256 - 1

    def fund(account, amounts, spender):
        for token, amount in zip(tokens, amounts):
            token.mint(account, amount, sender=deployer)
            token.approve(spender, max_uint, sender=account)

    # Inception: alice seeds at target weights.
    seed = [int(SEED_USD * a.target_bps / 10_000 / a.price * 10**a.decimals) for a in spec.assets]
    fund(alice, seed, vault)
    vault.join(0, seed, alice, sender=alice)

    # join: bob, a new holder, mints a tenth of the supply in kind.
    shares = int(vault.totalSupply()) // 10
    need = [int(x) for x in vault.preview_join(shares)]
    fund(bob, [2 * x for x in need], vault)
    gas, txh, data = _tx(vault.join(shares, [2 * x for x in need], bob, sender=bob))
    join = Measured("join", n, gas, floor_join(n, data), txh, data)

    # deposit: carol, a new holder, pays asset 0 at its oracle value.
    amount = int(DEPOSIT_USD / spec.assets[0].price * 10 ** decimals[0])
    tokens[0].mint(carol, 2 * amount, sender=deployer)
    tokens[0].approve(vault, max_uint, sender=carol)
    gas, txh, data = _tx(vault.deposit(tokens[0], amount, 0, carol, sender=carol))
    deposit = Measured("deposit", n, gas, floor_deposit(n, data), txh, data)

    # exit: bob takes half of his shares out in kind.
    gas, txh, data = _tx(vault.exit(int(vault.balanceOf(bob)) // 2, [0] * n, bob, sender=bob))
    exit_ = Measured("exit", n, gas, floor_exit(n, data), txh, data)

    # Rebalances: two hours on WBTC rallies and the keeper rebalances (a warm-up, not measured:
    # it leaves the turnover, observation and timestamp slots as a running vault has them);
    # two hours later WBTC falls back and the second, measured, rebalance follows.
    fund(arb, [2**200] * n, venue)
    prices = [a.price for a in spec.assets]

    def move_and_plan(price_1: float):
        chain.pending_timestamp += 7_200
        prices[1] = price_1
        feeds[1].set_answer(feed_answer(price_1, FEED_DECIMALS), sender=deployer)
        wad = [feed_answer(p, FEED_DECIMALS) * 10 ** (18 - FEED_DECIMALS) for p in prices]
        arbitrage(venue, tokens, wad, decimals, arb)
        due, _ = vault.needs_rebalance()
        assert due, f"{n}-asset vault: rebalance not due after WBTC at {price_1:,.0f}"
        state = read_state(vault, project.MockERC20.at, chain.pending_timestamp, [venue.address])
        market_snapshot = snapshot_market([venue], tokens)
        plan = plan_rebalance(state, market_snapshot)
        assert plan.trades, f"{n}-asset vault: no plan ({plan.reason})"
        return state, market_snapshot, plan

    _, _, plan = move_and_plan(spec.assets[1].price * RALLY)
    vault.rebalance([t.as_tuple() for t in plan.trades], sender=keeper)
    state, market_snapshot, plan = move_and_plan(spec.assets[1].price)
    index = {str(t.address).lower(): i for i, t in enumerate(tokens)}
    trades = [(index[t.token_in.lower()], index[t.token_out.lower()]) for t in plan.trades]
    # dave, the EOA that repeats the swaps, holds every token and approved the venue.
    fund(dave, [int(1_000_000 / a.price * 10**a.decimals) for a in spec.assets], venue)

    snapshot = chain.snapshot()
    timestamp = chain.pending_timestamp
    eoa = []
    for t in plan.trades:
        receipt = venue.swap(t.token_in, t.token_out, t.amount_in, t.min_amount_out, dave, sender=dave)
        eoa.append(_tx(receipt))
        if n == 4:  # traced now: the snapshot is restored below
            ctx.trace(eoa[-1][1], eoa[-1][0], eoa[-1][2])
    chain.restore(snapshot)
    chain.pending_timestamp = timestamp
    receipt = vault.rebalance([t.as_tuple() for t in plan.trades], sender=keeper)
    gas, txh, data = _tx(receipt)
    rebalance = Measured("rebalance", n, gas, floor_rebalance(n, trades, data, moved={1}), txh, data)
    run = VaultRun(n, join, deposit, exit_, rebalance, eoa, trades)
    if n == max(SIZES):
        run.planner_state = (state, market_snapshot)
    ctx.echo(
        f"  {n} assets: join {join.gas:,}, deposit {deposit.gas:,}, exit {exit_.gas:,}, "
        f"rebalance {rebalance.gas:,} ({len(trades)} trades; EOA {run.eoa_gas:,})"
    )
    return run


@dataclass
class References:
    deposit_4626: Measured
    redeem_4626: Measured
    transfer: Measured
    swap: Measured
    token: object
    holders: tuple


def bench_references(ctx: Context) -> References:
    """snekmate ERC-4626 deposit and redeem, an ERC-20 transfer and an AMM swap, in this run."""
    project = ctx.project
    deployer, _, alice, bob, carol, dave = ctx.accounts[:6]
    token = project.MockERC20.deploy("Ref", "REF", 18, sender=deployer)
    other = project.MockERC20.deploy("Ref2", "REF2", 18, sender=deployer)
    ref = project.Snekmate4626.deploy("Ref 4626", "R4626", token, sender=deployer)
    venue = project.ConstantProductAMM.deploy(30, sender=deployer)
    ctx.name((token, "Token"), (other, "Token"), (ref, "Snekmate4626"), (venue, "AMM"))
    one = 10**18
    for account in (alice, bob, carol, dave, deployer):
        token.mint(account, 10_000 * one, sender=deployer)
        other.mint(account, 10_000 * one, sender=deployer)
        token.approve(ref, 2**256 - 1, sender=account)
        token.approve(venue, 2**256 - 1, sender=account)
        other.approve(venue, 2**256 - 1, sender=account)
    ref.deposit(1_000 * one, alice, sender=alice)  # inception, not measured
    gas, txh, data = _tx(ref.deposit(100 * one, carol, sender=carol))
    deposit = Measured("ERC-4626 deposit (snekmate)", None, gas, floor_4626_deposit(data), txh, data)
    gas, txh, data = _tx(ref.redeem(int(ref.balanceOf(carol)) // 2, carol, carol, sender=carol))
    redeem = Measured("ERC-4626 redeem (snekmate)", None, gas, floor_4626_redeem(data), txh, data)
    gas, txh, data = _tx(token.transfer(bob, one, sender=alice))
    transfer = Measured("ERC-20 transfer", None, gas, floor_erc20_transfer(data), txh, data)
    venue.add_liquidity(token, other, 5_000 * one, 5_000 * one, sender=deployer)
    gas, txh, data = _tx(venue.swap(token, other, 10 * one, 0, dave, sender=dave))
    swap = Measured("AMM swap (EOA)", None, gas, floor_amm_swap(data), txh, data)
    return References(deposit, redeem, transfer, swap, token, (alice, bob))
