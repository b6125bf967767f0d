# pragma version 0.4.3
# pragma experimental-codegen
"""
@title Ballast lending sleeve
@custom:contract-name LendingSleeve
@notice Holds one vault's lent balances: per basket asset, shares of one
        ERC-4626 lending market that the vault's owner whitelisted. Only
        its vault moves them: `supply` (the allocator's lend), `pull` (a
        recall, or a rebalance short of idle balance) and `pay_exit` (each
        exit's pro-rata part). The vault counts idle plus `lent_assets(False)`
        in its holdings, weights, drift and triggers.
@dev Lent value is the market's rate (`convertToAssets` of 10**18 shares)
     guarded against manipulation: the counted rate may rise at most
     `max_rate_rise_bps` per year above the last checkpoint, so a donation
     or a reported jump is counted only as fast as that bound unlocks it,
     never at once. A fall is counted at once: a loss in the market lowers
     the vault's value in the same block. While the counted rate stands more
     than `max_loss_bps` below its high-water mark, lending pauses until the
     rate recovers or the owner acknowledges the loss. Rounding: lent value
     rounds up (entries priced against it pay more, never less), an exit's
     part rounds down.
     Exits never block: each market's part is redeemed to the holder if
     the market can pay it, else delivered as market shares, else owed to
     the holder as a claim on this sleeve, with every attempt's gas bounded.
     Entries (`lent_assets(True)`) pay the reported rate instead, since the
     exit they could follow with pays market shares worth that rate.
"""

from ethereum.ercs import IERC20
from ethereum.ercs import IERC4626
from interfaces import IVault
from interfaces import ISleeve
from contracts.modules import constants

implements: ISleeve

# @dev The vault this sleeve serves; only it moves the sleeve's funds.
VAULT: public(immutable(address))
# @dev The vault's basket, in its order.
assets: immutable(DynArray[address, constants.MAX_ASSETS])

# @dev The whitelisted ERC-4626 market of each asset (none if empty).
market: public(HashMap[address, address])
# @dev Market shares held for the vault, per asset (tracked: a donation of
#      shares to the sleeve counts for nothing).
market_shares: public(HashMap[address, uint256])
# @dev Target idle buffer of each asset, bps of the vault's holding of it.
buffer_bps: public(HashMap[address, uint256])
# @dev Counted rate (assets per 10**18 shares) at the last checkpoint, its
#      time, and the high-water mark of the counted rate.
checkpoint_rate: public(HashMap[address, uint256])
checkpoint_time: public(HashMap[address, uint256])
peak_rate: public(HashMap[address, uint256])
# @dev Fastest the counted rate may rise, bps per year.
max_rate_rise_bps: public(uint256)
# @dev Loss below the high-water rate, bps, beyond which lending pauses.
max_loss_bps: public(uint256)
# @dev Market shares owed to a holder whose exit could neither redeem nor
#      receive them: holder => market => shares.
owed: public(HashMap[address, HashMap[address, uint256]])


event MarketSet:
    asset: indexed(address)
    market: indexed(address)
    buffer_bps: uint256


event GuardsSet:
    max_rate_rise_bps: uint256
    max_loss_bps: uint256


event Lent:
    asset: indexed(address)
    market: indexed(address)
    assets: uint256
    shares: uint256


event Recalled:
    asset: indexed(address)
    market: indexed(address)
    assets: uint256
    shares: uint256


event ExitPaid:
    receiver: indexed(address)
    asset: indexed(address)
    market: indexed(address)
    shares: uint256
    assets: uint256
    in_kind: bool


event Owed:
    holder: indexed(address)
    market: indexed(address)
    shares: uint256


event Claimed:
    holder: indexed(address)
    market: indexed(address)
    shares: uint256


event LossAcknowledged:
    asset: indexed(address)
    rate: uint256


@deploy
def __init__(vault: address, max_rate_rise: uint256, max_loss: uint256):
    """
    @notice A sleeve for `vault`; its owner then whitelists markets and the
            vault's owner attaches it with `vault.set_sleeve`.
    @param vault The Ballast vault this sleeve serves.
    @param max_rate_rise Fastest the counted rate may rise, bps per year.
    @param max_loss Loss below the high-water rate that pauses lending, bps.
    """
    VAULT = vault
    assets = staticcall IVault(vault).get_assets()
    self._set_guards(max_rate_rise, max_loss)


# ---------------------------------------------------------------- owner (the vault's)


