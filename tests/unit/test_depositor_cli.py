"""The depositor CLI (``ape run vault``) end to end on ape's local chain, through click.

Each command's success path, its JSON shape, and the confirmation: nothing is sent without it.
An exit from a lending vault shows, and reports, the part its lending sleeve pays.
"""

from __future__ import annotations

import json
from decimal import Decimal

import pytest
from depositor_cli import ALICE, BOB, run, write_book
from lending_stack import LENT_ASSETS, NO_LIQUIDITY, REVERT_TRANSFER, USDC, WETH

from ballast.constants import WAD

RATE_SHARES = 10**18  # the sleeve's rate is assets per 10**18 market shares


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
    assert data["result"]["preview"]["lent"] == sent["lent"] == []  # no sleeve: no lent part


def test_exit__not_confirmed__sends_nothing(book, seeded, alice):
    nonce = alice.nonce
    result = run(book, "exit", "--account", ALICE, input="n\n")
    assert result.exit_code == 0, result.output
    assert "burn" in result.output and result.output.rstrip().endswith("not sent")
    assert "lending" not in result.output  # no sleeve: the preview is the idle part alone
    assert alice.nonce == nonce


def shares_text(shares: int) -> str:
    return str(Decimal(shares).scaleb(-18))


def test_exit__lending_vault__previews_and_receives_the_redeemed_lent_part(book, lent, lens, alice):
    vault, sleeve, tokens = lent.vault, lent.sleeve, lent.tokens
    decimals = [a.decimals for a in lent.stack.spec.assets]
    shares = vault.balanceOf(alice) // 4
    taken = [int(x) for x in lens.preview_exit_lent(vault, shares)]
    # Per lent asset: the market shares the exit takes and their value at the market's own rate.
    previewed = {i: (taken[i], taken[i] * sleeve.reported_rate(tokens[i]) // RATE_SHARES) for i in LENT_ASSETS}
    assert all(market_shares and assets for market_shares, assets in previewed.values())

    shown = run(book, "exit", "--shares", shares_text(shares), "--account", ALICE, input="n\n")
    assert shown.exit_code == 0, shown.output
    assert "the minimums above bound only the idle part" in shown.output
    for i, (market_shares, assets) in previewed.items():
        amount = f"{assets / 10 ** decimals[i]:,.{min(decimals[i], 8)}f}"
        assert f"  {'T' + str(i):<8} {amount:>20}   {market_shares:,} market shares\n" in shown.output
    assert "redeemed into the asset when its market can pay, else delivered as the market's shares" in shown.output

    before = [t.balanceOf(alice) for t in tokens]
    data = run_json(book, "exit", "--shares", shares_text(shares), "--yes", "--account", ALICE)
    preview, sent = data["result"]["preview"], data["result"]["sent"]
    assert {p["index"]: (p["shares"], p["assets"]) for p in preview["lent"]} == previewed
    assert [(p["index"], p["shares"], p["in_kind"], p["owed"]) for p in sent["lent"]] == [
        (i, previewed[i][0], False, 0) for i in LENT_ASSETS
    ]
    redeemed = {p["index"]: p["assets"] for p in sent["lent"]}
    # Redeeming at the market's exact price pays the preview, give or take its rounding.
    assert all(0 <= redeemed[i] - previewed[i][1] <= 1 for i in LENT_ASSETS)
    received = [t.balanceOf(alice) - b for b, t in zip(before, tokens)]
    assert received == [idle + redeemed.get(i, 0) for i, idle in enumerate(sent["amounts"])]
    assert preview["receive"] == sent["amounts"]  # the idle part, as without a sleeve


def test_exit__lending_market_cannot_pay__reports_the_shares_in_kind_then_owed(book, lent, owner, alice):
    vault, sleeve, markets = lent.vault, lent.sleeve, lent.markets
    shares = vault.balanceOf(alice) // 4
    # USDC's market at 100 % utilisation: its shares are delivered in kind.
    markets[USDC].set_mode(NO_LIQUIDITY, sender=owner)
    held = markets[USDC].balanceOf(alice)
    sent = run_json(book, "exit", "--shares", shares_text(shares), "--yes", "--account", ALICE)["result"]["sent"]
    usdc, weth = sent["lent"]
    assert (usdc["index"], usdc["in_kind"], usdc["assets"], usdc["owed"]) == (USDC, True, 0, 0)
    assert markets[USDC].balanceOf(alice) - held == usdc["shares"] > 0
    assert (weth["index"], weth["in_kind"]) == (WETH, False) and weth["assets"] > 0

    # WETH's market also refuses transfers: its shares are owed, for a later claim.
    markets[WETH].set_mode(NO_LIQUIDITY | REVERT_TRANSFER, sender=owner)
    result = run(book, "exit", "--shares", shares_text(shares), "--yes", "--account", ALICE)
    assert result.exit_code == 0, result.output
    line = result.output.strip().splitlines()[-1]
    owed = sleeve.owed(alice, markets[WETH])
    in_kind = markets[USDC].balanceOf(alice) - held - usdc["shares"]
    assert owed > 0 and in_kind > 0
    assert line.startswith("exit: burnt ") and "; from lending: " in line
    assert f"{in_kind:,} market shares of T0 in kind" in line
    assert f"{owed:,} market shares of T2 owed: claim them from the sleeve (market {markets[WETH].address})" in line


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
