# pragma version 0.4.3
# pragma optimize codesize
# pragma experimental-codegen

"""
@title Ballast Vault
@notice A vault that holds a basket of ERC-20 assets at target weights.
        Depositors enter in kind (`join`, oracle-free) or with one asset at
        oracle value minus a haircut (`deposit`), and leave in kind
        (`exit`), which nothing can block: not a pause, not a dead oracle,
        not a shutdown. A keeper proposes rebalancing trades; the vault
        verifies every one against its oracles and its drift rules and
        reverts anything unfair or unhelpful.
@dev Accounting uses tracked balances (`balances`), never `balanceOf(self)`,
     so a donation neither moves the share price nor can be withdrawn.
     Rounding: every conversion rounds in the vault's favour; amounts in
     round up, amounts and shares out round down.
"""

from ethereum.ercs import IERC20
from interfaces import IVenue
from snekmate.auth import ownable
from snekmate.tokens import erc20
from snekmate.utils import math
from contracts.modules import constants
from contracts.modules import checks
from contracts.modules import pricing
from contracts.modules import basket

initializes: ownable
initializes: erc20[ownable := ownable]
initializes: pricing
initializes: basket[pricing := pricing]

exports: (
    erc20.transfer,
    erc20.transferFrom,
    erc20.approve,
    erc20.balanceOf,
    erc20.totalSupply,
    erc20.allowance,
    erc20.name,
    erc20.symbol,
    erc20.decimals,
    erc20.owner,
    erc20.transfer_ownership,
    basket.ramp_start,
    basket.ramp_end,
    basket.trigger_type,
    basket.rebalance_interval,
    basket.last_rebalance,
    basket.vol_reference,
    basket.vol_alpha_bps,
    basket.vol_min_interval,
    basket.last_observation,
    basket.observed_price,
    basket.variance,
)


# @dev Bits of `_status`.
_PAUSED: constant(uint256) = 1
_SHUTDOWN: constant(uint256) = 2
_CLOSED: constant(uint256) = 3
_U64: constant(uint256) = 2**64 - 1


struct AssetConfig:
    asset: address
    feed: address
    heartbeat: uint256
    min_answer: uint256
    max_answer: uint256
    target_bps: uint256
    band_bps: uint256
    outer_band_bps: uint256


struct TriggerConfig:
    trigger_type: uint256
    rebalance_interval: uint256
    vol_reference: uint256
    vol_alpha_bps: uint256
    vol_min_interval: uint256


struct Limits:
    max_slippage_bps: uint256
    max_cost_bps: uint256
    turnover_cap_bps: uint256
    turnover_period: uint256
    cooldown: uint256


struct Trade:
    venue: address
    token_in: address
    token_out: address
    amount_in: uint256
    min_amount_out: uint256


# @dev The basket, in a fixed order that every array argument follows. Fixed
#      at deployment, so kept in code: no storage read per asset.
assets: public(immutable(DynArray[address, constants.MAX_ASSETS]))
# @dev Tracked balance of each asset: what the vault owes its holders.
balances: public(HashMap[address, uint256])
# @dev Role bits (ROLE_GUARDIAN | ROLE_KEEPER) of each account.
roles: public(HashMap[address, uint256])
# @dev Venues the keeper may trade on.
venue_allowed: public(HashMap[address, bool])
# @dev One slot read by every entry and by a rebalance: paused (bit 0), shut
#      down (bit 1), single-asset deposit haircut bps (bits 8-23), max slippage
#      bps (24-39), max cost bps (40-55), turnover cap bps (56-87), turnover
#      period (88-151) and cooldown (152-215), seconds. Joins, deposits and
#      rebalances stop while paused or shut down; exits never do.
_status: uint256
# @dev Start of the current turnover period (bits 0-63) | USD value (WAD)
#      traded in it (64-255): one slot, written by every rebalance.
_turnover: uint256


event Join:
    sender: indexed(address)
    receiver: indexed(address)
    shares: uint256
    amounts: DynArray[uint256, constants.MAX_ASSETS]


event Deposit:
    sender: indexed(address)
    receiver: indexed(address)
    asset: indexed(address)
    amount: uint256
    shares: uint256
    usd_value: uint256


event Exit:
    sender: indexed(address)
    receiver: indexed(address)
    shares: uint256
    amounts: DynArray[uint256, constants.MAX_ASSETS]


event TradeExecuted:
    venue: indexed(address)
    token_in: indexed(address)
    token_out: indexed(address)
    amount_in: uint256
    amount_out: uint256
    value_in: uint256
    value_out: uint256


