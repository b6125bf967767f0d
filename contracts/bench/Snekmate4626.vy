# pragma version 0.4.3
"""
@title Snekmate ERC-4626 (benchmark reference)
@custom:contract-name Snekmate4626
@notice The snekmate `erc4626` extension, initialised and exported as is,
        over one ERC-20. `ballast.bench` measures its `deposit` and `redeem`
        as the single-asset reference for the vault's entry and exit gas.
        Benchmark use only.
"""

from ethereum.ercs import IERC20
from snekmate.extensions import erc4626

initializes: erc4626

exports: erc4626.__interface__


@deploy
def __init__(name_: String[25], symbol_: String[5], asset_: IERC20):
    """
    @notice Deploy the vault over `asset_` with a zero decimals offset.
    @param name_ The share token name.
    @param symbol_ The share token symbol.
    @param asset_ The underlying ERC-20.
    """
    erc4626.__init__(name_, symbol_, asset_, 0, name_, "1")
