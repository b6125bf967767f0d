"""``ape run bench --only auction``: both routes of one rebalance, on chain, against an adversary.

The vault is the auction demo's (``ballast.auction.demo_spec``: specs/demo.yaml's 40/30/20/10
basket, threshold trigger, no cooldown, one constant-product AMM at 30 bps with $20M a side), seeded
with $1M; WBTC's oracle rallies 40 % and the pools are arbitraged to the new price. From that one
state (a chain snapshot, restored between routes):

* **pools**: the keeper's plan (``ballast.keeper``), its route comparison
  (:func:`ballast.route.choose_route`), the sandwich attacker of the bench
  (:func:`ballast.bench.sandwich.evaluate`: every admitted front-run on a grid, each followed by the
  exact best back-run, at oracle prices) on each planned trade in turn, and the plan sent;
* **auction, competitive fillers**: opened by the keeper; a filler with no role looks every block and
  takes a lot when it beats its external prices (the oracle's, the pools being arbitraged to it) by
  its margin (``ballast.auction.profitable_fill``), until the vault's trigger is gone;
* **auction, adversarial filler**: the one thing an adversary can do to an auction, fill at the
  worst moment the curve allows for the vault: it waits to the end of the decay (``m = END``) and
  takes every lot there, alone.

Figures are from the receipts' ``Filled`` events (``price_vs_oracle_bps``, the vault's own) and the
vault's ``Rebalanced`` event: value lost per dollar traded, at oracle prices.
"""

from __future__ import annotations

import copy
import time

from ballast import keeper as keeper_path
from ballast.auction import (
    DEFAULT_PARAMS,
    FILLER_MARGIN_BPS,
    demo_spec,
    deploy_auction,
    fill,
    filled_events,
    profitable_fill,
    read_auction,
)
from ballast.bench.report import Table
from ballast.bench.sandwich import Asset, evaluate
from ballast.chain import skip_debug_log_replay
from ballast.chain.deploy import deploy_local_market, deploy_vault, feed_answer, target_amounts
from ballast.chain.market import arbitrage
from ballast.constants import MAX_BPS, WAD
from ballast.route import BLOCK_SECONDS, format_route

GAS_GWEI = 10
ETH_USD = 3_000
RALLY = 1.4


def _setup(project, chain, accounts):
    spec = demo_spec()
    deployer, keeper, alice, filler, arb = accounts[0], accounts[1], accounts[2], accounts[6], accounts[7]
    market = deploy_local_market(project, deployer, spec)
    tokens, feeds = market.tokens, market.feeds
    vault = deploy_vault(project, deployer, spec, tokens, feeds, market.venues, keeper=keeper)
    lens = project.VaultLens.deploy(sender=deployer)
    auction = deploy_auction(project, deployer, vault, lens)
    seed = target_amounts(spec, 1_000_000)
    for token, amount in zip(tokens, seed):
        token.mint(alice, amount, sender=deployer)
        token.approve(vault, amount, sender=alice)
    vault.join(0, seed, alice, sender=alice)
    rally = spec.assets[1].price * RALLY
    feeds[1].set_answer(feed_answer(rally, spec.feed_decimals), sender=deployer)
    for token in tokens:
        token.mint(arb, 10**30, sender=deployer)
        token.approve(market.venues[0], 2**256 - 1, sender=arb)
        token.mint(filler, 10**30, sender=deployer)
    prices = [int(vault.price(t)) for t in tokens]
    arbitrage(market.venues[0], tokens, prices, [a.decimals for a in spec.assets], arb)
    return spec, vault, lens, auction, market, tokens, keeper, filler


