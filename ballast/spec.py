"""Portfolio specs: the YAML file ``ape run deploy`` reads, validated whole before anything is sent.

A pydantic schema checks every field against what the vault's constructor and setters assert
(``contracts/Vault.vy``, ``contracts/modules/*.vy``), reading the bounds from the contracts so
that none is typed twice. Every problem becomes one line of :class:`SpecError`::

    specs/x.yaml: assets[2].band_bps: must be > 0, got -250

The valid spec is returned as a :class:`PortfolioSpec` of plain dataclasses. Checks that depend
on the network (mocks on local networks only) are :func:`check_network`; what an existing
market must hold on the connected chain is ``ballast.chain.deploy.check_existing_contracts``.

A spec is of one of two kinds. Without addresses (``specs/demo.yaml``) it describes a local
market: mock tokens, feeds and pools are deployed from it. With an ``address`` and a ``feed`` on
every asset (``specs/mainnet.yaml``) it describes a vault over existing contracts: its venues are
Ballast adapters already deployed (``venues``) and adapters to deploy over existing Uniswap
factories (``market.venues`` entries with a ``factory``, and optionally the ``pools`` expected
there, whose addresses are checked here against the factory's CREATE2 derivation).
"""

from __future__ import annotations

import difflib
import re
import typing
from collections.abc import Hashable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated, Any, Literal

import yaml
from pydantic import AfterValidator, BaseModel, BeforeValidator, ConfigDict, Field, ValidationError, model_validator
from pydantic_core import PydanticCustomError

from ballast.checks import InputError, address_problem
from ballast.constants import (
    MAX_ASSETS,
    MAX_BPS,
    MAX_COST_BPS,
    MAX_DECIMALS,
    MAX_ENTRY_HAIRCUT_BPS,
    MAX_SLIPPAGE_BPS,
    ROOT,
    TRIGGER_CALENDAR,
    TRIGGER_HYBRID,
    TRIGGER_THRESHOLD,
    WAD,
)

TRIGGERS = {"calendar": TRIGGER_CALENDAR, "threshold": TRIGGER_THRESHOLD, "hybrid": TRIGGER_HYBRID}


def _vyper_int(relative: str, pattern: str) -> int:
    """The integer that ``pattern``'s group 1 matches in a contract source file."""
    match = re.search(pattern, (ROOT / "contracts" / relative).read_text())
    if match is None:
        raise RuntimeError(f"contracts/{relative}: no match for {pattern!r}")
    return int(match.group(1).replace("_", ""))


# Sizes and caps that the contracts assert, read from their source.
NAME_BYTES = _vyper_int("Vault.vy", r"def __init__\(\s*name: String\[(\d+)\]")
SYMBOL_BYTES = _vyper_int("Vault.vy", r"def __init__\([^)]*?symbol: String\[(\d+)\]")
MOCK_SYMBOL_BYTES = _vyper_int("test/MockERC20.vy", r"def __init__\([^)]*?symbol_: String\[(\d+)\]")
MAX_FEE_BPS = _vyper_int("venues/ConstantProductAMM.vy", r"MAX_FEE_BPS: public\(constant\(uint256\)\) = ([\d_]+)")
# Bounds the modules assert in terms of the protocol constants.
MAX_TURNOVER_CAP_BPS = 10 * MAX_BPS  # Vault._set_limits
MAX_VOL_REFERENCE = 10  # basket._set_trigger: vol_reference <= 10 * WAD
UNISWAP_V2_FEE_BPS = _vyper_int("venues/UniswapV2Venue.vy", r"FEE_BPS: constant\(uint256\) = ([\d_]+)")
U32, U64, U128 = 2**32 - 1, 2**64 - 1, 2**128 - 1  # heartbeat; durations; feed answers


class SpecError(InputError):
    """A portfolio spec that cannot be deployed; one line per problem, naming the field and why."""


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
class PoolSpec:
    """A pool the spec expects on an existing factory: its pair (two asset symbols) and address."""

    pair: tuple[str, str]
    address: str


