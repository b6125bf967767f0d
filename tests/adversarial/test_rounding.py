"""Rounding attacks: many tiny joins, exits and deposits.

Every conversion rounds in the vault's favour (amounts in up, amounts and shares out
down), so repeating the smallest possible operations must never move value from the
other holders to the attacker. Alice's claim (preview_exit of all her shares, valued at
the oracle) and the exact value per share must not fall; the attacker must not gain.
"""

import random

from ballast.constants import WAD

ROUNDS = 30


def _snapshot(stack, alice, attacker, h):
    return h.claim_value(stack, alice), h.value_per_share(stack), h.wallet_value(stack, attacker)


def _assert_no_leak(stack, alice, attacker, h, before):
    claim, per_share, wallet = before
    assert h.claim_value(stack, alice) >= claim
    assert h.value_per_share(stack) >= per_share
    assert h.wallet_value(stack, attacker) + h.claim_value(stack, attacker) <= wallet


def test_join_exit__thirty_one_share_round_trips__others_value_not_reduced(lens, seeded_once, alice, attacker, h):
    stack, vault = seeded_once, seeded_once.vault
    n = len(stack.tokens)
    stack.fund(attacker, [ROUNDS] * n)
    # One share costs one base unit of every asset (rounded up) and redeems for nothing.
    assert list(lens.preview_join(vault, 1)) == [1] * n
    assert list(lens.preview_exit(vault, 1)) == [0] * n
    before = _snapshot(stack, alice, attacker, h)
    for _ in range(ROUNDS):
        vault.join(1, [1] * n, attacker, sender=attacker)
        vault.exit(1, [0] * n, attacker, sender=attacker)
    _assert_no_leak(stack, alice, attacker, h, before)
    assert vault.balanceOf(attacker) == 0


def test_join_exit__odd_sized_round_trips__others_value_not_reduced(lens, seeded_once, alice, attacker, h):
    """Share counts spread over many magnitudes, so that every asset's rounding is exercised."""
    stack, vault = seeded_once, seeded_once.vault
    rng = random.Random(20_240_601)
    sizes = [rng.randrange(1, 10**exp) for exp in range(2, 22, 2)]  # 10 sizes, up to ~1e21 shares
    stack.fund(attacker, [sum(x) + 1 for x in zip(*(lens.preview_join(vault, s) for s in sizes))])
    before = _snapshot(stack, alice, attacker, h)
    for shares in sizes:
        vault.join(shares, list(lens.preview_join(vault, shares)), attacker, sender=attacker)
        vault.exit(shares, [0] * len(stack.tokens), attacker, sender=attacker)
    _assert_no_leak(stack, alice, attacker, h, before)


def test_deposit__minimal_deposits_of_every_asset__others_value_not_reduced(seeded_once, alice, attacker, h):
    """One base unit of each asset, three times over, then out in one exit."""
    stack, vault = seeded_once, seeded_once.vault
    n = len(stack.tokens)
    repeats = 3
    stack.fund(attacker, [repeats] * n)
    before = _snapshot(stack, alice, attacker, h)
    for _ in range(repeats):
        for token in stack.tokens:
            minted = vault.balanceOf(attacker)
            vault.deposit(token, 1, 0, attacker, sender=attacker)
            assert vault.balanceOf(attacker) > minted  # a real deposit, not a revert-free no-op
    _assert_no_leak(stack, alice, attacker, h, before)
    vault.exit(vault.balanceOf(attacker), [0] * n, attacker, sender=attacker)
    _assert_no_leak(stack, alice, attacker, h, before)


def test_exit__many_tiny_exits_after_join__others_value_not_reduced(lens, seeded_once, alice, attacker, h):
    stack, vault = seeded_once, seeded_once.vault
    shares = vault.totalSupply() // 10_000
    amounts = list(lens.preview_join(vault, shares))
    stack.fund(attacker, amounts)
    before = _snapshot(stack, alice, attacker, h)
    vault.join(shares, amounts, attacker, sender=attacker)
    pieces = ROUNDS // 2
    chunk = shares // pieces
    for _ in range(pieces - 1):
        vault.exit(chunk, [0] * len(stack.tokens), attacker, sender=attacker)
    vault.exit(vault.balanceOf(attacker), [0] * len(stack.tokens), attacker, sender=attacker)
    _assert_no_leak(stack, alice, attacker, h, before)


def test_deposit_exit__dust_deposit_into_nearly_empty_vault__others_value_not_reduced(
    lens, seeded_once, alice, bob, attacker, h
):
    """After alice leaves (only bob's small stake and the dead shares remain) each share is
    worth far more base units' rounding: dust deposits and one-share exits still leak nothing."""
    stack, vault = seeded_once, seeded_once.vault
    n = len(stack.tokens)
    bob_shares = vault.totalSupply() // 10_000_000
    amounts = list(lens.preview_join(vault, bob_shares))
    stack.fund(bob, amounts)
    vault.join(bob_shares, amounts, bob, sender=bob)
    vault.exit(vault.balanceOf(alice), [0] * n, alice, sender=alice)
    assert lens.total_value(vault) < WAD  # about ten cents left
    stack.fund(attacker, [10] * n)
    before = _snapshot(stack, bob, attacker, h)
    for token in stack.tokens:
        vault.deposit(token, 1, 0, attacker, sender=attacker)
    for _ in range(5):
        vault.exit(1, [0] * n, attacker, sender=attacker)
    vault.exit(vault.balanceOf(attacker), [0] * n, attacker, sender=attacker)
    _assert_no_leak(stack, bob, attacker, h, before)
