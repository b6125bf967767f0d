"""Deployment: a vault from a portfolio spec, and a local market of mock tokens, feeds and pools.

Used by ``ape run deploy``, ``ape run demo`` and the tests, with ape's ``project`` and an
account as the sender.
"""

from __future__ import annotations

import itertools
import json
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from ballast.constants import ROLE_GUARDIAN, ROLE_KEEPER, TRIGGER_CALENDAR, TRIGGER_HYBRID, TRIGGER_THRESHOLD, WAD

TRIGGERS = {"calendar": TRIGGER_CALENDAR, "threshold": TRIGGER_THRESHOLD, "hybrid": TRIGGER_HYBRID}


class SpecError(ValueError):
    """A portfolio spec that cannot be deployed; the message says which field and why."""


@dataclass
class AssetSpec:
    symbol: str
    target_bps: int
    band_bps: int
    outer_band_bps: int
    decimals: int = 18
    price: float = 1.0
    address: str | None = None
    feed: str | None = None
    heartbeat: int = 86_400
    min_answer: int = 0
    max_answer: int = 2**128 - 1


@dataclass
class PortfolioSpec:
    name: str
    symbol: str
    assets: list[AssetSpec]
    trigger_type: int
    interval: int
    vol_reference: int
    vol_alpha_bps: int
    vol_min_interval: int
    max_slippage_bps: int
    max_cost_bps: int
    turnover_cap_bps: int
    turnover_period: int
    cooldown: int
    entry_haircut_bps: int
    feed_decimals: int = 8
    fee_bps: int = 30
    depth_usd: int = 10_000_000
    venues: list[str] = field(default_factory=list)
    keeper: str | None = None
    guardian: str | None = None

    @property
    def weights_bps(self) -> list[int]:
        return [a.target_bps for a in self.assets]


def _require(data: dict, key: str, where: str):
    if key not in data:
        raise SpecError(f"{where}: missing field '{key}'")
    return data[key]


def load_spec(path: str | Path) -> PortfolioSpec:
    """Read and validate a YAML (or JSON) portfolio spec."""
    text = Path(path).read_text()
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as err:
        raise SpecError(f"{path}: not valid YAML: {err}") from err
    if not isinstance(data, dict):
        raise SpecError(f"{path}: expected a mapping at the top level")
    return spec_from_dict(data, str(path))


def spec_from_dict(data: dict, where: str = "spec") -> PortfolioSpec:
    trigger = _require(data, "trigger", where)
    limits = _require(data, "limits", where)
    feeds = data.get("feeds", {})
    market = data.get("market", {})
    kind = str(_require(trigger, "type", f"{where}.trigger")).lower()
    if kind not in TRIGGERS:
        raise SpecError(f"{where}.trigger.type: '{kind}' is not one of {sorted(TRIGGERS)}")
    assets = []
    for i, raw in enumerate(_require(data, "assets", where)):
        at = f"{where}.assets[{i}]"
        assets.append(
            AssetSpec(
                symbol=str(_require(raw, "symbol", at)),
                target_bps=int(_require(raw, "target_bps", at)),
                band_bps=int(_require(raw, "band_bps", at)),
                outer_band_bps=int(raw.get("outer_band_bps", 2 * int(raw["band_bps"]))),
                decimals=int(raw.get("decimals", 18)),
                price=float(raw.get("price", 1.0)),
                address=raw.get("address"),
                feed=raw.get("feed"),
                heartbeat=int(raw.get("heartbeat", feeds.get("heartbeat", 86_400))),
                min_answer=int(raw.get("min_answer", 0)),
                max_answer=int(raw.get("max_answer", 2**128 - 1)),
            )
        )
    if not 2 <= len(assets) <= 8:
        raise SpecError(f"{where}.assets: need 2 to 8 assets, got {len(assets)}")
    if sum(a.target_bps for a in assets) != 10_000:
        raise SpecError(f"{where}.assets: target_bps must sum to 10000, got {sum(a.target_bps for a in assets)}")
    symbols = [a.symbol for a in assets]
    if len(set(symbols)) != len(symbols):
        raise SpecError(f"{where}.assets: duplicate symbol")
    return PortfolioSpec(
        name=str(_require(data, "name", where))[:25],
        symbol=str(_require(data, "symbol", where))[:5],
        assets=assets,
        trigger_type=TRIGGERS[kind],
        interval=int(_require(trigger, "interval", f"{where}.trigger")),
        vol_reference=int(float(trigger.get("vol_reference", 0.5)) * WAD),
        vol_alpha_bps=int(trigger.get("vol_alpha_bps", 2000)),
        vol_min_interval=int(trigger.get("vol_min_interval", 3600)),
        max_slippage_bps=int(_require(limits, "max_slippage_bps", f"{where}.limits")),
        max_cost_bps=int(_require(limits, "max_cost_bps", f"{where}.limits")),
        turnover_cap_bps=int(_require(limits, "turnover_cap_bps", f"{where}.limits")),
        turnover_period=int(_require(limits, "turnover_period", f"{where}.limits")),
        cooldown=int(limits.get("cooldown", 0)),
        entry_haircut_bps=int(data.get("entry_haircut_bps", 0)),
        feed_decimals=int(feeds.get("decimals", 8)),
        fee_bps=int(market.get("fee_bps", 30)),
        depth_usd=int(market.get("depth_usd", 10_000_000)),
        venues=list(data.get("venues", [])),
        keeper=data.get("keeper"),
        guardian=data.get("guardian"),
    )


