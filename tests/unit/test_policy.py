"""Unit tests of ballast.policy: the trigger rules and the volatility estimator."""

from __future__ import annotations

import math

import numpy as np
import pytest

from ballast.policy import (
    MAX_BPS,
    REASONS,
    SECONDS_PER_YEAR,
    WAD,
    Trigger,
    VolEstimator,
    effective_bands_bps,
    needs_rebalance,
    needs_rebalance_np,
    update_variance_np,
    vol_scale_bps,
    vol_scale_np,
)

BPS = WAD // MAX_BPS  # one basis point in WAD
DAY = 86_400
T0 = 1_700_000_000
REF = 6 * 10**17  # 60 % reference volatility


def check(
    trigger: Trigger,
    drifts: list[int],
    *,
    bands: list[int] | None = None,
    outer: list[int] | None = None,
    now: int = T0,
    last: int = T0,
    interval: int = 7 * DAY,
    vols: list[int] | None = None,
    ref: int = REF,
) -> tuple[bool, str]:
    """needs_rebalance with bands 300 bps, outer 900 bps, vols at the reference."""
    n = len(drifts)
    return needs_rebalance(
        trigger, drifts, bands or [300] * n, outer or [900] * n, now, last, interval, vols or [ref] * n, ref
    )


# ------------------------------------------------------------------- calendar


def test_calendar_due_exactly_at_interval() -> None:
    assert check(Trigger.CALENDAR, [0, 0], now=T0 + 7 * DAY) == (True, "calendar")


def test_calendar_not_due_one_second_before() -> None:
    assert check(Trigger.CALENDAR, [0, 0], now=T0 + 7 * DAY - 1) == (False, "")


def test_calendar_ignores_drift() -> None:
    assert check(Trigger.CALENDAR, [5_000 * BPS, -5_000 * BPS], now=T0) == (False, "")
    assert check(Trigger.CALENDAR, [0, 0], now=T0 + 365 * DAY) == (True, "calendar")


# ------------------------------------------------------------------ threshold


def test_threshold_exactly_at_band_is_not_due() -> None:
    assert check(Trigger.THRESHOLD, [300 * BPS, -300 * BPS]) == (False, "")


def test_threshold_one_wei_past_band_is_due() -> None:
    assert check(Trigger.THRESHOLD, [300 * BPS + 1, -300 * BPS - 1]) == (True, "threshold")
    assert check(Trigger.THRESHOLD, [-(300 * BPS + 1), 300 * BPS + 1]) == (True, "threshold")


def test_threshold_per_asset_bands() -> None:
    drifts = [150 * BPS + 1, -150 * BPS - 1]
    assert check(Trigger.THRESHOLD, drifts, bands=[200, 150]) == (True, "threshold")
    assert check(Trigger.THRESHOLD, drifts, bands=[200, 200]) == (False, "")


def test_threshold_ignores_clock() -> None:
    assert check(Trigger.THRESHOLD, [0, 0], now=T0 + 10 * 365 * DAY) == (False, "")
    assert check(Trigger.THRESHOLD, [301 * BPS, -301 * BPS], now=T0) == (True, "threshold")


# --------------------------------------------------------------------- hybrid


def test_hybrid_outer_band_fires_before_the_interval() -> None:
    drifts = [900 * BPS + 1, -900 * BPS - 1]
    assert check(Trigger.HYBRID, drifts, now=T0) == (True, "outer band")


def test_hybrid_exactly_at_outer_band_waits_for_the_clock() -> None:
    drifts = [900 * BPS, -900 * BPS]
    assert check(Trigger.HYBRID, drifts, now=T0 + 7 * DAY - 1) == (False, "")
    assert check(Trigger.HYBRID, drifts, now=T0 + 7 * DAY) == (True, "hybrid")


def test_hybrid_outer_band_takes_priority_over_hybrid() -> None:
    drifts = [1_000 * BPS, -1_000 * BPS]
    assert check(Trigger.HYBRID, drifts, now=T0 + 30 * DAY) == (True, "outer band")


