"""Ballast against Set Protocol v2 and Balancer V2 on the same chain, in the same run
(``ape run peers``).

One market for everyone: the demo's four tokens, priced by Chainlink's contracts, and Uniswap V2
pairs of every pair. A $1M Ballast vault, a $1M SetToken and a $1M Balancer weighted pool (30 bps),
all at 40/30/20/10. WBTC moves +40% (the pairs are arbitraged to the new oracle prices first, each
to the edge of its fee band) and
each system is brought back to its targets: Ballast by one keeper rebalance through the keeper
path, Set by its GeneralIndexModule's ``startRebalance`` and ``trade``s, Balancer passively, by the
arbitrageurs' swaps that bring its prices back to the oracle's (what they earn is its
loss-versus-rebalancing). Then WBTC -30% from there, and the same again. Gas from receipts; value
lost at oracle prices, in bps of the value traded and of the basket.

Every measured turn of a move starts from the same chain state: a snapshot taken once the
feeds are set and the pairs arbitraged, restored before each. The turn left standing is
Ballast's without the attacker; Set's is then sent again on top of it, unmeasured, so that the
next move starts with both rebalanced. Each DEX-trading system's turn is also run with a sandwich
attacker active (:mod:`ballast.peers.sandwich`): Ballast's one rebalance with the min-outs
its planner set, every pair of its trades front-run before it and back-run after it; each of Set's
``trade``s with the limit its caller sets (the V2 quote less 50 bps for a sale, plus 50 bps for a
buy), front-run and back-run around it. Balancer has no victim trade: its rebalancing *is* the
arbitrage.
"""

from __future__ import annotations

import dataclasses
import functools
import math
from pathlib import Path

from ballast import keeper as keeper_path
from ballast.bench.sandwich import Asset
from ballast.chain import skip_debug_log_replay
from ballast.chain.deploy import deploy_local_market, deploy_vault, feed_answer, load_spec
from ballast.chain.erc20 import token_at
from ballast.chain.market import arbitrage, arbitrage_snapshot, plan_arbitrage, snapshot_venue
from ballast.constants import WAD
from ballast.peers import set_protocol
from ballast.peers.sandwich import Attacker, Sandwich, usd
from ballast.venues import balancer_v2, uniswap_v2

SPEC = Path(__file__).resolve().parents[2] / "specs" / "demo.yaml"
BASKET_USD = 1_000_000
SET_PRICE_USD = 100.0
BALANCER_SWAP_FEE = 3 * 10**15  # 30 bps, as the Uniswap V2 pairs
MOVES = (("WBTC +40%", 1, 1.4), ("WBTC -30%", 1, 0.7))  # (label, asset, factor on its price)


@dataclasses.dataclass
class Row:
    system: str
    move: str
    transactions: int
    trades: int
    gas: int
    value_traded: float  # USD at oracle prices
    value_lost: float  # USD at oracle prices
    basket: float  # USD before the rebalance
    model_bps: float | None = None  # Balancer: the backtester's AMM model's loss, bps of the basket
    receipts: list = dataclasses.field(default_factory=list)  # (gas, hash, calldata) of each transaction

    @property
    def gas_per_trade(self) -> int:
        return self.gas // max(self.trades, 1)


@dataclasses.dataclass
class Attacked:
    """One system's turn at one move with the sandwich attacker active, beside the same turn without."""

    system: str
    move: str
    lost_without: float  # USD at oracle prices
    lost_with: float | None  # None: no victim trade (Balancer)
    sandwiches: list[Sandwich] = dataclasses.field(default_factory=list)

    @property
    def attacker(self) -> float:
        """The attacker's result on chain, USD at oracle prices (swap fees in, gas not)."""
        return usd(sum(s.result for s in self.sandwiches))

    @property
    def model(self) -> float:
        """The same, as the search predicted it, USD."""
        return usd(sum(s.plan.best.result for s in self.sandwiches))

    @property
    def back_run_alone(self) -> float:
        """What back-running each trade alone (no front-run) makes, USD: the victims' own impact."""
        return usd(sum(s.plan.back_run_alone for s in self.sandwiches))

    @property
    def gain(self) -> float:
        """What the front-runs add over the back-runs alone (model), USD: the sandwiches' own gain."""
        return usd(sum(s.gain for s in self.sandwiches))

    @property
    def front_runs(self) -> int:
        return sum(1 for s in self.sandwiches if s.plan.best.front_run)


