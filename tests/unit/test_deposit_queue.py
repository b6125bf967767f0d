"""DepositQueue: ERC-7540 asynchronous deposits. Request, ready, settle, claim, cancel, refund; every
revert reason and event; requests that cannot block exits, rebalances or each other; ERC-7540's
properties (previews revert, max* honest, round trips)."""

import ape
import pytest
from ape.utils import ZERO_ADDRESS
from entry_stack import MIN_DELAY, PRICES, SETTLE_WINDOW, USDC, WBTC, build

from ballast.chain.deploy import deploy_factory, deploy_vault, spec_from_dict
from ballast.depositor import requests

AMOUNT_USD = 10_000


@pytest.fixture(scope="module")
def es(project, chain, owner, keeper, guardian, lens, alice):
    """Built once per module; ape's isolation restores the chain after every test."""
    stack = build(project, chain, owner, keeper, guardian, lens)
    stack.seed(alice)
    return stack


@pytest.fixture(autouse=True)
def _prices_follow_chain(es):
    """The stack's Python-side prices are reset with the chain."""
    es.prices = list(PRICES)


def _request(es, who, i=WBTC, usd=AMOUNT_USD, controller=None):
    amount = es.units(i, usd)
    es.fund(who, i, amount, es.queues[i])
    tx = es.queues[i].requestDeposit(amount, controller or who, who, sender=who)
    return tx.events.filter(es.queues[i].DepositRequest)[0].requestId, amount, tx


def _ready(es):
    """Wait out the delay and publish a round on every feed; returns those rounds' ids."""
    es.wait(MIN_DELAY)
    es.publish_all()
    return es.rounds()


# ---------------------------------------------------------------- constructor


def test_init__asset_outside_basket__reverts_unknown_asset(project, es, owner):
    other = project.MockERC20.deploy("X", "X", 18, sender=owner)
    with ape.reverts("queue: unknown asset"):
        project.DepositQueue.deploy(es.vault, other, MIN_DELAY, SETTLE_WINDOW, sender=owner)


def test_init__zero_delay_or_window__reverts(project, es, owner):
    with ape.reverts("queue: zero delay"):
        project.DepositQueue.deploy(es.vault, es.tokens[0], 0, SETTLE_WINDOW, sender=owner)
    with ape.reverts("queue: zero window"):
        project.DepositQueue.deploy(es.vault, es.tokens[0], MIN_DELAY, 0, sender=owner)


def test_views__erc7575_and_erc165__answer(es):
    q = es.queues[WBTC]
    assert q.asset() == es.tokens[WBTC] and q.share() == es.vault
    assert q.VAULT() == es.vault and q.ASSET() == es.tokens[WBTC]
    assert q.MIN_DELAY() == MIN_DELAY and q.SETTLE_WINDOW() == SETTLE_WINDOW
    for interface_id in ("0x01ffc9a7", "0xe3bc4e65", "0xce3bbe50", "0x2f0a18c5"):
        assert q.supportsInterface(interface_id)
    assert not q.supportsInterface("0xffffffff")


# ---------------------------------------------------------------- request


def test_request__fresh__takes_tokens_and_is_pending(es, bob):
    q = es.queues[WBTC]
    request_id, amount, tx = _request(es, bob)
    assert request_id == 1 and q.next_request_id() == 2
    ev = tx.events.filter(q.DepositRequest)[0]
    assert (ev.controller, ev.owner, ev.sender, ev.assets) == (bob, bob, bob, amount)
    assert es.tokens[WBTC].balanceOf(q) == amount
    assert q.pendingDepositRequest(request_id, bob) == amount
    assert q.pendingDepositRequest(request_id, es.owner) == 0
    assert q.claimableDepositRequest(request_id, bob) == 0
    record = requests.read_request(q, request_id)
    assert (record.controller, record.assets, record.state) == (bob.address, amount, "pending")
    assert record.requested_at == tx.timestamp
    assert not q.is_ready(request_id)


def test_request__zero_assets__reverts(es, bob):
    with ape.reverts("queue: zero assets"):
        es.queues[WBTC].requestDeposit(0, bob, bob, sender=bob)


