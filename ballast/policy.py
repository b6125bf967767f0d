"""Rebalance trigger policies, mirroring the vault's ``needs_rebalance()``.

Two flavours of the same rules live here:

* an exact, integer-math scalar version (:func:`needs_rebalance`,
  :func:`vol_scale_bps`, :class:`VolEstimator`) that reproduces the on-chain
  arithmetic of ``contracts/modules/basket.vy`` bit for bit, floor divisions
  included, for keepers, planners and cross-checks against the contract;
* a vectorised floating-point version (:func:`needs_rebalance_np`,
  :func:`vol_scale_np`, :func:`update_variance_np`) that evaluates the same
  rules for many simulated paths at once, for the backtester.

It also holds the one definition of "edge" (how far a rebalance in edge mode trades),
used by both the planner (:func:`band_edge_deltas`, integers) and the backtester
(:func:`band_edge_np`): see :func:`band_edge_deltas`.

Units of the scalar version match the vault:

* drifts (``weight_i - target_i``), volatilities and variances are WAD
  integers (``10**18`` = 100 %, or an annualised sigma of 1.0);
* target weights, bands and outer bands are basis points (``10_000`` = 100 %);
* times and intervals are seconds.

The vectorised version uses plain fractions (``1.0`` = 100 %) for drifts and
volatilities, keeps bands in basis points, and returns reason *codes*, indices
into :data:`REASONS`.
"""

from __future__ import annotations

import math
import operator
from collections.abc import Sequence
from dataclasses import dataclass, field
from enum import IntEnum

import numpy as np
from numpy.typing import ArrayLike, NDArray

from ballast.constants import MAX_BPS, SECONDS_PER_YEAR, VOL_SCALE_MAX_BPS, VOL_SCALE_MIN_BPS, WAD

__all__ = [
    "REASONS",
    "REASON_CALENDAR",
    "REASON_HYBRID",
    "REASON_NONE",
    "REASON_OUTER_BAND",
    "REASON_THRESHOLD",
    "Trigger",
    "VolEstimator",
    "band_edge_deltas",
    "band_edge_np",
    "effective_bands_bps",
    "needs_rebalance",
    "needs_rebalance_np",
    "update_variance_np",
    "vol_scale_bps",
    "vol_scale_np",
]

#: One basis point in WAD.
_BPS_TO_WAD = WAD // MAX_BPS
#: Cap on a single observed return, as on chain (100x, WAD).
_MAX_RETURN = 100 * WAD
#: Cap on the variance, as a multiple of the reference variance.
_MAX_VARIANCE_MULTIPLE = 100


class Trigger(IntEnum):
    """Trigger families; values equal the vault's ``TRIGGER_*`` constants."""

    CALENDAR = 0
    THRESHOLD = 1
    HYBRID = 2


#: Reason strings, indexed by the codes returned by :func:`needs_rebalance_np`.
REASONS: tuple[str, ...] = ("", "calendar", "threshold", "outer band", "hybrid")
REASON_NONE = 0
REASON_CALENDAR = 1
REASON_THRESHOLD = 2
REASON_OUTER_BAND = 3
REASON_HYBRID = 4


# --------------------------------------------------------------------- scalar


def _ints(name: str, values: Sequence[int], length: int | None = None) -> list[int]:
    """Returns ``values`` as a list of Python ints, checking the length."""
    out = [operator.index(v) for v in values]
    if length is not None and len(out) != length:
        raise ValueError(f"{name}: expected {length} values, got {len(out)}")
    return out


def vol_scale_bps(vol: int, vol_reference: int) -> int:
    """Hybrid band multiplier (bps) of one asset, as the vault computes it.

    ``clamp(vol * MAX_BPS // vol_reference, VOL_SCALE_MIN_BPS, VOL_SCALE_MAX_BPS)``.

    Args:
        vol: Annualised volatility estimate (sigma), WAD.
        vol_reference: Volatility at which the multiplier is 1 (10_000 bps), WAD.

    Returns:
        The multiplier in basis points, within ``[5_000, 30_000]``.
    """
    vol = operator.index(vol)
    vol_reference = operator.index(vol_reference)
    if vol < 0:
        raise ValueError("vol must be non-negative")
    if vol_reference <= 0:
        raise ValueError("vol_reference must be positive")
    scale = vol * MAX_BPS // vol_reference
    return min(max(scale, VOL_SCALE_MIN_BPS), VOL_SCALE_MAX_BPS)


