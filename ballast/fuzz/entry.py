"""The stateful machine's asynchronous deposits and lagging oracles (issue 13).

Every example deploys a ``DepositQueue`` (``contracts/entry/DepositQueue.vy``, ERC-7540) for one
drawn basket asset, with a drawn ``MIN_DELAY`` and settle window. ``QueueRules`` is a mixin of
``VaultMachine``: its rules request, settle, cancel, refund and claim, and move a price whose
feed publishes it only later (``lagged_move``: the pools move to the new price at once, the
feed ``lag`` seconds after, ``lag < MIN_DELAY``). The model keeps every feed's rounds (their
start times, as ``getRoundData`` reports them) and predicts each call's revert reason from the
queue's documented rules, the vault's deposit reasons included; it never reads the queue's state
to decide.

In a third of the examples with a V3 pool the vault also has a price guard (``set_price_guard``): an
asset of that pool is checked against the pool's TWAP over a drawn window and bound on every
deposit (the queue's settlements included) and rebalance. The model reads the pool's own
``observe`` (the venue's state, as it reads reserves) and prices the TWAP with TickMath
(``ballast.venues.uniswap_v3_math``), so it predicts ``"vault: price sources disagree"``,
``"vault: rebalance price sources disagree"`` and ``"vault: twap unavailable"``. ``manipulate_pool``
pushes the guarded pool (up to half its input reserve), asserts that the push did not change the
guard's verdict in its own block, optionally holds the pool there for a while, and deposits.

Invariants (TECH_SPEC, "Asynchronous deposits"):

* ``queue_books_match_model``: the queue holds exactly the pending requests' assets, and its
  claimable assets and shares per controller are the model's (its vault shares are
  ``shares_match_model``'s);
* ``every_request_can_end``: every pending request can, now, be cancelled (not ready), settled
  (ready and in its window), or refunded (after the window, or once the vault is shut down); a
  settle the vault refuses (paused, a bad price) leaves the refund after the window;
* ``settle`` itself asserts that a settled request gains nothing: the shares minted are worth, at
  the prices that settled it, no more than the assets paid, and no lagging publication the
  requester could have known of at its request was still unpublished when it settled.
"""

from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction

from hypothesis import strategies as st
from hypothesis.stateful import invariant, rule

from ballast.constants import DEAD_SHARES, MAX_BPS
from ballast.fuzz.stack import ENV, V3, EvmError, deployers, units_for_usd
from ballast.venues import uniswap_v3_math as v3math

PENDING, SETTLED, CANCELLED, REFUNDED = "pending", "settled", "cancelled", "refunded"
MIN_DELAYS = (600, 3_600)  # seconds between a request and the first round that may price it
SETTLE_WINDOWS = (600, 86_400)  # seconds after readiness during which a request can be settled
PENDING_CHECKED = 4  # ``every_request_can_end`` walks the latest this many pending requests
# A feed lags at most this many MIN_DELAYs (less one second): the queue's stated assumption is a lag
# shorter than its delay; set it above 1 to watch ``settle``'s lag check fail.
LAG_PER_DELAY = 1
GUARD_WINDOWS = (300, 1_800)  # TWAP windows of the price guard, seconds
GUARD_BOUNDS = (50, 300, 2_000)  # its deviation bounds, bps
OBSERVATIONS = 128  # the guarded pool's observation slots: more than an example's distinct swap times


@dataclass
class Guard:
    """The vault's price guard on ``asset``: ``pool``'s TWAP over ``window`` s, times ``quote``'s price."""

    asset: int
    quote: int
    pool: object
    asset_is_token0: bool
    window: int
    bound_bps: int


@dataclass
class Request:
    controller: str
    amount: int
    at: int  # the block time of the request
    state: str = PENDING
    known: frozenset = frozenset()  # (asset, since) of the lagging publications pending at the request


@dataclass
class Lag:
    """A price the pools already trade at and the feed publishes only at ``due`` (backdated to it)."""

    answer: int
    since: int
    due: int


request_pick_st = st.integers(0, 15)  # taken modulo the requests made (``0`` with none: id 1)
proof_st = st.sampled_from(["first", "first", "first", "latest", "earlier"])


