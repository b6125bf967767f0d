"""AssetEntry (ERC-7575 entry point of one asset) and the vault's ``vault(asset)`` lookup; the
oracle-lag table of issue #13 recomputed for the instant and the queued path; gas of every step."""

import ape
import pytest
from ape.utils import ZERO_ADDRESS
from entry_stack import HAIRCUT_BPS, MAX_AGE, MIN_DELAY, PRICES, USDC, WBTC, WEIGHTS, build

from ballast.depositor import requests

# Issue #13's table: the attacker's gain (bps of the amount deposited) on the instant path.
LAG_JUMPS = (0.0025, 0.01, 0.02, 0.05, 0.10)
ISSUE_FELL = (-12, 40, 111, 334, 737)  # deposit the lagging asset (WBTC), whose price fell by J
ISSUE_ROSE = (-22, 0, 30, 118, 266)  # deposit another asset (USDC) while the lagging one rose by J
ATTACK_USD = 12_000  # 0.2 WBTC or 12,000 USDC at the stale prices: the issue's deposit (x = 1.2 %)


@pytest.fixture(scope="module")
def es(project, chain, owner, keeper, guardian, lens, alice):
    """Built once per module; ape's isolation restores the chain after every test."""
    stack = build(project, chain, owner, keeper, guardian, lens)
    stack.seed(alice)
    return stack


@pytest.fixture(autouse=True)
def _prices_follow_chain(es):
    """The stack's Python-side prices are reset with the chain."""
    es.prices = list(PRICES)


# ---------------------------------------------------------------- vault(asset)


def test_vault_lookup__set_by_owner__returns_entry_and_logs(es, owner):
    entry = es.entries[WBTC]
    assert es.vault.vault(es.tokens[WBTC]) == entry
    tx = es.vault.set_entry(es.tokens[WBTC], ZERO_ADDRESS, sender=owner)
    ev = tx.events.filter(es.vault.VaultUpdate)[0]
    assert (ev.asset, ev.vault) == (es.tokens[WBTC], ZERO_ADDRESS)
    assert es.vault.vault(es.tokens[WBTC]) == ZERO_ADDRESS


def test_vault_lookup__not_owner__reverts(es, attacker):
    with ape.reverts("ownable: caller is not the owner"):
        es.vault.set_entry(es.tokens[WBTC], attacker, sender=attacker)


def test_vault_lookup__unknown_asset__reverts(es, owner):
    with ape.reverts("vault: unknown asset"):
        es.vault.set_entry(owner, es.entries[0], sender=owner)


# ---------------------------------------------------------------- views


def test_views__erc7575__point_at_vault_asset_and_queue(es):
    for i, entry in enumerate(es.entries):
        assert entry.asset() == es.tokens[i] and entry.share() == es.vault
        assert entry.QUEUE() == es.queues[i] and entry.LENS() == es.lens
        assert entry.totalAssets() == es.vault.balances(es.tokens[i])
    assert es.entries[0].supportsInterface("0x2f0a18c5") and es.entries[0].supportsInterface("0x01ffc9a7")
    assert not es.entries[0].supportsInterface("0xffffffff")


def test_convert__round_trip__at_oracle_value_without_haircut(es):
    entry = es.entries[WBTC]
    shares = entry.convertToShares(10**8)
    gross = es.lens.preview_deposit(es.vault, es.tokens[WBTC], 10**8) * 10_000 // (10_000 - HAIRCUT_BPS)
    assert shares == gross
    assert abs(entry.convertToAssets(shares) - 10**8) <= 1


def test_exit_side__in_kind_only__max_zero_and_calls_revert(es, alice):
    entry = es.entries[WBTC]
    assert entry.maxWithdraw(alice) == 0 and entry.maxRedeem(alice) == 0 and entry.maxMint(alice) == 0
    for call in (entry.previewWithdraw, entry.previewRedeem):
        with ape.reverts("entry: exit in kind with Vault.exit"):
            call(1)
    with ape.reverts("entry: exit in kind with Vault.exit"):
        entry.withdraw(1, alice, alice, sender=alice)
    with ape.reverts("entry: exit in kind with Vault.exit"):
        entry.redeem(1, alice, alice, sender=alice)
    with ape.reverts("entry: mint not supported, use deposit"):
        entry.previewMint(1)
    with ape.reverts("entry: mint not supported, use deposit"):
        entry.mint(1, alice, sender=alice)