event Rebalanced:
    keeper: indexed(address)
    reason: String[16]
    value_before: uint256
    value_after: uint256
    cost: uint256
    value_traded: uint256
    weights_before: DynArray[uint256, constants.MAX_ASSETS]
    weights_after: DynArray[uint256, constants.MAX_ASSETS]
    total_drift_before: uint256
    total_drift_after: uint256


event RoleSet:
    account: indexed(address)
    roles: uint256


event VenueSet:
    venue: indexed(address)
    allowed: bool


event LimitsSet:
    max_slippage_bps: uint256
    max_cost_bps: uint256
    turnover_cap_bps: uint256
    turnover_period: uint256
    cooldown: uint256


event EntryHaircutSet:
    entry_haircut_bps: uint256


event Paused:
    account: indexed(address)
    paused: bool


event Shutdown:
    account: indexed(address)


@deploy
def __init__(
    name: String[25],
    symbol: String[5],
    asset_configs: DynArray[AssetConfig, constants.MAX_ASSETS],
    trigger: TriggerConfig,
    limits: Limits,
    entry_haircut_bps: uint256,
):
    """
    @notice Deploys a vault; the deployer becomes owner.
    @param name Share token name.
    @param symbol Share token symbol.
    @param asset_configs Per asset: token, price feed, heartbeat, exclusive
           answer bounds, target weight, drift band and outer band (bps).
    @param trigger Trigger family and its clock and volatility parameters.
    @param limits Slippage, cost, turnover and cooldown limits.
    @param entry_haircut_bps Haircut on single-asset deposits.
    """
    ownable.__init__()
    erc20.__init__(name, symbol, 18, name, "1")
    pricing.__init__()
    basket.__init__()
    assert len(asset_configs) >= 2, "vault: too few assets"
    weights: DynArray[uint256, constants.MAX_ASSETS] = []
    basket_assets: DynArray[address, constants.MAX_ASSETS] = []
    for config: AssetConfig in asset_configs:
        assert config.asset != empty(address), "vault: zero address"
        assert config.asset not in basket_assets, "vault: duplicate asset"
        assert len(basket_assets) < constants.MAX_ASSETS, "vault: too many assets"
        pricing._set_feed(config.asset, config.feed, config.heartbeat, config.min_answer, config.max_answer)
        basket._set_bands(config.asset, config.band_bps, config.outer_band_bps)
        basket_assets.append(config.asset)
        weights.append(config.target_bps)
    assets = basket_assets
    basket._set_targets(assets, weights, 0)
    basket._set_trigger(
        trigger.trigger_type,
        trigger.rebalance_interval,
        trigger.vol_reference,
        trigger.vol_alpha_bps,
        trigger.vol_min_interval,
        assets,
    )
    self._set_limits(limits)
    self._set_entry_haircut(entry_haircut_bps)
    self._turnover = block.timestamp


# ---------------------------------------------------------------- depositors


@external
@nonreentrant
def join(
    shares: uint256, max_amounts_in: DynArray[uint256, constants.MAX_ASSETS], receiver: address
) -> DynArray[uint256, constants.MAX_ASSETS]:
    """
    @notice Mints `shares` to `receiver` for assets in proportion to the
            vault's current holdings. Needs no oracle.
    @dev Into an empty vault the first join takes exactly `max_amounts_in`,
         values it at the oracles (1 share = 1 USD at inception), locks
         DEAD_SHARES in the vault and mints the rest; `shares` is then the
         minimum accepted.
    @param shares Shares to mint (minimum shares for the first join).
    @param max_amounts_in Most of each asset the caller will pay.
    @param receiver Receiver of the shares.
    @return The amounts paid, in `assets` order.
    """
    self._check_open()
    self._check_receiver(receiver)
    assert len(max_amounts_in) == len(assets), "vault: amounts length"
    supply: uint256 = erc20.totalSupply
    amounts: DynArray[uint256, constants.MAX_ASSETS] = []
    minted: uint256 = shares
    if supply == 0:
        usd_value: uint256 = 0
        for i: uint256 in range(len(assets), bound=constants.MAX_ASSETS):
            usd_value += pricing._value(assets[i], max_amounts_in[i], pricing._price(assets[i]), False)
        assert usd_value > constants.DEAD_SHARES, "vault: first join too small"
        minted = usd_value - constants.DEAD_SHARES
        assert minted >= shares, "vault: shares below minimum"
        amounts = max_amounts_in
        erc20._mint(self, constants.DEAD_SHARES)
    else:
        assert shares > 0, "vault: zero shares"
        amounts = self._join_amounts(shares, supply)
        paid: uint256 = 0
        for i: uint256 in range(len(assets), bound=constants.MAX_ASSETS):
            assert amounts[i] <= max_amounts_in[i], "vault: amount above maximum"
            paid |= amounts[i]
        # Amounts round up, so this only fails when the vault holds nothing.
        assert paid != 0, "vault: empty basket"
    # Pull everything first, then credit: while a token calls out mid-join,
    # `balances` and `totalSupply` still agree (read-only reentrancy).
    for i: uint256 in range(len(assets), bound=constants.MAX_ASSETS):
        if amounts[i] > 0:
            self._pull(assets[i], amounts[i])
    for i: uint256 in range(len(assets), bound=constants.MAX_ASSETS):
        self.balances[assets[i]] += amounts[i]
    erc20._mint(receiver, minted)
    log Join(sender=msg.sender, receiver=receiver, shares=minted, amounts=amounts)
    return amounts


