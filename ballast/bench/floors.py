"""The EIP gas schedule (Cancun) and a floor for every benchmarked operation.

A :class:`Floor` counts, item by item, the base cost, the call's calldata, and the cold accounts,
storage slots and logs that any implementation of the operation must touch (the ``floor_*``
functions say what each one assumes). Computation, memory and warm accesses are not counted, so
a measured figure over its floor is what the implementation spends on top of the unavoidable.
"""

from __future__ import annotations

import math
from collections import Counter
from dataclasses import dataclass, field

# ---------------------------------------------------------------- EIP gas schedule (Cancun)

TX_BASE = 21_000  # G_transaction
CALLDATA_ZERO = 4  # per zero byte of calldata
CALLDATA_NONZERO = 16  # per nonzero byte (EIP-2028)
COLD_ACCOUNT = 2_600  # EIP-2929 COLD_ACCOUNT_ACCESS_COST: first touch of a contract
COLD_SLOAD = 2_100  # EIP-2929 COLD_SLOAD_COST: first touch of a storage slot
SSTORE_SET = 20_000  # EIP-2200 SSTORE_SET_GAS: zero -> nonzero
SSTORE_RESET = 2_900  # EIP-2929 SSTORE_RESET_GAS - COLD_SLOAD_COST: nonzero -> nonzero
LOG_BASE = 375  # G_log
LOG_TOPIC = 375  # G_logtopic, per topic (the event signature is one)
LOG_BYTE = 8  # G_logdata, per byte of data
WORD = 32

# ---------------------------------------------------------------- floors

READ, RESET, SET = "read", "reset", "set"
_SLOT_GAS = {READ: COLD_SLOAD, RESET: COLD_SLOAD + SSTORE_RESET, SET: COLD_SLOAD + SSTORE_SET}
_RANK = {READ: 0, RESET: 1, SET: 2}


def calldata_gas(data: bytes) -> int:
    zeros = data.count(0)
    return zeros * CALLDATA_ZERO + (len(data) - zeros) * CALLDATA_NONZERO


def event_bytes(static_words: int, arrays: tuple[int, ...] = (), strings: tuple[int, ...] = ()) -> int:
    """ABI-encoded data size of an event: static words, dynamic arrays (lengths), strings (bytes)."""
    words = static_words + len(arrays) + len(strings)  # each dynamic field has an offset in the head
    words += sum(1 + n for n in arrays) + sum(1 + math.ceil(b / WORD) for b in strings)
    return words * WORD


@dataclass
class Floor:
    """The least gas an operation can cost under the EIP schedule, item by item.

    Counted: the base, the call's own calldata, a cold access per distinct external contract
    that must be called (the transaction's target is warm), per distinct storage slot that must
    be read a cold SLOAD, per slot that must change a cold SSTORE (zero to nonzero or nonzero to
    nonzero), and every log the interface requires. Not counted: warm accesses (100 each),
    computation, memory, and anything a different design could skip; each floor function says
    what it assumes.
    """

    name: str
    calldata: bytes = b""
    accounts: dict[str, None] = field(default_factory=dict)
    slots: dict[str, str] = field(default_factory=dict)
    logs: list[tuple[str, int, int]] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    def account(self, *labels: str) -> None:
        for label in labels:
            self.accounts[label] = None

    def slot(self, label: str, kind: str) -> None:
        """A storage slot that must be read (READ) or written (RESET, SET); a slot counts once."""
        old = self.slots.get(label)
        if old is None or _RANK[kind] > _RANK[old]:
            self.slots[label] = kind

    def log(self, event: str, topics: int, data_bytes: int) -> None:
        self.logs.append((event, topics, data_bytes))

    def erc20_move(self, token: str, frm: str, to: str, spender: str | None = None, to_kind: str = RESET) -> None:
        """A token transfer: both balances change; a pull reads the (max, so unwritten) allowance."""
        self.slot(f"{token}.balanceOf[{frm}]", RESET)
        self.slot(f"{token}.balanceOf[{to}]", to_kind)
        if spender:
            self.slot(f"{token}.allowance[{frm}][{spender}]", READ)
        self.log(f"{token}.Transfer", 3, WORD)

    def items(self) -> list[tuple[str, int, int]]:
        """(part, count, gas) rows; their gas sums to :attr:`total`."""
        zeros = self.calldata.count(0)
        kinds = Counter(self.slots.values())
        rows = [
            ("base", 1, TX_BASE),
            (f"calldata: {len(self.calldata) - zeros} nonzero bytes x 16", len(self.calldata) - zeros, 0),
            (f"calldata: {zeros} zero bytes x 4", zeros, 0),
            ("cold accounts x 2,600", len(self.accounts), len(self.accounts) * COLD_ACCOUNT),
            ("slots read x 2,100", kinds[READ], kinds[READ] * _SLOT_GAS[READ]),
            ("slots written nonzero->nonzero x 5,000", kinds[RESET], kinds[RESET] * _SLOT_GAS[RESET]),
            ("slots written zero->nonzero x 22,100", kinds[SET], kinds[SET] * _SLOT_GAS[SET]),
        ]
        rows[1] = (rows[1][0], rows[1][1], rows[1][1] * CALLDATA_NONZERO)
        rows[2] = (rows[2][0], rows[2][1], rows[2][1] * CALLDATA_ZERO)
        log_gas = sum(LOG_BASE + LOG_TOPIC * t + LOG_BYTE * b for _, t, b in self.logs)
        rows.append(("logs (375 + 375/topic + 8/byte)", len(self.logs), log_gas))
        return rows

    @property
    def total(self) -> int:
        return sum(gas for _, _, gas in self.items())

    def by_class(self) -> dict[str, int]:
        """The floor in the classes of :class:`TxTrace` (for the breakdowns)."""
        rows = self.items()
        return {
            "intrinsic": rows[0][2] + rows[1][2] + rows[2][2],
            "cold accounts": rows[3][2],
            "storage": rows[4][2] + rows[5][2] + rows[6][2],
            "logs": rows[7][2],
        }

    def describe(self) -> list[str]:
        """The floor written out: every account, slot and log, then the sum."""
        lines = [f"{self.name}: floor {self.total:,} gas"]
        lines += [f"  assumes: {note}" for note in self.notes]
        if self.accounts:
            lines.append(f"  cold accounts ({len(self.accounts)}): " + ", ".join(self.accounts))
        for kind, title in ((READ, "read"), (RESET, "written nonzero->nonzero"), (SET, "written zero->nonzero")):
            labels = [label for label, k in self.slots.items() if k == kind]
            if labels:
                lines.append(f"  slots {title} ({len(labels)}): " + ", ".join(labels))
        if self.logs:
            counted = Counter(f"{e} ({t} topics, {b} B)" for e, t, b in self.logs)
            lines.append(
                f"  logs ({len(self.logs)}): " + ", ".join(f"{k} x{v}" if v > 1 else k for k, v in counted.items())
            )
        lines.append("  " + "; ".join(f"{part} = {gas:,}" for part, _, gas in self.items() if gas))
        return lines


