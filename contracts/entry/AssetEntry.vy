# pragma version 0.4.3
# pragma optimize gas

"""
@title Ballast asset entry (ERC-7575 entry point of one basket asset)
@custom:contract-name AssetEntry
@notice An ERC-4626-shaped contract for one asset of a Ballast vault,
        whose `share()` is the vault (ERC-7575; the vault's `vault(asset)`
        points back here). Wallets and integrators deposit the asset with
        standard calls:
        - `deposit` is the instant path (`Vault.deposit`), open only while
          it is safe: the vault open, every basket feed updated within
          `max_age` and the optional second-source guard agreeing. Outside
          that, `maxDeposit` is 0 and `deposit` reverts;
        - `requestDeposit` is the asynchronous path (the asset's
          `DepositQueue`), always open;
        - `enter` picks one of the two.
        Redeeming is not offered: the vault's exit is in kind, of every
        asset, and reads no price (`Vault.exit`). Paying out one asset would
        price the exit with the oracle, so that a lagging feed could be
        exploited on the way out and a dead feed could block it.
        `maxWithdraw`/`maxRedeem` are 0 and `withdraw`/`redeem` revert with
        that reason; `mint` is not offered either (the vault prices by
        amount in), so `maxMint` is 0.
@dev The entry holds no funds between calls: it pulls the caller's
     tokens, measures what arrived (fee-on-transfer tokens are refused)
     and passes them on in the same call.
"""

from ethereum.ercs import IERC20
from interfaces import IVault
from snekmate.auth import ownable
from contracts.modules import constants
from contracts.modules import packing

initializes: ownable

exports: (ownable.owner, ownable.transfer_ownership)


interface IDepositQueue:
    def requestDeposit(assets: uint256, controller: address, owner: address) -> uint256: nonpayable
    def asset() -> address: view
    def share() -> address: view


interface ILens:
    def preview_deposit(vault: address, asset: address, amount: uint256) -> uint256: view


# @dev The hook for a second price source: a contract that says whether the
#      vault's oracle price of `asset` agrees with its other source (e.g. a
#      Uniswap V3 TWAP). None set: only freshness is checked.
interface IEntryGuard:
    def agrees(vault: address, asset: address) -> bool: view


# @dev ERC-165 ids: ERC-165, ERC-7575.
ERC165_ID: constant(bytes4) = 0x01ffc9a7
ERC7575_ID: constant(bytes4) = 0x2f0a18c5

VAULT: public(immutable(address))
ASSET: public(immutable(address))
QUEUE: public(immutable(address))
LENS: public(immutable(address))

# @dev Oldest feed update (seconds) at which the instant path stays open.
max_age: public(uint256)
# @dev The optional second-source guard (`IEntryGuard`).
guard: public(address)


# @dev ERC-4626.
event Deposit:
    sender: indexed(address)
    owner: indexed(address)
    assets: uint256
    shares: uint256


event Requested:
    sender: indexed(address)
    controller: indexed(address)
    requestId: indexed(uint256)
    assets: uint256


event MaxAgeSet:
    max_age: uint256


event GuardSet:
    guard: indexed(address)


@deploy
def __init__(queue: address, lens: address, max_age: uint256):
    """
    @notice Deploys the entry point of the queue's asset into the queue's
            vault; the deployer becomes owner (it sets `max_age` and the
            guard).
    @param queue The asset's `DepositQueue`.
    @param lens A `VaultLens`, for `previewDeposit` and `convertToShares`.
    @param max_age Oldest feed update, seconds, at which `deposit` is open.
    """
    ownable.__init__()
    VAULT = staticcall IDepositQueue(queue).share()
    ASSET = staticcall IDepositQueue(queue).asset()
    QUEUE = queue
    LENS = lens
    self._set_max_age(max_age)
    # Standing approvals: the entry holds nothing between calls, and both spenders take only
    # what the call that follows asks for; no approval write per deposit.
    assert extcall IERC20(ASSET).approve(VAULT, max_value(uint256), default_return_value=True)
    assert extcall IERC20(ASSET).approve(queue, max_value(uint256), default_return_value=True)


# ---------------------------------------------------------------- entries


