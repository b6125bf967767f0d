"""Reading many calls as one block's state."""

from __future__ import annotations


class AtBlock:
    """An ape contract instance whose every call reads the chain at one block (``block_id``).

    A market snapshot is dozens of calls; pinned, they all see the block the vault's state was
    read at, however many blocks are mined meanwhile. Attributes that are not calls (``address``,
    ``contract_type``, ``provider``) pass through.
    """

    def __init__(self, contract, block: int):
        self._contract, self.block = contract, block

    def __getattr__(self, name: str):
        attr = getattr(self._contract, name)
        if callable(attr) and hasattr(attr, "abis"):  # a contract method or call handler
            return lambda *args, **kwargs: attr(*args, block_id=self.block, **kwargs)
        return attr


def at_block(contract, block: int | None):
    """``contract`` pinned to ``block`` (:class:`AtBlock`), or as it is when ``block`` is None."""
    return contract if block is None else AtBlock(contract, block)
