"""VaultLens: the whole state a keeper reads of a vault, in one call at one block, equal to the
vault's getters read one by one; and the keeper path deciding from it without asking the trigger
again."""

from types import SimpleNamespace

import ape
import pytest

from ballast import keeper as keeper_path
from ballast.chain import state as state_module
from ballast.chain.state import read_state


@pytest.fixture(scope="module")
def lens(project, owner):
    return project.VaultLens.deploy(sender=owner)


def token_at(project):
    return lambda address: project.MockERC20.at(address)


def test_snapshot__equals_the_getters_read_one_by_one(project, seeded, lens, chain):
    """Every field, with an asset off its target so weights, drifts and the trigger are not trivial."""
    seeded.move_price(1, 84_000.0, seeded.owner)
    one_call = read_state(seeded.vault, token_at(project), chain.pending_timestamp, lens=lens)
    by_getter = read_state(seeded.vault, token_at(project), chain.pending_timestamp)
    assert one_call.trigger == tuple(seeded.vault.needs_rebalance())
    assert one_call.trigger[0]  # WBTC +40% is out of its band
    one_call.trigger = None
    assert one_call == by_getter
    assert [a.symbol for a in one_call.assets] == [a.symbol for a in seeded.spec.assets]


def test_snapshot__reads_at_the_block_it_is_called_at(seeded, lens, chain):
    view = lens.snapshot(seeded.vault)
    head = chain.blocks.head
    assert (view.block_number, view.timestamp) == (head.number, head.timestamp)


def test_snapshot__not_due__says_so_with_the_vaults_reason(project, seeded, lens, chain):
    state = read_state(seeded.vault, token_at(project), chain.pending_timestamp, lens=lens)
    assert state.trigger == tuple(seeded.vault.needs_rebalance())
    assert state.trigger[0] is False


def test_snapshot__stale_price__reverts_with_the_vaults_reason(seeded, lens, chain):
    feed = seeded.feeds[1]
    feed.set_round(
        feed.latest_answer(), chain.blocks.head.timestamp - seeded.spec.assets[1].heartbeat - 1, sender=seeded.owner
    )
    with ape.reverts("pricing: stale"):
        lens.snapshot(seeded.vault)


def test_token_symbol__short_abi_string__is_read(seeded, lens):
    assert lens.token_symbol(seeded.tokens[0]) == seeded.spec.assets[0].symbol


@pytest.mark.parametrize(
    "kind", ["Bytes32SymbolToken", "LongSymbolToken", None], ids=["bytes32", "longer-than-32", "no-symbol"]
)
def test_token_symbol__not_a_short_abi_string__is_empty(project, owner, lens, kind):
    token = getattr(project, kind).deploy(sender=owner) if kind else lens  # the lens has no symbol()
    assert lens.token_symbol(token) == ""


def test_read_state__empty_lens_symbol__asks_the_token():
    asset = SimpleNamespace(
        asset="0x" + "11" * 20,
        symbol="",
        decimals=18,
        balance=5,
        price=7,
        target=1,
        band_bps=2,
        outer_band_bps=3,
        variance=0,
    )
    scalars = dict.fromkeys(state_module._SCALARS, 0)
    view = SimpleNamespace(assets=[asset], total_supply=1, due=False, reason="", **scalars)
    lens = SimpleNamespace(snapshot=lambda vault: view)
    vault = SimpleNamespace(address="0x" + "22" * 20)
    state = read_state(vault, lambda address: SimpleNamespace(symbol=lambda: "MKR"), 0, lens=lens)
    assert state.assets[0].symbol == "MKR"


def test_keeper_decide__lens_state__does_not_ask_the_trigger_again(project, seeded, lens, chain, monkeypatch):
    seeded.move_price(1, 84_000.0, seeded.owner)
    chain.pending_timestamp += seeded.vault.cooldown() + 1
    state, market = keeper_path.read(
        seeded.vault, [seeded.venue], seeded.tokens, token_at(project), chain.pending_timestamp, lens=lens
    )
    asked = []
    vault = SimpleNamespace(needs_rebalance=lambda: asked.append(1) or (False, ""))
    decision = keeper_path.decide(vault, state, market)
    assert not asked
    assert decision.actionable and decision.reason == state.trigger[1]


def test_max_assets__lens_answers_it(lens):
    from ballast.constants import MAX_ASSETS

    assert lens.max_assets() == MAX_ASSETS