@external
@nonreentrant
def deposit(assets: uint256, receiver: address) -> uint256:
    """
    @notice Deposits `assets` now through `Vault.deposit`, shares to
            `receiver`. Only while `is_safe()`; else use `requestDeposit`.
    @return The shares minted.
    """
    assert self._is_safe(), "entry: not safe, use requestDeposit"
    return self._deposit(assets, receiver)


@external
@nonreentrant
def requestDeposit(assets: uint256, controller: address, owner: address) -> uint256:
    """
    @notice Opens an asynchronous request in the asset's `DepositQueue`
            with the caller's tokens (`owner` must be the caller).
    @return The request id.
    """
    assert owner == msg.sender, "entry: owner must be caller"
    return self._request(assets, controller)


@external
@nonreentrant
def enter(assets: uint256, receiver: address) -> (uint256, uint256):
    """
    @notice Deposits instantly when safe, else opens a request that
            `receiver` controls.
    @return (shares minted, 0) or (0, request id).
    """
    if self._is_safe():
        return self._deposit(assets, receiver), 0
    return 0, self._request(assets, receiver)


@external
def mint(shares: uint256, receiver: address) -> uint256:
    """
    @notice Not offered: the vault prices a deposit by its amount in.
    """
    raise "entry: mint not supported, use deposit"


@external
def withdraw(assets: uint256, receiver: address, owner: address) -> uint256:
    """
    @notice Not offered: exits are in kind (`Vault.exit`), priced by no oracle.
    """
    raise "entry: exit in kind with Vault.exit"


@external
def redeem(shares: uint256, receiver: address, owner: address) -> uint256:
    """
    @notice Not offered: exits are in kind (`Vault.exit`), priced by no oracle.
    """
    raise "entry: exit in kind with Vault.exit"


# ---------------------------------------------------------------- owner


@external
def set_max_age(max_age: uint256):
    """
    @notice Sets the oldest feed update (seconds) at which `deposit` is open.
    """
    ownable._check_owner()
    self._set_max_age(max_age)


@external
def set_guard(guard: address):
    """
    @notice Sets the second-source guard (`IEntryGuard`; none: `empty(address)`).
    """
    ownable._check_owner()
    self.guard = guard
    log GuardSet(guard=guard)


# ---------------------------------------------------------------- views


@view
@external
def asset() -> address:
    """
    @notice The asset this entry takes (ERC-4626).
    """
    return ASSET


@view
@external
def share() -> address:
    """
    @notice The share token: the vault (ERC-7575).
    """
    return VAULT


@view
@external
def is_safe() -> bool:
    """
    @notice Whether the instant path is open: the vault neither paused nor
            shut down, every basket feed updated within `max_age`, and the
            guard (if any) agreeing.
    """
    return self._is_safe()


@view
@external
def totalAssets() -> uint256:
    """
    @notice The vault's tracked idle balance of the asset (lent amounts
            are in the sleeve, `VaultLens.lent`).
    """
    return staticcall IVault(VAULT).balances(ASSET)


@view
@external
def convertToShares(assets: uint256) -> uint256:
    """
    @notice Shares `assets` would be worth at the oracle, before the entry
            haircut (ERC-4626: no fees). Reverts on a bad price.
    """
    return self._gross_shares(assets)


@view
@external
def convertToAssets(shares: uint256) -> uint256:
    """
    @notice Assets whose oracle value equals `shares`' part of the vault,
            before the haircut (inverse of `convertToShares`, rounded down).
    """
    unit: uint256 = 10 ** convert(staticcall IERC20Detailed(ASSET).decimals(), uint256)
    per_unit: uint256 = self._gross_shares(unit)
    if per_unit == 0:
        return 0
    return shares * unit // per_unit


@view
@external
def maxDeposit(receiver: address) -> uint256:
    """
    @notice Unlimited while `is_safe()`, else 0 (`deposit` would revert).
    """
    if self._is_safe():
        return max_value(uint256)
    return 0


@view
@external
def previewDeposit(assets: uint256) -> uint256:
    """
    @notice Shares `deposit(assets)` mints now (haircut included); reverts
            when the instant path is closed.
    """
    assert self._is_safe(), "entry: not safe, use requestDeposit"
    return staticcall ILens(LENS).preview_deposit(VAULT, ASSET, assets)


