"""A small titanoboa-shaped environment that executes on revm (through ``pyrevm``).

The state machine compiles every contract with titanoboa (``boa.load_partial``: the same
Vyper 0.4.3 compiler and settings as the rest of the suite) and, by default, runs the
bytecode on revm, the Rust EVM inside anvil and foundry. py-evm, titanoboa's interpreter,
executes about 40,000 opcodes a second here: a 4-asset ``join`` takes ~20 ms and one
state-machine step ~100 ms. revm runs the same call in well under a millisecond, so the
Python model, not the EVM, sets the pace. ``BALLAST_FUZZ_EVM=boa`` switches back to py-evm.

Only what the fuzzer needs is here: deploy, call (state-changing or static) with ABI
encoding, ``prank``, ``anchor`` (journal checkpoints), ``time_travel``, revert reasons
and the logs of the last call. Every call is its own transaction at the current block.
"""

from __future__ import annotations

import contextlib
import functools
import re
from collections import namedtuple
from dataclasses import dataclass

from eth_abi import decode, encode
from eth_abi.decoding import ContextFramesBytesIO, TupleDecoder
from eth_abi.encoding import TupleEncoder
from eth_abi.exceptions import InsufficientDataBytes, NonEmptyPaddingBytes
from eth_abi.registry import registry
from eth_utils import keccak, to_checksum_address
from pyrevm import EVM, BlockEnv

START_TIMESTAMP = 1_700_000_000
ERROR_SELECTOR = bytes.fromhex("08c379a0")  # Error(string)
PANIC_SELECTOR = bytes.fromhex("4e487b71")  # Panic(uint256)
_REVERT_OUTPUT = re.compile(r"output: 0x([0-9a-fA-F]*)")
_checksum = functools.lru_cache(maxsize=4096)(to_checksum_address)  # a keccak each, for a few hundred addresses


class RevmError(Exception):
    """A call that reverted or halted; ``reason`` is its revert string (``""`` when there is none)."""

    def __init__(self, reason: str, detail: str):
        super().__init__(f"{reason or '<no reason>'} ({detail[:200]})")
        self.reason = reason


def _reason_of(message: str) -> str:
    match = _REVERT_OUTPUT.search(message)
    if not match:
        return ""  # a halt (out of gas, invalid opcode): no revert data
    data = bytes.fromhex(match.group(1))
    if data[:4] == ERROR_SELECTOR:
        return decode(["string"], data[4:])[0]
    if data[:4] == PANIC_SELECTOR:
        return f"panic: {decode(['uint256'], data[4:])[0]:#x}"
    return ""


def _as_bytes(value) -> bytes:
    return bytes.fromhex(value.removeprefix("0x")) if isinstance(value, str) else bytes(value)


def _log_data(log) -> bytes:
    """pyrevm gives a log's data as ``(topics, data)`` or as bytes, depending on the version."""
    data = log.data
    if isinstance(data, tuple):
        data = data[-1]
    return _as_bytes(data)


def abi_type(entry: dict) -> str:
    """The canonical ABI type string of an input or output (tuples spelled out)."""
    kind = entry["type"]
    if kind.startswith("tuple"):
        return "(" + ",".join(abi_type(c) for c in entry["components"]) + ")" + kind[len("tuple") :]
    return kind


# ABI coding. eth_abi validates every address through several layers of eth_utils and
# rebuilds its tuple coders on every call: at tens of thousands of calls a second that is
# most of the fuzzer's time. Words of the basic static types (and arrays of them, the only
# dynamic types the fuzzer's hot calls use) are coded directly; other outputs (structs with
# arrays or strings in them, the lens' and the vault's state reads) and event data are decoded
# by :func:`_abi_decoder`, which returns what eth_abi's ``decode`` returns for the same data;
# anything else is encoded through eth_abi, with its coders built once per signature.

_BASIC = re.compile(r"^(address|bool|uint\d*|int\d*)$")


