"""What one benchmark run shares: the chain, the accounts, contract names and labels, traces."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from ballast.bench.floors import Floor
from ballast.bench.trace import SOLIDITY_LAYOUTS, SOURCES, Frame, TxTrace, slot_names, trace_tx

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
        """Name contracts (instances or addresses) by kind, for the frame and storage tables; a
        contract instance also teaches the selectors of its ABI."""
        for contract, kind in contracts_and_kinds:
            self.names[str(getattr(contract, "address", contract)).lower()] = kind
            contract_type = getattr(contract, "contract_type", None)
            if contract_type is not None:
                self.selectors.update(_method_names(contract_type))

    def label(self, *things_and_labels) -> None:
        for thing, label in things_and_labels:
            self.labels[str(getattr(thing, "address", thing)).lower()] = label

    def slot_name(self, contract: str, slot: int) -> str:
        kind = self.names.get(contract)
        if kind not in SOURCES and kind not in SOLIDITY_LAYOUTS:
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


def _method_names(contract_type) -> dict[str, str]:
    """Selector -> function name for every function of ``contract_type``."""
    methods = [*contract_type.mutable_methods, *contract_type.view_methods]
    return {contract_type.method_identifiers[abi.selector]: abi.name for abi in methods}


def _selectors(project) -> dict[str, str]:
    out = {}
    for name in ("Vault", "MockERC20", "MockPriceFeed", "Snekmate4626"):
        out.update(_method_names(getattr(project, name).contract_type))
    return out
