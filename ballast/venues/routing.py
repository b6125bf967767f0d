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
simulating the sandwich on copies of the snapshot.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass
from typing import Protocol

# Bisection steps on the common marginal price: 2**-80 of the bracket, far below one wei.
_PRICE_STEPS = 80


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


def sandwich_gain(side, front_run: int, victim_in: int) -> int:
    """A sandwich's result on ``side``, in units of the victim's input (negative: a loss).

    The attacker sells ``front_run`` in the victim's direction, the victim sells ``victim_in``,
    then the attacker sells everything it received back; every leg pays the pool's fee. A
    sandwich the pool would refuse (a curve's trade-size cap, as Balancer's 30 %) gains nothing.
    """
    pool = copy.deepcopy(side)
    try:
        got = pool.apply(front_run)
        pool.apply(victim_in)
        return pool.reverse().quote(got) - front_run
    except ArithmeticError:
        return -front_run


def output_after_front_run(side, front_run: int, victim_in: int) -> int:
    """The victim's output after a same-direction front-run of ``front_run`` (0 if the pool
    would refuse either trade)."""
    pool = copy.deepcopy(side)
    try:
        pool.apply(front_run)
        return pool.quote(victim_in)
    except ArithmeticError:
        return 0


def sandwich_safe_min_out(side, amount_in: int) -> int:
    """The loosest min-out for selling ``amount_in`` on ``side`` that leaves every sandwich
    unprofitable.

    A min-out of ``m`` admits every front-run after which the victim still receives ``m``. The
    attacker's result is zero at no front-run and (fees both ways) rises with the front-run only
    while the victim's own price impact outweighs twice the fee. So: find the largest front-run
    ``x`` such that no front-run up to ``x`` gains (probing sizes that halve down from 10% of the
    side's depth, then bisecting to the first gaining size), and return the victim's output
    after ``x``. When no probed size gains, the output after a front-run of 10% of the depth is
    returned (the caller takes the larger of this and the vault's oracle bound).
    """
    limit = side.depth() // 10
    probes = []
    size = limit
    while size > 0:
        probes.append(size)
        size //= 2
    gaining = [x for x in probes if sandwich_gain(side, x, amount_in) > 0]
    if not gaining:
        return output_after_front_run(side, limit, amount_in)
    lo, hi = 0, min(gaining)  # gain(lo) <= 0 < gain(hi)
    while hi - lo > 1:
        mid = (lo + hi) // 2
        if sandwich_gain(side, mid, amount_in) > 0:
            hi = mid
        else:
            lo = mid
    return output_after_front_run(side, lo, amount_in)
