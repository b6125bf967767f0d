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
from interfaces import IVault
from interfaces import IRules
from interfaces import ISleeve
from snekmate.auth import ownable
from snekmate.tokens import erc20
from snekmate.utils import math
from contracts.modules import constants
from contracts.modules import checks
from contracts.modules import pricing
from contracts.modules import basket
from contracts.modules import packing
from contracts.modules import rules

implements: IVault

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
    basket.RULES,
)



# @dev The basket, in a fixed order that every array argument follows. Fixed
#      at deployment, so kept in code: no storage read per asset.
assets: immutable(DynArray[address, constants.MAX_ASSETS])
# @dev Tracked balance of each asset: what the vault owes its holders.
balances: public(HashMap[address, uint256])
# @dev Role bits (ROLE_GUARDIAN | ROLE_KEEPER) of each account.
roles: public(HashMap[address, uint256])
# @dev Venues the keeper may trade on.
venue_allowed: public(HashMap[address, bool])
# @dev The `LendingSleeve` holding what the vault has lent (none if empty).
#      Set once; holdings are `balances` (idle) plus its `lent_assets(entry)`.
sleeve: public(address)
# @dev One slot read by every entry and by a rebalance (`packing`: status):
#      the paused and shut-down flags, the entry haircut, and the slippage,
#      cost, turnover and cooldown limits. Joins, deposits and rebalances
#      stop while paused or shut down; exits never do.
_status: uint256
# @dev Each asset's second price source, a Uniswap V3 TWAP (`packing`:
#      price guard; 0: none). Single-asset deposits and rebalances check it.
price_guard: public(HashMap[address, uint256])
# @dev Start of the current turnover period and the USD value traded in it
#      (`packing`: turnover): one slot, written by every rebalance.
_turnover: uint256
# @dev ERC-7575's share-side lookup: the entry point (`AssetEntry`) of each
#      basket asset, owner-set (`set_entry`); none until set.
vault: public(HashMap[address, address])


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


event PriceGuardSet:
    asset: indexed(address)
    pool: indexed(address)
    window: uint256
    max_deviation_bps: uint256


event HaircutBoundsSet:
    floor_bps: uint256
    cap_bps: uint256
    horizon: uint256


event Paused:
    account: indexed(address)
    paused: bool


event SleeveSet:
    sleeve: indexed(address)


event Shutdown:
    account: indexed(address)


# @dev ERC-7575's event for a change of `vault(asset)`.
event VaultUpdate:
    asset: indexed(address)
    vault: address


