# pragma version 0.4.3
"""
@title Long-symbol token (test double)
@custom:contract-name LongSymbolToken
@notice `symbol()` returns an ABI string longer than 32 bytes.
"""


@view
@external
def symbol() -> String[64]:
    return "A-SYMBOL-LONGER-THAN-THIRTY-TWO-BYTES"
