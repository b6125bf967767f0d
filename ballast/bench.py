"""Gas and throughput benchmark: ``ape run bench --network ethereum:local:foundry``.

Everything is measured in one run on a fresh anvil chain and written to ``BENCHMARKS.md``:

* gas (``gas_used`` of the receipts, 21,000 base included) of ``join``, ``deposit``, ``exit``
  and ``rebalance`` for vaults of 2, 4 and 8 assets. The rebalance trades are the planner's
  (:func:`ballast.planner.plan_rebalance`) after an oracle move and an arbitrage of the pools,
  as in :mod:`ballast.demo`; the same swaps are also sent straight to the same pools from an
  EOA, from the same chain snapshot, and the ratio of the two is the vault's overhead;
* references from the same run: snekmate's ERC-4626 ``deposit`` and ``redeem`` (over a
  ``MockERC20``), an ERC-20 ``transfer`` and one AMM swap;
* a *floor* for every operation from the EIP gas schedule (:class:`Floor`): the base cost,
  the call's calldata, and the cold accounts, storage slots and logs that any implementation
  of the operation must touch, listed item by item (the ``floor_*`` functions);
* throughput: ape transactions per second, planner latency, the titanoboa state machine's
  steps per second (the CI profile of ``tests/stateful``) and the backtester's paths per
  second (``python -m ballast.backtest --bench``);
* the targets, met or not, and for each one not met a breakdown of the gas from
  ``debug_traceTransaction`` (opcode classes per call frame).

Scenario conventions, chosen so that no storage refund blurs the schedule: entries are made by
a *new* holder (share balance 0 -> nonzero), exits are partial, every token balance touched is
nonzero before and after, and EOAs approve the max (snekmate then reads the allowance but does
not write it).
"""

from __future__ import annotations

import json
import math
import os
import re
import signal
import statistics
import subprocess
import sys
import time
from collections import Counter, defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from ballast.chain.deploy import deploy_local_market, deploy_vault, feed_answer, spec_from_dict
from ballast.chain.market import arbitrage, snapshot_market
from ballast.chain.state import read_state
from ballast.constants import ROLE_KEEPER
from ballast.planner import Market, Pool, plan_rebalance

ROOT = Path(__file__).resolve().parent.parent

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

# ---------------------------------------------------------------- targets

TARGET_DEPOSIT_GAS = 170_000  # deposit of one asset into a 4-asset vault
TARGET_FLOOR_RATIO = 1.3  # join and exit of a 4-asset vault, x floor
TARGET_OVERHEAD = 1.3  # rebalance of 3 swaps in a 4-asset vault, x the same swaps from an EOA

# ---------------------------------------------------------------- the benchmark's markets

# (symbol, decimals, price USD); the first n make an n-asset vault.
ASSETS = [
    ("USDC", 6, 1.0),
    ("WBTC", 8, 60_000.0),
    ("WETH", 18, 3_000.0),
    ("LINK", 18, 15.0),
    ("SOL", 9, 150.0),
    ("DAI", 18, 1.0),
    ("ARB", 18, 0.8),
    ("UNI", 18, 7.0),
]
WEIGHTS = {2: [5_000, 5_000], 4: [4_000, 3_000, 2_000, 1_000], 8: [1_250] * 8}
SIZES = (2, 4, 8)
SEED_USD = 1_000_000  # first join, at target weights
DEPOSIT_USD = 10_000  # single-asset deposit of asset 0, small enough to leave the drift alone
RALLY = 1.4  # asset 1 (WBTC) moves +40% and back: every basket drifts past its 3% band
DEPTH_USD = 50_000_000  # each AMM pool, per side
FEED_DECIMALS = 8
TPS_TRANSFERS = 100
PLANNER_RUNS = 12  # timed calls per target mode, after a warm-up call: a few hundred ms in all
PLANNER_MODES = (("target", 10_000), ("edge", 10_000), ("partial", 5_000))  # (mode, fraction_bps)
STATEFUL_BUDGET = 200.0  # seconds: the state machine (default EVM, revm) is interrupted after this
STATEFUL_PYEVM_BUDGET = 60.0  # seconds: the same machine on titanoboa's py-evm, for reference


def bench_spec(n: int) -> dict:
    """The portfolio spec of the n-asset benchmark vault (threshold trigger, 3% bands)."""
    return {
        "name": f"Ballast Bench {n}",
        "symbol": f"BB{n}",
        "entry_haircut_bps": 30,
        "trigger": {"type": "threshold", "interval": 86_400, "vol_reference": 0.5},
        "limits": {
            "max_slippage_bps": 150,
            "max_cost_bps": 100,
            "turnover_cap_bps": 10_000,
            "turnover_period": 86_400,
            "cooldown": 3_600,
        },
        "feeds": {"decimals": FEED_DECIMALS},
        "market": {"fee_bps": 30, "depth_usd": DEPTH_USD},
        "assets": [
            {"symbol": s, "decimals": d, "price": p, "target_bps": w, "band_bps": 300, "outer_band_bps": 900}
            for (s, d, p), w in zip(ASSETS[:n], WEIGHTS[n])
        ],
    }


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


def floor_amm_swap(calldata: bytes, token_in: str = "Tin", token_out: str = "Tout") -> Floor:
    """One swap sent to the pool by an EOA that already holds both tokens (max approval)."""
    f = Floor("AMM swap (EOA)", calldata, notes=["EOA holds both tokens and approved the pool for the max"])
    f.account(token_in, token_out)
    f.slot(f"pool.reserves[{token_in}][{token_out}]", RESET)
    f.slot(f"pool.reserves[{token_out}][{token_in}]", RESET)
    f.erc20_move(token_in, "eoa", "pool", spender="pool")
    f.erc20_move(token_out, "pool", "eoa")
    f.log("pool.Swap", 4, 3 * WORD)  # sender, token_in, token_out indexed; amount_in, amount_out, receiver
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
        tin, tout = assets[i], assets[j]
        f.slot(f"venue.reserves[{tin}][{tout}]", RESET)
        f.slot(f"venue.reserves[{tout}][{tin}]", RESET)
        f.erc20_move(tin, "vault", "venue")
        f.erc20_move(tout, "venue", "vault")
        f.log("venue.Swap", 4, 3 * WORD)
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


# ---------------------------------------------------------------- traces

