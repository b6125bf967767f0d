"""The depositor CLI (``ape run vault``) end to end on ape's local chain, through click.

Each command's success path, its JSON shape, and the confirmation: nothing is sent without it.
"""

from __future__ import annotations

import json
from decimal import Decimal

import pytest
from depositor_cli import ALICE, BOB, run, write_book

from ballast.constants import WAD


@pytest.fixture
def book(seeded, owner, tmp_path, chain):
    """A deployment record of the seeded vault, as ``ape run deploy`` writes it."""
    return write_book(seeded, owner, tmp_path, chain.chain_id)


def run_json(book, *args):
    result = run(book, *args, "--json")
    assert result.exit_code == 0, result.output
    return json.loads(result.output)


def test_status__seeded_vault__basket_weights_nav_and_trigger(book, seeded):
    text = run(book, "status")
    assert text.exit_code == 0, text.output
    assert "NAV per share $1.000000" in text.output
    assert "trigger threshold: not due: every asset is inside its band" in text.output
    data = run_json(book, "status")
    assert set(data) == {"command", "network", "chain_id", "vault", "lens", "assets", "result"}
    result = data["result"]
    assert data["command"] == "status" and data["vault"] == seeded.vault.address
    assert result["total_value"] == seeded.lens.total_value(seeded.vault)
    assert result["nav_per_share"] == result["total_value"] * WAD // seeded.vault.totalSupply()
    assert [a["weight"] for a in result["assets"]] == list(seeded.lens.current_weights(seeded.vault))
    assert [a["drift"] for a in result["assets"]] == list(seeded.lens.drifts(seeded.vault))
    assert [a["target"] for a in result["assets"]] == list(seeded.lens.target_weights(seeded.vault))
    assert result["due"] is False and result["reason"] == ""
    assert set(result["assets"][0]) == {
        "symbol",
        "address",
        "decimals",
        "balance",
        "price",
        "value",
        "weight",
        "target",
        "drift",
        "band_bps",
        "outer_band_bps",
        "effective_band_bps",
        "lent",
    }


def test_status__price_moved__due_and_names_the_asset(book, seeded):
    seeded.set_price(1, 84_000.0)
    data = run_json(book, "status")["result"]
    assert data["due"] is True and data["reason"] == "threshold"
    assert data["why"].startswith("due (threshold): T0 -4.29% past 3.00%, T1 +7.50% past 3.00%; but the cooldown")


def test_join__yes__pays_the_preview_and_mints_the_shares(book, seeded, bob):
    shares = 1_000 * WAD
    need = list(seeded.lens.preview_join(seeded.vault, shares))
    for token, amount in zip(seeded.tokens, need):
        token.mint(bob, amount * 2, sender=seeded.owner)
    before = [t.balanceOf(bob) for t in seeded.tokens]
    data = run_json(book, "join", "--shares", "1000", "--yes", "--account", BOB)
    assert data["command"] == "join"
    preview, sent = data["result"]["preview"], data["result"]["sent"]
    assert preview["pay"] == need
    assert preview["bound"] == [-(-a * 10_050 // 10_000) for a in need]  # default 50 bps
    assert [a["amount"] for a in preview["approvals"]] == preview["bound"]  # exact approvals
    assert sent["shares"] == shares == seeded.vault.balanceOf(bob)
    assert [b - t.balanceOf(bob) for b, t in zip(before, seeded.tokens)] == need == sent["amounts"]
    assert len(sent["approvals"]) == 4 and sent["gas_used"] > 0


def test_deposit__yes__mints_at_least_the_minimum(book, seeded, bob):
    amount = 1_000 * 10**6
    seeded.tokens[0].mint(bob, amount, sender=seeded.owner)
    preview_shares = seeded.lens.preview_deposit(seeded.vault, seeded.tokens[0], amount)
    result = run(
        book, "deposit", "--asset", "t0", "--amount", "1000", "--slippage-bps", "100", "--yes", "--account", BOB
    )
    assert result.exit_code == 0, result.output
    assert "approve 1,000.000000 T0 for the vault first" in result.output
    assert "deposit: minted" in result.output
    assert seeded.vault.balanceOf(bob) == preview_shares
    assert seeded.tokens[0].allowance(bob, seeded.vault) == 0  # the exact amount, spent


def test_exit__yes__receives_the_preview(book, seeded, alice):
    shares = seeded.vault.balanceOf(alice) // 4
    out = list(seeded.lens.preview_exit(seeded.vault, shares))
    before = [t.balanceOf(alice) for t in seeded.tokens]
    data = run_json(book, "exit", "--shares", str(Decimal(shares).scaleb(-18)), "--yes", "--account", ALICE)
    sent = data["result"]["sent"]
    assert sent["amounts"] == [t.balanceOf(alice) - b for b, t in zip(before, seeded.tokens)]
    assert data["result"]["preview"]["receive"] == sent["amounts"] == out and sent["shares"] == shares


def test_exit__not_confirmed__sends_nothing(book, seeded, alice):
    nonce = alice.nonce
    result = run(book, "exit", "--account", ALICE, input="n\n")
    assert result.exit_code == 0, result.output
    assert "burn" in result.output and result.output.rstrip().endswith("not sent")
    assert alice.nonce == nonce


def test_history__after_a_rebalance__fills_gas_drift_flows_and_nav(
    stack, owner, keeper, alice, attacker, chain, tmp_path
):
    start = chain.blocks.head.number  # the log scan of ape's test chain takes time per block
    stack.seed(alice)
    seeded_at = chain.blocks.head.number
    stack.move_price(1, 84_000.0, attacker)
    chain.pending_timestamp += stack.lens.cooldown(stack.vault) + 1
    plan = stack.plan()
    stack.vault.rebalance([t.as_tuple() for t in plan.trades], sender=keeper)
    book = write_book(stack, owner, tmp_path, chain.chain_id)
    data = run_json(book, "history", "--from-block", str(start))["result"]
    (rebalance,) = data["rebalances"]
    assert [(f["token_in"], f["amount_in"], f["amount_out"]) for f in rebalance["fills"]] == [
        (t.token_in, t.amount_in, t.expected_out) for t in plan.trades
    ]
    assert rebalance["gas_used"] == chain.provider.get_receipt(rebalance["tx_hash"]).gas_used
    assert rebalance["total_drift_after"] < rebalance["total_drift_before"]
    assert all(f["cost_bps"] < 150 for f in rebalance["fills"])
    assert [f["kind"] for f in data["flows"]] == ["join"]
    supply = stack.vault.totalSupply()
    assert data["nav"][0] == {
        "block": rebalance["block"],
        "timestamp": rebalance["timestamp"],
        "event": "rebalance",
        "nav_per_share": rebalance["value_after"] * WAD // supply,
        "total_supply": supply,
    }
    assert data["nav"][-1]["event"] == "now"
    text = run(book, "history", "--from-block", str(seeded_at + 1))
    assert "1 rebalances, 0 entries and exits" in text.output and "bps vs oracle" in text.output
    assert f"{data['nav'][0]['nav_per_share'] / WAD:>16,.6f}" in text.output  # the supply read at the start
