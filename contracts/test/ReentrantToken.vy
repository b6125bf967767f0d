# pragma version 0.4.3
"""
@title Reentrant ERC-20 (test double)
@custom:contract-name ReentrantToken
@notice An 18-decimals ERC-20 with a one-shot hook. After `arm`, the next
        `transfer` or `transferFrom` first disarms, then calls
        `target` with `data` (a revert propagates, so a reentrancy lock in
        `target` surfaces as a revert of the outer call), then transfers.
        After `arm_static`, the next transfer instead STATICCALLs `target`
        without reverting and records `last_static_ok` and
        `last_static_result` (return or revert data), so a test can check
        whether a read-only reentrant view was blocked. Test use only.
"""

from ethereum.ercs import IERC20

implements: IERC20


# @dev Hook modes.
_MODE_NONE: constant(uint8) = 0
_MODE_CALL: constant(uint8) = 1
_MODE_STATIC: constant(uint8) = 2

MAX_DATA: constant(uint256) = 1024


event Armed:
    target: indexed(address)
    is_static: bool


event Disarmed:
    pass


event HookCalled:
    target: indexed(address)
    is_static: bool
    success: bool


name: public(String[25])
symbol: public(String[5])
decimals: public(constant(uint8)) = 18
totalSupply: public(uint256)
balanceOf: public(HashMap[address, uint256])
allowance: public(HashMap[address, HashMap[address, uint256]])

mode: public(uint8)
target: public(address)
data: public(Bytes[MAX_DATA])
last_static_ok: public(bool)
last_static_result: public(Bytes[MAX_DATA])


@deploy
def __init__(name_: String[25], symbol_: String[5]):
    """
    @notice Deploy the (18 decimals) token with zero supply, disarmed.
    @param name_ The token name.
    @param symbol_ The token symbol.
    """
    self.name = name_
    self.symbol = symbol_


@external
def arm(target: address, data: Bytes[MAX_DATA]):
    """
    @notice Make the next transfer call `target` with `data` first
            (reverts propagate). Anyone may call this.
    @param target The contract to reenter.
    @param data The calldata of the reentrant call.
    """
    self._arm(target, data, _MODE_CALL)


@external
def arm_static(target: address, data: Bytes[MAX_DATA]):
    """
    @notice Make the next transfer STATICCALL `target` with `data` first
            and record the outcome instead of reverting.
    @param target The contract whose view to reenter.
    @param data The calldata of the static call.
    """
    self._arm(target, data, _MODE_STATIC)


@external
def disarm():
    """
    @notice Cancel any pending hook.
    """
    self.mode = _MODE_NONE
    log Disarmed()


@external
def transfer(to: address, amount: uint256) -> bool:
    """
    @notice Run the hook if armed, then move `amount` from the caller to `to`.
    @param to The receiver.
    @param amount The amount to move.
    @return bool Always True (reverts on failure).
    """
    self._hook()
    self._transfer(msg.sender, to, amount)
    return True


@external
def transferFrom(owner: address, to: address, amount: uint256) -> bool:
    """
    @notice Run the hook if armed, then move `amount` from `owner` to `to`
            using the caller's allowance (a max allowance is not decreased).
    @param owner The account debited.
    @param to The receiver.
    @param amount The amount to move.
    @return bool Always True (reverts on failure).
    """
    self._hook()
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
    @notice Mint `amount` tokens to `to` (no hook). Anyone may call this.
    @param to The receiver of the new tokens.
    @param amount The amount to mint.
    """
    assert to != empty(address), "token: zero address"
    self.totalSupply += amount
    self.balanceOf[to] += amount
    log IERC20.Transfer(sender=empty(address), receiver=to, value=amount)


@internal
def _arm(target: address, data: Bytes[MAX_DATA], mode: uint8):
    assert target != empty(address), "token: zero address"
    self.target = target
    self.data = data
    self.mode = mode
    log Armed(target=target, is_static=mode == _MODE_STATIC)


@internal
def _hook():
    mode: uint8 = self.mode
    if mode == _MODE_NONE:
        return
    # Disarm first so the reentrant call's own transfers do not recurse.
    self.mode = _MODE_NONE
    target: address = self.target
    if mode == _MODE_CALL:
        raw_call(target, self.data)
        log HookCalled(target=target, is_static=False, success=True)
    else:
        ok: bool = False
        result: Bytes[MAX_DATA] = b""
        ok, result = raw_call(
            target, self.data, max_outsize=MAX_DATA, is_static_call=True, revert_on_failure=False
        )
        self.last_static_ok = ok
        self.last_static_result = result
        log HookCalled(target=target, is_static=True, success=ok)


@internal
def _transfer(owner: address, to: address, amount: uint256):
    assert to != empty(address), "token: zero address"
    balance: uint256 = self.balanceOf[owner]
    assert balance >= amount, "token: insufficient balance"
    self.balanceOf[owner] = balance - amount
    self.balanceOf[to] += amount
    log IERC20.Transfer(sender=owner, receiver=to, value=amount)
