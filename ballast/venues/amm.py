"""Constant-product (Uniswap V2) math, identical to ``ConstantProductAMM.vy``.

The integer functions reproduce the contract; the ``*_np`` functions are the same formulas in
floating point, vectorised over arrays of pools, for simulators (:mod:`ballast.systemic`).
"""

from __future__ import annotations

from math import isqrt

import numpy as np

from ballast.constants import MAX_BPS
from ballast.venues.routing import PROBE_HALVINGS


def amount_out(amount_in: int, reserve_in: int, reserve_out: int, fee_bps: int) -> int:
    """Output of a swap of ``amount_in`` against reserves, fee taken on the input; rounds down."""
    if amount_in <= 0 or reserve_in <= 0 or reserve_out <= 0:
        return 0
    in_with_fee = amount_in * (MAX_BPS - fee_bps)
    return in_with_fee * reserve_out // (reserve_in * MAX_BPS + in_with_fee)


def arbitrage_input(reserve_in: int, reserve_out: int, price_in: int, price_out: int, fee_bps: int) -> int:
    """Input that moves the pool's marginal price to the oracle ratio ``price_in / price_out``.

    After the trade the pool should hold ``reserve_out / reserve_in = price_in / price_out``;
    with ``k`` fixed the new input reserve is ``sqrt(k * price_out / price_in)``. The fee is
    grossed up so that the effective input is right. Returns 0 when the pool is already at or
    beyond the oracle price on this side.
    """
    k = reserve_in * reserve_out
    target_in = isqrt(k * price_out // price_in)
    if target_in <= reserve_in:
        return 0
    return (target_in - reserve_in) * MAX_BPS // (MAX_BPS - fee_bps)


def sandwich_gain(front_run: int, reserve_in: int, reserve_out: int, fee_bps: int, victim_in: int) -> int:
    """A sandwich's result on one pool, in units of the victim's input token (negative: a loss).

    The attacker sells ``front_run`` in the victim's direction, the victim sells ``victim_in``,
    and the attacker sells everything it received back; every leg pays the pool's fee.
    """
    got = amount_out(front_run, reserve_in, reserve_out, fee_bps)
    r_in, r_out = reserve_in + front_run, reserve_out - got
    victim_out = amount_out(victim_in, r_in, r_out, fee_bps)
    r_in, r_out = r_in + victim_in, r_out - victim_out
    return amount_out(got, r_out, r_in, fee_bps) - front_run


def output_after_front_run(front_run: int, reserve_in: int, reserve_out: int, fee_bps: int, victim_in: int) -> int:
    """The victim's output after a same-direction front-run of ``front_run``."""
    got = amount_out(front_run, reserve_in, reserve_out, fee_bps)
    return amount_out(victim_in, reserve_in + front_run, reserve_out - got, fee_bps)


def sandwich_safe_min_out(amount_in: int, reserve_in: int, reserve_out: int, fee_bps: int) -> int:
    """The loosest min-out for selling ``amount_in`` that leaves every sandwich unprofitable: the
    closed form of :func:`ballast.venues.routing.sandwich_safe_min_out` with no floor (tested equal).

    Front-runs that halve down from 10% of the pool are probed (down to 2**-40 of it). If none gains (fees both ways
    outweigh the victim's own price impact), the pool is too costly to sandwich and the result is
    the output after a front-run of 10% of the pool (the caller takes the larger of this and the
    vault's oracle bound). If one gains, a sandwich gains from the smallest front-run on (the gain
    rises from zero only while the victim's impact outweighs twice the fee), and the result is the
    expected output itself: no front-run that lowers it is admitted.
    """
    limit = reserve_in // 10
    probes = [limit >> k for k in range(PROBE_HALVINGS + 1) if limit >> k]
    if any(sandwich_gain(x, reserve_in, reserve_out, fee_bps, amount_in) > 0 for x in probes):
        return amount_out(amount_in, reserve_in, reserve_out, fee_bps)
    return output_after_front_run(limit, reserve_in, reserve_out, fee_bps, amount_in)


# ----------------------------------------------------------------- vectorised (floats)


def amount_out_np(amount_in, reserve_in, reserve_out, fee_bps: float) -> np.ndarray:
    """:func:`amount_out` in floating point, elementwise: ``a(1-f) y / (x + a(1-f))``; 0 for ``a <= 0``."""
    a = np.asarray(amount_in, dtype=np.float64)
    in_with_fee = np.maximum(a, 0.0) * (1.0 - fee_bps / MAX_BPS)
    return in_with_fee * reserve_out / (reserve_in + in_with_fee)


def swap_np(amount_in, reserve_in, reserve_out, fee_bps: float):
    """One swap per pool: ``(amount out, new reserve in, new reserve out)``; the fee stays in the pool."""
    out = amount_out_np(amount_in, reserve_in, reserve_out, fee_bps)
    return out, reserve_in + np.maximum(amount_in, 0.0), reserve_out - out


def arbitrage_input_np(reserve_in, reserve_out, price_in, fee_bps: float) -> np.ndarray:
    """Input that brings the pool's marginal output net of fee, ``(1-f) y'/x'``, down to ``price_in``.

    ``price_in`` is the external price of the input token in output tokens. A rational arbitrageur
    stops there (one more unit would lose money), so the pool ends at the edge of its fee band. With
    the fee kept in the pool (``x' = x + a``, ``y' = x y / (x + (1-f) a)``) the condition is the
    quadratic ``(1-f) a^2 + (2-f) x a + x^2 - (1-f) x y / price_in = 0``, solved in its stable form;
    with ``f = 0`` it is ``x' = sqrt(k / price_in)``, as :func:`arbitrage_input`. 0 when the pool is
    already at or inside the band on this side.
    """
    x = np.asarray(reserve_in, dtype=np.float64)
    g = 1.0 - fee_bps / MAX_BPS
    c = x * x - g * x * reserve_out / price_in
    b = (1.0 + g) * x
    root = np.sqrt(np.maximum(b * b - 4.0 * g * c, 0.0))
    return np.where(c < 0.0, -2.0 * c / (b + root), 0.0)
