"""Balancer V2 on a local chain: the Vault, Authorizer, protocol-fee provider and weighted pools of
``@balancer-labs/v2-deployments@3.2.0`` (their deployed bytecode), and Ballast's adapter over one pool
(``contracts/venues/BalancerV2Venue.vy``).

Typical use::

    vault, factory = deploy_vault(owner)
    pool, pool_id = create_weighted_pool(factory, tokens, [40, 30, 20, 10], swap_fee=3 * 10**15, owner=owner)
    join_init(vault, pool_id, tokens, amounts, owner)
    venue = deploy_venue(project, vault, pool_id, owner)
    snap = snapshot(venue)  # a ballast.venues.balancer_math.WeightedPool
"""

from __future__ import annotations

import json

from eth_abi import encode

from ballast.chain import artifacts
from ballast.venues.balancer_math import ONE, WeightedPool

PACKAGE = "@balancer-labs/v2-deployments"
TASKS = {
    "Vault": "20210418-vault",
    "BalancerHelpers": "20210418-vault",
    "Authorizer": "20210418-authorizer",
    "ProtocolFeePercentagesProvider": "20220725-protocol-fee-percentages-provider",
    "WeightedPoolFactory": "20230206-weighted-pool-v3",
    "WeightedPool": "20230206-weighted-pool-v3",
}
# The Vault's mainnet pause window and buffer period (their maxima: 90 and 30 days).
PAUSE_WINDOW = 90 * 86_400
BUFFER_PERIOD = 30 * 86_400
# The fee provider's caps on yield and AUM protocol fees (mainnet: 50% each).
MAX_YIELD_FEE = ONE // 2
MAX_AUM_FEE = ONE // 2
# IVault.SwapKind.GIVEN_IN; WeightedPoolUserData's JoinKind and ExitKind.
GIVEN_IN = 0
JOIN_KIND_INIT = 0
JOIN_KIND_EXACT_TOKENS_IN = 1  # EXACT_TOKENS_IN_FOR_BPT_OUT: any amounts in, at least min BPT out
JOIN_KIND_ALL_TOKENS_IN = 3  # ALL_TOKENS_IN_FOR_EXACT_BPT_OUT: proportional
EXIT_KIND_EXACT_BPT_IN = 1  # EXACT_BPT_IN_FOR_TOKENS_OUT: proportional
ZERO_ADDRESS = "0x" + "00" * 20


def container(name: str):
    """An ape contract container for one of :data:`TASKS`' contracts."""
    return artifacts.container(PACKAGE, f"dist/tasks/{TASKS[name]}/artifact/{name}.json")


def weth_container():
    """WETH9 from ``@uniswap/v2-periphery`` (the Vault wants a WETH address at construction)."""
    return artifacts.container("@uniswap/v2-periphery", "build/WETH9.json")


def deploy_vault(sender):
    """A fresh Authorizer (``sender`` is its admin), WETH9, Vault, fee provider and weighted-pool factory.

    Returns ``(vault, factory)``; the Vault's authorizer and WETH are reachable from it
    (``getAuthorizer()``, ``WETH()``).
    """
    authorizer = container("Authorizer").deploy(sender.address, sender=sender)
    weth = weth_container().deploy(sender=sender)
    vault = container("Vault").deploy(authorizer.address, weth.address, PAUSE_WINDOW, BUFFER_PERIOD, sender=sender)
    provider = container("ProtocolFeePercentagesProvider").deploy(
        vault.address, MAX_YIELD_FEE, MAX_AUM_FEE, sender=sender
    )
    factory = container("WeightedPoolFactory").deploy(
        vault.address,
        provider.address,
        json.dumps({"name": "WeightedPoolFactory", "version": 3, "deployment": "20230206-weighted-pool-v3"}),
        json.dumps({"name": "WeightedPool", "version": 3, "deployment": "20230206-weighted-pool-v3"}),
        sender=sender,
    )
    return vault, factory