def _word(kind: str, value) -> bytes:
    if kind == "address":
        return b"\x00" * 12 + bytes.fromhex(value[2:] if isinstance(value, str) else bytes(value).hex())
    if kind.startswith("int"):
        return int(value).to_bytes(32, "big", signed=True)
    if value < 0:
        raise ValueError(f"{kind}: negative value {value}")
    return int(value).to_bytes(32, "big")


def _word_fn(kind: str):
    """:func:`_word` for one ``kind``, with the branch on the kind taken once."""
    if kind == "address":
        return lambda value: _word("address", value)
    if kind.startswith("int"):
        return lambda value: int(value).to_bytes(32, "big", signed=True)

    def unsigned(value) -> bytes:
        if value < 0:
            raise ValueError(f"{kind}: negative value {value}")
        return int(value).to_bytes(32, "big")

    return unsigned


def _unword(kind: str, word: bytes):
    if kind == "address":
        return "0x" + word[12:].hex()
    if kind == "bool":
        return word[31] == 1
    return int.from_bytes(word, "big", signed=kind.startswith("int"))


def _unword_at(kind: str):
    """``(data, at) -> _unword(kind, data[at : at + 32])``, with the branch on the kind taken once."""
    if kind == "address":
        return lambda data, at: "0x" + data[at + 12 : at + 32].hex()
    if kind == "bool":
        return lambda data, at: data[at + 31] == 1
    if kind.startswith("int"):
        return lambda data, at: int.from_bytes(data[at : at + 32], "big", signed=True)
    return lambda data, at: int.from_bytes(data[at : at + 32], "big")


def _static_parts(kind: str) -> list[str] | None:
    """The basic types of a static ``kind`` (a basic type or a tuple of them), else None."""
    if _BASIC.match(kind):
        return [kind]
    if kind.startswith("(") and kind.endswith(")"):
        parts = kind[1:-1].split(",")
        return parts if all(_BASIC.match(p) for p in parts) else None
    return None


@functools.cache
def _encoder(types: tuple[str, ...]):
    """An encoder for ``types``: direct for basic types and arrays of static tuples of them."""
    plan = []
    for kind in types:
        element = kind[:-2] if kind.endswith("[]") else None
        parts = _static_parts(element if element else kind)
        if parts is None:
            fallback = TupleEncoder(encoders=[registry.get_encoder(t) for t in types])
            return lambda args: fallback(tuple(args))
        plan.append((element is not None, tuple(_word_fn(p) for p in parts)))
    head_size = 32 * sum(1 if dynamic else len(words) for dynamic, words in plan)

    def encode_fast(args) -> bytes:
        heads, tails = [], []
        offset = head_size
        for (dynamic, words), value in zip(plan, args):
            if not dynamic:
                if len(words) == 1:
                    heads.append(words[0](value))
                else:
                    heads.extend(f(v) for f, v in zip(words, value))
                continue
            heads.append(offset.to_bytes(32, "big"))
            tails.append(len(value).to_bytes(32, "big"))
            for item in value:
                if len(words) == 1:
                    tails.append(words[0](item))
                else:
                    tails.extend(f(v) for f, v in zip(words, item))
            offset += 32 * (1 + len(words) * len(value))
        return b"".join(heads) + b"".join(tails)

    return encode_fast


_INT_ARRAY = re.compile(r"^(uint\d*|int\d*)\[\]$")