def _assets(n: int) -> list[str]:
    return [f"T{i}" for i in range(n)]


def floor_erc20_transfer(calldata: bytes) -> Floor:
    f = Floor("ERC-20 transfer", calldata, notes=["sender and recipient both hold tokens before"])
    f.erc20_move("token", "from", "to")
    return f


def floor_join(n: int, calldata: bytes) -> Floor:
    """In-kind pro-rata join: every asset is pulled; no oracle is needed."""
    f = Floor(
        f"join, {n} assets",
        calldata,
        notes=[
            "the basket's addresses are immutable (fixed at deployment): no slot",
            "the paused and shutdown flags share one slot",
            "the receiver is a new holder",
        ],
    )
    f.account(*_assets(n))
    f.slot("vault.flags", READ)
    f.slot("vault.totalSupply", RESET)
    f.slot("vault.balanceOf[receiver]", SET)
    for t in _assets(n):
        f.slot(f"vault.balances[{t}]", RESET)  # amount_i = shares * balance_i / supply; then credited
        f.erc20_move(t, "user", "vault", spender="vault")
    f.log("vault.Transfer (mint)", 3, WORD)
    f.log("vault.Join", 3, event_bytes(1, arrays=(n,)))
    return f


def floor_deposit(n: int, calldata: bytes, asset: int = 0) -> Floor:
    """One asset at its oracle value: every price and every balance is needed for the total."""
    f = Floor(
        f"deposit, {n} assets",
        calldata,
        notes=[
            "the basket's addresses are immutable: no slot",
            "flags and the entry haircut share one slot",
            "a feed keeps answer and timestamp in one slot (as Chainlink does)",
            "the receiver is a new holder",
        ],
    )
    assets = _assets(n)
    f.account(assets[asset], *(f"F{i}" for i in range(n)))
    f.slot("vault.flags+haircut", READ)
    f.slot("vault.totalSupply", RESET)
    f.slot("vault.balanceOf[receiver]", SET)
    for i, t in enumerate(assets):
        f.slot(f"vault.feed_config[{t}]", READ)  # feed address, heartbeat, decimals
        f.slot(f"vault.feed_bounds[{t}]", READ)  # sane answer bounds
        f.slot(f"F{i}.round", READ)
        f.slot(f"vault.balances[{t}]", RESET if i == asset else READ)
    f.erc20_move(assets[asset], "user", "vault", spender="vault")
    f.log("vault.Transfer (mint)", 3, WORD)
    f.log("vault.Deposit", 4, 3 * WORD)
    return f


