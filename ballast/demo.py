"""The end-to-end demo: a 40/30/20/10 vault rides a rally and a crash on a local chain.

Deploys 4 tokens with feeds and constant-product pools and a vault, has depositors join
and deposit, walks prices along a path, lets the keeper rebalance whenever the vault's
own trigger holds, and prints a table per rebalance and the vault against buy-and-hold
and against the ideal target portfolio.
"""

from __future__ import annotations

import math
from pathlib import Path

from ballast import keeper as keeper_path
from ballast.chain import skip_debug_log_replay
from ballast.chain.deploy import (
    deploy_local_market,
    deploy_sleeve,
    deploy_vault,
    feed_answer,
    load_spec,
    target_amounts,
)
from ballast.chain.erc20 import token_at
from ballast.chain.market import apply_fills, arbitrage_market, snapshot_market
from ballast.chain.morpho import deploy_market, deploy_morpho
from ballast.chain.state import read_state
from ballast.constants import WAD
from ballast.cost import REBALANCE_GAS_PER_ASSET, fit_swap_gas
from ballast.depositor.requests import demo_async_deposit

DAY = 86_400
# Lending: the USDC and WETH idle balances, half of each lent into a Morpho Blue market (through its
# ERC-4626 supply vault) whose borrowers take a quarter of its supply; Morpho's mock rate model
# charges the utilisation per year (25 % borrow, about 6 % supply).
LENT_ASSETS = ("USDC", "WETH")
LEND_FRACTION_BPS = 5_000
BUFFER_BPS = 3_000
UTILISATION_BPS = 2_500
MAX_RATE_RISE_BPS = 2_000
MAX_LOSS_BPS = 100
SPEC = Path(__file__).resolve().parent.parent / "specs" / "demo.yaml"


def price_path(start: list[float], days: int = 60) -> list[list[float]]:
    """A deterministic path: a BTC/ETH rally for 20 days, a crash for 12, then a drift.

    Daily log-returns per asset are a fixed drift per phase plus a deterministic wiggle,
    so every run prints the same table.
    """
    phases = [  # (days, daily drift per asset)
        (20, [0.0, 0.025, 0.03, 0.01]),
        (12, [0.0, -0.045, -0.055, -0.06]),
        (days - 32, [0.0, 0.004, 0.002, 0.006]),
    ]
    path = [list(start)]
    day = 0
    for length, drifts in phases:
        for _ in range(length):
            day += 1
            prev = path[-1]
            wiggle = [0.0] + [0.012 * math.sin(day * k + k) for k in (1.3, 2.1, 2.9)]
            path.append([p * math.exp(d + w) for p, d, w in zip(prev, drifts, wiggle)])
    return path[: days + 1]  # a shorter walk is the start of the same path


