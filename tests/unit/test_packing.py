"""The packed words' layouts (contracts/modules/packing.vy): fields never overlap nor leave the
word, and every field packs and unpacks back to itself without touching its neighbours."""

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ballast.constants import PACKING

# Each packed word's fields: (offset constant, width constant), as packing.vy's notice lays them out.
WORDS = {
    "feed config": [
        ("FEED_AT", "FEED_BITS"),
        ("HEARTBEAT_AT", "HEARTBEAT_BITS"),
        ("FEED_DECIMALS_AT", "DECIMALS_BITS"),
        ("TOKEN_DECIMALS_AT", "DECIMALS_BITS"),
        ("TARGET_AT", "BPS_BITS"),
        ("BAND_AT", "BPS_BITS"),
        ("OUTER_BAND_AT", "BPS_BITS"),
    ],
    "feed bounds": [("MIN_ANSWER_AT", "ANSWER_BITS"), ("MAX_ANSWER_AT", "ANSWER_BITS")],
    "observation": [("MANTISSA_AT", "MANTISSA_BITS"), ("POWER_AT", "POWER_BITS"), ("VARIANCE_AT", "VARIANCE_BITS")],
    "clock": [
        ("RAMP_START_AT", "TIME_BITS"),
        ("RAMP_END_AT", "TIME_BITS"),
        ("LAST_REBALANCE_AT", "TIME_BITS"),
        ("LAST_OBSERVATION_AT", "TIME_BITS"),
    ],
    "trigger": [
        ("TRIGGER_TYPE_AT", "TRIGGER_TYPE_BITS"),
        ("INTERVAL_AT", "INTERVAL_BITS"),
        ("VOL_REFERENCE_AT", "VOL_REFERENCE_BITS"),
        ("VOL_ALPHA_AT", "BPS_BITS"),
        ("VOL_MIN_INTERVAL_AT", "INTERVAL_BITS"),
    ],
    "status": [
        ("HAIRCUT_AT", "BPS_BITS"),
        ("SLIPPAGE_AT", "BPS_BITS"),
        ("COST_AT", "BPS_BITS"),
        ("TURNOVER_CAP_AT", "TURNOVER_CAP_BITS"),
        ("TURNOVER_PERIOD_AT", "DURATION_BITS"),
        ("COOLDOWN_AT", "DURATION_BITS"),
        ("HAIRCUT_CAP_AT", "BPS_BITS"),
        ("HORIZON_AT", "HORIZON_BITS"),
    ],
    "price guard": [
        ("POOL_AT", "FEED_BITS"),
        ("WINDOW_AT", "WINDOW_BITS"),
        ("DEVIATION_AT", "BPS_BITS"),
        ("QUOTE_AT", "SMALL_BITS"),
        ("TOKEN0_AT", "SMALL_BITS"),
        ("ASSET_DECIMALS_AT", "DECIMALS_BITS"),
        ("QUOTE_DECIMALS_AT", "DECIMALS_BITS"),
    ],
    "turnover": [("SPENT_AT", "TIME_BITS"), ("USED_AT", "USED_BITS")],
}
FIELDS = [(word, PACKING[at], PACKING[bits]) for word, fields in WORDS.items() for at, bits in fields]


@pytest.fixture(scope="module")
def harness(project, owner):
    return project.PackingHarness.deploy(sender=owner)


@pytest.mark.parametrize("word", WORDS)
def test_layout__fields_are_disjoint_and_inside_the_word(word):
    used = 0
    for at, bits in WORDS[word]:
        mask = ((1 << PACKING[bits]) - 1) << PACKING[at]
        assert mask >> 256 == 0, f"{word}: {at} leaves the word"
        assert used & mask == 0, f"{word}: {at} overlaps another field"
        used |= mask
    if word == "status":  # the four flags sit below the first field
        flags = PACKING["PAUSED"] | PACKING["SHUTDOWN"] | PACKING["LENDING"] | PACKING["GUARDED"]
        assert used & flags == 0 and bin(flags).count("1") == 4


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(field=st.sampled_from(FIELDS), word=st.integers(0, 2**256 - 1), value=st.data())
def test_pack_unpack__round_trip__keeps_every_other_bit(harness, field, word, value):
    _, at, bits = field
    new = value.draw(st.one_of(st.just(0), st.just((1 << bits) - 1), st.integers(0, (1 << bits) - 1)))
    packed, unpacked = harness.round_trip(word, at, bits, new)
    mask = ((1 << bits) - 1) << at
    assert unpacked == new
    assert packed & ~mask & (2**256 - 1) == word & ~mask & (2**256 - 1)
    assert (packed & mask) >> at == new
