"""Ballast over existing markets: a vault deployed from a spec that names tokens, feeds and
factories which are already on the chain, then joined, deposited into, rebalanced by the keeper
path and exited.

Two suites share this module (a sibling of theirs, on pytest's path as they are):
``test_mainnet_fork.py`` runs on
``ethereum:mainnet-fork:foundry`` over ``specs/mainnet.yaml`` (when ``BALLAST_MAINNET_RPC`` names
an upstream RPC), ``test_existing_market_local.py`` on ape's local chain over a market deployed
beforehand from the npm artifacts. Both deploy through :func:`deploy_existing` (the checks and
the deploy path of ``ape run deploy``) and run :func:`run_lifecycle`; neither deploys a mock
token or a pool after its spec is written.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

from ballast import keeper as keeper_path
from ballast.chain.deploy import Deployment, check_existing_contracts, check_network, deploy_from_spec, load_spec
from ballast.constants import DEAD_SHARES, MAX_BPS, WAD
from ballast.spec import PortfolioSpec


def without_cooldown(spec: PortfolioSpec) -> PortfolioSpec:
    """``spec`` with no rebalance cooldown.

    The vault's cooldown runs from its deployment, so its first rebalance waits ``cooldown``
    seconds (3600 in the specs). On a fork nothing refreshes Chainlink's rounds, and an hour of
    chain time makes the 3600 s feeds stale, so the suites deploy without it: no time passes
    between deployment and rebalance.
    """
    return dataclasses.replace(spec, cooldown=0)


@dataclass
class Lifecycle:
    """What :func:`run_lifecycle` saw, for the suites to print or check further."""

    decision: keeper_path.Decision
    realised: keeper_path.Realised
    received: dict  # account name -> amounts received on exit, in asset order


def usd_units(vault, token, usd: int) -> int:
    """Base units of ``token`` worth ``usd`` dollars at the vault's own (oracle) price."""
    return usd * WAD * 10 ** int(token.decimals()) // int(vault.price(token))


def run_lifecycle(
    deployment: Deployment,
    spec: PortfolioSpec,
    tokens: list,
    token_at,
    fund,
    actors: dict,
    chain,
    seed_usd: int = 1_000_000,
    deposit_usd: int = 600_000,
) -> Lifecycle:
    """Alice joins ``seed_usd`` in kind at the targets, Bob deposits ``deposit_usd`` of the first
    asset (which pushes it past its outer band), the keeper path reads, decides, sends and
    decodes a rebalance on the deployment's venues, and both exit everything.

    ``tokens`` are ERC-20 instances in asset order; ``token_at`` maps an address to one (for the
    keeper's state read); ``fund(account, i, amount)`` gives ``account`` ``amount`` of asset
    ``i`` (minted locally, sent by a whale on the fork); ``actors`` has ``alice``, ``bob`` and
    ``keeper`` (who holds the keeper role); the deployment's venues are adapter instances.
    Asserts each step's outcome.
    """
    vault, alice, bob, keeper = deployment.vault, actors["alice"], actors["bob"], actors["keeper"]
    seed = [usd_units(vault, t, seed_usd * a.target_bps // MAX_BPS) for t, a in zip(tokens, spec.assets)]
    for i, (token, amount) in enumerate(zip(tokens, seed)):
        fund(alice, i, amount)
        token.approve(vault, amount, sender=alice)
    vault.join(0, seed, alice, sender=alice)
    assert vault.totalSupply() - vault.balanceOf(alice) == DEAD_SHARES
    assert [int(vault.balances(t)) for t in tokens] == seed  # the first join takes exactly what is offered

    amount = usd_units(vault, tokens[0], deposit_usd)
    fund(bob, 0, amount)
    tokens[0].approve(vault, amount, sender=bob)
    expected_shares = int(vault.preview_deposit(tokens[0], amount))
    vault.deposit(tokens[0], amount, expected_shares, bob, sender=bob)
    assert vault.balanceOf(bob) == expected_shares > 0
    assert tuple(vault.needs_rebalance()) == (True, "outer band"), "the single-asset deposit should trip the band"

    venues = deployment.venues
    state, market = keeper_path.read(vault, venues, tokens, token_at, chain.pending_timestamp)
    decision = keeper_path.decide(vault, state, market)
    assert decision.actionable, decision.reason
    receipt = keeper_path.send(vault, decision, keeper)
    realised = keeper_path.decode(vault, receipt, decision)
    # Nothing trades between the read and the send, and the snapshots swap as the pools do.
    assert [(f.amount_in, f.amount_out) for f in realised.fills] == [
        (t.amount_in, t.expected_out) for t in decision.plan.trades
    ]
    assert realised.total_drift_after < realised.total_drift_before
    assert realised.cost * MAX_BPS <= realised.value_before * spec.max_cost_bps
    weights = [int(w) for w in vault.current_weights()]
    for asset, weight in zip(spec.assets, weights):
        assert abs(weight - asset.target_bps * WAD // MAX_BPS) <= asset.band_bps * WAD // MAX_BPS, (asset, weight)
    assert all(int(t.balanceOf(v)) == 0 for t in tokens for v in venues)  # adapters keep nothing

    received = {}
    for name, holder in (("alice", alice), ("bob", bob)):
        shares = int(vault.balanceOf(holder))
        before = [int(t.balanceOf(holder)) for t in tokens]
        expected = [int(x) for x in vault.preview_exit(shares)]
        vault.exit(shares, [0] * len(tokens), holder, sender=holder)
        received[name] = [int(t.balanceOf(holder)) - b for t, b in zip(tokens, before)]
        assert received[name] == expected and vault.balanceOf(holder) == 0
    assert vault.totalSupply() == DEAD_SHARES
    return Lifecycle(decision, realised, received)


def deploy_existing(project, provider, path, deployer, keeper) -> tuple[PortfolioSpec, Deployment]:
    """The spec at ``path`` (without cooldown, :func:`without_cooldown`), checked against the
    connected chain and deployed as ``ape run deploy`` does it."""
    spec = without_cooldown(load_spec(path))
    check_network(spec, str(path), provider.network_choice, provider.network.is_local)
    check_existing_contracts(spec, str(path), project, provider)
    return spec, deploy_from_spec(project, deployer, spec, keeper=keeper)
