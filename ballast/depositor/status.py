"""``status``: a vault's basket, weights against targets and bands, NAV and trigger, all from its lens.

Every figure is an integer in the vault's units (token base units; USD, prices and weights in
WAD; bands in bps); the text view divides only to print.
"""

from __future__ import annotations

from dataclasses import dataclass

from ballast.constants import BPS_TO_WAD, MAX_BPS, WAD

TRIGGER_NAMES = {0: "calendar", 1: "threshold", 2: "hybrid"}


@dataclass
class AssetStatus:
    symbol: str
    address: str
    decimals: int
    balance: int  # holding (idle plus lent), base units
    price: int  # oracle USD price of one whole token, WAD
    value: int  # USD, WAD (rounded down, as the vault)
    weight: int  # WAD
    target: int  # effective target now, WAD
    drift: int  # weight - target, WAD (signed)
    band_bps: int
    outer_band_bps: int
    effective_band_bps: int  # the band the trigger applies: band x volatility scale for hybrid
    lent: int = 0  # of the holding, what the vault's lending sleeve has lent (base units)


@dataclass
class Status:
    vault: str
    name: str
    symbol: str
    network: str
    chain_id: int
    block: int
    timestamp: int
    total_supply: int  # shares, WAD
    total_value: int  # USD, WAD
    nav_per_share: int  # USD per share, WAD (0 for an empty vault)
    assets: list[AssetStatus]
    trigger: str  # calendar | threshold | hybrid
    due: bool
    reason: str  # the lens's reason when due ("threshold", "outer band", ...), else ""
    why: str  # why it is or is not due, in a sentence
    paused: bool
    shutdown: bool
    last_rebalance: int
    next_clock: int  # when the calendar / hybrid clock runs
    cooldown_until: int  # earliest time of the next rebalance


def read_status(target) -> Status:
    """The :class:`Status` of ``target.vault`` at the latest block, read through ``target.lens``."""
    lens, vault = target.lens, target.vault
    view = lens.snapshot(vault)
    drifts = [int(d) for d in lens.drifts(vault)]
    weights = [int(w) for w in lens.current_weights(vault)]
    total_value = int(lens.total_value(vault))
    trigger = int(view.trigger_type)
    assets = []
    for a, weight, drift in zip(view.assets, weights, drifts):
        band = int(a.band_bps)
        scale = int(lens.vol_scale_bps(vault, a.asset)) if trigger == 2 else MAX_BPS
        assets.append(
            AssetStatus(
                symbol=str(a.symbol) or str(a.asset)[:8],
                address=str(a.asset),
                decimals=int(a.decimals),
                balance=int(a.balance),
                price=int(a.price),
                value=int(a.balance) * int(a.price) // 10 ** int(a.decimals),
                weight=weight,
                target=int(a.target),
                drift=drift,
                band_bps=band,
                outer_band_bps=int(a.outer_band_bps),
                effective_band_bps=band * scale // MAX_BPS,
                lent=int(a.lent),
            )
        )
    supply = int(view.total_supply)
    last = int(view.last_rebalance)
    status = Status(
        vault=str(vault.address),
        name=str(vault.name()),
        symbol=str(vault.symbol()),
        network=target.network,
        chain_id=target.chain_id,
        block=int(view.block_number),
        timestamp=int(view.timestamp),
        total_supply=supply,
        total_value=total_value,
        nav_per_share=total_value * WAD // supply if supply else 0,
        assets=assets,
        trigger=TRIGGER_NAMES.get(trigger, str(trigger)),
        due=bool(view.due),
        reason=str(view.reason),
        why="",
        paused=bool(lens.paused(vault)),
        shutdown=bool(lens.is_shutdown(vault)),
        last_rebalance=last,
        next_clock=last + int(view.rebalance_interval),
        cooldown_until=last + int(view.cooldown),
    )
    status.why = explain_trigger(status)
    return status


def _pct(wad: int) -> str:
    """A signed WAD fraction in percent; a drift that rounds to zero prints +0.00%."""
    return f"{round(wad / 1e16, 2) + 0.0:+.2f}%"