@external
def set_market(asset: address, market: address, buffer_bps: uint256):
    """
    @notice Whitelists `market` (an ERC-4626 whose `asset()` is `asset`) as
            the only place `asset` may be lent, with a target idle buffer of
            `buffer_bps` of the vault's holding. An empty `market` removes it.
            A market may be replaced only while nothing is lent in it.
    """
    self._check_owner()
    assert asset in assets, "sleeve: unknown asset"
    assert buffer_bps <= constants.MAX_BPS, "sleeve: bad buffer"
    if market != self.market[asset]:
        assert self.market_shares[asset] == 0, "sleeve: market in use"
        if market != empty(address):
            assert staticcall IERC4626(market).asset() == asset, "sleeve: market asset mismatch"
            rate: uint256 = staticcall IERC4626(market).convertToAssets(constants.RATE_SHARES)
            assert rate > 0, "sleeve: market has no rate"
            self.checkpoint_rate[asset] = rate
            self.checkpoint_time[asset] = block.timestamp
            self.peak_rate[asset] = rate
        self.market[asset] = market
    self.buffer_bps[asset] = buffer_bps
    log MarketSet(asset=asset, market=market, buffer_bps=buffer_bps)


@external
def set_guards(max_rate_rise: uint256, max_loss: uint256):
    """
    @notice Sets the fastest the counted rate may rise (bps per year) and the
            loss below the high-water rate (bps) beyond which lending pauses.
    """
    self._check_owner()
    self._set_guards(max_rate_rise, max_loss)


@external
def acknowledge_loss(asset: address):
    """
    @notice Accepts a market's standing loss: the high-water mark drops to
            the counted rate, and lending may resume.
    """
    self._check_owner()
    rate: uint256 = self._checkpoint(asset)
    self.peak_rate[asset] = rate
    log LossAcknowledged(asset=asset, rate=rate)


# ---------------------------------------------------------------- anyone


@external
def checkpoint(asset: address) -> uint256:
    """
    @notice Records the counted rate of `asset`'s market. Safe for anyone:
            the counted rate never rises faster than the bound, however
            often it is recorded.
    @return The counted rate (assets per 10**18 shares).
    """
    return self._checkpoint(asset)


@external
@nonreentrant
def claim(market: address) -> uint256:
    """
    @notice Sends the caller the market shares an earlier exit owed them.
    @return The shares sent.
    """
    shares: uint256 = self.owed[msg.sender][market]
    assert shares > 0, "sleeve: nothing owed"
    self.owed[msg.sender][market] = 0
    assert extcall IERC20(market).transfer(msg.sender, shares, default_return_value=True)
    log Claimed(holder=msg.sender, market=market, shares=shares)
    return shares


# ---------------------------------------------------------------- the vault


@external
@nonreentrant
def supply(asset: address, amount: uint256, idle_after: uint256):
    """
    @notice Lends `amount` of `asset`, which the vault has just sent here,
            into its market. Refused past the market's `maxDeposit`, while a
            loss above `max_loss_bps` stands, or when the vault's idle
            `idle_after` would fall below the buffer.
    """
    assert msg.sender == VAULT, "sleeve: not vault"
    market: address = self.market[asset]
    assert market != empty(address), "sleeve: no market"
    rate: uint256 = self._checkpoint(asset)
    assert rate * constants.MAX_BPS >= self.peak_rate[asset] * (constants.MAX_BPS - self.max_loss_bps), "sleeve: loss above max"
    assert amount <= staticcall IERC4626(market).maxDeposit(self), "sleeve: above max deposit"
    tokens_before: uint256 = staticcall IERC20(asset).balanceOf(self)
    shares_before: uint256 = staticcall IERC20(market).balanceOf(self)
    assert extcall IERC20(asset).approve(market, amount, default_return_value=True)
    extcall IERC4626(market).deposit(amount, self)
    assert tokens_before - staticcall IERC20(asset).balanceOf(self) == amount, "sleeve: market took wrong amount"
    shares: uint256 = staticcall IERC20(market).balanceOf(self) - shares_before
    assert shares > 0, "sleeve: no shares"
    lent: uint256 = self.market_shares[asset] + shares
    self.market_shares[asset] = lent
    holding: uint256 = idle_after + self._lent(lent, rate)
    assert idle_after * constants.MAX_BPS >= holding * self.buffer_bps[asset], "sleeve: below idle buffer"
    log Lent(asset=asset, market=market, assets=amount, shares=shares)


