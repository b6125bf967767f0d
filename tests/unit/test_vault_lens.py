"""VaultLens: every derived view and preview of a vault, computed from its locked raw state with
the vault's own rules; the whole state a keeper reads in one call at one block, equal to the
lens's views read one by one and to Python's arithmetic over the raw state; and the keeper path
deciding from it without asking the trigger again."""

from types import SimpleNamespace

import ape
import pytest

from ballast import keeper as keeper_path
from ballast.chain import state as state_module
from ballast.chain.state import read_state


def token_at(project):
    return lambda address: project.MockERC20.at(address)


def test_snapshot__equals_the_views_read_one_by_one_and_the_raw_state(project, seeded, lens, chain):
    """Every field, with an asset off its target so weights, drifts and the trigger are not trivial."""
    seeded.move_price(1, 84_000.0, seeded.owner)
    vault = seeded.vault
    state = read_state(vault, token_at(project), chain.pending_timestamp, None, lens)
    assert state.trigger == tuple(lens.needs_rebalance(vault))
    assert state.trigger[0]  # WBTC +40% is out of its band
    for name in state_module._SCALARS:
        assert getattr(state, name) == getattr(lens, name)(vault), name
    assert [a.target for a in state.assets] == list(lens.target_weights(vault))
    # The lens's rules against Python's arithmetic over the same balances and prices.
    assert state.weights == list(lens.current_weights(vault))
    assert state.drifts == list(lens.drifts(vault)) and state.max_drift == lens.max_drift(vault)
    assert state.total_value == lens.total_value(vault)
    raw = vault.raw_state()
    assert state.total_supply == raw.total_supply == vault.totalSupply()
    for asset, a in zip(state.assets, raw.assets):
        assert (asset.address, asset.balance, asset.price) == (a.asset, vault.balances(a.asset), vault.price(a.asset))
        assert (asset.target, asset.band_bps, asset.outer_band_bps) != (0, 0, 0)
        assert tuple(lens.asset_config(vault, a.asset))[1:] == (asset.band_bps, asset.outer_band_bps)
        assert asset.variance == lens.variance(vault, a.asset)
    assert [a.symbol for a in state.assets] == [a.symbol for a in seeded.spec.assets]


@pytest.mark.parametrize("view", ["asset_config", "vol_scale_bps", "observed_price", "variance", "preview_deposit"])
def test_asset_view__not_a_basket_asset__reverts(seeded, lens, bob, view):
    args = (seeded.vault, bob, 1) if view == "preview_deposit" else (seeded.vault, bob)
    with ape.reverts("lens: unknown asset"):
        getattr(lens, view)(*args)


def test_vol_scale_and_observed_price__after_observations__decode_the_vaults_words(seeded, lens, keeper, chain):
    vault = seeded.vault
    vault.observe(sender=keeper)
    price = vault.price(seeded.tokens[1])
    assert lens.observed_price(vault, seeded.tokens[1]) == price
    assert lens.last_observation(vault) == chain.blocks.head.timestamp
    # At the reference variance (the estimate's start) the band multiplier is 1.
    assert lens.variance(vault, seeded.tokens[1]) == seeded.spec.vol_reference**2 // 10**18
    assert lens.vol_scale_bps(vault, seeded.tokens[1]) == 10_000


def test_snapshot__reads_at_the_block_it_is_called_at(seeded, lens, chain):
    view = lens.snapshot(seeded.vault)
    head = chain.blocks.head
    assert (view.block_number, view.timestamp) == (head.number, head.timestamp)


def test_snapshot__not_due__says_so_with_the_vaults_reason(project, seeded, lens, chain):
    state = read_state(seeded.vault, token_at(project), chain.pending_timestamp, None, lens)
    assert state.trigger == tuple(lens.needs_rebalance(seeded.vault))
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
    view = SimpleNamespace(assets=[asset], total_supply=1, due=False, reason="", block_number=9, **scalars)
    lens = SimpleNamespace(snapshot=lambda vault: view)
    vault = SimpleNamespace(address="0x" + "22" * 20)
    state = read_state(vault, lambda address: SimpleNamespace(symbol=lambda: "MKR"), 0, None, lens)
    assert state.assets[0].symbol == "MKR" and state.block == 9


def test_keeper_decide__follows_the_trigger_read_with_the_state(project, seeded, lens, chain):
    seeded.move_price(1, 84_000.0, seeded.owner)
    chain.pending_timestamp += lens.cooldown(seeded.vault) + 1
    state, market = keeper_path.read(
        seeded.vault, [seeded.venue], seeded.tokens, token_at(project), chain.pending_timestamp, lens=lens
    )
    decision = keeper_path.decide(seeded.vault, state, market)
    assert decision.actionable and decision.reason == state.trigger[1]
    # The decision follows the answer read with the state: told "not due", it plans nothing.
    assert not keeper_path.decide(seeded.vault, state, market, trigger=(False, "")).actionable


def test_max_assets__lens_answers_it(lens):
    from ballast.constants import MAX_ASSETS

    assert lens.max_assets() == MAX_ASSETS
