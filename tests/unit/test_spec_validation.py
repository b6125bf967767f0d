"""Portfolio spec validation (ballast/spec.py): every bad field is named, with the rule and the value.

Each case changes one thing in specs/demo.yaml and asserts the exact message. The comment on
each case says which rule, removed from ballast/spec.py, makes it fail (those marked "checked"
were run against such a broken copy).
"""

from __future__ import annotations

import copy
import re
from pathlib import Path

import pytest
import yaml
from eth_utils import to_checksum_address

from ballast.chain.artifacts import NODE_MODULES
from ballast.chain.deploy import AssetSpec, PortfolioSpec, SpecError, check_network, load_spec, spec_from_dict
from ballast.constants import MAX_ASSETS, TRIGGER_HYBRID
from ballast.venues import uniswap_v2, uniswap_v3

ROOT = Path(__file__).resolve().parents[2]
DEMO = ROOT / "specs" / "demo.yaml"
MAINNET = ROOT / "specs" / "mainnet.yaml"
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
    """Give every asset an address and feed (distinct, well-formed), and the spec venues; drop the
    local market (a vault over existing tokens creates no pools)."""
    for i, a in enumerate(d["assets"][:n]):
        a.update(address=f"0x{i + 1:040x}", feed=f"0x{i + 0xF1:040x}")
    d["venues"] = list(venues)
    d.pop("market", None)


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
    (
        "no venues",
        lambda d: existing(d, venues=()),
        "venues: a vault over existing tokens needs a venue: Ballast adapters in venues, or market.venues naming "
        "existing factories, got neither",
    ),
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


# ---------------------------------------------------------------- existing markets (specs/mainnet.yaml)

V3_FACTORY = "0x1F98431c8aD98523631AE4a59f267346ea31F984"
V2_FACTORY = "0x5C69bEe701ef814a2B6a3EDD4B1652CB9cc5aA6f"
USDC_WETH_5 = "0x88e6A0c2dDD26FEEb64F039a2c41296FcB3f5640"
USDC_WETH_30 = "0x8ad599c3A0ff1De082011EFDDc58f1908eb6e6D8"
USDC_WETH_V2 = "0xB4e16d0168e52d35CaCD2c6185b44281Ec28C9Dc"


def mainnet() -> dict:
    return yaml.safe_load(MAINNET.read_text())


def test_mainnet_spec__checksummed_addresses_real_heartbeats_and_three_factory_venues():
    """specs/mainnet.yaml loads; every address in it is EIP-55 checksummed (the loader also takes
    all-lowercase ones, so this is checked here), and the heartbeats are Chainlink's."""
    spec = load_spec(MAINNET)
    addresses = [a.address for a in spec.assets] + [a.feed for a in spec.assets]
    addresses += [v.factory for v in spec.factory_venues] + [p.address for v in spec.factory_venues for p in v.pools]
    assert [a for a in addresses if to_checksum_address(a) != a] == []
    assert {a.symbol: (a.decimals, a.heartbeat) for a in spec.assets} == {
        "USDC": (6, 86_400),
        "WETH": (18, 3_600),
        "WBTC": (8, 3_600),
        "LINK": (18, 3_600),
    }
    assert [(v.kind, v.fee_bps, v.factory) for v in spec.factory_venues] == [
        ("uniswap_v3", 5, V3_FACTORY),
        ("uniswap_v3", 30, V3_FACTORY),
        ("uniswap_v2", 30, V2_FACTORY),
    ]
    assert spec.venues == [] and spec.weights_bps == [4000, 3000, 2000, 1000]
    check_network(spec, str(MAINNET), "ethereum:mainnet-fork:foundry", local=False)  # no mock needed


def test_init_code_hashes__equal_the_uniswap_periphery_constants():
    """The adapters derive pool addresses with the init-code hashes of the npm core artifacts; the
    mainnet factories' pools are where the periphery's own libraries (the code every router on
    mainnet uses) put them. Both constants are read from the pinned periphery sources."""
    v3_source = (NODE_MODULES / "@uniswap/v3-periphery/contracts/libraries/PoolAddress.sol").read_text()
    v2_source = (NODE_MODULES / "@uniswap/v2-periphery/contracts/libraries/UniswapV2Library.sol").read_text()
    v3_constant = re.search(r"POOL_INIT_CODE_HASH = 0x([0-9a-f]{64});", v3_source).group(1)
    v2_constant = re.search(r"hex'([0-9a-f]{64})' // init code hash", v2_source).group(1)
    assert uniswap_v3.pool_init_code_hash().hex() == v3_constant
    assert uniswap_v2.pair_init_code_hash().hex() == v2_constant


def test_pool_addresses__the_factories_create2_of_known_mainnet_pools():
    """The derivation the spec check uses gives the well-known mainnet USDC/WETH pools, in either
    token order."""
    usdc, weth = "0xA0b86991c6218b36c1d19D4a2e9Eb0cE3606eB48", "0xC02aaA39b223FE8D0A0e5C4F27eAD9083C756Cc2"
    assert uniswap_v3.pool_address(V3_FACTORY, usdc, weth, 500) == USDC_WETH_5
    assert uniswap_v3.pool_address(V3_FACTORY, weth, usdc, 3000) == USDC_WETH_30
    assert uniswap_v2.pair_address(V2_FACTORY, weth.lower(), usdc) == USDC_WETH_V2


