# pragma version 0.4.3
"""
@title Ballast checks
@notice `_require(ok, reason)` is `assert ok, reason` as one shared internal
        function: an inline assert with a reason costs about 100 bytes of
        runtime code, a call about 50. The vault is near the EIP-170 limit,
        so the governance paths use it, where a few dozen gas do not matter;
        the hot paths (entries, exits, rebalance, pricing) keep inline asserts.
"""


@internal
@pure
def _require(ok: bool, reason: String[32]):
    assert ok, reason
