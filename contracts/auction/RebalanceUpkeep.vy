# pragma version 0.4.3
# pragma optimize gas
"""
@title Ballast rebalance upkeep for Chainlink Automation
@custom:contract-name RebalanceUpkeep
@notice Lets Chainlink Automation (or any keeper network speaking its
        interface) drive a vault's Dutch auctions: `checkUpkeep` answers
        what is due, with a readable reason when nothing is ("not due",
        "cooldown", "auction open", "pricing: stale", ...), and
        `performUpkeep` re-checks everything on-chain before doing it.
        Yearn's DebtAllocator `shouldUpdateDebt`, which returns its reason,
        is the example. `checker()` answers the same in Gelato's resolver
        shape.
@dev Stateless and permissionless: `performUpkeep` does only what
     `checkUpkeep` would answer at that block, so a second call, or one by
     anyone, does nothing but revert with the reason. The actions:
     open an auction (the vault's trigger holds; this contract needs the
     vault's keeper role to open inside the launcher window), close the
     open auction (TTL passed or trigger gone), or observe (the hybrid
     trigger's volatility observation is due: `vault.observe`).
"""

from interfaces import IAutomationCompatible
from interfaces import IVault
from contracts.modules import constants
from contracts.modules import packing
from contracts.auction import DutchAuction

implements: IAutomationCompatible

ACTION_NONE: constant(uint256) = 0
ACTION_OPEN: constant(uint256) = 1
ACTION_CLOSE: constant(uint256) = 2
ACTION_OBSERVE: constant(uint256) = 3

# @dev The auction house this upkeep drives, and its vault.
AUCTION: public(immutable(address))
VAULT: public(immutable(address))


event UpkeepPerformed:
    action: uint256
    sender: indexed(address)


@deploy
def __init__(auction: address):
    """
    @notice An upkeep for `auction` (a `DutchAuction`) and its vault.
    @param auction The auction house.
    """
    assert auction != empty(address), "upkeep: zero address"
    AUCTION = auction
    VAULT = staticcall DutchAuction.__at__(auction).VAULT()


@view
@external
def checkUpkeep(checkData: Bytes[2000]) -> (bool, Bytes[2000]):
    """
    @notice Whether an upkeep is due now. Never reverts.
    @param checkData Unused.
    @return bool True when `performUpkeep` would act.
    @return Bytes[2000] The action (ABI-encoded uint256: 1 open, 2 close,
            3 observe) when due, else the reason as UTF-8 text.
    """
    action: uint256 = ACTION_NONE
    reason: String[32] = ""
    action, reason = self._check()
    if action == ACTION_NONE:
        return False, convert(reason, Bytes[32])
    return True, abi_encode(action)


@view
@external
def checker() -> (bool, Bytes[128]):
    """
    @notice Gelato Automate's resolver shape over the same check: whether
            to execute, and the calldata to send to this contract
            (`performUpkeep(abi(action))`), else the reason as UTF-8 text.
    @return bool True when `performUpkeep` would act.
    @return Bytes[128] The calldata, or the reason.
    """
    action: uint256 = ACTION_NONE
    reason: String[32] = ""
    action, reason = self._check()
    if action == ACTION_NONE:
        return False, convert(reason, Bytes[32])
    perform_data: Bytes[32] = abi_encode(action)
    return True, abi_encode(perform_data, method_id=method_id("performUpkeep(bytes)"))


@external
def performUpkeep(performData: Bytes[2000]):
    """
    @notice Re-checks on-chain and performs the action `checkUpkeep`
            returned; reverts with "upkeep: <reason>" if it is no longer
            what is due (so calling twice is harmless).
    @param performData The ABI-encoded action from `checkUpkeep`.
    """
    wanted: uint256 = abi_decode(performData, uint256)
    action: uint256 = ACTION_NONE
    reason: String[32] = ""
    action, reason = self._check()
    assert action != ACTION_NONE, concat("upkeep: ", reason)
    assert action == wanted, "upkeep: action changed"
    if action == ACTION_OPEN:
        extcall DutchAuction.__at__(AUCTION).open()
    elif action == ACTION_CLOSE:
        extcall DutchAuction.__at__(AUCTION).close()
    else:
        extcall IVault(VAULT).observe()
    log UpkeepPerformed(action=action, sender=msg.sender)


@view
@internal
def _check() -> (uint256, String[32]):
    """
    @dev The auction's own checks (`open_status`, `close_reason`), so what
         is answered here is what `open` and `close` enforce.
    """
    auction: DutchAuction.__interface__ = DutchAuction.__at__(AUCTION)
    if staticcall auction.is_open():
        ok: bool = False
        response: Bytes[96] = b""
        ok, response = raw_call(
            AUCTION, method_id("close_reason()"), max_outsize=96, is_static_call=True, revert_on_failure=False
        )
        if ok and len(response) == 96 and extract32(response, 32, output_type=uint256) != 0:
            return ACTION_CLOSE, ""
        return ACTION_NONE, "auction open"
    can_open: bool = False
    reason: String[32] = ""
    can_open, reason = staticcall auction.open_status(self)
    if can_open:
        return ACTION_OPEN, ""
    # Prices were read (so `observe` will not revert on them) but no auction opens now.
    readable: bool = reason == "not due" or reason == "cooldown" or reason == "launcher window" or reason == "dust"
    if readable and self._observation_due():
        return ACTION_OBSERVE, ""
    return ACTION_NONE, reason


@view
@internal
def _observation_due() -> bool:
    """
    @dev The hybrid trigger reads volatility: `observe` records one when
         the last is at least `vol_min_interval` old (`Rules.observe`).
    """
    state: IVault.VaultState = staticcall IVault(VAULT).raw_state()
    if packing._unpack(state.trigger, packing.TRIGGER_TYPE_AT, packing.TRIGGER_TYPE_BITS) != constants.TRIGGER_HYBRID:
        return False
    last: uint256 = packing._unpack(state.clock, packing.LAST_OBSERVATION_AT, packing.TIME_BITS)
    interval: uint256 = packing._unpack(state.trigger, packing.VOL_MIN_INTERVAL_AT, packing.INTERVAL_BITS)
    return last == 0 or block.timestamp >= last + interval