@external
@nonreentrant
def deposit(asset: address, amount: uint256, min_shares: uint256, receiver: address) -> uint256:
    """
    @notice Mints shares for a single asset at its oracle value minus the
            entry haircut. Reverts on any stale or bad price.
    @param asset A basket asset.
    @param amount Base units of `asset` to pay.
    @param min_shares Fewest shares accepted.
    @param receiver Receiver of the shares.
    @return The shares minted.
    """
    self._check_open()
    self._check_receiver(receiver)
    assert amount > 0, "vault: zero amount"
    assert self.balances[asset] > 0 or self._is_asset(asset), "vault: unknown asset"
    shares: uint256 = 0
    usd_value: uint256 = 0
    shares, usd_value = self._deposit_shares(asset, amount)
    assert shares > 0, "vault: zero shares"
    assert shares >= min_shares, "vault: shares below minimum"
    self._pull(asset, amount)
    self.balances[asset] += amount
    if erc20.totalSupply == 0:
        erc20._mint(self, constants.DEAD_SHARES)
    erc20._mint(receiver, shares)
    log Deposit(sender=msg.sender, receiver=receiver, asset=asset, amount=amount, shares=shares, usd_value=usd_value)
    return shares


@external
@nonreentrant
def exit(
    shares: uint256, min_amounts_out: DynArray[uint256, constants.MAX_ASSETS], receiver: address
) -> DynArray[uint256, constants.MAX_ASSETS]:
    """
    @notice Burns `shares` of the caller and sends its pro-rata part of
            every asset to `receiver`. Works while paused, after shutdown
            and with every oracle dead: it reads no price.
    @param shares Shares to burn.
    @param min_amounts_out Fewest of each asset accepted.
    @param receiver Receiver of the assets.
    @return The amounts sent, in `assets` order.
    """
    assert shares > 0, "vault: zero shares"
    self._check_receiver(receiver)
    assert len(min_amounts_out) == len(assets), "vault: amounts length"
    amounts: DynArray[uint256, constants.MAX_ASSETS] = self._exit_amounts(shares, erc20.totalSupply)
    erc20._burn(msg.sender, shares)
    # Debit everything before the first transfer, so that `balances` and
    # `totalSupply` agree while a token calls out (read-only reentrancy).
    for i: uint256 in range(len(assets), bound=constants.MAX_ASSETS):
        assert amounts[i] >= min_amounts_out[i], "vault: amount below minimum"
        self.balances[assets[i]] -= amounts[i]
    for i: uint256 in range(len(assets), bound=constants.MAX_ASSETS):
        if amounts[i] > 0:
            assert extcall IERC20(assets[i]).transfer(receiver, amounts[i], default_return_value=True)
    log Exit(sender=msg.sender, receiver=receiver, shares=shares, amounts=amounts)
    return amounts


# ---------------------------------------------------------------- keeper


