"""Where a transaction's gas goes: ``debug_traceTransaction`` (call tracer and struct logs)
replayed into call frames with their own opcodes' gas by class, and storage slots named from
the contracts' layouts."""

from __future__ import annotations

import json
import subprocess
import sys
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from pathlib import Path

from ballast.bench.config import ROOT
from ballast.bench.floors import COLD_ACCOUNT, COLD_SLOAD, TX_BASE, calldata_gas

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
    "BalancerV2Venue": "contracts/venues/BalancerV2Venue.vy",
}
# The storage of the real venues' Solidity contracts, from their sources (the npm packages ship no
# layout): (name, type, slot, slots), in the form ``storage_layout`` gives for Vyper.
SOLIDITY_LAYOUTS = {
    # @uniswap/v2-core 1.0.1: UniswapV2ERC20, then UniswapV2Pair.
    "UniswapV2Pair": [
        ("totalSupply", "uint256", 0, 1),
        ("balanceOf", "HashMap[address, uint256]", 1, 1),
        ("allowance", "HashMap[address, HashMap[address, uint256]]", 2, 1),
        ("DOMAIN_SEPARATOR", "bytes32", 3, 1),
        ("nonces", "HashMap[address, uint256]", 4, 1),
        ("factory", "address", 5, 1),
        ("token0", "address", 6, 1),
        ("token1", "address", 7, 1),
        ("reserve0+reserve1+blockTimestampLast", "uint256", 8, 1),
        ("price0CumulativeLast", "uint256", 9, 1),
        ("price1CumulativeLast", "uint256", 10, 1),
        ("kLast", "uint256", 11, 1),
        ("unlocked", "uint256", 12, 1),
    ],
    # @uniswap/v3-core 1.0.1: UniswapV3Pool (ticks, tickBitmap and positions are keyed by ticks,
    # words and position keys, not addresses: their slots stay unnamed).
    "UniswapV3Pool": [
        ("slot0", "uint256", 0, 1),
        ("feeGrowthGlobal0X128", "uint256", 1, 1),
        ("feeGrowthGlobal1X128", "uint256", 2, 1),
        ("protocolFees", "uint256", 3, 1),
        ("liquidity", "uint256", 4, 1),
        ("observations[0]", "uint256", 8, 1),
    ],
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
    layout = SOLIDITY_LAYOUTS[kind] if kind in SOLIDITY_LAYOUTS else storage_layout(SOURCES[kind])
    for name, typ, slot, n_slots in layout:
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
