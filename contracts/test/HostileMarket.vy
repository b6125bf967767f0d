# pragma version 0.4.3
"""
@title Hostile ERC-4626 market (test double)
@custom:contract-name HostileMarket
@notice snekmate's `erc4626` over one asset, with switches that make it
        misbehave the ways a real lending market can: no liquidity (100%
        utilisation), reverting redeems or share transfers, an unreadable
        rate, a redeem that burns all its gas or reports success without
        redeeming, a deposit cap, and a realised loss (`lose`). Failure
        injection for the lending sleeve's tests only.
        `cash` (the stateful fuzzer's): the assets the market can pay out
        before its cash runs dry, a borrower holding the rest; a partial
        utilisation. Unlimited by default.
"""

from ethereum.ercs import IERC20
from snekmate.extensions import erc4626

initializes: erc4626

exports: (
    erc4626.totalSupply,
    erc4626.balanceOf,
    erc4626.transferFrom,
    erc4626.approve,
    erc4626.allowance,
    erc4626.decimals,
    erc4626.asset,
    erc4626.totalAssets,
    erc4626.convertToShares,
    erc4626.previewDeposit,
    erc4626.deposit,
    erc4626.maxMint,
    erc4626.previewMint,
    erc4626.mint,
    erc4626.maxWithdraw,
    erc4626.previewWithdraw,
    erc4626.previewRedeem,
)

NO_LIQUIDITY: constant(uint256) = 1
REVERT_REDEEM: constant(uint256) = 2
REVERT_TRANSFER: constant(uint256) = 4
REVERT_RATE: constant(uint256) = 8
BURN_GAS: constant(uint256) = 16
FAKE_REDEEM: constant(uint256) = 32

# @dev Misbehaviour bits (the constants above).
mode: public(uint256)
# @dev Most assets `maxDeposit` admits.
deposit_cap: public(uint256)
# @dev Most assets withdrawals and redeems may still pay out in total
#      (max_value: no limit); each payout spends it.
cash: public(uint256)
_sink: uint256


@deploy
def __init__(asset_: IERC20):
    erc4626.__init__("Hostile Market", "HM", asset_, 0, "Hostile Market", "1")
    self.deposit_cap = max_value(uint256)
    self.cash = max_value(uint256)


@external
def set_mode(mode: uint256):
    self.mode = mode


@external
def set_deposit_cap(cap: uint256):
    self.deposit_cap = cap


@external
def set_cash(cash: uint256):
    self.cash = cash


@external
def lose(amount: uint256):
    """
    @notice Realises a loss of `amount` assets to the suppliers (bad debt).
    """
    assert extcall IERC20(erc4626.asset).transfer(msg.sender, amount, default_return_value=True)


@view
@external
def maxDeposit(receiver: address) -> uint256:
    return min(self.deposit_cap, erc4626._max_deposit(receiver))


@view
@external
def maxRedeem(owner: address) -> uint256:
    if self.mode & NO_LIQUIDITY != 0:
        return 0
    if self.cash != max_value(uint256):
        return min(erc4626._max_redeem(owner), erc4626._convert_to_shares(self.cash, False))
    return erc4626._max_redeem(owner)


@view
@external
def convertToAssets(shares: uint256) -> uint256:
    assert self.mode & REVERT_RATE == 0, "market: rate unavailable"
    return erc4626._convert_to_assets(shares, False)


@external
def withdraw(assets: uint256, receiver: address, owner: address) -> uint256:
    assert self.mode & NO_LIQUIDITY == 0, "market: no liquidity"
    assert assets <= erc4626._max_withdraw(owner), "erc4626: withdraw more than maximum"
    shares: uint256 = erc4626._preview_withdraw(assets)
    self._spend_cash(assets)
    erc4626._withdraw(msg.sender, receiver, owner, assets, shares)
    return shares


@external
def redeem(shares: uint256, receiver: address, owner: address) -> uint256:
    mode: uint256 = self.mode
    assert mode & (REVERT_REDEEM | NO_LIQUIDITY) == 0, "market: redeem refused"
    if mode & BURN_GAS != 0:
        for i: uint256 in range(10**7):
            self._sink = i
    if mode & FAKE_REDEEM != 0:
        return shares
    assert shares <= erc4626._max_redeem(owner), "erc4626: redeem more than maximum"
    assets: uint256 = erc4626._preview_redeem(shares)
    self._spend_cash(assets)
    erc4626._withdraw(msg.sender, receiver, owner, assets, shares)
    return assets


@external
def transfer(to: address, amount: uint256) -> bool:
    assert self.mode & REVERT_TRANSFER == 0, "market: transfer refused"
    erc4626.erc20._transfer(msg.sender, to, amount)
    return True


@internal
def _spend_cash(assets: uint256):
    cash: uint256 = self.cash
    if cash != max_value(uint256):
        assert assets <= cash, "market: no cash"
        self.cash = cash - assets