CALL_OPS = {"CALL", "STATICCALL", "DELEGATECALL", "CALLCODE", "CREATE", "CREATE2"}
ACCESS_OPS = {"BALANCE", "EXTCODESIZE", "EXTCODECOPY", "EXTCODEHASH"}
CLASSES = [
    "SLOAD cold",
    "SLOAD warm",
    "SSTORE",
    "LOG",
    "account cold",
    "call/access warm",
    "transient",
    "compute+memory",
]


@dataclass
class Frame:
    """One call frame of a transaction; ``gas``/``count`` hold its own opcodes, children excluded."""

    to: str
    selector: str
    gas_used: int
    children: list[Frame]
    gas: Counter = field(default_factory=Counter)
    count: Counter = field(default_factory=Counter)

    @property
    def own(self) -> int:
        return sum(self.gas.values())

    def walk(self):
        yield self
        for child in self.children:
            yield from child.walk()


def _frames(call: dict) -> Frame:
    return Frame(
        to=str(call.get("to", "")).lower(),
        selector=str(call.get("input", "0x"))[:10],
        gas_used=int(call.get("gasUsed", "0x0"), 16),
        children=[_frames(c) for c in call.get("calls", [])],
    )


def _classify(op: str, cost: int) -> str:
    if op == "SLOAD":
        return "SLOAD cold" if cost >= COLD_SLOAD else "SLOAD warm"
    if op == "SSTORE":
        return "SSTORE"
    if op.startswith("LOG"):
        return "LOG"
    if op in CALL_OPS or op in ACCESS_OPS:
        return "account cold" if cost >= COLD_ACCOUNT else "call/access warm"
    if op in ("TLOAD", "TSTORE"):
        return "transient"
    return "compute+memory"


@dataclass
class TxTrace:
    """A transaction's gas split into intrinsic, opcode classes per frame, and the refund."""

    gas_used: int
    intrinsic: int
    root: Frame
    refund: int
    unattributed: int
    storage: list[tuple[str, int, str, int]] = field(default_factory=list)

    def totals(self) -> dict[str, tuple[int, int]]:
        """(count, gas) per opcode class over every frame."""
        out: dict[str, list[int]] = defaultdict(lambda: [0, 0])
        for frame in self.root.walk():
            for cls, gas in frame.gas.items():
                out[cls][0] += frame.count[cls]
                out[cls][1] += gas
        return {k: (v[0], v[1]) for k, v in out.items()}

    def cold_slots(self) -> int:
        """Storage slots first touched in this transaction (cold SLOADs and cold SSTOREs)."""
        return sum(f.count["SLOAD cold"] + f.count["SSTORE cold"] for f in self.root.walk())


