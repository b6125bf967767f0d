# pragma version 0.4.3
# pragma optimize gas

"""
@title Ballast deposit queue (ERC-7540 asynchronous deposits of one asset)
@custom:contract-name DepositQueue
@notice Asynchronous single-asset deposits into one Ballast vault, in
        ERC-7540's shape: `requestDeposit` hands the tokens to the queue,
        a permissionless `settle` deposits them through the vault's own
        `deposit` (the queue is the depositor) once every basket feed has
        a round that started at least `MIN_DELAY` after the request, and
        the controller claims the shares with ERC-7540's `deposit`/`mint`.
        No price the requester could have seen is used: a depositor who
        sees the market move before a feed does gains nothing by asking.
@dev Rules (TECH_SPEC, "Asynchronous deposits and entry points"):
     - ready: every feed has a round that started at or after
       `requested_at + MIN_DELAY`; `ready_at` is the latest start among
       each feed's FIRST such round (proven by the caller's round ids).
     - settle: only while ready and `block.timestamp <= ready_at +
       SETTLE_WINDOW`, at the vault's prices of that moment (all from rounds
       that started after the delay). The window bounds the settler's
       choice of moment.
     - cancel: by the controller (or its operator) only while NOT ready;
       once ready, no one holds a free option to walk away from a price.
     - refund: by anyone after the window, or at any time once the vault
       is shut down; the assets go back to the controller.
     Every request has its own state; nothing here is read by the vault,
     so no request can block an exit, a rebalance or another request. Every
     loop is bounded by the basket size. Fee-on-transfer tokens are
     refused at request (the vault refuses them too).
"""

from ethereum.ercs import IERC20
from interfaces import IVault
from contracts.modules import constants
from contracts.modules import packing


# @dev Request states.
PENDING: constant(uint256) = 1
SETTLED: constant(uint256) = 2
CANCELLED: constant(uint256) = 3
REFUNDED: constant(uint256) = 4
# @dev Layout of a request's word: controller (bits 0-159), request time
#      (160-223), state (224-231).
TIME_AT: constant(uint256) = 160
STATE_AT: constant(uint256) = 224
# @dev An `EACAggregatorProxy` round id carries its phase above bit 64; the
#      aggregator's own round counter is the low 64 bits.
AGGREGATOR_ROUND_MASK: constant(uint256) = 2**64 - 1
# @dev ERC-165 ids: ERC-165, ERC-7540 operators, ERC-7540 async deposit, ERC-7575.
ERC165_ID: constant(bytes4) = 0x01ffc9a7
OPERATOR_ID: constant(bytes4) = 0xe3bc4e65
ASYNC_DEPOSIT_ID: constant(bytes4) = 0xce3bbe50
ERC7575_ID: constant(bytes4) = 0x2f0a18c5


# @dev The vault the queue deposits into (ERC-7575 `share()`).
VAULT: public(immutable(address))
# @dev The basket asset the queue takes (ERC-4626 `asset()`).
ASSET: public(immutable(address))
# @dev Seconds after a request before a feed round may price it.
MIN_DELAY: public(immutable(uint256))
# @dev Seconds after a request became ready during which it can be settled.
SETTLE_WINDOW: public(immutable(uint256))

# @dev Id of the next request (ids start at 1).
next_request_id: public(uint256)
# @dev Packed controller, request time and state of each request.
_request: HashMap[uint256, uint256]
# @dev Assets of each request.
request_assets: public(HashMap[uint256, uint256])
# @dev Settled, unclaimed assets and shares of each controller.
claimable_assets: public(HashMap[address, uint256])
claimable_shares: public(HashMap[address, uint256])
# @dev ERC-7540 operators: controller => operator => approved.
isOperator: public(HashMap[address, HashMap[address, bool]])


# @dev ERC-7540.
event DepositRequest:
    controller: indexed(address)
    owner: indexed(address)
    requestId: indexed(uint256)
    sender: address
    assets: uint256