@external
@nonreentrant
def rebalance(trades: DynArray[Trade, constants.MAX_TRADES]) -> uint256:
    """
    @notice Executes the keeper's trades if, and only if, the trigger holds
            and every check passes: whitelisted venues, fresh prices, each
            trade within `max_slippage_bps` of the oracle, no asset's drift
            grown, no asset pushed past its band on the other side, total
            drift lowered, value lost within `max_cost_bps`, turnover under
            its cap, and the cooldown over.
    @param trades Swaps to run, in order.
    @return The value lost (USD, 18 decimals).
    """
    assert self.roles[msg.sender] & constants.ROLE_KEEPER != 0, "vault: not keeper"
    self._check_open()
    assert len(trades) > 0, "vault: no trades"
    status: uint256 = self._status
    assert block.timestamp >= basket._last_rebalance() + (status >> 152), "vault: cooldown"
    prices: DynArray[uint256, constants.MAX_ASSETS] = self._prices()
    targets: DynArray[uint256, constants.MAX_ASSETS] = basket._targets(assets)
    value_before: uint256 = 0
    weights_before: DynArray[uint256, constants.MAX_ASSETS] = []
    value_before, weights_before = self._weights(prices)
    drifts_before: DynArray[int256, constants.MAX_ASSETS] = self._drifts(weights_before, targets)
    due: bool = False
    reason: String[16] = ""
    due, reason = basket._needs_rebalance(assets, drifts_before)
    assert due, "vault: rebalance not due"

    traded: uint256 = 0
    for trade: Trade in trades:
        traded += self._execute(trade, prices)

    value_after: uint256 = 0
    weights_after: DynArray[uint256, constants.MAX_ASSETS] = []
    value_after, weights_after = self._weights(prices)
    cost: uint256 = 0
    if value_before > value_after:
        cost = value_before - value_after
    assert cost * constants.MAX_BPS <= value_before * ((status >> 40) & 65535), "vault: cost too high"
    self._spend_turnover(traded, value_before, status)

    # An untraded asset's weight rises by at most cost / value when value
    # is lost, so that much drift growth is tolerated (rounded up).
    tolerance: uint256 = math._mul_div(cost, constants.WAD, value_after, True)
    drifts_after: DynArray[int256, constants.MAX_ASSETS] = self._drifts(weights_after, targets)
    total_before: uint256 = 0
    total_after: uint256 = 0
    for i: uint256 in range(len(assets), bound=constants.MAX_ASSETS):
        before: uint256 = convert(abs(drifts_before[i]), uint256)
        after: uint256 = convert(abs(drifts_after[i]), uint256)
        assert after <= before + tolerance, "vault: drift grew"
        band: int256 = convert(basket._band(assets[i]) * constants.BPS_TO_WAD, int256)
        crossed: bool = (drifts_before[i] > 0 and drifts_after[i] < -band) or (drifts_before[i] < 0 and drifts_after[i] > band)
        assert not crossed, "vault: overshoot"
        total_before += before
        total_after += after
    assert total_after < total_before, "vault: drift not reduced"

    basket._observe(assets, prices, True)
    log Rebalanced(
        keeper=msg.sender,
        reason=reason,
        value_before=value_before,
        value_after=value_after,
        cost=cost,
        value_traded=traded,
        weights_before=weights_before,
        weights_after=weights_after,
        total_drift_before=total_before,
        total_drift_after=total_after,
    )
    return cost


@external
@nonreentrant
def observe() -> bool:
    """
    @notice Records one oracle price observation per asset for the hybrid
            trigger's volatility estimate. Anyone may call; calls closer
            together than `vol_min_interval` are ignored.
    @return True if the observation was recorded.
    """
    return basket._observe(assets, self._prices(), False)


# ---------------------------------------------------------------- views


@view
@external
def get_assets() -> DynArray[address, constants.MAX_ASSETS]:
    """
    @notice The basket, in the order of every array argument and result.
    """
    return assets


@view
@external
def paused() -> bool:
    """
    @notice True while joins, deposits and rebalances are paused (exits never are).
    """
    return self._status & _PAUSED != 0


@view
@external
def is_shutdown() -> bool:
    """
    @notice True once the vault is shut down: only exits work, for good.
    """
    return self._status & _SHUTDOWN != 0


@view
@external
def entry_haircut_bps() -> uint256:
    """
    @notice Haircut on single-asset deposits, bps, covering oracle lag.
    """
    return (self._status >> 8) & 65535


@view
@external
def max_slippage_bps() -> uint256:
    """
    @notice Worst accepted realised price of a trade against the oracle, bps.
    """
    return (self._status >> 24) & 65535


@view
@external
def max_cost_bps() -> uint256:
    """
    @notice Most value a rebalance may lose, bps of vault value.
    """
    return (self._status >> 40) & 65535


@view
@external
def turnover_cap_bps() -> uint256:
    """
    @notice Most value traded per turnover period, bps of vault value.
    """
    return (self._status >> 56) & (2**32 - 1)


@view
@external
def turnover_period() -> uint256:
    """
    @notice Length of a turnover period, seconds.
    """
    return (self._status >> 88) & _U64


@view
@external
def cooldown() -> uint256:
    """
    @notice Shortest time between two rebalances, seconds.
    """
    return self._status >> 152


