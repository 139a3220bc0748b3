// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {Math} from "@openzeppelin/contracts/utils/math/Math.sol";
import {MathLib} from "./MathLib.sol";

/// @title TokenMath
/// @notice The leveraged token's share and fee arithmetic. Names carry the rounding; every direction
/// is chosen so the holders who stay never lose: shares out and assets out round down, what the
/// remaining holders keep and every fee round up. The reference engine has a twin of each function.
/// @dev Units: USDT 6 decimals, shares 18 decimals, rates and leverage WAD.
library TokenMath {
    uint256 internal constant WAD = 1e18;
    /// @dev Shares per USDT unit at the initial NAV of 1 USDT (18 - 6 decimals).
    uint256 internal constant INITIAL_SHARES_PER_UNIT = 1e12;
    uint256 internal constant YEAR = 365 days;

    /// @notice `amount` x `rate` (WAD), rounded up: a fee.
    function feeUp(uint256 amount, uint256 rate) internal pure returns (uint256) {
        return MathLib.mulDivUp(amount, rate, WAD);
    }

    /// @notice Shares for `value` USDT added to `equity` backing `supply` shares, rounded down.
    function toSharesDown(uint256 value, uint256 supply, uint256 equity) internal pure returns (uint256) {
        return MathLib.mulDivDown(value, supply, equity);
    }

    /// @notice USDT that `shares` of `supply` are worth at `equity`, rounded down.
    function toAssetsDown(uint256 shares, uint256 equity, uint256 supply) internal pure returns (uint256) {
        return MathLib.mulDivDown(shares, equity, supply);
    }

    /// @notice USDT the holders of `shares` of `supply` keep out of `equity`, rounded up.
    function toAssetsUp(uint256 shares, uint256 equity, uint256 supply) internal pure returns (uint256) {
        return MathLib.mulDivUp(shares, equity, supply);
    }

    /// @notice Management fee shares for `elapsed` seconds at `annualRate` (WAD per year), rounded
    /// down: the fee fraction f = rate x elapsed / year (down, at most 1/2) is taken by minting
    /// supply x f / (1 - f) shares, so the treasury ends up owning exactly f of the supply.
    function managementFeeSharesDown(
        uint256 supply,
        uint256 annualRate,
        uint256 elapsed
    ) internal pure returns (uint256) {
        uint256 f = Math.min(MathLib.mulDivDown(annualRate, elapsed, YEAR), WAD / 2);
        return MathLib.mulDivDown(supply, f, WAD - f);
    }

    /// @notice Position size (18 decimals, unsigned) worth `leverage` x `equity` at `price`, rounded
    /// down: size = equity x leverage / WAD x 1e20 / price.
    function targetSizeDown(uint256 equity, uint256 leverage, uint256 price) internal pure returns (uint256) {
        return MathLib.mulDivDown(equity * 1e2, leverage, price);
    }

    /// @notice Leverage (WAD) of `notional` over `equity`, rounded down.
    function leverageDown(uint256 notional, uint256 equity) internal pure returns (uint256) {
        return MathLib.mulDivDown(notional, WAD, equity);
    }
}