event DepositSettled:
    requestId: indexed(uint256)
    controller: indexed(address)
    settler: indexed(address)
    assets: uint256
    shares: uint256
    ready_at: uint256


event DepositCancelled:
    requestId: indexed(uint256)
    controller: indexed(address)
    assets: uint256


event DepositRefunded:
    requestId: indexed(uint256)
    controller: indexed(address)
    caller: indexed(address)
    assets: uint256
    shutdown: bool


# @dev ERC-4626 (emitted by the ERC-7540 claim): `sender` is the controller.
event Deposit:
    sender: indexed(address)
    owner: indexed(address)
    assets: uint256
    shares: uint256


# @dev ERC-7540.
event OperatorSet:
    controller: indexed(address)
    operator: indexed(address)
    approved: bool


@deploy
def __init__(vault: address, asset: address, min_delay: uint256, settle_window: uint256):
    """
    @notice Deploys the queue of `asset` into `vault`.
    @param vault A Ballast vault.
    @param asset One of its basket assets.
    @param min_delay Seconds between a request and the earliest round that
           may price it: at least the feeds' lag a depositor could exploit.
    @param settle_window Seconds after a request became ready during which
           anyone may settle it; after that anyone may refund it.
    """
    assert asset in staticcall IVault(vault).get_assets(), "queue: unknown asset"
    assert min_delay > 0, "queue: zero delay"
    assert settle_window > 0, "queue: zero window"
    VAULT = vault
    ASSET = asset
    MIN_DELAY = min_delay
    SETTLE_WINDOW = settle_window
    self.next_request_id = 1
    # A standing approval: the vault's `deposit` takes exactly the amount settled.
    assert extcall IERC20(asset).approve(vault, max_value(uint256), default_return_value=True)


# ---------------------------------------------------------------- requests


@external
@nonreentrant
def requestDeposit(assets: uint256, controller: address, owner: address) -> uint256:
    """
    @notice Takes `assets` of the asset from `owner` and opens a request
            that `controller` controls (ERC-7540).
    @param assets Base units to deposit.
    @param controller Who may cancel the request and claims its shares.
    @param owner Whose tokens are taken: the caller or one it operates for.
    @return The request id.
    """
    assert assets > 0, "queue: zero assets"
    assert controller != empty(address), "queue: zero controller"
    assert owner == msg.sender or self.isOperator[owner][msg.sender], "queue: not owner or operator"
    before: uint256 = staticcall IERC20(ASSET).balanceOf(self)
    assert extcall IERC20(ASSET).transferFrom(owner, self, assets, default_return_value=True)
    assert staticcall IERC20(ASSET).balanceOf(self) - before == assets, "queue: fee-on-transfer token"
    request_id: uint256 = self.next_request_id
    self.next_request_id = request_id + 1
    self._request[request_id] = self._pack(controller, block.timestamp, PENDING)
    self.request_assets[request_id] = assets
    log DepositRequest(controller=controller, owner=owner, requestId=request_id, sender=msg.sender, assets=assets)
    return request_id


@external
@nonreentrant
def settle(request_id: uint256, first_rounds: DynArray[uint80, constants.MAX_ASSETS]) -> uint256:
    """
    @notice Deposits a ready request through the vault's `deposit` at its
            prices now, and credits the shares to the controller's claim.
            Anyone may call.
    @param request_id The request.
    @param first_rounds Per basket asset (vault order), the id of its
           feed's first round that started at or after the request time
           plus `MIN_DELAY` (`ballast.depositor.requests.first_rounds`).
    @return The shares minted.
    """
    controller: address = empty(address)
    requested_at: uint256 = 0
    controller, requested_at = self._pending(request_id)
    ready_at: uint256 = self._ready_at(staticcall IVault(VAULT).raw_state(), requested_at + MIN_DELAY, first_rounds)
    assert block.timestamp <= ready_at + SETTLE_WINDOW, "queue: settle window over"
    self._request[request_id] = self._pack(controller, requested_at, SETTLED)
    assets: uint256 = self.request_assets[request_id]
    shares: uint256 = extcall IVault(VAULT).deposit(ASSET, assets, 1, self)
    self.claimable_assets[controller] += assets
    self.claimable_shares[controller] += shares
    log DepositSettled(requestId=request_id, controller=controller, settler=msg.sender, assets=assets, shares=shares, ready_at=ready_at)
    return shares