def _pool_route(vault, lens, auction, market, tokens, keeper, chain, echo):
    from ballast.chain.erc20 import token_at

    timestamp = chain.pending_timestamp
    state, snapshot = keeper_path.read(vault, market.venues, tokens, token_at, timestamp, lens)
    decision = keeper_path.decide(vault, state, snapshot)
    choice = keeper_path.route(decision, snapshot, GAS_GWEI * 10**9, ETH_USD * WAD, auction=auction)
    echo(format_route(choice))
    # The attacker on each planned trade in turn, on the pools as the earlier trades leave them.
    pools = copy.deepcopy(snapshot)
    rows = []
    for t in decision.plan.trades:
        sold_state, bought_state = state.assets[state.index(t.token_in)], state.assets[state.index(t.token_out)]
        sold = Asset(t.token_in, sold_state.decimals, sold_state.price)
        bought = Asset(t.token_out, bought_state.decimals, bought_state.price)
        side = pools.side(t.venue, t.token_in, t.token_out)
        cell = evaluate(
            side, t.amount_in, sold, bought, side.depth(), slippage_bps=state.max_slippage_bps, min_out=t.min_amount_out
        )
        rows.append((sold_state.symbol, bought_state.symbol, t, cell, bought))
        pools.apply(t.venue, t.token_in, t.token_out, t.amount_in)
    receipt = keeper_path.send(vault, decision, keeper)
    realised = keeper_path.decode(vault, receipt, decision)
    return decision, choice, rows, realised


def _auction_route(vault, lens, auction, tokens, keeper, filler, chain, external, adversarial: bool):
    opened = auction.open(sender=keeper)
    opened_at = int(auction.opened_at())
    fills = []
    looks = range(int(DEFAULT_PARAMS["length"]), int(DEFAULT_PARAMS["ttl"]) + 1, BLOCK_SECONDS)
    if not adversarial:
        looks = range(BLOCK_SECONDS, int(DEFAULT_PARAMS["ttl"]) + 1, BLOCK_SECONDS)
    by_address = {str(t.address): t for t in tokens}
    for t in looks:
        if not auction.is_open() or not lens.needs_rebalance(vault)[0]:
            break
        chain.pending_timestamp = opened_at + t
        for lot in read_auction(auction, vault, opened_at + t):
            if not lens.needs_rebalance(vault)[0]:
                break
            margin = -MAX_BPS if adversarial else FILLER_MARGIN_BPS  # the adversary takes whatever is left
            decision = profitable_fill(lot, external, margin, 10**30)
            if decision is None:
                continue
            receipt = fill(auction, lot, *decision, filler, by_address[lot.buy])
            event = receipt.events.filter(vault.Rebalanced)[0]
            for f in filled_events(receipt, auction):
                fills.append(
                    {
                        **f,
                        "seconds": t,
                        "gas": int(receipt.gas_used),
                        "cost": int(event.cost),
                        "traded": int(event.value_traded),
                        "sell": lot.sell,
                        "buy": lot.buy,
                    }
                )
    closed = None
    if auction.is_open():
        chain.pending_timestamp = max(chain.pending_timestamp, opened_at + int(DEFAULT_PARAMS["ttl"]) + 1)
        closed = auction.close(sender=keeper)
    return int(opened.gas_used), fills, None if closed is None else int(closed.gas_used)


