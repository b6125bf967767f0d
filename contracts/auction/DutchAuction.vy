# pragma version 0.4.3
# pragma optimize gas
"""
@title Ballast Dutch auction: rebalancing sold to any filler
@custom:contract-name DutchAuction
@notice Sells a Ballast vault's overweight assets for its underweight ones
        to whoever takes them, at a price that decays from above the oracle
        to no worse than the oracle minus the vault's slippage bound. Reserve
        Folio's rebalancing auctions are the example: an exponential decay
        between two prices, opened by a launcher first and by anyone after a
        delay, any bid taking part or all of a lot.
@dev The vault is unchanged. This contract holds the vault's keeper role
     and is one of its whitelisted venues; a fill is one `vault.rebalance`
     with one trade whose venue is this contract. The vault pushes the
     sold tokens here and calls `swap`, in which (only during a fill, only
     from the vault) the filler's payment is pulled straight to the vault
     and the sold tokens are forwarded to the filler. The vault then checks
     the fill as it checks every trade: its trigger, cooldown, oracle
     prices read at the fill's block, slippage, drift, overshoot, cost and
     turnover. Nothing is ever left here between transactions.
     Price of a lot, in `buy` per `sell`, at `t` seconds after opening:
         oracle_sell / oracle_buy * m(t),
         m(t) = max(END, START * exp(-DECAY_RATE * t)),
     START = 1 + premium, END = 1 - end discount (WAD), DECAY_RATE =
     ln(START / END) / LENGTH rounded down (a slower decay: higher prices),
     and m(t) = END from LENGTH until the TTL. The oracles are those of the
     fill's block, so a price seen at opening is never sold at later.
     Rounding favours the vault: what it sells rounds down, what it is
     paid rounds up.
"""

from ethereum.ercs import IERC20
from interfaces import IVault
from interfaces import IVenue
from snekmate.utils import math
from contracts.modules import constants
from contracts.modules import packing
from contracts.periphery import VaultLens

implements: IVenue

# @dev The most lots one auction offers: pairing overweight with underweight
#      assets greedily yields at most (assets - 1) of them.
MAX_LOTS: constant(uint256) = constants.MAX_ASSETS


struct Lot:
    sell: address
    buy: address
    sell_decimals: uint256
    buy_decimals: uint256
    # Base units of `sell` still offered (sized at opening from the vault's state).
    sell_left: uint256


# @dev The vault this auction sells for, and the lens it reads it through.
VAULT: public(immutable(address))
LENS: public(immutable(address))
# @dev The curve's start and end multipliers of the oracle price (WAD), and
#      its decay rate (WAD per second): see the contract's notes.
START_MULTIPLIER: public(immutable(uint256))
END_MULTIPLIER: public(immutable(uint256))
DECAY_RATE: public(immutable(uint256))
# @dev Seconds over which the price decays, and after which (from opening) no fill is taken.
LENGTH: public(immutable(uint256))
TTL: public(immutable(uint256))
# @dev Seconds after the vault's last rebalance and the last auction's close
#      during which only a vault keeper may open an auction; anyone after.
LAUNCHER_WINDOW: public(immutable(uint256))
# @dev Smallest lot offered, USD (WAD): a pair worth less is left out, and
#      an imbalance of only such pairs opens nothing.
MIN_LOT_USD: public(immutable(uint256))
END_DISCOUNT_BPS: public(immutable(uint256))

# @dev Auctions opened so far; the current one's id when `is_open`.
auction_id: public(uint256)
is_open: public(bool)
opened_at: public(uint256)
last_closed: public(uint256)
lots: public(DynArray[Lot, MAX_LOTS])

# @dev The fill in progress: set by `fill` around its `vault.rebalance`, read
#      by `swap`. Transient, so nothing survives a transaction.
_filler: transient(address)
_fill_sell: transient(uint256)
_fill_buy: transient(uint256)


