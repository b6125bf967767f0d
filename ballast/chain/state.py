"""A snapshot of a vault's on-chain state, read once, used by the planner and policies.

All figures are integers in the vault's own units: token base units, USD and weights
with 18 decimals (WAD), bands in bps.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from ballast.constants import WAD


@dataclass
class AssetState:
    """One basket asset as the vault sees it."""

    address: str
    symbol: str
    decimals: int
    balance: int  # tracked balance, base units
    price: int  # oracle USD price of one whole token, WAD
    target: int  # effective target weight, WAD
    band_bps: int
    outer_band_bps: int
    variance: int = 0  # EWMA annualised variance, WAD

    @property
    def value(self) -> int:
        """Oracle USD value (WAD) of the tracked balance, rounded down like the vault."""
        return self.balance * self.price // 10**self.decimals


@dataclass
class VaultState:
    """Everything the planner and the trigger policies need, in one read."""

    address: str
    assets: list[AssetState]
    total_supply: int
    timestamp: int
    trigger_type: int
    rebalance_interval: int
    last_rebalance: int
    vol_reference: int
    cooldown: int
    max_slippage_bps: int
    max_cost_bps: int
    turnover_cap_bps: int
    turnover_period: int
    turnover_spent_at: int
    turnover_used: int
    venues: list[str] = field(default_factory=list)
    # The vault's ``needs_rebalance()`` answer at this state, when read with it (the lens).
    trigger: tuple[bool, str] | None = None
    # The block the state was read at (the lens's own answer), so that the pools can be read at it.
    block: int | None = None

    @property
    def total_value(self) -> int:
        return sum(a.value for a in self.assets)

    @property
    def weights(self) -> list[int]:
        total = self.total_value
        return [a.value * WAD // total if total else 0 for a in self.assets]

    @property
    def drifts(self) -> list[int]:
        return [w - a.target for w, a in zip(self.weights, self.assets)]

    @property
    def max_drift(self) -> int:
        return max((abs(d) for d in self.drifts), default=0)

    def index(self, address: str) -> int:
        for i, asset in enumerate(self.assets):
            if asset.address.lower() == str(address).lower():
                return i
        raise KeyError(address)

    def turnover_left(self) -> int:
        """USD value (WAD) the keeper may trade now: the cap less what is still counted against
        it (``turnover_used``, which the lens has already refilled continuously to this block)."""
        cap = self.total_value * self.turnover_cap_bps // 10_000
        return max(cap - self.turnover_used, 0)


def read_state(vault, token_at, timestamp: int, venues: list[str] | None, lens, block: int | None = None) -> VaultState:
    """Read a :class:`VaultState` of a deployed vault through ``lens`` (a ``VaultLens``): the
    whole state, the trigger's answer included, in one ``eth_call`` at one block (``block``, or
    the latest); the state records which.

    ``vault`` is an ape contract instance or an address; ``token_at`` maps an address to an
    ERC-20 instance, asked for a symbol only when the lens could not decode it.
    """
    address = str(getattr(vault, "address", vault))
    view = lens.snapshot(address) if block is None else lens.snapshot(address, block_id=block)
    return _from_lens(view, address, token_at, timestamp, venues)


# VaultState's scalar fields, each a field of the lens's VaultView (and a lens view of its own).
_SCALARS = (
    "trigger_type",
    "rebalance_interval",
    "last_rebalance",
    "vol_reference",
    "cooldown",
    "max_slippage_bps",
    "max_cost_bps",
    "turnover_cap_bps",
    "turnover_period",
    "turnover_spent_at",
    "turnover_used",
)


def _from_lens(view, address: str, token_at, timestamp: int, venues) -> VaultState:
    assets = [
        AssetState(
            address=str(a.asset),
            # The lens leaves a symbol that is not a short ABI string empty: ask the token.
            symbol=a.symbol or str(token_at(a.asset).symbol()),
            decimals=int(a.decimals),
            balance=int(a.balance),
            price=int(a.price),
            target=int(a.target),
            band_bps=int(a.band_bps),
            outer_band_bps=int(a.outer_band_bps),
            variance=int(a.variance),
        )
        for a in view.assets
    ]
    return VaultState(
        address=address,
        assets=assets,
        total_supply=int(view.total_supply),
        timestamp=int(timestamp),
        venues=[str(v) for v in (venues or [])],
        trigger=(bool(view.due), str(view.reason)),
        block=int(view.block_number),
        **{name: int(getattr(view, name)) for name in _SCALARS},
    )
