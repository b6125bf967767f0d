"""The long-running keeper: decide on every block and clock tick, send at most once per state.

:class:`KeeperLoop` is the whole bot without Silverback (``bots/keeper.py`` only wires it to
Silverback's block and cron handlers), so it is driven the same way by the bot, by a test over
real JSON-RPC, or by hand in ``ape console``::

    loop = KeeperLoop(vault, keeper, venues, token_at=token_at)  # ballast.chain.erc20.token_at
    loop.on_block(chain.blocks.head)  # or loop.on_tick(datetime.now(timezone.utc))

Each call reads the vault, reuses the one-shot logic of :mod:`ballast.keeper` (``decide``:
trigger, cooldown, plan; ``recall_first``: a lent asset sold past idle at a market rate above the
counted one is recalled first, under the state's claim, and the plan made again on the new state)
and returns an :class:`Outcome` whose ``action`` is one of:

* ``wait``: nothing to do (paused, cooldown, not due, no worthwhile plan), with the reason;
* ``skip``: a rebalance was already sent for this very state (see below), or the block is old,
  or another decision is in flight;
* ``sent``: the rebalance (or, with an ``auction``, the auction's opening) was mined;
  ``dry-run``: it would have been sent (no keeper account);
* ``failed``: the rebalance reverted or could not be sent; logged, remembered, and the loop
  carries on;
* ``error``: the vault or the venues could not be read (RPC failure, stale oracle, ...).

Every outcome is logged with its reason.

**Routes.** With ``auction`` (a ``DutchAuction`` of the vault), a due state goes to the route that
:func:`ballast.keeper.route` expects to cost less: the pools (the rebalance) or the auction (its
``open``), under the same claim, so a state gets one of them at most; while an auction is open
the loop waits for its fills.

**At most one rebalance per state.** The state is keyed on what a rebalance depends on and
changes: ``(vault, last_rebalance, tracked balances, oracle prices, oracle rounds)``, the
rounds being each feed's ``(roundId, updatedAt)`` when the feeds are known. The key is
remembered *before* the transaction is sent, so a rebalance that reverts (or whose receipt
never arrives) is not sent again while the state is unchanged: the next attempt waits for a new
state, such as a new oracle round, a join or exit, or a price move. A rebalance that succeeds
changes ``last_rebalance`` and the balances, and the vault's cooldown then holds the next one.

Where the key is remembered is the loop's ``ledger``: by default :class:`MemoryLedger`, this
process's memory (one bot, one process). A fleet of workers shares a Redis ledger instead
(:class:`ballast.fleet.RedisLedger`): the claim is atomic across processes and survives restarts.
"""

from __future__ import annotations

import json
import logging
import threading
import uuid
from collections import OrderedDict, deque
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from datetime import datetime
from typing import Any

from ballast import keeper as keeper_path
from ballast.chain.erc20 import token_at
from ballast.chain.market import snapshot_market
from ballast.chain.state import read_state
from ballast.checks import (
    InputError,
    require_account,
    require_address,
    require_addresses,
    require_allowed_venue,
    require_choice,
    require_env,
    require_feed,
    require_instance,
    require_int,
    require_lens,
    require_number,
    require_role,
    require_vault,
    require_venue,
)
from ballast.constants import MAX_BPS, ROLE_KEEPER, TRIGGER_HYBRID, WAD
from ballast.keeper import Decision, decide, format_decision

StateKey = tuple

WAIT, SKIP, SENT, DRY_RUN, FAILED, ERROR = "wait", "skip", "sent", "dry-run", "failed", "error"


@dataclass
class Outcome:
    """What one block or tick led to."""

    trigger: str  # "block 123" or "tick 2025-01-01T00:05:00+00:00"
    action: str  # wait | skip | sent | dry-run | failed | error
    reason: str
    key: StateKey | None = None
    txn_hash: str | None = None
    decision: Decision | None = None
    cost: int | None = None  # the realised cost of a sent rebalance, USD WAD (its Rebalanced event)

    def __str__(self) -> str:
        tx = f" [{self.txn_hash}]" if self.txn_hash else ""
        return f"{self.trigger}: {self.action} ({self.reason}){tx}"