@dataclass
class FactoryVenueSpec:
    """A venue over an existing factory: Ballast's adapter for ``kind`` at ``fee_bps`` is deployed
    over ``factory``; ``pools`` are checked before that (offline and on chain)."""

    kind: str
    fee_bps: int
    factory: str
    pools: list[PoolSpec] = field(default_factory=list)


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
    feed_kind: str = "mock"
    venue_kind: str = "amm"  # the first local venue's kind and fee
    fee_bps: int = 30
    market_venues: list[tuple[str, int]] = field(default_factory=lambda: [("amm", 30)])
    depth_usd: int = 10_000_000
    venues: list[str] = field(default_factory=list)
    keeper: str | None = None
    guardian: str | None = None
    factory_venues: list[FactoryVenueSpec] = field(default_factory=list)  # over existing factories

    @property
    def weights_bps(self) -> list[int]:
        return [a.target_bps for a in self.assets]


def feed_answer(price: float, feed_decimals: int) -> int:
    """A USD price as a feed answer with ``feed_decimals`` decimals."""
    return round(price * 10**feed_decimals)


# ---------------------------------------------------------------- the schema


def _problem(text: str, field_name: str | None = None) -> PydanticCustomError:
    """A finished message (rule and value) for :func:`_issue`, optionally about a sibling field."""
    return PydanticCustomError("ballast", "{problem}", {"problem": text, "field": field_name})


def _address(value):
    problem = address_problem(value)
    if problem:
        raise _problem(problem)
    return value


def _bytes_at_most(limit: int):
    def check(text: str) -> str:
        size = len(text.encode())
        if not 1 <= size <= limit:
            raise _problem(f"must be 1 to {limit} bytes (the vault's String[{limit}]), got {text!r} ({size} bytes)")
        return text

    return AfterValidator(check)


def _lower(value):
    return value.lower() if isinstance(value, str) else value


Address = Annotated[str, BeforeValidator(_address)]


class _Section(BaseModel):
    """Strict types, and no unknown keys (a typo such as ``band_bp`` is an error)."""

    model_config = ConfigDict(extra="forbid", strict=True)


class AssetModel(_Section):
    """One ``assets[i]`` entry: ``AssetConfig`` (pricing._set_feed, basket._set_bands) and its mock."""

    symbol: Annotated[str, Field(min_length=1)]
    target_bps: int = Field(ge=0, le=MAX_BPS)
    band_bps: int = Field(gt=0, le=MAX_BPS)
    outer_band_bps: int | None = Field(None, gt=0, le=MAX_BPS)  # default 2 x band_bps
    decimals: int = Field(18, ge=0, le=MAX_DECIMALS)
    price: float = Field(1.0, gt=0, allow_inf_nan=False)
    address: Address | None = None
    feed: Address | None = None
    heartbeat: int | None = Field(None, gt=0, le=U32)  # default feeds.heartbeat
    min_answer: int = Field(0, ge=0, lt=U128)
    max_answer: int = Field(U128, gt=0, le=U128)

    @model_validator(mode="after")
    def _bands_and_bounds(self):
        if self.outer_band_bps is None:
            if 2 * self.band_bps > MAX_BPS:
                raise _problem(
                    f"must be <= {MAX_BPS}, got {2 * self.band_bps} (the default, 2 x band_bps)", "outer_band_bps"
                )
            self.outer_band_bps = 2 * self.band_bps
        if self.outer_band_bps < self.band_bps:
            raise _problem(f"must be >= band_bps ({self.band_bps}), got {self.outer_band_bps}", "outer_band_bps")
        if self.max_answer <= self.min_answer:
            raise _problem(f"must be > min_answer ({self.min_answer}), got {self.max_answer}", "max_answer")
        return self


class TriggerModel(_Section):
    """``trigger``: ``TriggerConfig`` as basket._set_trigger checks it; vol_reference is a fraction."""

    type: Annotated[Literal[tuple(TRIGGERS)], BeforeValidator(_lower)]  # case-insensitive
    interval: int = Field(gt=0, le=U64)
    vol_reference: float = Field(0.5, gt=0, le=MAX_VOL_REFERENCE, allow_inf_nan=False)
    vol_alpha_bps: int = Field(2000, gt=0, le=MAX_BPS)
    vol_min_interval: int = Field(3600, gt=0, le=U64)

    @model_validator(mode="after")
    def _reference_in_wad(self):
        if int(self.vol_reference * WAD) == 0:
            raise _problem(f"must be at least 1e-18, got {self.vol_reference!r}", "vol_reference")
        return self


