// SPDX-License-Identifier: GPL-2.0-or-later
pragma solidity 0.8.20;

import {ERC20} from "@openzeppelin/contracts/token/ERC20/ERC20.sol";
import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {ERC4626} from "@openzeppelin/contracts/token/ERC20/extensions/ERC4626.sol";
import {Math} from "@openzeppelin/contracts/utils/math/Math.sol";

import {IMorpho, MarketParams} from "@morpho-org/morpho-blue/src/interfaces/IMorpho.sol";
import {MorphoBalancesLib} from "@morpho-org/morpho-blue/src/libraries/periphery/MorphoBalancesLib.sol";

/// @title Morpho supply vault (test infrastructure standing in for MetaMorpho)
/// @notice An ERC-4626 face over ONE Morpho Blue market: every deposit is supplied to the market,
///         every withdrawal is withdrawn from it. OpenZeppelin 5.0.2's ERC4626 does the share
///         arithmetic (virtual shares and assets, rounding in the vault's favour).
/// @dev `totalAssets` is the vault's expected supply in the market (interest accrued to this
///      block, bad debt already realised), as MetaMorpho counts it; loan tokens sent to this
///      contract are NOT counted (no idle bucket). Withdrawals are limited by the market's
///      available liquidity (supply minus borrow), so `maxWithdraw`/`maxRedeem` are 0 at 100%
///      utilisation. `cap` bounds `totalAssets` through `maxDeposit`/`maxMint`
///      (type(uint256).max: no cap). Test use only.
contract MorphoSupplyVault is ERC4626 {
    using Math for uint256;
    using MorphoBalancesLib for IMorpho;

    /// @notice The Morpho Blue singleton.
    IMorpho public immutable MORPHO;
    /// @notice The bound on `totalAssets` that deposits respect.
    uint256 public immutable cap;

    uint8 private immutable _offset;
    address private immutable _collateralToken;
    address private immutable _oracle;
    address private immutable _irm;
    uint256 private immutable _lltv;

    constructor(
        IMorpho morpho,
        MarketParams memory params,
        uint256 cap_,
        uint8 decimalsOffset,
        string memory name_,
        string memory symbol_
    ) ERC4626(IERC20(params.loanToken)) ERC20(name_, symbol_) {
        MORPHO = morpho;
        cap = cap_;
        _offset = decimalsOffset;
        _collateralToken = params.collateralToken;
        _oracle = params.oracle;
        _irm = params.irm;
        _lltv = params.lltv;
        IERC20(params.loanToken).approve(address(morpho), type(uint256).max);
    }

    /// @notice The market this vault supplies to.
    function marketParams() public view returns (MarketParams memory) {
        return MarketParams(asset(), _collateralToken, _oracle, _irm, _lltv);
    }

    /// @notice The loan tokens the market can pay out now (expected supply minus expected borrow).
    function availableLiquidity() public view returns (uint256) {
        (uint256 supplied,, uint256 borrowed,) = MORPHO.expectedMarketBalances(marketParams());
        uint256 free = supplied > borrowed ? supplied - borrowed : 0;
        return Math.min(free, IERC20(asset()).balanceOf(address(MORPHO)));
    }

    /// @inheritdoc ERC4626
    function totalAssets() public view override returns (uint256) {
        return MORPHO.expectedSupplyAssets(marketParams(), address(this));
    }

    /// @inheritdoc ERC4626
    function maxDeposit(address) public view override returns (uint256) {
        uint256 total = totalAssets();
        return cap > total ? cap - total : 0;
    }

    /// @inheritdoc ERC4626
    function maxMint(address receiver) public view override returns (uint256) {
        if (cap == type(uint256).max) return type(uint256).max;
        return _convertToShares(maxDeposit(receiver), Math.Rounding.Floor);
    }

    /// @inheritdoc ERC4626
    function maxWithdraw(address owner) public view override returns (uint256) {
        return Math.min(super.maxWithdraw(owner), availableLiquidity());
    }

    /// @inheritdoc ERC4626
    function maxRedeem(address owner) public view override returns (uint256) {
        return Math.min(balanceOf(owner), _convertToShares(availableLiquidity(), Math.Rounding.Floor));
    }

    function _deposit(address caller, address receiver, uint256 assets, uint256 shares) internal override {
        super._deposit(caller, receiver, assets, shares);
        if (assets > 0) MORPHO.supply(marketParams(), assets, 0, address(this), "");
    }

    function _withdraw(address caller, address receiver, address owner, uint256 assets, uint256 shares)
        internal
        override
    {
        if (assets > 0) MORPHO.withdraw(marketParams(), assets, 0, address(this), address(this));
        super._withdraw(caller, receiver, owner, assets, shares);
    }

    function _decimalsOffset() internal view override returns (uint8) {
        return _offset;
    }
}
