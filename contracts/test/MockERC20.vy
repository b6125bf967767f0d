# pragma version 0.4.3
"""
@title Mock ERC-20 (test double)
@custom:contract-name MockERC20
@notice A snekmate ERC-20 with an UNRESTRICTED `mint`. Test use only.
@dev The snekmate minter-gated `mint`, `set_minter` and the ownership
     functions are deliberately not exported.
"""

from snekmate.auth import ownable
from snekmate.tokens import erc20

initializes: ownable
initializes: erc20[ownable := ownable]

exports: (
    erc20.transfer,
    erc20.transferFrom,
    erc20.approve,
    erc20.balanceOf,
    erc20.allowance,
    erc20.totalSupply,
    erc20.name,
    erc20.symbol,
    erc20.decimals,
    erc20.burn,
    erc20.burn_from,
    erc20.permit,
    erc20.nonces,
    erc20.DOMAIN_SEPARATOR,
    erc20.eip712Domain,
    erc20.owner,
)


@deploy
def __init__(name_: String[25], symbol_: String[5], decimals_: uint8):
    """
    @notice Deploy the token with zero supply.
    @param name_ The token name.
    @param symbol_ The token symbol.
    @param decimals_ The token decimals.
    """
    ownable.__init__()
    erc20.__init__(name_, symbol_, decimals_, name_, "1")


@external
def mint(to: address, amount: uint256):
    """
    @notice Mint `amount` tokens to `to`. Anyone may call this.
    @param to The receiver of the new tokens.
    @param amount The amount to mint.
    """
    erc20._mint(to, amount)
