// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {PerpMath} from "../../contracts/libraries/PerpMath.sol";
import {ExchangeFixture} from "./utils/ExchangeFixture.sol";

/// @title MockPerpVaultCapacityTest
/// @notice Positions on either side of the old one-slot limits (a size of 2^87, an open cost of 2^55
/// USDT units, a margin of 2^56) open, read back exactly, close and pay out what went in less the two
/// taker fees and at most one unit of rounding (issue 17: they reverted with SafeCast before).
contract MockPerpVaultCapacityTest is ExchangeFixture {
    using PerpMath for int256;

    uint256 internal constant POOL = 1e18; // 1 trillion USDT
    uint256 internal constant SPAN = 1 << 40; // how far either side of a limit the fuzzer goes
    uint256 internal constant TAKER_FEE = 0.0005e18;

    function setUp() public {
        _deployExchange(POOL);
        // this contract is the trader too: margins up to 2^60 units
        usdt.mint(address(this), 1 << 60);
        usdt.approve(address(vault), type(uint256).max);
    }

    /// @notice A size near 2^87 (154.7 million units), at 0.01 to 1 USD.
    function testFuzz_sizeNearTheOldLimitTrades(uint256 sizeSeed, uint256 price, bool long) public {
        price = _bound(price, 1e6, 1e8);
        int256 size = int256(_bound(sizeSeed, (1 << 87) - SPAN * 1e6, (1 << 87) + SPAN * 1e6));
        _roundTrip(long ? size : -size, price, 0);
    }

    /// @notice An open cost near 2^55 units (36 billion USDT), at 1 to 1,000,000 USD.
    function testFuzz_openCostNearTheOldLimitTrades(uint256 costSeed, uint256 price, bool long) public {
        price = _bound(price, 1e8, 1e14);
        uint256 cost = _bound(costSeed, (1 << 55) - SPAN, (1 << 55) + SPAN);
        int256 size = int256((cost * PerpMath.SIZE_PRICE_TO_USDT) / price);
        _roundTrip(long ? size : -size, price, 0);
    }

    /// @notice A margin near 2^56 units (72 billion USDT) under a 60,000 USD position.
    function testFuzz_marginNearTheOldLimitTrades(uint256 marginSeed, bool long) public {
        uint256 margin = _bound(marginSeed, (1 << 56) - SPAN, (1 << 56) + SPAN);
        _roundTrip(long ? int256(1e18) : -1e18, 60_000e8, margin);
    }

    /// @dev Opens `size` at `price` on at least 5x its initial margin (or `margin` if more), checks the
    /// position as stored, closes it and withdraws everything.
    function _roundTrip(int256 size, uint256 price, uint256 margin) internal {
        feed.updateAnswer(int256(price));
        uint256 notional = size.notionalUp(price);
        uint256 fee = PerpMath.wadMulUp(notional, TAKER_FEE);
        if (margin < notional / 2) margin = notional / 2 + fee;
        vault.deposit(BTC, address(this), margin);
        uint256 held = usdt.balanceOf(address(this));

        vault.trade(BTC, size, 0, address(this));
        (int256 s, int256 openCost, uint256 m) = vault.positionOf(BTC, address(this));
        _assertEq(s, size, "size");
        _assertEq(openCost, size.costUp(price), "open cost");
        _assertEq(m, margin - fee, "margin");
        _assertEq(
            vault.equityOf(BTC, address(this)),
            int256(margin - fee) + size.valueDown(price) - openCost,
            "equity"
        );

        vault.trade(BTC, -size, 0, address(this));
        (s, openCost, m) = vault.positionOf(BTC, address(this));
        _assertEq(s, 0, "size after");
        _assertEq(openCost, 0, "open cost after");
        _assertLe(m, margin - 2 * fee, "margin after");
        _assertGe(m + 1, margin - 2 * fee, "margin after, rounding");

        vault.withdraw(BTC, m, address(this));
        _assertEq(usdt.balanceOf(address(this)) - held, m, "paid out");
        _assertEq(usdt.balanceOf(address(vault)), vault.accountedBalance(), "solvent");
        (, , m) = vault.positionOf(BTC, address(this));
        _assertEq(m, 0, "margin left");
    }
}