@external
@nonreentrant
def pull(asset: address, amount: uint256) -> uint256:
    """
    @notice Withdraws `amount` of `asset` from its market to the vault, which
            measures what it received. Reverts if the market cannot pay.
    @return The counted value of the market shares burned (rounded up): the
            vault books what arrived above it as a gain realised, not as
            value it had (a market reporting more than the sleeve counts).
    """
    assert msg.sender == VAULT, "sleeve: not vault"
    market: address = self.market[asset]
    assert market != empty(address), "sleeve: no market"
    rate: uint256 = self._counted_rate(asset)
    shares_before: uint256 = staticcall IERC20(market).balanceOf(self)
    extcall IERC4626(market).withdraw(amount, VAULT, self)
    burned: uint256 = shares_before - staticcall IERC20(market).balanceOf(self)
    assert burned <= self.market_shares[asset], "sleeve: recall above lent"
    self.market_shares[asset] -= burned
    self._checkpoint(asset)
    log Recalled(asset=asset, market=market, assets=amount, shares=burned)
    return self._lent(burned, rate)


@external
@nonreentrant
def pay_exit(receiver: address, shares: uint256, supply: uint256):
    """
    @notice Pays an exit of `shares` of `supply` its pro-rata part of every
            market position: redeemed into the asset when the market can pay,
            else delivered as market shares, else owed to `receiver`.
            Never reverts on a market's behaviour.
    """
    assert msg.sender == VAULT, "sleeve: not vault"
    for asset: address in assets:
        held: uint256 = self.market_shares[asset]
        if held == 0:
            continue
        part: uint256 = held * shares // supply
        if part == 0:
            continue
        self.market_shares[asset] = held - part
        market: address = self.market[asset]
        redeemed: uint256 = self._try_redeem(market, part, receiver)
        in_kind: bool = redeemed == max_value(uint256)
        if in_kind:
            redeemed = 0
            if not self._try_transfer(market, receiver, part):
                self.owed[receiver][market] += part
                log Owed(holder=receiver, market=market, shares=part)
        log ExitPaid(receiver=receiver, asset=asset, market=market, shares=part, assets=redeemed, in_kind=in_kind)


# ---------------------------------------------------------------- views


@view
@external
def lent_assets(entry: bool) -> DynArray[uint256, constants.MAX_ASSETS]:
    """
    @notice What the vault has lent of each asset, in its base units,
            rounded up, in the vault's asset order: at the counted rate for
            weights, drift and triggers; for an `entry`, at the market's
            reported rate (never below the counted one), or at the
            checkpoint when the rate cannot be read.
    @dev An exit takes its pro-rata market shares, worth the reported rate;
         an entry priced at the lower counted rate could take the excess not
         yet counted (after a donation or a reported jump) from the other
         holders, so entries pay the reported rate.
    @param entry Whether the value is what an entry pays for.
    """
    lent: DynArray[uint256, constants.MAX_ASSETS] = []
    for asset: address in assets:
        held: uint256 = self.market_shares[asset]
        if held == 0:
            lent.append(0)
            continue
        rate: uint256 = 0
        if entry:
            readable: bool = False
            readable, rate = self._read_rate(self.market[asset])
            if not readable:
                rate = self.checkpoint_rate[asset]
        else:
            rate = self._counted_rate(asset)
        lent.append(self._lent(held, rate))
    return lent


@view
@external
def counted_rate(asset: address) -> uint256:
    """
    @notice The rate the sleeve counts for `asset`'s market now: the lower of
            the reported rate and the bound's allowance over the checkpoint.
    """
    return self._counted_rate(asset)


@view
@external
def reported_rate(asset: address) -> uint256:
    """
    @notice The market's own rate for `asset` (0 if it cannot be read, or
            if the market holds nothing).
    """
    readable: bool = False
    rate: uint256 = 0
    readable, rate = self._read_rate(self.market[asset])
    return rate


# ---------------------------------------------------------------- internal


@internal
@view
def _check_owner():
    assert msg.sender == staticcall IVault(VAULT).owner(), "sleeve: not owner"