def _past(asset: AssetStatus, band_bps: int) -> bool:
    """The lens's rule: |drift| > band (bps as WAD)."""
    return abs(asset.drift) > band_bps * BPS_TO_WAD


def explain_trigger(s: Status) -> str:
    """Why the lens says the vault is (not) due, in one sentence built from its own figures."""
    if s.shutdown:
        return "not due: the vault is shut down (only exits remain)"
    if s.paused:
        return "not due: the vault is paused (rebalances stop; exits still work)"
    if s.total_value == 0:
        return "not due: the vault is empty"
    worst = max(s.assets, key=lambda a: abs(a.drift))
    clock = f"the clock runs at {s.next_clock} (in {max(s.next_clock - s.timestamp, 0)} s)"
    cooldown = (
        f"; but the cooldown lasts until {s.cooldown_until} (in {s.cooldown_until - s.timestamp} s)"
        if s.cooldown_until > s.timestamp
        else ""
    )
    if s.due:
        if s.reason == "calendar":
            return f"due (calendar): {s.timestamp - s.last_rebalance} s since the last rebalance{cooldown}"
        band_of = {"outer band": "outer_band_bps", "hybrid": "effective_band_bps"}.get(s.reason, "band_bps")
        past = [a for a in s.assets if _past(a, getattr(a, band_of))]
        named = ", ".join(f"{a.symbol} {_pct(a.drift)} past {getattr(a, band_of) / 100:.2f}%" for a in past)
        return f"due ({s.reason}): {named}{cooldown}"
    if s.trigger == "calendar":
        return f"not due: calendar trigger, {clock}"
    if s.trigger == "threshold":
        return f"not due: every asset is inside its band (largest: {worst.symbol} {_pct(worst.drift)}, band {worst.band_bps / 100:.2f}%)"
    if s.timestamp < s.next_clock:
        return f"not due: no asset is past its outer band (largest: {worst.symbol} {_pct(worst.drift)}, outer band {worst.outer_band_bps / 100:.2f}%) and {clock}"
    return (
        "not due: the clock has run, but every asset is inside its volatility-scaled band "
        f"(largest: {worst.symbol} {_pct(worst.drift)}, band {worst.effective_band_bps / 100:.2f}%)"
    )


def format_status(s: Status) -> str:
    """The status as a table."""
    state = "shut down" if s.shutdown else "paused" if s.paused else "open"
    lines = [
        f"vault {s.vault} ({s.name}, {s.symbol}) on {s.network} (chain {s.chain_id}), block {s.block}: {state}",
        f"total value ${s.total_value / WAD:,.2f}; supply {s.total_supply / WAD:,.6f} shares; "
        f"NAV per share ${s.nav_per_share / WAD:,.6f}",
        f"{'asset':<8} {'balance':>18} {'price $':>14} {'value $':>16} {'weight':>8} {'target':>8} {'drift':>8} "
        f"{'band':>7} {'outer':>7}" + (f" {'vol band':>8}" if s.trigger == "hybrid" else ""),
    ]
    for a in s.assets:
        lines.append(
            f"{a.symbol:<8} {a.balance / 10**a.decimals:>18,.6f} {a.price / WAD:>14,.4f} {a.value / WAD:>16,.2f} "
            f"{a.weight / 1e16:>7.2f}% {a.target / 1e16:>7.2f}% {_pct(a.drift):>8} {a.band_bps / 100:>6.2f}% "
            f"{a.outer_band_bps / 100:>6.2f}%"
            + (f" {a.effective_band_bps / 100:>7.2f}%" if s.trigger == "hybrid" else "")
        )
    for a in s.assets:
        if a.lent:
            lines.append(
                f"lending: {a.lent / 10**a.decimals:,.6f} {a.symbol} lent "
                f"({a.lent * 10_000 // max(a.balance, 1) / 100:.2f}% of the holding; an exit takes its share "
                "redeemed, or in market shares when the market cannot pay)"
            )
    lines.append(f"trigger {s.trigger}: {s.why}")
    return "\n".join(lines)
