// SPDX-License-Identifier: MIT
pragma solidity 0.8.20;

import {ERC20} from "@openzeppelin/contracts/token/ERC20/ERC20.sol";
import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {ERC4626} from "@openzeppelin/contracts/token/ERC20/extensions/ERC4626.sol";

/// @title OpenZeppelin ERC4626 (5.0.2, unchanged; the reference of the conformance properties)
/// @notice The abstract `ERC4626` of `@openzeppelin/contracts@5.0.2` made deployable, with a chosen
///         decimals offset. Test use only.
contract OZ4626 is ERC4626 {
    uint8 private immutable _offset;

    constructor(IERC20 asset_, uint8 decimalsOffset, string memory name_, string memory symbol_)
        ERC4626(asset_)
        ERC20(name_, symbol_)
    {
        _offset = decimalsOffset;
    }

    function _decimalsOffset() internal view override returns (uint8) {
        return _offset;
    }
}
