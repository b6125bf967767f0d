"""The fuzzer's ABI coders (``ballast.fuzz.revm_env``) against eth_abi: the same bytes encoded,
the same values decoded (arrays of structs, strings and bytes among them)."""

from __future__ import annotations

import pytest
from eth_abi import decode, encode
from eth_abi.exceptions import InsufficientDataBytes
from hypothesis import given, settings
from hypothesis import strategies as st

from ballast.fuzz.revm_env import _abi_decoder, _decoder, _encoder

uint = st.integers(0, 2**256 - 1)
int24 = st.integers(-(2**23), 2**23 - 1)
address = st.binary(min_size=20, max_size=20).map(lambda b: "0x" + b.hex())
asset = st.tuples(address, uint, uint, uint, uint, uint)
wide = st.tuples(address, st.text(max_size=40), *[uint] * 8)

CASES = {
    # the vault's raw_state, snapshot and needs_rebalance outputs, and event-like signatures
    ("((address,uint256,uint256,uint256,uint256,uint256)[],uint256,uint256,uint256,uint256,uint256)",): st.tuples(
        st.tuples(st.lists(asset, max_size=8).map(tuple), uint, uint, uint, uint, uint)
    ),
    (
        "((address,string,uint256,uint256,uint256,uint256,uint256,uint256,uint256,uint256)[],uint256,bool,string)",
    ): st.tuples(st.tuples(st.lists(wide, max_size=4).map(tuple), uint, st.booleans(), st.text(max_size=70))),
    ("bool", "string"): st.tuples(st.booleans(), st.text(max_size=100)),
    ("bytes", "int24", "bytes4", "uint8[3]"): st.tuples(
        st.binary(max_size=70), int24, st.binary(min_size=4, max_size=4), st.tuples(*[st.integers(0, 255)] * 3)
    ),
    ("string[]", "(uint256,string)[2]"): st.tuples(
        st.lists(st.text(max_size=5), max_size=3).map(tuple), st.tuples(*[st.tuples(uint, st.text(max_size=40))] * 2)
    ),
    ("uint256", "uint256[]", "address"): st.tuples(uint, st.lists(uint, max_size=5).map(tuple), address),
}


@pytest.mark.parametrize("types", list(CASES), ids=[",".join(t)[:40] for t in CASES])
@settings(max_examples=60, deadline=None)
@given(data=st.data())
def test_abi_decoder_equals_eth_abi(types, data):
    values = data.draw(CASES[types])
    encoded = encode(list(types), values)
    assert repr(_abi_decoder(types)(encoded)) == repr(decode(list(types), encoded))


@settings(max_examples=200, deadline=None)
@given(
    n=st.integers(0, 2**256 - 1),
    k=int24,
    flag=st.booleans(),
    who=address,
    items=st.lists(st.tuples(address, uint, uint), max_size=5),
)
def test_fast_coders_equal_eth_abi(n, k, flag, who, items):
    types = ("uint256", "int24", "bool", "address", "(address,uint256,uint256)[]")
    args = (n, k, flag, who, items)
    assert _encoder(types)(args) == encode(list(types), args)
    out = ("uint256", "int24", "bool", "address", "(address,uint256,int24)")
    encoded = encode(list(out), (n, k, flag, who, (who, n, k)))
    assert _decoder(out)(encoded) == decode(list(out), encoded)
    array = encode(["uint256", "uint256[]"], (n, [n, k % 7]))
    assert _decoder(("uint256", "uint256[]"))(array) == (n, [n, k % 7])  # a list, as before


def test_short_data_raises_as_eth_abi():
    for types in [("bool", "string"), ("(uint256,string)",)]:
        with pytest.raises(InsufficientDataBytes):
            _abi_decoder(types)(b"")