class LimitsModel(_Section):
    """``limits``: ``Limits`` as Vault._set_limits checks it."""

    max_slippage_bps: int = Field(ge=0, le=MAX_SLIPPAGE_BPS)
    max_cost_bps: int = Field(ge=0, le=MAX_COST_BPS)
    turnover_cap_bps: int = Field(gt=0, le=MAX_TURNOVER_CAP_BPS)
    turnover_period: int = Field(gt=0, le=U64)
    cooldown: int = Field(0, ge=0, le=U64)


class FeedsModel(_Section):
    """``feeds``: the local feeds' kind and decimals, and every asset's default heartbeat.

    ``kind``: ``chainlink`` deploys Chainlink's EACAggregatorProxy over MockV3Aggregator (their
    npm bytecode); ``mock`` the settable test feed.
    """

    kind: Literal["mock", "chainlink"] = "mock"
    decimals: int = Field(8, ge=0, le=MAX_DECIMALS)
    heartbeat: int = Field(86_400, gt=0, le=U32)


VenueKind = Literal["amm", "uniswap_v2", "uniswap_v3", "balancer"]
UNISWAP_V3_FEES_BPS = (1, 5, 30, 100)  # the factory's tiers (1 bp enabled by governance, as on mainnet)
BALANCER_MAX_FEE_BPS = 1_000  # Balancer V2 pools accept swap fees up to 10 %


def _venue_fee_problem(kind: str, fee_bps: int) -> str | None:
    """Why ``fee_bps`` is not a fee this kind of local venue can have (None if it is)."""
    if kind == "uniswap_v2" and fee_bps != UNISWAP_V2_FEE_BPS:
        return f"must be {UNISWAP_V2_FEE_BPS} for uniswap_v2 pairs, got {fee_bps}"
    if kind == "uniswap_v3" and fee_bps not in UNISWAP_V3_FEES_BPS:
        return f"must be one of {list(UNISWAP_V3_FEES_BPS)} (a Uniswap V3 fee tier) for uniswap_v3, got {fee_bps}"
    if kind == "balancer" and not 1 <= fee_bps <= BALANCER_MAX_FEE_BPS:
        return f"must be 1 to {BALANCER_MAX_FEE_BPS} for a balancer pool, got {fee_bps}"
    return None


FACTORY_KINDS = ("uniswap_v2", "uniswap_v3")  # the venues an adapter is deployed for over an existing factory


class PoolModel(_Section):
    """One pool expected on an existing factory: ``pair`` (two asset symbols) and its ``address``."""

    pair: list[str] = Field(strict=False)
    address: Address

    @model_validator(mode="after")
    def _two_assets(self):
        if len(self.pair) != 2 or self.pair[0] == self.pair[1]:
            raise _problem(f"must name two different assets, got {self.pair!r}", "pair")
        return self


class VenueModel(_Section):
    """One venue of ``market.venues``: its kind and its fee; over existing tokens also the
    ``factory`` whose pools it trades (Ballast's adapter is deployed over it; no pool is created)
    and, optionally, the ``pools`` expected there."""

    kind: VenueKind
    fee_bps: int = Field(30, ge=0, le=MAX_FEE_BPS)
    factory: Address | None = None
    pools: list[PoolModel] = Field(default_factory=list, strict=False)

    @model_validator(mode="after")
    def _fee(self):
        problem = _venue_fee_problem(self.kind, self.fee_bps)
        if problem:
            raise _problem(problem, "fee_bps")
        if self.factory is not None and self.kind not in FACTORY_KINDS:
            raise _problem(
                f"only {' and '.join(FACTORY_KINDS)} adapters are deployed over an existing factory, "
                f"got kind {self.kind}",
                "factory",
            )
        if self.pools and self.factory is None:
            raise _problem("need the venue's factory, to check each pool's address against it", "pools")
        return self


