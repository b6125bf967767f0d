"""Ballast on Ethereum mainnet's own contracts, on a fork (``ethereum:mainnet-fork:foundry``).

A vault is deployed from ``specs/mainnet.yaml`` (USDC, WETH, WBTC and LINK, their Chainlink USD
feeds, Ballast's adapters over the Uniswap V3 and V2 factories) through the checks and the deploy
path of ``ape run deploy``. Accounts are funded by impersonated whales; Alice joins in kind, Bob
deposits USDC, which pushes USDC past its outer band; the keeper path (read, decide, send,
decode) rebalances on the real pools, and both exit.

It needs an upstream mainnet RPC: ``BALLAST_MAINNET_RPC`` (its URL), and optionally
``BALLAST_FORK_BLOCK`` (a block to fork at, Cancun or later: the adapters use transient storage;
an archive node then). Without the RPC the whole module is skipped, with one line saying why. The
module selects the fork itself, in a fixture, so ``ape test tests`` (ape's local network) starts
no fork and connects to nothing. ``test_fork_plumbing_local.py`` runs the same fixtures against a
fork of a local anvil, offline.

A fork cannot move Chainlink, so the drift comes from the deposit, and time is frozen: each
block is one second after the last (anvil's block timestamp interval), so the feeds with a
3600 s heartbeat stay as fresh as they were at the fork block. The test vault has no cooldown
(``existing_market.without_cooldown``): the first rebalance would otherwise wait an hour.
"""

from __future__ import annotations

import os

import pytest

RPC_VARIABLE = "BALLAST_MAINNET_RPC"
BLOCK_VARIABLE = "BALLAST_FORK_BLOCK"
RPC = os.environ.get(RPC_VARIABLE, "").strip()
if not RPC:
    pytest.skip(
        f"{RPC_VARIABLE} is not set: the mainnet-fork suite forks Ethereum mainnet from that RPC URL "
        "(README, Mainnet fork)",
        allow_module_level=True,
    )

from existing_market import MAINNET, deploy_existing, fork_of, run_lending, run_lifecycle, whale_funder  # noqa: E402

from ballast import keeper as keeper_path  # noqa: E402
from ballast.checks import require_int  # noqa: E402
from ballast.constants import WAD  # noqa: E402

CANCUN_BLOCK = 19_426_587  # the first mainnet block with transient storage (EIP-1153)
# Aave V3's aTokens hold every deposited unit of their underlying that is not lent out: large,
# long-lived balances, and sending some of them away changes nothing this test trades on.
WHALES = {
    "USDC": "0x98C23E9d8f34FEFb1B7BD6a91B7FF122F4e16F5c",  # aEthUSDC
    "WETH": "0x4d5F47FA6A74757f35C14fD3a6Ef8E3C9BC514E8",  # aEthWETH
    "WBTC": "0x5Ee5bf7ae06D1Be5997A1A72006FE6C607eC6DE8",  # aEthWBTC
    "LINK": "0x5E8C8A7243651DB1384C0dDfDbE39761E8e7E51a",  # aEthLINK
}
# A real ERC-4626 lending vault on mainnet for the lending leg: Steakhouse USDC, a MetaMorpho
# vault allocating USDC across Morpho Blue markets (its asset() is checked before anything is sent).
STEAKHOUSE_USDC = "0xBEEF01735c132Ada46AA9aA4c54623cAA92A64CB"
# Chain seconds the suite spends after the fork block (one per block mined, with room to spare);
# every feed's latest round must stay within its heartbeat that long.
CHAIN_SECONDS = 120


@pytest.fixture(scope="module")
def fork(networks):
    """Connected to ``ethereum:mainnet-fork:foundry`` over ``BALLAST_MAINNET_RPC`` (at
    ``BALLAST_FORK_BLOCK`` if set) for the module, time frozen (:func:`existing_market.fork_of`)."""
    block = os.environ.get(BLOCK_VARIABLE, "").strip()
    block = require_int(block, BLOCK_VARIABLE, low=CANCUN_BLOCK) if block else None
    with fork_of(networks, RPC, block) as provider:
        yield provider


@pytest.fixture(scope="module")
def deployed(fork, project, accounts, chain):
    """The vault of specs/mainnet.yaml (checked against the fork, then deployed), once every feed
    is found to stay fresh for the suite."""
    spec, deployment = deploy_existing(project, fork, MAINNET, accounts[0], accounts[1])
    now = chain.pending_timestamp
    for asset in spec.assets:
        age = now - int(project.MockPriceFeed.at(asset.feed).latestRoundData()[3])
        if age + CHAIN_SECONDS > asset.heartbeat:
            pytest.fail(
                f"{asset.symbol}'s feed {asset.feed}: its latest round is {age} s old at block {chain.blocks.height} "
                f"and this suite needs {CHAIN_SECONDS} s of chain time within its {asset.heartbeat} s heartbeat "
                f"(a fork cannot refresh it): fork a later block ({BLOCK_VARIABLE})"
            )
    return spec, deployment


def test_mainnet_fork__deploy_join_deposit_rebalance_on_real_pools_exit(deployed, project, accounts, chain):
    spec, deployment = deployed
    tokens = [project.MockERC20.at(a.address) for a in spec.assets]
    actors = {"alice": accounts[3], "bob": accounts[4], "keeper": accounts[1]}
    fund = whale_funder(accounts, tokens, [WHALES[a.symbol] for a in spec.assets])
    result = run_lifecycle(deployment, spec, tokens, project.MockERC20.at, fund, actors, chain)
    print(keeper_path.format_decision(result.decision))
    print(keeper_path.format_realised(result.realised, result.decision))
    # Every fill is within the vault's slippage bound of the oracles (the vault checks it too)
    # and traded on the real pools through the spec's adapters.
    venues = {str(v.address) for v in deployment.venues}
    for fill in result.realised.fills:
        assert fill.venue in venues
        assert fill.cost_bps <= spec.max_slippage_bps
    assert result.realised.value_traded > 100_000 * WAD


def test_mainnet_fork__lend_usdc_into_a_metamorpho_vault__deposit_and_exits(deployed, fork, project, accounts, chain):
    """A second vault of the same spec lends half of its idle USDC into Steakhouse USDC (a real
    MetaMorpho ERC-4626 vault): the lent value equals what was lent, a deposit is priced with it,
    and both holders' exits take their part of the lent USDC, redeemed or in market shares."""
    owner, keeper = accounts[0], accounts[1]
    spec, deployment = deploy_existing(project, fork, MAINNET, owner, keeper)
    tokens = [project.MockERC20.at(a.address) for a in spec.assets]
    # Any ERC-4626 ABI serves (asset, previewRedeem, balanceOf): the failure-injection double's,
    # whose standard functions are snekmate's erc4626.
    market = project.HostileMarket.at(STEAKHOUSE_USDC)
    fund = whale_funder(accounts, tokens, [WHALES[a.symbol] for a in spec.assets])
    actors = {"alice": accounts[5], "bob": accounts[6], "keeper": keeper}
    life = run_lending(project, deployment, spec, tokens, market, fund, actors, owner)
    print(
        f"lent {life.lent / 1e6:,.2f} USDC into Steakhouse USDC; exits: "
        + ", ".join(
            f"{e.shares} shares {'in kind' if e.in_kind else f'redeemed for {e.assets / 1e6:,.2f} USDC'}"
            for e in life.paid
        )
    )
