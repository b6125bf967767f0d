"""Stateful fuzzing of the Ballast vault: hypothesis drives the contracts directly, no ape.

titanoboa compiles the contracts; by default they execute on revm (``revm_env.py``), or on
titanoboa's py-evm with ``BALLAST_FUZZ_EVM=boa`` (same rules and results, ~15x slower).

Each example deploys a fresh basket (2..8 assets, 6/8/18 decimals, some USDT-like tokens,
random weights, bands, trigger type and limits) inside an ``anchor()`` that is
rolled back when the example ends, then runs random steps against the contracts and a
Python model side by side:

* the model knows every holder's shares, the total supply, the vault's tracked balances,
  the feeds (answer, timestamp, broken flag) and, per holder, the USD value (at the oracle
  prices of the moment) that went in and came out, plus the share of the vault's passive
  gains and losses that the holder earned by holding (see ``no_profit_round_trip``);
* the rules join, deposit, exit, transfer shares, move prices (small, large, to near zero),
  trade on the AMM, arbitrage it back, rebalance with ``ballast.planner.plan_rebalance``,
  submit random keeper trades, pass time, break and heal oracles, pause, ramp targets,
  observe volatility and donate tokens;
* the invariants are checked after every step.

Profiles (``BALLAST_FUZZ_PROFILE``): ``ci`` (default, derandomized, ~10,000 steps in
under a minute) and ``long``. See README.md beside this file.
"""

from __future__ import annotations

import argparse
import collections
import contextlib
import dataclasses
import os
import signal
import sys
import time
from dataclasses import dataclass, field
from fractions import Fraction
from pathlib import Path

import pytest
from hypothesis import HealthCheck, Phase, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    initialize,
    invariant,
    rule,
    run_state_machine_as_test,
)

if __package__:
    from .boa_stack import (
        ENV,
        FEED_TO_WAD,
        AssetParams,
        BoaStack,
        EvmError,
        StackConfig,
        deployers,
        plan_trades,
        revert_reason,
        units_for_usd,
    )
else:  # run as a script: python tests/stateful/test_vault_stateful.py
    sys.path[:0] = [str(Path(__file__).resolve().parents[2]), str(Path(__file__).resolve().parent)]
    from boa_stack import (  # type: ignore[no-redef]
        ENV,
        FEED_TO_WAD,
        AssetParams,
        BoaStack,
        EvmError,
        StackConfig,
        deployers,
        plan_trades,
        revert_reason,
        units_for_usd,
    )

from ballast.constants import BPS_TO_WAD, DEAD_SHARES, MAX_BPS, WAD
from ballast.planner import plan_rebalance, simulate
from ballast.state import VaultState

# --------------------------------------------------------------------------- profiles

_SUPPRESS = [HealthCheck.too_slow, HealthCheck.data_too_large, HealthCheck.filter_too_much]
settings.register_profile(
    "ci",
    max_examples=250,
    stateful_step_count=40,
    deadline=None,
    suppress_health_check=_SUPPRESS,
    derandomize=True,  # the same examples on every CI run: a red run reproduces
    database=None,
    print_blob=True,
)
settings.register_profile(
    "long",
    max_examples=100_000,
    stateful_step_count=50,
    deadline=None,
    suppress_health_check=_SUPPRESS,
    print_blob=True,
)
PROFILE = os.environ.get("BALLAST_FUZZ_PROFILE", "ci")

# --------------------------------------------------------------------------- actors

N_HOLDERS = 4
HOLDERS = [str(ENV.generate_address(f"holder{i}")) for i in range(N_HOLDERS)]
KEEPER = str(ENV.generate_address("keeper"))
GUARDIAN = str(ENV.generate_address("guardian"))
TRADER = str(ENV.generate_address("trader"))
ARBITRAGEUR = str(ENV.generate_address("arbitrageur"))
DONOR = str(ENV.generate_address("donor"))

# Allowed excess of a holder's value out over value in, in WAD-USD (1e-18 USD) per share-moving
# action of that holder. The model is exact (fractions) and every vault conversion rounds in
# the vault's favour, so the excess should never be positive (the largest seen in long runs is
# 0); one wei per action is a margin, not a known rounding gap.
ROUNDING_TOLERANCE_WEI = 1

# --------------------------------------------------------------------------- speed counters


@dataclass
class Stats:
    steps: int = 0
    examples: int = 0
    started: float = field(default_factory=time.perf_counter)
    rules: collections.Counter = field(default_factory=collections.Counter)
    outcomes: collections.Counter = field(default_factory=collections.Counter)
    max_residual: Fraction = Fraction(-(10**80))  # largest no_profit_round_trip residual seen, wei-USD
    progress_every: int = 0  # print a summary every this many examples (0: never)

    def reset(self) -> None:
        self.__init__()

    def summary(self) -> str:
        elapsed = time.perf_counter() - self.started
        rate = self.steps / elapsed if elapsed else 0.0
        return (
            f"ballast stateful fuzz [{PROFILE}]: {self.examples} examples, {self.steps} steps "
            f"in {elapsed:.1f}s = {rate:.1f} steps/s; rebalances ok/reverted: "
            f"{self.outcomes['rebalance_ok']}/{self.outcomes['rebalance_reverted']}"
        )


STATS = Stats()

# --------------------------------------------------------------------------- strategies

PRICES = [10**8, 15 * 10**8, 3_000 * 10**8, 60_000 * 10**8, 10**6, 42 * 10**6]  # feed answers, 8 decimals


def weights_st(n: int):
    """``n`` target weights in bps summing to 10_000 (zeros allowed)."""
    cuts = st.lists(st.integers(0, MAX_BPS), min_size=n - 1, max_size=n - 1).map(sorted)
    return cuts.map(lambda c: [b - a for a, b in zip([0, *c], [*c, MAX_BPS])])


