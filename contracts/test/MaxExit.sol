// SPDX-License-Identifier: MIT
pragma solidity 0.8.20;

import {IERC4626} from "@openzeppelin/contracts/interfaces/IERC4626.sol";

/// @title Max exit (test helper)
/// @notice Holds ERC-4626 shares and exits with `maxRedeem`/`maxWithdraw` read in the same
///         transaction, as a vault exiting a market does. Test use only.
contract MaxExit {
    /// @notice Redeem `vault.maxRedeem(this)` to `receiver`; returns the shares and assets.
    function redeemMax(IERC4626 vault, address receiver) external returns (uint256 shares, uint256 assets) {
        shares = vault.maxRedeem(address(this));
        if (shares > 0) assets = vault.redeem(shares, receiver, address(this));
    }

    /// @notice Withdraw `vault.maxWithdraw(this)` to `receiver`; returns the assets and shares.
    function withdrawMax(IERC4626 vault, address receiver) external returns (uint256 assets, uint256 shares) {
        assets = vault.maxWithdraw(address(this));
        if (assets > 0) shares = vault.withdraw(assets, receiver, address(this));
    }
}