def test_hybrid_band_at_reference_vol() -> None:
    # sigma == reference: scale 10_000 bps, effective band == band.
    at = [300 * BPS, -300 * BPS]
    past = [300 * BPS + 1, -300 * BPS - 1]
    assert check(Trigger.HYBRID, at, now=T0 + 7 * DAY) == (False, "")
    assert check(Trigger.HYBRID, past, now=T0 + 7 * DAY) == (True, "hybrid")
    assert check(Trigger.HYBRID, past, now=T0 + 7 * DAY - 1) == (False, "")


def test_hybrid_band_scales_with_vol_and_clamps() -> None:
    now = T0 + 7 * DAY
    # Half the reference vol: 0.5x band = 150 bps.
    half = [REF // 2] * 2
    assert check(Trigger.HYBRID, [150 * BPS, -150 * BPS], now=now, vols=half) == (False, "")
    assert check(Trigger.HYBRID, [150 * BPS + 1, -150 * BPS - 1], now=now, vols=half) == (True, "hybrid")
    # Far below the reference: clamped at 0.5x.
    tiny = [1, 1]
    assert check(Trigger.HYBRID, [150 * BPS + 1, -150 * BPS - 1], now=now, vols=tiny) == (True, "hybrid")
    # Twice the reference: 2x band = 600 bps.
    double = [2 * REF] * 2
    assert check(Trigger.HYBRID, [600 * BPS, -600 * BPS], now=now, vols=double) == (False, "")
    assert check(Trigger.HYBRID, [600 * BPS + 1, -600 * BPS - 1], now=now, vols=double) == (True, "hybrid")
    # Far above: clamped at 3x = 900 bps, the outer band; outer band takes over past it.
    huge = [100 * REF] * 2
    assert check(Trigger.HYBRID, [900 * BPS, -900 * BPS], now=now, vols=huge) == (False, "")
    assert check(Trigger.HYBRID, [900 * BPS + 1, -900 * BPS - 1], now=now, vols=huge) == (True, "outer band")


def test_hybrid_effective_band_floors() -> None:
    # 333 bps * 15_000 / 10_000 = 499.5 -> 499 bps, as on chain.
    vols = [REF * 3 // 2] * 2
    assert vol_scale_bps(vols[0], REF) == 15_000
    assert effective_bands_bps([333, 333], vols, REF) == [499, 499]
    now = T0 + 7 * DAY
    drifts = [499 * BPS + 1, -499 * BPS - 1]
    assert check(Trigger.HYBRID, drifts, bands=[333, 333], outer=[2_000, 2_000], now=now, vols=vols) == (True, "hybrid")
    drifts = [499 * BPS, -499 * BPS]
    assert check(Trigger.HYBRID, drifts, bands=[333, 333], outer=[2_000, 2_000], now=now, vols=vols) == (False, "")


def test_hybrid_one_asset_is_enough() -> None:
    now = T0 + 7 * DAY
    vols = [REF // 10, 3 * REF]  # scales 0.5x and 3x
    # Asset 0 is past its 150 bps effective band; asset 1 within its 900.
    assert check(Trigger.HYBRID, [151 * BPS, -151 * BPS], now=now, vols=vols, outer=[2_000, 2_000]) == (True, "hybrid")
    vols = [3 * REF, 3 * REF]
    assert check(Trigger.HYBRID, [151 * BPS, -151 * BPS], now=now, vols=vols, outer=[2_000, 2_000]) == (False, "")


def test_vol_scale_bps_floor_division_and_clamps() -> None:
    assert vol_scale_bps(REF, REF) == 10_000
    assert vol_scale_bps(REF - 1, REF) == 9_999
    assert vol_scale_bps(0, REF) == 5_000
    assert vol_scale_bps(REF // 2 - 1, REF) == 5_000
    assert vol_scale_bps(3 * REF, REF) == 30_000
    assert vol_scale_bps(10 * REF, REF) == 30_000


# ----------------------------------------------------------------- validation


def test_invalid_inputs_raise() -> None:
    with pytest.raises(ValueError):
        needs_rebalance(3, [0], [300], [900], 0, 0, 1)
    with pytest.raises(ValueError, match="bands_bps"):
        needs_rebalance(Trigger.THRESHOLD, [0, 0], [300], [900, 900], 0, 0, 1)
    with pytest.raises(ValueError, match="vols"):
        needs_rebalance(Trigger.HYBRID, [0], [300], [900], 0, 0, 1)
    with pytest.raises(ValueError, match="vol_reference"):
        needs_rebalance(Trigger.HYBRID, [0], [300], [900], 0, 0, 1, [REF], 0)
    with pytest.raises(TypeError):
        needs_rebalance(Trigger.THRESHOLD, [0.5], [300], [900], 0, 0, 1)  # type: ignore[list-item]


def test_trigger_values_match_the_vault() -> None:
    assert (Trigger.CALENDAR, Trigger.THRESHOLD, Trigger.HYBRID) == (0, 1, 2)
    assert needs_rebalance(1, [301 * BPS], [300], [900], 0, 0, 1) == (True, "threshold")


# -------------------------------------------------------------- vol estimator


def make_estimator(n: int = 2, alpha: int = 1_000, min_interval: int = DAY) -> VolEstimator:
    return VolEstimator(vol_reference=REF, alpha_bps=alpha, min_interval=min_interval, n_assets=n)


def test_estimator_starts_at_the_reference() -> None:
    est = make_estimator()
    assert est.variances == [REF * REF // WAD] * 2
    assert est.sigmas == [REF, REF]
    assert est.scales_bps == [10_000, 10_000]


def test_estimator_first_observation_only_records_prices() -> None:
    est = make_estimator()
    assert est.observe(T0, [WAD, 2 * WAD])
    assert est.variances == [REF * REF // WAD] * 2
    assert est.prices == [WAD, 2 * WAD]
    assert est.last_observation == T0


def test_estimator_skips_observations_inside_min_interval() -> None:
    est = make_estimator()
    est.observe(T0, [WAD, WAD])
    assert not est.observe(T0 + DAY - 1, [2 * WAD, 2 * WAD])
    assert est.prices == [WAD, WAD] and est.last_observation == T0
    assert est.observe(T0 + DAY, [2 * WAD, 2 * WAD])  # exactly min_interval later is used
    assert est.last_observation == T0 + DAY


def test_estimator_update_matches_the_formula() -> None:
    alpha = 1_000
    est = make_estimator(alpha=alpha)
    p0 = [WAD, 3_000 * WAD]
    p1 = [WAD + WAD // 100, 3_000 * WAD - 45 * WAD]  # +1 %, -1.5 %
    dt = 2 * DAY
    est.observe(T0, p0)
    est.observe(T0 + dt, p1)
    var0 = REF * REF // WAD
    for i in range(2):
        r = abs(p1[i] - p0[i]) * WAD // p0[i]
        sample = r * r * SECONDS_PER_YEAR // dt // WAD
        expected = (var0 * (MAX_BPS - alpha) + sample * alpha) // MAX_BPS
        assert est.variances[i] == expected
        assert est.sigmas[i] == math.isqrt(expected * WAD)
    # 1 % over two days: sample 0.01**2 * 182.5 = 0.01825; 0.9 * 0.36 + 0.1 * 0.01825.
    assert est.variances[0] == 324 * 10**15 + 1_825 * 10**12
    assert est.prices == p1


def test_estimator_converges_to_realised_vol() -> None:
    est = make_estimator(n=1, alpha=500)
    price = WAD
    est.observe(T0, [price])
    for k in range(1, 400):
        price = price * 101 // 100 if k % 2 else price * 100 // 101
        est.observe(T0 + k * DAY, [price])
    # |r| = 1 % (or 0.990 %) daily -> sigma ~ 0.01 * sqrt(365) ~ 0.19.
    sigma = est.sigmas[0] / WAD
    assert 0.18 < sigma < 0.195
    assert est.scales_bps == [5_000]  # 0.19 / 0.6 < 0.5: clamped


def test_estimator_caps_return_and_variance() -> None:
    est = make_estimator(n=1, alpha=MAX_BPS)
    est.observe(T0, [1])
    est.observe(T0 + DAY, [10**30])  # a 1e30x move is capped at 100x
    assert est.variances == [est.max_variance]
    assert est.max_variance == 100 * REF * REF // WAD


def test_estimator_skips_assets_without_a_previous_price() -> None:
    est = make_estimator()
    est.observe(T0, [0, WAD])
    est.observe(T0 + DAY, [WAD, 2 * WAD])
    assert est.variances[0] == REF * REF // WAD
    assert est.variances[1] > REF * REF // WAD


def test_estimator_new_reference_resets_variances() -> None:
    est = make_estimator()
    est.observe(T0, [WAD, WAD])
    est.observe(T0 + DAY, [2 * WAD, WAD])
    est.set_vol_reference(REF)  # same value: kept
    assert est.variances[0] != REF * REF // WAD
    est.set_vol_reference(REF // 2)
    assert est.variances == [(REF // 2) ** 2 // WAD] * 2


def test_estimator_validates_like_set_trigger() -> None:
    with pytest.raises(ValueError):
        VolEstimator(vol_reference=0, alpha_bps=500, min_interval=DAY, n_assets=1)
    with pytest.raises(ValueError):
        VolEstimator(vol_reference=10 * WAD + 1, alpha_bps=500, min_interval=DAY, n_assets=1)
    with pytest.raises(ValueError):
        VolEstimator(vol_reference=REF, alpha_bps=0, min_interval=DAY, n_assets=1)
    with pytest.raises(ValueError):
        VolEstimator(vol_reference=REF, alpha_bps=MAX_BPS + 1, min_interval=DAY, n_assets=1)
    with pytest.raises(ValueError):
        VolEstimator(vol_reference=REF, alpha_bps=500, min_interval=0, n_assets=1)


# ----------------------------------------------------------------- vectorised


def test_vectorised_trigger_matches_scalar() -> None:
    rng = np.random.default_rng(7)
    paths, n = 4_000, 4
    bands = np.array([100, 200, 300, 400])
    outer = 3 * bands
    ref = 0.6
    interval = 7 * DAY
    drift_bps = rng.integers(-1_500, 1_500, size=(paths, n)).astype(np.float64) + 0.5  # never on a band
    vols_frac = rng.choice([0.1, 0.45, 0.6, 0.9, 1.2, 2.5], size=(paths, n))
    last = T0 - rng.choice([0, 6 * DAY, 7 * DAY, 8 * DAY], size=paths)
    drifts_frac = drift_bps / MAX_BPS
    for trigger in Trigger:
        due, reason = needs_rebalance_np(trigger, drifts_frac, bands, outer, T0, last, interval, vols_frac, ref)
        for i in range(paths):
            expected = needs_rebalance(
                trigger,
                [int(x * 2) * BPS // 2 for x in drift_bps[i]],  # exact half-bps in WAD
                bands.tolist(),
                outer.tolist(),
                T0,
                int(last[i]),
                interval,
                [round(v * WAD) for v in vols_frac[i]],
                round(ref * WAD),
            )
            assert (bool(due[i]), REASONS[reason[i]]) == expected, (trigger, i)


def test_vectorised_scale_matches_scalar() -> None:
    vols = np.array([0.0, 0.2, 0.3, 0.6, 1.2, 1.8, 5.0])
    expected = [vol_scale_bps(round(v * WAD), REF) / MAX_BPS for v in vols]
    assert np.allclose(vol_scale_np(vols, 0.6), expected)


def test_vectorised_variance_matches_estimator() -> None:
    rng = np.random.default_rng(3)
    est = make_estimator(n=3, alpha=700)
    prices = np.exp(np.cumsum(rng.normal(0, 0.04, size=(60, 3)), axis=0))
    prices_wad = [[round(p * WAD) for p in row] for row in prices]
    var = np.full(3, 0.36)
    est.observe(T0, prices_wad[0])
    for k in range(1, 60):
        est.observe(T0 + k * DAY, prices_wad[k])
        update_variance_np(var, np.array(prices_wad[k]) / np.array(prices_wad[k - 1]) - 1, DAY, 700, 0.6)
    assert np.allclose(var, np.array(est.variances) / WAD, rtol=1e-9)
    assert np.allclose(np.sqrt(var), np.array(est.sigmas) / WAD, rtol=1e-9)
