"""Portfolio spec validation (ballast/spec.py): every bad field is named, with the rule and the value.

Each case changes one thing in specs/demo.yaml and asserts the exact message. The comment on
each case says which rule, removed from ballast/spec.py, makes it fail (those marked "checked"
were run against such a broken copy).
"""

from __future__ import annotations

import copy
from pathlib import Path

import pytest
import yaml

from ballast.chain.deploy import AssetSpec, PortfolioSpec, SpecError, check_network, load_spec, spec_from_dict
from ballast.constants import MAX_ASSETS, TRIGGER_HYBRID

ROOT = Path(__file__).resolve().parents[2]
DEMO = ROOT / "specs" / "demo.yaml"
WHERE = "specs/x.yaml"
U128 = 2**128 - 1
TOKEN = "0x5FbDB2315678afecb367f032d93F642f64180aa3"
FEED = "0xe7f1725E7734CE288F8367e1Bb143E90bb3F0512"
VENUE = "0x9fE46736679d2D9a65F0992F2272dE9f3c7fa6e0"


def demo() -> dict:
    return yaml.safe_load(DEMO.read_text())


def refusal(change, where: str = WHERE) -> str:
    data = demo()
    change(data)
    with pytest.raises(SpecError) as err:
        spec_from_dict(data, where)
    return str(err.value)


def asset(i: int, **fields):
    return lambda d: d["assets"][i].update(fields)


def section(name: str, **fields):
    return lambda d: d.setdefault(name, {}).update(fields)


def top(**fields):
    return lambda d: d.update(fields)


def weights(*values):
    def change(d):
        for a, w in zip(d["assets"], values):
            a["target_bps"] = w

    return change


def existing(d, n=4, venues=(VENUE,)):
    """Give every asset an address and feed (distinct, well-formed), and the spec venues."""
    for i, a in enumerate(d["assets"][:n]):
        a.update(address=f"0x{i + 1:040x}", feed=f"0x{i + 0xF1:040x}")
    d["venues"] = list(venues)


def test_demo_spec__loads_the_same_values_as_before():
    """specs/demo.yaml gives exactly the PortfolioSpec the old loader gave (captured before the change)."""
    assets = [
        ("USDC", 4000, 300, 1000, 6, 1.0),
        ("WBTC", 3000, 300, 1000, 8, 60000.0),
        ("WETH", 2000, 250, 800, 18, 3000.0),
        ("LINK", 1000, 200, 600, 18, 15.0),
    ]
    assert load_spec(DEMO) == PortfolioSpec(
        name="Ballast Demo 4",
        symbol="BAL4",
        assets=[
            AssetSpec(s, w, b, o, decimals=d, price=p, address=None, feed=None, heartbeat=86400, max_answer=U128)
            for s, w, b, o, d, p in assets
        ],
        trigger_type=TRIGGER_HYBRID,
        interval=86400,
        vol_reference=600000000000000000,
        vol_alpha_bps=2000,
        vol_min_interval=3600,
        max_slippage_bps=150,
        max_cost_bps=100,
        turnover_cap_bps=10000,
        turnover_period=86400,
        cooldown=3600,
        entry_haircut_bps=30,
        feed_decimals=8,
        feed_kind="chainlink",
        venue_kind="uniswap_v2",
        fee_bps=30,
        market_venues=[("uniswap_v2", 30), ("uniswap_v3", 5), ("balancer", 30)],
        depth_usd=20000000,
        venues=[],
        keeper=None,
        guardian=None,
    )


def test_defaults__outer_band_heartbeat_trigger_and_limits():
    """Optional fields get the old loader's defaults: outer band 2 x band, feeds.heartbeat, etc."""
    data = demo()
    for key in ("outer_band_bps",):
        data["assets"][0].pop(key)
    data["feeds"]["heartbeat"] = 3600
    data["trigger"] = {"type": "Threshold", "interval": 60}
    data["limits"].pop("cooldown")
    for key in ("entry_haircut_bps", "market"):
        data.pop(key)
    spec = spec_from_dict(data)
    assert spec.assets[0].outer_band_bps == 600 and spec.assets[0].heartbeat == 3600
    assert (spec.trigger_type, spec.vol_reference, spec.vol_alpha_bps, spec.vol_min_interval) == (
        1,
        5 * 10**17,
        2000,
        3600,
    )
    assert (spec.cooldown, spec.entry_haircut_bps, spec.fee_bps, spec.depth_usd) == (0, 0, 30, 10_000_000)