@view
@external
def turnover_period_start() -> uint256:
    """
    @notice Start of the current turnover period.
    """
    return self._turnover & _U64


@view
@external
def turnover_used() -> uint256:
    """
    @notice USD value (WAD) traded in the current turnover period.
    """
    return self._turnover >> 64


@view
@external
@nonreentrant
def price(asset: address) -> uint256:
    """
    @notice Validated oracle price of one whole `asset` in USD (18 decimals).
    """
    return pricing._price(asset)


@view
@external
@nonreentrant
def total_value() -> uint256:
    """
    @notice Oracle value of the tracked balances in USD (18 decimals), rounded down.
    """
    usd_value: uint256 = 0
    weights: DynArray[uint256, constants.MAX_ASSETS] = []
    usd_value, weights = self._weights(self._prices())
    return usd_value


@view
@external
@nonreentrant
def target_weights() -> DynArray[uint256, constants.MAX_ASSETS]:
    """
    @notice Effective target weights now (WAD, 1e18 = 100%), along any ramp.
    """
    return basket._targets(assets)


@view
@external
@nonreentrant
def current_weights() -> DynArray[uint256, constants.MAX_ASSETS]:
    """
    @notice Oracle-valued weights of the holdings (WAD), rounded down.
    """
    usd_value: uint256 = 0
    weights: DynArray[uint256, constants.MAX_ASSETS] = []
    usd_value, weights = self._weights(self._prices())
    return weights


@view
@external
@nonreentrant
def drifts() -> DynArray[int256, constants.MAX_ASSETS]:
    """
    @notice Current weight minus target weight of every asset (WAD, signed).
    """
    usd_value: uint256 = 0
    weights: DynArray[uint256, constants.MAX_ASSETS] = []
    usd_value, weights = self._weights(self._prices())
    return self._drifts(weights, basket._targets(assets))


@view
@external
@nonreentrant
def max_drift() -> uint256:
    """
    @notice Largest |drift| across the basket (WAD).
    """
    usd_value: uint256 = 0
    weights: DynArray[uint256, constants.MAX_ASSETS] = []
    usd_value, weights = self._weights(self._prices())
    largest: uint256 = 0
    current_drifts: DynArray[int256, constants.MAX_ASSETS] = self._drifts(weights, basket._targets(assets))
    for drift: int256 in current_drifts:
        largest = max(largest, convert(abs(drift), uint256))
    return largest


@view
@external
@nonreentrant
def needs_rebalance() -> (bool, String[16]):
    """
    @notice Whether the trigger holds now, and why: "calendar", "threshold",
            "outer band", "hybrid" or "" when not due. False while paused,
            shut down or empty.
    """
    if self._status & _CLOSED != 0:
        return False, ""
    usd_value: uint256 = 0
    weights: DynArray[uint256, constants.MAX_ASSETS] = []
    usd_value, weights = self._weights(self._prices())
    if usd_value == 0:
        return False, ""  # an empty vault has nothing to rebalance
    return basket._needs_rebalance(assets, self._drifts(weights, basket._targets(assets)))


@view
@external
def asset_config(asset: address) -> (uint256, uint256, uint256):
    """
    @notice Final target weight, band and outer band of `asset`, in bps.
    """
    self._check_asset(asset)
    return basket._target_bps(asset), basket._band(asset), basket._outer_band(asset)


@view
@external
def vol_scale_bps(asset: address) -> uint256:
    """
    @notice Hybrid band multiplier of `asset` from its volatility estimate, bps.
    """
    self._check_asset(asset)
    return basket._vol_scale_bps(asset)


@view
@external
@nonreentrant
def preview_join(shares: uint256) -> DynArray[uint256, constants.MAX_ASSETS]:
    """
    @notice Amounts `join(shares, ...)` would take now (rounded up). Zero
            for an empty vault, whose first join sets its own amounts.
    """
    supply: uint256 = erc20.totalSupply
    if supply == 0:
        empty_amounts: DynArray[uint256, constants.MAX_ASSETS] = []
        for asset: address in assets:
            empty_amounts.append(0)
        return empty_amounts
    return self._join_amounts(shares, supply)


@view
@external
@nonreentrant
def preview_deposit(asset: address, amount: uint256) -> uint256:
    """
    @notice Shares `deposit(asset, amount, ...)` would mint now (rounded down).
    """
    self._check_asset(asset)
    shares: uint256 = 0
    usd_value: uint256 = 0
    shares, usd_value = self._deposit_shares(asset, amount)
    return shares


