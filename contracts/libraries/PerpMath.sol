// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {Math} from "@openzeppelin/contracts/utils/math/Math.sol";
import {MathLib} from "./MathLib.sol";

/// @title PerpMath
/// @notice The exchange's arithmetic. Every function names its rounding: `Down` rounds toward minus
/// infinity and `Up` toward plus infinity, on signed values too, so each result is rounded against
/// the trader (the pool, that is the exchange, never pays out a unit it did not earn). The reference
/// engine (src/engine) has a twin of every function here, with the same name.
/// @dev Units: size 18 decimals (signed, + long), price 8 decimals, USDT 6 decimals, rates WAD.
library PerpMath {
    /// @dev size (1e18) x price (1e8) / SIZE_PRICE_TO_USDT = USDT (1e6).
    uint256 internal constant SIZE_PRICE_TO_USDT = 1e20;
    uint256 internal constant WAD = 1e18;
    /// @dev funding index: USDT (1e6) x 1e4 per 1e18 of size; owed = size x dIndex / 1e22. It fits
    /// the 56 bits a position keeps of it for 33 years at the default rate (0.01% per 8 h) on a
    /// 1,000,000 USD asset, 3.3 years at the highest (1%) on a 100,000 USD one, and truncates at most
    /// 1e-4 of a USDT unit per whole unit of size at each accrual.
    uint256 internal constant FUNDING_SCALE = 1e22;
    /// @dev dIndex = price (1e8) x rate (WAD per 8 h) x seconds / (8 h x 1e16).
    int256 internal constant FUNDING_DIVISOR = 8 hours * 1e16;
    /// @dev The linear price impact is quoted per 1,000,000 USDT of notional.
    uint256 internal constant IMPACT_NOTIONAL = 1e12;
    /// @dev A market's open interest is summed in units of 1e-8 of the underlying (1e10 of size).
    uint256 internal constant OPEN_INTEREST_UNIT = 1e10;

    /// @notice floor(a x b / d) toward minus infinity, for signed a and positive b, d.
    function mulDivDownSigned(int256 a, uint256 b, uint256 d) internal pure returns (int256) {
        if (a >= 0) return int256(MathLib.mulDivDown(uint256(a), b, d));
        return -int256(MathLib.mulDivUp(uint256(-a), b, d));
    }

    /// @notice ceil(a x b / d) toward plus infinity, for signed a and positive b, d.
    function mulDivUpSigned(int256 a, uint256 b, uint256 d) internal pure returns (int256) {
        if (a >= 0) return int256(MathLib.mulDivUp(uint256(a), b, d));
        return -int256(MathLib.mulDivDown(uint256(-a), b, d));
    }

    /// @notice Value of `size` at `price` in USDT, rounded down: what a holder of the position gets.
    function valueDown(int256 size, uint256 price) internal pure returns (int256) {
        return mulDivDownSigned(size, price, SIZE_PRICE_TO_USDT);
    }

    /// @notice Cost of opening `size` at `price` in USDT, rounded up: what an opener pays.
    function costUp(int256 size, uint256 price) internal pure returns (int256) {
        return mulDivUpSigned(size, price, SIZE_PRICE_TO_USDT);
    }

    /// @notice |size| x price in USDT, rounded up (margin requirements and fees are charged on it).
    function notionalUp(int256 size, uint256 price) internal pure returns (uint256) {
        return MathLib.mulDivUp(abs(size), price, SIZE_PRICE_TO_USDT);
    }

    /// @notice `amount` x `rate` (WAD), rounded up: a fee or a requirement charged to the trader.
    function wadMulUp(uint256 amount, uint256 rate) internal pure returns (uint256) {
        return MathLib.mulDivUp(amount, rate, WAD);
    }

    /// @notice Taker fee plus linear price impact on a trade of `notional` USDT, rounded up.
    /// Impact fraction = impact x notional / 1,000,000 USDT, so its cost grows with notional squared.
    function tradeCostUp(
        uint256 notional,
        uint256 takerFee,
        uint256 impact
    ) internal pure returns (uint256 fee, uint256 impactCost) {
        fee = wadMulUp(notional, takerFee);
        if (impact != 0) impactCost = MathLib.mulDivUp(notional * notional, impact, IMPACT_NOTIONAL * WAD);
    }

    /// @notice Growth of the funding index over `elapsed` seconds at `price` and `rate` (WAD per 8 h),
    /// truncated toward zero (the index keeps 4 decimals past a USDT unit per whole unit of size).
    function fundingIndexDelta(uint256 price, int256 rate, uint256 elapsed) internal pure returns (int256) {
        return (int256(price) * rate * int256(elapsed)) / FUNDING_DIVISOR;
    }

    /// @notice Funding a position of `size` owes for an index move of `indexDelta`, rounded up:
    /// positive means the position pays, negative means it receives (rounded down in magnitude).
    function fundingOwedUp(int256 size, int256 indexDelta) internal pure returns (int256) {
        int256 product = size * indexDelta;
        if (product >= 0) return int256(Math.ceilDiv(uint256(product), FUNDING_SCALE));
        return -int256(uint256(-product) / FUNDING_SCALE);
    }

    /// @notice Funding `size` owes for an index move of `indexDelta`, rounded down (toward the
    /// trader): what a side's sum is charged, so that the side's profit errs high.
    function fundingOwedDown(int256 size, int256 indexDelta) internal pure returns (int256) {
        int256 product = size * indexDelta;
        if (product >= 0) return int256(uint256(product) / FUNDING_SCALE);
        return -int256(Math.ceilDiv(uint256(-product), FUNDING_SCALE));
    }

    /// @notice What a position of `size` counts in its side's open interest, in OPEN_INTEREST_UNIT:
    /// a long rounded up, a short's magnitude rounded down, so each side's profit at any price is
    /// at least what its positions could take out.
    function openInterestUnits(int256 size) internal pure returns (uint256) {
        if (size >= 0) return Math.ceilDiv(uint256(size), OPEN_INTEREST_UNIT);
        return uint256(-size) / OPEN_INTEREST_UNIT;
    }

    /// @notice Part of `openCost` that leaves when `closed` of a position of `size` is closed
    /// (`closed` has the sign of `size` and no larger magnitude), rounded up.
    function closedCostUp(int256 openCost, int256 closed, int256 size) internal pure returns (int256) {
        return mulDivUpSigned(openCost, abs(closed), abs(size));
    }

    /// @notice Exact change in a position's equity from trading `sizeDelta` at `price`, before the
    /// trading cost, for a trade that opens, increases or reduces (never flips): the rounding of
    /// open cost and value at the trade. It does not depend on the open cost, so a contract can
    /// predict the equity after its own trade from (size, sizeDelta, price) alone.
    function tradeRoundingDown(int256 size, int256 sizeDelta, uint256 price) internal pure returns (int256) {
        if (size == 0 || (size > 0) == (sizeDelta > 0)) {
            return valueDown(size + sizeDelta, price) - valueDown(size, price) - costUp(sizeDelta, price);
        }
        return valueDown(-sizeDelta, price) + valueDown(size + sizeDelta, price) - valueDown(size, price);
    }

    /// @notice The part of a position of `size` (signed like it) a liquidation closes, rounded up in
    /// magnitude: the least that leaves equity, after the taker fee on it and the liquidator's
    /// `reward`, at the initial margin of what stays open (price impact and the trade's own roundings
    /// of a few units aside: far above maintenance either way), as Bybit's and
    /// Binance's partial liquidations bring an account back to a safe margin rather than closing
    /// it. All of it when the equity cannot pay the reward, or when the fee eats the margin.
    /// closed / |size| = (imr x N - (equity - reward)) / ((imr - fee) x N), N = notionalUp(size).
    function liquidationSizeUp(
        int256 size,
        int256 equity,
        uint256 price,
        uint256 reward,
        uint256 initialMarginRatio,
        uint256 takerFee
    ) internal pure returns (int256) {
        uint256 notional = notionalUp(size, price);
        int256 left = equity - int256(reward);
        if (left <= 0 || initialMarginRatio <= takerFee || notional == 0) return size;
        uint256 required = initialMarginRatio * notional; // WAD x USDT
        uint256 have = uint256(left) * WAD;
        if (have >= required) return 0; // never for a position below maintenance
        uint256 closed = MathLib.mulDivUp(abs(size), required - have, (initialMarginRatio - takerFee) * notional);
        if (closed >= abs(size)) return size;
        return size > 0 ? int256(closed) : -int256(closed);
    }

    function abs(int256 x) internal pure returns (uint256) {
        return x >= 0 ? uint256(x) : uint256(-x);
    }
}
