"""Constant-product (Uniswap V2) math, identical to ``ConstantProductAMM.vy``."""

from __future__ import annotations

from math import isqrt

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