def test_request__zero_controller__reverts(es, bob):
    with ape.reverts("queue: zero controller"):
        es.queues[WBTC].requestDeposit(1, ZERO_ADDRESS, bob, sender=bob)


def test_request__for_another_owner_without_operator__reverts(es, bob, attacker):
    es.fund(bob, WBTC, 10**8, es.queues[WBTC])
    with ape.reverts("queue: not owner or operator"):
        es.queues[WBTC].requestDeposit(10**8, attacker, bob, sender=attacker)


def test_request__by_operator__takes_owner_tokens(es, bob, attacker):
    q = es.queues[WBTC]
    tx = q.setOperator(attacker, True, sender=bob)
    ev = tx.events.filter(q.OperatorSet)[0]
    assert (ev.controller, ev.operator, ev.approved) == (bob, attacker, True)
    assert q.isOperator(bob, attacker)
    es.fund(bob, WBTC, 10**8, q)
    q.requestDeposit(10**8, bob, bob, sender=attacker)
    assert q.pendingDepositRequest(1, bob) == 10**8


def test_set_operator__self__reverts(es, bob):
    with ape.reverts("queue: self operator"):
        es.queues[WBTC].setOperator(bob, True, sender=bob)


def test_request__fee_on_transfer_token__queue_and_entry_revert(project, owner, keeper, lens, bob):
    plain = project.MockERC20.deploy("A", "A", 6, sender=owner)
    taxed = project.FeeOnTransferToken.deploy("B", "B", 8, 100, sender=owner)
    feeds = [
        project.MockPriceFeed.deploy(8, 10**8, sender=owner),
        project.MockPriceFeed.deploy(8, 6 * 10**12, sender=owner),
    ]
    vault = deploy_vault(
        project,
        owner,
        _two_asset_spec(),
        [plain, taxed],
        feeds,
        [],
        keeper=keeper,
        factory=deploy_factory(project, owner),
    )
    q = project.DepositQueue.deploy(vault, taxed, MIN_DELAY, SETTLE_WINDOW, sender=owner)
    taxed.mint(bob, 10**8, sender=owner)
    taxed.approve(q, 10**8, sender=bob)
    with ape.reverts("queue: fee-on-transfer token"):
        q.requestDeposit(10**8, bob, bob, sender=bob)
    # The entry point measures what it pulled the same way.
    entry = project.AssetEntry.deploy(q, lens, 3_600, sender=owner)
    taxed.approve(entry, 10**8, sender=bob)
    assert entry.is_safe()
    with ape.reverts("entry: fee-on-transfer token"):
        entry.deposit(10**8, bob, sender=bob)
    with ape.reverts("entry: fee-on-transfer token"):
        entry.requestDeposit(10**8, bob, bob, sender=bob)


def _two_asset_spec():
    asset = {"band_bps": 300, "outer_band_bps": 900}
    return spec_from_dict(
        {
            "name": "Two",
            "symbol": "TWO",
            "trigger": {"type": "threshold", "interval": 86_400},
            "limits": {
                "max_slippage_bps": 150,
                "max_cost_bps": 100,
                "turnover_cap_bps": 10_000,
                "turnover_period": 86_400,
            },
            "assets": [
                {"symbol": "A", "decimals": 6, "target_bps": 5_000, **asset},
                {"symbol": "B", "decimals": 8, "target_bps": 5_000, **asset},
            ],
        }
    )


# ---------------------------------------------------------------- settle


def test_settle__after_every_feed_ticked__deposits_at_new_prices_and_credits_claim(es, bob, keeper):
    q, vault = es.queues[WBTC], es.vault
    request_id, amount, _ = _request(es, bob)
    rounds = _ready(es)
    assert q.is_ready(request_id)
    assert q.ready_at(request_id, rounds) == es.chain.blocks.head.timestamp
    expected = es.lens.preview_deposit(vault, es.tokens[WBTC], amount)
    tx = requests.settle(q, vault, request_id, sender=keeper)
    ev = tx.events.filter(q.DepositSettled)[0]
    assert (ev.requestId, ev.controller, ev.settler, ev.assets) == (request_id, bob, keeper, amount)
    assert ev.shares == expected == vault.balanceOf(q)
    deposit = tx.events.filter(vault.Deposit)[0]
    assert (deposit.sender, deposit.receiver, deposit.amount, deposit.shares) == (q, q, amount, expected)
    assert q.claimable_assets(bob) == amount and q.claimable_shares(bob) == expected
    assert q.claimableDepositRequest(request_id, bob) == amount
    assert q.pendingDepositRequest(request_id, bob) == 0
    assert requests.read_request(q, request_id).state == "settled"
    assert not q.is_ready(request_id)