@view
@external
@nonreentrant
def preview_exit(shares: uint256) -> DynArray[uint256, constants.MAX_ASSETS]:
    """
    @notice Amounts `exit(shares, ...)` would send now (rounded down).
    """
    return self._exit_amounts(shares, erc20.totalSupply)


# ---------------------------------------------------------------- owner


@external
def set_role(account: address, account_roles: uint256):
    """
    @notice Sets the role bits of `account` (1 guardian, 2 keeper).
    """
    ownable._check_owner()
    checks._require(account != empty(address), "vault: zero address")
    checks._require(account_roles <= constants.ROLE_GUARDIAN | constants.ROLE_KEEPER, "vault: bad roles")
    self.roles[account] = account_roles
    log RoleSet(account=account, roles=account_roles)


@external
def set_venue(venue: address, allowed: bool):
    """
    @notice Whitelists or removes a venue for rebalancing trades.
    """
    ownable._check_owner()
    checks._require(venue != empty(address), "vault: zero address")
    self.venue_allowed[venue] = allowed
    log VenueSet(venue=venue, allowed=allowed)


@external
def set_limits(limits: Limits):
    """
    @notice Sets the slippage, cost, turnover and cooldown limits.
    """
    ownable._check_owner()
    self._set_limits(limits)


@external
def set_entry_haircut(entry_haircut_bps: uint256):
    """
    @notice Sets the haircut on single-asset deposits, bps.
    """
    ownable._check_owner()
    self._set_entry_haircut(entry_haircut_bps)


@external
def set_trigger(trigger: TriggerConfig):
    """
    @notice Sets the trigger family and its parameters. A new volatility
            reference resets the estimates to it.
    """
    ownable._check_owner()
    basket._set_trigger(
        trigger.trigger_type,
        trigger.rebalance_interval,
        trigger.vol_reference,
        trigger.vol_alpha_bps,
        trigger.vol_min_interval,
        assets,
    )


@external
def set_target_weights(weights_bps: DynArray[uint256, constants.MAX_ASSETS], ramp_duration: uint256):
    """
    @notice Ramps the targets linearly from where they are now to
            `weights_bps` (summing to 10_000) over `ramp_duration` seconds.
    """
    ownable._check_owner()
    checks._require(ramp_duration >= constants.MIN_RAMP_DURATION, "vault: ramp too short")
    basket._set_targets(assets, weights_bps, ramp_duration)


@external
def set_bands(asset: address, band_bps: uint256, outer_band_bps: uint256):
    """
    @notice Sets the drift band and the hybrid trigger's hard outer band of `asset`.
    """
    ownable._check_owner()
    self._check_asset(asset)
    basket._set_bands(asset, band_bps, outer_band_bps)


@external
def set_feed(asset: address, feed: address, heartbeat: uint256, min_answer: uint256, max_answer: uint256):
    """
    @notice Replaces the price feed of `asset`.
    """
    ownable._check_owner()
    self._check_asset(asset)
    pricing._set_feed(asset, feed, heartbeat, min_answer, max_answer)


# ---------------------------------------------------------------- guardian


@external
def pause():
    """
    @notice Stops joins, deposits and rebalances. Exits continue.
    """
    self._check_guardian()
    self._status |= _PAUSED
    log Paused(account=msg.sender, paused=True)


@external
def unpause():
    """
    @notice Resumes joins, deposits and rebalances.
    """
    self._check_guardian()
    self._status &= ~_PAUSED
    log Paused(account=msg.sender, paused=False)


@external
def shutdown():
    """
    @notice Stops everything but exits, irreversibly.
    """
    self._check_guardian()
    self._status |= _SHUTDOWN
    log Shutdown(account=msg.sender)


# ---------------------------------------------------------------- internal


@internal
@view
def _check_open():
    status: uint256 = self._status
    assert status & _SHUTDOWN == 0, "vault: shut down"
    assert status & _PAUSED == 0, "vault: paused"


@internal
@view
def _check_guardian():
    checks._require(msg.sender == ownable.owner or self.roles[msg.sender] & constants.ROLE_GUARDIAN != 0, "vault: not guardian")


@internal
@view
def _is_asset(asset: address) -> bool:
    return asset in assets


@internal
@view
def _check_asset(asset: address):
    checks._require(self._is_asset(asset), "vault: unknown asset")


@internal
@pure
def _check_receiver(receiver: address):
    assert receiver != empty(address), "vault: zero receiver"


