"""Gas of the vault with lending off and on: the same 4-asset vault over real Uniswap V2 pairs
(:func:`ballast.bench.vaults.deploy_stack`), the same entries, exits and rebalance, from the same
chain snapshot, first without a sleeve, then with the demo's lending (:func:`ballast.demo.lend_idle`:
a sleeve, Morpho Blue markets for USDC and WETH with another lender and a borrower at 25 %
utilisation, half of each idle balance lent); and ``lend``, ``recall`` and the code sizes.

Scenario conventions as in :mod:`ballast.bench.vaults` (a new holder enters, exits are partial);
the lending rows add an exit at 100 % utilisation (the lent part delivered in kind, as market
shares) and a rebalance whose USDC sale is larger than the idle USDC, so that the vault recalls the
shortfall in the same call.
"""

from __future__ import annotations

from ballast import keeper as keeper_path
from ballast.bench.config import RALLY
from ballast.bench.context import Context, Measured, _tx
from ballast.bench.report import Table
from ballast.bench.vaults import (
    Stack,
    deploy_stack,
    fund_arbitrageur,
    measure_deposit,
    measure_exit,
    measure_join,
    move_and_decide,
    send_rebalance,
)
from ballast.demo import BUFFER_BPS, LEND_FRACTION_BPS, UTILISATION_BPS, lend_idle

EIP170 = 24_576
N = 4
LEND_BPS = 1_000  # the measured lend: a tenth of the idle USDC (within the idle buffer)
RECALL_BPS = 100  # the measured recall: a hundredth of the lent USDC


def _code_size(ctx: Context, address) -> int:
    return len(ctx.provider.get_code(str(getattr(address, "address", address))))


def _later(chain) -> None:
    """The next block 12 s after the head, as a user's transaction lands after the markets' last
    update: Morpho then accrues (or, in a view, computes) interest, whatever this machine's speed."""
    chain.pending_timestamp = chain.blocks.head.timestamp + 12