def run(project, chain, accounts, echo=print, measured=None) -> dict:
    """Run the race; print and return its rows and the entry/exit gas of each system.

    ``measured(gas, txn_hash, calldata)``, if given, is called for each measured rebalance
    transaction as soon as it is mined, before any snapshot is restored (the bench traces them
    there: a turn restored away is no longer on the chain, and a later transaction may reuse its hash).
    """
    measured = measured or (lambda *_: None)
    skip_debug_log_replay()
    spec = dataclasses.replace(load_spec(SPEC), market_venues=[("uniswap_v2", 30)])
    deployer, keeper, alice, bob, arb = accounts[:5]
    market = deploy_local_market(project, deployer, spec)
    tokens, feeds, venue = market.tokens, market.feeds, market.venues[0]
    vault = deploy_vault(project, deployer, spec, tokens, feeds, [venue], keeper=keeper)
    lens = project.VaultLens.deploy(sender=deployer)
    factory = uniswap_v2.container("UniswapV2Factory").at(venue.factory())
    weth = tokens[[a.symbol for a in spec.assets].index("WETH")]
    system = set_protocol.deploy_system(deployer, factory, weth)
    decimals = [a.decimals for a in spec.assets]
    weights = [a.target_bps / 10_000 for a in spec.assets]
    prices = [a.price for a in spec.assets]
    set_token = set_protocol.create_set(
        system, tokens, set_protocol.units_for(weights, prices, decimals, SET_PRICE_USD), deployer
    )

    def mint(account, amounts):
        for token, amount in zip(tokens, amounts):
            token.mint(account, amount, sender=deployer)

    # Balancer: the weighted pool at the targets, seeded with $1M by its first LP.
    bvault, pool_factory = balancer_v2.deploy_vault(deployer)
    pool, pool_id = balancer_v2.create_weighted_pool(
        pool_factory, tokens, [a.target_bps for a in spec.assets], BALANCER_SWAP_FEE, deployer
    )
    bal_seed = [int(BASKET_USD * w / p * 10**d) for w, p, d in zip(weights, prices, decimals)]
    mint(deployer, bal_seed)
    balancer_v2.join_init(bvault, pool_id, tokens, bal_seed, deployer)
    bal_adapter = balancer_v2.deploy_venue(project, bvault, pool_id, deployer)
    vault_order = [str(t) for t in bvault.getPoolTokens(pool_id)[0]]
    index_of = {str(t.address): k for k, t in enumerate(tokens)}

    # Entries: each system's first holder brings $1M, a second holder a further $10k.
    entry = {}
    seed = [int(BASKET_USD * w / p * 10**d) for w, p, d in zip(weights, prices, decimals)]
    for account, amounts in ((alice, seed), (bob, [a // 100 for a in seed])):
        mint(account, amounts)
        for token, amount in zip(tokens, amounts):
            token.approve(vault, amount, sender=account)
        shares = 0 if account == alice else vault.totalSupply() // 100 * 99 // 100
        entry["Ballast join"] = vault.join(shares, amounts, account, sender=account).gas_used
        quantity = int(BASKET_USD / SET_PRICE_USD * WAD) // (1 if account == alice else 100)
        mint(account, [-(-int(set_token.getDefaultPositionRealUnit(t)) * quantity // WAD) for t in tokens])
        entry["Set issue"] = set_protocol.issue(system, set_token, quantity, account, tokens).gas_used
    # Balancer: a second holder's proportional join (1% of the pool) and exit, and a USDC-only join.
    bpt = int(pool.totalSupply()) // 100
    balances = [int(b) for b in bvault.getPoolTokens(pool_id)[1]]
    max_in = [b // 100 + b // 10_000 + 1 for b in balances]
    mint(bob, [max_in[vault_order.index(str(t.address))] for t in tokens])
    entry["Balancer joinPool"] = balancer_v2.join_proportional(bvault, pool_id, bpt, max_in, bob).gas_used
    entry["Balancer exitPool"] = balancer_v2.exit_proportional(bvault, pool_id, int(pool.balanceOf(bob)), bob).gas_used
    usdc_units = 10_000 * 10 ** decimals[0]
    mint(bob, [usdc_units] + [0] * (len(tokens) - 1))
    single = [usdc_units if a == str(tokens[0].address) else 0 for a in vault_order]
    entry["Balancer joinPool (USDC)"] = balancer_v2.join_exact_tokens(bvault, pool_id, single, 0, bob).gas_used
    entry["Ballast exit"] = vault.exit(vault.balanceOf(bob), [0] * len(tokens), bob, sender=bob).gas_used
    entry["Set redeem"] = set_protocol.redeem(system, set_token, set_token.balanceOf(bob), bob).gas_used
    usdc = tokens[0]
    mint(bob, [10_000 * 10 ** decimals[0]] + [0] * (len(tokens) - 1))
    usdc.approve(vault, 10_000 * 10 ** decimals[0], sender=bob)
    entry["Ballast deposit (USDC)"] = vault.deposit(usdc, 10_000 * 10 ** decimals[0], 0, bob, sender=bob).gas_used

    attacker_account = accounts[5]

    def later():
        """The next block 12 s after the head: each measured transaction lands in a block of its own,
        as on mainnet, so a pair's first swap in it writes its price accumulators on any chain
        (otherwise whether two transactions share a second decides it, and the gas varies)."""
        chain.pending_timestamp = chain.blocks.head.timestamp + 12

    for token in tokens:
        token.mint(arb, 2**200, sender=deployer)
        token.approve(bvault, 2**256 - 1, sender=arb)
        token.mint(attacker_account, 2**200, sender=deployer)
        token.approve(system.router, 2**256 - 1, sender=attacker_account)
    rows: list[Row] = []
    attacked: list[Attacked] = []
    for label, asset, factor in MOVES:
        chain.pending_timestamp += max(int(lens.cooldown(vault)), int(lens.rebalance_interval(vault))) + 1
        prices[asset] *= factor
        answers = [feed_answer(p, spec.feed_decimals) for p in prices]
        for feed, answer in zip(feeds, answers):
            feed.set_answer(answer, sender=deployer)
        oracle = [a * 10 ** (18 - spec.feed_decimals) for a in answers]  # USD per whole token, WAD
        arbitrage(venue, tokens, oracle, decimals, arb)
        # Then every pair to the edge of its fee band: the arbitrage above skips moves under its fee
        # times its reserves, and what it leaves (the last turns' impact) would be free to whoever
        # trades first, the attacker's front-runs included.
        for pool in snapshot_venue(venue, tokens):
            arbitrage_snapshot(venue, pool, tokens, oracle, decimals, arb)
        assets = {str(t.address).lower(): Asset(str(t.address), d, o) for t, d, o in zip(tokens, decimals, oracle)}

        attacker = functools.partial(Attacker, attacker_account, system.router, factory, assets)

        # Every measured turn starts from this state (a snapshot restored before each): Set's with
        # and without the attacker, then Ballast's with the attacker, then Ballast's without, which
        # stays. Set's turn is then sent again on top of it (not measured), so that the next move
        # starts with both systems rebalanced and both systems' trades in the pools.
        # Set: the GeneralIndexModule's flow, to the same targets at the same oracle prices.
        supply = int(set_token.totalSupply())
        held = [int(set_token.getDefaultPositionRealUnit(t)) for t in tokens]
        before = _set_value(held, supply, oracle, decimals)
        per_set = before * WAD // supply
        targets = [per_set * int(w * 10_000) // 10_000 * 10**d // o for w, d, o in zip(weights, decimals, oracle)]
        start = chain.snapshot()
        set_attacker = attacker()
        set_protocol.rebalance(system, set_token, targets, deployer, factory, attacker=set_attacker, before_each=later)
        units = [int(set_token.getDefaultPositionRealUnit(t)) for t in tokens]
        set_lost_with = (before - _set_value(units, supply, oracle, decimals)) / WAD
        chain.restore(start)
        start = chain.snapshot()
        result = set_protocol.rebalance(system, set_token, targets, deployer, factory, before_each=later)
        after_units = [int(set_token.getDefaultPositionRealUnit(t)) for t in tokens]
        _check_set_targets(after_units, targets)
        sold = sum(
            max(h - a, 0) * supply // WAD * o // 10**d for h, a, o, d in zip(held, after_units, oracle, decimals)
        )
        set_row = Row(
            "Set v2",
            label,
            len(result.receipts),
            result.trades,
            result.gas,
            sold / WAD,
            (before - _set_value(after_units, supply, oracle, decimals)) / WAD,
            before / WAD,
            receipts=[_tx(r) for r in result.receipts],
        )
        for tx in set_row.receipts:
            measured(*tx)
        chain.restore(start)

        # Ballast: the keeper path, from the same state; first with the attacker, then without.
        state, snapshot = keeper_path.read(vault, [venue], tokens, token_at, chain.pending_timestamp, lens)
        decision = keeper_path.decide(vault, state, snapshot)
        assert decision.actionable, decision.reason
        value_before = int(lens.total_value(vault))
        start = chain.snapshot()
        sandwiches = _sandwich_ballast(vault, decision, keeper, attacker(), later)
        lost_with = (value_before - int(lens.total_value(vault))) / WAD
        chain.restore(start)
        later()
        receipt = keeper_path.send(vault, decision, keeper)
        realised = keeper_path.decode(vault, receipt, decision)
        rows.append(
            Row(
                "Ballast",
                label,
                1,
                len(realised.fills),
                realised.gas_used,
                realised.value_traded / WAD,
                (value_before - int(lens.total_value(vault))) / WAD,
                value_before / WAD,
                receipts=[_tx(receipt)],
            )
        )
        measured(*rows[-1].receipts[0])
        attacked.append(Attacked("Ballast", label, rows[-1].value_lost, lost_with, sandwiches))
        rows.append(set_row)
        attacked.append(Attacked("Set v2", label, set_row.value_lost, set_lost_with, set_attacker.sandwiches))
        # Set's turn again, now on top of Ballast's (the limits quoted from the pools as they are).
        set_protocol.rebalance(system, set_token, targets, deployer, factory, before_each=later)
        _check_set_targets([int(set_token.getDefaultPositionRealUnit(t)) for t in tokens], targets)

        # Balancer: arbitrageurs swap its prices back to the oracle's, each swap a Vault.swap from
        # their own account (a standing approval, as an arbitrage bot has).
        snapshot = balancer_v2.snapshot(bal_adapter)
        moved = [factor if k == asset else 1.0 for k in range(len(tokens))]
        before = _pool_value(bvault, pool_id, index_of, oracle, decimals)
        swaps = plan_arbitrage(snapshot, tokens, oracle, decimals)
        receipts, traded = [], 0
        for a, b, amount in swaps:
            later()
            receipts.append(
                bvault.swap(
                    balancer_v2.single_swap(pool_id, tokens[a].address, tokens[b].address, amount),
                    balancer_v2.funds(arb.address, arb.address),
                    0,
                    2**64,
                    sender=arb,
                )
            )
            traded += amount * oracle[a] // 10 ** decimals[a]
        rows.append(
            Row(
                "Balancer",
                label,
                len(receipts),
                len(receipts),
                sum(int(r.gas_used) for r in receipts),
                traded / WAD,
                (before - _pool_value(bvault, pool_id, index_of, oracle, decimals)) / WAD,
                before / WAD,
                amm_jump_loss_bps(weights, moved),
                receipts=[_tx(r) for r in receipts],
            )
        )
        attacked.append(Attacked("Balancer", label, rows[-1].value_lost, None))

    contracts = [(vault, "Vault"), (lens, "VaultLens"), (venue, "UniswapV2Venue"), (system.router, "UniswapV2Router02")]
    contracts += [(project.Rules.at(vault.RULES()), "Rules")]
    contracts += [(getattr(system, k), type_) for k, type_ in SET_KINDS.items()] + [(set_token, "SetToken")]
    contracts += [(t, "Token") for t in tokens]
    contracts += [
        named
        for f in feeds
        for named in (
            ((f.proxy, "ChainlinkProxy"), (f.aggregator, "ChainlinkAggregator"))
            if hasattr(f, "aggregator")
            else ((f, "Feed"),)
        )
    ]
    contracts += [
        (uniswap_v2.container("UniswapV2Pair").at(factory.getPair(a, b)), "UniswapV2Pair")
        for k, a in enumerate(tokens)
        for b in tokens[k + 1 :]
    ]
    labels = [(vault, "vault"), (venue, "venue"), *((t, a.symbol) for t, a in zip(tokens, spec.assets))]
    labels += [(set_token, "SetToken"), (keeper, "keeper")]
    out = {"rows": rows, "entry": entry, "attacked": attacked, "contracts": contracts, "labels": labels}
    out["targets"] = targets_of(out)
    echo(format_rows(rows, entry))
    echo("")
    echo(format_attacked(attacked))
    echo("")
    echo(format_targets(out["targets"]))
    return out


# Set's contracts by attribute of :class:`~ballast.peers.set_protocol.SetSystem`, for naming call frames.
SET_KINDS = {
    "controller": "Controller",
    "registry": "IntegrationRegistry",
    "issuance": "BasicIssuanceModule",
    "index_module": "GeneralIndexModule",
    "adapter": "UniswapV2IndexExchangeAdapter",
}


def _tx(receipt) -> tuple[int, str, bytes]:
    return int(receipt.gas_used), str(receipt.txn_hash), bytes(receipt.transaction.data)


def _sandwich_ballast(vault, decision, keeper, attacker: Attacker, later) -> list[Sandwich]:
    """Ballast's rebalance with the attacker active: every trade's pair front-run before the one
    transaction (the attacker sees its trades and min-outs), then back-run after it. The trades
    are on distinct pairs, so each pair's sandwich is searched on its own."""
    sandwiches = [
        attacker.plan("Ballast", t.token_in, t.token_out, t.amount_in, t.min_amount_out, exact_output=False)
        for t in decision.plan.trades
    ]
    pairs = [frozenset((s.token_in.lower(), s.token_out.lower())) for s in sandwiches]
    assert len(set(pairs)) == len(pairs), "two trades on one pair: the per-pair search does not cover it"
    for sandwich in sandwiches:
        attacker.front_run(sandwich)
    later()
    keeper_path.send(vault, decision, keeper)
    for sandwich in sandwiches:
        attacker.back_run(sandwich)
    return sandwiches


def targets_of(result: dict) -> list[tuple[str, str, str, bool]]:
    """The issue's targets, each as (target, goal, measured, met)."""
    by = {(r.system, r.move): r for r in result["rows"]}
    hit = {(a.system, a.move): a for a in result["attacked"]}
    entry = result["entry"]
    out = []
    for move, _, _ in MOVES:
        ballast, peer = by["Ballast", move], by["Set v2", move]
        ratio = ballast.gas / peer.gas
        out.append(
            (
                f"rebalance gas, {move}",
                "Ballast <= 0.5x Set",
                f"{ballast.gas:,} / {peer.gas:,} = {ratio:.3f}x",
                ratio <= 0.5,
            )
        )
    for ours, theirs in (("Ballast join", "Set issue"), ("Ballast exit", "Set redeem")):
        out.append(
            (
                f"{ours.split()[1]} gas",
                f"{ours} <= {theirs}",
                f"{entry[ours]:,} vs {entry[theirs]:,} ({entry[ours] / entry[theirs]:.2f}x)",
                entry[ours] <= entry[theirs],
            )
        )
    for move, _, _ in MOVES:
        for attacker in (False, True):
            lost = {
                s: (
                    hit[s, move].lost_with
                    if attacker and hit[s, move].lost_with is not None
                    else by[s, move].value_lost
                )
                for s in ("Ballast", "Set v2", "Balancer")
            }
            out.append(
                (
                    f"value lost, {move}, {'with' if attacker else 'without'} the attacker",
                    "Ballast < Set and < Balancer",
                    f"${lost['Ballast']:,.2f} vs ${lost['Set v2']:,.2f} and ${lost['Balancer']:,.2f}",
                    lost["Ballast"] < lost["Set v2"] and lost["Ballast"] < lost["Balancer"],
                )
            )
    return out


def attacked_table(attacked: list[Attacked]):
    """The sandwich leg as a :class:`~ballast.bench.report.Table` (text and Markdown)."""
    from ballast.bench.report import Table

    table = Table(
        "Against the peers, with a sandwich attacker on every DEX trade",
        [
            "move",
            "system",
            "lost $, no attacker",
            "lost $, attacker",
            "attacker $ (chain)",
            "attacker $ (search)",
            "back-runs alone $",
            "front-runs' gain $",
            "trades",
            "front-runs sent",
            "largest admitted front-run $",
        ],
        about=(
            "The same moves from the same chain state, with an attacker that sees each DEX trade and its limit: "
            "Ballast's rebalance with its planner's min-outs (all its pairs front-run before the one transaction, "
            "back-run after it); each of Set's trades with the limit its caller sets (the V2 quote -50 bps on a sale's "
            "min-out, +50 bps on a buy's max-in). The attacker sends the most profitable front-run that still lets "
            "the trade fill (none, when none pays), then the exact best back-run, through Router02; results at "
            "oracle prices, both legs' swap fees in them, the attacker's gas not charged."
        ),
    )
    for a in attacked:
        if a.lost_with is None:
            table.add(
                a.move, a.system, f"{a.lost_without:,.2f}", f"{a.lost_without:,.2f}", *["passive"] * 4, "0", "-", "-"
            )
            continue
        largest = usd(sum(s.admitted_value for s in a.sandwiches))
        table.add(
            a.move,
            a.system,
            f"{a.lost_without:,.2f}",
            f"{a.lost_with:,.2f}",
            f"{a.attacker:,.2f}",
            f"{a.model:,.2f}",
            f"{a.back_run_alone:,.2f}",
            f"{a.gain:,.2f}",
            len(a.sandwiches),
            a.front_runs,
            f"{largest:,.0f}",
        )
    table.notes += [
        "attacker $ = front-runs + back-runs at oracle prices; back-runs alone = what back-running each trade without "
        "a front-run makes (the victim's own impact arbitraged, open to anyone); front-runs' gain = the best "
        "sandwich minus that: what front-running adds",
        "largest admitted front-run: summed over the trades, the largest front-run after which each trade still "
        "fills (its limit), at oracle prices",
        "Balancer (passive): it rebalances by arbitrage, with no trade of its own to sandwich; its loss, with or "
        "without the attacker, is the arbitrageurs' profit (the first table)",
    ]
    return table


def format_attacked(attacked: list[Attacked]) -> str:
    return attacked_table(attacked).text()


def targets_table(targets: list[tuple[str, str, str, bool]]):
    """The issue's targets as a :class:`~ballast.bench.report.Table`."""
    from ballast.bench.report import Table

    table = Table(
        "Against the peers: the issue's targets",
        ["target", "goal", "measured", "status"],
        about="Each target of the peers race with its figure (gas from receipts, value at oracle prices).",
    )
    for row in targets:
        table.add(*row)
    return table


def format_targets(targets) -> str:
    return targets_table(targets).text()


def _check_set_targets(units: list[int], targets: list[int]) -> None:
    off = [abs(a - t) * 10_000 // t for a, t in zip(units, targets)]
    assert max(off) <= 50, f"Set did not reach its targets: {off} bps off"


def _set_value(units: list[int], supply: int, oracle: list[int], decimals: list[int]) -> int:
    """USD (WAD) of a SetToken's positions at oracle prices."""
    return sum(u * supply // WAD * o // 10**d for u, o, d in zip(units, oracle, decimals))


def amm_jump_loss_bps(weights: list[float], price_ratios: list[float]) -> float:
    """The backtester's AMM model (``ballast.backtest._simulate_amm``: a zero-fee weighted pool
    arbitraged to market) over one jump of the prices by ``price_ratios``, from target weights:
    the pool ends at ``prod r_i**w_i`` of its value, the basket it held is worth ``sum w_i r_i``;
    the difference is what the arbitrageurs take, in bps of the latter."""
    held = sum(w * r for w, r in zip(weights, price_ratios))
    pool = math.prod(r**w for w, r in zip(weights, price_ratios))
    return (held - pool) / held * 1e4


def _pool_value(bvault, pool_id, index_of: dict, oracle: list[int], decimals: list[int]) -> int:
    """USD (WAD) of a Balancer pool's balances at oracle prices."""
    tokens, balances, _ = bvault.getPoolTokens(pool_id)
    total = 0
    for token, balance in zip(tokens, balances):
        k = index_of[str(token)]
        total += int(balance) * oracle[k] // 10 ** decimals[k]
    return total


def format_rows(rows: list[Row], entry: dict[str, int]) -> str:
    header = (
        f"{'system':<8} {'move':<10} {'txs':>4} {'trades':>6} {'gas':>10} {'gas/trade':>10} "
        f"{'traded $':>10} {'lost $':>8} {'bps traded':>10} {'bps basket':>10} {'model bps':>9}"
    )
    lines = [header, "-" * len(header)]
    for r in rows:
        lines.append(
            f"{r.system:<8} {r.move:<10} {r.transactions:>4} {r.trades:>6} {r.gas:>10,} {r.gas_per_trade:>10,} "
            f"{r.value_traded:>10,.0f} {r.value_lost:>8,.0f} {r.value_lost * 1e4 / r.value_traded:>10.1f} "
            f"{r.value_lost * 1e4 / r.basket:>10.2f} "
            + (f"{r.model_bps:>9.2f}" if r.model_bps is not None else f"{'':>9}")
        )
    by = {(r.system, r.move): r for r in rows}
    ratios = [by["Ballast", m].gas / by["Set v2", m].gas for m, _, _ in MOVES if ("Set v2", m) in by]
    lines.append("Ballast's rebalance gas / Set's: " + ", ".join(f"{x:.2f}x" for x in ratios) + " (target <= 0.5x)")
    lines.append(
        "model bps: the backtester's AMM model (zero fee) over the same jump; the pool's 30 bps fee "
        "keeps its price within the fee of the oracle's, so the arbitrageurs take a little less"
    )
    lines.append("entry and exit gas: " + ", ".join(f"{k} {v:,}" for k, v in entry.items()))
    return "\n".join(lines)