@external
@nonreentrant
def cancelDepositRequest(request_id: uint256, controller: address):
    """
    @notice Cancels a request that is not ready yet and sends its assets
            back to `controller`. Once every feed has a round after the
            delay, the request can only be settled (or, after the window,
            refunded).
    @param request_id The request.
    @param controller Its controller: the caller or one it operates for.
    """
    request_controller: address = empty(address)
    requested_at: uint256 = 0
    request_controller, requested_at = self._pending(request_id)
    assert controller == request_controller, "queue: not the controller"
    self._check_controller(controller)
    assert not self._all_feeds_after(requested_at + MIN_DELAY), "queue: ready, cannot cancel"
    self._request[request_id] = self._pack(controller, requested_at, CANCELLED)
    assets: uint256 = self.request_assets[request_id]
    assert extcall IERC20(ASSET).transfer(controller, assets, default_return_value=True)
    log DepositCancelled(requestId=request_id, controller=controller, assets=assets)


@external
@nonreentrant
def refund(request_id: uint256, first_rounds: DynArray[uint80, constants.MAX_ASSETS]):
    """
    @notice Sends a pending request's assets back to its controller once
            its settle window is over, or at any time after the vault shut
            down. Anyone may call.
    @param request_id The request.
    @param first_rounds As for `settle` (ignored after a shutdown).
    """
    controller: address = empty(address)
    requested_at: uint256 = 0
    controller, requested_at = self._pending(request_id)
    state: IVault.VaultState = staticcall IVault(VAULT).raw_state()
    shutdown: bool = state.status & packing.SHUTDOWN != 0
    if not shutdown:
        ready_at: uint256 = self._ready_at(state, requested_at + MIN_DELAY, first_rounds)
        assert block.timestamp > ready_at + SETTLE_WINDOW, "queue: settle window open"
    self._request[request_id] = self._pack(controller, requested_at, REFUNDED)
    assets: uint256 = self.request_assets[request_id]
    assert extcall IERC20(ASSET).transfer(controller, assets, default_return_value=True)
    log DepositRefunded(requestId=request_id, controller=controller, caller=msg.sender, assets=assets, shutdown=shutdown)


# ---------------------------------------------------------------- claims (ERC-7540)


@external
@nonreentrant
def deposit(assets: uint256, receiver: address, controller: address = msg.sender) -> uint256:
    """
    @notice Claims the shares of `assets` of `controller`'s settled
            requests and sends them to `receiver` (ERC-7540's claim).
    @return The shares sent (rounded down).
    """
    self._check_controller(controller)
    claimable: uint256 = self.claimable_assets[controller]
    assert assets > 0, "queue: zero assets"
    assert assets <= claimable, "queue: above claimable"
    claimable_shares: uint256 = self.claimable_shares[controller]
    shares: uint256 = claimable_shares
    if assets < claimable:
        shares = assets * claimable_shares // claimable
    self._claim(controller, receiver, assets, shares)
    return shares