@functools.cache
def _decoder(types: tuple[str, ...]):
    """A decoder for ``types``: direct when each is static and basic (or a tuple of them) or an
    array of integers (the lens' reads); :func:`_abi_decoder` otherwise."""
    plan = [("array", kind[:-2]) if _INT_ARRAY.match(kind) else ("static", _static_parts(kind)) for kind in types]
    if any(parts is None for _, parts in plan):
        return _abi_decoder(types)
    steps = []
    for shape, parts in plan:
        if shape == "array":
            steps.append((True, _unword_at(parts), 32))
        else:
            steps.append((False, tuple(_unword_at(p) for p in parts), 32 * len(parts)))

    def decode_fast(data: bytes) -> tuple:
        out, at = [], 0
        for array, read, size in steps:
            if array:  # head: the offset of (length, elements...)
                start = int.from_bytes(data[at : at + 32], "big")
                count = int.from_bytes(data[start : start + 32], "big")
                out.append([read(data, start + 32 * k) for k in range(1, count + 1)])
            elif len(read) == 1:
                out.append(read[0](data, at))
            else:
                out.append(tuple(f(data, at + 32 * k) for k, f in enumerate(read)))
            at += size
        return tuple(out)

    return decode_fast


def _components(inner: str) -> list[str]:
    """The top-level components of a tuple type's inside (``"a,(b,c)[],d"`` -> 3 types)."""
    parts, depth, start = [], 0, 0
    for k, char in enumerate(inner):
        if char == "(":
            depth += 1
        elif char == ")":
            depth -= 1
        elif char == "," and depth == 0:
            parts.append(inner[start:k])
            start = k + 1
    return [*parts, inner[start:]] if inner else parts


def _need(data: bytes, end: int) -> None:
    if end > len(data):
        raise InsufficientDataBytes(f"Tried to read up to byte {end}, only got {len(data)} bytes.")


def _sequence(items: list):
    """Decodes consecutive ABI values (a tuple's components, a sized array's elements) starting
    at ``start``; dynamic ones are reached by their offset from ``start``. Returns a tuple."""
    head = 32 * sum(1 if dynamic else words for _, dynamic, words in items)

    def read(data: bytes, start: int) -> tuple:
        _need(data, start + head)
        out, at = [], start
        for fn, dynamic, words in items:
            if dynamic:
                out.append(fn(data, start + int.from_bytes(data[at : at + 32], "big")))
                at += 32
            else:
                out.append(fn(data, at))
                at += 32 * words
        return tuple(out)

    return read


@functools.cache
def _value_decoder(kind: str) -> tuple:
    """``(fn, dynamic, head words)`` for one ABI type: ``fn(data, at)`` decodes the value whose
    encoding starts at ``at`` (its tail, for a dynamic type) as eth_abi does (arrays and
    tuples as tuples, addresses lowercase, strings as str, bytes as bytes)."""
    if kind.endswith("]"):
        cut = kind.rindex("[")
        element, size = kind[:cut], kind[cut + 1 : -1]
        fn, dynamic, words = _value_decoder(element)
        if size:
            items = [(fn, dynamic, words)] * int(size)
            return _sequence(items), dynamic, (1 if dynamic else words * int(size))

        def array(data: bytes, at: int) -> tuple:
            _need(data, at + 32)
            count = int.from_bytes(data[at : at + 32], "big")
            if dynamic:
                return _sequence([(fn, True, 1)] * count)(data, at + 32)
            _need(data, at + 32 + 32 * words * count)
            return tuple(fn(data, at + 32 + 32 * words * k) for k in range(count))

        return array, True, 1
    if kind.startswith("("):
        items = [_value_decoder(c) for c in _components(kind[1:-1])]
        dynamic = any(d for _, d, _ in items)
        return _sequence(items), dynamic, (1 if dynamic else sum(w for _, _, w in items))
    if kind in ("string", "bytes"):

        def byte_string(data: bytes, at: int):
            _need(data, at + 32)
            length = int.from_bytes(data[at : at + 32], "big")
            _need(data, at + 32 + length)
            raw = data[at + 32 : at + 32 + length]
            return raw.decode("utf-8") if kind == "string" else raw

        return byte_string, True, 1
    if kind.startswith("bytes"):
        size = int(kind[len("bytes") :])
        return (lambda data, at: data[at : at + size]), False, 1
    if _BASIC.match(kind):
        read = _unword_at(kind)
        if kind == "bool":

            def boolean(data: bytes, at: int) -> bool:
                word = data[at : at + 32]
                if word[:31] != b"\x00" * 31 or word[31] > 1:
                    raise NonEmptyPaddingBytes(f"Boolean must be either 0x0 or 0x1.  Got: {word!r}")
                return word[31] == 1

            return boolean, False, 1
        return read, False, 1
    raise ValueError(f"unsupported ABI type {kind!r}")