CASES = [
    # --- the two cases of the issue (checked: fail with `gt=0` on band_bps / `ge=0` on target_bps removed)
    ("negative band", asset(2, band_bps=-250), "assets[2].band_bps: must be > 0, got -250"),
    ("negative weight", weights(5000, 4000, 2000, -1000), "assets[3].target_bps: must be >= 0, got -1000"),
    # --- weights and basket size (checked: the sum check removed from _basket_issues)
    ("weights sum", weights(4000, 3000, 2000, 999), "assets: target_bps must sum to 10000, got 9999"),
    ("weight too big", weights(10001, 0, 0, 0), "assets[0].target_bps: must be <= 10000, got 10001"),
    ("one asset", lambda d: d.update(assets=d["assets"][:1]), "assets: need 2 to 8 assets, got 1"),
    (
        "too many assets",
        lambda d: d.update(assets=[dict(d["assets"][0], symbol=f"T{i}") for i in range(MAX_ASSETS + 1)]),
        f"assets: need 2 to {MAX_ASSETS} assets, got {MAX_ASSETS + 1}",
    ),
    ("no assets list", top(assets="USDC"), "assets: must be a list, got 'USDC'"),
    # --- bands (fail with the matching comparison removed from AssetModel._bands_and_bounds)
    ("zero band", asset(0, band_bps=0), "assets[0].band_bps: must be > 0, got 0"),
    ("outer below band", asset(1, outer_band_bps=299), "assets[1].outer_band_bps: must be >= band_bps (300), got 299"),
    ("outer above 100%", asset(1, outer_band_bps=10001), "assets[1].outer_band_bps: must be <= 10000, got 10001"),
    (
        "default outer above 100%",
        lambda d: d["assets"][1].pop("outer_band_bps") and d["assets"][1].update(band_bps=6000),
        "assets[1].outer_band_bps: must be <= 10000, got 12000 (the default, 2 x band_bps)",
    ),
    # --- feeds: heartbeat (uint32 in pricing), decimals (MAX_DECIMALS), bounds (uint128, min < max)
    ("zero heartbeat", asset(0, heartbeat=0), "assets[0].heartbeat: must be > 0, got 0"),
    ("heartbeat over uint32", asset(0, heartbeat=2**32), "assets[0].heartbeat: must be <= 4294967295, got 4294967296"),
    ("zero default heartbeat", section("feeds", heartbeat=0), "feeds.heartbeat: must be > 0, got 0"),
    ("feed decimals", section("feeds", decimals=19), "feeds.decimals: must be <= 18, got 19"),
    ("token decimals", asset(3, decimals=19), "assets[3].decimals: must be <= 18, got 19"),
    ("negative decimals", asset(3, decimals=-1), "assets[3].decimals: must be >= 0, got -1"),
    ("max answer over uint128", asset(0, max_answer=2**128), f"assets[0].max_answer: must be <= {U128}, got {2**128}"),
    (
        "bounds crossed",
        asset(0, min_answer=10**8, max_answer=10**8),
        "assets[0].max_answer: must be > min_answer (100000000), got 100000000",
    ),
    ("negative min answer", asset(0, min_answer=-1), "assets[0].min_answer: must be >= 0, got -1"),
    # --- prices (fail with `gt=0` / allow_inf_nan / the feed answer check removed)
    ("zero price", asset(0, price=0), "assets[0].price: must be > 0, got 0"),
    ("infinite price", asset(0, price=float("inf")), "assets[0].price: must be a finite number, got inf"),
    ("text price", asset(0, price="1 USD"), "assets[0].price: must be a number, got '1 USD'"),
    (
        "price below the feed's resolution",
        asset(0, price=1e-9),
        f"assets[0].price: must give a feed answer (price x 10^8, rounded) > min_answer (0) and < max_answer ({U128}), "
        "got 1e-09 (answer 0)",
    ),
    (
        "price at the answer floor",
        asset(0, min_answer=100_000_000),
        "assets[0].price: must give a feed answer (price x 10^8, rounded) > min_answer (100000000) and < max_answer "
        f"({U128}), got 1.0 (answer 100000000)",
    ),
    # --- trigger (fail with the matching Field bound removed from TriggerModel; checked: interval)
    ("zero interval", section("trigger", interval=0), "trigger.interval: must be > 0, got 0"),
    (
        "interval over uint64",
        section("trigger", interval=2**64),
        f"trigger.interval: must be <= {2**64 - 1}, got {2**64}",
    ),
    ("zero vol interval", section("trigger", vol_min_interval=0), "trigger.vol_min_interval: must be > 0, got 0"),
    ("zero vol alpha", section("trigger", vol_alpha_bps=0), "trigger.vol_alpha_bps: must be > 0, got 0"),
    (
        "vol alpha over 100%",
        section("trigger", vol_alpha_bps=10001),
        "trigger.vol_alpha_bps: must be <= 10000, got 10001",
    ),
    ("zero vol reference", section("trigger", vol_reference=0), "trigger.vol_reference: must be > 0, got 0"),
    ("vol reference over 10", section("trigger", vol_reference=11), "trigger.vol_reference: must be <= 10, got 11"),
    (
        "vol reference under 1 wei",
        section("trigger", vol_reference=1e-19),
        "trigger.vol_reference: must be at least 1e-18, got 1e-19",
    ),
    (
        "unknown trigger",
        section("trigger", type="weekly"),
        "trigger.type: 'weekly' is not one of ['calendar', 'hybrid', 'threshold']",
    ),
    ("trigger not a mapping", top(trigger="hybrid"), "trigger: must be a mapping, got 'hybrid'"),
    # --- limits (Vault._set_limits; fail with the matching Field bound removed from LimitsModel)
    ("slippage", section("limits", max_slippage_bps=1001), "limits.max_slippage_bps: must be <= 1000, got 1001"),
    ("cost", section("limits", max_cost_bps=501), "limits.max_cost_bps: must be <= 500, got 501"),
    ("zero turnover cap", section("limits", turnover_cap_bps=0), "limits.turnover_cap_bps: must be > 0, got 0"),
    (
        "turnover cap",
        section("limits", turnover_cap_bps=100001),
        "limits.turnover_cap_bps: must be <= 100000, got 100001",
    ),
    ("zero turnover period", section("limits", turnover_period=0), "limits.turnover_period: must be > 0, got 0"),
    (
        "cooldown over uint64",
        section("limits", cooldown=2**64),
        f"limits.cooldown: must be <= {2**64 - 1}, got {2**64}",
    ),
    ("negative cooldown", section("limits", cooldown=-1), "limits.cooldown: must be >= 0, got -1"),
    ("haircut", top(entry_haircut_bps=1001), "entry_haircut_bps: must be <= 1000, got 1001"),
    # --- the mock market (AMM MAX_FEE_BPS; pools must get at least one base unit)
    ("amm fee", section("market", fee_bps=1001), "market.fee_bps: must be <= 1000, got 1001"),
    ("zero depth", section("market", depth_usd=0), "market.depth_usd: must be > 0, got 0"),
    (
        "depth below one unit",
        lambda d: d["market"].update(depth_usd=1) or d["assets"][1].update(decimals=0, price=60000),
        "market.depth_usd: must buy 1 to 2**128 base units of assets[1] (WBTC) per pool, got 1 (= 1.67e-05 units)",
    ),
    # --- types (strict: no silent int("3000") or True)
    ("string weight", asset(1, target_bps="3000"), "assets[1].target_bps: must be an integer, got '3000'"),
    ("bool weight", asset(1, target_bps=True), "assets[1].target_bps: must be an integer, got True"),
    ("float weight", asset(1, target_bps=3000.5), "assets[1].target_bps: must be an integer, got 3000.5"),
    # --- names (the vault's String[25] / String[5]; MockERC20's String[5]; checked: _bytes_at_most removed)
    (
        "long name",
        top(name="x" * 26),
        f"name: must be 1 to 25 bytes (the vault's String[25]), got {'x' * 26!r} (26 bytes)",
    ),
    (
        "long symbol",
        top(symbol="BAL4XY"),
        "symbol: must be 1 to 5 bytes (the vault's String[5]), got 'BAL4XY' (6 bytes)",
    ),
    ("multibyte symbol", top(symbol="€€"), "symbol: must be 1 to 5 bytes (the vault's String[5]), got '€€' (6 bytes)"),
    ("empty name", top(name=""), "name: must be 1 to 25 bytes (the vault's String[25]), got '' (0 bytes)"),
    (
        "mock symbol",
        asset(2, symbol="WSTETH"),
        "assets[2].symbol: must be at most 5 bytes for a mock token, got 'WSTETH'",
    ),
    # --- unknown and missing keys (checked: extra="forbid" removed from _Section)
    (
        "typo in asset",
        lambda d: d["assets"][0].update(band_bp=300),
        "assets[0].band_bp: unknown field (did you mean 'band_bps'?)",
    ),
    ("typo at top", top(limit={}), "limit: unknown field (did you mean 'limits'?)"),
    ("unknown key", section("trigger", period=5), "trigger.period: unknown field"),
    ("missing section", lambda d: d.pop("limits"), "missing field 'limits'"),
    ("missing asset field", lambda d: d["assets"][2].pop("band_bps"), "assets[2]: missing field 'band_bps'"),
    # --- duplicates (checked: the duplicate loop removed from _basket_issues)
    ("duplicate symbol", asset(3, symbol="WETH"), "assets[3].symbol: duplicate symbol 'WETH' (also assets[2])"),
    (
        "duplicate address",
        lambda d: existing(d) or d["assets"][3].update(address=d["assets"][1]["address"].upper().replace("0X", "0x")),
        f"assets[3].address: duplicate address '0x{2:040X}' (also assets[1])",
    ),
    # --- addresses (ballast.checks.address_problem; checked: the checksum rule removed)
    (
        "short address",
        asset(0, address="0x12", feed=FEED),
        "assets[0].address: must be an address (0x and 40 hex digits), got '0x12'",
    ),
    (
        "bad checksum",
        asset(0, address=TOKEN.replace("aa3", "aA3"), feed=FEED),
        f"assets[0].address: must be checksummed ({TOKEN}) or all lowercase, got {TOKEN.replace('aa3', 'aA3')!r}",
    ),
    (
        "unquoted address",
        asset(0, address=int(TOKEN, 16), feed=FEED),
        f"assets[0].address: must be a quoted string (YAML reads an unquoted 0x... as a number), got {TOKEN.lower()}",
    ),
    ("zero address", top(keeper="0x" + "0" * 40), f"keeper: must not be the zero address, got '0x{'0' * 40}'"),
    ("bad venue", top(venues=["venue"]), "venues[0]: must be an address (0x and 40 hex digits), got 'venue'"),
    # --- addresses all or none, feeds with addresses, venues for existing tokens
    (
        "address without feed",
        lambda d: existing(d) or d["assets"][0].pop("feed"),
        "assets[0].feed: required when address is set",
    ),
    (
        "some addresses",
        lambda d: existing(d, n=3),
        "assets[3].address: missing while assets[0] has one: give every asset an address and feed, or none (local mocks)",
    ),
    ("no venues", lambda d: existing(d, venues=()), "venues: required for a vault over existing tokens, got none"),
]


