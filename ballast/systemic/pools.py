"""The simulator's shared pools, vectorised over paths and pools: constant-product or concentrated.

Each pool trades one asset (units) against the numeraire; its price is numeraire per unit. Both
kinds start with the same value (``depth`` of numeraire plus ``depth`` worth of the asset), offer
the same four operations (sell units, buy units with numeraire, quote without trading, arbitrage
to the edge of the fee band) and report what a trade consumed, so the simulator does not care
which it trades on.

* :class:`ConstantProductPools`: ``ballast.venues.amm``'s float vector form (V2, the fee stays in
  the pool); every input is consumed.
* :class:`ConcentratedPools`: one Uniswap V3-style position per pool, liquidity ``L`` on the
  price range ``[pa, pb]`` (``pb / p0 = p0 / pa = 1 + range``), in floats: with ``s = sqrt(p)``
  the real reserves are ``x = L (1/s - 1/sb)`` and ``y = L (s - sa)``; a sell of ``a`` units
  moves ``1/s`` by ``a (1-f) / L``, a buy spending ``b`` moves ``s`` by ``b (1-f) / L`` (the fee is
  taken from the input and kept outside the curve, as V3 does). At a range edge the pool holds one
  asset and cannot move the price further: the rest of the input is not consumed (a V3 swap with
  the edge as its price limit). Checked against ``ballast.venues.uniswap_v3_math`` (the pool's
  integer math, to the wei) in ``tests/unit/test_systemic_v3.py``.

  Re-centring: when arbitrage would take the price beyond the range, the liquidity provider
  withdraws, and re-deposits the position's value at that price in a range of the same width
  centred there (an active LP; a static range would leave most GBM paths outside it within
  weeks), and arbitrage continues. Vault trades within a step are not re-centred.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

from ballast.constants import MAX_BPS
from ballast.venues.amm import amount_out_np, arbitrage_input_np, swap_np

FloatArray = NDArray[np.float64]

__all__ = ["ConcentratedPools", "ConstantProductPools", "make_pools"]

#: Re-centrings allowed in one arbitrage (each moves the range by at least its half-width).
MAX_RECENTRES = 64


class ConstantProductPools:
    """V2 pools: ``x`` units and ``y`` numeraire, price ``y / x``; the fee stays in the pool."""

    def __init__(self, depth: float, price: FloatArray, fee_bps: float):
        self.x = np.asarray(depth / price, dtype=np.float64).copy()
        self.y = np.full_like(self.x, depth)
        self.fee_bps = fee_bps

    def price(self) -> FloatArray:
        """Pool price, numeraire per unit."""
        return self.y / self.x

    def sell(self, units: FloatArray) -> tuple[FloatArray, FloatArray]:
        """Sells ``units`` (>= 0) for numeraire: ``(numeraire out, units consumed)``."""
        out, self.x, self.y = swap_np(units, self.x, self.y, self.fee_bps)
        return out, np.maximum(units, 0.0)

    def buy(self, spend: FloatArray) -> tuple[FloatArray, FloatArray]:
        """Spends ``spend`` (>= 0) numeraire on units: ``(units out, numeraire consumed)``."""
        out, self.y, self.x = swap_np(spend, self.y, self.x, self.fee_bps)
        return out, np.maximum(spend, 0.0)

    def quote_sell(self, units: FloatArray) -> FloatArray:
        """Numeraire a sell of ``units`` would pay now (the pool unchanged)."""
        return amount_out_np(units, self.x, self.y, self.fee_bps)

    def quote_buy(self, spend: FloatArray) -> FloatArray:
        """Units a buy spending ``spend`` would pay now (the pool unchanged)."""
        return amount_out_np(spend, self.y, self.x, self.fee_bps)

    def arbitrage(self, seen: FloatArray, band: float) -> None:
        """Trades each pool to the edge of its fee band around ``seen`` (``band`` = 1) or to
        ``seen`` itself (``band`` = 1 - fee): see :func:`ballast.venues.amm.arbitrage_input_np`."""
        sell_x = arbitrage_input_np(self.x, self.y, seen * band, self.fee_bps)
        sell_y = arbitrage_input_np(self.y, self.x, band / seen, self.fee_bps)
        _, self.x, self.y = swap_np(sell_x, self.x, self.y, self.fee_bps)
        _, self.y, self.x = swap_np(sell_y, self.y, self.x, self.fee_bps)


class ConcentratedPools:
    """One concentrated position per pool (see the module): sqrt price ``s``, liquidity ``L``,
    range ``[sa^2, sb^2]``; ``range_bps`` is the half-width, ``pb / p = p / pa = 1 + range``."""

    def __init__(self, depth: float, price: FloatArray, fee_bps: float, range_bps: float, recentre: bool = True):
        if range_bps <= 0:
            raise ValueError("range_bps must be positive")
        self.fee_bps = fee_bps
        self.gamma = 1.0 - fee_bps / MAX_BPS
        self.half = np.sqrt(1.0 + range_bps / MAX_BPS)  # sb / s = s / sa at the centre
        self.recentre = recentre
        self.s = np.sqrt(np.asarray(price, dtype=np.float64)).copy()
        self.sa, self.sb = self.s / self.half, self.s * self.half
        # y = L (s - sa) = depth at the start, so the value is 2 depth, as the V2 pool's.
        self.L = depth / (self.s * (1.0 - 1.0 / self.half))

    @classmethod
    def from_position(cls, s, liquidity, sa, sb, fee_bps: float) -> ConcentratedPools:
        """A pool in a given state (sqrt prices, liquidity), never re-centred: for tests."""
        pools = cls.__new__(cls)
        pools.fee_bps, pools.gamma, pools.recentre = fee_bps, 1.0 - fee_bps / MAX_BPS, False
        pools.half = np.sqrt(np.asarray(sb, dtype=np.float64) / np.asarray(sa, dtype=np.float64))
        as_array = lambda v: np.array(v, dtype=np.float64)  # noqa: E731
        pools.s, pools.L, pools.sa, pools.sb = as_array(s), as_array(liquidity), as_array(sa), as_array(sb)
        return pools

    def price(self) -> FloatArray:
        """Pool price, numeraire per unit."""
        return self.s * self.s

    def reserves(self) -> tuple[FloatArray, FloatArray]:
        """Real reserves ``(units, numeraire)`` of the position at the current price."""
        return self.L * (1.0 / self.s - 1.0 / self.sb), self.L * (self.s - self.sa)

    def _sell(self, units):
        """``(numeraire out, units consumed, new s)`` of a sell of ``units``; the pool unchanged."""
        a = np.maximum(np.asarray(units, dtype=np.float64), 0.0)
        net = a * self.gamma
        room = self.L * (1.0 / self.sa - 1.0 / self.s)  # net input that takes the price to pa
        hit = net >= room
        used = np.minimum(net, room)
        # 1/s' = 1/s + used / L, and the output L (s - s') = used s^2 / (1 + used s / L), in a
        # form that does not cancel (s - s' is tiny next to s for small trades on deep pools)
        step = used * self.s / self.L
        s_new = np.where(hit, self.sa, self.s / (1.0 + step))
        out = np.where(hit, self.L * (self.s - self.sa), used * self.s * self.s / (1.0 + step))
        return out, np.where(hit, room / self.gamma, a), s_new

    def _buy(self, spend):
        """``(units out, numeraire consumed, new s)`` of a buy spending ``spend``; the pool unchanged."""
        b = np.maximum(np.asarray(spend, dtype=np.float64), 0.0)
        net = b * self.gamma
        room = self.L * (self.sb - self.s)  # net input that takes the price to pb
        hit = net >= room
        s_new = np.where(hit, self.sb, self.s + np.minimum(net, room) / self.L)
        # L (1/s - 1/s') = used / (s s'), without cancellation
        out = np.minimum(net, room) / (self.s * s_new)
        return out, np.where(hit, room / self.gamma, b), s_new

    def sell(self, units: FloatArray) -> tuple[FloatArray, FloatArray]:
        """Sells ``units`` (>= 0): ``(numeraire out, units consumed)``; stops at ``pa``."""
        out, used, self.s = self._sell(units)
        return out, used

    def buy(self, spend: FloatArray) -> tuple[FloatArray, FloatArray]:
        """Spends ``spend`` (>= 0) numeraire: ``(units out, numeraire consumed)``; stops at ``pb``."""
        out, used, self.s = self._buy(spend)
        return out, used

    def quote_sell(self, units: FloatArray) -> FloatArray:
        """Numeraire a sell of ``units`` would pay now (the pool unchanged)."""
        return self._sell(units)[0]

    def quote_buy(self, spend: FloatArray) -> FloatArray:
        """Units a buy spending ``spend`` would pay now (the pool unchanged)."""
        return self._buy(spend)[0]

    def _recentre(self, where: NDArray[np.bool_]) -> None:
        """The LP moves its position's value, at the current price, to a range centred there."""
        x, y = self.reserves()
        value = x * self.s * self.s + y
        self.L = np.where(where, value / (2.0 * self.s * (1.0 - 1.0 / self.half)), self.L)
        self.sa = np.where(where, self.s / self.half, self.sa)
        self.sb = np.where(where, self.s * self.half, self.sb)

    def arbitrage(self, seen: FloatArray, band: float) -> None:
        """Moves each price to the edge of the fee band around ``seen`` (``band`` = 1; the marginal
        output net of fee equals ``seen``: ``p = seen / (1-f)`` from above, ``seen (1-f)`` from
        below) or to ``seen`` (``band`` = 1 - fee). Beyond the range the price stops at its edge,
        and the LP re-centres (if enabled) and arbitrage goes on."""
        high = seen * band / self.gamma  # above this the arbitrageur sells units
        low = seen * self.gamma / band  # below this he buys them
        for _ in range(MAX_RECENTRES):
            target = np.clip(self.s, np.sqrt(low), np.sqrt(high))
            self.s = np.clip(target, self.sa, self.sb)
            stuck = target != self.s
            if not self.recentre or not stuck.any():
                return
            self._recentre(stuck)


def make_pools(kind: str, depth: float, price: FloatArray, fee_bps: float, range_bps: float, recentre: bool = True):
    """The pools of a market: ``"cp"`` (constant product) or ``"v3"`` (concentrated)."""
    if kind == "cp":
        return ConstantProductPools(depth, price, fee_bps)
    if kind == "v3":
        return ConcentratedPools(depth, price, fee_bps, range_bps, recentre)
    raise ValueError(f"pool kind must be 'cp' or 'v3', got {kind!r}")