@st.composite
def stack_configs(draw) -> StackConfig:
    n = draw(st.integers(2, 8))
    weights = draw(weights_st(n))
    assets = []
    for i in range(n):
        answer = draw(st.one_of(st.sampled_from(PRICES), st.integers(10**6, 10**13)))
        band = draw(st.sampled_from([50, 100, 300, 1_000]))
        assets.append(
            AssetParams(
                decimals=draw(st.sampled_from([6, 8, 18])),
                answer=answer,
                target_bps=weights[i],
                band_bps=band,
                outer_band_bps=min(band * draw(st.integers(1, 3)), MAX_BPS),
                no_return=draw(st.sampled_from([False, False, False, True])),
                heartbeat=draw(st.sampled_from([3_600, 86_400])),
                min_answer=answer // 10**5,
                max_answer=answer * 10**5,
            )
        )
    return StackConfig(
        assets=assets,
        trigger_type=draw(st.sampled_from([0, 1, 2])),
        rebalance_interval=draw(st.sampled_from([3_600, 86_400])),
        vol_alpha_bps=draw(st.sampled_from([2_000, 10_000])),
        vol_min_interval=draw(st.sampled_from([60, 3_600])),
        max_slippage_bps=draw(st.sampled_from([50, 150, 1_000])),
        max_cost_bps=draw(st.sampled_from([1, 10, 10, 100, 500])),
        turnover_cap_bps=draw(st.sampled_from([300, 2_000, 10_000, 100_000])),
        turnover_period=86_400,
        cooldown=draw(st.sampled_from([0, 3_600])),
        entry_haircut_bps=draw(st.sampled_from([0, 30, 1_000])),
        fee_bps=draw(st.sampled_from([0, 30, 100])),
        depth_usd=draw(st.sampled_from([10**6, 10**8, 10**9])),
    )


holder_st = st.integers(0, N_HOLDERS - 1)
asset_st = st.integers(0, 7)  # taken modulo the basket size
usd_st = st.sampled_from([1, 100, 10_000, 1_000_000, 100_000_000])
# ("abs", base units / shares) for dust, or ("bps", of the relevant total)
share_size_st = st.one_of(
    st.tuples(st.just("abs"), st.integers(1, 10**6)),
    st.tuples(st.just("bps"), st.integers(1, 30_000)),
)
fraction_bps_st = st.one_of(st.just(MAX_BPS), st.integers(1, MAX_BPS))


