"""One venue protocol for the planner, and the generic solvers over it.

Every pool the planner can trade, whatever its curve, is a :class:`VenuePool`, and each
direction of it (``token_in`` for ``token_out``) a :class:`Side`, with

* ``quote(amount_in)``: the exact output, to the wei, as the pool computes it;
* ``apply(amount_in)``: the same, and the snapshot moves as the pool would;
* ``marginal_price()``: output per unit of input of an infinitesimal trade, fee included, in
  raw base units (a float: it steers the search, it never sets an amount sent);
* ``input_for_price(price)``: the input that lowers the marginal price to ``price`` (0 when it is
  already there), which each curve gives in closed form;
* ``depth()``: the input-side reserve (virtual for concentrated liquidity), which scales the
  front-runs probed by :func:`sandwich_safe_min_out`.

:func:`split_order` splits an order across the sides of every venue by equalising their marginal
prices after the trade (one bisection on the common price, whatever the curves);
:func:`sandwich_safe_min_out` finds the loosest min-out that leaves a sandwich no profit, by
simulating the sandwich on copies of the snapshot (a trade past what the snapshot read raises
:class:`BeyondSnapshot`, which the search treats as unknown, never as refused).
"""

from __future__ import annotations

import copy
from dataclasses import dataclass
from typing import Protocol

# Bisection steps on the common marginal price: 2**-80 of the bracket, far below one wei.
_PRICE_STEPS = 80
# The sandwich search probes front-runs halving down from the largest in question this many times.
PROBE_HALVINGS = 40


class VenuePool(Protocol):
    """A snapshot of one pool of one venue (any curve), trading between its ``tokens``."""

    venue: str  # the Ballast adapter the vault calls
    fee_bps: float  # the pool's swap fee, for the planner's fee accounting

    def has(self, token_in: str, token_out: str) -> bool: ...

    def quote(self, token_in: str, token_out: str, amount_in: int) -> int: ...

    def apply(self, token_in: str, token_out: str, amount_in: int) -> int: ...

    def marginal_price(self, token_in: str, token_out: str) -> float: ...

    def input_for_price(self, token_in: str, token_out: str, price: float) -> float: ...

    def depth(self, token_in: str, token_out: str) -> int: ...


@dataclass
class Side:
    """One direction of one pool: what the solvers below work on."""

    pool: VenuePool
    token_in: str
    token_out: str

    def __deepcopy__(self, memo) -> Side:
        # The tokens are strings: only the pool's snapshot needs copying (the sandwich search
        # copies a side for every front-run it tries).
        return Side(copy.deepcopy(self.pool, memo), self.token_in, self.token_out)

    @property
    def venue(self) -> str:
        return self.pool.venue

    @property
    def fee_bps(self) -> float:
        return self.pool.fee_bps

    def quote(self, amount_in: int) -> int:
        return self.pool.quote(self.token_in, self.token_out, amount_in)

    def apply(self, amount_in: int) -> int:
        return self.pool.apply(self.token_in, self.token_out, amount_in)

    def marginal_price(self) -> float:
        return self.pool.marginal_price(self.token_in, self.token_out)

    def input_for_price(self, price: float) -> float:
        return self.pool.input_for_price(self.token_in, self.token_out, price)

    def depth(self) -> int:
        return self.pool.depth(self.token_in, self.token_out)

    def reverse(self) -> Side:
        """The other direction of the same pool (sharing its state)."""
        return Side(self.pool, self.token_out, self.token_in)


def split_order(sides: list, amount_in: int) -> list[tuple[object, int]]:
    """Split ``amount_in`` across ``sides`` so that their marginal prices end equal.

    The common price ``p`` after the trade solves ``sum_k input_for_price_k(p) = amount_in``; the
    left side falls as ``p`` rises, so a bisection between 0 and the best marginal price finds
    it. Sides whose marginal price is already below ``p`` get nothing. Amounts are rounded down
    and the remainder goes to the side with the largest share. Returns ``(side, amount)`` pairs
    with nonzero amounts.
    """
    live = [s for s in sides if s.marginal_price() > 0]
    if not live or amount_in <= 0:
        return []
    if len(live) == 1:
        return [(live[0], amount_in)]
    lo, hi = 0.0, max(s.marginal_price() for s in live)
    for _ in range(_PRICE_STEPS):
        mid = (lo + hi) / 2
        if sum(s.input_for_price(mid) for s in live) > amount_in:
            lo = mid
        else:
            hi = mid
    shares = [s.input_for_price(hi) for s in live]
    total = sum(shares)
    amounts = [int(amount_in * x / total) if total else 0 for x in shares]
    largest = max(range(len(live)), key=shares.__getitem__)
    amounts[largest] += amount_in - sum(amounts)
    return [(s, a) for s, a in zip(live, amounts) if a > 0]


