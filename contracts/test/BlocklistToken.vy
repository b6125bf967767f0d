# pragma version 0.4.3
"""
@title Blocklist ERC-20 (test double)
@custom:contract-name BlocklistToken
@notice A plain ERC-20 whose transfers revert to or from a blocked account
        (USDC's blocklist): a depositor blocked after asking must not hold
        up anyone else. Minting and blocking are unrestricted. Test use only.
"""

from ethereum.ercs import IERC20

implements: IERC20


event BlockedSet:
    account: indexed(address)
    blocked: bool


name: public(String[25])
symbol: public(String[5])
decimals: public(uint8)
blocked: public(HashMap[address, bool])
totalSupply: public(uint256)
balanceOf: public(HashMap[address, uint256])
allowance: public(HashMap[address, HashMap[address, uint256]])


@deploy
def __init__(name_: String[25], symbol_: String[5], decimals_: uint8):
    """
    @notice Deploy the token with zero supply.
    @param name_ The token name.
    @param symbol_ The token symbol.
    @param decimals_ The token decimals.
    """
    self.name = name_
    self.symbol = symbol_
    self.decimals = decimals_


@external
def transfer(to: address, amount: uint256) -> bool:
    """
    @notice Move `amount` from the caller; `to` receives it.
    @param to The receiver.
    @param amount The amount debited from the caller.
    @return bool Always True (reverts on failure).
    """
    self._transfer(msg.sender, to, amount)
    return True


@external
def transferFrom(owner: address, to: address, amount: uint256) -> bool:
    """
    @notice Move `amount` from `owner` using the caller's allowance, `to`
            receives it. A max allowance is not decreased.
    @param owner The account debited.
    @param to The receiver.
    @param amount The amount debited from `owner`.
    @return bool Always True (reverts on failure).
    """
    allowed: uint256 = self.allowance[owner][msg.sender]
    if allowed != max_value(uint256):
        assert allowed >= amount, "token: insufficient allowance"
        self.allowance[owner][msg.sender] = allowed - amount
    self._transfer(owner, to, amount)
    return True


@external
def approve(spender: address, amount: uint256) -> bool:
    """
    @notice Set the caller's allowance for `spender` to `amount`.
    @param spender The spender.
    @param amount The new allowance.
    @return bool Always True.
    """
    self.allowance[msg.sender][spender] = amount
    log IERC20.Approval(owner=msg.sender, spender=spender, value=amount)
    return True


@external
def mint(to: address, amount: uint256):
    """
    @notice Mint `amount` tokens to `to` (no fee). Anyone may call this.
    @param to The receiver of the new tokens.
    @param amount The amount to mint.
    """
    assert to != empty(address), "token: zero address"
    self.totalSupply += amount
    self.balanceOf[to] += amount
    log IERC20.Transfer(sender=empty(address), receiver=to, value=amount)


@external
def set_blocked(account: address, flag: bool):
    """
    @notice Blocks (or unblocks) every transfer to or from `account`.
    """
    self.blocked[account] = flag
    log BlockedSet(account=account, blocked=flag)


@internal
def _transfer(owner: address, to: address, amount: uint256):
    assert to != empty(address), "token: zero address"
    balance: uint256 = self.balanceOf[owner]
    assert balance >= amount, "token: insufficient balance"
    assert not self.blocked[owner] and not self.blocked[to], "token: blocked"
    self.balanceOf[owner] = balance - amount
    self.balanceOf[to] += amount
    log IERC20.Transfer(sender=owner, receiver=to, value=amount)
