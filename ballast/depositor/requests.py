"""Asynchronous deposits (``DepositQueue``): request, find the rounds that settle, settle, claim.

A request settles once every basket feed has a round that started at least the queue's
``MIN_DELAY`` after it; ``settle`` and ``refund`` take, per asset, the id of its feed's FIRST such
round (the queue checks it: that round started after the delay, the one before it did not).
:func:`first_rounds` finds them by walking each feed back from its latest round.
"""

from __future__ import annotations

from dataclasses import dataclass

from ballast.chain import chainlink

# The aggregator's own round counter: the low 64 bits of an EACAggregatorProxy round id.
AGGREGATOR_ROUND_MASK = 2**64 - 1
# Most rounds walked back per feed before giving up (a feed ticking every block for a day is ~7k).
MAX_WALK = 10_000
# Request states of ``DepositQueue.requests``.
STATES = {0: "none", 1: "pending", 2: "settled", 3: "cancelled", 4: "refunded"}


@dataclass
class Request:
    """One request as the queue stores it."""

    request_id: int
    controller: str
    assets: int
    requested_at: int
    state: str


def read_request(queue, request_id: int) -> Request:
    """The queue's record of ``request_id``."""
    controller, assets, requested_at, state = queue.requests(request_id)
    return Request(request_id, str(controller), int(assets), int(requested_at), STATES[int(state)])


def feed_addresses(vault) -> list[str]:
    """The basket's feeds, in the vault's asset order (low 160 bits of each feed config word)."""
    return [f"0x{int(a.feed_config) & (2**160 - 1):040x}" for a in vault.raw_state().assets]


def _started_at(feed, round_id: int) -> int:
    try:
        return int(feed.getRoundData(round_id)[2])
    except Exception:  # a round the aggregator does not have: before any round we look for
        return 0


def first_round(feed, earliest: int) -> int | None:
    """Id of ``feed``'s first round that started at or after ``earliest``; None if none has yet."""
    round_id, _, started, _, _ = feed.latestRoundData()
    round_id, started = int(round_id), int(started)
    if started < earliest:
        return None
    for _ in range(MAX_WALK):
        if round_id & AGGREGATOR_ROUND_MASK <= 1 or _started_at(feed, round_id - 1) < earliest:
            return round_id
        round_id -= 1
    raise RuntimeError(f"feed {feed.address}: more than {MAX_WALK} rounds since {earliest}")


def first_rounds(queue, vault, request_id: int) -> list[int] | None:
    """Per asset, the first round after ``request_id``'s delay; None while any feed has none."""
    earliest = read_request(queue, request_id).requested_at + int(queue.MIN_DELAY())
    rounds = [first_round(chainlink.container("EACAggregatorProxy").at(a), earliest) for a in feed_addresses(vault)]
    return None if any(r is None for r in rounds) else rounds


def request(queue, token, amount: int, controller, sender) -> int:
    """Approve and request a deposit of ``amount`` base units; returns the request id."""
    token.approve(queue, amount, sender=sender)
    receipt = queue.requestDeposit(amount, controller, sender, sender=sender)
    return int(receipt.events.filter(queue.DepositRequest)[-1].requestId)


def settle(queue, vault, request_id: int, sender):
    """Settle ``request_id`` (anyone may); returns the receipt. Raises if it is not ready."""
    rounds = first_rounds(queue, vault, request_id)
    if rounds is None:
        raise ValueError(f"request {request_id}: not every feed has a round after the delay yet")
    return queue.settle(request_id, rounds, sender=sender)


def claim(queue, controller, receiver=None):
    """Claim every settled share of ``controller`` (ERC-7540 ``deposit`` of ``maxDeposit``); the receipt."""
    return queue.deposit(queue.maxDeposit(controller), receiver or controller, controller, sender=controller)


def demo_async_deposit(project, chain, vault, tokens, feeds, depositor, keeper, owner, asset_index=1, echo=print):
    """One asynchronous deposit, end to end, for the demo: a ``DepositQueue`` for asset
    ``asset_index``, a request by ``depositor``, the delay, a new round on every feed (the oracle
    catching up: each feed re-publishes its answer), settlement by ``keeper``, the claim. ``feeds``
    are :class:`ballast.chain.chainlink.Feed` (the queue reads ``getRoundData``); ``owner`` owns
    the feeds and mints the mock ``tokens``. Returns a dict of what happened, gas from receipts."""
    min_delay, window = 600, 900
    token = tokens[asset_index]
    queue = project.DepositQueue.deploy(vault, token, min_delay, window, sender=owner)
    amount = 10 ** int(token.decimals()) // 5  # 0.2 of a whole token
    token.mint(depositor, amount, sender=owner)
    token.approve(queue, amount, sender=depositor)
    request_tx = queue.requestDeposit(amount, depositor, depositor, sender=depositor)
    request_id = int(request_tx.events.filter(queue.DepositRequest)[-1].requestId)
    echo(f"request #{request_id}: {amount} base units of {token.symbol()} queued (gas {request_tx.gas_used:,})")
    chain.pending_timestamp += min_delay
    for feed in feeds:
        feed.set_answer(feed.latest_answer(), sender=owner)
    settle_tx = settle(queue, vault, request_id, sender=keeper)
    shares = int(settle_tx.events.filter(queue.DepositSettled)[-1].shares)
    echo(
        f"settled by the keeper after {min_delay}s and a new round on every feed: {shares / 10**18:,.2f} shares (gas {settle_tx.gas_used:,})"
    )
    claim_tx = claim(queue, depositor)
    echo(
        f"claimed: the depositor holds {int(vault.balanceOf(depositor)) / 10**18:,.2f} shares (gas {claim_tx.gas_used:,})"
    )
    return {
        "queue": str(queue.address),
        "request_id": request_id,
        "assets": amount,
        "shares": shares,
        "gas": {"request": request_tx.gas_used, "settle": settle_tx.gas_used, "claim": claim_tx.gas_used},
    }