class BeyondSnapshot(ArithmeticError):
    """A trade a snapshot cannot simulate: it walks past what was read of the pool (a Uniswap V3
    pool's tick-bitmap words). Not a refusal: the pool itself may fill it, so the sandwich search
    must not count it as a sandwich the pool would refuse."""


def sandwich_gain(side, front_run: int, victim_in: int) -> int:
    """A sandwich's result on ``side``, in units of the victim's input (negative: a loss).

    The attacker sells ``front_run`` in the victim's direction, the victim sells ``victim_in``,
    then the attacker sells everything it received back; every leg pays the pool's fee. A
    sandwich the pool would refuse (a curve's trade-size cap, as Balancer's 30 %) gains nothing;
    one the snapshot cannot simulate raises :class:`BeyondSnapshot`.
    """
    pool = copy.deepcopy(side)
    try:
        got = pool.apply(front_run)
        pool.apply(victim_in)
        return pool.reverse().quote(got) - front_run
    except BeyondSnapshot:
        raise
    except ArithmeticError:
        return -front_run


def output_after_front_run(side, front_run: int, victim_in: int) -> int:
    """The victim's output after a same-direction front-run of ``front_run`` (0 if the pool
    would refuse either trade; :class:`BeyondSnapshot` if the snapshot cannot tell)."""
    pool = copy.deepcopy(side)
    try:
        pool.apply(front_run)
        return pool.quote(victim_in)
    except BeyondSnapshot:
        raise
    except ArithmeticError:
        return 0


def largest_admitted_front_run(side, victim_in: int, least_out: int, ceiling: int, resolution: int = 0) -> int:
    """The largest front-run, at most ``ceiling``, after which selling ``victim_in`` on ``side``
    still receives ``least_out`` (a bisection: the victim's output falls as the front-run grows).

    With ``resolution`` the bisection stops once the bracket is that narrow and returns its low
    end: a front-run that certainly still fills, at most ``resolution`` below the largest."""
    lo, hi = 0, ceiling
    while hi - lo > max(resolution, 0):
        mid = (lo + hi + 1) // 2
        if output_after_front_run(side, mid, victim_in) >= least_out:
            lo = mid
        else:
            hi = mid - 1
    return lo


def sandwich_safe_min_out(side, amount_in: int, floor: int = 0) -> int:
    """The loosest min-out, at or above ``floor``, for selling ``amount_in`` on ``side`` that leaves
    every sandwich unprofitable.

    A min-out admits the front-runs after which the victim still receives it. The front-runs that
    matter are those the caller's own bound ``floor`` (the vault's oracle bound) already admits:
    up to the largest that leaves the victim ``floor`` (a tenth of the side's depth when ``floor``
    is 0). They are probed, halving down from the largest. If none gains, the output after the
    largest is returned: ``floor``, near enough, so that moves of the pool between plan and send
    do not make the trade revert. If one gains, the expected fill itself is returned, for two
    reasons found by the bench's sandwich matrix:

    * where the victim's impact outweighs twice the fee, a sandwich gains from the smallest
      front-run on; the largest front-run that "does not gain" when the attacker sells back
      exactly what it bought only hides a gain under the integer rounding of that sale, and an
      attacker that back-runs any other amount keeps it (one base unit of the input);
    * on concentrated liquidity the gain need not rise from zero: it can be a loss up to the edge
      of a range and a profit past it, so a front-run between probes can gain while both lose.

    A front-run in question that the snapshot cannot simulate (:class:`BeyondSnapshot`: a V3
    swap walking past the ticks read) also gets the expected fill: counting it as refused let a
    keeper's snapshot of a concentrated 1 bp pool miss the front-runs that gain.
    """
    expected = side.quote(amount_in)
    try:
        limit = side.depth() // 10
        if floor:
            # Double from the trade's own size until the floor rules the front-run out, then bisect:
            # the bracket stays as near the pool's price as the floor keeps every admitted front-run.
            ceiling = max(amount_in, 1)
            while output_after_front_run(side, ceiling, amount_in) >= floor:
                ceiling *= 2
                if ceiling > 2**256:  # the floor admits any front-run: nothing bounds the search
                    return expected
            # To 1/4096 of the bracket: the min-out returned is the output after this front-run,
            # so a looser limit only tightens it; the front-runs it admits are those probed below.
            limit = largest_admitted_front_run(side, amount_in, floor, ceiling, ceiling >> 12)
        # Halvings of the largest, down to 2**-40 of it: a smaller front-run moves the price too
        # little to gain what its rounding costs.
        probes = [limit >> k for k in range(PROBE_HALVINGS + 1) if limit >> k]
        if any(sandwich_gain(side, x, amount_in) > 0 for x in probes):
            return expected
        return output_after_front_run(side, limit, amount_in)
    except BeyondSnapshot:
        return expected