@internal
def _set_limits(limits: Limits):
    checks._require(limits.max_slippage_bps <= constants.MAX_SLIPPAGE_BPS, "vault: slippage too high")
    checks._require(limits.max_cost_bps <= constants.MAX_COST_BPS, "vault: cost too high")
    checks._require(limits.turnover_cap_bps > 0 and limits.turnover_cap_bps <= 10 * constants.MAX_BPS, "vault: bad turnover cap")
    checks._require(limits.turnover_period > 0, "vault: zero turnover period")
    checks._require(limits.turnover_period | limits.cooldown <= _U64, "vault: duration too long")
    # Keep the flags and the haircut (bits 0-23).
    self._status = (
        (self._status & (2**24 - 1))
        | (limits.max_slippage_bps << 24)
        | (limits.max_cost_bps << 40)
        | (limits.turnover_cap_bps << 56)
        | (limits.turnover_period << 88)
        | (limits.cooldown << 152)
    )
    log LimitsSet(
        max_slippage_bps=limits.max_slippage_bps,
        max_cost_bps=limits.max_cost_bps,
        turnover_cap_bps=limits.turnover_cap_bps,
        turnover_period=limits.turnover_period,
        cooldown=limits.cooldown,
    )


@internal
def _set_entry_haircut(entry_haircut_bps: uint256):
    checks._require(entry_haircut_bps <= constants.MAX_ENTRY_HAIRCUT_BPS, "vault: haircut too high")
    self._status = (self._status & ~(65535 << 8)) | (entry_haircut_bps << 8)
    log EntryHaircutSet(entry_haircut_bps=entry_haircut_bps)


@internal
def _pull(asset: address, amount: uint256):
    """
    @dev Pulls exactly `amount`; the caller credits it. Fee-on-transfer
         tokens are rejected: the vault must receive what it credits.
    """
    before: uint256 = staticcall IERC20(asset).balanceOf(self)
    assert extcall IERC20(asset).transferFrom(msg.sender, self, amount, default_return_value=True)
    assert staticcall IERC20(asset).balanceOf(self) - before == amount, "vault: fee-on-transfer token"


@internal
def _execute(trade: Trade, prices: DynArray[uint256, constants.MAX_ASSETS]) -> uint256:
    """
    @dev Runs one swap, measuring what actually moved; returns the oracle
         value of what was sold (rounded up).
    """
    assert self.venue_allowed[trade.venue], "vault: venue not allowed"
    assert trade.token_in != trade.token_out, "vault: same token"
    assert trade.amount_in > 0, "vault: zero amount"
    price_in: uint256 = 0
    price_out: uint256 = 0
    for i: uint256 in range(len(assets), bound=constants.MAX_ASSETS):
        if assets[i] == trade.token_in:
            price_in = prices[i]
        elif assets[i] == trade.token_out:
            price_out = prices[i]
    assert price_in != 0 and price_out != 0, "vault: unknown asset"
    assert trade.amount_in <= self.balances[trade.token_in], "vault: amount above balance"

    in_before: uint256 = staticcall IERC20(trade.token_in).balanceOf(self)
    out_before: uint256 = staticcall IERC20(trade.token_out).balanceOf(self)
    # The input is pushed to the venue's payee (a pair, or the adapter), never
    # approved: a venue holds no allowance and cannot take more than it is sent.
    payee: address = staticcall IVenue(trade.venue).payee(trade.token_in, trade.token_out)
    assert payee != empty(address), "vault: venue has no pool"
    assert extcall IERC20(trade.token_in).transfer(payee, trade.amount_in, default_return_value=True)
    extcall IVenue(trade.venue).swap(trade.token_in, trade.token_out, trade.amount_in, trade.min_amount_out, self)
    # A venue that sends some input back has not sold `amount_in`.
    assert in_before - staticcall IERC20(trade.token_in).balanceOf(self) == trade.amount_in, "vault: venue took wrong amount"
    received: uint256 = staticcall IERC20(trade.token_out).balanceOf(self) - out_before
    assert received >= trade.min_amount_out, "vault: output below minimum"
    spent: uint256 = trade.amount_in

    value_in: uint256 = pricing._value(trade.token_in, spent, price_in, True)
    value_out: uint256 = pricing._value(trade.token_out, received, price_out, False)
    slippage: uint256 = (self._status >> 24) & 65535
    assert value_out * constants.MAX_BPS >= value_in * (constants.MAX_BPS - slippage), "vault: slippage"
    self.balances[trade.token_in] -= spent
    self.balances[trade.token_out] += received
    log TradeExecuted(
        venue=trade.venue,
        token_in=trade.token_in,
        token_out=trade.token_out,
        amount_in=spent,
        amount_out=received,
        value_in=value_in,
        value_out=value_out,
    )
    return value_in