def test_settle__before_any_round_after_delay__reverts_round_before_delay(es, bob):
    request_id, _, _ = _request(es, bob)
    es.wait(MIN_DELAY)
    with ape.reverts("queue: round before delay"):
        es.queues[WBTC].settle(request_id, es.rounds(), sender=bob)


def test_settle__one_feed_not_ticked__reverts_and_is_not_ready(es, bob):
    request_id, _, _ = _request(es, bob)
    es.wait(MIN_DELAY)
    for i in (0, 1, 2):
        es.publish(i)
    assert not es.queues[WBTC].is_ready(request_id)
    assert requests.first_rounds(es.queues[WBTC], es.vault, request_id) is None
    with ape.reverts("queue: round before delay"):
        es.queues[WBTC].settle(request_id, es.rounds(), sender=bob)


def test_settle__round_inside_delay__reverts_round_before_delay(es, bob):
    """A round published after the request but before the delay ran out may not price it."""
    request_id, _, _ = _request(es, bob)
    es.wait(MIN_DELAY // 2)
    es.publish_all()
    with ape.reverts("queue: round before delay"):
        es.queues[WBTC].settle(request_id, es.rounds(), sender=bob)


def test_settle__a_later_round_given__reverts_not_the_first_round(es, bob):
    request_id, _, _ = _request(es, bob)
    _ready(es)
    es.wait(60)
    es.publish(USDC)
    with ape.reverts("queue: not the first round"):
        es.queues[WBTC].settle(request_id, es.rounds(), sender=bob)
    # The first rounds found by walking back settle it (the later USDC round still prices it).
    requests.settle(es.queues[WBTC], es.vault, request_id, sender=bob)


def test_settle__wrong_rounds_length__reverts(es, bob):
    request_id, _, _ = _request(es, bob)
    rounds = _ready(es)
    with ape.reverts("queue: rounds length"):
        es.queues[WBTC].settle(request_id, rounds[:3], sender=bob)


def test_settle__after_window__reverts_window_over(es, bob):
    request_id, _, _ = _request(es, bob)
    rounds = _ready(es)
    es.wait(SETTLE_WINDOW + 1)
    with ape.reverts("queue: settle window over"):
        es.queues[WBTC].settle(request_id, rounds, sender=bob)


def test_settle__at_window_end__succeeds(es, bob):
    request_id, _, _ = _request(es, bob)
    rounds = _ready(es)
    ready_at = es.queues[WBTC].ready_at(request_id, rounds)
    es.chain.pending_timestamp = ready_at + SETTLE_WINDOW
    es.queues[WBTC].settle(request_id, rounds, sender=bob)


def test_settle__twice__reverts_not_pending(es, bob):
    request_id, _, _ = _request(es, bob)
    rounds = _ready(es)
    es.queues[WBTC].settle(request_id, rounds, sender=bob)
    with ape.reverts("queue: not pending"):
        es.queues[WBTC].settle(request_id, rounds, sender=bob)
    with ape.reverts("queue: not pending"):
        es.queues[WBTC].ready_at(request_id, rounds)


def test_settle__vault_paused__reverts_then_refunded_after_window(es, bob, guardian):
    request_id, _, _ = _request(es, bob)
    rounds = _ready(es)
    es.vault.pause(sender=guardian)
    with ape.reverts("vault: paused"):
        es.queues[WBTC].settle(request_id, rounds, sender=bob)
    # Neither settleable nor cancellable while paused: refunded once the window is over.
    es.wait(SETTLE_WINDOW + 1)
    es.queues[WBTC].refund(request_id, rounds, sender=bob)
    assert requests.read_request(es.queues[WBTC], request_id).state == "refunded"


# ---------------------------------------------------------------- cancel


def test_cancel__before_delay__returns_assets(es, bob):
    q = es.queues[WBTC]
    request_id, amount, _ = _request(es, bob)
    tx = q.cancelDepositRequest(request_id, bob, sender=bob)
    ev = tx.events.filter(q.DepositCancelled)[0]
    assert (ev.requestId, ev.controller, ev.assets) == (request_id, bob, amount)
    assert es.tokens[WBTC].balanceOf(bob) == amount and es.tokens[WBTC].balanceOf(q) == 0
    assert requests.read_request(q, request_id).state == "cancelled"
    with ape.reverts("queue: not pending"):
        q.cancelDepositRequest(request_id, bob, sender=bob)


def test_cancel__after_delay_with_one_feed_not_ticked__succeeds(es, bob):
    request_id, _, _ = _request(es, bob)
    es.wait(MIN_DELAY)
    for i in (0, 1, 2):
        es.publish(i)
    es.queues[WBTC].cancelDepositRequest(request_id, bob, sender=bob)


def test_cancel__with_a_broken_feed__succeeds(es, bob):
    """A feed that fails to answer makes the request not ready: the controller can leave."""
    request_id, _, _ = _request(es, bob)
    _ready(es)
    es.feeds[USDC].proxy.proposeAggregator(es.tokens[0], sender=es.owner)  # not a feed: reverts
    es.feeds[USDC].proxy.confirmAggregator(es.tokens[0], sender=es.owner)
    assert not es.queues[WBTC].is_ready(request_id)
    es.queues[WBTC].cancelDepositRequest(request_id, bob, sender=bob)


def test_cancel__once_ready__reverts(es, bob):
    request_id, _, _ = _request(es, bob)
    _ready(es)
    with ape.reverts("queue: ready, cannot cancel"):
        es.queues[WBTC].cancelDepositRequest(request_id, bob, sender=bob)


def test_cancel__wrong_controller__reverts(es, bob, attacker):
    request_id, _, _ = _request(es, bob)
    with ape.reverts("queue: not the controller"):
        es.queues[WBTC].cancelDepositRequest(request_id, attacker, sender=attacker)
    with ape.reverts("queue: not controller or operator"):
        es.queues[WBTC].cancelDepositRequest(request_id, bob, sender=attacker)


def test_cancel__by_operator__returns_assets_to_controller(es, bob, attacker):
    request_id, amount, _ = _request(es, bob)
    es.queues[WBTC].setOperator(attacker, True, sender=bob)
    es.queues[WBTC].cancelDepositRequest(request_id, bob, sender=attacker)
    assert es.tokens[WBTC].balanceOf(bob) == amount and es.tokens[WBTC].balanceOf(attacker) == 0


# ---------------------------------------------------------------- refund


def test_refund__after_window__anyone_returns_assets_to_controller(es, bob, attacker):
    q = es.queues[WBTC]
    request_id, amount, _ = _request(es, bob)
    rounds = _ready(es)
    es.wait(SETTLE_WINDOW + 1)
    tx = q.refund(request_id, rounds, sender=attacker)
    ev = tx.events.filter(q.DepositRefunded)[0]
    assert (ev.requestId, ev.controller, ev.caller, ev.assets, ev.shutdown) == (
        request_id,
        bob,
        attacker,
        amount,
        False,
    )
    assert es.tokens[WBTC].balanceOf(bob) == amount
    assert requests.read_request(q, request_id).state == "refunded"
    with ape.reverts("queue: not pending"):
        q.refund(request_id, rounds, sender=attacker)


def test_refund__inside_window__reverts_window_open(es, bob):
    request_id, _, _ = _request(es, bob)
    rounds = _ready(es)
    with ape.reverts("queue: settle window open"):
        es.queues[WBTC].refund(request_id, rounds, sender=bob)


def test_refund__not_ready__reverts(es, bob):
    request_id, _, _ = _request(es, bob)
    with ape.reverts("queue: round before delay"):
        es.queues[WBTC].refund(request_id, es.rounds(), sender=bob)


def test_refund__vault_shut_down__returns_assets_at_once(es, bob, guardian, attacker):
    q = es.queues[WBTC]
    request_id, amount, _ = _request(es, bob)
    es.vault.shutdown(sender=guardian)
    tx = q.refund(request_id, [], sender=attacker)
    assert tx.events.filter(q.DepositRefunded)[0].shutdown
    assert es.tokens[WBTC].balanceOf(bob) == amount


# ---------------------------------------------------------------- claim


@pytest.fixture
def settled(es, bob, keeper):
    request_id, amount, _ = _request(es, bob)
    _ready(es)
    tx = requests.settle(es.queues[WBTC], es.vault, request_id, sender=keeper)
    return request_id, amount, tx.events.filter(es.queues[WBTC].DepositSettled)[0].shares


def test_claim_deposit__all__sends_every_share(es, settled, bob, alice):
    q = es.queues[WBTC]
    request_id, amount, shares = settled
    assert q.maxDeposit(bob) == amount and q.maxMint(bob) == shares
    tx = q.deposit(amount, alice, bob, sender=bob)
    ev = tx.events.filter(q.Deposit)[0]
    assert (ev.sender, ev.owner, ev.assets, ev.shares) == (bob, alice, amount, shares)
    assert es.vault.balanceOf(q) == 0
    assert q.maxDeposit(bob) == 0 and q.maxMint(bob) == 0 and q.claimableDepositRequest(request_id, bob) == 0


def test_claim_deposit__part_then_rest__shares_add_up(es, settled, bob):
    q = es.queues[WBTC]
    _, amount, shares = settled
    first = q.deposit(amount // 3, bob, sender=bob).return_value
    assert first == amount // 3 * shares // amount
    q.deposit(q.maxDeposit(bob), bob, sender=bob)
    assert es.vault.balanceOf(bob) == shares


def test_claim_mint__part_then_rest__assets_add_up(es, settled, bob):
    q = es.queues[WBTC]
    _, amount, shares = settled
    tx = q.mint(shares // 2, bob, bob, sender=bob)
    ev = tx.events.filter(q.Deposit)[0]
    assert ev.shares == shares // 2 and ev.assets == -(-(shares // 2) * amount // shares)
    q.mint(q.maxMint(bob), bob, sender=bob)
    assert es.vault.balanceOf(bob) == shares and q.maxDeposit(bob) == 0


def test_claim__above_max__reverts(es, settled, bob):
    q = es.queues[WBTC]
    _, amount, shares = settled
    with ape.reverts("queue: above claimable"):
        q.deposit(amount + 1, bob, sender=bob)
    with ape.reverts("queue: above claimable"):
        q.mint(shares + 1, bob, sender=bob)


def test_claim__zero__reverts(es, settled, bob):
    with ape.reverts("queue: zero assets"):
        es.queues[WBTC].deposit(0, bob, sender=bob)
    with ape.reverts("queue: zero shares"):
        es.queues[WBTC].mint(0, bob, sender=bob)


def test_claim__zero_receiver__reverts(es, settled, bob):
    with ape.reverts("queue: zero receiver"):
        es.queues[WBTC].deposit(1, ZERO_ADDRESS, sender=bob)


def test_claim__not_controller__reverts_unless_operator(es, settled, bob, attacker):
    q = es.queues[WBTC]
    with ape.reverts("queue: not controller or operator"):
        q.deposit(1, attacker, bob, sender=attacker)
    with ape.reverts("queue: not controller or operator"):
        q.mint(1, attacker, bob, sender=attacker)
    q.setOperator(attacker, True, sender=bob)
    q.deposit(q.maxDeposit(bob), attacker, bob, sender=attacker)
    assert es.vault.balanceOf(attacker) == settled[2]


def test_claim__helper__claims_everything(es, settled, bob):
    requests.claim(es.queues[WBTC], bob)
    assert es.vault.balanceOf(bob) == settled[2]


# ---------------------------------------------------------------- ERC-7540 properties


def test_previews__asynchronous__revert(es):
    with ape.reverts("queue: asynchronous, no preview"):
        es.queues[WBTC].previewDeposit(10**8)
    with ape.reverts("queue: asynchronous, no preview"):
        es.queues[WBTC].previewMint(10**18)


def test_max_withdraw_redeem__exits_in_kind__zero(es, settled, bob):
    assert es.queues[WBTC].maxWithdraw(bob) == 0 and es.queues[WBTC].maxRedeem(bob) == 0


def test_round_trip__request_cancel__returns_exactly_what_was_asked(es, bob):
    request_id, amount, _ = _request(es, bob)
    es.queues[WBTC].cancelDepositRequest(request_id, bob, sender=bob)
    assert es.tokens[WBTC].balanceOf(bob) == amount


def test_round_trip__request_settle_claim_exit__gains_nothing_at_constant_prices(es, bob, keeper):
    """a16z's round trip adapted: deposit then redeem (here, exit in kind) never gains."""
    request_id, amount, _ = _request(es, bob)
    _ready(es)
    requests.settle(es.queues[WBTC], es.vault, request_id, sender=keeper)
    requests.claim(es.queues[WBTC], bob)
    tx = es.vault.exit(es.vault.balanceOf(bob), [0] * 4, bob, sender=bob)
    out = tx.events.filter(es.vault.Exit)[0].amounts
    assert es.value(out) <= amount * es.prices[WBTC] / 10**8


# ---------------------------------------------------------------- nothing blocks


def test_pending_requests__exit__unaffected(es, alice, bob):
    _request(es, bob)
    _request(es, bob, i=USDC)
    shares = es.vault.balanceOf(alice)
    out = es.vault.exit(shares, [0] * 4, alice, sender=alice).events.filter(es.vault.Exit)[0].amounts
    assert all(a > 0 for a in out) and es.vault.balanceOf(alice) == 0


def test_pending_requests__rebalance__unaffected(make_stack, project, accounts, owner, alice, bob, keeper, chain):
    """The queue holds its tokens apart and the vault never reads it: a rebalance runs as without it."""
    stack = make_stack(venue_kind="uniswap_v2")
    queue = project.DepositQueue.deploy(stack.vault, stack.tokens[1], MIN_DELAY, SETTLE_WINDOW, sender=owner)
    stack.tokens[1].mint(bob, 10**8, sender=owner)
    stack.tokens[1].approve(queue, 10**8, sender=bob)
    queue.requestDeposit(10**8, bob, bob, sender=bob)
    stack.rebalance_after_rally(alice, keeper, accounts[7], chain)
    assert stack.tokens[1].balanceOf(queue) == 10**8 and queue.pendingDepositRequest(1, bob) == 10**8


def test_blocked_controller__others_settle_cancel_and_exit(
    project, chain, owner, keeper, guardian, lens, alice, bob, attacker
):
    """A USDC-style blocklist hits one controller after they asked: their request can neither be
    cancelled nor refunded (the token refuses), yet every other request and every exit goes on."""
    es = build(project, chain, owner, keeper, guardian, lens, token_kinds={USDC: project.BlocklistToken})
    es.seed(alice)
    q = es.queues[USDC]
    stuck, _, _ = _request(es, attacker, i=USDC)
    other, amount, _ = _request(es, bob, i=USDC)
    leaving, _, _ = _request(es, alice, i=USDC)
    es.tokens[USDC].set_blocked(attacker, True, sender=owner)
    with ape.reverts("token: blocked"):
        q.cancelDepositRequest(stuck, attacker, sender=attacker)
    q.cancelDepositRequest(leaving, alice, sender=alice)
    _ready(es)
    requests.settle(q, es.vault, other, sender=keeper)
    requests.claim(q, bob)
    assert es.vault.balanceOf(bob) > 0
    es.vault.exit(es.vault.balanceOf(bob), [0] * 4, bob, sender=bob)
    es.vault.exit(es.vault.balanceOf(alice), [0] * 4, alice, sender=alice)
    assert q.pendingDepositRequest(stuck, attacker) > 0