class MarketModel(_Section):
    """``market``: the local venues and their pools.

    ``venue``: ``uniswap_v2`` deploys the real Uniswap V2 factory and pairs with Ballast's adapter
    (their fee is fixed at 30 bps); ``uniswap_v3`` the real V3 factory and a pool per pair at the
    ``fee_bps`` tier (half the liquidity full range, half within 10 % of the price);
    ``balancer`` the real Balancer V2 Vault and one weighted pool of every asset at the target
    weights; ``amm`` the ConstantProductAMM double, at any ``fee_bps``. ``venues`` lists several
    (``{kind, fee_bps}`` each) instead of ``venue`` and ``fee_bps``.
    """

    venue: VenueKind = "amm"
    fee_bps: int = Field(30, ge=0, le=MAX_FEE_BPS)
    venues: list[VenueModel] | None = None
    depth_usd: int = Field(10_000_000, gt=0)

    @model_validator(mode="after")
    def _venues(self):
        if self.venues is None:
            problem = _venue_fee_problem(self.venue, self.fee_bps)
            if problem:
                raise _problem(problem, "fee_bps")
            return self
        if {"venue", "fee_bps"} & self.model_fields_set:
            raise _problem("give either venue and fee_bps, or venues, not both", "venues")
        if not self.venues:
            raise _problem("must list at least one venue, got none", "venues")
        seen = set()
        for venue in self.venues:
            if (venue.kind, venue.fee_bps) in seen:
                raise _problem(f"lists {venue.kind} at {venue.fee_bps} bps twice", "venues")
            seen.add((venue.kind, venue.fee_bps))
        return self

    @property
    def all_venues(self) -> list[tuple[str, int]]:
        """Every local venue as ``(kind, fee_bps)``, in the spec's order."""
        if self.venues is None:
            return [(self.venue, self.fee_bps)]
        return [(v.kind, v.fee_bps) for v in self.venues]

    @property
    def factory_venues(self) -> list[VenueModel]:
        """The venues that name an existing factory, in the spec's order."""
        return [v for v in self.venues or [] if v.factory is not None]


class SpecModel(_Section):
    """The whole spec file; cross-asset rules are in :func:`_basket_issues`."""

    name: Annotated[str, _bytes_at_most(NAME_BYTES)]
    symbol: Annotated[str, _bytes_at_most(SYMBOL_BYTES)]
    entry_haircut_bps: int = Field(0, ge=0, le=MAX_ENTRY_HAIRCUT_BPS)
    trigger: TriggerModel
    limits: LimitsModel
    assets: list[AssetModel] = Field(min_length=2, max_length=MAX_ASSETS, strict=False)
    feeds: FeedsModel = FeedsModel()
    market: MarketModel = MarketModel()
    venues: list[Address] = Field(default_factory=list, strict=False)
    keeper: Address | None = None
    guardian: Address | None = None


# ---------------------------------------------------------------- messages


def _path(loc: tuple) -> str:
    """``("assets", 2, "band_bps")`` as ``assets[2].band_bps``."""
    text = ""
    for part in loc:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else str(part))
    return text


def _show(value) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def _section_model(annotation) -> Any:
    """The model inside a field's annotation: ``X``, ``list[X]``, ``X | None`` or ``list[X] | None``."""
    while not (isinstance(annotation, type) and issubclass(annotation, BaseModel)):
        args = [a for a in typing.get_args(annotation) if a is not type(None)]
        if not args:
            return None
        annotation = args[0]
    return annotation


def _fields_at(loc: tuple) -> list[str]:
    """The field names of the section at ``loc`` (for "did you mean")."""
    model: Any = SpecModel
    for part in loc:
        if isinstance(part, int):
            continue
        model = _section_model(model.model_fields[part].annotation)
    return list(model.model_fields) if model else []


_RULES = {
    "greater_than": "must be > {gt}",
    "greater_than_equal": "must be >= {ge}",
    "less_than": "must be < {lt}",
    "less_than_equal": "must be <= {le}",
    "int_type": "must be an integer",
    "float_type": "must be a number",
    "finite_number": "must be a finite number",
    "string_type": "must be a string",
    "string_too_short": "must not be empty",
    "bool_type": "must be true or false",
    "model_type": "must be a mapping",
    "list_type": "must be a list",
}


