// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {Math} from "@openzeppelin/contracts/utils/math/Math.sol";

/// @title MathLib
/// @notice x * y / d with the rounding in its name, as cheap as one multiplication and one division
/// when x * y fits in 256 bits (every amount this protocol handles); OpenZeppelin's 512-bit mulDiv
/// takes over when it does not, and for a zero `d` (which it reverts with Panic(0x12)), so the
/// result is the same as OpenZeppelin's for every input. The reference engine's twins are
/// `mulDivDown` and `mulDivUp` in src/engine/math.ts.
library MathLib {
    /// @notice floor(x * y / d).
    function mulDivDown(uint256 x, uint256 y, uint256 d) internal pure returns (uint256 z) {
        bool fast;
        // solhint-disable-next-line no-inline-assembly
        assembly ("memory-safe") {
            z := mul(x, y)
            // the product did not overflow and the divisor is not zero
            fast := and(or(iszero(x), eq(div(z, x), y)), iszero(iszero(d)))
            z := div(z, d) // 0 when d is 0: not used then
        }
        if (!fast) return Math.mulDiv(x, y, d);
    }

    /// @notice ceil(x * y / d).
    function mulDivUp(uint256 x, uint256 y, uint256 d) internal pure returns (uint256 z) {
        bool fast;
        // solhint-disable-next-line no-inline-assembly
        assembly ("memory-safe") {
            let product := mul(x, y)
            fast := and(or(iszero(x), eq(div(product, x), y)), iszero(iszero(d)))
            z := add(div(product, d), iszero(iszero(mod(product, d))))
        }
        if (!fast) return Math.mulDiv(x, y, d, Math.Rounding.Ceil);
    }
}
