// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {Math} from "@openzeppelin/contracts/utils/math/Math.sol";

/// @title MathLib
/// @notice x * y / d with the rounding in its name, as cheap as one multiplication and one division
/// when x * y fits in 256 bits (every amount this protocol handles); OpenZeppelin's 512-bit mulDiv
/// takes over when it does not, so the result is the same for every input. A zero `d` reverts with
/// Panic(0x12), as OpenZeppelin's does. The reference engine's twins are `mulDivDown` and `mulDivUp`
/// in src/engine/math.ts.
library MathLib {
    /// @notice floor(x * y / d).
    function mulDivDown(uint256 x, uint256 y, uint256 d) internal pure returns (uint256) {
        uint256 product;
        unchecked {
            product = x * y;
            if (x != 0 && product / x != y) return Math.mulDiv(x, y, d);
        }
        return product / d;
    }

    /// @notice ceil(x * y / d).
    function mulDivUp(uint256 x, uint256 y, uint256 d) internal pure returns (uint256 z) {
        uint256 product;
        unchecked {
            product = x * y;
            if (x != 0 && product / x != y) return Math.mulDiv(x, y, d, Math.Rounding.Ceil);
        }
        z = product / d;
        unchecked {
            if (product % d != 0) ++z;
        }
    }
}