@functools.cache
def _abi_decoder(types: tuple[str, ...]):
    """A decoder for ``types`` equal to ``eth_abi.decode(types, data)`` on well-formed data
    (short data raises eth_abi's ``InsufficientDataBytes`` too), built once per signature."""
    try:
        read = _sequence([_value_decoder(t) for t in types])
    except ValueError:  # a type not decoded here: eth_abi's coders, built once
        fallback = TupleDecoder(decoders=[registry.get_decoder(t, strict=False) for t in types])
        return lambda data: fallback(ContextFramesBytesIO(data))
    return lambda data: read(data, 0)


def _to_abi(value):
    """Contract objects become their address; lists and tuples are converted element-wise."""
    if isinstance(value, RevmContract):
        return value.address
    if isinstance(value, list):
        return [_to_abi(v) for v in value]
    if isinstance(value, tuple):
        return tuple(_to_abi(v) for v in value)
    return value


_PLAIN = (int, str, bool, bytes)  # arguments _to_abi returns as they are


def _args_to_abi(args: tuple) -> tuple:
    """``_to_abi(args)``, without the walk when every argument is a plain value (most calls)."""
    for arg in args:
        if type(arg) not in _PLAIN:
            return _to_abi(args)
    return args


@dataclass(frozen=True)
class _Function:
    name: str
    inputs: tuple[str, ...]
    outputs: tuple[str, ...]
    selector: bytes
    static: bool
    shape: object = None  # names decoded struct outputs (None: no struct among them)


def _shape_all(shapers: list):
    """Names the struct outputs of a call (``shapers``: one :func:`_shaper` per output)."""
    return lambda values: tuple(f(v) if f else v for f, v in zip(shapers, values))


def _shaper(entry: dict):
    """A function giving an ABI output's decoded value its struct field names (as ape does:
    ``view.assets[0].balance``), or ``None`` for a value with no struct in it."""
    kind = entry["type"]
    if not kind.startswith("tuple"):
        return None
    fields = [_shaper(c) for c in entry["components"]]
    name = re.split(r"[ .]", entry.get("internalType") or "struct")[-1].strip("[]")
    struct = namedtuple(
        name if name.isidentifier() else "struct", [c["name"] for c in entry["components"]], rename=True
    )

    def one(value):
        return struct(*(f(v) if f else v for f, v in zip(fields, value)))

    if kind == "tuple":
        return one
    return lambda values: [one(v) for v in values]  # tuple[] (a DynArray of structs)


