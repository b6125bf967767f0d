"""Constant-product (Uniswap V2) math, identical to ``ConstantProductAMM.vy``."""

from __future__ import annotations

from math import isqrt

from ballast.constants import MAX_BPS


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