# ---------------------------------------------------------------- instant path


def test_deposit__safe__mints_preview_through_vault(es, bob):
    entry, amount = es.entries[WBTC], es.units(WBTC, 10_000)
    es.fund(bob, WBTC, amount, entry)
    assert entry.is_safe() and entry.maxDeposit(bob) == 2**256 - 1
    preview = entry.previewDeposit(amount)
    tx = entry.deposit(amount, bob, sender=bob)
    ev = tx.events.filter(entry.Deposit)[0]
    assert (ev.sender, ev.owner, ev.assets, ev.shares) == (bob, bob, amount, preview)
    vault_ev = tx.events.filter(es.vault.Deposit)[0]
    assert (vault_ev.sender, vault_ev.receiver, vault_ev.shares) == (entry, bob, preview)
    assert es.vault.balanceOf(bob) == preview and es.tokens[WBTC].balanceOf(entry) == 0


def test_deposit__stale_feed__closed_reverts_and_max_zero(es, bob):
    entry, amount = es.entries[WBTC], es.units(WBTC, 10_000)
    es.fund(bob, WBTC, amount, entry)
    es.wait(MAX_AGE + 1)
    for i in (0, 1, 2):
        es.publish(i)  # one feed (LINK) older than max_age, though within its heartbeat
    assert not entry.is_safe() and entry.maxDeposit(bob) == 0
    with ape.reverts("entry: not safe, use requestDeposit"):
        entry.previewDeposit(amount)
    with ape.reverts("entry: not safe, use requestDeposit"):
        entry.deposit(amount, bob, sender=bob)
    es.tokens[WBTC].approve(es.vault, 1, sender=bob)
    es.vault.deposit(es.tokens[WBTC], 1, 0, bob, sender=bob)  # the vault itself still takes it


def test_deposit__paused_or_shut_down__not_safe(es, guardian):
    es.vault.pause(sender=guardian)
    assert not es.entries[0].is_safe()
    es.vault.unpause(sender=guardian)
    assert es.entries[0].is_safe()
    es.vault.shutdown(sender=guardian)
    assert not es.entries[0].is_safe()


def test_deposit__broken_feed__not_safe(es, owner):
    es.feeds[USDC].proxy.proposeAggregator(es.tokens[0], sender=owner)
    es.feeds[USDC].proxy.confirmAggregator(es.tokens[0], sender=owner)
    assert not es.entries[WBTC].is_safe()


def test_deposit__guard_disagrees__not_safe(project, es, owner):
    guard = project.MockEntryGuard.deploy(sender=owner)
    tx = es.entries[WBTC].set_guard(guard, sender=owner)
    assert tx.events.filter(es.entries[WBTC].GuardSet)[0].guard == guard
    assert es.entries[WBTC].guard() == guard and es.entries[WBTC].is_safe()
    guard.set_agreeing(False, sender=owner)
    assert not es.entries[WBTC].is_safe()


def test_deposit__zero__reverts(es, bob):
    with ape.reverts("entry: zero assets"):
        es.entries[WBTC].deposit(0, bob, sender=bob)


def test_set_max_age__owner__sets_and_logs(es, owner, attacker):
    entry = es.entries[WBTC]
    tx = entry.set_max_age(60, sender=owner)
    assert tx.events.filter(entry.MaxAgeSet)[0].max_age == 60 and entry.max_age() == 60
    with ape.reverts("entry: zero max age"):
        entry.set_max_age(0, sender=owner)
    with ape.reverts("ownable: caller is not the owner"):
        entry.set_max_age(60, sender=attacker)
    with ape.reverts("ownable: caller is not the owner"):
        entry.set_guard(attacker, sender=attacker)


# ---------------------------------------------------------------- asynchronous path and routing


def test_request_deposit__through_entry__controller_owns_request(es, bob, alice):
    entry, amount = es.entries[WBTC], es.units(WBTC, 10_000)
    es.fund(bob, WBTC, amount, entry)
    tx = entry.requestDeposit(amount, alice, bob, sender=bob)
    ev = tx.events.filter(entry.Requested)[0]
    assert (ev.sender, ev.controller, ev.requestId, ev.assets) == (bob, alice, 1, amount)
    assert es.queues[WBTC].pendingDepositRequest(1, alice) == amount
    assert es.tokens[WBTC].balanceOf(entry) == 0