class RevmEnv:
    """One revm instance with a block clock, a default sender and ``prank``/``anchor`` like ``boa.env``."""

    def __init__(self):
        self.evm = EVM(spec_id="CANCUN")
        self.timestamp = START_TIMESTAMP
        self.block_number = 1
        self._set_block()
        self.eoa = self.generate_address("eoa")
        self._senders = [self.eoa]
        self._events: dict[bytes, tuple] = {}  # topic0 -> (event type, indexed types, data types, names)
        self._registered: dict[int, list] = {}  # id -> ABI whose events are in ``_events``
        self._logs_of = None  # the ExecutionResult of the last state-changing call

    # ---------------------------------------------------------------- chain

    def _set_block(self) -> None:
        self.evm.set_block_env(BlockEnv(number=self.block_number, timestamp=self.timestamp))

    def time_travel(self, seconds: int = 0, blocks: int | None = None) -> None:
        self.timestamp += seconds
        self.block_number += blocks if blocks is not None else max(1, seconds // 12)
        self._set_block()

    @staticmethod
    def generate_address(label: str = "") -> str:
        return to_checksum_address(keccak(text=f"ballast fuzz account {label}")[-20:])

    @contextlib.contextmanager
    def prank(self, sender: str):
        self._senders.append(str(sender))
        try:
            yield
        finally:
            self._senders.pop()

    @contextlib.contextmanager
    def anchor(self):
        """Everything done inside is undone on exit (state, clock)."""
        checkpoint = self.evm.snapshot()
        clock = (self.timestamp, self.block_number)
        try:
            yield
        finally:
            self.evm.revert(checkpoint)
            self.timestamp, self.block_number = clock
            self._set_block()

    @property
    def sender(self) -> str:
        return self._senders[-1]

    # ---------------------------------------------------------------- contracts

    def deploy(self, bytecode: bytes, abi: list[dict], *args) -> RevmContract:
        constructor = next((e for e in abi if e["type"] == "constructor"), {"inputs": []})
        data = bytecode + encode([abi_type(i) for i in constructor["inputs"]], _to_abi(list(args)))
        try:
            address = self.evm.deploy(self.sender, data)
        except RuntimeError as err:
            raise RevmError(_reason_of(str(err)), str(err)) from None
        return self.at(address, abi)

    def at(self, address: str, abi: list[dict]) -> RevmContract:
        """The contract at ``address`` with ``abi`` (its events decoded from now on)."""
        self._register_events(abi)
        return RevmContract(self, to_checksum_address(address), abi)

    def _register_events(self, abi: list[dict]) -> None:
        if self._registered.get(id(abi)) is abi:
            return  # this ABI's events are known (every pair and pool of an example shares one)
        self._registered[id(abi)] = abi
        for entry in abi:
            if entry["type"] != "event":
                continue
            types = [abi_type(i) for i in entry["inputs"]]
            topic0 = keccak(text=f"{entry['name']}({','.join(types)})")
            if topic0 not in self._events:
                # Solidity events may leave a parameter unnamed (Uniswap V2's PairCreated) or name it
                # with a Python keyword (ERC-20's ``from``): those fields become ``_<k>``.
                fields = [i["name"] for i in entry["inputs"]]
                event_type = namedtuple(entry["name"], ["address", *fields], rename=True)
                indexed = [(k, t) for k, (t, i) in enumerate(zip(types, entry["inputs"])) if i["indexed"]]
                unindexed = [(k, t) for k, (t, i) in enumerate(zip(types, entry["inputs"])) if not i["indexed"]]
                self._events[topic0] = (event_type, indexed, unindexed)

    def last_logs(self) -> list:
        """The decoded events (of every known contract) emitted by the last state-changing call."""
        result = self._logs_of
        decoded = []
        for log in result.logs if result is not None else []:
            topics = [_as_bytes(t) for t in log.topics]
            known = self._events.get(topics[0]) if topics else None
            if known is None:
                continue
            event_type, indexed, unindexed = known
            values: dict[int, object] = {}
            for (k, t), topic in zip(indexed, topics[1:]):
                values[k] = _abi_decoder((t,))(topic)[0]
            for (k, _), value in zip(unindexed, _abi_decoder(tuple(t for _, t in unindexed))(_log_data(log))):
                values[k] = value
            decoded.append(event_type(_checksum(log.address), *(values[k] for k in sorted(values))))
        return decoded

    def call(self, to: str, fn: _Function, args: tuple):
        data = fn.selector + _encoder(fn.inputs)(_args_to_abi(args))
        try:
            out = self.evm.message_call(self.sender, to, data, is_static=fn.static)
        except RuntimeError as err:
            raise RevmError(_reason_of(str(err)), str(err)) from None
        if not fn.static:
            self._logs_of = self.evm.result  # decoded only if asked for (most calls never are)
        values = _decoder(fn.outputs)(bytes(out)) if fn.outputs else ()
        if fn.shape is not None:
            values = fn.shape(values)
        return values[0] if len(values) == 1 else (values if values else None)


# Function tables by ABI (the ABI kept alive beside its table, so that its id stays its own):
# every pair, pool and token of every example is wrapped, and parsing an ABI costs a keccak
# per function.
_FUNCTION_TABLES: dict[int, tuple[list, dict]] = {}


def _functions_of(abi: list[dict]) -> dict[str, dict[int, _Function]]:
    """``abi``'s functions by name and argument count (overloads), parsed once per ABI object."""
    cached = _FUNCTION_TABLES.get(id(abi))
    if cached is not None and cached[0] is abi:
        return cached[1]
    functions: dict[str, dict[int, _Function]] = {}
    for entry in abi:
        if entry["type"] != "function":
            continue
        inputs = [abi_type(i) for i in entry["inputs"]]
        shapers = [_shaper(o) for o in entry["outputs"]]
        fn = _Function(
            entry["name"],
            tuple(inputs),
            tuple(abi_type(o) for o in entry["outputs"]),
            keccak(text=f"{entry['name']}({','.join(inputs)})")[:4],
            entry["stateMutability"] in ("view", "pure"),
            _shape_all(shapers) if any(shapers) else None,
        )
        functions.setdefault(entry["name"], {})[len(inputs)] = fn
    _FUNCTION_TABLES[id(abi)] = (abi, functions)
    return functions


class RevmContract:
    """A deployed contract: ``contract.fn(*args)`` calls ``fn`` (static for views) as the current sender."""

    def __init__(self, env: RevmEnv, address: str, abi: list[dict]):
        self.env = env
        self.address = address
        self._functions = _functions_of(abi)

    def __getattr__(self, name: str):
        overloads = self.__dict__.get("_functions", {}).get(name)
        if overloads is None:
            raise AttributeError(name)

        def method(*args, sender=None):
            fn = overloads.get(len(args))
            if fn is None:
                raise TypeError(f"{name}: no overload takes {len(args)} arguments")
            if sender is None:
                return self.env.call(self.address, fn, args)
            # ``sender=`` as ape and titanoboa take it, so that code written for them
            # (``ballast.chain.market``'s arbitrage) drives these contracts too.
            with self.env.prank(str(getattr(sender, "address", sender))):
                return self.env.call(self.address, fn, args)

        self.__dict__[name] = method  # later lookups skip __getattr__ (every call is on the hot path)
        return method

    def get_logs(self, strict: bool = False) -> list:
        """Decoded events of the last state-changing call (every contract's), like titanoboa's."""
        return self.env.last_logs()

    def __repr__(self) -> str:
        return f"<RevmContract {self.address}>"


def blueprint_deploy_code(initcode: bytes) -> bytes:
    """Deployment code whose runtime code is the EIP-5202 blueprint of ``initcode``: the
    preamble ``0xFE71 00`` (invalid opcode, blueprint version 0, no data) then the initcode."""
    blueprint = b"\xfe\x71\x00" + initcode
    # PUSH2 len, RETURNDATASIZE, DUP2, PUSH1 10, RETURNDATASIZE, CODECOPY, RETURN: copy and return it.
    return b"\x61" + len(blueprint).to_bytes(2, "big") + bytes.fromhex("3d81600a3d39f3") + blueprint


class RevmDeployer:
    """``deploy(*args)`` for one compiled contract (titanoboa's ``VyperDeployer`` shape)."""

    def __init__(self, env: RevmEnv, compiler_data):
        from vyper.compiler.output import build_abi_output

        self.env = env
        self.bytecode = compiler_data.bytecode
        self.abi = build_abi_output(compiler_data)

    def deploy(self, *args) -> RevmContract:
        return self.env.deploy(self.bytecode, self.abi, *args)

    def deploy_as_blueprint(self) -> RevmContract:
        """An EIP-5202 blueprint of this contract's initcode (for ``create_from_blueprint``)."""
        return self.env.deploy(blueprint_deploy_code(self.bytecode), [])

    def at(self, address: str) -> RevmContract:
        return self.env.at(address, self.abi)