@internal
def _spend_turnover(traded: uint256, vault_value: uint256, status: uint256):
    """
    @dev Fixed windows: the allowance refills when a period has passed.
    """
    turnover: uint256 = self._turnover
    start: uint256 = turnover & _U64
    used: uint256 = turnover >> 64
    if block.timestamp >= start + ((status >> 88) & _U64):
        start = block.timestamp
        used = 0
    used += traded
    # `used` must also fit its 192 bits: unreachable below 6e38 USD of value.
    cap: uint256 = (status >> 56) & (2**32 - 1)
    assert used < 2**192 and used * constants.MAX_BPS <= vault_value * cap, "vault: turnover cap"
    self._turnover = start | (used << 64)


@internal
@view
def _prices() -> DynArray[uint256, constants.MAX_ASSETS]:
    prices: DynArray[uint256, constants.MAX_ASSETS] = []
    for asset: address in assets:
        prices.append(pricing._price(asset))
    return prices


@internal
@view
def _weights(
    prices: DynArray[uint256, constants.MAX_ASSETS]
) -> (uint256, DynArray[uint256, constants.MAX_ASSETS]):
    """
    @dev Total value and weights (WAD), both rounded down. An empty vault
         has all-zero weights.
    """
    values: DynArray[uint256, constants.MAX_ASSETS] = []
    total: uint256 = 0
    for i: uint256 in range(len(assets), bound=constants.MAX_ASSETS):
        usd_value: uint256 = pricing._value(assets[i], self.balances[assets[i]], prices[i], False)
        values.append(usd_value)
        total += usd_value
    weights: DynArray[uint256, constants.MAX_ASSETS] = []
    for usd_value: uint256 in values:
        if total == 0:
            weights.append(0)
        else:
            weights.append(usd_value * constants.WAD // total)
    return total, weights


@internal
@pure
def _drifts(
    weights: DynArray[uint256, constants.MAX_ASSETS], targets: DynArray[uint256, constants.MAX_ASSETS]
) -> DynArray[int256, constants.MAX_ASSETS]:
    drifts: DynArray[int256, constants.MAX_ASSETS] = []
    for i: uint256 in range(len(weights), bound=constants.MAX_ASSETS):
        # Both are at most WAD, far inside int256.
        drifts.append(convert(weights[i], int256) - convert(targets[i], int256))
    return drifts


@internal
@view
def _join_amounts(
    shares: uint256, supply: uint256
) -> DynArray[uint256, constants.MAX_ASSETS]:
    amounts: DynArray[uint256, constants.MAX_ASSETS] = []
    for asset: address in assets:
        amounts.append(math._mul_div(shares, self.balances[asset], supply, True))
    return amounts


@internal
@view
def _exit_amounts(
    shares: uint256, supply: uint256
) -> DynArray[uint256, constants.MAX_ASSETS]:
    amounts: DynArray[uint256, constants.MAX_ASSETS] = []
    for asset: address in assets:
        if supply == 0:
            amounts.append(0)
        else:
            amounts.append(math._mul_div(shares, self.balances[asset], supply, False))
    return amounts


@internal
@view
def _deposit_shares(asset: address, amount: uint256) -> (uint256, uint256):
    """
    @dev Shares for `amount` of `asset` after the haircut, rounded down,
         and the asset's oracle value (rounded down). Needs every price,
         since the vault's total value is the denominator.
    """
    prices: DynArray[uint256, constants.MAX_ASSETS] = self._prices()
    total: uint256 = 0
    price: uint256 = 0
    for i: uint256 in range(len(assets), bound=constants.MAX_ASSETS):
        total += pricing._value(assets[i], self.balances[assets[i]], prices[i], True)
        if assets[i] == asset:
            price = prices[i]
    usd_value: uint256 = pricing._value(asset, amount, price, False)
    net: uint256 = math._mul_div(usd_value, constants.MAX_BPS - ((self._status >> 8) & 65535), constants.MAX_BPS, False)
    supply: uint256 = erc20.totalSupply
    if supply == 0:
        if net <= constants.DEAD_SHARES:
            return 0, usd_value
        return net - constants.DEAD_SHARES, usd_value
    if total == 0:
        # Only the dead shares remain and they own nothing: price at 1 USD.
        return net, usd_value
    # The denominator is the vault value rounded up: fewer shares, vault's favour.
    return math._mul_div(net, supply, total, False), usd_value