def test_request_deposit__owner_not_caller__reverts(es, bob, alice):
    with ape.reverts("entry: owner must be caller"):
        es.entries[WBTC].requestDeposit(1, bob, alice, sender=bob)


def test_enter__safe__instant_else_queued(es, bob):
    entry, amount = es.entries[WBTC], es.units(WBTC, 10_000)
    es.fund(bob, WBTC, 2 * amount, entry)
    tx = entry.enter(amount, bob, sender=bob)
    assert tx.events.filter(entry.Deposit)[0].shares > 0 and not tx.events.filter(entry.Requested)
    es.wait(MAX_AGE + 1)
    tx = entry.enter(amount, bob, sender=bob)
    assert tx.events.filter(entry.Requested)[0].requestId == 1 and not tx.events.filter(entry.Deposit)
    assert es.queues[WBTC].pendingDepositRequest(1, bob) == amount


# ---------------------------------------------------------------- the lag table


def _closed_form_instant(jump, x, fell):
    """Issue #13's closed form with the deposit's own size x = D / V: as x -> 0 it is
    (1-h)(1-wJ)/(1-J) - 1 (lagging asset deposited) and (1-h)(1+wJ) - 1 (another asset)."""
    h, w = HAIRCUT_BPS / 10_000, WEIGHTS[WBTC] / 10_000
    if fell:
        return (1 - h) * (1 - w * jump + x * (1 - jump)) / ((1 + x * (1 - h)) * (1 - jump)) - 1
    return (1 - h) * (1 + w * jump + x) / (1 + x * (1 - h)) - 1


def _closed_form_queued(jump, x, fell):
    """Priced at the new round, the attacker pays the haircut on a fair price: x' = D / V at true prices."""
    h, w = HAIRCUT_BPS / 10_000, WEIGHTS[WBTC] / 10_000
    true_x = x * (1 - jump) / (1 - w * jump) if fell else x / (1 + w * jump)
    return (1 - h) * (1 + true_x) / (1 + true_x * (1 - h)) - 1


def _attack(es, attacker, keeper, jump, fell, queued):
    """WBTC moves by J in the market while its feed shows the old price; the attacker deposits (WBTC
    if it fell, USDC if it rose) through the entry, the feed catches up, the attacker exits in kind.
    Returns (gain in bps of the deposit's true value, x)."""
    i = WBTC if fell else USDC
    true_price = PRICES[WBTC] * (1 - jump if fell else 1 + jump)
    stale_total = es.value([es.vault.balances(t) for t in es.tokens])
    amount = es.units(i, ATTACK_USD)
    entry = es.entries[i]
    es.fund(attacker, i, amount, entry)
    if queued:
        tx = entry.requestDeposit(amount, attacker, attacker, sender=attacker)
        request_id = tx.events.filter(entry.Requested)[0].requestId
        es.wait(MIN_DELAY)
        es.publish(WBTC, true_price)
        for j in (USDC, 2, 3):
            es.publish(j)
        requests.settle(es.queues[i], es.vault, request_id, sender=keeper)
        requests.claim(es.queues[i], attacker)
    else:
        assert entry.is_safe()  # fresh feeds: the entry's safe window, where the lag bites
        entry.deposit(amount, attacker, sender=attacker)
        es.publish(WBTC, true_price)
    tx = es.vault.exit(es.vault.balanceOf(attacker), [0] * 4, attacker, sender=attacker)
    out = tx.events.filter(es.vault.Exit)[0].amounts
    paid = amount * (true_price if fell else 1.0) / 10 ** (8 if fell else 6)
    return (es.value(out) / paid - 1) * 10_000, amount * (PRICES[i]) / 10 ** (8 if fell else 6) / stale_total