@pytest.mark.parametrize("change, message", [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_spec__bad_field__named_with_rule_and_value(change, message):
    assert refusal(change) == f"{WHERE}: {message}"


def test_spec__every_problem_at_once():
    """The whole spec is validated: three sections' problems in one error, in document order."""

    def change(d):
        d["assets"][2]["band_bps"] = -250
        d["trigger"]["interval"] = 0
        d["limits"]["cooldwn"] = 5

    assert refusal(change).splitlines() == [
        f"{WHERE}: trigger.interval: must be > 0, got 0",
        f"{WHERE}: limits.cooldwn: unknown field (did you mean 'cooldown'?)",
        f"{WHERE}: assets[2].band_bps: must be > 0, got -250",
    ]


def test_spec__mocks_on_a_live_network__refused():
    # Fails with check_network's `local` test inverted (checked); scripts/deploy.py calls it before sending.
    spec = load_spec(DEMO)
    with pytest.raises(SpecError) as err:
        check_network(spec, WHERE, "ethereum:sepolia:node", local=False)
    lines = str(err.value).splitlines()
    assert len(lines) == 9
    assert lines[0] == (
        f"{WHERE}: assets[0].address: required on ethereum:sepolia:node (mock tokens and feeds are for local networks only)"
    )
    assert (
        lines[-1] == f"{WHERE}: venues: required on ethereum:sepolia:node (the mock venue is for local networks only)"
    )
    check_network(spec, WHERE, "ethereum:local:test", local=True)  # fine locally


# ---------------------------------------------------------------- the file itself


@pytest.mark.parametrize(
    "text, message",
    [
        ("name: [unclosed\n", "not valid YAML: expected ',' or ']', but got '<stream end>' at line 2, column 1"),
        ("- a\n- b\n", "expected a mapping of spec fields at the top level, got list"),
        ("", "the spec file is empty"),
        ("name: a\nname: b\n", "not valid YAML: duplicate key 'name' at line 2, column 1"),
    ],
    ids=["invalid yaml", "top-level list", "empty", "duplicate key"],
)
def test_spec_file__bad_file__one_line(tmp_path, text, message):
    # Duplicate key: fails with _UniqueKeyLoader replaced by yaml.SafeLoader (checked: the last one wins silently).
    path = tmp_path / "spec.yaml"
    path.write_text(text)
    with pytest.raises(SpecError) as err:
        load_spec(path)
    assert str(err.value) == f"{path}: {message}"


def test_spec_file__missing__one_line(tmp_path):
    path = tmp_path / "nope.yaml"
    with pytest.raises(SpecError) as err:
        load_spec(path)
    assert str(err.value) == f"{path}: cannot read the spec file: No such file or directory"


def test_spec_file__folder__one_line(tmp_path):
    with pytest.raises(SpecError) as err:
        load_spec(tmp_path)
    assert str(err.value) == f"{tmp_path}: cannot read the spec file: Is a directory"


def test_spec_from_dict__python_tuples_accepted():
    """Python callers (tests, bench) may pass tuples for lists; only YAML-shaped types are strict."""
    data = copy.deepcopy(demo())
    data["assets"] = tuple(data["assets"])
    assert len(spec_from_dict(data).assets) == 4


@pytest.mark.parametrize(
    "section, value, message",
    [
        ("market", {"venue": "uniswap_v2", "fee_bps": 5}, "market.fee_bps: must be 30 for uniswap_v2 pairs, got 5"),
        (
            "market",
            {"venue": "curve"},
            "market.venue: 'curve' is not one of ['amm', 'balancer', 'uniswap_v2', 'uniswap_v3']",
        ),
        (
            "market",
            {"venue": "uniswap_v3", "fee_bps": 25},
            "market.fee_bps: must be one of [1, 5, 30, 100] (a Uniswap V3 fee tier) for uniswap_v3, got 25",
        ),
        ("market", {"venue": "balancer", "fee_bps": 0}, "market.fee_bps: must be 1 to 1000 for a balancer pool, got 0"),
        (
            "market",
            {"venues": [{"kind": "uniswap_v3", "fee_bps": 3}]},
            "market.venues[0].fee_bps: must be one of [1, 5, 30, 100] (a Uniswap V3 fee tier) for uniswap_v3, got 3",
        ),
        (
            "market",
            {"venues": [{"kind": "uniswap_v2"}, {"kind": "uniswap_v2", "fee_bps": 30}]},
            "market.venues: lists uniswap_v2 at 30 bps twice",
        ),
        ("market", {"venues": []}, "market.venues: must list at least one venue, got none"),
        (
            "market",
            {"venue": "amm", "venues": [{"kind": "amm"}]},
            "market.venues: give either venue and fee_bps, or venues, not both",
        ),
        ("feeds", {"kind": "pyth"}, "feeds.kind: 'pyth' is not one of ['chainlink', 'mock']"),
    ],
)
def test_spec__local_market_kinds__refused_with_the_field(section, value, message):
    data = yaml.safe_load(Path("specs/demo.yaml").read_text())
    data[section] = value
    with pytest.raises(SpecError) as err:
        spec_from_dict(data, "specs/x.yaml")
    assert str(err.value) == f"specs/x.yaml: {message}"