@dataclass
class Sent:
    """A rebalance claimed or sent for one state, and what became of it."""

    trigger: str
    txn_hash: str | None = None
    status: str = "pending"  # pending (claimed, not settled) | mined | failed
    error: str = ""
    worker: str = ""  # who claimed it ("" in a single process)
    cost: int | None = None  # realised cost, USD WAD, once mined
    claim_id: str = field(default_factory=lambda: uuid.uuid4().hex)

    def describe(self) -> str:
        """``at block 12 by w1 (mined [0x..])``: where, by whom, and what became of it."""
        by = f" by {self.worker}" if self.worker else ""
        what = "claimed, not settled yet" if self.status == "pending" else self.status
        what += f": {self.error}" if self.error else ""
        what += f" [{self.txn_hash}]" if self.txn_hash else ""
        return f"at {self.trigger}{by} ({what})"

    def to_json(self) -> str:
        return json.dumps(asdict(self), separators=(",", ":"))

    @classmethod
    def from_json(cls, text: str | bytes) -> Sent:
        return cls(**json.loads(text))


class SignerBusy(RuntimeError):
    """The keeper account is sending for another vault (another worker) for too long."""


class MemoryLedger:
    """Claims and outcomes kept in this process's memory: one bot, one process (the default).

    A ledger answers, per state key: was a rebalance already claimed or sent for it
    (:meth:`lookup`), claim it atomically (:meth:`claim`: ``None`` when won, else the holder's
    record), record what became of it (:meth:`settle`), or give it up unsent (:meth:`release`);
    :meth:`signer` serialises the keeper account's sends; :meth:`journal` keeps each outcome.
    """

    def __init__(self, records: OrderedDict, limit: int = 4096):
        self.records, self.limit = records, limit

    def lookup(self, key: StateKey) -> Sent | None:
        return self.records.get(key)

    def claim(self, key: StateKey, record: Sent) -> Sent | None:
        if key in self.records:
            return self.records[key]
        self.settle(key, record)
        return None

    def settle(self, key: StateKey, record: Sent) -> None:
        self.records[key] = record
        while len(self.records) > self.limit:
            self.records.popitem(last=False)

    def release(self, key: StateKey, record: Sent) -> None:
        if self.records.get(key) is record:
            del self.records[key]

    @contextmanager
    def signer(self, address: str) -> Iterator[None]:
        yield  # one process: the loop's own lock already serialises its sends

    def journal(self, label: str, outcome: Outcome) -> None:
        pass  # the process log is the journal


@dataclass
class _Token:
    """Just what :func:`ballast.chain.state.read_state` asks of a token, read once."""

    address: str
    _symbol: str
    _decimals: int

    def symbol(self) -> str:
        return self._symbol

    def decimals(self) -> int:
        return self._decimals


def error_message(err: BaseException) -> str:
    """A one-line reason for a failed call: the revert message when there is one."""
    message = getattr(err, "revert_message", None) or getattr(err, "message", None) or str(err)
    message = str(message).strip().splitlines()[0] if str(message).strip() else repr(err)
    return f"{type(err).__name__}: {message}"


