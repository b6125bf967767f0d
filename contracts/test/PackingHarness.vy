# pragma version 0.4.3
"""
@title Packing harness
@notice Exposes `contracts/modules/packing.vy`'s helpers for the round-trip test.
"""

from contracts.modules import packing


@pure
@external
def round_trip(word: uint256, at: uint256, bits: uint256, field: uint256) -> (uint256, uint256):
    """
    @notice `word` with `field` packed at `at`, and that field unpacked again.
    """
    packed: uint256 = packing._pack(word, at, bits, field)
    return packed, packing._unpack(packed, at, bits)
