"""The lending frontier (ballast/lending_frontier.py): yield against exit shortfall per idle
buffer, checked against what the model's own definitions give in closed form."""

import numpy as np
import pytest

from ballast import lending_frontier as lf

SMALL = dict(paths=300, days=200, seed=3)


def test_yield__linear_in_the_lent_fraction_and_equal_to_rate_times_utilisation():
    model = lf.LendingModel(curve=lf.RateCurve(constant=0.05), stress_per_year=0.0, weight=0.5)
    points = lf.frontier(model, buffers=(0.0, 0.25, 1.0), **SMALL)
    utilisation, _ = lf.simulate_market(model, SMALL["paths"], SMALL["days"], SMALL["seed"])
    assert points[0].yield_bps == pytest.approx(0.05 * utilisation.mean() * 0.5 * 10_000, rel=1e-12)
    assert points[1].yield_bps == pytest.approx(0.75 * points[0].yield_bps, rel=1e-12)
    assert points[2].yield_bps == 0.0


def test_shortfall__market_fully_borrowed_in_stress__scales_with_the_lent_fraction():
    """At 100% utilisation the market pays nothing: every exit's lent part goes in kind, so a
    buffer only scales the in-kind share down in proportion."""
    model = lf.LendingModel(stress_per_year=6.0, stress_utilisation=1.0)
    zero, half, full = lf.frontier(model, buffers=(0.0, 0.5, 1.0), **SMALL)
    assert zero.shortfall_pct > 0
    assert half.shortfall_pct == pytest.approx(0.5 * zero.shortfall_pct, rel=1e-9)
    assert zero.worst_day_pct == pytest.approx(100.0) and half.worst_day_pct == pytest.approx(50.0)
    assert full.shortfall_pct == 0.0 and full.days_short_pct == 0.0


def test_shortfall__some_liquidity_left__convex_so_the_first_buffer_buys_the_least():
    """With 1% of a 5x market still liquid in stress, a lent part of up to 5% of the holding is
    paid in full: halving the lent fraction more than halves the in-kind share."""
    model = lf.LendingModel(stress_per_year=6.0, stress_utilisation=0.99, market_multiple=5.0, stress_exit=0.2)
    zero, half = lf.frontier(model, buffers=(0.0, 0.5), **SMALL)
    assert 0 < half.shortfall_pct < 0.5 * zero.shortfall_pct


def test_shortfall__no_stress_and_a_deep_market__none():
    model = lf.LendingModel(stress_per_year=0.0, market_multiple=50.0)
    assert all(p.shortfall_pct == 0.0 for p in lf.frontier(model, buffers=(0.0, 0.2), **SMALL))


def test_kinked_curve__matches_its_definition_at_the_kink_and_at_full_utilisation():
    curve = lf.RateCurve(base=0.01, slope_below=0.04, slope_above=0.6, kink=0.9)
    rates = curve.borrow_rate(np.array([0.0, 0.45, 0.9, 1.0]))
    assert rates == pytest.approx([0.01, 0.03, 0.05, 0.65])
    assert curve.supply_rate(np.array([0.9]), fee=0.1)[0] == pytest.approx(0.05 * 0.9 * 0.9)


@pytest.mark.parametrize(
    "field, value, message",
    [
        ("target_utilisation", 1.0, "strictly between 0 and 1"),
        ("weight", 1.5, "weight must be within"),
        ("market_multiple", 0.0, "must be positive"),
    ],
)
def test_model__bad_parameter__names_it(field, value, message):
    with pytest.raises(ValueError, match=message):
        lf.LendingModel(**{field: value})


def test_frontier__buffer_out_of_range__names_it():
    with pytest.raises(ValueError, match="a buffer must be within"):
        lf.frontier(lf.LendingModel(), buffers=(1.5,), **SMALL)


def test_cli__prints_the_table_and_writes_the_plot(tmp_path, capsys):
    plot = tmp_path / "frontier.png"
    assert lf.main(["--paths", "50", "--days", "60", "--plot", str(plot)]) == 0
    out = capsys.readouterr().out
    assert "idle buffer" in out and "100%" in out and plot.stat().st_size > 0