def lend_idle(project, deployer, keeper, lender, borrower, vault, spec, tokens) -> tuple:
    """Deploy Morpho Blue and one market per lent asset (its own supply vault over it, another
    lender beside the vault, a borrower at ``UTILISATION_BPS``), attach a sleeve to ``vault`` and
    lend ``LEND_FRACTION_BPS`` of each idle balance. Returns the sleeve, the markets by asset
    index, and the gas of the first lend."""
    morpho, irm = deploy_morpho(project, deployer)
    collateral = project.MockERC20.deploy("Collateral", "COLL", 18, sender=deployer)
    markets = {}
    for i, asset in enumerate(spec.assets):
        if asset.symbol in LENT_ASSETS:
            # The oracle's price: loan tokens per collateral token (collateral worth $1,000).
            markets[i] = deploy_market(
                project, deployer, tokens[i], collateral, 1_000 / asset.price, morpho=morpho, irm=irm
            )
    sleeve = deploy_sleeve(
        project,
        deployer,
        vault,
        {tokens[i]: m.vault for i, m in markets.items()},
        BUFFER_BPS,
        MAX_RATE_RISE_BPS,
        MAX_LOSS_BPS,
    )
    lend_gas = 0
    for i, market in markets.items():
        amount = int(vault.balances(tokens[i])) * LEND_FRACTION_BPS // 10_000
        tx = vault.lend(tokens[i], amount, sender=keeper)
        lend_gas = lend_gas or tx.gas_used
        market.deposit(lender, amount)
        market.borrow(borrower, 2 * amount * UTILISATION_BPS // 10_000)
    return sleeve, markets, lend_gas


def lending_rows(sleeve, lens, vault, spec, tokens, markets, start_block: int, days: int) -> list[dict]:
    """Per lent asset: what the vault lent net of recalls (from the sleeve's events), what it
    holds lent now, the interest earned and its annualised rate."""
    stop = sleeve.chain_manager.blocks.head.number + 1
    net = {i: 0 for i in markets}
    index = {str(tokens[i].address).lower(): i for i in markets}
    for log in sleeve.Lent.range(start_block, stop):
        net[index[str(log.asset).lower()]] += int(log.assets)
    for log in sleeve.Recalled.range(start_block, stop):
        net[index[str(log.asset).lower()]] -= int(log.assets)
    lent = lens.lent(vault)
    rows = []
    for i in markets:
        asset = spec.assets[i]
        earned = int(lent[i]) - net[i]
        rows.append(
            {
                "symbol": asset.symbol,
                "lent": int(lent[i]) / 10**asset.decimals,
                "earned": earned / 10**asset.decimals,
                "apr": earned / net[i] * 365 / days if net[i] else 0.0,
                "price": asset.price,
            }
        )
    return rows


def run(project, chain, accounts, spec_path: Path = SPEC, days: int = 60, echo=print) -> dict:
    """Run the demo and return its figures (also printed through ``echo``)."""
    skip_debug_log_replay()
    spec = load_spec(spec_path)
    deployer, keeper, alice, bob, carol, arb, lender, borrower = accounts[:8]
    market = deploy_local_market(project, deployer, spec)
    vault = deploy_vault(project, deployer, spec, market.tokens, market.feeds, market.venues, keeper=keeper)
    lens = project.VaultLens.deploy(sender=deployer)  # the vault's views, and the keeper's one-call read
    tokens, feeds, venues = market.tokens, market.feeds, market.venues
    kind_of = {str(v.address).lower(): kind for v, (kind, _) in zip(venues, spec.market_venues)}
    decimals = [a.decimals for a in spec.assets]
    echo(
        f"Deployed vault {vault.address} over {', '.join(a.symbol for a in spec.assets)} at "
        f"{'/'.join(str(a.target_bps // 100) for a in spec.assets)}; venues "
        + ", ".join(f"{kind} {fee} bps" for kind, fee in spec.market_venues)
    )

    gas: dict[str, int] = {}

    def units(usd: float, i: int, price: float) -> int:
        return int(usd / price * 10 ** decimals[i])

    def fund(account, amounts):
        for token, amount in zip(tokens, amounts):
            token.mint(account, amount, sender=deployer)
            token.approve(vault, amount, sender=account)

    # Depositors: alice seeds the vault in kind, bob deposits USDC at oracle value, carol joins in kind.
    prices = [a.price for a in spec.assets]
    seed = target_amounts(spec, 1_000_000)
    fund(alice, seed)
    vault.join(0, seed, alice, sender=alice)
    tokens[0].mint(bob, units(250_000, 0, 1.0), sender=deployer)
    tokens[0].approve(vault, units(250_000, 0, 1.0), sender=bob)
    tx = vault.deposit(tokens[0], units(250_000, 0, 1.0), 0, bob, sender=bob)
    gas["deposit"] = tx.gas_used
    carol_shares = vault.totalSupply() // 4
    need = lens.preview_join(vault, carol_shares)
    fund(carol, need)
    tx = vault.join(carol_shares, need, carol, sender=carol)
    gas["join"] = tx.gas_used
    start_block = chain.blocks.head.number
    sleeve, markets, gas["lend"] = lend_idle(project, deployer, keeper, lender, borrower, vault, spec, tokens)
    echo(
        f"Lending: {LEND_FRACTION_BPS // 100}% of the idle "
        + " and ".join(spec.assets[i].symbol for i in markets)
        + f" into Morpho Blue markets at {UTILISATION_BPS // 100}% utilisation, "
        f"{BUFFER_BPS // 100}% idle buffer, lent value rising at most {MAX_RATE_RISE_BPS // 100}% a year"
    )
    initial_holdings = [int(vault.balances(t)) + int(x) for t, x in zip(tokens, lens.lent(vault))]
    initial_value = lens.total_value(vault)
    initial_supply = vault.totalSupply()
    echo(f"Depositors in: ${initial_value / WAD:,.0f} for {initial_supply / WAD:,.0f} shares\n")

    # The arbitrageur keeps every pool at the oracle, one transaction per swap.
    swapper = project.PushSwapper.deploy(sender=arb)
    for token in tokens:
        token.mint(arb, 2**200, sender=deployer)
        token.approve(swapper, 2**256 - 1, sender=arb)

    pools = snapshot_market(venues, tokens)
    path = price_path(prices, days)
    ideal = 1.0  # the target portfolio, rebalanced daily at no cost
    targets = [a.target_bps / 10_000 for a in spec.assets]
    rows = []
    header = (
        f"{'day':>4} {'trigger':<11} {'drift before':>12} {'drift after':>11} {'traded $':>12} {'cost $':>9} "
        f"{'expected $':>10} {'cost bps':>8} {'trades':>6} {'venues':>6} {'gas':>9}"
    )
    echo(header)
    echo("-" * len(header))

    def read_and_decide():
        now, market = keeper_path.read(vault, venues, tokens, token_at, chain.pending_timestamp, lens)
        return keeper_path.decide(vault, now, market)

    for day in range(1, len(path)):
        chain.pending_timestamp += DAY
        new = path[day]
        ideal *= sum(w * n / o for w, n, o in zip(targets, new, path[day - 1]))
        for feed, p in zip(feeds, new):
            feed.set_answer(feed_answer(p, spec.feed_decimals), sender=deployer)
        wad_prices = [feed_answer(p, spec.feed_decimals) * 10 ** (18 - spec.feed_decimals) for p in new]
        # Only the arbitrageur and the vault trade these pools: the snapshot is kept up to date
        # from their own swaps, with no chain read.
        arbitrage_market(pools, venues, tokens, wad_prices, decimals, arb, swapper)
        vault.observe(sender=keeper)
        # The keeper's read of the day: the vault's state and its trigger in one call (the lens).
        state = read_state(vault, token_at, chain.pending_timestamp, [str(v.address) for v in venues], lens)
        due, reason = state.trigger
        if not due:
            continue
        pools = snapshot_market(venues, tokens)
        # A lent asset sold past idle at a market rate above the counted one is recalled first
        # and the plan made again on the new state (the keeper is the allocator).
        decision = keeper_path.recall_first(vault, keeper_path.decide(vault, state, pools), keeper, read_and_decide)
        state, pools, plan = decision.state, decision.market, decision.plan
        if not decision.actionable:
            echo(f"{day:>4} {reason:<11} skipped: {decision.reason}")
            continue
        tx = keeper_path.send(vault, decision, keeper)
        realised = keeper_path.decode(vault, tx, decision)
        apply_fills(pools, realised.fills)
        row = {
            "day": day,
            "reason": realised.reason,
            "drift_before": state.max_drift,
            "drift_after": realised.max_drift_after,
            "traded": realised.value_traded,
            "cost": realised.cost,
            "expected_cost": plan.expected_cost,
            "value": realised.value_before,
            "trades": len(realised.fills),
            "venues": len({f.venue for f in realised.fills}),
            "gas": realised.gas_used,
            "swap_kinds": [kind_of[f.venue.lower()] for f in realised.fills],
        }
        rows.append(row)
        echo(
            f"{day:>4} {row['reason']:<11} {row['drift_before'] / 1e16:>11.2f}% {row['drift_after'] / 1e16:>10.2f}% "
            f"{row['traded'] / WAD:>12,.0f} {row['cost'] / WAD:>9,.0f} {row['expected_cost'] / WAD:>10,.0f} "
            f"{row['cost'] * 10_000 / row['value']:>8.1f} {row['trades']:>6} {row['venues']:>6} {row['gas']:>9,}"
        )

    final_prices = [p * 10 ** (18 - spec.feed_decimals) for p in (feed_answer(x, spec.feed_decimals) for x in path[-1])]
    vault_value = lens.total_value(vault)
    hold_value = sum(b * p // 10**d for b, p, d in zip(initial_holdings, final_prices, decimals))
    ideal_value = int(initial_value * ideal)
    per_share = vault_value * WAD // vault.totalSupply()
    echo("")
    echo(f"{'portfolio':<28} {'value $':>14} {'return':>8}")
    echo("-" * 52)
    for name, value in (
        ("Ballast vault", vault_value),
        ("buy-and-hold (day-0 basket)", hold_value),
        ("ideal target (daily, free)", ideal_value),
    ):
        echo(f"{name:<28} {value / WAD:>14,.0f} {(value / initial_value - 1) * 100:>7.2f}%")
    lending = lending_rows(sleeve, lens, vault, spec, tokens, markets, start_block, len(path) - 1)
    echo("")
    echo(f"{'lending (Morpho Blue)':<28} {'lent now':>14} {'earned':>12} {'earned $':>9} {'APR':>6}")
    echo("-" * 73)
    for row in lending:
        echo(
            f"{row['symbol']:<28} {row['lent']:>14,.2f} {row['earned']:>12,.4f} "
            f"{row['earned'] * row['price']:>9,.0f} {row['apr'] * 100:>5.2f}%"
        )
    total_cost = sum(r["cost"] for r in rows)
    echo(
        f"\n{len(rows)} rebalances, ${sum(r['traded'] for r in rows) / WAD:,.0f} traded, ${total_cost / WAD:,.0f} "
        f"paid in fees and impact; share price ${per_share / WAD:,.4f}"
    )
    exit_shares = vault.balanceOf(carol)
    tx = vault.exit(exit_shares, [0] * len(tokens), carol, sender=carol)
    gas["exit"] = tx.gas_used
    # A single-asset deposit the safe way: queued, and settled at oracle rounds that started after
    # the request's delay, so no price the depositor could have seen is used (TECH_SPEC).
    echo("\nAn asynchronous WBTC deposit (DepositQueue, ERC-7540 shape):")
    queued = demo_async_deposit(project, chain, vault, tokens, feeds, accounts[8], keeper, deployer, echo=echo)
    gas.update({f"queue {k}": v for k, v in queued["gas"].items()})
    if rows:
        gas["rebalance"] = rows[-1]["gas"]
    echo("gas (receipts): " + ", ".join(f"{k} {v:,}" for k, v in gas.items()))
    if len(rows) > len(spec.market_venues):
        base, per_swap = fit_swap_gas([(len(tokens), r["swap_kinds"], r["gas"]) for r in rows])
        echo(
            f"rebalance gas refit (least squares over these {len(rows)} receipts, per asset held at "
            f"{REBALANCE_GAS_PER_ASSET:,}): base {base:,}, per swap "
            + ", ".join(f"{k} {v:,}" for k, v in per_swap.items())
        )
    return {
        "rows": rows,
        "vault": vault_value,
        "hold": hold_value,
        "ideal": ideal_value,
        "gas": gas,
        "lending": lending,
        "async_deposit": queued,
    }