@deploy
def __init__(
    name: String[25], symbol: String[5], basket_assets: DynArray[address, constants.MAX_ASSETS], rules_contract: address
):
    """
    @notice Deploys a vault over `basket_assets`; the deployer becomes owner
            and configures it with the owner's setters (feeds, bands,
            targets, trigger, limits, haircut, venues, roles) before anyone
            enters: `VaultFactory` does all of it in the deploying call.
            Until its feeds are set no entry can be priced.
    @param name Share token name.
    @param symbol Share token symbol.
    @param basket_assets The basket's tokens (2 to 8, distinct), in the
           order every array argument follows.
    @param rules_contract The shared `Rules` contract the vault's ramp,
           trigger, volatility and settings checks run in.
    """
    ownable.__init__()
    erc20.__init__(name, symbol, 18, name, "1")
    pricing.__init__()
    basket.__init__(rules_contract)
    assert len(basket_assets) >= 2, "vault: too few assets"
    for i: uint256 in range(len(basket_assets), bound=constants.MAX_ASSETS):
        assert basket_assets[i] != empty(address), "vault: zero address"
        for j: uint256 in range(i, bound=constants.MAX_ASSETS):
            assert basket_assets[j] != basket_assets[i], "vault: duplicate asset"
    assets = basket_assets
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
        amounts = rules._join_amounts(shares, self._holdings(True), supply)
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
            and with every oracle dead: it reads no price. The lent part
            comes from the sleeve: redeemed when its market can pay,
            else in market shares (`LendingSleeve.pay_exit`).
    @param shares Shares to burn.
    @param min_amounts_out Fewest of each idle asset accepted.
    @param receiver Receiver of the assets.
    @return The idle amounts sent, in `assets` order.
    """
    assert shares > 0, "vault: zero shares"
    self._check_receiver(receiver)
    assert len(min_amounts_out) == len(assets), "vault: amounts length"
    supply: uint256 = erc20.totalSupply
    amounts: DynArray[uint256, constants.MAX_ASSETS] = rules._exit_amounts(shares, self._balances(), supply)
    erc20._burn(msg.sender, shares)
    # Debit everything before the first transfer, so that `balances` and
    # `totalSupply` agree while a token calls out (read-only reentrancy).
    for i: uint256 in range(len(assets), bound=constants.MAX_ASSETS):
        assert amounts[i] >= min_amounts_out[i], "vault: amount below minimum"
        self.balances[assets[i]] -= amounts[i]
    for i: uint256 in range(len(assets), bound=constants.MAX_ASSETS):
        if amounts[i] > 0:
            assert extcall IERC20(assets[i]).transfer(receiver, amounts[i], default_return_value=True)
    lender: address = self.sleeve
    if lender != empty(address):
        extcall ISleeve(lender).pay_exit(receiver, shares, supply)
    log Exit(sender=msg.sender, receiver=receiver, shares=shares, amounts=amounts)
    return amounts


# ---------------------------------------------------------------- keeper


@external
@nonreentrant
def rebalance(trades: DynArray[IVault.Trade, constants.MAX_TRADES]) -> uint256:
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
    cooldown: uint256 = packing._unpack(status, packing.COOLDOWN_AT, packing.DURATION_BITS)
    assert block.timestamp >= basket._last_rebalance() + cooldown, "vault: cooldown"
    prices: DynArray[uint256, constants.MAX_ASSETS] = self._prices()
    self._check_sources(prices, True)
    value_before: uint256 = 0
    weights_before: DynArray[uint256, constants.MAX_ASSETS] = []
    value_before, weights_before = self._weights(prices)
    targets: DynArray[uint256, constants.MAX_ASSETS] = []
    drifts_before: DynArray[int256, constants.MAX_ASSETS] = []
    due: bool = False
    reason: String[16] = ""
    targets, drifts_before, due, reason = basket._due(assets, weights_before)
    assert due, "vault: rebalance not due"

    traded: uint256 = 0
    for trade: IVault.Trade in trades:
        value_in: uint256 = 0
        realised: uint256 = 0
        value_in, realised = self._execute(trade, prices)
        traded += value_in
        # A recall at a market rate above the counted one realises value the vault did not
        # count: it was there before the trades, so it cannot pay for their cost.
        value_before += realised

    value_after: uint256 = 0
    weights_after: DynArray[uint256, constants.MAX_ASSETS] = []
    value_after, weights_after = self._weights(prices)
    cost: uint256 = 0
    if value_before > value_after:
        cost = value_before - value_after
    max_cost: uint256 = packing._unpack(status, packing.COST_AT, packing.BPS_BITS)
    assert cost * constants.MAX_BPS <= value_before * max_cost, "vault: cost too high"
    # An untraded asset's weight rises by at most cost / value when value
    # is lost, so that much drift growth is tolerated (rounded up).
    tolerance: uint256 = math._mul_div(cost, constants.WAD, value_after, True)
    rules_contract: IRules = IRules(basket.RULES)
    turnover: uint256 = 0
    total_before: uint256 = 0
    total_after: uint256 = 0
    turnover, total_before, total_after = staticcall rules_contract.settle(
        self._turnover,
        status,
        traded,
        value_before,
        drifts_before,
        weights_after,
        targets,
        basket._configs(assets),
        tolerance,
        block.timestamp,
    )
    self._turnover = turnover

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


@external
@nonreentrant
def lend(asset: address, amount: uint256):
    """
    @notice Moves `amount` of idle `asset` into its lending market through
            the sleeve. Refused while paused or shut down, and by the sleeve
            past the market's `maxDeposit`, below the idle buffer, or while
            a loss above `max_loss_bps` stands.
    """
    self._check_allocator()
    self._check_open()
    assert amount > 0, "vault: zero amount"
    idle: uint256 = self.balances[asset]
    assert amount <= idle, "vault: amount above balance"
    self.balances[asset] = idle - amount
    lender: address = self._sleeve()
    assert extcall IERC20(asset).transfer(lender, amount, default_return_value=True)
    extcall ISleeve(lender).supply(asset, amount, idle - amount)


@external
@nonreentrant
def recall(asset: address, amount: uint256):
    """
    @notice Brings `amount` of `asset` back from its lending market to idle.
            Allowed while paused and after shutdown.
    """
    self._check_allocator()
    self._recall(asset, amount)  # outside a rebalance a realised gain is simply counted from now on


# ---------------------------------------------------------------- views


@view
@external
def get_assets() -> DynArray[address, constants.MAX_ASSETS]:
    """
    @notice The basket, in the order every array argument follows.
    """
    return assets


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
def raw_state() -> IVault.VaultState:
    """
    @notice Every word the vault's rules read, as stored: per asset its
            tracked balance and packed feed config, feed bounds, ramp start
            weight and observation; the packed status, turnover, clock and
            trigger; the share supply. `VaultLens` derives every view and
            preview from it with the vault's own `rules`.
    @dev Locked like every entry point, so that no contract called back
         mid-entry reads balances and supply that disagree.
    """
    states: DynArray[IVault.AssetState, constants.MAX_ASSETS] = []
    for asset: address in assets:
        states.append(
            IVault.AssetState(
                asset=asset,
                balance=self.balances[asset],
                feed_config=pricing.feed_config[asset],
                feed_bounds=pricing.feed_bounds[asset],
                ramp_weight=basket.ramp_weight[asset],
                observation=basket._observation[asset],
            )
        )
    return IVault.VaultState(
        assets=states,
        total_supply=erc20.totalSupply,
        status=self._status,
        turnover=self._turnover,
        clock=basket._clock,
        trigger=basket._trigger,
    )


# ---------------------------------------------------------------- owner


@external
def set_role(account: address, account_roles: uint256):
    """
    @notice Sets the role bits of `account` (1 guardian, 2 keeper, 4 allocator).
    """
    ownable._check_owner()
    checks._require(account != empty(address), "vault: zero address")
    checks._require(account_roles <= constants.ROLE_GUARDIAN | constants.ROLE_KEEPER | constants.ROLE_ALLOCATOR, "vault: bad roles")
    self.roles[account] = account_roles
    log RoleSet(account=account, roles=account_roles)


@external
def set_sleeve(new_sleeve: address):
    """
    @notice Attaches the `LendingSleeve` that will hold what the vault lends.
            Once only: lent funds can never be moved to another sleeve.
    """
    ownable._check_owner()
    checks._require(self.sleeve == empty(address), "vault: sleeve already set")
    checks._require(staticcall ISleeve(new_sleeve).VAULT() == self, "vault: sleeve of another vault")
    self.sleeve = new_sleeve
    self._status |= packing.LENDING
    log SleeveSet(sleeve=new_sleeve)


@external
def set_entry(asset: address, entry: address):
    """
    @notice Sets the ERC-7575 entry point of `asset` that `vault(asset)`
            returns (none: `empty(address)`). The entry holds nothing: it
            calls `deposit` like any depositor.
    """
    ownable._check_owner()
    self._check_asset(asset)
    self.vault[asset] = entry
    log VaultUpdate(asset=asset, vault=entry)


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
def set_limits(limits: IVault.Limits):
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
def set_haircut_bounds(floor_bps: uint256, cap_bps: uint256, horizon: uint256):
    """
    @notice Makes the deposit haircut follow volatility: sigma * sqrt(horizon
            / year) of the basket's most volatile asset, within [floor_bps,
            cap_bps]; a zero `cap_bps` makes it `floor_bps` flat.
    """
    ownable._check_owner()
    self._status = staticcall IRules(basket.RULES).haircut_word(self._status, floor_bps, cap_bps, horizon)
    log HaircutBoundsSet(floor_bps=floor_bps, cap_bps=cap_bps, horizon=horizon)


@external
def set_price_guard(asset: address, pool: address, window: uint256, max_deviation_bps: uint256):
    """
    @notice Sets the second price source of `asset`: single-asset deposits
            (of any asset: the lag misprices the basket) and rebalances
            refuse while its oracle price and `pool`'s TWAP over `window`
            seconds differ by more than `max_deviation_bps`. A zero `pool`
            removes it. Exits and joins never read it.
    """
    ownable._check_owner()
    self._check_asset(asset)
    guard: uint256 = 0
    status: uint256 = 0
    guard, status = staticcall IRules(basket.RULES).guard_word(asset, pool, window, max_deviation_bps, self._status)
    self.price_guard[asset] = guard
    self._status = status
    log PriceGuardSet(asset=asset, pool=pool, window=window, max_deviation_bps=max_deviation_bps)


@external
def set_trigger(trigger: IVault.TriggerConfig):
    """
    @notice Sets the trigger family and its parameters. A new volatility
            reference resets the estimates to it.
    """
    ownable._check_owner()
    basket._set_trigger(trigger, assets)


@external
def set_target_weights(weights_bps: DynArray[uint256, constants.MAX_ASSETS], ramp_duration: uint256):
    """
    @notice Ramps the targets linearly from where they are now to
            `weights_bps` (summing to 10_000) over `ramp_duration` seconds.
    """
    ownable._check_owner()
    # A ramp protects holders from a sudden retarget; an empty vault has none.
    checks._require(ramp_duration >= constants.MIN_RAMP_DURATION or erc20.totalSupply == 0, "vault: ramp too short")
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
    config: uint256 = 0
    bounds: uint256 = 0
    config, bounds = staticcall IRules(basket.RULES).feed_words(asset, feed, heartbeat, min_answer, max_answer, pricing.feed_config[asset])
    pricing._set_feed(asset, config, bounds, feed, heartbeat, min_answer, max_answer)


# ---------------------------------------------------------------- guardian


@external
def pause():
    """
    @notice Stops joins, deposits and rebalances. Exits continue.
    """
    self._check_guardian()
    self._status |= packing.PAUSED
    log Paused(account=msg.sender, paused=True)


@external
def unpause():
    """
    @notice Resumes joins, deposits and rebalances.
    """
    self._check_guardian()
    self._status &= ~packing.PAUSED
    log Paused(account=msg.sender, paused=False)


@external
def shutdown():
    """
    @notice Stops everything but exits, irreversibly.
    """
    self._check_guardian()
    self._status |= packing.SHUTDOWN
    log Shutdown(account=msg.sender)


# ---------------------------------------------------------------- internal


@internal
@view
def _check_open():
    status: uint256 = self._status
    assert status & packing.SHUTDOWN == 0, "vault: shut down"
    assert status & packing.PAUSED == 0, "vault: paused"


@internal
@view
def _check_guardian():
    checks._require(msg.sender == ownable.owner or self.roles[msg.sender] & constants.ROLE_GUARDIAN != 0, "vault: not guardian")


@internal
@view
def _check_allocator():
    assert self.roles[msg.sender] & constants.ROLE_ALLOCATOR != 0, "vault: not allocator"


@internal
@view
def _sleeve() -> address:
    lender: address = self.sleeve
    assert lender != empty(address), "vault: no sleeve"
    return lender


@internal
def _recall(asset: address, amount: uint256) -> uint256:
    """
    @dev Pulls `amount` of `asset` from the sleeve's market and credits what
         actually arrived; returns what arrived above the counted value of
         the shares burned (a gain realised, in the asset's units).
    """
    lender: address = self._sleeve()
    before: uint256 = staticcall IERC20(asset).balanceOf(self)
    counted: uint256 = extcall ISleeve(lender).pull(asset, amount)
    received: uint256 = staticcall IERC20(asset).balanceOf(self) - before
    assert received >= amount, "vault: recall short"
    self.balances[asset] += received
    return received - min(received, counted)


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
def _set_limits(limits: IVault.Limits):
    self._status = staticcall IRules(basket.RULES).limits_word(self._status, limits)
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
    self._status = packing._pack(self._status, packing.HAIRCUT_AT, packing.BPS_BITS, entry_haircut_bps)
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
def _execute(trade: IVault.Trade, prices: DynArray[uint256, constants.MAX_ASSETS]) -> (uint256, uint256):
    """
    @dev Runs one swap, measuring what actually moved; returns the oracle
         value of what was sold (rounded up) and of the gain a recall of its
         shortfall realised (rounded down).
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
    idle: uint256 = self.balances[trade.token_in]
    realised: uint256 = 0
    if trade.amount_in > idle and self._status & packing.LENDING != 0:
        # Trades spend idle balances only: recall the shortfall first.
        realised = pricing._value(trade.token_in, self._recall(trade.token_in, trade.amount_in - idle), price_in, False)
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
    slippage: uint256 = packing._unpack(self._status, packing.SLIPPAGE_AT, packing.BPS_BITS)
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
    return value_in, realised


@internal
@view
def _prices() -> DynArray[uint256, constants.MAX_ASSETS]:
    prices: DynArray[uint256, constants.MAX_ASSETS] = []
    for asset: address in assets:
        prices.append(pricing._price(asset))
    return prices


@internal
@view
def _check_sources(prices: DynArray[uint256, constants.MAX_ASSETS], rebalance: bool):
    """
    @dev `Rules.check_source` on every asset's price guard: a lagging oracle
         misprices the whole basket, so a deposit of any asset checks them
         all. Reads nothing more while no asset has one.
    """
    if self._status & packing.GUARDED == 0:
        return
    for i: uint256 in range(len(assets), bound=constants.MAX_ASSETS):
        guard: uint256 = self.price_guard[assets[i]]
        if guard != 0:
            quote_price: uint256 = prices[packing._unpack(guard, packing.QUOTE_AT, packing.SMALL_BITS)]
            # A raw call: smaller code than a typed one; a refusal's reason is bubbled up as it is.
            payload: Bytes[132] = abi_encode(
                guard, prices[i], quote_price, rebalance, method_id=method_id("check_source(uint256,uint256,uint256,bool)")
            )
            raw_call(basket.RULES, payload, is_static_call=True)


@internal
@view
def _weights(
    prices: DynArray[uint256, constants.MAX_ASSETS]
) -> (uint256, DynArray[uint256, constants.MAX_ASSETS]):
    """
    @dev Total value and weights (WAD) of the holdings, rounded down.
    """
    holdings: DynArray[uint256, constants.MAX_ASSETS] = self._holdings(False)
    values: DynArray[uint256, constants.MAX_ASSETS] = []
    for i: uint256 in range(len(assets), bound=constants.MAX_ASSETS):
        values.append(pricing._value(assets[i], holdings[i], prices[i], False))
    return rules._weights(values)


@internal
@view
def _balances() -> DynArray[uint256, constants.MAX_ASSETS]:
    balances: DynArray[uint256, constants.MAX_ASSETS] = []
    for asset: address in assets:
        balances.append(self.balances[asset])
    return balances


@internal
@view
def _holdings(entry: bool) -> DynArray[uint256, constants.MAX_ASSETS]:
    """
    @dev Idle plus lent of each asset, rounded up. Weights, drift and
         triggers count the lent part at the sleeve's guarded (counted)
         rate; an `entry` pays for it at the market's reported rate, which
         is what the exit it could follow with would take out.
    """
    holdings: DynArray[uint256, constants.MAX_ASSETS] = self._balances()
    # The status word is warm in every caller; the sleeve's slot is read only when lending.
    if self._status & packing.LENDING != 0:
        lent: DynArray[uint256, constants.MAX_ASSETS] = staticcall ISleeve(self.sleeve).lent_assets(entry)
        for i: uint256 in range(len(assets), bound=constants.MAX_ASSETS):
            holdings[i] += lent[i]
    return holdings


@internal
@view
def _deposit_shares(asset: address, amount: uint256) -> (uint256, uint256):
    """
    @dev Shares for `amount` of `asset` (`rules._deposit_shares`) and its
         oracle value (rounded down). Needs every price, since the vault's
         total value (rounded up) is the denominator. Refuses when a price
         guard disagrees; the haircut follows volatility when capped.
    """
    prices: DynArray[uint256, constants.MAX_ASSETS] = self._prices()
    holdings: DynArray[uint256, constants.MAX_ASSETS] = self._holdings(True)
    total: uint256 = 0
    price: uint256 = 0
    status: uint256 = self._status
    for i: uint256 in range(len(assets), bound=constants.MAX_ASSETS):
        total += pricing._value(assets[i], holdings[i], prices[i], True)
        if assets[i] == asset:
            price = prices[i]
    self._check_sources(prices, False)
    usd_value: uint256 = pricing._value(asset, amount, price, False)
    haircut: uint256 = packing._unpack(status, packing.HAIRCUT_AT, packing.BPS_BITS)
    if status >> packing.HAIRCUT_CAP_AT != 0:
        # The variance is the observation word's top field: no mask needed.
        variance: uint256 = 0
        for a: address in assets:
            variance = max(variance, basket._observation[a] >> packing.VARIANCE_AT)
        haircut = staticcall IRules(basket.RULES).entry_haircut(status, variance)
    return rules._deposit_shares(usd_value, total, haircut, erc20.totalSupply), usd_value
