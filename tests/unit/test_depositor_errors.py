"""Every error of the depositor CLI names the problem and sends nothing (the sender's nonce stays)."""

from __future__ import annotations

import json

import pytest
from depositor_cli import ALICE, BOB, run, write_book

from ballast.chain.deploy import deploy_factory, deploy_vault
from ballast.constants import WAD


@pytest.fixture
def book(seeded, owner, tmp_path, chain):
    """A deployment record of the seeded vault, as ``ape run deploy`` writes it."""
    return write_book(seeded, owner, tmp_path, chain.chain_id)


NOWHERE = "0x00000000000000000000000000000000DeaDBeef"


def fails(book, *args):
    """Run, expect exit status 1 and return the message (click's ``Error: ...`` line)."""
    result = run(book, *args)
    assert result.exit_code == 1, result.output
    return result.output


def test_vault__no_code__names_the_address(book):
    assert f"--vault: no contract at {NOWHERE} on ethereum:local:test" in fails(book, "status", "--vault", NOWHERE)


def test_vault__recorded_but_gone__asks_whether_the_chain_runs(book):
    path = book / "local.json"
    data = json.loads(path.read_text())
    data["local"]["vault"] = NOWHERE
    path.write_text(json.dumps(data))
    assert "is its chain still running?" in fails(book, "status")


def test_vault__a_token__not_a_ballast_vault(book, seeded):
    token = seeded.tokens[0].address
    assert f"--vault: {token} is not a Ballast vault (its raw_state() call failed)" in fails(
        book, "status", "--vault", token
    )


def test_vault__not_made_by_the_recorded_factory__not_a_ballast_vault(book, seeded, owner):
    other = deploy_factory(seeded.project, owner)
    stray = deploy_vault(seeded.project, owner, seeded.spec, seeded.tokens, seeded.feeds, [seeded.venue], factory=other)
    assert "the VaultFactory at" in fails(book, "status", "--vault", stray.address)
    assert "did not create it" in fails(book, "status", "--vault", stray.address)


def test_vault__malformed_address__named_before_connecting(book):
    assert "--vault: must be an address (0x and 40 hex digits), got '0x12'" in fails(book, "status", "--vault", "0x12")


def test_lens__not_a_lens(book, seeded):
    assert "is not a VaultLens" in fails(book, "status", "--lens", seeded.vault.address)


def test_network__record_from_another_chain__wrong_network(seeded, owner, tmp_path, chain):
    book = write_book(seeded, owner, tmp_path, 31337)
    message = fails(book, "status")
    assert f"recorded on chain id 31337, but ethereum:local:test is chain id {chain.chain_id}: wrong network" in message


def test_no_record__names_the_missing_vault(tmp_path):
    assert "--vault: no vault given, and" in fails(tmp_path, "status")


def test_join__insufficient_balance__sends_nothing(book, bob):
    nonce = bob.nonce
    message = fails(book, "join", "--shares", "1000", "--yes", "--account", BOB)
    assert "holds 0.000000 T0, needs" in message and "insufficient balance" in message
    assert bob.nonce == nonce


def test_deposit__insufficient_allowance_with_no_approve__sends_nothing(book, seeded, bob):
    seeded.tokens[1].mint(bob, 10**8, sender=seeded.owner)
    nonce = bob.nonce
    message = fails(book, "deposit", "--asset", "T1", "--amount", "1", "--no-approve", "--yes", "--account", BOB)
    assert (
        "--no-approve: " in message
        and "allows the vault 0.00000000 T1, needs 1.00000000: insufficient allowance" in message
    )
    assert bob.nonce == nonce


def test_exit__more_shares_than_held__insufficient_balance(book, bob):
    assert "holds no shares of vault" in fails(book, "exit", "--yes", "--account", BOB)
    message = fails(book, "exit", "--shares", "2000000", "--yes", "--account", ALICE)
    assert "exiting 2,000,000.000000000000000000: insufficient balance" in message


def test_deposit__paused__a_sentence_and_nothing_sent(book, seeded, guardian, bob):
    seeded.vault.pause(sender=guardian)
    seeded.tokens[0].mint(bob, 10**9, sender=seeded.owner)
    nonce = bob.nonce
    message = fails(book, "deposit", "--asset", "T0", "--amount", "100", "--yes", "--account", BOB)
    assert (
        "The vault is paused: joins, deposits and rebalances are stopped (exits still work). ('vault: paused')"
        in message
    )
    assert bob.nonce == nonce


def test_exit__paused__still_works(book, seeded, guardian, alice):
    seeded.vault.pause(sender=guardian)
    result = run(book, "exit", "--shares", "10", "--yes", "--account", ALICE)
    assert result.exit_code == 0, result.output
    assert "exit: burnt 10.000000 shares" in result.output


def test_deposit__stale_oracle__a_sentence(book, seeded, bob, chain):
    seeded.feeds[2].set_round(
        seeded.feeds[2].latest_answer(), chain.pending_timestamp - 10 * 86_400, sender=seeded.owner
    )
    message = fails(book, "deposit", "--asset", "T0", "--amount", "100", "--yes", "--account", BOB)
    assert "A price feed is stale (older than its heartbeat)" in message and "('pricing: stale')" in message


def test_join__unknown_asset_and_bad_amounts__named(book):
    assert "--asset: 'DOGE' is not one of the vault's assets (T0, T1, T2, T3)" in fails(
        book, "deposit", "--asset", "DOGE", "--amount", "1", "--account", BOB
    )
    assert "--amount: must be a number with at most 6 decimals, got '0.0000001'" in fails(
        book, "deposit", "--asset", "T0", "--amount", "0.0000001", "--account", BOB
    )
    assert "--slippage-bps: must be >= 0 and <= 9999, got 10000" in fails(
        book, "exit", "--slippage-bps", "10000", "--account", ALICE
    )


def test_error__json__one_object(book):
    result = run(book, "status", "--vault", NOWHERE, "--json")
    assert result.exit_code == 1
    assert json.loads(result.output) == {"error": f"--vault: no contract at {NOWHERE} on ethereum:local:test"}


def test_exit__minimum_above_what_the_vault_sends__revert_decoded(book, seeded, bob, alice):
    """The vault's own revert, after the preview: the basket changed between preview and send."""
    from ballast.depositor import entries
    from ballast.depositor.target import resolve

    target = resolve(seeded.project, seeded.project.provider, folder=book)
    action = entries.preview_exit(target, alice.address, 10 * WAD, slippage_bps=0)
    action.args = (action.args[0], [a + 1 for a in action.receive], action.args[2])  # a minimum above the preview
    with pytest.raises(
        entries.VaultReverted, match=r"less of an asset than your minimum .*'vault: amount below minimum'"
    ):
        entries.send(target, action, alice)