@view
@external
def maxMint(receiver: address) -> uint256:
    """
    @notice 0: `mint` is not offered.
    """
    return 0


@view
@external
def previewMint(shares: uint256) -> uint256:
    """
    @notice Reverts: `mint` is not offered.
    """
    raise "entry: mint not supported, use deposit"


@view
@external
def maxWithdraw(owner: address) -> uint256:
    """
    @notice 0: exits are in kind (`Vault.exit`).
    """
    return 0


@view
@external
def maxRedeem(owner: address) -> uint256:
    """
    @notice 0: exits are in kind (`Vault.exit`).
    """
    return 0


@view
@external
def previewWithdraw(assets: uint256) -> uint256:
    """
    @notice Reverts: exits are in kind (`Vault.exit`).
    """
    raise "entry: exit in kind with Vault.exit"


@view
@external
def previewRedeem(shares: uint256) -> uint256:
    """
    @notice Reverts: exits are in kind (`Vault.exit`).
    """
    raise "entry: exit in kind with Vault.exit"


@pure
@external
def supportsInterface(interface_id: bytes4) -> bool:
    """
    @notice ERC-165: ERC-7575.
    """
    return interface_id in [ERC165_ID, ERC7575_ID]


# ---------------------------------------------------------------- internal


interface IERC20Detailed:
    def decimals() -> uint8: view


@internal
def _pull(assets: uint256):
    assert assets > 0, "entry: zero assets"
    before: uint256 = staticcall IERC20(ASSET).balanceOf(self)
    assert extcall IERC20(ASSET).transferFrom(msg.sender, self, assets, default_return_value=True)
    assert staticcall IERC20(ASSET).balanceOf(self) - before == assets, "entry: fee-on-transfer token"


@internal
def _deposit(assets: uint256, receiver: address) -> uint256:
    self._pull(assets)
    shares: uint256 = extcall IVault(VAULT).deposit(ASSET, assets, 1, receiver)
    log Deposit(sender=msg.sender, owner=receiver, assets=assets, shares=shares)
    return shares


@internal
def _request(assets: uint256, controller: address) -> uint256:
    self._pull(assets)
    request_id: uint256 = extcall IDepositQueue(QUEUE).requestDeposit(assets, controller, self)
    log Requested(sender=msg.sender, controller=controller, requestId=request_id, assets=assets)
    return request_id


@internal
@view
def _is_safe() -> bool:
    """
    @dev The safe window of issue #13: every feed fresh within `max_age`
         (a feed that fails to answer is not fresh), and the second source
         in agreement. HOOK: the second source is `guard`; a vault-side
         TWAP check (the other helper's) makes `Vault.deposit` itself
         revert, so it needs nothing here.
    """
    state: IVault.VaultState = staticcall IVault(VAULT).raw_state()
    if state.status & (packing.PAUSED | packing.SHUTDOWN) != 0:
        return False
    oldest: uint256 = block.timestamp - min(self.max_age, block.timestamp)
    for asset_state: IVault.AssetState in state.assets:
        success: bool = False
        response: Bytes[160] = b""
        success, response = raw_call(
            packing._feed(asset_state.feed_config),
            method_id("latestRoundData()"),
            max_outsize=160,
            is_static_call=True,
            revert_on_failure=False,
        )
        if not success or len(response) != 160:
            return False
        if convert(extract32(response, 96), uint256) < oldest:
            return False
    guard: address = self.guard
    if guard != empty(address):
        return staticcall IEntryGuard(guard).agrees(VAULT, ASSET)
    return True


@internal
@view
def _gross_shares(assets: uint256) -> uint256:
    """
    @dev The lens's deposit preview with the haircut added back.
    """
    net: uint256 = staticcall ILens(LENS).preview_deposit(VAULT, ASSET, assets)
    haircut: uint256 = packing._unpack((staticcall IVault(VAULT).raw_state()).status, packing.HAIRCUT_AT, packing.BPS_BITS)
    return net * constants.MAX_BPS // (constants.MAX_BPS - haircut)


@internal
def _set_max_age(max_age: uint256):
    assert max_age > 0, "entry: zero max age"
    self.max_age = max_age
    log MaxAgeSet(max_age=max_age)