def _issue(error: dict) -> str:
    """One pydantic error as ``path: rule, got value``."""
    kind, loc, ctx, value = error["type"], error["loc"], error.get("ctx") or {}, error.get("input")
    if kind == "ballast":
        return f"{_path(loc + ((ctx['field'],) if ctx.get('field') else ()))}: {ctx['problem']}"
    if kind == "missing":
        return f"{_path(loc[:-1]) + ': ' if loc[:-1] else ''}missing field '{loc[-1]}'"
    if kind == "extra_forbidden":
        close = difflib.get_close_matches(str(loc[-1]), _fields_at(loc[:-1]), n=1)
        hint = f" (did you mean '{close[0]}'?)" if close else ""
        return f"{_path(loc)}: unknown field{hint}"
    if kind == "literal_error":
        expected = sorted(TRIGGERS) if loc[-1] == "type" else sorted(re.findall(r"'([^']*)'", ctx.get("expected", "")))
        return f"{_path(loc)}: {_show(value)} is not one of {expected}"
    if kind in ("too_short", "too_long"):
        return f"{_path(loc)}: need 2 to {MAX_ASSETS} assets, got {ctx['actual_length']}"
    bounds = {k: int(v) if isinstance(v, float) and v.is_integer() else v for k, v in ctx.items()}
    rule = _RULES.get(kind, error["msg"]).format(**bounds)
    return f"{_path(loc)}: {rule}, got {_show(value)}"


def _basket_issues(model: SpecModel) -> list[str]:
    """What no single section can see: weights, duplicates, addresses all-or-none, the mock market."""
    issues, assets = [], model.assets
    total = sum(a.target_bps for a in assets)
    if total != MAX_BPS:
        issues.append(f"assets: target_bps must sum to {MAX_BPS}, got {total}")
    for key, label in (("symbol", "symbol"), ("address", "address")):
        seen: dict[str, int] = {}
        for i, asset in enumerate(assets):
            value = getattr(asset, key)
            if value is None:
                continue
            first = seen.setdefault(value.lower() if key == "address" else value, i)
            if first != i:
                issues.append(f"assets[{i}].{key}: duplicate {label} {value!r} (also assets[{first}])")
    for i, asset in enumerate(assets):
        if (asset.address is None) != (asset.feed is None):
            given, missing = ("address", "feed") if asset.feed is None else ("feed", "address")
            issues.append(f"assets[{i}].{missing}: required when {given} is set")
    listed = [i for i, a in enumerate(assets) if a.address is not None]
    if listed and len(listed) < len(assets):
        for i, asset in enumerate(assets):
            if asset.address is None:
                issues.append(
                    f"assets[{i}].address: missing while assets[{listed[0]}] has one: "
                    "give every asset an address and feed, or none (local mocks)"
                )
    if listed:
        # Pools are checked against the token addresses once every asset has one.
        return issues + (_existing_market_issues(model) if len(listed) == len(assets) else [])
    # No addresses: a local market of mock tokens, feeds and pools is deployed.
    for i, venue in enumerate(model.market.venues or []):
        if venue.factory is not None:
            issues.append(
                f"market.venues[{i}].factory: only for assets with addresses (a local market deploys its own "
                f"factory), got {venue.factory!r}"
            )
    for i, asset in enumerate(assets):
        if len(asset.symbol.encode()) > MOCK_SYMBOL_BYTES:
            issues.append(
                f"assets[{i}].symbol: must be at most {MOCK_SYMBOL_BYTES} bytes for a mock token, got {asset.symbol!r}"
            )
        answer = feed_answer(asset.price, model.feeds.decimals)
        if not asset.min_answer < answer < asset.max_answer:
            issues.append(
                f"assets[{i}].price: must give a feed answer (price x 10^{model.feeds.decimals}, rounded) > "
                f"min_answer ({asset.min_answer}) and < max_answer ({asset.max_answer}), "
                f"got {asset.price!r} (answer {answer})"
            )
        units = model.market.depth_usd / asset.price * 10**asset.decimals
        if not 1 <= units < 2**128:
            issues.append(
                f"market.depth_usd: must buy 1 to 2**128 base units of assets[{i}] ({asset.symbol}) "
                f"per pool, got {model.market.depth_usd} (= {units:.3g} units)"
            )
    return issues


