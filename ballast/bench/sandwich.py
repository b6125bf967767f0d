"""The sandwich matrix: what a sandwich of one planned trade earns, cell by cell.

A cell is a Uniswap V3 pool of USDC and WBTC (the pool :func:`ballast.venues.uniswap_v3.seed_pool`
makes, built off-chain by :func:`~ballast.venues.uniswap_v3.seeded_state`: the pool's own integer
math, equal to the chain to the wei) at ``depth`` USD per side and one fee tier, at the oracle
price, and a vault trade selling ``size`` of the pool's WBTC for USDC with the planner's min-out
(:func:`ballast.planner.planned_min_out` over the oracle bound at the vault's ``max_slippage_bps``).

The attacker, holding both tokens, front-runs ``x`` WBTC in the vault's direction, the vault's trade
fills (if it still meets its min-out), and the attacker back-runs: it sells USDC for WBTC, as much
as pays best at oracle prices (:func:`best_back_run`, the exact integer optimum). Its result is the
oracle value of what it holds after minus before, so both legs' fees are in it. Part of that result
is open to anyone, sandwich or not: the back-run alone (``x = 0``) arbitrages the vault's own price
impact back to the oracle. What the sandwich earns is the rest: :func:`sandwich_gain`, the best
result over every admitted front-run (a grid from 0 to the largest after which the trade still
fills, :func:`~ballast.venues.routing.largest_admitted_front_run`) minus the back-run alone. It must be <= 0 in every cell.

Money is integers: amounts in base units, prices in WAD per whole token, results exact
(:class:`~fractions.Fraction` of WAD) until they are printed.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass
from fractions import Fraction

from ballast.bench.report import Table
from ballast.constants import MAX_BPS, WAD
from ballast.planner import min_amount_out, planned_min_out
from ballast.venues import uniswap_v3
from ballast.venues.routing import Side, largest_admitted_front_run, output_after_front_run

USDC = ("0x" + "00" * 19 + "01", 6, 1 * WAD)  # (address, decimals, price): token0 of every cell's pool
WBTC = ("0x" + "00" * 19 + "02", 8, 60_000 * WAD)  # token1; the vault sells it
DEPTHS_USD = (2_000_000, 20_000_000, 200_000_000)  # per side
FEES_BPS = (1, 5, 30, 100)  # Uniswap V3's four tiers
SIZES_BPS = (10, 100, 1_000)  # the vault's trade, in bps of the pool's WBTC: 0.1%, 1%, 10%
# Liquidity shapes (seed_pool's band_bps): all full range (a constant-product curve), and half full
# range with half within about 1% of the price (concentrated, as a major pair's liquidity is).
SHAPES = ((None, "full range"), (100, "half full range, half within 1% of the price"))
MAX_SLIPPAGE_BPS = 150  # the vault's bound (the demo's and the bench's spec)
GRID = 48  # front-runs tried per cell: evenly spaced up to the largest admitted, plus halvings of it
HALVINGS = 24
BACK_RUN_WINDOW = 3  # WBTC base units either side of the continuous optimum, when scanning grid points
BACK_RUN_WINDOW_FINE = 64  # the same for the baseline and the best front-runs, re-evaluated


@dataclass(frozen=True)
class Asset:
    address: str
    decimals: int
    price: int  # oracle USD price of one whole token, WAD

    def value(self, amount: int) -> Fraction:
        """Exact oracle value (WAD) of ``amount`` base units (negative: a debt)."""
        return Fraction(amount * self.price, 10**self.decimals)


def result(sold: Asset, bought: Asset, d_sold: int, d_bought: int) -> Fraction:
    """The oracle value (WAD) of a change in holdings of the two tokens."""
    return sold.value(d_sold) + bought.value(d_bought)


def _quote(side: Side, amount: int) -> int:
    """``side.quote``, with 0 for nothing and -1 when the pool cannot take ``amount``."""
    if amount <= 0:
        return 0
    try:
        return side.quote(amount)
    except ArithmeticError:
        return -1


def _least_input_for(side: Side, want: int, guess: int) -> int | None:
    """The least input whose output on ``side`` is at least ``want`` (None if none is)."""
    lo, hi = max(guess - max(guess >> 16, 1_000), 0), guess + max(guess >> 16, 1_000)
    while 0 <= _quote(side, hi) < want:
        lo, hi = hi, 2 * hi
    if _quote(side, hi) < 0:
        return None
    while lo > 0 and _quote(side, lo) >= want:
        lo //= 2
    while lo < hi:
        mid = (lo + hi) // 2
        if _quote(side, mid) >= want:
            hi = mid
        else:
            lo = mid + 1
    return lo


def best_back_run(side: Side, sold: Asset, bought: Asset, window: int = BACK_RUN_WINDOW) -> tuple[int, int, Fraction]:
    """The back-run after the vault's trade on ``side`` (the vault's direction: ``sold`` for
    ``bought``): sell ``bought`` for ``sold`` as far as pays best at oracle prices.

    The continuous optimum (the pool's marginal price back at the oracle: ``input_for_price``)
    gives a guess. Around it the search steps through whole base units of the dearer token, which
    the rounding of the swap makes the coarser: for each number ``k`` of ``sold`` units received,
    the least input that buys them (the matrix's WBTC), or each input of ``bought`` (when its
    units are the dearer); ``window`` steps either side, widened while the best sits at the edge,
    up to 16 times. The result is the best integer back-run to within one base unit of the cheaper
    token (near the optimum the curve is flat: only the rounding differs from step to step).
    Returns ``(input, output, result)``: ``bought`` paid, ``sold`` received, and their oracle
    value (WAD); ``(0, 0, 0)`` when no back-run pays.
    """
    back = side.reverse()
    fair = bought.price * 10**sold.decimals / (sold.price * 10**bought.decimals)  # sold units per bought unit
    guess = int(back.input_for_price(fair))
    if guess <= 0 or _quote(back, guess) <= 0:
        return 0, 0, Fraction(0)
    by_output = sold.value(1) >= bought.value(1)
    center = _quote(back, guess) if by_output else guess

    def back_run(step: int) -> tuple[int, int] | None:
        if by_output:
            paid = _least_input_for(back, step, guess)
            return None if paid is None else (paid, step)
        out = _quote(back, step)
        return None if out < 0 else (step, out)

    best = (0, 0, Fraction(0))
    seen: set[int] = set()
    lo, hi = max(center - window, 1), center + window
    for _ in range(16):
        for step in range(lo, hi + 1):
            if step in seen:
                continue
            seen.add(step)
            trade = back_run(step)
            if trade is None:
                continue
            value = result(sold, bought, trade[1], -trade[0])
            if value > best[2]:
                best = (*trade, value)
        edge = best[1] if by_output else best[0]
        if edge == hi:
            lo, hi = hi + 1, hi + window
        elif edge == lo and lo > 1:
            lo, hi = max(lo - window, 1), lo - 1
        else:
            break
    return best


@dataclass(frozen=True)
class Attack:
    front_run: int  # WBTC sold before the vault's trade
    victim_out: int  # what the vault's trade received
    result: Fraction  # the attacker's front-run plus back-run at oracle prices, WAD


def attack(side: Side, sold: Asset, bought: Asset, front_run: int, victim_in: int, window: int) -> Attack:
    """Front-run ``front_run`` on a copy of ``side``, fill the vault's ``victim_in``, back-run best."""
    pool = copy.deepcopy(side)
    got = pool.apply(front_run) if front_run else 0
    victim_out = pool.apply(victim_in)
    paid, received, back = best_back_run(pool, sold, bought, window)
    return Attack(front_run, victim_out, result(sold, bought, -front_run, got) + back)


def front_run_grid(limit: int, points: int = GRID, halvings: int = HALVINGS) -> list[int]:
    """Front-run sizes from 0 to ``limit``: evenly spaced, and ``limit`` halved down to one unit."""
    sizes = {limit * k // points for k in range(points + 1)}
    sizes |= {limit >> k for k in range(1, halvings + 1)}
    return sorted(sizes)


@dataclass
class Cell:
    depth_usd: int
    fee_bps: int
    size_bps: int
    victim_in: int  # WBTC base units
    value_in: int  # its oracle value, WAD (rounded up, as the vault values a sale)
    expected_out: int  # USDC without a sandwich
    min_out: int  # the planner's; 0 when the trade cannot fill within the vault's bound at all
    binding: str  # "expected fill" (a sandwich would pay), "oracle bound" (none would), "no fill"
    admitted: int = 0  # the largest front-run after which the trade still fills, WBTC base units
    pool_wbtc: int = 0
    tried: int = 0  # front-runs tried
    back_run_alone: Fraction = Fraction(0)  # the arbitrage of the vault's impact, open to anyone, WAD
    best: Attack | None = None  # the attacker's best (no front-run at all, when every one loses)
    best_front: Attack | None = None  # its best front-run of one unit or more
    at_largest: Attack | None = None  # the largest admitted front-run (the vault's worst fill)
    worst_out: int = 0  # the vault's output after the largest admitted front-run

    @property
    def gain(self) -> Fraction:
        """What the sandwich earns over the back-run alone, WAD (must be <= 0)."""
        return self.best.result - self.back_run_alone if self.best else Fraction(0)

    def gain_of(self, attack: Attack) -> Fraction:
        """What ``attack`` earns over the back-run alone, WAD."""
        return attack.result - self.back_run_alone

    def loss_bps(self, out: int) -> float:
        """The vault's loss on the trade at oracle prices, in bps of the value sold."""
        return float((self.value_in - USDC_ASSET.value(out)) * MAX_BPS / self.value_in)


USDC_ASSET, WBTC_ASSET = Asset(*USDC), Asset(*WBTC)


def cell_pool(depth_usd: int, fee_bps: int, band_bps: int | None, venue: str = "0x" + "11" * 20) -> Side:
    """The cell's pool, seeded with ``depth_usd`` of each token at the oracle price, as the side
    selling WBTC for USDC."""
    usdc = depth_usd * 10**USDC_ASSET.decimals
    wbtc = depth_usd * WAD * 10**WBTC_ASSET.decimals // WBTC_ASSET.price
    state = uniswap_v3.seeded_state(usdc, wbtc, fee_bps * 100, band_bps)
    pool = uniswap_v3.V3Pool(venue, USDC_ASSET.address, WBTC_ASSET.address, "0x" + "22" * 20, state)
    return Side(uniswap_v3.V3VenuePool(pool), WBTC_ASSET.address, USDC_ASSET.address)


def evaluate(
    side: Side,
    victim_in: int,
    sold: Asset,
    bought: Asset,
    pool_side: int,
    slippage_bps: int = MAX_SLIPPAGE_BPS,
    grid: int = GRID,
    min_out: int | None = None,
) -> Cell:
    """The sandwich of selling ``victim_in`` of ``sold`` on ``side`` with ``min_out`` (default: the
    planner's min-out on ``side``), every admitted front-run on the grid tried; ``pool_side`` is
    the pool's ``sold`` balance."""
    value_in = -(-victim_in * sold.price // 10**sold.decimals)
    expected = _quote(side, victim_in)
    oracle_min = min_amount_out(value_in, bought.price, bought.decimals, slippage_bps)
    cell = Cell(0, 0, 0, victim_in, value_in, expected, 0, "no fill", pool_wbtc=pool_side)
    if expected < oracle_min:  # the planner sends nothing: the vault's own bound rules the trade out
        return cell
    cell.min_out = planned_min_out(side, victim_in, oracle_min) if min_out is None else min_out
    cell.binding = "expected fill" if cell.min_out >= expected else "oracle bound"
    cell.admitted = largest_admitted_front_run(side, victim_in, cell.min_out, 4 * pool_side)
    cell.worst_out = output_after_front_run(side, cell.admitted, victim_in)
    sizes = front_run_grid(cell.admitted, grid)
    cell.tried = len(sizes)
    coarse = sorted((attack(side, sold, bought, x, victim_in, BACK_RUN_WINDOW) for x in sizes), key=lambda a: -a.result)
    # The baseline and the best few again, each back-run searched wider: exact to far below a unit.
    cell.back_run_alone = attack(side, sold, bought, 0, victim_in, BACK_RUN_WINDOW_FINE).result
    fronts = [a for a in coarse if a.front_run][:3]
    finals = [attack(side, sold, bought, a.front_run, victim_in, BACK_RUN_WINDOW_FINE) for a in fronts]
    cell.best_front = max(finals, key=lambda a: a.result, default=None)
    cell.best = max([*finals, Attack(0, expected, cell.back_run_alone)], key=lambda a: a.result)
    if cell.admitted:
        cell.at_largest = attack(side, sold, bought, cell.admitted, victim_in, BACK_RUN_WINDOW_FINE)
    return cell


def run_cell(depth_usd: int, fee_bps: int, size_bps: int, band_bps: int | None, grid: int = GRID) -> Cell:
    """One cell of the matrix, computed with the pool's exact math (no chain)."""
    side = cell_pool(depth_usd, fee_bps, band_bps)
    pool_wbtc = depth_usd * WAD * 10**WBTC_ASSET.decimals // WBTC_ASSET.price
    cell = evaluate(side, pool_wbtc * size_bps // MAX_BPS, WBTC_ASSET, USDC_ASSET, pool_wbtc, grid=grid)
    cell.depth_usd, cell.fee_bps, cell.size_bps = depth_usd, fee_bps, size_bps
    return cell


def matrix(band_bps: int | None) -> list[Cell]:
    """Every (depth, fee, size) cell for one liquidity shape."""
    return [run_cell(depth, fee, size, band_bps) for depth in DEPTHS_USD for fee in FEES_BPS for size in SIZES_BPS]


def _usd(value: Fraction) -> str:
    return f"{float(value) / WAD:,.6f}"


def matrix_table(cells: list[Cell], shape: str) -> Table:
    table = Table(
        f"Sandwich matrix, Uniswap V3 ({shape})",
        [
            "depth / side",
            "fee",
            "trade",
            "trade $",
            "min-out",
            "largest front-run admitted",
            "tried",
            "attacker best $",
            "best front-run $ (size)",
            "largest front-run $",
            "back-run alone $",
            "vault loss bps (best / largest front-run)",
        ],
    )
    for c in cells:
        head = [f"${c.depth_usd / 1e6:,.0f}M", f"{c.fee_bps} bps", f"{c.size_bps / 100:g}%", f"{c.value_in / WAD:,.0f}"]
        if c.binding == "no fill":
            impact = f"{c.loss_bps(c.expected_out):.1f} unsandwiched > {MAX_SLIPPAGE_BPS}: not sent"
            table.add(*head, "no fill", "-", "-", "-", "-", "-", "-", impact)
            continue
        front = "-" if c.best_front is None else f"{_usd(c.gain_of(c.best_front))} ({c.best_front.front_run:,})"
        largest = "-" if c.at_largest is None else _usd(c.gain_of(c.at_largest))
        table.add(
            *head,
            c.binding,
            f"{c.admitted * 100 / c.pool_wbtc:.4f}% ({c.admitted:,})",
            c.tried,
            _usd(c.gain),
            front,
            largest,
            _usd(c.back_run_alone),
            f"{c.loss_bps(c.best.victim_out):.1f} / {c.loss_bps(c.worst_out):.1f} <= {MAX_SLIPPAGE_BPS}",
        )
    worst = max((c.gain for c in cells if c.best), default=Fraction(0))
    table.notes += [
        f"WBTC ($60,000, 8 decimals) sold for USDC (6 decimals), token1 for token0, the pool at the oracle price; "
        f"min-out = the planner's (planner.planned_min_out) over the vault's {MAX_SLIPPAGE_BPS} bps bound",
        "front-runs tried: evenly spaced up to the largest admitted, and its halvings; each followed by the exact "
        "best back-run; results at oracle prices, both legs' fees in them, exact integers shown to $0.000001",
        "attacker best = best front-run + back-run minus the back-run alone (the vault's impact arbitraged, open to "
        "anyone): 0 when no front-run at all is best",
        f"largest attacker result over every cell: ${_usd(worst)} ({'<= 0' if worst <= 0 else 'A SANDWICH PAYS'})",
    ]
    return table