def floor_exit(n: int, calldata: bytes) -> Floor:
    """In-kind pro-rata exit: every asset is sent; no oracle, no flag (exits are never blocked)."""
    f = Floor(
        f"exit, {n} assets",
        calldata,
        notes=["the basket's addresses are immutable: no slot", "a partial exit to a receiver holding every token"],
    )
    f.account(*_assets(n))
    f.slot("vault.totalSupply", RESET)
    f.slot("vault.balanceOf[owner]", RESET)
    for t in _assets(n):
        f.slot(f"vault.balances[{t}]", RESET)
        f.erc20_move(t, "vault", "receiver")
    f.log("vault.Transfer (burn)", 3, WORD)
    f.log("vault.Exit", 3, event_bytes(1, arrays=(n,)))
    return f


def floor_rebalance(n: int, trades: list[tuple[int, int]], calldata: bytes, moved: set[int]) -> Floor:
    """The vault's checks (every price, every balance, targets, limits, an observation) plus the swaps.

    ``moved``: the assets whose price changed since the last observation. Unused since an asset's
    observed price and its variance share one slot: every variance decays, so every such slot is
    written whether or not the price moved.
    """
    f = Floor(
        f"rebalance, {n} assets, {len(trades)} trades",
        calldata,
        notes=[
            "the basket's addresses are immutable: no slot",
            "flags, cooldown, limits and trigger parameters pack into one slot",
            "last_rebalance and last_observation share one slot; so do the turnover window and its use",
            "the ramp's start and end share one slot",
            "per asset, target and bands share the feed configuration's slot (ramp-start weights: a ramp only)",
            "per asset, the observed price and the variance share one slot",
            "a feed keeps answer and timestamp in one slot",
            "the vault pushes each input to the venue with a transfer (no allowance is read or written)",
            "each trade goes to a Uniswap V2 pair through the venue adapter (the adapter: one cold account)",
            "the vault rebalanced before in this turnover window (turnover slot nonzero)",
        ],
    )
    assets = _assets(n)
    f.account(*(f"F{i}" for i in range(n)), "venue")
    f.account(*dict.fromkeys(assets[i] for pair in trades for i in pair))
    f.slot("vault.roles[keeper]", READ)
    f.slot("vault.venue_allowed[venue]", READ)  # the venue whitelist is settable: a slot per venue
    f.slot("vault.config", READ)
    f.slot("vault.timestamps", RESET)
    f.slot("vault.turnover", RESET)
    f.slot("vault.ramp", READ)
    traded = {i for pair in trades for i in pair}
    for i, t in enumerate(assets):
        f.slot(f"vault.feed_config[{t}]", READ)  # feed, heartbeat, decimals, target, bands
        f.slot(f"vault.feed_bounds[{t}]", READ)
        f.slot(f"F{i}.round", READ)
        f.slot(f"vault.balances[{t}]", RESET if i in traded else READ)
        f.slot(f"vault.observation[{t}]", RESET)  # every rebalance observes: price and variance
    for i, j in trades:
        # A Uniswap V2 pair per trade: it must be called (cold), hold the input pushed to it, pay
        # the output, write its reserves (one packed slot) and log Sync and Swap. Its TWAP
        # accumulators, lock and the adapter's own log are left out: another design could skip them.
        tin, tout = assets[i], assets[j]
        pair = f"pair[{assets[min(i, j)]}/{assets[max(i, j)]}]"
        f.account(pair)
        f.slot(f"{pair}.reserves", RESET)
        f.erc20_move(tin, "vault", pair)
        f.erc20_move(tout, pair, "vault")
        f.log(f"{pair}.Sync", 1, 2 * WORD)
        f.log(f"{pair}.Swap", 3, 4 * WORD)
        f.log("vault.TradeExecuted", 4, 4 * WORD)
    f.log("vault.Rebalanced", 2, event_bytes(6, arrays=(n, n), strings=(16,)))
    f.log("vault.Observed", 1, event_bytes(1, arrays=(n,)))
    return f


def floor_4626_deposit(calldata: bytes) -> Floor:
    f = Floor("ERC-4626 deposit", calldata, notes=["the asset address is immutable", "the receiver is a new holder"])
    f.account("asset")
    f.slot("vault.totalSupply", RESET)
    f.slot("vault.balanceOf[receiver]", SET)
    f.erc20_move("asset", "user", "vault", spender="vault")  # the vault's asset balance is its total assets
    f.log("vault.Transfer (mint)", 3, WORD)
    f.log("vault.Deposit", 3, 2 * WORD)
    return f


def floor_4626_redeem(calldata: bytes) -> Floor:
    f = Floor("ERC-4626 redeem", calldata, notes=["the asset address is immutable", "a partial redeem by the owner"])
    f.account("asset")
    f.slot("vault.totalSupply", RESET)
    f.slot("vault.balanceOf[owner]", RESET)
    f.erc20_move("asset", "vault", "receiver")
    f.log("vault.Transfer (burn)", 3, WORD)
    f.log("vault.Withdraw", 4, 2 * WORD)
    return f
