"""The race's sandwich attacker: every trade a system sends to a Uniswap V2 pair, sandwiched.

The attacker holds every token and sees each victim trade before it lands (the trade, its size and
its limit: the min-out of a sale, the max-in of an exact-output buy). Before the trade it sends the
most profitable front-run that still lets the trade fill; after it, the exact best back-run. Both
are swaps through Uniswap's ``UniswapV2Router02`` from the attacker's own account, on the same pairs
the systems trade.

The search is the bench's (:mod:`ballast.bench.sandwich`), on the pair read from the chain just
before the trade (a :class:`ballast.planner.Pool`, Uniswap V2's integer math):

* a sale of an exact input with a min-out (Ballast's trades; Set's sells):
  :func:`ballast.bench.sandwich.evaluate` with the trade's own min-out;
* a buy of an exact output with a max-in (Set's buys, which its V2 adapter sends as
  ``swapTokensForExactTokens``): :func:`evaluate_exact_output`, the same grid of front-runs
  (:func:`~ballast.bench.sandwich.front_run_grid`, up to the largest after which the buy still
  costs at most its max-in) and the same exact back-run (:func:`~ballast.bench.sandwich.best_back_run`).

Each front-run tried is followed by the best back-run; "no front-run" (the back-run alone, which
arbitrages the victim's own impact and is open to anyone) is one of the candidates. The attacker's
result is the oracle value of what it holds after minus before, both legs' swap fees in it, its
gas not charged (which only flatters it). What the sandwich itself earns is that result minus the
back-run alone.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass, field
from fractions import Fraction

from ballast.bench.sandwich import (
    BACK_RUN_WINDOW,
    BACK_RUN_WINDOW_FINE,
    GRID,
    Asset,
    Attack,
    best_back_run,
    evaluate,
    front_run_grid,
    result,
)
from ballast.chain.erc20 import token_at
from ballast.constants import MAX_BPS, WAD
from ballast.peers.set_protocol import v2_amount_in
from ballast.planner import Pool
from ballast.venues import uniswap_v2
from ballast.venues.routing import Side

DEADLINE = 2**64
V2_FEE_BPS = 30


def buy_exact(side: Side, amount_out: int) -> int:
    """Buy exactly ``amount_out`` on ``side`` (a :class:`~ballast.planner.Pool`'s side) as the V2
    router does: the input is ``getAmountIn``'s, the reserves move by exactly what was paid and
    bought. Returns the input paid."""
    pool = side.pool
    reserve_in, reserve_out = pool.reserves(side.token_in)
    paid = v2_amount_in(amount_out, reserve_in, reserve_out)
    if str(side.token_in).lower() == pool.token_a.lower():
        pool.reserve_a, pool.reserve_b = pool.reserve_a + paid, pool.reserve_b - amount_out
    else:
        pool.reserve_b, pool.reserve_a = pool.reserve_b + paid, pool.reserve_a - amount_out
    return paid


def _paid_after_front_run(side: Side, front_run: int, amount_out: int) -> int | None:
    pool = copy.deepcopy(side)
    try:
        if front_run:
            pool.apply(front_run)
        return buy_exact(pool, amount_out)
    except ArithmeticError:
        return None


def attack_exact_output(side: Side, sold: Asset, bought: Asset, front_run: int, amount_out: int, window: int) -> Attack:
    """Front-run ``front_run`` of ``sold`` on a copy of ``side``, fill the victim's exact-output buy
    of ``amount_out``, back-run best. ``Attack.victim_out`` holds what the victim *paid*."""
    pool = copy.deepcopy(side)
    got = pool.apply(front_run) if front_run else 0
    paid = buy_exact(pool, amount_out)
    _, _, back = best_back_run(pool, sold, bought, window)
    return Attack(front_run, paid, result(sold, bought, -front_run, got) + back)


@dataclass
class Plan:
    """The search's answer for one victim trade (model, before anything is sent)."""

    admitted: int  # the largest front-run after which the trade still fills, base units of its input
    tried: int  # front-runs tried
    best: Attack  # the attacker's best (front_run 0: the back-run alone is best)
    back_run_alone: Fraction  # WAD


def evaluate_exact_output(
    side: Side, amount_out: int, max_in: int, sold: Asset, bought: Asset, grid: int = GRID
) -> Plan:
    """The sandwich of buying exactly ``amount_out`` of ``bought`` on ``side`` for at most
    ``max_in`` of ``sold``: every admitted front-run on the grid, the best few re-searched wider."""
    lo, hi = 0, 4 * side.depth()
    while lo < hi:  # the victim's input rises with the front-run: bisect the largest admitted
        mid = (lo + hi + 1) // 2
        paid = _paid_after_front_run(side, mid, amount_out)
        if paid is not None and paid <= max_in:
            lo = mid
        else:
            hi = mid - 1
    sizes = front_run_grid(lo, grid)
    coarse = sorted(
        (attack_exact_output(side, sold, bought, x, amount_out, BACK_RUN_WINDOW) for x in sizes),
        key=lambda a: -a.result,
    )
    alone = attack_exact_output(side, sold, bought, 0, amount_out, BACK_RUN_WINDOW_FINE)
    finals = [
        attack_exact_output(side, sold, bought, a.front_run, amount_out, BACK_RUN_WINDOW_FINE)
        for a in coarse
        if a.front_run
    ][:3]
    return Plan(lo, len(sizes), max([*finals, alone], key=lambda a: a.result), alone.result)


def evaluate_exact_input(side: Side, amount_in: int, min_out: int, sold: Asset, bought: Asset) -> Plan:
    """The sandwich of selling ``amount_in`` on ``side`` with ``min_out``
    (:func:`ballast.bench.sandwich.evaluate`, the victim's own min-out, no oracle bound of its own)."""
    cell = evaluate(side, amount_in, sold, bought, side.depth(), slippage_bps=MAX_BPS, min_out=min_out)
    return Plan(cell.admitted, cell.tried, cell.best, cell.back_run_alone)


@dataclass
class Sandwich:
    """One victim trade, sandwiched: the search's plan, and what the chain did."""

    system: str
    token_in: str  # the victim's direction
    token_out: str
    exact_output: bool
    amount: int  # the victim's input (exact input) or output (exact output)
    limit: int  # its min-out or max-in
    plan: Plan
    admitted_value: Fraction = Fraction(0)  # the largest admitted front-run at oracle prices, WAD
    front_run_out: int = 0  # what the front-run received
    back_run: tuple[int, int] = (0, 0)  # (paid, received), on chain
    result: Fraction = Fraction(0)  # the attacker's result on chain, WAD
    gas: int = 0  # the attacker's transactions (not charged to its result)
    transactions: int = 0

    @property
    def gain(self) -> Fraction:
        """What the sandwich earned over the back-run alone (model), WAD."""
        return self.plan.best.result - self.plan.back_run_alone


@dataclass
class Attacker:
    """An account holding every token, swapping through ``router`` on ``factory``'s pairs;
    ``assets`` maps each token's lowercase address to its :class:`~ballast.bench.sandwich.Asset`
    (oracle price at this move). Every sandwich it ran is in ``sandwiches``."""

    account: object
    router: object
    factory: object
    assets: dict[str, Asset]
    sandwiches: list[Sandwich] = field(default_factory=list)

    def side(self, token_in: str, token_out: str) -> Side:
        """The pair of the two tokens as read from the chain now, selling ``token_in``."""
        pair = uniswap_v2.container("UniswapV2Pair").at(self.factory.getPair(token_in, token_out))
        r0, r1, _ = pair.getReserves()
        pool = Pool(str(pair.address), str(pair.token0()), str(pair.token1()), int(r0), int(r1), V2_FEE_BPS)
        return Side(pool, str(token_in), str(token_out))

    def plan(self, system: str, token_in: str, token_out: str, amount: int, limit: int, exact_output: bool) -> Sandwich:
        """Search the best sandwich of one victim trade on the pair as it is now (nothing sent)."""
        side = self.side(token_in, token_out)
        sold, bought = self.assets[str(token_in).lower()], self.assets[str(token_out).lower()]
        if exact_output:
            plan = evaluate_exact_output(side, amount, limit, sold, bought)
        else:
            plan = evaluate_exact_input(side, amount, limit, sold, bought)
        return Sandwich(
            system, str(token_in), str(token_out), exact_output, amount, limit, plan, sold.value(plan.admitted)
        )

    def _swap(self, sandwich: Sandwich, token_in: str, token_out: str, amount_in: int, min_out: int) -> tuple:
        """Sell ``amount_in`` through the router; returns (paid, received) from the balances."""
        before = (_balance(token_in, self.account), _balance(token_out, self.account))
        receipt = self.router.swapExactTokensForTokens(
            amount_in, min_out, [token_in, token_out], self.account.address, DEADLINE, sender=self.account
        )
        sandwich.gas += int(receipt.gas_used)
        sandwich.transactions += 1
        after = (_balance(token_in, self.account), _balance(token_out, self.account))
        return before[0] - after[0], after[1] - before[1]

    def front_run(self, sandwich: Sandwich) -> None:
        """Send the plan's front-run (nothing when the back-run alone is best)."""
        self.sandwiches.append(sandwich)
        x = sandwich.plan.best.front_run
        if x:
            paid, got = self._swap(sandwich, sandwich.token_in, sandwich.token_out, x, 0)
            sandwich.front_run_out = got
            sold = self.assets[sandwich.token_in.lower()]
            bought = self.assets[sandwich.token_out.lower()]
            sandwich.result += result(sold, bought, -paid, got)

    def back_run(self, sandwich: Sandwich) -> None:
        """After the victim's trade: the exact best back-run on the pair as it now is."""
        sold = self.assets[sandwich.token_in.lower()]
        bought = self.assets[sandwich.token_out.lower()]
        paid, received, _ = best_back_run(
            self.side(sandwich.token_in, sandwich.token_out), sold, bought, BACK_RUN_WINDOW_FINE
        )
        if paid:
            paid, received = self._swap(sandwich, sandwich.token_out, sandwich.token_in, paid, received)
            sandwich.back_run = (paid, received)
            sandwich.result += result(sold, bought, received, -paid)


def _balance(token: str, account) -> int:
    return int(token_at(token).balanceOf(account))


def usd(value: Fraction | int) -> float:
    """A WAD amount as float USD, for printing."""
    return float(value) / WAD