@internal
def _set_guards(max_rate_rise: uint256, max_loss: uint256):
    assert max_rate_rise <= constants.MAX_RATE_RISE_BPS, "sleeve: rate rise too high"
    assert max_loss <= constants.MAX_BPS, "sleeve: bad max loss"
    self.max_rate_rise_bps = max_rate_rise
    self.max_loss_bps = max_loss
    log GuardsSet(max_rate_rise_bps=max_rate_rise, max_loss_bps=max_loss)


@internal
@pure
def _lent(shares: uint256, rate: uint256) -> uint256:
    # Rounded up: the vault's value is never understated to an entrant.
    return (shares * rate + constants.RATE_SHARES - 1) // constants.RATE_SHARES


@internal
@view
def _read_rate(market: address) -> (bool, uint256):
    """
    @dev Whether the market's `convertToAssets(10**18)` could be read, and
         its answer. A market that lost everything answers 0: a real rate,
         told apart from a failed call, so a total loss counts at once.
    """
    if market == empty(address):
        return False, 0
    success: bool = False
    response: Bytes[32] = b""
    success, response = raw_call(
        market,
        abi_encode(constants.RATE_SHARES, method_id=method_id("convertToAssets(uint256)")),
        max_outsize=32,
        is_static_call=True,
        revert_on_failure=False,
    )
    if not success or len(response) != 32:
        return False, 0
    return True, abi_decode(response, uint256)


@internal
@view
def _counted_rate(asset: address) -> uint256:
    """
    @dev min(reported, checkpoint * (1 + max_rate_rise * elapsed / year)).
         A market whose rate cannot be read is counted at its checkpoint.
    """
    last: uint256 = self.checkpoint_rate[asset]
    readable: bool = False
    reported: uint256 = 0
    readable, reported = self._read_rate(self.market[asset])
    if not readable:
        return last
    elapsed: uint256 = block.timestamp - self.checkpoint_time[asset]
    allowance: uint256 = last + last * self.max_rate_rise_bps * elapsed // (constants.MAX_BPS * constants.SECONDS_PER_YEAR)
    return min(reported, allowance)


@internal
def _checkpoint(asset: address) -> uint256:
    rate: uint256 = self._counted_rate(asset)
    self.checkpoint_rate[asset] = rate
    self.checkpoint_time[asset] = block.timestamp
    if rate > self.peak_rate[asset]:
        self.peak_rate[asset] = rate
    return rate


@internal
def _try_redeem(market: address, shares: uint256, receiver: address) -> uint256:
    """
    @dev Redeems `shares` to `receiver` if the market says it can and does;
         returns the assets paid, or max_value(uint256) if it did not.
    """
    success: bool = False
    response: Bytes[32] = b""
    success, response = raw_call(
        market,
        abi_encode(self, method_id=method_id("maxRedeem(address)")),
        max_outsize=32,
        gas=constants.TRANSFER_GAS,
        is_static_call=True,
        revert_on_failure=False,
    )
    if not success or len(response) != 32 or abi_decode(response, uint256) < shares:
        return max_value(uint256)
    before: uint256 = self._try_balance(market)
    success, response = raw_call(
        market,
        abi_encode(shares, receiver, self, method_id=method_id("redeem(uint256,address,address)")),
        max_outsize=32,
        gas=constants.REDEEM_GAS,
        revert_on_failure=False,
    )
    if not success or len(response) != 32:
        return max_value(uint256)
    # A market that reports success but keeps the shares has not redeemed them.
    after: uint256 = self._try_balance(market)
    if after > before or before - after != shares:
        return max_value(uint256)
    return abi_decode(response, uint256)


@internal
@view
def _try_balance(market: address) -> uint256:
    """
    @dev The sleeve's share balance in `market`, or max_value if unreadable.
    """
    success: bool = False
    response: Bytes[32] = b""
    success, response = raw_call(
        market,
        abi_encode(self, method_id=method_id("balanceOf(address)")),
        max_outsize=32,
        gas=constants.TRANSFER_GAS,
        is_static_call=True,
        revert_on_failure=False,
    )
    if not success or len(response) != 32:
        return max_value(uint256)
    return abi_decode(response, uint256)


@internal
def _try_transfer(market: address, receiver: address, shares: uint256) -> bool:
    success: bool = False
    response: Bytes[32] = b""
    success, response = raw_call(
        market,
        abi_encode(receiver, shares, method_id=method_id("transfer(address,uint256)")),
        max_outsize=32,
        gas=constants.TRANSFER_GAS,
        revert_on_failure=False,
    )
    if not success:
        return False
    return len(response) == 0 or convert(response, bool)
