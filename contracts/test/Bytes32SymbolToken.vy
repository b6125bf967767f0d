# pragma version 0.4.3
"""
@title Bytes32-symbol token (test double)
@custom:contract-name Bytes32SymbolToken
@notice `symbol()` returns bytes32, as MKR's does: readers expecting an ABI
        string must not revert on it.
"""


@view
@external
def symbol() -> bytes32:
    return convert(b"MKR", bytes32)