def effective_bands_bps(bands_bps: Sequence[int], vols: Sequence[int], vol_reference: int) -> list[int]:
    """Hybrid (volatility-scaled) bands in bps: ``band_i * scale_i // MAX_BPS``.

    Args:
        bands_bps: Drift band of each asset, bps.
        vols: Annualised volatility estimate of each asset, WAD.
        vol_reference: Reference volatility, WAD.
    """
    bands = _ints("bands_bps", bands_bps)
    sigmas = _ints("vols", vols, len(bands))
    return [b * vol_scale_bps(v, vol_reference) // MAX_BPS for b, v in zip(bands, sigmas, strict=True)]


def needs_rebalance(
    trigger: Trigger | int,
    drifts: Sequence[int],
    bands_bps: Sequence[int],
    outer_bands_bps: Sequence[int],
    now: int,
    last_rebalance: int,
    interval: int,
    vols: Sequence[int] | None = None,
    vol_reference: int | None = None,
) -> tuple[bool, str]:
    """Whether a rebalance is due and why, exactly as the vault decides it.

    * ``CALENDAR``: due iff ``now >= last_rebalance + interval`` ("calendar").
    * ``THRESHOLD``: due iff any ``|drift_i| > band_i * 1e14`` ("threshold").
    * ``HYBRID``: due at any time iff any ``|drift_i| > outer_band_i * 1e14``
      ("outer band", checked first); otherwise iff the clock is due and any
      ``|drift_i| > effective_band_i * 1e14`` ("hybrid"), where
      ``effective_band_i = band_i * vol_scale_bps(vols_i) // MAX_BPS``.

    The comparisons are strict: a drift exactly at its band is not a trigger.
    The clock comparison is inclusive: exactly at ``last_rebalance + interval``
    is due.

    Args:
        trigger: Trigger family (:class:`Trigger` or its integer value).
        drifts: ``weight_i - target_i`` of each asset, signed WAD.
        bands_bps: Drift band of each asset, bps.
        outer_bands_bps: Hard outer band of each asset (hybrid only), bps.
        now: Current time, seconds.
        last_rebalance: Time of the last rebalance, seconds.
        interval: Rebalance interval (calendar) or check interval (hybrid), seconds.
        vols: Annualised volatility estimate of each asset, WAD (hybrid only).
        vol_reference: Reference volatility, WAD (hybrid only).

    Returns:
        ``(due, reason)`` with reason one of "calendar", "threshold",
        "outer band", "hybrid", or "" when not due.

    Raises:
        ValueError: on an unknown trigger, mismatched lengths, or a hybrid
            trigger without ``vols`` / a positive ``vol_reference``.
    """
    kind = Trigger(trigger)
    d = _ints("drifts", drifts)
    n = len(d)
    bands = _ints("bands_bps", bands_bps, n)
    clock_due = operator.index(now) >= operator.index(last_rebalance) + operator.index(interval)

    if kind is Trigger.CALENDAR:
        return (True, "calendar") if clock_due else (False, "")

    if kind is Trigger.THRESHOLD:
        for drift, band in zip(d, bands, strict=True):
            if abs(drift) > band * _BPS_TO_WAD:
                return True, "threshold"
        return False, ""

    outer = _ints("outer_bands_bps", outer_bands_bps, n)
    if vols is None or vol_reference is None:
        raise ValueError("the hybrid trigger needs vols and vol_reference")
    sigmas = _ints("vols", vols, n)
    reference = operator.index(vol_reference)
    if reference <= 0:
        raise ValueError("vol_reference must be positive")
    for drift, band in zip(d, outer, strict=True):
        if abs(drift) > band * _BPS_TO_WAD:
            return True, "outer band"
    if not clock_due:
        return False, ""
    for drift, band, sigma in zip(d, bands, sigmas, strict=True):
        effective = band * vol_scale_bps(sigma, reference) // MAX_BPS
        if abs(drift) > effective * _BPS_TO_WAD:
            return True, "hybrid"
    return False, ""


def band_edge_deltas(gaps: Sequence[int], band_values: Sequence[int], dust: int = 0) -> list[int]:
    """Edge mode, the one definition: trade each asset back to its band edge, no further.

    Under proportional costs the optimal policy leaves a no-trade band around the target and, once
    an asset leaves it, trades it back only to the band's edge (Davis & Norman 1990; Leland 2000;
    the band's half-width grows as ``cost**(1/3)``). In a fully invested basket every sale buys
    something, so the bought and sold amounts must match: each asset outside its band goes to its
    edge, and if the assets above their bands hold more excess than those below (or the reverse),
    the side with less excess also trades, pro rata, *toward* its targets (never past them) until
    the two sides match. That is the smallest total trade that puts every asset back inside its
    band (it trades ``max(excess above, excess below)``), and no asset ever crosses its target.

    Args:
        gaps: ``target value - value`` of each asset (buy > 0, sell < 0), integers in any one unit
            (the planner uses USD WAD).
        band_values: Each asset's band half-width in the same unit (``band_bps * value / 10_000``).
        dust: An imbalance this small is rounding (token amounts are whole base units), left
            for the caller to trim rather than traded by assets inside their bands.

    Returns:
        The amount to buy (+) or sell (-) of each asset, same unit; buys and sells sum to the same
        total up to rounding (the caller trims the dust).
    """
    g = _ints("gaps", gaps)
    b = _ints("band_values", band_values, len(g))
    if any(x < 0 for x in b):
        raise ValueError("band_values must be non-negative")
    left = [max(-bi, min(gi, bi)) for gi, bi in zip(g, b, strict=True)]  # gap left after the trade
    deltas = [gi - li for gi, li in zip(g, left, strict=True)]
    buys = sum(d for d in deltas if d > 0)
    sells = -sum(d for d in deltas if d < 0)
    # Values rounded to integers leave sum(gaps) a few units off zero: that residue, and any
    # imbalance below ``dust``, is the caller's to trim, not an imbalance to trade away.
    need = abs(buys - sells) - abs(sum(g))
    if need > max(dust, 0):
        # The side with less excess also trades toward target, pro rata to the gap it has left.
        side = -1 if buys > sells else 1  # buys > sells: more must be sold, by assets above target
        room = sum(abs(li) for li in left if li * side > 0)
        if room:
            need = min(need, room)
            deltas = [
                d + side * (abs(li) * need // room) if li * side > 0 else d for d, li in zip(deltas, left, strict=True)
            ]
    return deltas


@dataclass
class VolEstimator:
    """EWMA volatility estimator, mirroring the vault's ``observe()``.

    One estimator covers a whole basket: like the vault, it keeps a single
    time of last observation and one observed price and variance per asset.

    On an observation of prices ``p`` at time ``t``, with the previous
    observation ``(p0, t0)`` and ``dt = t - t0``:

    * ignored (returns False) if ``t0 != 0 and t < t0 + min_interval``;
    * the first observation (``t0 == 0``) only records prices;
    * otherwise, per asset with ``p0 != 0``:
      ``r = min(|p - p0| * WAD // p0, 100 * WAD)``,
      ``sample = r * r * SECONDS_PER_YEAR // dt // WAD`` (annualised variance),
      ``var = (var * (MAX_BPS - alpha) + sample * alpha) // MAX_BPS``,
      capped at ``100 * vol_reference**2 // WAD``.

    ``sigma = isqrt(var * WAD)``; the initial variance is
    ``vol_reference**2 // WAD`` (a multiplier of about 1).

    Attributes:
        vol_reference: Reference volatility (sigma), WAD.
        alpha_bps: EWMA weight of a new sample, bps (1..10_000).
        min_interval: Shortest time between two used observations, seconds.
        n_assets: Number of assets.
        variances: Current annualised variance of each asset, WAD.
        prices: Last observed price of each asset, WAD (0 = none yet).
        last_observation: Time of the last used observation (0 = none yet).
    """

    vol_reference: int
    alpha_bps: int
    min_interval: int
    n_assets: int
    variances: list[int] = field(init=False)
    prices: list[int] = field(init=False)
    last_observation: int = field(default=0, init=False)

    def __post_init__(self) -> None:
        """Validates parameters as ``_set_trigger`` does and seeds the variances."""
        self.vol_reference = operator.index(self.vol_reference)
        self.alpha_bps = operator.index(self.alpha_bps)
        self.min_interval = operator.index(self.min_interval)
        if not 0 < self.vol_reference <= 10 * WAD:
            raise ValueError("vol_reference must be in (0, 10 * WAD]")
        if not 0 < self.alpha_bps <= MAX_BPS:
            raise ValueError("alpha_bps must be in (0, MAX_BPS]")
        if self.min_interval <= 0:
            raise ValueError("min_interval must be positive")
        if self.n_assets <= 0:
            raise ValueError("n_assets must be positive")
        self.variances = [self.initial_variance] * self.n_assets
        self.prices = [0] * self.n_assets

    @property
    def initial_variance(self) -> int:
        """Variance at which the multiplier is about 1: ``vol_reference**2 // WAD``."""
        return self.vol_reference * self.vol_reference // WAD

    @property
    def max_variance(self) -> int:
        """Cap on the variance: ``100 * vol_reference**2 // WAD``."""
        return _MAX_VARIANCE_MULTIPLE * self.vol_reference * self.vol_reference // WAD

    def set_vol_reference(self, vol_reference: int) -> None:
        """Changes the reference; a new value restarts every estimate, as on chain."""
        vol_reference = operator.index(vol_reference)
        if not 0 < vol_reference <= 10 * WAD:
            raise ValueError("vol_reference must be in (0, 10 * WAD]")
        if vol_reference != self.vol_reference:
            self.vol_reference = vol_reference
            self.variances = [self.initial_variance] * self.n_assets

    def observe(self, now: int, prices: Sequence[int]) -> bool:
        """Folds one price observation per asset into the variance EWMA.

        Args:
            now: Observation time, seconds.
            prices: Price of each asset, WAD.

        Returns:
            True if the observation was used, False if it came too soon.
        """
        now = operator.index(now)
        observed = _ints("prices", prices, self.n_assets)
        last = self.last_observation
        if last != 0 and now < last + self.min_interval:
            return False
        alpha = self.alpha_bps
        for i, price in enumerate(observed):
            previous = self.prices[i]
            if last != 0 and previous != 0:
                ret = min(abs(price - previous) * WAD // previous, _MAX_RETURN)
                sample = ret * ret * SECONDS_PER_YEAR // (now - last) // WAD
                var = (self.variances[i] * (MAX_BPS - alpha) + sample * alpha) // MAX_BPS
                self.variances[i] = min(var, self.max_variance)
            self.prices[i] = price
        self.last_observation = now
        return True

    @property
    def sigmas(self) -> list[int]:
        """Annualised volatility of each asset, WAD: ``isqrt(var * WAD)``."""
        return [math.isqrt(v * WAD) for v in self.variances]

    @property
    def scales_bps(self) -> list[int]:
        """Hybrid band multiplier of each asset, bps."""
        return [vol_scale_bps(s, self.vol_reference) for s in self.sigmas]


# ----------------------------------------------------------------- vectorised


def vol_scale_np(vols: ArrayLike, vol_reference: float) -> NDArray[np.float64]:
    """Vectorised hybrid band multiplier, as a fraction (1.0 = 10_000 bps).

    Args:
        vols: Annualised volatilities, fractions (0.6 = 60 %), any shape.
        vol_reference: Reference volatility, fraction.
    """
    if vol_reference <= 0:
        raise ValueError("vol_reference must be positive")
    scale = np.asarray(vols, dtype=np.float64) / vol_reference
    return np.clip(scale, VOL_SCALE_MIN_BPS / MAX_BPS, VOL_SCALE_MAX_BPS / MAX_BPS)


def needs_rebalance_np(
    trigger: Trigger | int,
    drifts: ArrayLike,
    bands_bps: ArrayLike,
    outer_bands_bps: ArrayLike,
    now: float,
    last_rebalance: ArrayLike,
    interval: float,
    vols: ArrayLike | None = None,
    vol_reference: float | None = None,
) -> tuple[NDArray[np.bool_], NDArray[np.int8]]:
    """Vectorised :func:`needs_rebalance` over many paths, in floating point.

    Same rules as the scalar version (strict band comparisons, inclusive
    clock), but without the integer floors.

    Args:
        trigger: Trigger family.
        drifts: ``weight - target`` per path and asset, fractions, shape (P, N).
        bands_bps: Drift bands, bps, shape (N,) or (P, N).
        outer_bands_bps: Outer bands, bps, shape (N,) or (P, N) (hybrid only).
        now: Current time, seconds.
        last_rebalance: Time of the last rebalance per path, seconds, shape (P,).
        interval: Rebalance / check interval, seconds.
        vols: Volatility estimates, fractions, shape (P, N) (hybrid only).
        vol_reference: Reference volatility, fraction (hybrid only).

    Returns:
        ``(due, reason)``: boolean array (P,) and reason codes (P,), indices
        into :data:`REASONS`.
    """
    kind = Trigger(trigger)
    d = np.abs(np.asarray(drifts, dtype=np.float64))
    if d.ndim != 2:
        raise ValueError("drifts must have shape (paths, assets)")
    reason = np.zeros(d.shape[0], dtype=np.int8)
    clock_due = now >= np.asarray(last_rebalance, dtype=np.float64) + interval
    if kind is Trigger.CALENDAR:
        due = np.broadcast_to(clock_due, reason.shape).copy()
        reason[due] = REASON_CALENDAR
        return due, reason

    bands = np.asarray(bands_bps, dtype=np.float64) / MAX_BPS
    if kind is Trigger.THRESHOLD:
        due = (d > bands).any(axis=1)
        reason[due] = REASON_THRESHOLD
        return due, reason

    if vols is None or vol_reference is None:
        raise ValueError("the hybrid trigger needs vols and vol_reference")
    outer = np.asarray(outer_bands_bps, dtype=np.float64) / MAX_BPS
    outer_due = (d > outer).any(axis=1)
    effective = bands * vol_scale_np(vols, vol_reference)
    hybrid_due = ~outer_due & clock_due & (d > effective).any(axis=1)
    reason[outer_due] = REASON_OUTER_BAND
    reason[hybrid_due] = REASON_HYBRID
    return outer_due | hybrid_due, reason


def band_edge_np(drifts: ArrayLike, bands: ArrayLike) -> NDArray[np.float64]:
    """Vectorised :func:`band_edge_deltas`: the drifts an edge-mode rebalance leaves, per path.

    Each drift is clipped to its band; then, as weights must still sum to one, whichever side
    (drifts above or below target) holds more is scaled toward the target until both sides
    match. Drifts already inside their bands on the smaller-excess side never move, so with two
    assets (or one risky asset and cash) this is exactly the band edge of Davis & Norman.

    Args:
        drifts: ``weight - target`` per path and asset, fractions, shape (P, N), summing to ~0.
        bands: Band half-widths, fractions, shape (N,) or (P, N).

    Returns:
        The drifts after the trade, shape (P, N): new weights are ``target + result``.
    """
    d = np.asarray(drifts, dtype=np.float64)
    if d.ndim != 2:
        raise ValueError("drifts must have shape (paths, assets)")
    band = np.broadcast_to(np.asarray(bands, dtype=np.float64), d.shape)
    if np.any(band < 0):
        raise ValueError("bands must be non-negative")
    left = np.clip(d, -band, band)
    above = np.where(left > 0, left, 0.0).sum(axis=1)
    below = -np.where(left < 0, left, 0.0).sum(axis=1)
    with np.errstate(divide="ignore", invalid="ignore"):
        shrink_above = np.where(above > below, below / above, 1.0)
        shrink_below = np.where(below > above, above / below, 1.0)
    return np.where(left > 0, left * shrink_above[:, None], left * shrink_below[:, None])


def update_variance_np(
    variance: NDArray[np.float64], returns: ArrayLike, dt: float, alpha_bps: float, vol_reference: float
) -> NDArray[np.float64]:
    """One vectorised EWMA step of :class:`VolEstimator`, in floating point.

    Args:
        variance: Annualised variances (fractions), any shape; updated in place.
        returns: Simple returns ``p / p0 - 1`` since the previous observation,
            same shape.
        dt: Time since the previous observation, seconds (positive).
        alpha_bps: EWMA weight of the new sample, bps.
        vol_reference: Reference volatility, fraction (sets the cap).

    Returns:
        ``variance``, updated in place.
    """
    if dt <= 0:
        raise ValueError("dt must be positive")
    r = np.minimum(np.abs(np.asarray(returns, dtype=np.float64)), _MAX_RETURN / WAD)
    alpha = alpha_bps / MAX_BPS
    sample = r * r * (SECONDS_PER_YEAR / dt)
    variance *= 1.0 - alpha
    variance += alpha * sample
    np.minimum(variance, _MAX_VARIANCE_MULTIPLE * vol_reference * vol_reference, out=variance)
    return variance