def feed_answer(price: float, feed_decimals: int) -> int:
    """A USD price as a feed answer with ``feed_decimals`` decimals."""
    return round(price * 10**feed_decimals)


@dataclass
class LocalMarket:
    """Mock tokens, feeds and one constant-product venue with a pool for every pair."""

    tokens: list
    feeds: list
    venue: object
    prices: list[float]


def deploy_local_market(project, sender, spec: PortfolioSpec, liquidity_provider=None) -> LocalMarket:
    """Deploy a mock token and feed for every asset, and an AMM with every pair funded."""
    tokens, feeds = [], []
    for asset in spec.assets:
        token = project.MockERC20.deploy(asset.symbol, asset.symbol, asset.decimals, sender=sender)
        feed = project.MockPriceFeed.deploy(
            spec.feed_decimals, feed_answer(asset.price, spec.feed_decimals), sender=sender
        )
        tokens.append(token)
        feeds.append(feed)
    venue = project.ConstantProductAMM.deploy(spec.fee_bps, sender=sender)
    lp = liquidity_provider or sender
    for (i, a), (j, b) in itertools.combinations(list(enumerate(spec.assets)), 2):
        amount_a = int(spec.depth_usd / a.price * 10**a.decimals)
        amount_b = int(spec.depth_usd / b.price * 10**b.decimals)
        tokens[i].mint(lp, amount_a, sender=sender)
        tokens[j].mint(lp, amount_b, sender=sender)
        tokens[i].approve(venue, amount_a, sender=lp)
        tokens[j].approve(venue, amount_b, sender=lp)
        venue.add_liquidity(tokens[i], tokens[j], amount_a, amount_b, sender=lp)
    return LocalMarket(tokens, feeds, venue, [a.price for a in spec.assets])


def asset_configs(spec: PortfolioSpec, tokens: list, feeds: list) -> list[tuple]:
    """The vault's ``AssetConfig`` structs, in field order."""
    return [
        (
            str(token),
            str(feed),
            a.heartbeat,
            a.min_answer,
            a.max_answer,
            a.target_bps,
            a.band_bps,
            a.outer_band_bps,
        )
        for a, token, feed in zip(spec.assets, tokens, feeds)
    ]


def deploy_vault(project, sender, spec: PortfolioSpec, tokens: list, feeds: list, venues: list, keeper=None):
    """Deploy a vault for ``spec`` over ``tokens``/``feeds``, whitelist ``venues``, set roles."""
    trigger = (spec.trigger_type, spec.interval, spec.vol_reference, spec.vol_alpha_bps, spec.vol_min_interval)
    limits = (
        spec.max_slippage_bps,
        spec.max_cost_bps,
        spec.turnover_cap_bps,
        spec.turnover_period,
        spec.cooldown,
    )
    vault = project.Vault.deploy(
        spec.name,
        spec.symbol,
        asset_configs(spec, tokens, feeds),
        trigger,
        limits,
        spec.entry_haircut_bps,
        sender=sender,
    )
    for venue in venues:
        vault.set_venue(venue, True, sender=sender)
    keeper_address = keeper or spec.keeper
    if keeper_address:
        vault.set_role(keeper_address, ROLE_KEEPER, sender=sender)
    if spec.guardian:
        vault.set_role(spec.guardian, ROLE_GUARDIAN, sender=sender)
    return vault


def record_deployment(path: str | Path, network: str, vault, tokens: list, feeds: list, venues: list) -> dict:
    """Write the deployed addresses to ``path`` (JSON, one entry per network) and return the entry."""
    path = Path(path)
    book = json.loads(path.read_text()) if path.exists() else {}
    entry = {
        "vault": str(vault.address),
        "assets": [str(t) for t in tokens],
        "feeds": [str(f) for f in feeds],
        "venues": [str(v) for v in venues],
    }
    book[network] = entry
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(book, indent=2) + "\n")
    return entry