def _expected_pool(kind: str, fee_bps: int, factory: str, token_a: str, token_b: str) -> str:
    """The CREATE2 address at which ``factory`` puts the pool of (token_a, token_b): the address
    Ballast's adapter will trade."""
    from ballast.venues import uniswap_v2, uniswap_v3  # npm artifacts: read only for specs with pools

    if kind == "uniswap_v2":
        return uniswap_v2.pair_address(factory, token_a, token_b)
    return uniswap_v3.pool_address(factory, token_a, token_b, fee_bps * 100)


def _existing_market_issues(model: SpecModel) -> list[str]:
    """A vault over existing tokens trades existing pools: each ``market.venues`` entry names the
    factory its adapter is deployed over, each listed pool is where that factory puts the pair,
    and the vault has at least one venue."""
    issues = []
    market = model.market
    if "market" in model.model_fields_set and market.venues is None:
        issues.append(
            "market: a vault over existing tokens creates no pools: list market.venues, each with the "
            f"factory its adapter trades, got venue {market.venue!r}"
        )
    address_of = {a.symbol: a.address for a in model.assets}
    for i, venue in enumerate(market.venues or []):
        where = f"market.venues[{i}]"
        if venue.factory is None:
            issues.append(
                f"{where}.factory: required when the assets have addresses (Ballast's adapter is deployed "
                "over an existing factory; no pool is created), got none"
            )
            continue
        seen: dict[frozenset, int] = {}
        for j, pool in enumerate(venue.pools):
            unknown = [symbol for symbol in pool.pair if symbol not in address_of]
            if unknown:
                issues.append(
                    f"{where}.pools[{j}].pair: {unknown[0]!r} is not an asset's symbol ({', '.join(address_of)})"
                )
                continue
            first = seen.setdefault(frozenset(pool.pair), j)
            if first != j:
                issues.append(f"{where}.pools[{j}].pair: {'/'.join(pool.pair)} is listed twice (also pools[{first}])")
                continue
            expected = _expected_pool(venue.kind, venue.fee_bps, venue.factory, *(address_of[s] for s in pool.pair))
            if pool.address.lower() != expected.lower():
                issues.append(
                    f"{where}.pools[{j}].address: the {venue.kind} factory {venue.factory} puts the "
                    f"{'/'.join(pool.pair)} pool{'' if venue.kind == 'uniswap_v2' else f' at {venue.fee_bps} bps'} "
                    f"at {expected}, got {pool.address}"
                )
    if not model.venues and not market.factory_venues:
        issues.append(
            "venues: a vault over existing tokens needs a venue: Ballast adapters in venues, or market.venues "
            "naming existing factories, got neither"
        )
    return issues


# ---------------------------------------------------------------- loading


