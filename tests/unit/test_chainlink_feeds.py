"""The vault priced by Chainlink's own contracts: EACAggregatorProxy over MockV3Aggregator,
deployed from the bytecode in @chainlink/contracts@0.1.9 (see ballast/chain/chainlink.py)."""

import ape
import pytest

from ballast.chain import chainlink
from ballast.chain.deploy import deploy_vault, spec_from_dict
from ballast.constants import WAD

HEARTBEAT = 3_600
USDC_ANSWER = 100_000_000  # $1.00 with 8 decimals
ETH_ANSWER = 3_000 * 10**18  # $3,000 with 18 decimals: the vault must read the feed's decimals


def _spec():
    asset = {"band_bps": 300, "outer_band_bps": 900, "heartbeat": HEARTBEAT}
    return spec_from_dict(
        {
            "name": "Chainlink Test",
            "symbol": "BCL",
            "trigger": {"type": "threshold", "interval": 86_400},
            "limits": {
                "max_slippage_bps": 150,
                "max_cost_bps": 100,
                "turnover_cap_bps": 10_000,
                "turnover_period": 86_400,
            },
            "assets": [
                {"symbol": "USDC", "decimals": 6, "target_bps": 5_000, **asset},
                {"symbol": "WETH", "decimals": 18, "target_bps": 5_000, **asset},
            ],
        }
    )


@pytest.fixture(scope="module")
def market(project, owner, keeper):
    spec = _spec()
    tokens = [project.MockERC20.deploy(a.symbol, a.symbol, a.decimals, sender=owner) for a in spec.assets]
    feeds = [chainlink.deploy_feed(owner, 8, USDC_ANSWER), chainlink.deploy_feed(owner, 18, ETH_ANSWER)]
    vault = deploy_vault(project, owner, spec, tokens, feeds, [], keeper=keeper)
    return tokens, feeds, vault


def test_price__eac_proxy_of_8_and_18_decimals__scaled_to_wad(market):
    tokens, feeds, vault = market
    assert [f.proxy.decimals() for f in feeds] == [8, 18]
    assert vault.price(tokens[0]) == USDC_ANSWER * 10**10
    assert vault.price(tokens[1]) == ETH_ANSWER


def test_price__new_round__followed(market, owner):
    tokens, feeds, vault = market
    feeds[1].set_answer(3_300 * 10**18, sender=owner)
    assert vault.price(tokens[1]) == 3_300 * WAD


def test_price__aggregator_switch__reads_new_phase_and_answer(market, owner):
    """Round ids change their phase bits at a switch; the vault must price from the new aggregator."""
    tokens, feeds, vault = market
    round_before = int(feeds[1].latestRoundData()[0])
    assert round_before >> chainlink.PHASE_OFFSET == 1
    new = chainlink.deploy_aggregator(owner, 18, 2_900 * 10**18)
    assert chainlink.switch_aggregator(feeds[1], new, owner) == 2
    round_id = int(feeds[1].latestRoundData()[0])
    assert round_id >> chainlink.PHASE_OFFSET == 2
    assert round_id & (2**chainlink.PHASE_OFFSET - 1) == 1  # the new aggregator's first round
    assert vault.price(tokens[1]) == 2_900 * WAD


def test_price__aggregator_switch_to_a_stale_aggregator__reverts_stale(chain, owner, market):
    """A switch to an aggregator whose latest round is older than the heartbeat is refused."""
    tokens, feeds, vault = market
    new = chainlink.deploy_aggregator(owner, 18, 2_900 * 10**18)
    stale_at = chain.pending_timestamp - HEARTBEAT - 1
    new.updateRoundData(7, 2_900 * 10**18, stale_at, stale_at, sender=owner)
    chainlink.switch_aggregator(feeds[1], new, owner)
    with ape.reverts("pricing: stale"):
        vault.price(tokens[1])


def test_price__no_round_within_heartbeat__reverts_stale_and_exit_still_pays(alice, chain, owner, market):
    tokens, feeds, vault = market
    amounts = [1_000 * 10**6, 10**18 // 3]
    for token, amount in zip(tokens, amounts):
        token.mint(alice, amount, sender=owner)
        token.approve(vault, amount, sender=alice)
    vault.join(0, amounts, alice, sender=alice)
    chain.pending_timestamp += HEARTBEAT + 1
    chain.mine()
    with ape.reverts("pricing: stale"):
        vault.price(tokens[0])
    shares = vault.balanceOf(alice)
    vault.exit(shares, [0, 0], alice, sender=alice)
    assert vault.balanceOf(alice) == 0
    # Everything but the first depositor's dead shares comes back, with no price read.
    for token, amount in zip(tokens, amounts):
        assert amount * 999 // 1000 <= token.balanceOf(alice) <= amount


def test_set_feed__aggregator_with_more_than_18_decimals__reverts(project, owner):
    """The vault reads the decimals from the feed at configuration and refuses what it cannot scale."""
    spec = _spec()
    tokens = [project.MockERC20.deploy(a.symbol, a.symbol, a.decimals, sender=owner) for a in spec.assets]
    feeds = [chainlink.deploy_feed(owner, 8, USDC_ANSWER), chainlink.deploy_feed(owner, 19, ETH_ANSWER * 10)]
    with ape.reverts("pricing: feed decimals"):
        deploy_vault(project, owner, spec, tokens, feeds, [])