def trace_tx(provider, txn_hash: str, gas_used: int, calldata: bytes) -> TxTrace:
    """Replay ``txn_hash`` with anvil's call and struct-log tracers and attribute every unit of gas."""
    calls = provider.make_request("debug_traceTransaction", [txn_hash, {"tracer": "callTracer"}])
    steps = provider.make_request(
        "debug_traceTransaction",
        [txn_hash, {"disableStack": False, "disableStorage": True, "enableMemory": False}],
    )["structLogs"]
    root = _frames(calls)
    stack: list[tuple[Frame, object]] = [(root, iter(root.children))]
    pending: list[tuple[Frame, str, Frame | None, int]] = []

    storage: list[tuple[str, int, str, int]] = []  # (contract, slot, op, gas) of every SLOAD and SSTORE

    def charge(frame: Frame, op: str, cost: int, step: dict | None = None) -> None:
        cls = _classify(op, cost)
        if op in ("SLOAD", "SSTORE") and step is not None and step.get("stack"):
            storage.append((frame.to, int(step["stack"][-1], 16), op, cost))
        frame.gas[cls] += cost
        frame.count[cls] += 1
        if op == "SSTORE" and cost > COLD_SLOAD:  # 22,100, 5,000 or 2,200: the slot was cold
            frame.count["SSTORE cold"] += 1

    for i, step in enumerate(steps):
        depth = step["depth"]
        while len(stack) > depth:  # back from a call: charge the caller its overhead
            stack.pop()
            frame, op, child, gas_before = pending.pop()
            charge(frame, op, gas_before - step["gas"] - (child.gas_used if child else 0))
        frame, children = stack[-1]
        op = step["op"]
        if op in CALL_OPS:
            child = next(children, None)
            following = steps[i + 1] if i + 1 < len(steps) else None
            if following is not None and following["depth"] == depth + 1 and child is not None:
                pending.append((frame, op, child, step["gas"]))
                stack.append((child, iter(child.children)))
            else:  # no code ran (an account without code, a precompile, or an early failure)
                after = following["gas"] if following is not None else step["gas"] - step["gasCost"]
                charge(frame, op, step["gas"] - after - (child.gas_used if child else 0))
            continue
        charge(frame, op, step["gasCost"], step)
    intrinsic = TX_BASE + calldata_gas(calldata)
    executed = intrinsic + sum(f.own for f in root.walk())
    refund = min(steps[-1].get("refund", 0) if steps else 0, executed // 5)
    return TxTrace(gas_used, intrinsic, root, refund, gas_used - (executed - refund), storage)


# ---------------------------------------------------------------- storage slots by name

SOURCES = {
    "Vault": "contracts/Vault.vy",
    "Token": "contracts/test/MockERC20.vy",
    "Feed": "contracts/test/MockPriceFeed.vy",
    "AMM": "contracts/venues/ConstantProductAMM.vy",
}


def storage_layout(source: str) -> list[tuple[str, str, int, int]]:
    """(name, type, slot, n_slots) of every storage variable, from ``vyper -f layout``."""
    vyper = Path(sys.executable).with_name("vyper")
    out = subprocess.run(
        [str(vyper), "-p", str(ROOT), "-f", "layout", str(ROOT / source)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    found = []

    def walk(node: dict) -> None:
        for name, value in node.items():
            if isinstance(value, dict) and "slot" in value:
                found.append((name, value["type"], int(value["slot"]), int(value["n_slots"])))
            elif isinstance(value, dict):
                walk(value)

    walk(json.loads(out)["storage_layout"])
    return found


def slot_names(kind: str, labels: dict[str, str]) -> dict[int, str]:
    """Slot -> 'variable[key]' for a contract of ``kind``, trying every labelled address as a key."""
    from eth_hash.auto import keccak

    def child(slot: int, address: str) -> int:
        return int.from_bytes(keccak(slot.to_bytes(32, "big") + int(address, 16).to_bytes(32, "big")), "big")

    names: dict[int, str] = {}
    for name, typ, slot, n_slots in storage_layout(SOURCES[kind]):
        if typ.startswith("HashMap[address, HashMap[address"):
            for a, la in labels.items():
                outer = child(slot, a)
                for b, lb in labels.items():
                    names[child(outer, b)] = f"{name}[{la}][{lb}]"
        elif typ.startswith("HashMap[address"):
            for a, la in labels.items():
                names[child(slot, a)] = f"{name}[{la}]"
        elif typ.startswith("DynArray"):
            names[slot] = f"{name}.length"
            for i in range(1, n_slots):
                names[slot + i] = f"{name}[{i - 1}]"
        else:
            names[slot] = name
    return names


# ---------------------------------------------------------------- text and markdown tables


@dataclass
class Table:
    title: str
    headers: list[str]
    rows: list[list[str]] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    def add(self, *cells) -> None:
        self.rows.append([_cell(c) for c in cells])

    def text(self) -> str:
        widths = [max(len(r[i]) for r in [self.headers, *self.rows]) for i in range(len(self.headers))]

        def line(cells):
            out = [cells[0].ljust(widths[0])]
            out += [c.rjust(w) if _numeric(c) else c.ljust(w) for c, w in zip(cells[1:], widths[1:])]
            return "  ".join(out).rstrip()

        body = [self.title, line(self.headers), "-" * (sum(widths) + 2 * (len(widths) - 1))]
        body += [line(r) for r in self.rows]
        body += [f"  {n}" for n in self.notes]
        return "\n".join(body)

    def markdown(self) -> str:
        align = ["---"] + [
            "---:" if any(_numeric(r[i]) for r in self.rows) else "---" for i in range(1, len(self.headers))
        ]
        out = [f"### {self.title}", "", "| " + " | ".join(self.headers) + " |", "| " + " | ".join(align) + " |"]
        out += ["| " + " | ".join(c.replace("|", "\\|") for c in r) + " |" for r in self.rows]
        if self.notes:
            out += [""] + [f"- {n}" for n in self.notes]
        return "\n".join(out)


def _cell(value) -> str:
    if isinstance(value, bool):
        return "met" if value else "NOT MET"
    if isinstance(value, int):
        return f"{value:,}"
    if isinstance(value, float):
        return f"{value:,.2f}"
    return str(value)


def _numeric(cell: str) -> bool:
    return bool(re.fullmatch(r"[-+]?[\d,]+(\.\d+)?x?( ms| s|/s)?|[-+]?\d[\d,]*\.?\d* \(\d+\)", cell.strip()))


# ---------------------------------------------------------------- measurements


@dataclass
class Measured:
    op: str
    n: int | None
    gas: int
    floor: Floor
    txn_hash: str
    calldata: bytes
    extra: dict = field(default_factory=dict)

    @property
    def ratio(self) -> float:
        return self.gas / self.floor.total


@dataclass
class Context:
    project: object
    chain: object
    provider: object
    accounts: list
    echo: Callable[[str], None]
    names: dict[str, str] = field(default_factory=dict)  # address -> contract kind
    selectors: dict[str, str] = field(default_factory=dict)  # selector -> function name
    traces: dict[str, TxTrace] = field(default_factory=dict)
    labels: dict[str, str] = field(default_factory=dict)  # address -> instance label (T0, F1, vault, ...)
    _slot_names: dict[str, dict[int, str]] = field(default_factory=dict)

    def name(self, *contracts_and_kinds) -> None:
        for contract, kind in contracts_and_kinds:
            self.names[str(contract.address).lower()] = kind

    def label(self, *things_and_labels) -> None:
        for thing, label in things_and_labels:
            self.labels[str(getattr(thing, "address", thing)).lower()] = label

    def slot_name(self, contract: str, slot: int) -> str:
        kind = self.names.get(contract)
        if kind not in SOURCES:
            return f"slot {slot:#x}"[:18]
        if kind not in self._slot_names:
            self._slot_names[kind] = slot_names(kind, self.labels)
        return self._slot_names[kind].get(slot, f"slot {slot:#x}"[:18])

    def trace(self, txn_hash: str, gas_used: int, calldata: bytes) -> TxTrace:
        if txn_hash not in self.traces:
            self.traces[txn_hash] = trace_tx(self.provider, txn_hash, gas_used, calldata)
        return self.traces[txn_hash]

    def frame_label(self, frame: Frame) -> str:
        kind = self.names.get(frame.to, frame.to[:10])
        return f"{kind}.{self.selectors.get(frame.selector, frame.selector)}"


def _tx(receipt) -> tuple[int, str, bytes]:
    return int(receipt.gas_used), str(receipt.txn_hash), bytes(receipt.transaction.data)


def _selectors(project) -> dict[str, str]:
    out = {}
    for name in ("Vault", "MockERC20", "MockPriceFeed", "ConstantProductAMM", "Snekmate4626"):
        contract_type = getattr(project, name).contract_type
        for abi in [*contract_type.mutable_methods, *contract_type.view_methods]:
            out[contract_type.method_identifiers[abi.selector]] = abi.name
    return out


@dataclass
class VaultRun:
    n: int
    join: Measured
    deposit: Measured
    exit: Measured
    rebalance: Measured
    eoa_swaps: list[tuple[int, str, bytes]]
    trades: list[tuple[int, int]]
    planner_state: tuple | None = None

    @property
    def eoa_gas(self) -> int:
        return sum(g for g, _, _ in self.eoa_swaps)

    @property
    def overhead(self) -> float:
        return self.rebalance.gas / self.eoa_gas


def bench_vault(ctx: Context, n: int) -> VaultRun:
    """Deploy an n-asset stack, then measure join, deposit, exit and a planner-made rebalance."""
    project, chain = ctx.project, ctx.chain
    deployer, keeper, alice, bob, carol, dave, arb = ctx.accounts[:7]
    spec = spec_from_dict(bench_spec(n))
    market = deploy_local_market(project, deployer, spec)
    tokens, feeds, venue = market.tokens, market.feeds, market.venue
    vault = deploy_vault(project, deployer, spec, tokens, feeds, [venue], keeper=keeper)
    assert int(vault.roles(keeper)) == ROLE_KEEPER
    ctx.name((vault, "Vault"), (venue, "AMM"), *((t, "Token") for t in tokens), *((f, "Feed") for f in feeds))
    ctx.label((vault, "vault"), (venue, "venue"), *((t, f"T{i}") for i, t in enumerate(tokens)))
    ctx.label(*((f, f"F{i}") for i, f in enumerate(feeds)))
    ctx.label(*zip(ctx.accounts[:7], ("deployer", "keeper", "alice", "bob", "carol", "dave", "arb")))
    decimals = [a.decimals for a in spec.assets]
    max_uint = 2**256 - 1

    def fund(account, amounts, spender):
        for token, amount in zip(tokens, amounts):
            token.mint(account, amount, sender=deployer)
            token.approve(spender, max_uint, sender=account)

    # Inception: alice seeds at target weights.
    seed = [int(SEED_USD * a.target_bps / 10_000 / a.price * 10**a.decimals) for a in spec.assets]
    fund(alice, seed, vault)
    vault.join(0, seed, alice, sender=alice)

    # join: bob, a new holder, mints a tenth of the supply in kind.
    shares = int(vault.totalSupply()) // 10
    need = [int(x) for x in vault.preview_join(shares)]
    fund(bob, [2 * x for x in need], vault)
    gas, txh, data = _tx(vault.join(shares, [2 * x for x in need], bob, sender=bob))
    join = Measured("join", n, gas, floor_join(n, data), txh, data)

    # deposit: carol, a new holder, pays asset 0 at its oracle value.
    amount = int(DEPOSIT_USD / spec.assets[0].price * 10 ** decimals[0])
    tokens[0].mint(carol, 2 * amount, sender=deployer)
    tokens[0].approve(vault, max_uint, sender=carol)
    gas, txh, data = _tx(vault.deposit(tokens[0], amount, 0, carol, sender=carol))
    deposit = Measured("deposit", n, gas, floor_deposit(n, data), txh, data)

    # exit: bob takes half of his shares out in kind.
    gas, txh, data = _tx(vault.exit(int(vault.balanceOf(bob)) // 2, [0] * n, bob, sender=bob))
    exit_ = Measured("exit", n, gas, floor_exit(n, data), txh, data)

    # Rebalances: two hours on WBTC rallies and the keeper rebalances (a warm-up, not measured:
    # it leaves the turnover, observation and timestamp slots as a running vault has them);
    # two hours later WBTC falls back and the second, measured, rebalance follows.
    fund(arb, [2**200] * n, venue)
    prices = [a.price for a in spec.assets]

    def move_and_plan(price_1: float):
        chain.pending_timestamp += 7_200
        prices[1] = price_1
        feeds[1].set_answer(feed_answer(price_1, FEED_DECIMALS), sender=deployer)
        wad = [feed_answer(p, FEED_DECIMALS) * 10 ** (18 - FEED_DECIMALS) for p in prices]
        arbitrage(venue, tokens, wad, decimals, arb)
        due, _ = vault.needs_rebalance()
        assert due, f"{n}-asset vault: rebalance not due after WBTC at {price_1:,.0f}"
        state = read_state(vault, project.MockERC20.at, chain.pending_timestamp, [venue.address])
        market_snapshot = snapshot_market([venue], tokens)
        plan = plan_rebalance(state, market_snapshot)
        assert plan.trades, f"{n}-asset vault: no plan ({plan.reason})"
        return state, market_snapshot, plan

    _, _, plan = move_and_plan(spec.assets[1].price * RALLY)
    vault.rebalance([t.as_tuple() for t in plan.trades], sender=keeper)
    state, market_snapshot, plan = move_and_plan(spec.assets[1].price)
    index = {str(t.address).lower(): i for i, t in enumerate(tokens)}
    trades = [(index[t.token_in.lower()], index[t.token_out.lower()]) for t in plan.trades]
    # dave, the EOA that repeats the swaps, holds every token and approved the venue.
    fund(dave, [int(1_000_000 / a.price * 10**a.decimals) for a in spec.assets], venue)

    snapshot = chain.snapshot()
    timestamp = chain.pending_timestamp
    eoa = []
    for t in plan.trades:
        receipt = venue.swap(t.token_in, t.token_out, t.amount_in, t.min_amount_out, dave, sender=dave)
        eoa.append(_tx(receipt))
        if n == 4:  # traced now: the snapshot is restored below
            ctx.trace(eoa[-1][1], eoa[-1][0], eoa[-1][2])
    chain.restore(snapshot)
    chain.pending_timestamp = timestamp
    receipt = vault.rebalance([t.as_tuple() for t in plan.trades], sender=keeper)
    gas, txh, data = _tx(receipt)
    rebalance = Measured("rebalance", n, gas, floor_rebalance(n, trades, data, moved={1}), txh, data)
    run = VaultRun(n, join, deposit, exit_, rebalance, eoa, trades)
    if n == max(SIZES):
        run.planner_state = (state, market_snapshot)
    ctx.echo(
        f"  {n} assets: join {join.gas:,}, deposit {deposit.gas:,}, exit {exit_.gas:,}, "
        f"rebalance {rebalance.gas:,} ({len(trades)} trades; EOA {run.eoa_gas:,})"
    )
    return run


@dataclass
class References:
    deposit_4626: Measured
    redeem_4626: Measured
    transfer: Measured
    swap: Measured
    token: object
    holders: tuple


def bench_references(ctx: Context) -> References:
    """snekmate ERC-4626 deposit and redeem, an ERC-20 transfer and an AMM swap, in this run."""
    project = ctx.project
    deployer, _, alice, bob, carol, dave = ctx.accounts[:6]
    token = project.MockERC20.deploy("Ref", "REF", 18, sender=deployer)
    other = project.MockERC20.deploy("Ref2", "REF2", 18, sender=deployer)
    ref = project.Snekmate4626.deploy("Ref 4626", "R4626", token, sender=deployer)
    venue = project.ConstantProductAMM.deploy(30, sender=deployer)
    ctx.name((token, "Token"), (other, "Token"), (ref, "Snekmate4626"), (venue, "AMM"))
    one = 10**18
    for account in (alice, bob, carol, dave, deployer):
        token.mint(account, 10_000 * one, sender=deployer)
        other.mint(account, 10_000 * one, sender=deployer)
        token.approve(ref, 2**256 - 1, sender=account)
        token.approve(venue, 2**256 - 1, sender=account)
        other.approve(venue, 2**256 - 1, sender=account)
    ref.deposit(1_000 * one, alice, sender=alice)  # inception, not measured
    gas, txh, data = _tx(ref.deposit(100 * one, carol, sender=carol))
    deposit = Measured("ERC-4626 deposit (snekmate)", None, gas, floor_4626_deposit(data), txh, data)
    gas, txh, data = _tx(ref.redeem(int(ref.balanceOf(carol)) // 2, carol, carol, sender=carol))
    redeem = Measured("ERC-4626 redeem (snekmate)", None, gas, floor_4626_redeem(data), txh, data)
    gas, txh, data = _tx(token.transfer(bob, one, sender=alice))
    transfer = Measured("ERC-20 transfer", None, gas, floor_erc20_transfer(data), txh, data)
    venue.add_liquidity(token, other, 5_000 * one, 5_000 * one, sender=deployer)
    gas, txh, data = _tx(venue.swap(token, other, 10 * one, 0, dave, sender=dave))
    swap = Measured("AMM swap (EOA)", None, gas, floor_amm_swap(data), txh, data)
    return References(deposit, redeem, transfer, swap, token, (alice, bob))


# ---------------------------------------------------------------- throughput


def _transfer_loop(token, alice, bob, count: int) -> float:
    """Seconds for ``count`` transfers sent one after another, each waiting for its receipt."""
    token.transfer(bob, 1, sender=alice)  # warm-up
    start = time.perf_counter()
    for _ in range(count):
        token.transfer(bob, 1, sender=alice)
    return time.perf_counter() - start


def ape_tps(refs: References, count: int = TPS_TRANSFERS) -> tuple[float, int, float]:
    """Simple transfers sent one after another through ape, each waiting for its receipt."""
    elapsed = _transfer_loop(refs.token, *refs.holders, count)
    return count / elapsed, count, elapsed


def ape_local_tps(project, accounts, networks, count: int = TPS_TRANSFERS) -> tuple[float | None, str]:
    """The same transfer loop on ape's embedded local network (``ethereum:local:test``).

    Run before the anvil benchmark, not nested in it, so the two providers never overlap.
    Returns (transactions per second, how) or (None, why not)."""
    try:
        with networks.parse_network_choice("ethereum:local:test"):
            alice, bob = accounts[0], accounts[1]
            token = project.MockERC20.deploy("Tps", "TPS", 18, sender=alice)
            token.mint(alice, 10**24, sender=alice)
            elapsed = _transfer_loop(token, alice, bob, count)
    except Exception as err:  # noqa: BLE001 - a throughput row must not sink the gas benchmark
        return None, f"failed: {type(err).__name__}: {str(err)[:120]}"
    return count / elapsed, f"{count} ERC-20 transfers in a loop, each awaited: {elapsed:.1f} s"


def three_venues(market: Market) -> Market:
    """The same liquidity spread over three venues (50/30/20), so the planner must split orders."""
    pools = []
    for pool in market.pools:
        for k, share in enumerate((50, 30, 20)):
            venue = "0x" + f"{k + 1:x}" * 40
            pools.append(
                Pool(
                    venue,
                    pool.token_a,
                    pool.token_b,
                    pool.reserve_a * share // 100,
                    pool.reserve_b * share // 100,
                    pool.fee_bps,
                )
            )
    return Market(pools)


@dataclass
class PlannerTiming:
    mode: str
    fraction_bps: int
    swaps: int
    runs: int
    median_ms: float
    max_ms: float


def planner_latency(state, market, runs: int = PLANNER_RUNS) -> list[PlannerTiming]:
    """Wall time of ``plan_rebalance`` on ``state`` (a vault read from the chain) with ``market``
    split over 3 venues, ``runs`` calls per target mode after one warm-up call (7-20 ms a call
    for the benchmark's 8-asset vault, idle to loaded machine: a few hundred ms in all)."""
    market = three_venues(market)
    timings = []
    for mode, fraction_bps in PLANNER_MODES:
        plan = plan_rebalance(state, market, mode=mode, fraction_bps=fraction_bps)
        times = []
        for _ in range(runs):
            start = time.perf_counter()
            plan_rebalance(state, market, mode=mode, fraction_bps=fraction_bps)
            times.append((time.perf_counter() - start) * 1_000)
        timings.append(PlannerTiming(mode, fraction_bps, len(plan.trades), runs, statistics.median(times), max(times)))
    return timings


def planner_table(timings: list[PlannerTiming], n_assets: int) -> Table:
    table = Table(
        f"Planner latency ({n_assets}-asset vault, pools split over 3 venues)",
        ["mode", "swaps", "median", "slowest", "calls timed"],
    )
    for t in timings:
        mode = t.mode if t.fraction_bps == 10_000 else f"{t.mode} ({t.fraction_bps / 100:g}%)"
        table.add(mode, t.swaps, f"{t.median_ms:.2f} ms", f"{t.max_ms:.2f} ms", t.runs)
    table.notes.append(
        "plan_rebalance on the state read from the benchmark's vault before its measured rebalance, "
        "its pools' liquidity split 50/30/20 over three venues so that orders are split; wall time per call"
    )
    return table


STATEFUL = ROOT / "tests" / "stateful" / "test_vault_stateful.py"


def start_stateful(evm: str = "revm") -> subprocess.Popen | None:
    """Start the state machine's CI profile on ``evm`` (``revm`` or ``boa``: titanoboa's py-evm);
    it prints its steps/s."""
    if not STATEFUL.exists():
        return None
    env = {**os.environ, "BALLAST_FUZZ_PROFILE": "ci", "BALLAST_FUZZ_EVM": evm, "PYTHONUNBUFFERED": "1"}
    proc = subprocess.Popen(
        [sys.executable, str(STATEFUL), "--profile", "ci"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    proc.started = time.perf_counter()
    return proc


def finish_stateful(proc: subprocess.Popen | None, budget: float = STATEFUL_BUDGET) -> tuple[float | None, str]:
    """Wait for the state machine until ``budget`` seconds after its start, then interrupt it.

    An interrupted run still prints its summary (steps so far and steps/s), which is reported
    with a note; so is a run that ends on a failing example.
    """
    if proc is None:
        return None, f"skipped: {STATEFUL.relative_to(ROOT)} does not exist"
    note = "CI profile"
    try:
        out, _ = proc.communicate(timeout=max(budget - (time.perf_counter() - proc.started), 1))
    except subprocess.TimeoutExpired:
        proc.send_signal(signal.SIGINT)
        note = f"CI profile interrupted at the {budget:.0f} s budget"
        try:
            out, _ = proc.communicate(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
            out, _ = proc.communicate()
    # The runner prints a progress line every 50 examples and its summary last: take the last.
    matches = list(re.finditer(r"(\d+) examples, (\d+) steps in ([\d.]+)s = ([\d.]+) steps/s", out))
    match = matches[-1] if matches else None
    if match is None:
        tail = " | ".join(out.strip().splitlines()[-2:])[-200:]
        return None, f"{note}: no summary (exit {proc.returncode}): {tail}"
    examples, steps, seconds, rate = match.groups()
    note = f"{note}: {examples} examples, {int(steps):,} steps in {float(seconds):.0f} s"
    if proc.returncode not in (0, None) and "interrupted" not in note:
        note += f"; exit {proc.returncode} (a failing example: see make test)"
    return float(rate), note


def backtest_rate() -> tuple[float | None, str]:
    """``python -m ballast.backtest --bench``: its 'total' line's paths/s."""
    proc = subprocess.run(
        [sys.executable, "-m", "ballast.backtest", "--bench"], cwd=ROOT, capture_output=True, text=True, timeout=300
    )
    match = re.search(r"^total\s+([\d.]+)\s+([\d,]+)", proc.stdout, re.M)
    header = re.search(r"bench: (.*)", proc.stdout)
    if proc.returncode != 0 or match is None:
        return None, f"failed (exit {proc.returncode}): {(proc.stderr or proc.stdout).strip()[-200:]}"
    return float(match.group(2).replace(",", "")), f"{header.group(1) if header else ''}; {match.group(1)} s"


# ---------------------------------------------------------------- breakdowns


def class_table(ctx: Context, m: Measured, title: str) -> Table:
    """The measured gas by cost class beside the floor's."""
    tr = ctx.trace(m.txn_hash, m.gas, m.calldata)
    totals = tr.totals()
    floor = m.floor.by_class()
    table = Table(title, ["class", "floor", "measured", "extra", "count"])

    def row(name, measured, count, floor_gas=0):
        table.add(name, floor_gas, measured, measured - floor_gas, count)

    row("intrinsic (base + calldata)", tr.intrinsic, 1, floor["intrinsic"])
    row(
        "cold accounts",
        totals.get("account cold", (0, 0))[1],
        totals.get("account cold", (0, 0))[0],
        floor["cold accounts"],
    )
    storage = sum(totals.get(c, (0, 0))[1] for c in ("SLOAD cold", "SLOAD warm", "SSTORE"))
    row("storage: SLOAD + SSTORE", storage, tr.cold_slots(), floor["storage"])
    for cls in ("SLOAD cold", "SLOAD warm", "SSTORE"):
        count, gas = totals.get(cls, (0, 0))
        table.add(f"  of which {cls}", "", gas, "", count)
    row("logs", totals.get("LOG", (0, 0))[1], totals.get("LOG", (0, 0))[0], floor["logs"])
    for cls in ("call/access warm", "transient", "compute+memory"):
        count, gas = totals.get(cls, (0, 0))
        row(cls, gas, count)
    table.add("refund", "", -tr.refund, -tr.refund, "")
    table.add("total", m.floor.total, m.gas, m.gas - m.floor.total, "")
    table.notes.append(
        "storage count = distinct slots touched (cold); floor counts "
        f"{len(m.floor.slots)} slots, {len(m.floor.accounts)} accounts, {len(m.floor.logs)} logs"
    )
    if tr.unattributed:
        table.notes.append(f"{tr.unattributed:,} gas not attributed by the trace walk")
    return table


def storage_table(ctx: Context, m: Measured, title: str) -> Table:
    """Every storage access of the transaction, by contract kind and variable."""
    tr = ctx.trace(m.txn_hash, m.gas, m.calldata)
    rows: dict[str, dict] = {}
    for contract, slot, op, gas in tr.storage:
        name = ctx.slot_name(contract, slot)
        base, _, key = name.partition("[")
        var = f"{ctx.names.get(contract, contract[:10])}.{base}"
        row = rows.setdefault(var, {"cold": 0, "warm": 0, "write": 0, "gas": 0, "keys": {}})
        if op == "SLOAD":
            row["cold" if gas >= COLD_SLOAD else "warm"] += 1
        else:
            row["write"] += 1
        row["gas"] += gas
        if key:
            row["keys"]["[" + key] = None
    table = Table(title, ["variable", "cold SLOAD", "warm SLOAD", "SSTORE", "gas", "keys"])
    for var, row in sorted(rows.items(), key=lambda kv: -kv[1]["gas"]):
        keys = list(row["keys"])
        shown = " ".join(keys[:8]) + (f" ... ({len(keys)})" if len(keys) > 8 else "")
        table.add(var, row["cold"], row["warm"], row["write"], row["gas"], shown)
    table.add("total", *(sum(r[k] for r in rows.values()) for k in ("cold", "warm", "write", "gas")), "")
    table.notes.append(
        "SSTORE gas includes the cold surcharge when the slot was not read first; refunds not subtracted"
    )
    return table


def frame_table(ctx: Context, columns: list[tuple[str, list[TxTrace]]], title: str) -> Table:
    """Gas of each kind of call frame (its own opcodes), summed over the given transactions."""
    groups: dict[str, list[dict]] = defaultdict(lambda: [defaultdict(int) for _ in columns])
    for col, (_, traces) in enumerate(columns):
        for tr in traces:
            groups["intrinsic (base + calldata)"][col]["gas"] += tr.intrinsic
            groups["intrinsic (base + calldata)"][col]["n"] += 1
            groups["refund"][col]["gas"] -= tr.refund
            for frame in tr.root.walk():
                label = ctx.frame_label(frame)
                cell = groups[label][col]
                cell["gas"] += frame.own
                cell["n"] += 1
                for cls in CLASSES:
                    cell[cls] += frame.gas[cls]
                    cell["#" + cls] += frame.count[cls]
    headers = ["frame (own opcodes)"] + [f"{name} (calls)" for name, _ in columns]
    if len(columns) == 2:
        headers.append("extra")
    headers.append("where, first column (gas: count)")
    table = Table(title, headers)
    order = sorted(groups, key=lambda k: -max(abs(c["gas"]) for c in groups[k]))
    for label in order:
        cells = groups[label]
        row = [label] + [f"{c['gas']:,} ({c['n']})" if c["n"] else f"{c['gas']:,}" for c in cells]
        if len(columns) == 2:
            row.append(f"{cells[0]['gas'] - cells[1]['gas']:,}")
        detail = ", ".join(
            f"{cls} {cells[0][cls]:,}: {cells[0]['#' + cls]}" for cls in CLASSES if cells[0][cls] and cells[0]["n"]
        )
        row.append(detail)
        table.rows.append(row)
    totals = [sum(groups[k][i]["gas"] for k in groups) for i in range(len(columns))]
    total_row = ["total"] + [f"{t:,}" for t in totals]
    if len(columns) == 2:
        total_row.append(f"{totals[0] - totals[1]:,}")
    table.rows.append(total_row + [""])
    return table


# ---------------------------------------------------------------- the run


def run(
    project,
    chain,
    accounts,
    provider,
    output: Path | None = None,
    echo=print,
    stateful: bool = True,
    local_tps: tuple[float | None, str] = (None, "not measured"),
) -> dict:
    """Run the whole benchmark, print its tables, write ``output`` and return the figures."""
    started = time.perf_counter()
    load = os.getloadavg()[0]
    ctx = Context(project, chain, provider, list(accounts), echo)
    ctx.selectors = _selectors(project)
    client = provider.make_request("web3_clientVersion", [])
    hardfork = getattr(provider.settings, "evm_version", None) or "default"
    echo(f"Ballast benchmark on {client} (hardfork {hardfork}); gas = receipts' gas_used")
    echo("Gas: vaults of " + ", ".join(map(str, SIZES)) + " assets")
    runs = {n: bench_vault(ctx, n) for n in SIZES}
    refs = bench_references(ctx)
    gas_seconds = time.perf_counter() - started

    # Timing figures one at a time, after the gas phase, so that nothing competes with them.
    skipped = (None, "skipped (--no-stateful)")
    echo("Throughput: state machine (CI profile) on revm, then on titanoboa's py-evm ...")
    steps_rate, steps_note = finish_stateful(start_stateful("revm")) if stateful else skipped
    pyevm_rate, pyevm_note = finish_stateful(start_stateful("boa"), STATEFUL_PYEVM_BUDGET) if stateful else skipped
    tps, transfers, tps_seconds = ape_tps(refs)
    state, market = runs[max(SIZES)].planner_state
    planner = planner_latency(state, market)
    paths_rate, paths_note = backtest_rate()

    tables = build_tables(
        ctx,
        runs,
        refs,
        {
            "tps": (tps, transfers, tps_seconds),
            "local_tps": local_tps,
            "planner": planner,
            "steps": (steps_rate, steps_note),
            "steps_pyevm": (pyevm_rate, pyevm_note),
            "paths": (paths_rate, paths_note),
        },
    )
    elapsed = time.perf_counter() - started
    echo("")
    for table in tables["main"] + tables["breakdowns"]:
        echo(table.text())
        echo("")
    if output is not None:
        write_markdown(output, tables, runs, refs, client, hardfork, elapsed, gas_seconds, load)
        echo(f"wrote {output} ({elapsed:.0f} s)")
    return {"runs": runs, "refs": refs, "tables": tables, "seconds": elapsed}


def build_tables(ctx: Context, runs: dict[int, VaultRun], refs: References, speed: dict) -> dict:
    gas = Table(
        "Gas per operation (receipts, 21,000 base included)", ["operation", "assets", "gas", "floor", "x floor"]
    )
    for op in ("join", "deposit", "exit", "rebalance"):
        for n, r in runs.items():
            m = getattr(r, op)
            label = f"{op} ({len(r.trades)} swaps)" if op == "rebalance" else op
            gas.add(label, n, m.gas, m.floor.total, f"{m.ratio:.2f}x")
    for m in (refs.deposit_4626, refs.redeem_4626, refs.transfer, refs.swap):
        gas.add(m.op, "1" if "4626" in m.op else "-", m.gas, m.floor.total, f"{m.ratio:.2f}x")
    below = [m for r in runs.values() for m in (r.join, r.deposit, r.exit, r.rebalance)]
    below = [f"{m.op} ({m.n})" for m in below if m.gas < m.floor.total]
    if below:
        gas.notes.append("WARNING: below the floor, so the floor is wrong: " + ", ".join(below))
    gas.notes += [
        "join/deposit: a new holder; exit: half of a holder's shares",
        "rebalance: the vault's second; the planner's swaps after WBTC, +40% at the first, returns to its start price",
        "floor = EIP schedule: base + calldata + cold accounts + cold slots read/written + logs (see Floors)",
    ]

    reb = Table(
        "Rebalance vs the same swaps from an EOA (same pools, same starting state)",
        ["assets", "swaps", "vault rebalance", "EOA swaps", "overhead", "extra gas", "floor", "x floor"],
    )
    for n, r in runs.items():
        reb.add(
            n,
            len(r.trades),
            r.rebalance.gas,
            r.eoa_gas,
            f"{r.overhead:.2f}x",
            r.rebalance.gas - r.eoa_gas,
            r.rebalance.floor.total,
            f"{r.rebalance.ratio:.2f}x",
        )
    reb.notes.append("EOA swaps: one transaction per swap (each pays the 21,000 base); overhead = vault / EOA")

    four = runs[4]
    targets = [
        (
            "deposit, one asset, 4-asset vault",
            f"<= {TARGET_DEPOSIT_GAS:,} gas",
            f"{four.deposit.gas:,} gas",
            four.deposit.gas <= TARGET_DEPOSIT_GAS,
            four.deposit,
        ),
        (
            "join, 4-asset vault",
            f"<= {TARGET_FLOOR_RATIO}x floor",
            f"{four.join.ratio:.2f}x floor",
            four.join.ratio <= TARGET_FLOOR_RATIO,
            four.join,
        ),
        (
            "exit, 4-asset vault",
            f"<= {TARGET_FLOOR_RATIO}x floor",
            f"{four.exit.ratio:.2f}x floor",
            four.exit.ratio <= TARGET_FLOOR_RATIO,
            four.exit,
        ),
        (
            f"rebalance overhead, {len(four.trades)} swaps, 4-asset vault",
            f"<= {TARGET_OVERHEAD}x EOA swaps",
            f"{four.overhead:.2f}x",
            four.overhead <= TARGET_OVERHEAD,
            four.rebalance,
        ),
    ]
    tgt = Table("Targets", ["target", "goal", "measured", "status"])
    for name, goal, measured, ok, _ in targets:
        tgt.add(name, goal, measured, ok)
    if len(four.trades) != 3:
        tgt.notes.append(f"the planner made {len(four.trades)} swaps, not 3, for the 4-asset vault")

    tps, transfers, tps_seconds = speed["tps"]
    planner = speed["planner"]
    target = next(t for t in planner if t.mode == "target")
    steps_rate, steps_note = speed["steps"]
    pyevm_rate, pyevm_note = speed["steps_pyevm"]
    paths_rate, paths_note = speed["paths"]
    thr = Table("Throughput", ["measurement", "figure", "how"])
    thr.add(
        "ape transactions / s (local anvil)",
        f"{tps:,.1f}/s",
        f"{transfers} ERC-20 transfers in a loop, each awaited: {tps_seconds:.1f} s",
    )
    local_rate, local_note = speed["local_tps"]
    thr.add(
        "ape transactions / s (ape's embedded local network)",
        f"{local_rate:,.1f}/s" if local_rate else "-",
        local_note,
    )
    thr.add(
        f"planner latency, {max(SIZES)} assets, 3 venues",
        f"{target.median_ms:.2f} ms",
        f"plan_rebalance (target mode), median of {target.runs} (slowest {target.max_ms:.2f} ms, "
        f"{target.swaps} swaps); every mode in the next table",
    )
    thr.add(
        "state machine steps / s (titanoboa-compiled, on revm)",
        f"{steps_rate:,.1f}/s" if steps_rate else "-",
        steps_note,
    )
    thr.add(
        "state machine steps / s (titanoboa's py-evm)",
        f"{pyevm_rate:,.1f}/s" if pyevm_rate else "-",
        pyevm_note + ("; BALLAST_FUZZ_EVM=boa, the reference" if pyevm_rate else ""),
    )
    thr.add("backtester paths / s", f"{paths_rate:,.0f}/s" if paths_rate else "-", paths_note)

    breakdowns = []
    for name, _, _, ok, m in targets:
        if ok:
            continue
        breakdowns.append(class_table(ctx, m, f"Where the gas goes: {name} ({m.gas:,} gas, floor {m.floor.total:,})"))
        vault_tr = [ctx.trace(m.txn_hash, m.gas, m.calldata)]
        if m.op == "rebalance":
            eoa_tr = [ctx.trace(h, g, d) for g, h, d in four.eoa_swaps]
            breakdowns.append(
                frame_table(ctx, [("vault", vault_tr), ("EOA", eoa_tr)], f"By call frame: {name}, vault vs EOA")
            )
        else:
            breakdowns.append(frame_table(ctx, [("gas", vault_tr)], f"By call frame: {name}"))
        breakdowns.append(storage_table(ctx, m, f"Storage accesses by variable: {name}"))
    return {
        "main": [gas, reb, tgt, thr, planner_table(planner, max(SIZES))],
        "breakdowns": breakdowns,
        "targets": targets,
    }


def write_markdown(path: Path, tables: dict, runs, refs, client, hardfork, elapsed, gas_seconds, load) -> None:
    floors = [m.floor for r in runs.values() for m in (r.join, r.deposit, r.exit, r.rebalance)]
    floors += [m.floor for m in (refs.deposit_4626, refs.redeem_4626, refs.transfer, refs.swap)]
    lines = [
        "# Ballast benchmarks",
        "",
        "Generated by `make bench` (`ape run bench --network ethereum:local:foundry`; source "
        "`ballast/bench.py`). Do not edit by hand.",
        "",
        f"Node: {client}, hardfork {hardfork}. Gas is `gas_used` from the receipts (21,000 base included). "
        f"Run time {elapsed:.0f} s (gas phase {gas_seconds:.0f} s). Gas figures are deterministic; the "
        f"throughput figures depend on the machine and its load ({os.cpu_count()} CPUs, load average "
        f"{load:.1f} at the start).",
        "",
    ]
    for table in tables["main"]:
        lines += [table.markdown(), ""]
    if tables["breakdowns"]:
        lines += [
            "## Breakdowns of the targets not met",
            "",
            "From `debug_traceTransaction` (call tracer + struct logs): each opcode's gas is charged to "
            "its call frame; a call's own cost (cold or warm access, memory) to the caller.",
            "",
        ]
        for table in tables["breakdowns"]:
            lines += [table.markdown(), ""]
    lines += [
        "## Floors",
        "",
        "Each floor is computed in `ballast/bench.py` (`floor_*`) from the EIP schedule: "
        f"{TX_BASE:,} base; calldata {CALLDATA_NONZERO}/{CALLDATA_ZERO} per nonzero/zero byte of the call as made; "
        f"{COLD_ACCOUNT:,} per distinct external contract that must be called; {COLD_SLOAD:,} per distinct "
        f"slot that must be read; per slot that must change {COLD_SLOAD:,} + {SSTORE_SET:,} (zero to nonzero) or "
        f"{COLD_SLOAD:,} + {SSTORE_RESET:,} (nonzero to nonzero); logs {LOG_BASE} + {LOG_TOPIC}/topic + "
        f"{LOG_BYTE}/byte. Warm accesses, computation and memory are not counted. Labels: `T0..` the "
        "basket's tokens, `F0..` their feeds.",
        "",
        "```",
    ]
    for floor in floors:
        lines += floor.describe()
    lines += ["```", ""]
    path.write_text("\n".join(lines))
