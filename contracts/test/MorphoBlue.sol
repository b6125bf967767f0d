// SPDX-License-Identifier: GPL-2.0-or-later
pragma solidity 0.8.19;

import {Morpho} from "@morpho-org/morpho-blue/src/Morpho.sol";
import {IrmMock} from "@morpho-org/morpho-blue/src/mocks/IrmMock.sol";
import {OracleMock} from "@morpho-org/morpho-blue/src/mocks/OracleMock.sol";

/// @title Morpho Blue (the npm package's contract, unchanged)
/// @notice `@morpho-org/morpho-blue@1.0.0`'s `Morpho`, compiled by ape from the package's source;
///         named here so that ape builds it as one of the project's contract types. Test use only.
contract MorphoBlue is Morpho {
    constructor(address newOwner) Morpho(newOwner) {}
}

/// @title Morpho Blue's own rate model mock: x% utilisation is x% APR (test use only).
contract MorphoIrmMock is IrmMock {}

/// @title Morpho Blue's own oracle mock: `setPrice` (36 decimals plus loan minus collateral decimals).
contract MorphoOracleMock is OracleMock {}