@dataclass
class KeeperLoop:
    """The keeper bot's logic, testable without Silverback.

    ``vault`` is an ape contract instance of ``Vault``; ``keeper`` the account that holds the
    keeper role (``None``: dry run, decisions are logged and nothing is sent); ``venues`` the
    AMM instances to plan on; ``token_at`` maps an address to an ERC-20 instance; ``feeds`` the
    assets' price feeds in basket order (optional, see the module docstring); ``clock`` returns
    the chain's current timestamp (default: the head block's). ``before_send`` is called with
    the decision just before the transaction goes out (a test seam, or a place for alerts).
    """

    vault: Any
    keeper: Any
    venues: list
    token_at: Callable[[str], Any]
    feeds: list | None = None
    lens: Any = None  # a VaultLens: the state and the trigger in one call
    slippage_bps: int | None = None
    min_trade_value: int = WAD
    observe: bool = False  # on ticks, record a volatility observation when one is due (hybrid trigger)
    clock: Callable[[], int] | None = None
    before_send: Callable[[Decision], None] | None = None
    tx_kwargs: dict = field(default_factory=dict)
    logger: Any = None
    max_remembered: int = 4096
    ledger: Any = None  # where "sent once per state" lives; default MemoryLedger (this process)
    label: str = ""  # prefix of every log line, e.g. "w1 core-4": who decided, for which vault
    worker: str = ""  # recorded with each claim
    # A DutchAuction of this vault: when set, each due state goes to the cheaper route
    # (:func:`ballast.keeper.route`), the pools or an auction opening, under the same claim.
    auction: Any = None
    gas_price_wei: int | None = None  # for the route's gas costs; default: the node's gas price
    eth_usd: int | None = None  # WAD; default: the basket's WETH/ETH oracle price, else $3,000
    filler_margin_bps: float = 30.0

    def __post_init__(self):
        self.logger = self.logger or logging.getLogger("ballast.bot")
        self.sent: OrderedDict[StateKey, Sent] = OrderedDict()  # this process's own claims
        if self.ledger is None:
            self.ledger = MemoryLedger(self.sent, self.max_remembered)
        self.outcomes: deque[Outcome] = deque(maxlen=1024)
        self.last_block: int | None = None
        self._lock = threading.Lock()
        self._tokens: list | None = None
        self._cached: dict[str, _Token] = {}

    # ------------------------------------------------------------ entry points

    def on_block(self, block) -> Outcome:
        """Handle a new block (anything with ``number`` and ``timestamp``)."""
        number = int(block.number)
        trigger = f"block {number}"

        def run() -> Outcome:
            if self.last_block is not None and number <= self.last_block:
                return Outcome(trigger, SKIP, f"block {number} is not newer than block {self.last_block}")
            self.last_block = number
            return self._step(trigger, int(block.timestamp))

        return self._guarded(trigger, run)

    def on_tick(self, now: datetime | int | float | None = None) -> Outcome:
        """Handle a clock tick; ``now`` is the wall-clock time, the chain's own clock decides."""
        label = now.isoformat() if isinstance(now, datetime) else str(now if now is not None else "")
        trigger = f"tick {label}".strip()

        def run() -> Outcome:
            timestamp = self._now()
            if self.observe:
                self._maybe_observe(trigger, timestamp)
            return self._step(trigger, timestamp)

        return self._guarded(trigger, run)

    # ------------------------------------------------------------ the decision

    def _guarded(self, trigger: str, run: Callable[[], Outcome]) -> Outcome:
        # Silverback runs handlers concurrently; one decision at a time, and never two sends.
        if not self._lock.acquire(blocking=False):
            return self._record(Outcome(trigger, SKIP, "another decision is in flight"))
        try:
            return self._record(run())
        except Exception as err:  # a keeper that dies on one bad read is no keeper
            return self._record(Outcome(trigger, ERROR, f"unexpected: {error_message(err)}"))
        finally:
            self._lock.release()

    def _step(self, trigger: str, timestamp: int) -> Outcome:
        vault = self.vault
        try:
            # Cheap checks first: most blocks end here, after four calls.
            lens = self.lens
            if lens.is_shutdown(vault):
                return Outcome(trigger, WAIT, "vault is shut down")
            if lens.paused(vault):
                return Outcome(trigger, WAIT, "vault is paused")
            last, cooldown = int(lens.last_rebalance(vault)), int(lens.cooldown(vault))
            if timestamp < last + cooldown:
                return Outcome(trigger, WAIT, f"cooldown: next rebalance allowed at {last + cooldown}")
            state = read_state(vault, self._token_at, timestamp, [str(v.address) for v in self.venues], self.lens)
            key = self.state_key(state)
        except Exception as err:
            return Outcome(trigger, ERROR, f"cannot read the vault: {error_message(err)}")

        try:
            previous = self.ledger.lookup(key)
        except Exception as err:  # no ledger, no send: a second rebalance must never go out blind
            return Outcome(trigger, ERROR, f"cannot read the ledger: {error_message(err)}", key)
        if previous is not None:
            return Outcome(
                trigger,
                SKIP,
                f"already sent a rebalance for this state {previous.describe()}; waiting for a new state",
                key,
                previous.txn_hash,
            )

        try:
            market = snapshot_market(self.venues, self.tokens(), block=state.block)
            decision = decide(
                vault, state, market, slippage_bps=self.slippage_bps, min_trade_value=self.min_trade_value
            )
        except Exception as err:
            return Outcome(trigger, ERROR, f"cannot decide: {error_message(err)}", key)
        if not decision.actionable:
            return Outcome(trigger, WAIT, decision.reason, key, decision=decision)
        if self.auction is not None:
            try:
                if self.auction.is_open():
                    return Outcome(trigger, WAIT, "an auction is open: its fills rebalance the vault", key)
            except Exception as err:
                return Outcome(trigger, ERROR, f"cannot choose the route: {error_message(err)}", key)
        prepared = self._recall_first(trigger, key, decision)
        if isinstance(prepared, Outcome):
            return prepared
        key, decision = prepared
        if not decision.actionable:
            return Outcome(trigger, WAIT, decision.reason, key, decision=decision)
        if self.auction is not None:
            try:
                choice = keeper_path.route(
                    decision,
                    decision.market,
                    self._gas_price(),
                    self._eth_usd(decision.state),
                    auction=self.auction,
                    filler_margin_bps=self.filler_margin_bps,
                )
            except Exception as err:
                return Outcome(trigger, ERROR, f"cannot choose the route: {error_message(err)}", key)
            if choice.route == "auction":
                return self._send(trigger, key, decision, f"route: auction ({choice.reason})")
        return self._send(trigger, key, decision)

    def _decide(self) -> Decision:
        """Read the vault and the pools again and decide on the state now (after a recall)."""
        state = read_state(self.vault, self._token_at, self._now(), [str(v.address) for v in self.venues], self.lens)
        market = snapshot_market(self.venues, self.tokens(), block=state.block)
        return decide(self.vault, state, market, slippage_bps=self.slippage_bps, min_trade_value=self.min_trade_value)

    def _recall_first(self, trigger: str, key: StateKey, decision: Decision) -> tuple[StateKey, Decision] | Outcome:
        """The keeper path's recall-first step (:func:`ballast.keeper.recall_first`): when the plan
        sells a lent asset past idle at a market rate above the counted one, recall first, under
        this state's claim and the signer's lock, and decide again; returns the new state's key and
        decision (or the decision with the reason why nothing was recalled: a dry run, or a keeper
        without the allocator role), else the outcome that ends this step."""
        try:
            if not keeper_path.shortfalls(self.vault, decision):
                return key, decision
            if not keeper_path.can_recall(self.vault, self.keeper):  # says why in the reason, sends nothing
                return key, keeper_path.recall_first(self.vault, decision, self.keeper, self._decide)
        except Exception as err:
            return Outcome(trigger, ERROR, f"cannot check what to recall first: {error_message(err)}", key)
        # Claimed before the recall: this state gets one recall, then the new state its rebalance.
        record = self._claim(trigger, key)
        if isinstance(record, Outcome):
            return record
        try:
            with self.ledger.signer(str(self.keeper.address)):
                decision = keeper_path.recall_first(self.vault, decision, self.keeper, self._decide)
        except SignerBusy as err:
            self._release(key, record)
            return Outcome(trigger, SKIP, f"{err}; claim released, nothing sent", key, decision=decision)
        except Exception as err:
            record.status, record.error = "failed", error_message(err)
            record.txn_hash = _txn_hash(err)
            self._settle(key, record)
            return Outcome(
                trigger, FAILED, f"recall first reverted or not sent: {record.error}; carrying on", key, record.txn_hash
            )
        if not decision.recalls:  # nothing left to recall by then: the state is still this one's to send
            self._release(key, record)
            return key, decision
        record.status, record.txn_hash = "mined", str(decision.recalls[-1].receipt.txn_hash)
        self._settle(key, record)
        self._log(logging.INFO, f"{trigger}: {decision.reason}")
        return self.state_key(decision.state), decision

    def _gas_price(self) -> int:
        return self.gas_price_wei if self.gas_price_wei is not None else int(self.vault.provider.gas_price)

    def _eth_usd(self, state) -> int:
        if self.eth_usd is not None:
            return self.eth_usd
        prices = [a.price for a in state.assets if a.symbol.upper() in ("WETH", "ETH")]
        return prices[0] if prices else 3_000 * WAD

    def _send(self, trigger: str, key: StateKey, decision: Decision, auction_reason: str | None = None) -> Outcome:
        """Claim ``key`` and send its rebalance, or open the auction when ``auction_reason`` says
        the auction is the cheaper route: either way one transaction at most per state."""
        plan = decision.plan
        summary = (
            f"{decision.reason}: {len(plan.trades)} trades, ${plan.value_traded / WAD:,.2f} traded, "
            f"expected cost ${plan.expected_cost / WAD:,.2f}"
        )
        if auction_reason is not None:
            summary = f"{decision.reason}: {auction_reason}"
        action = "OPEN AUCTION" if auction_reason is not None else "REBALANCE"
        self._log(logging.INFO, f"{trigger}: {action} ({summary})\n{format_decision(decision)}")
        if self.keeper is None:
            return Outcome(trigger, DRY_RUN, f"{summary}; no keeper account, nothing sent", key, decision=decision)

        # Claimed before sending: whatever happens next, this state gets no second rebalance.
        record = self._claim(trigger, key)
        if isinstance(record, Outcome):
            return record
        self._log(logging.INFO, f"{trigger}: claimed this state as {self.worker or 'this process'}; sending")
        try:
            with self.ledger.signer(str(self.keeper.address)):
                if self.before_send is not None:
                    self.before_send(decision)
                if auction_reason is not None:
                    receipt = keeper_path.open_auction(self.auction, self.keeper, **self.tx_kwargs)
                else:
                    receipt = keeper_path.send(self.vault, decision, self.keeper, **self.tx_kwargs)
        except SignerBusy as err:  # nothing went out: give the state back for the next block
            self._release(key, record)
            return Outcome(trigger, SKIP, f"{err}; claim released, nothing sent", key, decision=decision)
        except Exception as err:
            record.status, record.error = "failed", error_message(err)
            record.txn_hash = _txn_hash(err)
            self._settle(key, record)
            return Outcome(
                trigger,
                FAILED,
                f"rebalance reverted or not sent: {record.error}; carrying on",
                key,
                record.txn_hash,
                decision,
            )
        record.status, record.txn_hash = "mined", str(receipt.txn_hash)
        if auction_reason is not None:
            self._settle(key, record)
            opened = receipt.events.filter(self.auction.AuctionOpened)[0]
            text = f"opened auction {opened.auction_id} with {opened.lots} lots, gas {receipt.gas_used:,}"
            return Outcome(trigger, SENT, f"{summary}; {text}", key, record.txn_hash, decision)
        text, record.cost = self._describe(receipt, decision)
        self._settle(key, record)
        return Outcome(trigger, SENT, f"{summary}; {text}", key, record.txn_hash, decision, record.cost)

    def _claim(self, trigger: str, key: StateKey) -> Sent | Outcome:
        """Claim ``key`` in the ledger for this worker (one transaction at most per state); returns
        the claim's record, or the outcome that ends the step (the ledger failed, or another
        worker holds the claim)."""
        record = Sent(trigger, worker=self.worker)
        try:
            holder = self.ledger.claim(key, record)
        except Exception as err:
            return Outcome(trigger, ERROR, f"cannot claim the state: {error_message(err)}; nothing sent", key)
        if holder is not None:
            return Outcome(
                trigger, SKIP, f"state claimed first by another worker {holder.describe()}", key, holder.txn_hash
            )
        self._remember(key, record)
        return record

    def _release(self, key: StateKey, record: Sent) -> None:
        """Give a claimed state back: nothing went out for it."""
        self.ledger.release(key, record)
        self.sent.pop(key, None)

    def _settle(self, key: StateKey, record: Sent) -> None:
        try:
            self.ledger.settle(key, record)
        except Exception as err:  # the claim still stands until it expires: no second send meanwhile
            self._log(logging.ERROR, f"cannot record the outcome in the ledger: {error_message(err)}")

    def _describe(self, receipt, decision: Decision) -> tuple[str, int | None]:
        try:
            realised = keeper_path.decode(self.vault, receipt, decision)
            text = (
                f"Rebalanced ({realised.reason}): cost ${realised.cost / WAD:,.2f} "
                f"(expected ${decision.plan.expected_cost / WAD:,.2f}), max drift "
                f"{realised.max_drift_after / 1e16:.2f}% (expected {decision.plan.max_drift_after / 1e16:.2f}%), "
                f"gas {realised.gas_used:,}"
            )
            return text, realised.cost
        except Exception:  # the receipt is what counts; the summary is a nicety
            return f"gas {getattr(receipt, 'gas_used', '?')}", None

    def _maybe_observe(self, trigger: str, timestamp: int) -> None:
        """Feed the hybrid trigger's volatility estimate; the vault ignores early calls anyway."""
        try:
            lens, vault = self.lens, self.vault
            if int(lens.trigger_type(vault)) != TRIGGER_HYBRID or self.keeper is None:
                return
            last = int(lens.last_observation(vault))
            if last and timestamp < last + int(lens.vol_min_interval(vault)):
                return
            receipt = self.vault.observe(sender=self.keeper, **self.tx_kwargs)
            self._log(logging.INFO, f"{trigger}: observe() sent [{receipt.txn_hash}]")
        except Exception as err:
            self._log(logging.WARNING, f"{trigger}: observe() failed: {error_message(err)}; carrying on")

    # ------------------------------------------------------------ state

    def state_key(self, state) -> StateKey:
        """What a rebalance depends on; one rebalance at most is sent per distinct key."""
        rounds: tuple = ()
        if self.feeds:
            rounds = tuple(_round(feed) for feed in self.feeds)
        return (
            state.address.lower(),
            state.last_rebalance,
            tuple(a.balance for a in state.assets),
            tuple(a.price for a in state.assets),
            rounds,
        )

    def tokens(self) -> list:
        """The basket's token instances, in the vault's order (the basket never changes)."""
        if self._tokens is None:
            self._tokens = [self.token_at(str(a)) for a in self.vault.get_assets()]
        return self._tokens

    def _token_at(self, address: str) -> _Token:
        key = str(address).lower()
        if key not in self._cached:
            token = self.token_at(str(address))
            self._cached[key] = _Token(str(address), token.symbol(), int(token.decimals()))
        return self._cached[key]

    def _now(self) -> int:
        if self.clock is not None:
            return int(self.clock())
        return int(self.vault.chain_manager.blocks.head.timestamp)

    def _remember(self, key: StateKey, record: Sent) -> None:
        self.sent[key] = record
        while len(self.sent) > self.max_remembered:
            self.sent.popitem(last=False)

    def _record(self, outcome: Outcome) -> Outcome:
        self.outcomes.append(outcome)
        self._log(logging.ERROR if outcome.action in (FAILED, ERROR) else logging.INFO, str(outcome))
        try:
            self.ledger.journal(self.label, outcome)
        except Exception as err:  # the process log above already has it
            self._log(logging.WARNING, f"cannot journal the outcome: {error_message(err)}")
        return outcome

    def _log(self, level: int, message: str) -> None:
        text = f"{self.label} {message}" if self.label else message
        if level >= logging.ERROR:
            self.logger.error(text)
        elif level >= logging.WARNING:
            self.logger.warning(text)
        else:
            self.logger.info(text)

    # ------------------------------------------------------------ for reports and tests

    def count(self, action: str) -> int:
        return sum(1 for o in self.outcomes if o.action == action)

    def history(self, actions: Iterable[str] | None = None) -> list[Outcome]:
        wanted = set(actions) if actions else None
        return [o for o in self.outcomes if wanted is None or o.action in wanted]


