# pragma version 0.4.3
"""
@title Settable second-source guard (test double)
@custom:contract-name MockEntryGuard
@notice Answers `AssetEntry`'s `agrees(vault, asset)` with a settable flag.
        Test use only.
"""

agreeing: public(bool)


event AgreeingSet:
    agreeing: bool


@deploy
def __init__():
    self.agreeing = True


@external
def set_agreeing(flag: bool):
    """
    @notice Sets the answer of `agrees`.
    """
    self.agreeing = flag
    log AgreeingSet(agreeing=flag)


@view
@external
def agrees(vault: address, asset: address) -> bool:
    """
    @notice Whether the two price sources agree (here: the flag).
    """
    return self.agreeing