def ceil_div(a: int, b: int) -> int:
    return -(-a // b)


def feed_error(answer: int, updated: int, broken: bool, a: AssetParams, now: int) -> str | None:
    """The revert reason ``pricing._price`` gives for this feed state, or None if the price is good."""
    if broken:
        return "feed: broken"
    if answer <= 0:
        return "pricing: bad answer"
    if answer <= a.min_answer or answer >= a.max_answer:
        return "pricing: answer at bound"
    if updated > now:
        return "pricing: future answer"
    if now - updated > a.heartbeat:
        return "pricing: stale"
    return None


@dataclass
class RebalanceRecord:
    """What an accepted rebalance did, for ``rebalance_never_grows_drift``."""

    before: VaultState
    after: VaultState
    reported_cost: int
    max_cost_bps: int
    source: str
    fills: list[tuple[str, str, int, int]]  # (token in, token out, amount in, amount out) per AMM swap


# --------------------------------------------------------------------------- the machine


class VaultMachine(RuleBasedStateMachine):
    def __init__(self):
        super().__init__()
        self._anchor = ENV.anchor()
        self._anchor.__enter__()
        STATS.examples += 1
        if STATS.progress_every and STATS.examples % STATS.progress_every == 0:
            print(STATS.summary(), flush=True)
        self.s: BoaStack | None = None
        self.record: RebalanceRecord | None = None
        self._view = None
        self.nav_check: tuple | None = None  # (balances, supply, rebalanced) before the last step

    def teardown(self):
        self._anchor.__exit__(None, None, None)

    # ---------------------------------------------------------------- model helpers

    @property
    def n(self) -> int:
        return self.s.n

    @property
    def cfg(self) -> StackConfig:
        return self.s.config

    def now(self) -> int:
        return ENV.timestamp

    def price_wad(self, i: int) -> int:
        return self.answers[i] * FEED_TO_WAD

    def value(self, i: int, amount: int) -> Fraction:
        """Exact USD value (WAD) of ``amount`` of asset ``i`` at the current oracle answer."""
        return Fraction(amount * self.price_wad(i), 10 ** self.cfg.assets[i].decimals)

    def basket_value(self, amounts: list[int]) -> Fraction:
        return sum((self.value(i, a) for i, a in enumerate(amounts)), Fraction(0))

    def nav(self) -> Fraction:
        """Exact oracle value of one share (WAD USD per share unit); 0 with no shares."""
        if self.supply == 0:
            return Fraction(0)
        return self.basket_value(self.bal) / self.supply

    def model_targets(self) -> list[int]:
        """Effective targets (WAD) now: linear from the ramp's start to its final weights, the moved
        part rounded down (the vault's documented formula)."""
        start, final, t0, t1 = self.ramp
        now = self.now()
        if now >= t1:
            return list(final)
        return [
            a + (b - a) * (now - t0) // (t1 - t0) if b >= a else a - (a - b) * (now - t0) // (t1 - t0)
            for a, b in zip(start, final)
        ]

    def closed(self) -> str | None:
        """Why joins, deposits and rebalances revert now regardless of their arguments, or None."""
        if self.shut:
            return "vault: shut down"
        if self.paused:
            return "vault: paused"
        return None

    def price_error(self) -> str | None:
        """The revert reason of the first bad price in basket order, or None."""
        now = self.now()
        for i, a in enumerate(self.cfg.assets):
            err = feed_error(self.answers[i], self.updated[i], self.broken[i], a, now)
            if err:
                return err
        return None

    def accrue(self, balances: dict[str, int]) -> None:
        """Credit each account its pro-rata share of the NAV change since the last accrual."""
        nav = self.nav()
        delta = nav - self.last_nav
        if delta:
            for who, shares in balances.items():
                if shares:
                    self.pnl[who] += shares * delta
        self.last_nav = nav

    @contextlib.contextmanager
    def step(self, name: str):
        """Every rule runs inside: counts the step and accrues NAV changes on the pre-step balances."""
        STATS.steps += 1
        STATS.rules[name] += 1
        self._view = None
        self.accrue(self.shares)
        before = dict(self.shares)
        bal_before, supply_before = list(self.bal), self.supply
        self.record = None
        yield
        self.accrue(before)
        self.nav_check = (bal_before, supply_before, self.record is not None)

    def send(self, sender: str, fn, *args):
        """Call ``fn`` as ``sender``; returns (True, result) or (False, revert reason)."""
        with ENV.prank(sender):
            try:
                return True, fn(*args)
            except EvmError as err:
                return False, revert_reason(err)

    @staticmethod
    def expect(outcome: tuple, reason: str | None, what: str):
        ok, result = outcome
        if reason is None:
            assert ok, f"{what} reverted unexpectedly: {result!r}"
        else:
            assert not ok, f"{what} should revert with {reason!r} but returned {result!r}"
            assert result == reason, f"{what} reverted with {result!r}, expected {reason!r}"
        return result

    def mint_shares(self, who: str, shares: int) -> None:
        self.shares[who] += shares
        self.supply += shares

    # ---------------------------------------------------------------- setup

    @initialize(
        config=stack_configs(),
        seed=st.sampled_from(["join", "join", "join", "deposit", "none"]),
        usd=usd_st,
        data=st.data(),
    )
    def deploy(self, config: StackConfig, seed: str, usd: int, data):
        """Deploy a fresh stack; seed it with a first join (at target or random weights), a deposit, or nothing."""
        self.s = BoaStack.deploy(config, KEEPER, GUARDIAN)
        self.answers = [a.answer for a in config.assets]
        self.good = list(self.answers)  # last in-bounds answer per feed, for recovery
        self.updated = [self.now()] * self.n
        self.broken = [False] * self.n
        self.bal = [0] * self.n
        vault = str(self.s.vault.address)
        self.shares = {who: 0 for who in [*HOLDERS, vault]}
        self.supply = 0
        self.v_in = {who: Fraction(0) for who in HOLDERS}
        self.v_out = {who: Fraction(0) for who in HOLDERS}
        self.pnl = {who: Fraction(0) for who in self.shares}
        self.actions = collections.Counter()
        self.last_nav = Fraction(0)
        self.paused = False
        self.shut = False
        self.turnover = (self.now(), 0)  # model of the turnover window: (start, USD value WAD traded)
        self.turnover_breach: str | None = None
        # Target ramp model: (start weights WAD, final weights WAD, start time, end time).
        final = [a.target_bps * BPS_TO_WAD for a in config.assets]
        self.ramp = (final, final, self.now(), self.now())
        self.ramp_sum_slack = self.n  # how far the targets' sum may be from 100%, wei (see targets_follow_ramp)
        self.seed_weights = [a.target_bps for a in config.assets]
        if seed == "join":
            if data.draw(st.sampled_from([True, True, False]), label="skewed seed"):
                self.seed_weights = data.draw(weights_st(self.n), label="seed weights")
            self.join(0, ("bps", 0), False, usd=max(usd, 10_000))
        elif seed == "deposit":
            self.deposit(0, 0, usd=max(usd, 10_000))

    # ---------------------------------------------------------------- depositors

    @rule(h=holder_st, size=share_size_st, short=st.sampled_from([False, False, False, True]), usd=usd_st)
    def join(self, h: int, size: tuple, short: bool, usd: int):
        """Join in kind: the first join sets the basket (``usd`` at target weights), later ones buy ``size`` shares."""
        with self.step("join"):
            who = HOLDERS[h]
            if self.supply == 0:
                self._first_join(who, usd)
                return
            kind, amount = size
            shares = amount if kind == "abs" else max(1, self.supply * amount // MAX_BPS)
            amounts = [ceil_div(shares * b, self.supply) for b in self.bal]
            maxima = list(amounts)
            if short and any(amounts):
                k = next(i for i, a in enumerate(amounts) if a)
                maxima[k] -= 1
            self.s.fund(who, maxima)
            if self.closed():
                reason = self.closed()
            elif not any(amounts):
                reason = "vault: empty basket"
            elif maxima != amounts:
                reason = "vault: amount above maximum"
            else:
                reason = None
            paid = self.expect(self.send(who, self.s.vault.join, shares, maxima, who), reason, "join")
            if reason:
                return
            assert list(paid) == amounts, f"join paid {paid}, model {amounts}"
            self.bal = [b + a for b, a in zip(self.bal, amounts)]
            self.mint_shares(who, shares)
            self.v_in[who] += self.basket_value(amounts)
            self.actions[who] += 1

    def _first_join(self, who: str, usd: int) -> None:
        amounts = [
            units_for_usd(usd * self.seed_weights[i], self.answers[i], a.decimals) // MAX_BPS
            for i, a in enumerate(self.cfg.assets)
        ]
        self.s.fund(who, amounts)
        usd_value = sum(a * self.price_wad(i) // 10 ** self.cfg.assets[i].decimals for i, a in enumerate(amounts))
        reason = (
            self.closed() or self.price_error() or (None if usd_value > DEAD_SHARES else "vault: first join too small")
        )
        paid = self.expect(self.send(who, self.s.vault.join, 0, amounts, who), reason, "first join")
        if reason:
            return
        assert list(paid) == amounts
        self.bal = amounts
        self.mint_shares(str(self.s.vault.address), DEAD_SHARES)
        self.mint_shares(who, usd_value - DEAD_SHARES)
        self.v_in[who] += self.basket_value(amounts)
        self.actions[who] += 1

    @rule(h=holder_st, i=asset_st, usd=usd_st, dust=st.sampled_from([0, 0, 0, 1, 1_000]))
    def deposit(self, h: int, i: int, usd: int, dust: int = 0):
        """Single-asset deposit at the oracle price minus the haircut (``dust`` base units instead, if set)."""
        with self.step("deposit"):
            who, i = HOLDERS[h], i % self.n
            a = self.cfg.assets[i]
            amount = dust or max(1, units_for_usd(usd, self.answers[i], a.decimals))
            expected = self._deposit_shares(i, amount)
            self.s.fund(who, [amount if k == i else 0 for k in range(self.n)])
            reason = self.closed() or self.price_error() or (None if expected > 0 else "vault: zero shares")
            token = self.s.tokens[i]
            minted = self.expect(self.send(who, self.s.vault.deposit, token, amount, expected, who), reason, "deposit")
            if reason:
                return
            assert minted == expected, f"deposit minted {minted}, model {expected}"
            if self.supply == 0:
                self.mint_shares(str(self.s.vault.address), DEAD_SHARES)
            self.bal[i] += amount
            self.mint_shares(who, minted)
            self.v_in[who] += self.value(i, amount)
            self.actions[who] += 1

    def _deposit_shares(self, i: int, amount: int) -> int:
        """The vault's documented share formula: oracle value less haircut, over the value rounded up."""
        total = sum(
            ceil_div(b * self.price_wad(k), 10**a.decimals) for k, (b, a) in enumerate(zip(self.bal, self.cfg.assets))
        )
        usd_value = amount * self.price_wad(i) // 10 ** self.cfg.assets[i].decimals
        net = usd_value * (MAX_BPS - self.cfg.entry_haircut_bps) // MAX_BPS
        if self.supply == 0:
            return net - DEAD_SHARES if net > DEAD_SHARES else 0
        if total == 0:
            return net
        return net * self.supply // total

    @rule(h=holder_st, frac=fraction_bps_st, strict=st.sampled_from([False, False, False, True]))
    def exit(self, h: int, frac: int, strict: bool):
        """Exit a fraction of a holder's shares in kind (``strict``: ask for one unit too many)."""
        with self.step("exit"):
            who = HOLDERS[h]
            held = self.shares[who]
            if held == 0:
                ok, _ = self.send(who, self.s.vault.exit, 1, [0] * self.n, who)
                assert not ok, "exit of shares not held succeeded"
                return
            shares = max(1, held * frac // MAX_BPS)
            amounts = [shares * b // self.supply for b in self.bal]
            minima = list(amounts)
            if strict:
                minima[0] += 1
            before = self.s.token_balances(who)
            out = self.expect(
                self.send(who, self.s.vault.exit, shares, minima, who),
                "vault: amount below minimum" if strict else None,
                "exit",
            )
            if strict:
                return
            assert list(out) == amounts, f"exit paid {out}, model {amounts}"
            after = self.s.token_balances(who)
            assert [y - x for x, y in zip(before, after)] == amounts, "exit: tokens received differ from amounts"
            self.bal = [b - a for b, a in zip(self.bal, amounts)]
            self.shares[who] -= shares
            self.supply -= shares
            self.v_out[who] += self.basket_value(amounts)
            self.actions[who] += 1

    @rule(src=holder_st, dst=holder_st, frac=fraction_bps_st)
    def transfer_shares(self, src: int, dst: int, frac: int):
        """Share transfer: value leaves the sender and reaches the receiver at the current NAV."""
        with self.step("transfer"):
            a, b = HOLDERS[src], HOLDERS[dst]
            shares = self.shares[a] * frac // MAX_BPS
            ok = self.expect(self.send(a, self.s.vault.transfer, b, shares), None, "transfer")
            assert ok is True
            moved = shares * self.last_nav
            self.shares[a] -= shares
            self.shares[b] += shares
            self.v_out[a] += moved
            self.v_in[b] += moved

    # ---------------------------------------------------------------- market and oracles

    @rule(
        i=asset_st,
        kind=st.sampled_from(["small", "small", "large", "near_zero", "back"]),
        bps=st.integers(1, 500),
        factor=st.integers(2, 20),
        up=st.booleans(),
        arb=st.booleans(),
    )
    def move_price(self, i: int, kind: str, bps: int, factor: int, up: bool, arb: bool):
        """Publish a new answer within the feed's sane bounds; ``arb``: arbitrage the pools to it."""
        with self.step("price"):
            i = i % self.n
            a, old = self.cfg.assets[i], self.good[i]
            if kind == "small":
                new = old * (MAX_BPS + bps) // MAX_BPS if up else old * (MAX_BPS - bps) // MAX_BPS
            elif kind == "large":
                new = old * factor if up else old // factor
            elif kind == "near_zero":
                new = a.min_answer + 1 + bps
            else:
                new = a.answer
            new = min(max(new, a.min_answer + 1), a.max_answer - 1)
            self.s.set_answer(i, new)
            self.answers[i] = self.good[i] = new
            self.updated[i] = self.now()
            if arb:
                self.s.arbitrage(ARBITRAGEUR, self.good)

    @rule()
    def arbitrage(self):
        with self.step("arbitrage"):
            self.s.arbitrage(ARBITRAGEUR, self.good)

    @rule(i=asset_st, j=asset_st, frac=st.integers(1, 5_000))
    def external_trade(self, i: int, j: int, frac: int):
        """Someone else swaps up to half a pool's reserve, pushing it off the oracle price."""
        with self.step("trader"):
            i, j = i % self.n, j % self.n
            if i == j:
                j = (i + 1) % self.n
            r_in, _ = self.s.amm.get_reserves(self.s.tokens[i], self.s.tokens[j])
            amount = max(1, r_in * frac // MAX_BPS)
            with contextlib.suppress(*EvmError):  # dust can round to a zero output
                self.s.swap(TRADER, i, j, amount)

    @rule(
        seconds=st.sampled_from([1, 60, 600, 3_600, 3_601, 4 * 3_600, 86_400, 86_401, 3 * 86_400]),
        refresh=st.sampled_from([True, True, False]),
    )
    def pass_time(self, seconds: int, refresh: bool):
        """Time passes; with ``refresh`` the healthy feeds publish their answer again (a live oracle)."""
        with self.step("time"):
            ENV.time_travel(seconds=seconds)
            if refresh:
                self.refresh_feeds(heal=False)

    def refresh_feeds(self, heal: bool) -> None:
        """Re-publish every feed's last good answer now; ``heal`` also mends broken and out-of-bounds feeds."""
        now = self.now()
        for i, feed in enumerate(self.s.feeds):
            if not heal and (self.broken[i] or self.answers[i] != self.good[i] or self.updated[i] > now):
                continue
            if self.broken[i]:
                feed.set_reverting(False)
                self.broken[i] = False
            feed.set_answer(self.good[i])
            self.answers[i], self.updated[i] = self.good[i], now

    @rule(i=asset_st, kind=st.sampled_from(["stale", "broken", "at_bound", "future"]))
    def oracle_fails(self, i: int, kind: str):
        with self.step("oracle_fails"):
            i, now = i % self.n, self.now()
            feed, a = self.s.feeds[i], self.cfg.assets[i]
            if kind == "stale":
                feed.set_round(self.answers[i], now - a.heartbeat - 1)
                self.updated[i] = now - a.heartbeat - 1
            elif kind == "broken":
                feed.set_reverting(True)
                self.broken[i] = True
            elif kind == "at_bound":
                feed.set_answer(a.min_answer)
                self.answers[i], self.updated[i] = a.min_answer, now
            else:
                feed.set_round(self.answers[i], now + 600)
                self.updated[i] = now + 600

    @rule()
    def oracles_recover(self):
        """Every feed publishes its last good answer now and stops reverting."""
        with self.step("oracle_recovers"):
            self.refresh_feeds(heal=True)

    # ---------------------------------------------------------------- keeper

    def _submit(self, trades: list[tuple], source: str, before: VaultState | None) -> bool:
        """Send a rebalance; on success record before/after for the invariant. Returns success."""
        ok, result = self.send(KEEPER, self.s.vault.rebalance, trades)
        STATS.outcomes[f"rebalance {source}: {'ok' if ok else result}"] += 1
        STATS.outcomes["rebalance_ok" if ok else "rebalance_reverted"] += 1
        if not ok:
            return False
        assert not self.closed(), f"rebalance succeeded while {self.closed()}"
        assert before is not None, "rebalance succeeded with a bad price"
        fills = [
            (str(e.token_in), str(e.token_out), int(e.amount_in), int(e.amount_out))
            for e in self.s.vault.get_logs(strict=False)
            if type(e).__name__ == "Swap" and str(e.address) == str(self.s.amm.address)
        ]
        after = self.s.state()
        self.bal = [a.balance for a in after.assets]
        self.record = RebalanceRecord(before, after, int(result), self.cfg.max_cost_bps, source, fills)
        self.spend_turnover(before, fills)
        return True

    def spend_turnover(self, before: VaultState, fills: list) -> None:
        """Model the fixed turnover window: each fill spends its input's oracle value (rounded up)."""
        start, used = self.turnover
        if self.now() >= start + self.cfg.turnover_period:
            start, used = self.now(), 0
        for token_in, _, amount_in, _ in fills:
            a = before.assets[before.index(token_in)]
            used += ceil_div(amount_in * a.price, 10**a.decimals)
        self.turnover = (start, used)
        if used * MAX_BPS > before.total_value * self.cfg.turnover_cap_bps:
            self.turnover_breach = (
                f"traded {used} in the period, cap {self.cfg.turnover_cap_bps} bps of {before.total_value}"
            )

    def prepare_keeper(self, market: str) -> None:
        """``as_is``: act on the state as it is; ``wait``: wait out the cooldown and the calendar
        clock (the healthy feeds keep publishing); ``healthy``: also mend the feeds and arbitrage
        the pools back to the oracle first."""
        if market == "as_is":
            return
        ready = self.s.vault.last_rebalance() + max(self.cfg.cooldown, self.cfg.rebalance_interval)
        if ready > self.now():
            ENV.time_travel(seconds=ready - self.now())
        self.refresh_feeds(heal=market == "healthy")
        if market == "healthy":
            self.s.arbitrage(ARBITRAGEUR, self.good)

    # Limits the planner may be told to ignore (``loosen``), so that its plan, otherwise a good
    # one, breaks exactly that limit of the vault, which must then refuse it.
    LOOSENED = {
        "none": {},
        "all": {"max_cost_bps": 500, "max_slippage_bps": 1_000, "turnover_cap_bps": 100 * MAX_BPS, "turnover_used": 0},
        "cost": {"max_cost_bps": 500},
        "turnover": {"turnover_cap_bps": 100 * MAX_BPS, "turnover_used": 0},
        "slippage": {"max_slippage_bps": 1_000},
    }

    def keeper_plan(self, market: str, loosen: str = "none", **plan_kwargs):
        """(state, plan) when the keeper would submit now, else None (and why, in the outcome counts).

        ``loosen``: plan as if the vault had wider limits (see ``LOOSENED``), so the plan may
        break the real ones (which the vault must then enforce)."""
        self.prepare_keeper(market)
        if self.closed() or self.price_error():
            STATS.outcomes["keeper: closed or bad price"] += 1
            return None
        due, _ = self.s.vault.needs_rebalance()
        if not due or self.now() < self.s.vault.last_rebalance() + self.cfg.cooldown:
            STATS.outcomes["keeper: not due or cooldown"] += 1
            return None
        before = self.s.state()
        view = dataclasses.replace(before, **self.LOOSENED[loosen])
        plan = plan_rebalance(view, self.s.market(), **plan_kwargs)
        if not plan.trades:
            STATS.outcomes[f"keeper: no plan ({plan.reason[:40]})"] += 1
            return None
        return before, plan

    @rule(
        market=st.sampled_from(["as_is", "wait", "healthy"]),
        mode=st.sampled_from(["target", "edge", "partial"]),
        fraction_bps=st.integers(1_000, MAX_BPS),
    )
    def keeper_rebalance(self, market: str, mode: str, fraction_bps: int):
        """The keeper plans with ``ballast.planner.plan_rebalance`` when the trigger holds; the vault must accept."""
        with self.step("keeper_rebalance"):
            planned = self.keeper_plan(market, mode=mode, fraction_bps=fraction_bps)
            if planned is None:
                return
            before, plan = planned
            ok = self._submit(plan_trades(plan), "planner", before)
            assert ok, f"the vault rejected a planner plan on an unchanged market: {self._last_reason(plan)}"
            expected = simulate(before, plan.trades)
            assert self.bal == [a.balance for a in expected.assets], "planned fills differ from the AMM's"

    def _last_reason(self, plan) -> str:
        ok, reason = self.send(KEEPER, self.s.vault.rebalance, plan_trades(plan))
        return reason

    @rule(
        market=st.sampled_from(["as_is", "wait", "healthy", "healthy"]),
        loosen=st.sampled_from(list(LOOSENED)),
        scales=st.one_of(st.just([MAX_BPS]), st.lists(st.integers(0, 30_000), min_size=1, max_size=4)),
        min_out=st.sampled_from(["zero", "planned"]),
    )
    def perturbed_rebalance(self, market: str, loosen: str, scales: list[int], min_out: str):
        """A planner plan (``loosen``: planned past some of the vault's limits) with each leg's size
        scaled by ``scales`` (bps; 0 drops the leg): trades near the edge of what the vault
        accepts. It must revert or satisfy the invariants."""
        with self.step("perturbed_rebalance"):
            planned = self.keeper_plan(market, loosen=loosen)
            if planned is None:
                return
            before, plan = planned
            trades = []
            for k, trade in enumerate(plan.trades):
                scale = scales[k % len(scales)]
                if scale:
                    amount = trade.amount_in * scale // MAX_BPS
                    floor = trade.min_amount_out * scale // MAX_BPS if min_out == "planned" else 0
                    trades.append((trade.venue, trade.token_in, trade.token_out, amount, floor))
            self._submit(trades, f"loose {loosen}" if loosen != "none" else "perturbed", before)

    @rule(size=st.integers(1, 10_000), market=st.sampled_from(["wait", "healthy"]))
    def dust_rebalance(self, size: int, market: str):
        """``size`` base units of the most overweight asset for the most underweight one: often
        too little to move any weight by one wei, so total drift does not fall and the vault
        must refuse it (``rebalance_never_grows_drift`` checks any it accepts)."""
        with self.step("dust_rebalance"):
            self.prepare_keeper(market)
            if self.closed() or self.price_error() or not self.supply:
                return
            before = self.s.state()
            drifts = before.drifts
            i = max(range(self.n), key=drifts.__getitem__)
            j = min(range(self.n), key=drifts.__getitem__)
            if i == j:
                return
            self._submit(
                [(self.s.amm.address, self.s.tokens[i].address, self.s.tokens[j].address, size, 0)], "dust", before
            )

    @rule(
        legs=st.lists(
            st.tuples(
                asset_st,
                asset_st,
                st.integers(1, 12_000),
                st.sampled_from(["zero", "quote", "above"]),
                st.sampled_from(["random", "directed", "directed", "dust"]),
            ),
            min_size=1,
            max_size=3,
        ),
        front_run_bps=st.sampled_from([0, 0, 30, 100, 300]),
        bogus_venue=st.sampled_from([False, False, False, False, True]),
        market=st.sampled_from(["as_is", "wait", "healthy"]),
    )
    def random_rebalance(self, legs: list, front_run_bps: int, bogus_venue: bool, market: str):
        """Arbitrary keeper trades: the vault must revert, or accept only what satisfies the invariants.

        A leg is (sell, buy, size, min-out, kind). ``random``: the pair is random and the size is in
        bps of the tracked balance; ``directed``: the most overweight asset is sold for the most
        underweight one, sized in bps of the overweight excess; ``dust``: a random pair and a size
        of a few base units. ``front_run_bps``: just before the keeper's call a trader sells the
        first leg's input into its pool (that share of the reserve), so the vault fills at a worse
        price, as in a sandwich. ``market`` as for the keeper."""
        with self.step("random_rebalance"):
            self.prepare_keeper(market)
            before = None if self.price_error() else self.s.state()
            venue = TRADER if bogus_venue else self.s.amm.address
            trades, pairs = [], []
            for i, j, size, min_kind, kind in legs:
                i, j = i % self.n, j % self.n
                amount = size if kind == "dust" else self.bal[i] * size // MAX_BPS
                if kind == "directed" and before is not None and before.total_value:
                    drifts = before.drifts
                    i = max(range(self.n), key=drifts.__getitem__)
                    j = min(range(self.n), key=drifts.__getitem__)
                    a = before.assets[i]
                    excess = drifts[i] * before.total_value // WAD
                    amount = max(excess, 0) * 10**a.decimals // a.price * size // MAX_BPS
                pairs.append((i, j))
                quote = self.s.amm.get_amount_out(self.s.tokens[i], self.s.tokens[j], amount) if i != j else 0
                min_out = {"zero": 0, "quote": quote, "above": quote + 1}[min_kind]
                trades.append((venue, self.s.tokens[i].address, self.s.tokens[j].address, amount, min_out))
            i, j = pairs[0]
            if front_run_bps and i != j:
                r_in, _ = self.s.amm.get_reserves(self.s.tokens[i], self.s.tokens[j])
                with contextlib.suppress(*EvmError):
                    self.s.swap(TRADER, i, j, max(1, r_in * front_run_bps // MAX_BPS))
            self._submit(trades, "random", before)

    # ---------------------------------------------------------------- owner and guardian

    @rule(on=st.booleans())
    def set_pause(self, on: bool):
        """The guardian pauses or unpauses (either is allowed in either state)."""
        with self.step("pause"):
            fn = self.s.vault.pause if on else self.s.vault.unpause
            self.expect(self.send(GUARDIAN, fn), None, "pause" if on else "unpause")
            self.paused = on
            assert self.s.vault.paused() == on

    @rule(really=st.sampled_from([False] * 7 + [True]))
    def shutdown(self, really: bool):
        """Irreversible, so only one call in eight goes through: afterwards only exits work."""
        with self.step("shutdown"):
            if not really:
                ok, _ = self.send(TRADER, self.s.vault.shutdown)
                assert not ok, "a stranger shut the vault down"
                return
            self.expect(self.send(GUARDIAN, self.s.vault.shutdown), None, "shutdown")
            self.shut = True

    @rule(data=st.data(), ramp=st.sampled_from([3_600, 86_400]))
    def retarget(self, data, ramp: int):
        """The owner ramps the targets to new weights."""
        with self.step("retarget"):
            weights = data.draw(weights_st(self.n), label="weights")
            start = self.model_targets()
            self.expect(self.send(self.s.owner, self.s.vault.set_target_weights, weights, ramp), None, "retarget")
            self.ramp = (start, [w * BPS_TO_WAD for w in weights], self.now(), self.now() + ramp)
            self.ramp_sum_slack = abs(sum(start) - WAD) + self.n

    @rule()
    def observe(self):
        with self.step("observe"):
            self.expect(self.send(DONOR, self.s.vault.observe), self.price_error(), "observe")

    @rule(i=asset_st, usd=usd_st)
    def donate(self, i: int, usd: int):
        """A plain transfer to the vault: neither tracked nor priced in."""
        with self.step("donate"):
            i = i % self.n
            token = self.s.tokens[i]
            amount = max(1, units_for_usd(usd, self.answers[i], self.cfg.assets[i].decimals))
            token.mint(DONOR, amount)
            with ENV.prank(DONOR):
                token.transfer(self.s.vault.address, amount)

    # ---------------------------------------------------------------- invariants

    def chain_view(self) -> tuple[int, dict[str, int], list[int], list[int]]:
        """Supply, share balances, tracked and real balances, read once per step (one lens call)."""
        if self._view is None:
            who = list(self.shares)
            supply, shares, tracked, real = self.s.snapshot(who)
            self._view = (supply, dict(zip(who, shares)), tracked, real)
        return self._view

    @invariant()
    def shares_match_model(self):
        supply, shares, _, _ = self.chain_view()
        assert supply == self.supply, f"totalSupply {supply} != model {self.supply}"
        for who, expected in self.shares.items():
            assert shares[who] == expected, f"balanceOf({who}) {shares[who]} != model {expected}"

    @invariant()
    def tracked_le_real(self):
        _, _, tracked, real = self.chain_view()
        for i in range(self.n):
            assert tracked[i] == self.bal[i], f"asset {i}: tracked {tracked[i]} != model {self.bal[i]}"
            assert tracked[i] <= real[i], f"asset {i}: tracked {tracked[i]} > real {real[i]}"

    @invariant()
    def every_holder_can_exit(self):
        """Everyone leaves at exactly pro-rata amounts; rolled back. Every other step the vault is
        first shut down and every feed made to revert: exits read no price and nothing blocks them."""
        with ENV.anchor():
            if STATS.steps % 2:
                self.expect(self.send(GUARDIAN, self.s.vault.shutdown), None, "shutdown")
                for feed in self.s.feeds:
                    feed.set_reverting(True)
            supply, bal = self.supply, list(self.bal)
            for who in HOLDERS:
                shares = self.shares[who]
                if not shares:
                    continue
                amounts = [shares * b // supply for b in bal]
                ok, out = self.send(who, self.s.vault.exit, shares, amounts, who)
                assert ok, f"holder {who} cannot exit {shares} shares: {out!r}"
                assert list(out) == amounts
                supply -= shares
                bal = [b - a for b, a in zip(bal, amounts)]
            vault = self.s.vault
            assert vault.totalSupply() == supply == self.shares[str(vault.address)]

    @invariant()
    def share_value_moves_only_with_prices_fees_and_cost(self):
        """At the oracle prices after a step, the value of one share never falls, except through an
        accepted rebalance, and then by at most ``max_cost_bps``.

        Joins take amounts rounded up, exits pay amounts rounded down and deposits mint shares
        rounded down from their value less the haircut: each leaves every holder's per-share
        claim on every asset as large as before. Donations, transfers, pauses, observations and
        ramps do not touch tracked balances. So a price move is the only other thing that moves
        the share value, and measuring before and after at the same (new) prices removes it.
        """
        check, self.nav_check = self.nav_check, None
        if check is None:
            return
        bal_before, supply_before, rebalanced = check
        if not supply_before or not self.supply:
            return  # the first join sets the price of a share; the last exit leaves none
        value_before = self.basket_value(bal_before)
        value_after = self.basket_value(self.bal)
        if rebalanced:
            assert self.supply == supply_before, "a rebalance changed the share supply"
            loss = value_before - value_after
            # The vault values the basket in integers (each asset rounded): one wei-USD per asset.
            cap = value_before * self.cfg.max_cost_bps / MAX_BPS + self.n
            assert loss <= cap, f"rebalance lost {float(loss):.6g} wei-USD, cap {float(cap):.6g}"
            return
        per_share_before = value_before / supply_before
        per_share_after = value_after / self.supply
        assert per_share_after >= per_share_before, (
            f"share value fell at constant prices: {float(per_share_before):.18g} -> {float(per_share_after):.18g}"
        )

    @invariant()
    def turnover_within_cap(self):
        """The value traded in the current turnover period equals the model's sum of fills and
        never exceeds ``turnover_cap_bps`` of the vault's value at the rebalance that spent it."""
        assert self.turnover_breach is None, self.turnover_breach
        start, used = self.turnover
        chain = (int(self.s.vault.turnover_period_start()), int(self.s.vault.turnover_used()))
        assert chain == (start, used), f"turnover window (start, used) {chain} != model {(start, used)}"

    @invariant()
    def targets_follow_ramp(self):
        """Effective targets sum to 100%, follow the documented linear ramp exactly, and stay
        between the ramp's start and final weights."""
        targets = [int(t) for t in self.s.vault.target_weights()]
        start, final, _, _ = self.ramp
        assert targets == self.model_targets(), f"targets {targets} != ramp model {self.model_targets()}"
        for k, (t, a, b) in enumerate(zip(targets, start, final)):
            assert min(a, b) <= t <= max(a, b), f"asset {k}: target {t} outside the ramp [{a}, {b}]"
        # Each asset's move along the ramp is rounded down (an asset going up gets a little less,
        # one going down keeps a little more), so the sum is 100% within 1 wei per asset, plus
        # however far the ramp's start weights were from 100% (a ramp started mid-ramp).
        assert abs(sum(targets) - WAD) < self.ramp_sum_slack, f"targets sum to {sum(targets)}"

    @invariant()
    def no_profit_round_trip(self):
        """value out + shares x NAV <= value in + earned NAV changes (+ rounding), per holder.

        Value in and out are exact oracle values at the time of each flow; a share transfer
        counts as value out of the sender and into the receiver at the NAV. ``pnl`` is the
        holder's pro-rata share of every NAV change (price moves, rebalances, other holders'
        entry haircuts and rounding), credited on the balances held before each step. In exact
        arithmetic the residual of a holder is the sum of what each of its own joins, deposits
        and exits took from the other holders, which the vault's rounding keeps <= 0.
        """
        for who in HOLDERS:
            residual = self.v_out[who] + self.shares[who] * self.last_nav - self.v_in[who] - self.pnl[who]
            tolerance = ROUNDING_TOLERANCE_WEI * self.actions[who]
            if self.actions[who]:
                STATS.max_residual = max(STATS.max_residual, residual)
            assert residual <= tolerance, (
                f"holder {who} took {float(residual):.6g} wei-USD more than it put in "
                f"(in {float(self.v_in[who]):.6g}, out {float(self.v_out[who]):.6g}, tolerance {tolerance})"
            )

    @invariant()
    def rebalance_never_grows_drift(self):
        """After an accepted rebalance: total drift fell, no |drift| grew beyond the cost tolerance, cost capped."""
        rec, self.record = self.record, None
        if rec is None:
            return
        b, a = rec.before, rec.after
        value_before, value_after = b.total_value, a.total_value
        cost = max(value_before - value_after, 0)
        assert rec.reported_cost == cost, f"reported cost {rec.reported_cost} != {cost}"
        assert cost * MAX_BPS <= value_before * rec.max_cost_bps, f"cost {cost} over {rec.max_cost_bps} bps"
        tolerance = ceil_div(cost * WAD, value_after)
        d0, d1 = b.drifts, a.drifts
        assert sum(map(abs, d1)) < sum(map(abs, d0)), f"{rec.source}: total drift {d0} -> {d1} did not fall"
        for k, (x, y) in enumerate(zip(d0, d1)):
            assert abs(y) <= abs(x) + tolerance, f"{rec.source}: asset {k} drift {x} -> {y} (tolerance {tolerance})"
            band = b.assets[k].band_bps * BPS_TO_WAD
            assert not (x > 0 and y < -band) and not (x < 0 and y > band), f"asset {k} overshot: {x} -> {y}"
        # Every fill within max_slippage_bps of the oracle, and the fills account for the balance changes.
        slippage = b.max_slippage_bps
        flows = [0] * len(b.assets)
        for token_in, token_out, amount_in, amount_out in rec.fills:
            s, t = b.assets[b.index(token_in)], b.assets[b.index(token_out)]
            value_in = ceil_div(amount_in * s.price, 10**s.decimals)
            value_out = amount_out * t.price // 10**t.decimals
            assert value_out * MAX_BPS >= value_in * (MAX_BPS - slippage), f"{rec.source}: fill beyond slippage"
            flows[b.index(token_in)] -= amount_in
            flows[b.index(token_out)] += amount_out
        assert [x.balance + f for x, f in zip(b.assets, flows)] == [x.balance for x in a.assets], "fills != balances"


# --------------------------------------------------------------------------- runners


@pytest.fixture(scope="module", autouse=True)
def _speed_report(request):
    deployers()  # compile first (cached on disk after the first run), so steps/s measures fuzzing only
    STATS.reset()
    yield
    capture = request.config.pluginmanager.getplugin("capturemanager")
    with capture.global_and_fixture_disabled() if capture else contextlib.nullcontext():
        print(f"\n{STATS.summary()}")


def test_vault_stateful():
    run_state_machine_as_test(VaultMachine, settings=settings.get_profile(PROFILE))


def main(argv: list[str] | None = None) -> None:
    global PROFILE
    parser = argparse.ArgumentParser(description="Run the Ballast vault state machine outside pytest.")
    parser.add_argument("--profile", default=PROFILE, choices=["ci", "long"])
    parser.add_argument("--examples", type=int, help="examples to run (default: the profile's)")
    parser.add_argument("--steps", type=int, help="most steps per example (default: the profile's)")
    parser.add_argument("--random", action="store_true", help="fresh random examples (not derandomized)")
    parser.add_argument("--progress", type=int, default=50, help="print a summary every N examples")
    parser.add_argument("--no-shrink", action="store_true", help="report the first failure as found, unshrunk")
    args = parser.parse_args(argv)
    PROFILE = args.profile
    overrides = {}
    if args.examples:
        overrides["max_examples"] = args.examples
    if args.steps:
        overrides["stateful_step_count"] = args.steps
    if args.random:
        overrides["derandomize"] = False
    if args.no_shrink:
        overrides["phases"] = [Phase.explicit, Phase.reuse, Phase.generate]
    deployers()
    STATS.reset()
    STATS.progress_every = args.progress
    signal.signal(signal.SIGTERM, signal.default_int_handler)  # a `timeout` still prints the summary
    try:
        run_state_machine_as_test(VaultMachine, settings=settings(settings.get_profile(PROFILE), **overrides))
    finally:
        print(STATS.summary())
        print("steps per rule:", dict(sorted(STATS.rules.items())))
        print("outcomes:", dict(sorted(STATS.outcomes.items())))
        print(f"largest holder residual (value out - in - earned), wei-USD: {float(STATS.max_residual):.6g}")


if __name__ == "__main__":
    main()