@external
@nonreentrant
def mint(shares: uint256, receiver: address, controller: address = msg.sender) -> uint256:
    """
    @notice Claims `shares` of `controller`'s settled requests and sends
            them to `receiver` (ERC-7540's claim).
    @return The assets of the claim (rounded up).
    """
    self._check_controller(controller)
    claimable_shares: uint256 = self.claimable_shares[controller]
    assert shares > 0, "queue: zero shares"
    assert shares <= claimable_shares, "queue: above claimable"
    claimable: uint256 = self.claimable_assets[controller]
    assets: uint256 = claimable
    if shares < claimable_shares:
        assets = min((shares * claimable + claimable_shares - 1) // claimable_shares, claimable)
    self._claim(controller, receiver, assets, shares)
    return assets


@external
def setOperator(operator: address, approved: bool) -> bool:
    """
    @notice Lets `operator` request, cancel and claim for the caller (ERC-7540).
    """
    assert operator != msg.sender, "queue: self operator"
    self.isOperator[msg.sender][operator] = approved
    log OperatorSet(controller=msg.sender, operator=operator, approved=approved)
    return True


# ---------------------------------------------------------------- views


@view
@external
def asset() -> address:
    """
    @notice The asset taken (ERC-4626).
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
def requests(request_id: uint256) -> (address, uint256, uint256, uint256):
    """
    @notice A request's controller, assets, request time and state
            (0 none, 1 pending, 2 settled, 3 cancelled, 4 refunded).
    """
    word: uint256 = self._request[request_id]
    return self._controller(word), self.request_assets[request_id], (word >> TIME_AT) & (2**64 - 1), word >> STATE_AT


@view
@external
def pendingDepositRequest(requestId: uint256, controller: address) -> uint256:
    """
    @notice Assets of a pending request of `controller` (ERC-7540).
    """
    word: uint256 = self._request[requestId]
    if word >> STATE_AT != PENDING or self._controller(word) != controller:
        return 0
    return self.request_assets[requestId]


@view
@external
def claimableDepositRequest(requestId: uint256, controller: address) -> uint256:
    """
    @notice Assets of a settled request of `controller` not yet claimed
            (ERC-7540). Claims draw on all of a controller's settled
            requests together, so this is the request's assets capped by
            what the controller has left to claim.
    """
    word: uint256 = self._request[requestId]
    if word >> STATE_AT != SETTLED or self._controller(word) != controller:
        return 0
    return min(self.request_assets[requestId], self.claimable_assets[controller])


@view
@external
def maxDeposit(controller: address) -> uint256:
    """
    @notice Assets `controller` can claim with `deposit` now (ERC-7540).
    """
    return self.claimable_assets[controller]


@view
@external
def maxMint(controller: address) -> uint256:
    """
    @notice Shares `controller` can claim with `mint` now (ERC-7540).
    """
    return self.claimable_shares[controller]


@view
@external
def maxWithdraw(owner: address) -> uint256:
    """
    @notice Zero: exits are the vault's, in kind (`Vault.exit`).
    """
    return 0


@view
@external
def maxRedeem(owner: address) -> uint256:
    """
    @notice Zero: exits are the vault's, in kind (`Vault.exit`).
    """
    return 0


@view
@external
def previewDeposit(assets: uint256) -> uint256:
    """
    @notice Reverts: the price of an asynchronous deposit is not known
            until it settles (ERC-7540).
    """
    raise "queue: asynchronous, no preview"


@view
@external
def previewMint(shares: uint256) -> uint256:
    """
    @notice Reverts: the price of an asynchronous deposit is not known
            until it settles (ERC-7540).
    """
    raise "queue: asynchronous, no preview"


@view
@external
def is_ready(request_id: uint256) -> bool:
    """
    @notice Whether every feed has a round that started at or after the
            request time plus `MIN_DELAY` (the request can no longer be
            cancelled). False for a request that is not pending.
    """
    word: uint256 = self._request[request_id]
    if word >> STATE_AT != PENDING:
        return False
    return self._all_feeds_after(((word >> TIME_AT) & (2**64 - 1)) + MIN_DELAY)


@view
@external
def ready_at(request_id: uint256, first_rounds: DynArray[uint80, constants.MAX_ASSETS]) -> uint256:
    """
    @notice When a pending request became ready, from the first round of
            each feed after the delay (reverts as `settle` does on a wrong
            round). It can be settled until this plus `SETTLE_WINDOW`.
    """
    requested_at: uint256 = 0
    _: address = empty(address)
    _, requested_at = self._pending(request_id)
    return self._ready_at(staticcall IVault(VAULT).raw_state(), requested_at + MIN_DELAY, first_rounds)


@pure
@external
def supportsInterface(interface_id: bytes4) -> bool:
    """
    @notice ERC-165: ERC-7540 operators and asynchronous deposits, ERC-7575.
    """
    return interface_id in [ERC165_ID, OPERATOR_ID, ASYNC_DEPOSIT_ID, ERC7575_ID]


# ---------------------------------------------------------------- internal


@internal
def _claim(controller: address, receiver: address, assets: uint256, shares: uint256):
    assert receiver != empty(address), "queue: zero receiver"
    self.claimable_assets[controller] -= assets
    self.claimable_shares[controller] -= shares
    assert extcall IERC20(VAULT).transfer(receiver, shares, default_return_value=True)
    log Deposit(sender=controller, owner=receiver, assets=assets, shares=shares)


@internal
@view
def _check_controller(controller: address):
    assert controller == msg.sender or self.isOperator[controller][msg.sender], "queue: not controller or operator"


@internal
@view
def _pending(request_id: uint256) -> (address, uint256):
    """
    @dev Controller and request time of a pending request.
    """
    word: uint256 = self._request[request_id]
    assert word >> STATE_AT == PENDING, "queue: not pending"
    return self._controller(word), (word >> TIME_AT) & (2**64 - 1)


@internal
@pure
def _pack(controller: address, requested_at: uint256, state: uint256) -> uint256:
    return convert(controller, uint256) | (requested_at << TIME_AT) | (state << STATE_AT)


@internal
@pure
def _controller(word: uint256) -> address:
    return convert(convert(word & (2**160 - 1), uint160), address)


@internal
@view
def _ready_at(state: IVault.VaultState, earliest: uint256, first_rounds: DynArray[uint80, constants.MAX_ASSETS]) -> uint256:
    """
    @dev The latest start among the feeds' first rounds at or after
         `earliest`; reverts unless each given round is its feed's first one
         (it started at or after `earliest`, the round before it did not).
    """
    assert len(first_rounds) == len(state.assets), "queue: rounds length"
    ready: uint256 = 0
    for i: uint256 in range(len(state.assets), bound=constants.MAX_ASSETS):
        feed: address = packing._feed(state.assets[i].feed_config)
        round_id: uint256 = convert(first_rounds[i], uint256)
        started: uint256 = self._round_start(feed, False, round_id)
        assert started >= earliest, "queue: round before delay"
        # The first round of an aggregator (low bits 1) has no round before it in its phase.
        if round_id & AGGREGATOR_ROUND_MASK > 1:
            assert self._round_start(feed, False, round_id - 1) < earliest, "queue: not the first round"
        ready = max(ready, started)
    return ready


@internal
@view
def _all_feeds_after(earliest: uint256) -> bool:
    """
    @dev Whether every feed's latest round started at or after `earliest`.
         A feed that fails to answer counts as not after.
    """
    if block.timestamp < earliest:
        return False
    state: IVault.VaultState = staticcall IVault(VAULT).raw_state()
    for asset_state: IVault.AssetState in state.assets:
        if self._round_start(packing._feed(asset_state.feed_config), True, 0) < earliest:
            return False
    return True


@internal
@view
def _round_start(feed: address, latest: bool, round_id: uint256) -> uint256:
    """
    @dev `startedAt` of a feed round (`getRoundData`) or of the latest one
         (`latestRoundData`, `round_id` unused); zero if the call fails.
    """
    call_data: Bytes[36] = abi_encode(convert(round_id, uint80), method_id=method_id("getRoundData(uint80)"))
    if latest:
        call_data = method_id("latestRoundData()", output_type=Bytes[4])
    success: bool = False
    response: Bytes[160] = b""
    success, response = raw_call(feed, call_data, max_outsize=160, is_static_call=True, revert_on_failure=False)
    if not success or len(response) != 160:
        return 0
    return convert(extract32(response, 64), uint256)
