# pragma version 0.4.3
"""
@title USDT-like ERC-20 (test double)
@custom:contract-name NoReturnToken
@notice `transfer`, `transferFrom` and `approve` return NOTHING, like
        Tether's USDT. Callers must use `default_return_value=True`
        (or a safe-transfer wrapper). Unrestricted `mint`. Test use only.
"""


event Transfer:
    sender: indexed(address)
    receiver: indexed(address)
    value: uint256


event Approval:
    owner: indexed(address)
    spender: indexed(address)
    value: uint256


name: public(String[25])
symbol: public(String[5])
decimals: public(uint8)
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
def transfer(to: address, amount: uint256):
    """
    @notice Move `amount` from the caller to `to`. Returns nothing.
    @param to The receiver.
    @param amount The amount to move.
    """
    self._transfer(msg.sender, to, amount)


@external
def transferFrom(owner: address, to: address, amount: uint256):
    """
    @notice Move `amount` from `owner` to `to` using the caller's
            allowance. Returns nothing. A max allowance is not decreased.
    @param owner The account debited.
    @param to The receiver.
    @param amount The amount to move.
    """
    allowed: uint256 = self.allowance[owner][msg.sender]
    if allowed != max_value(uint256):
        assert allowed >= amount, "token: insufficient allowance"
        self.allowance[owner][msg.sender] = allowed - amount
    self._transfer(owner, to, amount)


@external
def approve(spender: address, amount: uint256):
    """
    @notice Set the caller's allowance for `spender` to `amount`.
            Returns nothing.
    @param spender The spender.
    @param amount The new allowance.
    """
    self.allowance[msg.sender][spender] = amount
    log Approval(owner=msg.sender, spender=spender, value=amount)


@external
def mint(to: address, amount: uint256):
    """
    @notice Mint `amount` tokens to `to`. Anyone may call this.
    @param to The receiver of the new tokens.
    @param amount The amount to mint.
    """
    assert to != empty(address), "token: zero address"
    self.totalSupply += amount
    self.balanceOf[to] += amount
    log Transfer(sender=empty(address), receiver=to, value=amount)


@internal
def _transfer(owner: address, to: address, amount: uint256):
    assert to != empty(address), "token: zero address"
    balance: uint256 = self.balanceOf[owner]
    assert balance >= amount, "token: insufficient balance"
    self.balanceOf[owner] = balance - amount
    self.balanceOf[to] += amount
    log Transfer(sender=owner, receiver=to, value=amount)