def run_auction_bench(project, chain, accounts, echo=print) -> list[Table]:
    """The three routes' tables (see the module's notes); printed by ``ape run bench --only auction``."""
    started = time.perf_counter()
    skip_debug_log_replay()
    spec, vault, lens, auction, market, tokens, keeper, filler = _setup(project, chain, accounts)
    symbol = {str(t.address): a.symbol for t, a in zip(tokens, spec.assets)}
    decimals = {str(t.address): a.decimals for t, a in zip(tokens, spec.assets)}
    external = {str(t.address): int(vault.price(t)) / WAD for t in tokens}
    echo(f"WBTC oracle +40 %, pools arbitraged to it; max drift {lens.max_drift(vault) / WAD:.2%}")
    snap = chain.snapshot()
    decision, choice, rows, realised = _pool_route(vault, lens, auction, market, tokens, keeper, chain, echo)
    chain.restore(snap)
    snap = chain.snapshot()
    honest = _auction_route(vault, lens, auction, tokens, keeper, filler, chain, external, adversarial=False)
    chain.restore(snap)  # a restored snapshot is spent (anvil): take another for the next route
    snap = chain.snapshot()
    adversary = _auction_route(vault, lens, auction, tokens, keeper, filler, chain, external, adversarial=True)
    chain.restore(snap)

    routes = Table(
        "Route comparison under the sandwich attacker: value lost per dollar traded (oracle prices)",
        ["route", "value traded $", "no attacker, bps", "under the attacker, bps", "worst allowed, bps", "gas"],
        about=(
            "One rebalance of the auction demo's vault (WBTC oracle +40 %, pools arbitraged to it, $1M), "
            "from one chain snapshot: the keeper's plan on the pools, and the same imbalance sold by auction."
        ),
    )
    value_in = sum(c.value_in for *_, c, _ in rows)
    lost_plain = sum(c.value_in - b.value(c.expected_out) for *_, c, b in rows)
    lost_best = sum(c.value_in - b.value(c.best.victim_out) for *_, c, b in rows if c.best)
    lost_worst = sum(c.value_in - b.value(c.worst_out) for *_, c, b in rows if c.best)
    attacker_best = sum(c.gain for *_, c, _ in rows if c.best)
    attacker_at_worst = sum(c.gain_of(c.at_largest) for *_, c, _ in rows if c.at_largest)
    routes.add(
        "pools (keeper's plan, 3 swaps)",
        f"{value_in / WAD:,.0f}",
        f"{float(lost_plain) * MAX_BPS / value_in:.1f}",
        f"{float(lost_best) * MAX_BPS / value_in:.1f}",
        f"{float(lost_worst) * MAX_BPS / value_in:.1f}",
        f"{realised.gas_used:,}",
    )
    for label, (open_gas, fills, close_gas) in (
        ("auction, competitive filler (30 bps margin)", honest),
        ("auction, adversarial filler (waits to the end)", adversary),
    ):
        traded = sum(f["traded"] for f in fills)
        lost = sum(f["cost"] for f in fills)
        gas = open_gas + sum(f["gas"] for f in fills) + (close_gas or 0)
        bps = lost * MAX_BPS / traded if traded else 0.0
        plain = f"{bps:.1f}" if "competitive" in label else "-"
        attacked = "-" if "competitive" in label else f"{bps:.1f}"
        worst = f"{DEFAULT_PARAMS['end_discount_bps']:.1f}"
        routes.add(label, f"{traded / WAD:,.0f}", plain, attacked, worst, f"{gas:,}")
    routes.notes += [
        "pools: value lost = oracle value sold minus oracle value received, per trade in plan order on the pools "
        "the earlier trades leave; under the attacker = with the attacker's best front-run (each front-run on "
        "the bench's grid followed by the exact best back-run; ballast.bench.sandwich.evaluate) at the plan's "
        "min-outs; worst allowed = after the largest front-run the min-outs still admit",
        f"pools, the attacker's own result over the back-run alone: best ${float(attacker_best) / WAD:,.2f} "
        f"(0: no front-run pays), at the largest admitted front-run ${float(attacker_at_worst) / WAD:,.2f} "
        "(a griefer pays that to push the vault to its bound)",
        "auction: from the vault's Rebalanced events (cost at the fill block's oracles); the auction has no pool "
        "to sandwich: the adversary's move is to fill at the curve's end, 1 - END = the worst allowed; "
        "gas = open + every fill + close (the filler pays its fills)",
        f"route comparison at {GAS_GWEI} gwei, ETH ${ETH_USD:,}: {choice.reason}",
    ]

    quality = Table(
        "Auction fill quality: each fill's price against the oracle at its block",
        ["filler", "min", "lot", "sold", "bought", "m(t)", "price vs oracle, bps", "fill gas"],
        about="Every fill of the two auctions above, from its Filled event (10,000 = the oracle).",
    )
    for label, (_, fills, _) in (("competitive", honest), ("adversarial", adversary)):
        for f in fills:
            quality.add(
                label,
                f"{f['seconds'] / 60:.1f}",
                f"{symbol[f['sell']]}->{symbol[f['buy']]}",
                f"{f['sold'] / 10 ** decimals[f['sell']]:,.6f}",
                f"{f['bought'] / 10 ** decimals[f['buy']]:,.6f}",
                f"{f['multiplier'] / WAD:.5f}",
                f"{f['price_vs_oracle_bps']:,}",
                f"{f['gas']:,}",
            )
    quality.notes.append(
        "the vault refuses fills once its trigger is gone (every asset inside its band): lots sized to the "
        'targets are not all taken (TECH_SPEC "Auctions")'
    )
    tables = [routes, quality]
    for table in tables:
        echo("")
        echo(table.text())
    echo("")
    echo("\n\n".join(t.markdown() for t in tables))
    echo(f"({time.perf_counter() - started:.0f} s)")
    return tables