def spec_from_dict(data: dict, where: str = "spec") -> PortfolioSpec:
    """Validate a parsed spec and return it; :class:`SpecError` lists every problem found.

    @param data The spec as a mapping (parsed YAML or JSON, or built in Python).
    @param where Prefix of every message, usually the file path.
    @return The spec, with defaults filled in and the trigger type as its vault code.
    """
    if not isinstance(data, dict):
        raise SpecError(f"{where}: expected a mapping of spec fields at the top level, got {type(data).__name__}")
    try:
        model = SpecModel.model_validate(data)
    except ValidationError as err:
        raise SpecError("\n".join(f"{where}: {_issue(e)}" for e in err.errors(include_url=False))) from None
    issues = _basket_issues(model)
    if issues:
        raise SpecError("\n".join(f"{where}: {issue}" for issue in issues))
    trigger, limits = model.trigger, model.limits
    return PortfolioSpec(
        name=model.name,
        symbol=model.symbol,
        assets=[
            AssetSpec(
                symbol=a.symbol,
                target_bps=a.target_bps,
                band_bps=a.band_bps,
                outer_band_bps=a.outer_band_bps,
                decimals=a.decimals,
                price=float(a.price),
                address=a.address,
                feed=a.feed,
                heartbeat=model.feeds.heartbeat if a.heartbeat is None else a.heartbeat,
                min_answer=a.min_answer,
                max_answer=a.max_answer,
            )
            for a in model.assets
        ],
        trigger_type=TRIGGERS[trigger.type],
        interval=trigger.interval,
        vol_reference=int(float(trigger.vol_reference) * WAD),
        vol_alpha_bps=trigger.vol_alpha_bps,
        vol_min_interval=trigger.vol_min_interval,
        max_slippage_bps=limits.max_slippage_bps,
        max_cost_bps=limits.max_cost_bps,
        turnover_cap_bps=limits.turnover_cap_bps,
        turnover_period=limits.turnover_period,
        cooldown=limits.cooldown,
        entry_haircut_bps=model.entry_haircut_bps,
        feed_decimals=model.feeds.decimals,
        feed_kind=model.feeds.kind,
        venue_kind=model.market.all_venues[0][0],
        fee_bps=model.market.all_venues[0][1],
        market_venues=model.market.all_venues,
        depth_usd=model.market.depth_usd,
        venues=list(model.venues),
        keeper=model.keeper,
        guardian=model.guardian,
        factory_venues=[
            FactoryVenueSpec(v.kind, v.fee_bps, v.factory, [PoolSpec(tuple(p.pair), p.address) for p in v.pools])
            for v in model.market.factory_venues
        ],
    )


class _UniqueKeyLoader(yaml.SafeLoader):
    """PyYAML's safe loader, except that a repeated key is an error instead of silently the last."""

    def construct_mapping(self, node, deep=False):
        seen = set()
        for key_node, _ in node.value:
            key = self.construct_object(key_node, deep=deep)
            if isinstance(key, Hashable) and key in seen:
                raise yaml.MarkedYAMLError(problem=f"duplicate key {key!r}", problem_mark=key_node.start_mark)
            seen.add(key)
        return super().construct_mapping(node, deep)


def load_spec(path: str | Path) -> PortfolioSpec:
    """Read and validate a YAML (or JSON) portfolio spec; every problem is a line of :class:`SpecError`.

    @param path The spec file.
    """
    where = str(path)
    try:
        text = Path(path).read_text(encoding="utf-8")
    except OSError as err:
        raise SpecError(f"{where}: cannot read the spec file: {err.strerror or err}") from None
    except UnicodeDecodeError:
        raise SpecError(f"{where}: cannot read the spec file: not UTF-8 text") from None
    try:
        data = yaml.load(text, Loader=_UniqueKeyLoader)  # noqa: S506 (a SafeLoader)
    except yaml.YAMLError as err:
        mark = getattr(err, "problem_mark", None)
        at = f" at line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        raise SpecError(f"{where}: not valid YAML: {getattr(err, 'problem', None) or err}{at}") from None
    if data is None:
        raise SpecError(f"{where}: the spec file is empty")
    return spec_from_dict(data, where)


def check_network(spec: PortfolioSpec, where: str, network: str, local: bool) -> None:
    """Refuse a spec that needs mock tokens on a network that is not local.

    @param where Prefix of every message, usually the file path.
    @param network The network's name for the message, e.g. ``ethereum:sepolia:node``.
    @param local Whether the network is a local (development) one.
    """
    if local or any(a.address for a in spec.assets):
        return
    issues = [
        f"{where}: assets[{i}].{key}: required on {network} (mock tokens and feeds are for local networks only)"
        for i in range(len(spec.assets))
        for key in ("address", "feed")
    ]
    if not spec.venues:
        issues.append(f"{where}: venues: required on {network} (the mock venue is for local networks only)")
    raise SpecError("\n".join(issues))


__all__ = [
    "AssetSpec",
    "FactoryVenueSpec",
    "PoolSpec",
    "PortfolioSpec",
    "SpecError",
    "TRIGGERS",
    "check_network",
    "feed_answer",
    "load_spec",
    "spec_from_dict",
]