event AuctionOpened:
    auction_id: indexed(uint256)
    opener: indexed(address)
    reason: String[16]
    lots: uint256
    start_multiplier: uint256
    end_multiplier: uint256
    opened_at: uint256
    ends_at: uint256


event LotOffered:
    auction_id: indexed(uint256)
    lot: uint256
    sell: indexed(address)
    buy: indexed(address)
    sell_amount: uint256
    usd_value: uint256


event Filled:
    auction_id: indexed(uint256)
    lot: uint256
    filler: indexed(address)
    sold: uint256
    bought: uint256
    multiplier: uint256
    # Price received over the oracle price at the fill's block, bps (10_000: at the oracle).
    price_vs_oracle_bps: uint256


event AuctionClosed:
    auction_id: indexed(uint256)
    closer: indexed(address)
    reason: String[16]


event Swap:
    sender: indexed(address)
    token_in: indexed(address)
    token_out: indexed(address)
    amount_in: uint256
    amount_out: uint256
    receiver: address


@deploy
def __init__(
    vault: address,
    lens: address,
    premium_bps: uint256,
    end_discount_bps: uint256,
    length: uint256,
    ttl: uint256,
    launcher_window: uint256,
    min_lot_usd: uint256,
):
    """
    @notice An auction house for `vault`. The vault's owner then gives it
            the keeper role and whitelists it as a venue.
    @param vault A Ballast vault.
    @param lens The `VaultLens` through which its state is read.
    @param premium_bps How far above the oracle the price starts, bps (1 to 10_000).
    @param end_discount_bps How far below the oracle it ends, bps; at most
           the vault's `max_slippage_bps` when an auction opens.
    @param length Seconds of decay (at least 60).
    @param ttl Seconds after opening that fills are taken (at least `length`).
    @param launcher_window Seconds of keeper priority to open (see `open`).
    @param min_lot_usd Smallest lot offered, USD (WAD).
    """
    assert vault != empty(address) and lens != empty(address), "auction: zero address"
    assert premium_bps > 0 and premium_bps <= constants.MAX_BPS, "auction: bad premium"
    assert end_discount_bps < constants.MAX_BPS, "auction: bad end discount"
    assert length >= 60 and ttl >= length and ttl <= packing.MAX_U64, "auction: bad length"
    assert launcher_window <= packing.MAX_U64, "auction: bad window"
    VAULT = vault
    LENS = lens
    START_MULTIPLIER = constants.WAD * (constants.MAX_BPS + premium_bps) // constants.MAX_BPS
    END_MULTIPLIER = constants.WAD * (constants.MAX_BPS - end_discount_bps) // constants.MAX_BPS
    # ln(START / END) > 0; dividing down makes the decay slower, never faster.
    DECAY_RATE = convert(
        math._wad_ln(convert(START_MULTIPLIER * constants.WAD // END_MULTIPLIER, int256)), uint256
    ) // length
    LENGTH = length
    TTL = ttl
    LAUNCHER_WINDOW = launcher_window
    MIN_LOT_USD = min_lot_usd
    END_DISCOUNT_BPS = end_discount_bps


# ---------------------------------------------------------------- auction


@external
@nonreentrant
def open() -> uint256:
    """
    @notice Opens an auction of the vault's current imbalance: each
            overweight asset's surplus offered for the underweight assets'
            deficits, paired greedily, at oracle prices now. Needs the
            vault's trigger to hold, its cooldown over, no auction open,
            and a lot worth at least `MIN_LOT_USD`. A vault keeper may open
            at any time; anyone else only `LAUNCHER_WINDOW` seconds after
            the vault's last rebalance and the last auction's close.
    @return The new auction's id.
    """
    assert not self.is_open, "auction: already open"
    view: VaultLens.VaultView = staticcall VaultLens.__at__(LENS).snapshot(VAULT)
    if staticcall IVault(VAULT).roles(msg.sender) & constants.ROLE_KEEPER == 0:
        assert block.timestamp >= max(view.last_rebalance, self.last_closed) + LAUNCHER_WINDOW, "auction: launcher window"
    ok: bool = False
    reason: String[32] = ""
    lots: DynArray[Lot, MAX_LOTS] = []
    values: DynArray[uint256, MAX_LOTS] = []
    ok, reason, lots, values = self._plan(view)
    assert ok, concat("auction: ", reason)
    auction: uint256 = self.auction_id + 1
    self.auction_id = auction
    self.is_open = True
    self.opened_at = block.timestamp
    self.lots = lots
    for i: uint256 in range(len(lots), bound=MAX_LOTS):
        log LotOffered(
            auction_id=auction, lot=i, sell=lots[i].sell, buy=lots[i].buy, sell_amount=lots[i].sell_left, usd_value=values[i]
        )
    log AuctionOpened(
        auction_id=auction,
        opener=msg.sender,
        reason=view.reason,
        lots=len(lots),
        start_multiplier=START_MULTIPLIER,
        end_multiplier=END_MULTIPLIER,
        opened_at=block.timestamp,
        ends_at=block.timestamp + TTL,
    )
    return auction


@external
@nonreentrant
def fill(lot: uint256, buy_amount: uint256, min_sell_amount: uint256) -> (uint256, uint256):
    """
    @notice Buys from lot `lot` at the current price: pays at most
            `buy_amount` of its `buy` token (approved to this contract) and
            receives its `sell` token. If the lot holds less than
            `buy_amount` buys, the whole rest is taken and less is paid, so
            a smaller fill landing first cannot make this one revert.
            The vault checks the fill as any rebalance, with the oracles of
            this block. Closes the auction when its last lot is taken.
    @param lot Index of the lot in `lots`.
    @param buy_amount Most of the `buy` token to pay.
    @param min_sell_amount Fewest `sell` tokens accepted for `buy_amount`
           (a smaller fill must get at least the same rate).
    @return The `sell` tokens received and the `buy` tokens paid.
    """
    assert self.is_open, "auction: not open"
    assert block.timestamp <= self.opened_at + TTL, "auction: expired"
    assert lot < len(self.lots), "auction: no such lot"
    assert buy_amount > 0, "auction: zero amount"
    offer: Lot = self.lots[lot]
    assert offer.sell_left > 0, "auction: lot taken"
    multiplier: uint256 = self._multiplier(block.timestamp)
    price_sell: uint256 = staticcall IVault(VAULT).price(offer.sell)
    price_buy: uint256 = staticcall IVault(VAULT).price(offer.buy)
    paid: uint256 = buy_amount
    sold: uint256 = self._sell_for(buy_amount, offer, price_sell, price_buy, multiplier)
    if sold > offer.sell_left:
        # `buy_amount` buys more than is left, so it is above the exact price of the rest: the
        # rounded-up price of the rest, capped at `buy_amount`, still pays at least the exact price.
        sold = offer.sell_left
        paid = min(buy_amount, self._buy_for(sold, offer, price_sell, price_buy, multiplier))
    assert sold > 0, "auction: zero fill"
    assert sold * buy_amount >= min_sell_amount * paid, "auction: price above limit"

    self.lots[lot].sell_left = offer.sell_left - sold
    self._filler = msg.sender
    self._fill_sell = sold
    self._fill_buy = paid
    extcall IVault(VAULT).rebalance(
        [IVault.Trade(venue=self, token_in=offer.sell, token_out=offer.buy, amount_in=sold, min_amount_out=paid)]
    )
    self._filler = empty(address)

    # What the vault got over what it gave, both at this block's oracles.
    value_out: uint256 = math._mul_div(paid, price_buy, 10**offer.buy_decimals, False)
    value_in: uint256 = math._mul_div(sold, price_sell, 10**offer.sell_decimals, True)
    log Filled(
        auction_id=self.auction_id,
        lot=lot,
        filler=msg.sender,
        sold=sold,
        bought=paid,
        multiplier=multiplier,
        price_vs_oracle_bps=value_out * constants.MAX_BPS // value_in,
    )
    if self._all_taken():
        self._close("targets reached")
    return sold, paid


@external
@nonreentrant
def close():
    """
    @notice Closes the open auction. The vault's guardian (or owner) may
            at any time; anyone once its TTL has passed or the vault's
            trigger no longer holds.
    """
    assert self.is_open, "auction: not open"
    reason: String[16] = "guardian"
    if not self._is_guardian(msg.sender):
        reason = self._close_reason()
        assert reason != "", "auction: still running"
    self._close(reason)


# ---------------------------------------------------------------- venue (the vault's side of a fill)


@view
@external
def payee(token_in: address, token_out: address) -> address:
    """
    @notice Where the vault sends what a fill sells: this contract, during
            a fill only; `empty(address)` otherwise, so no other rebalance
            can route through it.
    @param token_in The token the vault sells.
    @param token_out The token the vault buys.
    @return address This contract during a fill, else empty.
    """
    if self._filler == empty(address):
        return empty(address)
    return self


@external
def swap(token_in: address, token_out: address, amount_in: uint256, min_amount_out: uint256, receiver: address) -> uint256:
    """
    @notice The vault's call during a fill: pulls exactly the fill's payment
            from the filler to the vault and forwards what the vault sold
            (already sent here) to the filler.
    @dev Only the vault, only while `fill` is running, only for that fill's
         amounts. A token that delivers less than it is told (a fee on
         transfer) is refused.
    @param token_in The token the vault sold.
    @param token_out The token the vault buys.
    @param amount_in What the vault sent here.
    @param min_amount_out The fill's payment.
    @param receiver The vault.
    @return uint256 The payment delivered.
    """
    filler: address = self._filler
    # The vault passes the fill's own trade; anything else is not this fill.
    assert msg.sender == VAULT and filler != empty(address) and amount_in == self._fill_sell and min_amount_out == self._fill_buy, "auction: not during a fill"
    before: uint256 = staticcall IERC20(token_out).balanceOf(VAULT)
    assert extcall IERC20(token_out).transferFrom(filler, VAULT, min_amount_out, default_return_value=True)
    assert staticcall IERC20(token_out).balanceOf(VAULT) - before == min_amount_out, "auction: fee-on-transfer token"
    assert extcall IERC20(token_in).transfer(filler, amount_in, default_return_value=True)
    log Swap(sender=msg.sender, token_in=token_in, token_out=token_out, amount_in=amount_in, amount_out=min_amount_out, receiver=receiver)
    return min_amount_out


# ---------------------------------------------------------------- views


@view
@external
def multiplier(at: uint256) -> uint256:
    """
    @notice The curve's multiplier of the oracle price (WAD) at time `at`
            of the open auction (`at` not before its opening).
    @param at A timestamp.
    @return uint256 START_MULTIPLIER decaying exponentially to END_MULTIPLIER.
    """
    return self._multiplier(at)


@view
@external
def quote(lot: uint256, buy_amount: uint256) -> (uint256, uint256):
    """
    @notice What `fill(lot, buy_amount, 0)` would give and take now, at
            this block's oracles (before the vault's checks).
    @param lot Index of the lot.
    @param buy_amount Most of the `buy` token to pay.
    @return The `sell` tokens received and the `buy` tokens paid.
    """
    offer: Lot = self.lots[lot]
    multiplier: uint256 = self._multiplier(block.timestamp)
    price_sell: uint256 = staticcall IVault(VAULT).price(offer.sell)
    price_buy: uint256 = staticcall IVault(VAULT).price(offer.buy)
    sold: uint256 = self._sell_for(buy_amount, offer, price_sell, price_buy, multiplier)
    if sold > offer.sell_left:
        return offer.sell_left, min(buy_amount, self._buy_for(offer.sell_left, offer, price_sell, price_buy, multiplier))
    return sold, buy_amount


@view
@external
def lot_count() -> uint256:
    """
    @notice Number of lots of the current (or last) auction.
    """
    return len(self.lots)


@view
@external
def open_status(opener: address) -> (bool, String[32]):
    """
    @notice Whether `opener` could open an auction now, and if not why:
            "auction open", "launcher window", "paused", "not due",
            "cooldown", "end below bound", "dust", or a price feed's
            reason (e.g. "pricing: stale"). Never reverts.
    @param opener The account that would call `open`.
    @return bool True if `open` would succeed now.
    @return String[32] Empty if so, else the reason.
    """
    if self.is_open:
        return False, "auction open"
    ok: bool = False
    response: Bytes[4096] = b""
    ok, response = raw_call(
        LENS,
        abi_encode(VAULT, method_id=method_id("snapshot(address)")),
        max_outsize=4096,
        is_static_call=True,
        revert_on_failure=False,
    )
    if not ok:
        return False, self._revert_reason(response)
    view: VaultLens.VaultView = abi_decode(response, VaultLens.VaultView)
    if staticcall IVault(VAULT).roles(opener) & constants.ROLE_KEEPER == 0:
        if block.timestamp < max(view.last_rebalance, self.last_closed) + LAUNCHER_WINDOW:
            return False, "launcher window"
    reason: String[32] = ""
    lots: DynArray[Lot, MAX_LOTS] = []
    values: DynArray[uint256, MAX_LOTS] = []
    ok, reason, lots, values = self._plan(view)
    return ok, reason


@view
@external
def close_reason() -> String[16]:
    """
    @notice Why anyone may close the open auction now: "expired" or
            "trigger gone"; empty when only the guardian may (or none is open).
    """
    if not self.is_open:
        return ""
    return self._close_reason()


# ---------------------------------------------------------------- internal


@view
@internal
def _plan(view: VaultLens.VaultView) -> (bool, String[32], DynArray[Lot, MAX_LOTS], DynArray[uint256, MAX_LOTS]):
    """
    @dev The checks an opening needs, then its lots: each overweight
         asset's surplus (USD at the oracle, weight minus target times
         value) matched greedily with each underweight asset's deficit,
         pairs below `MIN_LOT_USD` left out. Amounts round down.
    """
    lots: DynArray[Lot, MAX_LOTS] = []
    values: DynArray[uint256, MAX_LOTS] = []
    status: uint256 = (staticcall IVault(VAULT).raw_state()).status
    if status & (packing.PAUSED | packing.SHUTDOWN) != 0:
        return False, "paused", lots, values
    if not view.due:
        return False, "not due", lots, values
    if block.timestamp < view.last_rebalance + view.cooldown:
        return False, "cooldown", lots, values
    if END_DISCOUNT_BPS > view.max_slippage_bps:
        return False, "end below bound", lots, values
    total: uint256 = 0
    usd: DynArray[uint256, constants.MAX_ASSETS] = []
    for a: VaultLens.AssetView in view.assets:
        v: uint256 = math._mul_div(a.balance, a.price, 10**a.decimals, False)
        usd.append(v)
        total += v
    surplus: DynArray[uint256, constants.MAX_ASSETS] = []
    deficit: DynArray[uint256, constants.MAX_ASSETS] = []
    for i: uint256 in range(len(usd), bound=constants.MAX_ASSETS):
        goal: uint256 = math._mul_div(view.assets[i].target, total, constants.WAD, False)
        surplus.append(usd[i] - min(usd[i], goal))
        deficit.append(goal - min(usd[i], goal))
    for i: uint256 in range(len(usd), bound=constants.MAX_ASSETS):
        for j: uint256 in range(len(usd), bound=constants.MAX_ASSETS):
            pair_usd: uint256 = min(surplus[i], deficit[j])
            if pair_usd == 0:
                continue
            surplus[i] -= pair_usd
            deficit[j] -= pair_usd
            if pair_usd < MIN_LOT_USD or len(lots) == MAX_LOTS:
                continue
            seller: VaultLens.AssetView = view.assets[i]
            buyer: VaultLens.AssetView = view.assets[j]
            lots.append(
                Lot(
                    sell=seller.asset,
                    buy=buyer.asset,
                    sell_decimals=seller.decimals,
                    buy_decimals=buyer.decimals,
                    sell_left=math._mul_div(pair_usd, 10**seller.decimals, seller.price, False),
                )
            )
            values.append(pair_usd)
    if len(lots) == 0:
        return False, "dust", lots, values
    return True, "", lots, values


@view
@internal
def _multiplier(at: uint256) -> uint256:
    """
    @dev START * exp(-DECAY_RATE * elapsed), never below END; END from LENGTH on.
    """
    elapsed: uint256 = at - self.opened_at
    if elapsed >= LENGTH:
        return END_MULTIPLIER
    decay: int256 = math._wad_exp(-convert(DECAY_RATE * elapsed, int256))
    return max(END_MULTIPLIER, START_MULTIPLIER * convert(decay, uint256) // constants.WAD)


@pure
@internal
def _sell_for(buy_amount: uint256, offer: Lot, price_sell: uint256, price_buy: uint256, multiplier: uint256) -> uint256:
    """
    @dev `sell` units bought by `buy_amount` at `multiplier` times the
         oracle price, rounded down.
    """
    paid_usd: uint256 = math._mul_div(buy_amount, price_buy, 10**offer.buy_decimals, False)
    sold_usd: uint256 = math._mul_div(paid_usd, constants.WAD, multiplier, False)
    return math._mul_div(sold_usd, 10**offer.sell_decimals, price_sell, False)


@pure
@internal
def _buy_for(sold: uint256, offer: Lot, price_sell: uint256, price_buy: uint256, multiplier: uint256) -> uint256:
    """
    @dev `buy` units that pay for `sold` at `multiplier` times the oracle
         price, rounded up.
    """
    sold_usd: uint256 = math._mul_div(sold, price_sell, 10**offer.sell_decimals, True)
    paid_usd: uint256 = math._mul_div(sold_usd, multiplier, constants.WAD, True)
    return math._mul_div(paid_usd, 10**offer.buy_decimals, price_buy, True)


@view
@internal
def _all_taken() -> bool:
    for offer: Lot in self.lots:
        if offer.sell_left != 0:
            return False
    return True


@view
@internal
def _close_reason() -> String[16]:
    if block.timestamp > self.opened_at + TTL:
        return "expired"
    due: bool = False
    trigger: String[16] = ""
    due, trigger = staticcall VaultLens.__at__(LENS).needs_rebalance(VAULT)
    if not due:
        return "trigger gone"
    return ""


@view
@internal
def _is_guardian(account: address) -> bool:
    return account == staticcall IVault(VAULT).owner() or staticcall IVault(VAULT).roles(account) & constants.ROLE_GUARDIAN != 0


@internal
def _close(reason: String[16]):
    self.is_open = False
    self.last_closed = block.timestamp
    log AuctionClosed(auction_id=self.auction_id, closer=msg.sender, reason=reason)


@pure
@internal
def _revert_reason(response: Bytes[4096]) -> String[32]:
    """
    @dev The reason string of an `Error(string)` revert (at most 32
         bytes), else "oracle unreadable".
    """
    if len(response) < 100 or slice(response, 0, 4) != method_id("Error(string)"):
        return "oracle unreadable"
    if extract32(response, 36, output_type=uint256) > 32:
        return "oracle unreadable"
    return abi_decode(slice(response, 4, 96), String[32])
