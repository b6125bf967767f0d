"""The state machine's model of lending: one ERC-4626 market per lent asset and the sleeve's book.

``contracts/test/HostileMarket.vy`` is snekmate's ``erc4626`` (decimals offset 0) with switches;
``contracts/LendingSleeve.vy`` holds the vault's market shares. :class:`MarketModel` follows both
in integers, with the contracts' own roundings, so that every lend, recall, exit and claim is
predicted before it is sent, and the books the sleeve keeps can be compared with it after every
step (``VaultMachine.lending_books_match_model``).

What the double models of a real market, and how the machine drives it:

* interest: the asset arriving in the market (minted to it) in small steps while time passes;
* a donation (or a market that reports a jump): a large transfer into the market at once;
* a borrower taking liquidity: ``cash`` (what the market can still pay out; the borrower holds
  the rest) for a partial utilisation, and the ``NO_LIQUIDITY`` switch for 100%;
* bad debt realised to suppliers: ``lose`` (assets leave the market, the rate falls at once);
* a paused or broken market: ``REVERT_REDEEM``, ``REVERT_RATE``, ``REVERT_TRANSFER``,
  ``BURN_GAS`` (a redeem that eats its gas), ``FAKE_REDEEM`` (reports success, keeps the shares).

Not modelled: a borrower's debt does not count in ``totalAssets`` (snekmate's is the market's
token balance), so borrowing itself does not move the rate, only the cash; interest is not
accrued by the market from a utilisation curve but arrives as transfers; no liquidation runs
(a loss is realised directly). tests/lending/ runs Morpho Blue for those.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from fractions import Fraction

MAX_UINT = 2**256 - 1
MAX_BPS = 10_000
RATE_SHARES = 10**18  # the sleeve's rate is convertToAssets(10**18)
SECONDS_PER_YEAR = 31_536_000

# HostileMarket's switches.
NO_LIQUIDITY = 1
REVERT_REDEEM = 2
REVERT_TRANSFER = 4
REVERT_RATE = 8
BURN_GAS = 16
FAKE_REDEEM = 32
SWITCHES = {
    "none": 0,
    "revert_redeem": REVERT_REDEEM,
    "revert_rate": REVERT_RATE,
    "revert_transfer": REVERT_TRANSFER,
    "burn_gas": BURN_GAS,
    "fake_redeem": FAKE_REDEEM,
    "paused": REVERT_REDEEM | REVERT_TRANSFER | REVERT_RATE,
}


def mul_div(a: int, b: int, c: int, up: bool = False) -> int:
    return -(-a * b // c) if up else a * b // c


@dataclass
class MarketModel:
    """One lent asset's market (its token balance ``assets`` and share ``supply``) and the
    sleeve's book of it (``held``: the vault's shares; the rate checkpoint and high-water mark;
    shares ``owed`` to holders), plus the market shares holders were paid in kind (``outside``)."""

    index: int  # the asset's index in the basket
    checkpoint_rate: int
    checkpoint_time: int
    peak_rate: int
    assets: int = 0
    supply: int = 0
    held: int = 0
    mode: int = 0
    cash: int = MAX_UINT
    deposit_cap: int = MAX_UINT
    owed: dict = field(default_factory=dict)
    outside: dict = field(default_factory=dict)

    def copy(self) -> MarketModel:
        return MarketModel(**{**self.__dict__, "owed": dict(self.owed), "outside": dict(self.outside)})

    # ---------------------------------------------------------------- the market (snekmate erc4626)

    def to_assets(self, shares: int, up: bool = False) -> int:
        return mul_div(shares, self.assets + 1, self.supply + 1, up)

    def to_shares(self, amount: int, up: bool = False) -> int:
        return mul_div(amount, self.supply + 1, self.assets + 1, up)

    def reported(self) -> int:
        """``convertToAssets(10**18)`` as the sleeve reads it (0 when the call reverts, and 0 for
        a market that lost everything)."""
        return 0 if self.mode & REVERT_RATE else self.to_assets(RATE_SHARES)

    def readable(self) -> bool:
        """Whether the sleeve's read of the rate succeeds (``_read_rate``): a 0 answer is a rate."""
        return not self.mode & REVERT_RATE

    def sleeve_balance(self) -> int:
        """The sleeve's share balance in the market: the vault's shares and those owed to holders."""
        return self.held + sum(self.owed.values())

    def max_redeem(self) -> int:
        if self.mode & NO_LIQUIDITY:
            return 0
        balance = self.sleeve_balance()
        return min(balance, self.to_shares(self.cash)) if self.cash != MAX_UINT else balance

    def _spend(self, amount: int) -> str | None:
        if self.cash != MAX_UINT:
            if amount > self.cash:
                return "market: no cash"
            self.cash -= amount
        return None

    def withdraw(self, amount: int) -> tuple[int, str | None]:
        """The sleeve withdraws ``amount`` (``HostileMarket.withdraw``): (shares burned, revert reason)."""
        if self.mode & NO_LIQUIDITY:
            return 0, "market: no liquidity"
        if amount > self.to_assets(self.sleeve_balance()):
            return 0, "erc4626: withdraw more than maximum"
        shares = self.to_shares(amount, up=True)
        error = self._spend(amount)
        if error:
            return 0, error
        self.assets -= amount
        self.supply -= shares
        return shares, None

    def try_redeem(self, shares: int) -> int | None:
        """The sleeve's ``_try_redeem`` of ``shares``: the assets paid, or None when it falls back
        to paying in kind (``maxRedeem`` short, the redeem reverts, runs out of gas or lies)."""
        if self.max_redeem() < shares:
            return None
        if self.mode & (REVERT_REDEEM | NO_LIQUIDITY | BURN_GAS | FAKE_REDEEM):
            return None
        paid = self.to_assets(shares)
        assert self._spend(paid) is None  # maxRedeem kept it within the cash
        self.assets -= paid
        self.supply -= shares
        return paid

    # ---------------------------------------------------------------- the sleeve's guard

    def counted(self, now: int, rise_bps: int) -> int:
        """``LendingSleeve._counted_rate``: min(reported, checkpoint x (1 + rise x elapsed / year));
        the checkpoint when the rate cannot be read."""
        last = self.checkpoint_rate
        if not self.readable():
            return last
        reported = self.reported()
        elapsed = now - self.checkpoint_time
        allowance = last + last * rise_bps * elapsed // (MAX_BPS * SECONDS_PER_YEAR)
        return min(reported, allowance)

    def checkpoint(self, now: int, rise_bps: int) -> int:
        rate = self.counted(now, rise_bps)
        self.checkpoint_rate, self.checkpoint_time = rate, now
        self.peak_rate = max(self.peak_rate, rate)
        return rate

    def lent(self, now: int, rise_bps: int) -> int:
        """``lent_assets(False)``: the vault's shares at the counted rate, rounded up."""
        return mul_div(self.held, self.counted(now, rise_bps), RATE_SHARES, up=True) if self.held else 0

    def entry_rate(self, now: int, rise_bps: int) -> int:
        """The rate entries (``join``, ``deposit``) value the lent part at: the reported rate when
        it can be read (never below the counted one), else the counted rate (the checkpoint)."""
        return self.reported() if self.readable() else self.counted(now, rise_bps)

    def entry_lent(self, now: int, rise_bps: int) -> int:
        return mul_div(self.held, self.entry_rate(now, rise_bps), RATE_SHARES, up=True) if self.held else 0

    def valuation(self, now: int, rise_bps: int) -> Fraction:
        """The model's value of one market share, in the asset's base units: the entry rate
        (exactly what an entrant pays for it), so that a round trip is measured at one rate."""
        return Fraction(self.entry_rate(now, rise_bps), RATE_SHARES)

    def loss_stands(self, rate: int, max_loss_bps: int) -> bool:
        """The sleeve's pause: the counted ``rate`` more than ``max_loss_bps`` below the peak."""
        return rate * MAX_BPS < self.peak_rate * (MAX_BPS - max_loss_bps)