class QueueRules:
    """Rules and invariants of the deposit queue and of lagging feeds; a mixin of ``VaultMachine``,
    which provides the stack, the model (``bal``, ``shares``, feeds) and ``step``/``send``/``expect``."""

    # ---------------------------------------------------------------- setup and feeds

    def deploy_queue(self, data) -> None:
        """Deploy the queue of a drawn asset; start the feeds' round books (round 1 at deployment)."""
        self.q = data.draw(st.integers(0, self.n - 1), label="queued asset")
        self.min_delay = data.draw(st.sampled_from(MIN_DELAYS), label="queue delay")
        self.window = data.draw(st.sampled_from(SETTLE_WINDOWS), label="settle window")
        token = self.s.tokens[self.q]
        self.queue = deployers().queue.deploy(self.s.vault.address, token.address, self.min_delay, self.window)
        self.queue_address = str(self.queue.address)
        self.requests: dict[int, Request] = {}
        self.claimable: dict[str, tuple[int, int]] = {}  # controller -> (assets, shares)
        self.lags: dict[int, Lag] = {}
        self.rounds = [[self.now()] for _ in range(self.n)]  # each feed's round start times, round 1 first
        self.queue_touched = True  # ``queue_books_match_model`` reads the queue after a step that called it
        self.shares[self.queue_address] = 0  # the queue holds settled, unclaimed shares
        for book in (self.v_in, self.v_out, self.pnl):
            book[self.queue_address] = Fraction(0)

    def publish(self, i: int, answer: int, started: int) -> None:
        """Feed ``i`` publishes a round that started at ``started``."""
        self.s.feeds[i].set_round(answer, started)
        self.rounds[i].append(started)

    def publish_due(self) -> None:
        """Lagging feeds whose time has come publish the price the pools moved to, as a round
        that started when it was due."""
        now = self.now()
        for i, lag in sorted(self.lags.items()):
            if lag.due <= now:
                self.publish(i, lag.answer, lag.due)
                self.answers[i] = self.good[i] = lag.answer
                self.updated[i] = lag.due
                del self.lags[i]

    def truth(self) -> list[int]:
        """The prices the market trades at: each lagging feed's coming answer, else its last good one."""
        return [self.lags[i].answer if i in self.lags else g for i, g in enumerate(self.good)]

    @rule(i=st.integers(0, 7), bps=st.integers(1, 2_000), up=st.booleans(), lag_bps=st.integers(1, MAX_BPS))
    def lagged_move(self, i: int, bps: int, up: bool, lag_bps: int):
        """The market moves ``bps`` and the pools are arbitraged to it now; feed ``i`` publishes the
        move up to ``MIN_DELAY - 1`` seconds later (``lag_bps`` of that). Meanwhile a requester
        or depositor knows a price the vault does not."""
        with self.step("lagged_move"):
            i, a = i % self.n, self.cfg.assets[i % self.n]
            base = self.truth()[i]
            new = base * (MAX_BPS + bps) // MAX_BPS if up else base * (MAX_BPS - bps) // MAX_BPS
            new = min(max(new, a.min_answer + 1), a.max_answer - 1)
            lag = max(1, (self.min_delay * LAG_PER_DELAY - 1) * lag_bps // MAX_BPS)
            self.lags[i] = Lag(new, self.now(), self.now() + lag)
            self.s.arbitrage(self.ARBITRAGEUR, self.truth())

    # ---------------------------------------------------------------- price guard

    def deploy_guard(self, data) -> None:
        """In a third of the examples with a V3 pool: guard one of its assets, priced in the other, after
        giving the pool observation slots and a window of history (the feeds keep publishing)."""
        self.guard: Guard | None = None
        pools = [p for p in self.s.pools if p.kind == V3]
        if not pools or not data.draw(st.sampled_from([True, False, False]), label="price guard"):
            return
        p = data.draw(st.sampled_from(pools), label="guarded pool")
        asset = data.draw(st.sampled_from([p.i, p.j]), label="guarded asset")
        window = data.draw(st.sampled_from(GUARD_WINDOWS), label="twap window")
        bound = data.draw(st.sampled_from(GUARD_BOUNDS), label="deviation bound")
        p.contract.increaseObservationCardinalityNext(OBSERVATIONS)
        ENV.time_travel(seconds=window)
        self.refresh_feeds(heal=False)
        token = self.s.tokens[asset]
        self.s.vault.set_price_guard(token.address, p.address, window, bound)
        asset_is_token0 = str(token.address).lower() == p.tokens[0].lower()
        self.guard = Guard(asset, p.j if asset == p.i else p.i, p.contract, asset_is_token0, window, bound)

    def guard_error(self, rebalance: bool) -> str | None:
        """``Rules.check_source`` on the guarded asset at the model's prices: the pool's mean tick over
        the window (``observe``, floored), TickMath, the quote's oracle price; or None."""
        g = self.guard
        if g is None:
            return None
        try:
            cumulatives, _ = g.pool.observe([g.window, 0])
        except EvmError:
            return "vault: twap unavailable"
        tick = (int(cumulatives[1]) - int(cumulatives[0])) // g.window  # floors, as OracleLibrary
        if not g.asset_is_token0:
            tick = -tick
        if abs(tick) > v3math.MAX_TICK:
            return "vault: twap unavailable"
        sqrt_price = v3math.get_sqrt_ratio_at_tick(tick)
        ratio = sqrt_price * sqrt_price // 2**64  # quote units per asset unit, Q128
        a, q = self.cfg.assets[g.asset], self.cfg.assets[g.quote]
        twap = ratio * self.price_wad(g.quote) * 10**a.decimals // (10**q.decimals << 128)
        price = self.price_wad(g.asset)
        if abs(twap - price) * MAX_BPS > price * g.bound_bps:
            return "vault: rebalance price sources disagree" if rebalance else "vault: price sources disagree"
        return None

    @rule(
        frac=st.integers(1, 5_000),
        sell_asset=st.booleans(),
        hold=st.sampled_from([0, 0, 12, 60, 600, 1_800]),
        h=st.integers(0, 3),
        usd=st.sampled_from([100, 10_000, 1_000_000]),
    )
    def manipulate_pool(self, frac: int, sell_asset: bool, hold: int, h: int, usd: int):
        """Someone pushes the guarded pool, selling ``frac`` bps of what it holds of one side, holds it
        there ``hold`` seconds (the feeds publishing meanwhile), then deposits the guarded asset.
        A push changes nothing of the guard's verdict in its own block (the pool writes its
        observation before the price moves); the deposit is refused exactly when the model's TWAP
        and the oracle disagree."""
        with self.step("pool_manipulation"):
            g = self.guard
            if g is None:
                return
            i, j = (g.asset, g.quote) if sell_asset else (g.quote, g.asset)
            amount = max(1, int(self.s.tokens[i].balanceOf(g.pool.address)) * frac // MAX_BPS)
            verdict = self.guard_error(False)
            pushed = True
            try:
                self.s.swap(self.TRADER, self.s.v3, i, j, amount)
            except EvmError:  # dust that rounds to nothing, or a price limit reached
                pushed = False
            assert self.guard_error(False) == verdict, "a swap changed the TWAP guard's verdict in its own block"
            self.STATS.outcomes[f"pool pushed: {pushed}, held {hold} s"] += 1
            if hold:
                ENV.time_travel(seconds=hold)
                self.refresh_feeds(heal=False)
            self._deposit(h, g.asset, usd)

    # ---------------------------------------------------------------- model of the queue's rules

    def round_started(self, i: int, round_id: int) -> int:
        """``startedAt`` of feed ``i``'s round as the queue reads it: 0 when the call fails."""
        if self.broken[i] or not 1 <= round_id <= len(self.rounds[i]):
            return 0
        return self.rounds[i][round_id - 1]

    def first_round(self, i: int, earliest: int) -> int:
        """Feed ``i``'s first round that started at or after ``earliest`` with the one before it
        started before (the queue's proof); the latest round when there is none."""
        starts = self.rounds[i]
        for k, started in enumerate(starts):
            if started >= earliest and (k == 0 or starts[k - 1] < earliest):
                return k + 1
        return len(starts)

    def proofs(self, earliest: int, kind: str) -> list[int]:
        """Round ids per feed: the true first rounds, the latest ones, or one before the first."""
        out = []
        for i in range(self.n):
            first = self.first_round(i, earliest)
            out.append({"first": first, "latest": len(self.rounds[i]), "earlier": max(1, first - 1)}[kind])
        return out

    def ready_at(self, earliest: int, proofs: list[int]) -> tuple[str | None, int]:
        """``DepositQueue._ready_at``: (its revert reason or None, the latest start of the proven rounds)."""
        ready = 0
        for i, round_id in enumerate(proofs):
            started = self.round_started(i, round_id)
            if started < earliest:
                return "queue: round before delay", 0
            if round_id > 1 and self.round_started(i, round_id - 1) >= earliest:
                return "queue: not the first round", 0
            ready = max(ready, started)
        return None, ready

    def all_feeds_after(self, earliest: int) -> bool:
        """``DepositQueue._all_feeds_after``: every feed's latest round started at or after ``earliest``."""
        if self.now() < earliest:
            return False
        return all(not self.broken[i] and self.rounds[i][-1] >= earliest for i in range(self.n))

    def pick_request(self, pick: int) -> int:
        """Mostly a pending request; every fourth pick any request (id 1 with none)."""
        pending = [rid for rid, r in sorted(self.requests.items()) if r.state == PENDING]
        ids = pending if pending and pick % 4 else sorted(self.requests)
        return ids[pick % len(ids)] if ids else 1

    def pending(self, rid: int) -> Request | None:
        req = self.requests.get(rid)
        return req if req is not None and req.state == PENDING else None

    def settle_outcome(self, rid: int, proofs: list[int]) -> tuple[str | None, int]:
        """(revert reason or None, shares) of ``settle(rid, proofs)`` now."""
        req = self.pending(rid)
        if req is None:
            return "queue: not pending", 0
        reason, ready = self.ready_at(req.at + self.min_delay, proofs)
        if reason:
            return reason, 0
        if self.now() > ready + self.window:
            return "queue: settle window over", 0
        shares = self._deposit_shares(self.q, req.amount)
        return self.deposit_reason(self.q, shares), shares

    def refund_outcome(self, rid: int, proofs: list[int]) -> str | None:
        req = self.pending(rid)
        if req is None:
            return "queue: not pending"
        if self.shut:
            return None
        reason, ready = self.ready_at(req.at + self.min_delay, proofs)
        if reason:
            return reason
        return None if self.now() > ready + self.window else "queue: settle window open"

    # ---------------------------------------------------------------- rules

    # Each queue action's arguments. Two rules draw the actions: hypothesis picks rules uniformly,
    # and five queue rules took the keeper's and the targeted rules' share of the CI profile's
    # steps (its derandomized run then missed "vault: overshoot" and "vault: drift not reduced").
    QUEUE_ACTIONS = {
        "request": dict(
            h=st.integers(0, 3),
            usd=st.sampled_from([1, 100, 10_000, 1_000_000]),
            zero=st.sampled_from([False] * 9 + [True]),
        ),
        "settle": dict(pick=request_pick_st, proof=proof_st, wait=st.sampled_from(["none", "delay", "delay"])),
        "cancel": dict(pick=request_pick_st, caller=st.sampled_from(["controller", "controller", "stranger", "wrong"])),
        "refund": dict(pick=request_pick_st, proof=proof_st, wait=st.sampled_from(["none", "window", "window"])),
        "claim": dict(
            h=st.integers(0, 3), frac=st.one_of(st.just(MAX_BPS), st.integers(1, MAX_BPS)), by_shares=st.booleans()
        ),
    }

    @rule(action=st.sampled_from(["request", "settle", "settle"]), data=st.data())
    def queue_enter(self, action: str, data):
        """A request to the deposit queue, or a settlement of one."""
        self._queue_action(action, data)

    @rule(action=st.sampled_from(["cancel", "refund", "claim"]), data=st.data())
    def queue_leave(self, action: str, data):
        """A cancellation, a refund, or a claim of settled shares."""
        self._queue_action(action, data)

    def _queue_action(self, action: str, data) -> None:
        args = {name: data.draw(strategy, label=name) for name, strategy in self.QUEUE_ACTIONS[action].items()}
        method = {
            "request": self.request_deposit,
            "settle": self.settle_request,
            "cancel": self.cancel_request,
            "refund": self.refund_request,
            "claim": self.claim_request,
        }[action]
        method(**args)

    def request_deposit(self, h: int, usd: int, zero: bool):
        """A holder asks to deposit ``usd`` worth (at the market's price) of the queued asset."""
        with self.step("queue_request"):
            self.queue_touched = True
            who, a = self.HOLDERS[h], self.cfg.assets[self.q]
            amount = 0 if zero else max(1, units_for_usd(usd, self.truth()[self.q], a.decimals))
            token = self.s.tokens[self.q]
            if amount:
                token.mint(who, amount)
            with ENV.prank(who):
                token.approve(self.queue.address, amount)
            before = int(token.balanceOf(who))
            rid = self.expect(
                self.send(who, self.queue.requestDeposit, amount, who, who),
                None if amount else "queue: zero assets",
                "requestDeposit",
            )
            if not amount:
                return
            assert rid == len(self.requests) + 1, f"request id {rid}, model {len(self.requests) + 1}"
            assert int(token.balanceOf(who)) == before - amount, "requestDeposit took another amount"
            known = frozenset((i, lag.since) for i, lag in self.lags.items())
            self.requests[rid] = Request(who, amount, self.now(), known=known)

    def settle_request(self, pick: int, proof: str, wait: str):
        """Anyone settles a request (``wait``: first until its delay is over, the feeds publishing)."""
        with self.step("queue_settle"):
            self.queue_touched = True
            rid = self.pick_request(pick)
            req = self.requests.get(rid)
            if wait == "delay" and req is not None and req.at + self.min_delay > self.now():
                ENV.time_travel(seconds=req.at + self.min_delay - self.now())
                self.refresh_feeds(heal=False)
            earliest = req.at + self.min_delay if req else self.now()
            self._settle(rid, self.proofs(earliest, proof))

    def _settle(self, rid: int, proofs: list[int]) -> None:
        reason, expected = self.settle_outcome(rid, proofs)
        minted = self.expect(self.send(self.TRADER, self.queue.settle, rid, proofs), reason, "settle")
        self.STATS.outcomes[f"queue settle: {reason or 'settled'}"] += 1
        if reason:
            return
        req = self.requests[rid]
        assert minted == expected, f"settle minted {minted}, model {expected}"
        stale = [(i, lag.since) for i, lag in self.lags.items() if lag.since <= req.at]
        assert not stale, (
            f"request {rid} (at {req.at}) settled while feeds {stale} still lagged a price known at the request: "
            f"a lag shorter than MIN_DELAY {self.min_delay} s must be published before any round that can price it"
        )
        if self.supply == 0:  # the settle is the vault's first entry
            self.mint_shares(str(self.s.vault.address), DEAD_SHARES)
        value = self.value(self.q, req.amount)
        self.bal[self.q] += req.amount
        self.mint_shares(self.queue_address, minted)
        # Worth no more than it paid, at the prices that settled it (the vault's haircut and roundings).
        assert minted * self.nav() <= value, f"settled request {rid} gained: {minted} shares worth more than {value}"
        assets, shares = self.claimable.get(req.controller, (0, 0))
        self.claimable[req.controller] = (assets + req.amount, shares + minted)
        self.v_in[self.queue_address] += value
        self.actions[self.queue_address] += 1
        req.state = SETTLED

    def cancel_request(self, pick: int, caller: str):
        """The controller (or a stranger, or the controller naming another) cancels a request."""
        with self.step("queue_cancel"):
            self.queue_touched = True
            rid = self.pick_request(pick)
            req = self.requests.get(rid)
            controller = req.controller if req else self.HOLDERS[0]
            other = next(h for h in self.HOLDERS if h != controller)
            sender, named = {"controller": (controller, controller), "stranger": (other, controller)}.get(
                caller, (controller, other)
            )
            if self.pending(rid) is None:
                reason = "queue: not pending"
            elif named != controller:
                reason = "queue: not the controller"
            elif sender != controller:
                reason = "queue: not controller or operator"
            elif self.all_feeds_after(req.at + self.min_delay):
                reason = "queue: ready, cannot cancel"
            else:
                reason = None
            self._give_back(rid, reason, "cancel", sender, self.queue.cancelDepositRequest, rid, named)

    def refund_request(self, pick: int, proof: str, wait: str):
        """Anyone refunds a request (``wait``: first until its settle window is over)."""
        with self.step("queue_refund"):
            self.queue_touched = True
            rid = self.pick_request(pick)
            req = self.requests.get(rid)
            earliest = req.at + self.min_delay if req else self.now()
            proofs = self.proofs(earliest, proof)
            if wait == "window" and self.pending(rid) and not self.shut:
                reason, ready = self.ready_at(earliest, proofs)
                if reason is None and self.now() <= ready + self.window:
                    ENV.time_travel(seconds=ready + self.window + 1 - self.now())
            reason = self.refund_outcome(rid, proofs)
            self._give_back(rid, reason, "refund", self.TRADER, self.queue.refund, rid, proofs)

    def _give_back(self, rid: int, reason: str | None, what: str, sender: str, fn, *args) -> None:
        """Cancel or refund: on success the controller gets exactly the request's assets back."""
        req = self.requests.get(rid)
        token = self.s.tokens[self.q]
        before = int(token.balanceOf(req.controller)) if req else 0
        self.expect(self.send(sender, fn, *args), reason, what)
        self.STATS.outcomes[f"queue {what}: {reason or 'done'}"] += 1
        if reason:
            return
        assert int(token.balanceOf(req.controller)) == before + req.amount, f"{what} returned another amount"
        req.state = CANCELLED if what == "cancel" else REFUNDED

    def claim_request(self, h: int, frac: int, by_shares: bool):
        """A controller claims part of its settled shares, by assets (``deposit``) or shares (``mint``)."""
        with self.step("queue_claim"):
            self.queue_touched = True
            who = self.HOLDERS[h]
            assets, shares = self.claimable.get(who, (0, 0))
            if by_shares:
                take_shares = max(1, shares * frac // MAX_BPS)
                take_assets = assets if take_shares == shares else -(-take_shares * assets // shares) if shares else 0
                take_assets = min(take_assets, assets)
                reason = None if shares else "queue: above claimable"
                out = self.expect(self.send(who, self.queue.mint, take_shares, who), reason, "claim by shares")
                expected = take_assets
            else:
                take_assets = max(1, assets * frac // MAX_BPS)
                take_shares = shares if take_assets == assets else take_assets * shares // assets if assets else 0
                reason = None if assets else "queue: above claimable"
                out = self.expect(self.send(who, self.queue.deposit, take_assets, who), reason, "claim by assets")
                expected = take_shares
            if reason:
                return
            assert out == expected, f"claim returned {out}, model {expected}"
            self.claimable[who] = (assets - take_assets, shares - take_shares)
            moved = take_shares * self.last_nav
            self.shares[self.queue_address] -= take_shares
            self.shares[who] += take_shares
            self.v_out[self.queue_address] += moved
            self.v_in[who] += moved

    # ---------------------------------------------------------------- invariants

    @invariant()
    def queue_books_match_model(self):
        """The queue holds exactly the pending requests' assets; its claimable assets and shares
        per controller are the model's. Read after each step that called the queue (nothing else
        moves its state or its tokens), and after deployment."""
        if not self.queue_touched:
            return
        self.queue_touched = False
        held = int(self.s.tokens[self.q].balanceOf(self.queue.address))
        owed = sum(r.amount for r in self.requests.values() if r.state == PENDING)
        assert held == owed, f"queue holds {held} of the asset, pending requests {owed}"
        for who in self.HOLDERS:
            chain = (int(self.queue.claimable_assets(who)), int(self.queue.claimable_shares(who)))
            assert chain == self.claimable.get(who, (0, 0)), (
                f"{who}: claimable {chain}, model {self.claimable.get(who)}"
            )

    @invariant()
    def every_request_can_end(self):
        """Every other step, in rolled-back anchors: each of the latest pending requests can be
        cancelled now (not ready), or settled now (ready, in its window), or else refunded once
        its window is over; after a shutdown, refunded at once."""
        if self.STATS.steps % 2:
            return
        pending = [rid for rid, r in sorted(self.requests.items()) if r.state == PENDING][-PENDING_CHECKED:]
        for rid in pending:
            with ENV.anchor():
                self._end(rid)

    def _end(self, rid: int) -> None:
        req = self.requests[rid]
        earliest = req.at + self.min_delay
        controller = req.controller
        token = self.s.tokens[self.q]
        before = int(token.balanceOf(controller))
        if self.shut:
            ok, out = self.send(self.TRADER, self.queue.refund, rid, [0] * self.n)
            assert ok, f"request {rid}: no refund after shutdown: {out!r}"
        elif not self.all_feeds_after(earliest):
            ok, out = self.send(controller, self.queue.cancelDepositRequest, rid, controller)
            assert ok, f"request {rid} is not ready and cannot be cancelled: {out!r}"
        else:
            proofs = self.proofs(earliest, "first")
            reason, ready = self.ready_at(earliest, proofs)
            assert reason is None, f"request {rid}: every feed is after its delay, yet no proof: {reason}"
            if self.now() <= ready + self.window:
                expected, shares = self.settle_outcome(rid, proofs)
                ok, out = self.send(self.TRADER, self.queue.settle, rid, proofs)
                assert ok == (expected is None), f"request {rid}: settle {out!r}, model {expected!r}"
                if ok:
                    assert out == shares
                    return
                ENV.time_travel(seconds=ready + self.window + 1 - self.now())
            ok, out = self.send(self.TRADER, self.queue.refund, rid, proofs)
            assert ok, f"request {rid}: neither settled nor refunded after its window: {out!r}"
        assert int(token.balanceOf(controller)) == before + req.amount, f"request {rid}: not paid back in full"