def normalize_weights(weights) -> list[int]:
    """Weights in any unit as WAD fractions summing to exactly 1e18 (the remainder goes to the first)."""
    total = sum(weights)
    wads = [w * ONE // total for w in weights]
    wads[0] += ONE - sum(wads)
    return wads


def create_weighted_pool(factory, tokens, weights, swap_fee: int, owner, name="Ballast Weighted", symbol="B-W"):
    """A weighted pool of ``tokens`` at ``weights`` (any unit, normalized here) and ``swap_fee`` (WAD).

    Balancer wants the tokens sorted by address; they are sorted here with their weights.
    Returns ``(pool, pool_id)``.
    """
    pairs = sorted(zip((str(t.address if hasattr(t, "address") else t) for t in tokens), weights), key=_key)
    sorted_tokens = [t for t, _ in pairs]
    wads = normalize_weights([w for _, w in pairs])
    tx = factory.create(
        name, symbol, sorted_tokens, wads, [ZERO_ADDRESS] * len(sorted_tokens), swap_fee, owner.address, sender=owner
    )
    pool_address = tx.events.filter(factory.PoolCreated)[0].pool
    pool = container("WeightedPool").at(pool_address)
    return pool, pool.getPoolId()


def join_init(vault, pool_id, tokens, amounts, provider, recipient=None):
    """The pool's first join (``JoinKind.INIT``): ``provider`` deposits ``amounts`` of ``tokens``.

    ``tokens`` and ``amounts`` may be in any order; they are matched to the Vault's order.
    ``provider`` must hold the amounts; it approves the Vault for them here. Returns the receipt.
    """
    by_token = {str(getattr(t, "address", t)).lower(): (t, a) for t, a in zip(tokens, amounts)}
    pool_tokens, _, _ = vault.getPoolTokens(pool_id)
    ordered = [by_token[str(t).lower()] for t in pool_tokens]
    for token, amount in ordered:
        token.approve(vault.address, amount, sender=provider)
    ordered_amounts = [a for _, a in ordered]
    user_data = encode(["uint256", "uint256[]"], [JOIN_KIND_INIT, ordered_amounts])
    recipient = recipient or provider
    request = (list(pool_tokens), ordered_amounts, user_data, False)
    return vault.joinPool(pool_id, provider.address, recipient.address, request, sender=provider)


def join_proportional(vault, pool_id, bpt_out: int, max_amounts_in: list[int], account):
    """Join for exactly ``bpt_out`` pool tokens, paying each token in proportion
    (``ALL_TOKENS_IN_FOR_EXACT_BPT_OUT``); ``max_amounts_in`` in the Vault's token order, approved
    here. Returns the receipt."""
    return _join(
        vault, pool_id, max_amounts_in, encode(["uint256", "uint256"], [JOIN_KIND_ALL_TOKENS_IN, bpt_out]), account
    )


def join_exact_tokens(vault, pool_id, amounts_in: list[int], min_bpt_out: int, account):
    """Join with exactly ``amounts_in`` (the Vault's token order; zeros allowed: a single-asset
    entry) for at least ``min_bpt_out`` (``EXACT_TOKENS_IN_FOR_BPT_OUT``). Returns the receipt."""
    data = encode(["uint256", "uint256[]", "uint256"], [JOIN_KIND_EXACT_TOKENS_IN, amounts_in, min_bpt_out])
    return _join(vault, pool_id, amounts_in, data, account)


def exit_proportional(vault, pool_id, bpt_in: int, account):
    """Burn exactly ``bpt_in`` pool tokens for a proportional share of every balance
    (``EXACT_BPT_IN_FOR_TOKENS_OUT``). Returns the receipt."""
    pool_tokens, _, _ = vault.getPoolTokens(pool_id)
    data = encode(["uint256", "uint256"], [EXIT_KIND_EXACT_BPT_IN, bpt_in])
    request = (list(pool_tokens), [0] * len(pool_tokens), data, False)
    return vault.exitPool(pool_id, account.address, account.address, request, sender=account)


def _join(vault, pool_id, max_amounts: list[int], user_data: bytes, account):
    pool_tokens, _, _ = vault.getPoolTokens(pool_id)
    for address, amount in zip(pool_tokens, max_amounts):
        if amount:
            artifacts.container("@uniswap/v2-core", "build/ERC20.json").at(address).approve(
                vault.address, amount, sender=account
            )
    request = (list(pool_tokens), max_amounts, user_data, False)
    return vault.joinPool(pool_id, account.address, account.address, request, sender=account)


def deploy_venue(project, vault, pool_id, sender):
    """Ballast's adapter over the pool ``pool_id`` of ``vault``."""
    return project.BalancerV2Venue.deploy(vault.address, pool_id, sender=sender)


def snapshot(venue) -> WeightedPool:
    """Read the adapter's pool (Vault balances, weights, scaling factors, swap fee) into a snapshot."""
    tokens, balances = venue.pool_tokens()
    return WeightedPool(
        venue=str(venue.address),
        tokens=[str(t) for t in tokens],
        balances=[int(b) for b in balances],
        weights=[int(w) for w in venue.normalized_weights()],
        scaling_factors=[int(s) for s in venue.scaling_factors()],
        swap_fee=int(venue.swap_fee()),
        pool_id=bytes(venue.pool_id()),
    )


def single_swap(pool_id, token_in, token_out, amount_in: int) -> tuple:
    """``IVault.SingleSwap`` for a GIVEN_IN swap."""
    return (pool_id, GIVEN_IN, str(token_in), str(token_out), amount_in, b"")


def funds(sender, recipient) -> tuple:
    """``IVault.FundManagement`` without internal balances."""
    return (str(sender), False, str(recipient), False)


def query_swap(vault, pool_id, token_in, token_out, amount_in: int) -> int:
    """The Vault's own quote: ``queryBatchSwap`` by ``eth_call``; returns the output amount."""
    assets = [str(token_in), str(token_out)]
    steps = [(pool_id, 0, 1, amount_in, b"")]
    deltas = vault.queryBatchSwap.call(GIVEN_IN, steps, assets, funds(ZERO_ADDRESS, ZERO_ADDRESS))
    return -int(deltas[1])


def _key(pair) -> int:
    return int(pair[0], 16)