def test_lag_table__instant_reproduces_issue__queued_never_gains(es, attacker, keeper, chain, capsys):
    """Issue #13's table on its basket ($1M, WBTC 30 %, 30 bps haircut, 0.2 WBTC / $12k deposits):
    the instant path reproduces the issue's gains and its closed form; the queue's gain is <= 0 in
    every cell, J up to 10 % both ways."""
    rows = []
    for n, jump in enumerate(LAG_JUMPS):
        row = [jump]
        for fell, issue in ((True, ISSUE_FELL[n]), (False, ISSUE_ROSE[n])):
            for queued in (False, True):
                snapshot = chain.snapshot()
                gain, x = _attack(es, attacker, keeper, jump, fell, queued)
                chain.restore(snapshot)
                es.prices = list(PRICES)
                closed = (_closed_form_queued if queued else _closed_form_instant)(jump, x, fell) * 10_000
                assert abs(gain - closed) < 0.5, (jump, fell, queued, gain, closed)
                if queued:
                    assert gain <= 0, (jump, fell, gain)
                else:
                    assert abs(gain - issue) <= 1, (jump, fell, gain, issue)
                row.append(gain)
        rows.append(row)
    with capsys.disabled():
        print("\n| J | instant, lagging asset fell | queued | instant, other asset (lagging rose) | queued |")
        print("| --- | ---: | ---: | ---: | ---: |")
        for jump, a, qa, b, qb in rows:
            print(f"| {jump:.2%} | {a:+.1f} | {qa:+.1f} | {b:+.1f} | {qb:+.1f} |")


# ---------------------------------------------------------------- gas


def _instant_gas(vault, entry, token, amount, owner, direct_holder, entry_holder):
    """Gas of a new holder's deposit of ``amount`` straight into the vault and through the entry."""
    for holder, spender in ((direct_holder, vault), (entry_holder, entry)):
        token.mint(holder, amount, sender=owner)
        token.approve(spender, amount, sender=holder)
    direct = vault.deposit(token, amount, 0, direct_holder, sender=direct_holder).gas_used
    routed = entry.deposit(amount, entry_holder, sender=entry_holder).gas_used
    return direct, routed


def test_gas__request_settle_claim_cancel_refund_and_instant__printed(
    es, make_stack, project, owner, alice, bob, attacker, keeper, accounts, capsys
):
    """Gas from receipts, $10k of one asset, new holders: the instant path on the bench's settable
    feed (BENCHMARKS' deposit row: USDC into a 4-asset vault) and on Chainlink's proxies, and
    the queue's steps (WBTC, Chainlink proxies)."""
    gas = {}
    mock = make_stack()
    mock.seed(alice)
    mock_queue = project.DepositQueue.deploy(mock.vault, mock.tokens[USDC], MIN_DELAY, 900, sender=owner)
    mock_entry = project.AssetEntry.deploy(mock_queue, es.lens, MAX_AGE, sender=owner)
    amount = mock.units(10_000)[USDC]
    direct, routed = _instant_gas(mock.vault, mock_entry, mock.tokens[USDC], amount, owner, bob, attacker)
    gas["vault.deposit, USDC, settable feeds (BENCHMARKS' row)"] = direct
    gas["entry.deposit, USDC, settable feeds (instant, freshness check included)"] = routed
    q, entry, token, vault = es.queues[WBTC], es.entries[WBTC], es.tokens[WBTC], es.vault
    amount = es.units(WBTC, 10_000)
    direct, routed = _instant_gas(vault, entry, token, amount, owner, accounts[6], accounts[7])
    gas["vault.deposit, WBTC, Chainlink proxies"] = direct
    gas["entry.deposit, WBTC, Chainlink proxies (instant)"] = routed
    token.mint(bob, 3 * amount, sender=owner)
    token.approve(q, 2**256 - 1, sender=bob)
    gas["queue.requestDeposit"] = q.requestDeposit(amount, bob, bob, sender=bob).gas_used
    gas["queue.cancelDepositRequest (before the delay)"] = q.cancelDepositRequest(1, bob, sender=bob).gas_used
    q.requestDeposit(amount, bob, bob, sender=bob)
    q.requestDeposit(amount, bob, bob, sender=bob)
    es.wait(MIN_DELAY)
    es.publish_all()
    rounds = es.rounds()
    gas["queue.settle"] = q.settle(2, rounds, sender=keeper).gas_used
    gas["queue.deposit (claim all, new holder)"] = q.deposit(q.maxDeposit(bob), bob, sender=bob).gas_used
    es.wait(q.SETTLE_WINDOW() + 1)
    gas["queue.refund (after the window)"] = q.refund(3, rounds, sender=keeper).gas_used
    with capsys.disabled():
        print("\n| call | gas |\n| --- | ---: |")
        for name, used in gas.items():
            print(f"| {name} | {used:,} |")
    assert all(used > 0 for used in gas.values())