def venue(i: int, **fields):
    return lambda d: d["market"]["venues"][i].update(fields)


def pool(i: int, j: int, **fields):
    return lambda d: d["market"]["venues"][i]["pools"][j].update(fields)


EXISTING_CASES = [
    # (checked: each fails with its rule removed from VenueModel._fee or _existing_market_issues)
    (
        "factory on balancer",
        venue(0, kind="balancer", fee_bps=30, pools=[]),
        "market.venues[0].factory: only uniswap_v2 and uniswap_v3 adapters are deployed over an existing "
        "factory, got kind balancer",
    ),
    (
        "pools without factory",
        lambda d: d["market"]["venues"][0].pop("factory"),
        "market.venues[0].pools: need the venue's factory, to check each pool's address against it",
    ),
    (
        "venue without factory",
        lambda d: d["market"]["venues"].append({"kind": "uniswap_v3", "fee_bps": 100}),
        "market.venues[3].factory: required when the assets have addresses (Ballast's adapter is deployed over "
        "an existing factory; no pool is created), got none",
    ),
    (
        "single local venue",
        lambda d: d.update(market={"venue": "uniswap_v2"}, venues=[VENUE]),
        "market: a vault over existing tokens creates no pools: list market.venues, each with the factory its "
        "adapter trades, got venue 'uniswap_v2'",
    ),
    (
        "pool of an unknown asset",
        pool(0, 0, pair=["DAI", "WETH"]),
        "market.venues[0].pools[0].pair: 'DAI' is not an asset's symbol (USDC, WETH, WBTC, LINK)",
    ),
    (
        "pool of one asset",
        pool(0, 1, pair=["WETH", "WETH"]),
        "market.venues[0].pools[1].pair: must name two different assets, got ['WETH', 'WETH']",
    ),
    (
        "pool of three assets",
        pool(0, 1, pair=["WETH", "WBTC", "USDC"]),
        "market.venues[0].pools[1].pair: must name two different assets, got ['WETH', 'WBTC', 'USDC']",
    ),
    (
        "pool listed twice",
        pool(0, 1, pair=["WETH", "USDC"], address=USDC_WETH_5),
        "market.venues[0].pools[1].pair: WETH/USDC is listed twice (also pools[0])",
    ),
    (
        "pool of another fee tier",
        pool(0, 0, address=USDC_WETH_30),
        f"market.venues[0].pools[0].address: the uniswap_v3 factory {V3_FACTORY} puts the USDC/WETH pool at "
        f"5 bps at {USDC_WETH_5}, got {USDC_WETH_30}",
    ),
    (
        "v3 pool listed on the v2 factory",
        pool(2, 0, address=USDC_WETH_5),
        f"market.venues[2].pools[0].address: the uniswap_v2 factory {V2_FACTORY} puts the USDC/WETH pool at "
        f"{USDC_WETH_V2}, got {USDC_WETH_5}",
    ),
    (
        "factory of the wrong case",  # as the address was first typed for this spec
        venue(2, factory="0x5C69bEe701ef814a2B6a3EDd4B1652CB9cc5aA6f"),
        f"market.venues[2].factory: must be checksummed ({V2_FACTORY}) or all lowercase, "
        "got '0x5C69bEe701ef814a2B6a3EDd4B1652CB9cc5aA6f'",
    ),
    (
        "typo in a venue",
        venue(1, factroy=V3_FACTORY),
        "market.venues[1].factroy: unknown field (did you mean 'factory'?)",
    ),
    (
        "no venue at all",
        lambda d: d.pop("market"),
        "venues: a vault over existing tokens needs a venue: Ballast adapters in venues, or market.venues naming "
        "existing factories, got neither",
    ),
]


@pytest.mark.parametrize("change, message", [c[1:] for c in EXISTING_CASES], ids=[c[0] for c in EXISTING_CASES])
def test_mainnet_spec__bad_existing_market__named_with_rule_and_value(change, message):
    data = mainnet()
    change(data)
    with pytest.raises(SpecError) as err:
        spec_from_dict(data, WHERE)
    assert str(err.value) == f"{WHERE}: {message}"


def test_mainnet_spec__lowercase_pool_and_adapters_alongside_factories__accepted():
    """An all-lowercase pool address is the same pool; already deployed adapters (``venues``) may
    stand beside the factory venues."""
    data = mainnet()
    data["market"]["venues"][0]["pools"][0]["address"] = USDC_WETH_5.lower()
    data["venues"] = [VENUE]
    spec = spec_from_dict(data, WHERE)
    assert spec.venues == [VENUE] and len(spec.factory_venues) == 3


def test_demo_spec__factory_on_a_local_market__refused():
    # Fails with the factory check of the mock-market branch of _basket_issues removed (the factory
    # would be silently ignored: deploy_local_market deploys its own).
    data = demo()
    data["market"]["venues"][0]["factory"] = V2_FACTORY
    with pytest.raises(SpecError) as err:
        spec_from_dict(data, WHERE)
    assert str(err.value) == (
        f"{WHERE}: market.venues[0].factory: only for assets with addresses (a local market deploys its own "
        f"factory), got {V2_FACTORY!r}"
    )