def _round(feed) -> tuple[int, int]:
    round_id, _, _, updated_at, _ = feed.latestRoundData()
    return int(round_id), int(updated_at)


def _txn_hash(err: BaseException) -> str | None:
    """The hash of the transaction that reverted, when it was mined (ape attaches it)."""
    try:
        value = getattr(getattr(err, "txn", None), "txn_hash", None)
    except Exception:  # an unsigned transaction has no hash
        return None
    if not value:
        return None
    return "0x" + value.hex().removeprefix("0x") if isinstance(value, bytes) else str(value)


# ---------------------------------------------------------------- wiring from the environment


def load_account(alias: str, what: str = "BALLAST_KEEPER"):
    """An ape account by alias; ``TEST::n`` is the n-th test account (as in Silverback)."""
    from ape import accounts

    account = require_account(alias, what, accounts)
    if hasattr(account, "set_autosign"):
        # The passphrase comes from APE_ACCOUNTS_<alias>_PASSPHRASE, as ape reads it.
        account.set_autosign(True)
    return account


_FLAGS = {"": False, "0": False, "false": False, "no": False, "1": True, "true": True, "yes": True}


def loop_from_env(project, env, signer=None, logger=None, **overrides) -> KeeperLoop:
    """A :class:`KeeperLoop` from environment variables (what ``bots/keeper.py`` does).

    Every variable is checked before the loop exists, so a bad one stops the bot before its first
    transaction with :class:`ballast.checks.InputError` (a ``ValueError``) naming it.

    * ``BALLAST_VAULT``: the vault's address (required);
    * ``BALLAST_VENUES``: the venues to plan on, comma-separated (required; allowed by the vault);
    * ``BALLAST_KEEPER``: the keeper account's ape alias, or ``TEST::n``; default ``signer``
      (Silverback's ``--account``); with neither, a dry run that only logs;
    * ``BALLAST_FEEDS``: the assets' price feeds, comma-separated in basket order (optional:
      oracle rounds join the state key, so a new round, even at the same price, is a new state);
    * ``BALLAST_LENS``: a ``VaultLens`` (required): the vault's views, and its state and trigger
      in one call per decision;
    * ``BALLAST_SLIPPAGE_BPS``: a slippage bound tighter than the vault's (optional);
    * ``BALLAST_MIN_TRADE_USD``: smallest trade worth making, USD (default 1);
    * ``BALLAST_OBSERVE``: ``1`` to feed the hybrid trigger's volatility estimate on ticks;
    * ``BALLAST_AUCTION``: a ``DutchAuction`` of the vault (optional): each due state goes to the
      cheaper route, the pools or an auction (see Routes above).
    """
    provider = project.provider
    vault_address = require_address(
        require_env(env, "BALLAST_VAULT", "the address of the vault to keep"), "BALLAST_VAULT"
    )
    venue_addresses = require_addresses(
        require_env(env, "BALLAST_VENUES", "the venues to trade on, comma-separated"), "BALLAST_VENUES", required=True
    )
    vault = require_vault(vault_address, "BALLAST_VAULT", project, provider)
    venues = []
    for i, address in enumerate(venue_addresses):
        venues.append(require_venue(address, f"BALLAST_VENUES[{i}]", project, provider))
        require_allowed_venue(vault, address, f"BALLAST_VENUES[{i}]")
    feed_addresses = require_addresses(env.get("BALLAST_FEEDS"), "BALLAST_FEEDS")
    feeds = [require_feed(f, f"BALLAST_FEEDS[{i}]", project, provider) for i, f in enumerate(feed_addresses)]
    count = len(vault.get_assets())
    if feeds and len(feeds) != count:
        raise InputError(f"BALLAST_FEEDS: must list one feed per asset ({count}, in basket order), got {len(feeds)}")
    lens_address = require_address(
        require_env(env, "BALLAST_LENS", "the address of a VaultLens, which reads the vault"), "BALLAST_LENS"
    )
    lens = require_lens(lens_address, "BALLAST_LENS", project, provider)
    slippage = (env.get("BALLAST_SLIPPAGE_BPS") or "").strip()
    min_trade = (env.get("BALLAST_MIN_TRADE_USD") or "").strip() or "1"
    settings = dict(
        slippage_bps=require_int(slippage, "BALLAST_SLIPPAGE_BPS", 0, MAX_BPS) if slippage else None,
        min_trade_value=int(require_number(min_trade, "BALLAST_MIN_TRADE_USD", 0) * WAD),
        observe=require_choice(env.get("BALLAST_OBSERVE", ""), "BALLAST_OBSERVE", _FLAGS),
    )
    auction_address = (env.get("BALLAST_AUCTION") or "").strip()
    if auction_address:
        auction_address = require_address(auction_address, "BALLAST_AUCTION")
        auction = require_instance(
            auction_address, "BALLAST_AUCTION", provider, project.DutchAuction, "END_MULTIPLIER", "a DutchAuction"
        )
        if str(auction.VAULT()).lower() != str(vault.address).lower():
            raise InputError(
                f"BALLAST_AUCTION: {auction_address} sells for vault {auction.VAULT()}, not {vault.address}"
            )
        settings["auction"] = auction
    alias = (env.get("BALLAST_KEEPER") or "").strip()
    keeper = load_account(alias) if alias else signer
    if keeper is not None:
        require_role(vault, keeper.address, ROLE_KEEPER, "BALLAST_KEEPER" if alias else "the bot's --account")
    settings.update(
        vault=vault, keeper=keeper, venues=venues, token_at=token_at, feeds=feeds or None, lens=lens, logger=logger
    )
    settings.update(overrides)
    return KeeperLoop(**settings)


def metrics(outcome: Outcome, loop: KeeperLoop) -> dict[str, int]:
    """Scalar metrics for Silverback's recorder: this outcome and the running totals."""
    return {
        "rebalance_sent": int(outcome.action == SENT),
        "rebalance_failed": int(outcome.action == FAILED),
        "read_error": int(outcome.action == ERROR),
        "states_sent_for": len(loop.sent),
    }