def _scenario(stack: Stack, markets: dict | None = None, sleeve=None) -> dict[str, Measured]:
    """join, deposit, exit (and, with ``markets``, the exit at 100 % utilisation from the same state),
    then the warm-up and the measured rebalance (and, with ``markets``, the rebalance whose sale of a
    lent asset exceeds its idle balance, from the same state)."""
    ctx, chain, vault = stack.ctx, stack.ctx.chain, stack.vault
    deployer, keeper, bob, borrower = ctx.accounts[0], ctx.accounts[1], ctx.accounts[3], ctx.accounts[8]
    _later(chain)
    out = {"join": measure_join(stack)}
    _later(chain)
    out["deposit"] = measure_deposit(stack)
    if markets:
        start = chain.snapshot()
        for market in markets.values():
            market.borrow_all(borrower)
            assert market.liquidity() == 0
        _later(chain)
        out["exit_in_kind"] = measure_exit(stack)
        assert all(int(m.vault.balanceOf(bob)) > 0 for m in markets.values()), "exit at 100 %: not in kind"
        chain.restore(start)
    _later(chain)
    out["exit"] = measure_exit(stack)
    if markets:
        assert all(int(m.vault.balanceOf(bob)) == 0 for m in markets.values()), "exit: the markets did not pay"

    prices = fund_arbitrageur(stack)
    _, _, decision = move_and_decide(stack, prices, stack.spec.assets[1].price * RALLY)
    keeper_path.send(vault, decision, keeper)
    start = chain.snapshot()
    moved = list(prices)
    _, _, decision = move_and_decide(stack, prices, stack.spec.assets[1].price)
    out["rebalance"] = send_rebalance(stack, decision, chain.pending_timestamp + 12)
    out["rebalance"].extra["swaps"] = len(decision.plan.trades)
    if not markets:
        return out

    # The same move again from the same state; before the keeper's transaction the allocator lends
    # all but half of what the plan sells of a lent asset (its buffer set to 0 for this), so that
    # the trade recalls the other half.
    chain.restore(start)
    _, _, decision = move_and_decide(stack, moved, stack.spec.assets[1].price)
    sold = {}
    for t in decision.plan.trades:
        sold[t.token_in.lower()] = sold.get(t.token_in.lower(), 0) + t.amount_in
    i = next(i for i in markets if sold.get(str(stack.tokens[i].address).lower()))
    token, amount = stack.tokens[i], sold[str(stack.tokens[i].address).lower()]
    sleeve.set_market(token, markets[i].vault, 0, sender=deployer)
    vault.lend(token, int(vault.balances(token)) - amount // 2, sender=keeper)
    assert int(vault.balances(token)) < amount
    recall = send_rebalance(stack, decision, chain.pending_timestamp + 12)
    block = chain.blocks.head.number
    recalled = [int(log.assets) for log in sleeve.Recalled.range(block, block + 1)]
    assert recalled, "the rebalance did not recall"
    recall.extra.update(swaps=len(decision.plan.trades), asset=stack.spec.assets[i].symbol, recalled=recalled[0])
    out["rebalance_recall"] = recall
    return out


def bench_lending(ctx: Context) -> Table:
    """The lending table: gas with the sleeve off and on, lend and recall, and the code sizes."""
    project, chain = ctx.project, ctx.chain
    deployer, keeper, lender, borrower = ctx.accounts[0], ctx.accounts[1], ctx.accounts[7], ctx.accounts[8]
    stack = deploy_stack(ctx, N)
    vault, tokens, spec = stack.vault, stack.tokens, stack.spec
    start = chain.snapshot()
    off = _scenario(stack)
    chain.restore(start)

    sleeve, markets, _ = lend_idle(project, deployer, keeper, lender, borrower, vault, spec, tokens)
    ctx.name((sleeve, "LendingSleeve"), *((m.vault, "MorphoSupplyVault") for m in markets.values()))
    ctx.name((markets[0].morpho, "MorphoBlue"))
    usdc = tokens[0]
    state = chain.snapshot()
    _later(chain)
    gas, txh, data = _tx(vault.lend(usdc, int(vault.balances(usdc)) * LEND_BPS // 10_000, sender=keeper))
    lend = Measured("lend", N, gas, None, txh, data)
    chain.restore(state)  # anvil drops a snapshot once restored: take another
    state = chain.snapshot()
    lent = int(stack.lens.lent(vault)[0])
    _later(chain)
    gas, txh, data = _tx(vault.recall(usdc, lent * RECALL_BPS // 10_000, sender=keeper))
    recall = Measured("recall", N, gas, None, txh, data)
    chain.restore(state)
    on = _scenario(stack, markets, sleeve)

    vault_size = _code_size(ctx, vault)
    rules_size = _code_size(ctx, vault.RULES())
    sleeve_size = _code_size(ctx, sleeve)

    table = Table(
        f"Lending: gas with the sleeve off and on ({N}-asset vault, Uniswap V2)",
        ["operation", "lending off", "lending on", "on - off"],
        about="The same vault, entries, exits and rebalance from the same chain snapshot, first without a "
        "sleeve, then with half of the idle USDC and WETH lent into Morpho Blue markets (real borrowers at "
        f"{UTILISATION_BPS // 100}% utilisation, through ERC-4626 supply vaults); lend and recall; the code sizes.",
    )

    def both(label: str, a: Measured, b: Measured) -> None:
        table.add(label, a.gas, b.gas, f"{b.gas - a.gas:+,}")

    both("join (new holder)", off["join"], on["join"])
    both("deposit (USDC, new holder)", off["deposit"], on["deposit"])
    both("exit (half; the markets pay)", off["exit"], on["exit"])
    both("exit (half; 100% utilisation, lent part in kind)", off["exit"], on["exit_in_kind"])
    swaps = off["rebalance"].extra["swaps"]
    both(f"rebalance ({swaps} swaps; idle covers the sales)", off["rebalance"], on["rebalance"])
    rec = on["rebalance_recall"]
    both(
        f"rebalance ({rec.extra['swaps']} swaps; a {rec.extra['asset']} sale above idle, recalled)",
        off["rebalance"],
        rec,
    )
    table.add(f"lend (USDC, {LEND_BPS // 100}% of idle)", "-", lend.gas, "-")
    table.add(f"recall (USDC, {RECALL_BPS // 100}% of lent)", "-", recall.gas, "-")
    table.add("Vault code, deployed (bytes)", vault_size, vault_size, "+0")
    table.add("Vault margin under EIP-170 (bytes)", EIP170 - vault_size, EIP170 - vault_size, "+0")
    table.add("LendingSleeve code (bytes)", "-", sleeve_size, "-")
    table.add("Rules code (bytes)", rules_size, rules_size, "+0")
    table.notes += [
        "gas = receipts' gas_used (21,000 base included); join/deposit: a new holder; exit: half of a holder's shares; "
        "rebalance: the vault's second, WBTC back from +40% (as in the gas table)",
        f"lending on: {LEND_FRACTION_BPS // 100}% of the idle USDC and WETH lent (buffer {BUFFER_BPS // 100}%), "
        "another lender and a borrower in each market; lend and recall measured from that state and undone; "
        "every measured transaction 12 s after the previous block, so the markets accrue interest in it",
        "100% utilisation: the borrower takes every loan token left, so the exit delivers supply-vault shares "
        "(the receiver's first, a new balance)",
        f"recall rebalance: the {rec.extra['asset']} buffer set to 0 and all but half of the planned sale lent "
        "before the keeper's call, so the trade recalls the rest; the idle balance ends at 0 (refunds included)",
        f"EIP-170: {EIP170:,} bytes; the vault's code is the same with lending on or off (the LENDING flag)",
    ]
    ctx.echo(
        "  lending: "
        + ", ".join(f"{k} {off[k].gas:,} -> {on[k].gas:,}" for k in ("join", "deposit", "exit", "rebalance"))
        + f"; exit in kind {on['exit_in_kind'].gas:,}, recall rebalance {rec.gas:,}, lend {lend.gas:,}, "
        f"recall {recall.gas:,}; vault {vault_size:,} bytes"
    )
    return table
