// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {IPerpVault} from "../../contracts/interfaces/IPerpVault.sol";
import {PerpMath} from "../../contracts/libraries/PerpMath.sol";
import {ExchangeFixture} from "./utils/ExchangeFixture.sol";
import {PayInFull} from "./utils/PayInFull.sol";

/// @title MockPerpVaultFuzzTest
/// @notice Fuzz tests of the exchange's rounding and value flows: a round trip at one price never pays out
/// more than was put in and costs exactly the two trading costs plus at most one unit of rounding; realized
/// PnL never exceeds the exact price move; funding is never paid short or received long; and PerpMath's
/// functions round the way their names say.
contract MockPerpVaultFuzzTest is ExchangeFixture {
    using PerpMath for int256;

    struct Opened {
        bool ok; // false when the open was expected to (and did) revert
        uint256 marginAfter; // margin after the open's cost
        int256 openCost;
        uint256 cost;
    }

    address internal constant TRADER = address(0x7EAD);
    uint256 internal constant POOL = 1e15; // 1,000,000,000 USDT of pool liquidity
    uint256 internal constant MAX_MARGIN = 1_000_000e6;
    uint256 internal constant MIN_PRICE = 1e7; // 0.1 USD: 100 million units at 10x on MAX_MARGIN fit a position
    uint256 internal constant MAX_PRICE = 1e14; // 1,000,000 USD
    uint256 internal constant D = PerpMath.SIZE_PRICE_TO_USDT;

    function setUp() public {
        _deployExchange(POOL);
        vm.prank(TRADER);
        usdt.approve(address(vault), type(uint256).max);
        // the trader is a contract that pays margin in the exchange's callback (IMarginPayer)
        vm.etch(TRADER, address(new PayInFull(usdt)).code);
    }

    /* VAULT ROUND TRIPS */

    /// @notice Open then close at one price, no time passing: the trader never gets back more than it put in,
    /// and what it loses is exactly the two trading costs (taker fee + price impact) plus the rounding of open
    /// cost against value (0 or 1 unit). Margin goes in by deposit or pay-first, comes out by withdraw or by a
    /// negative marginDelta; an open that would break the initial margin reverts with the predicted numbers.
    function testFuzz_roundTripAtOnePriceNeverPaysOut(
        uint256 margin,
        uint256 sizeSeed,
        bool long,
        uint256 price,
        uint256 takerFee,
        uint256 impact,
        bool payFirst
    ) public {
        margin = _bound(margin, 1, MAX_MARGIN);
        price = _bound(price, MIN_PRICE, MAX_PRICE);
        vault.setFees(uint64(_bound(takerFee, 0, 0.01e18)), 5e6);
        vault.setPriceImpact(BTC, uint64(_bound(impact, 0, 0.01e9) * 1e9)); // in steps of 1e9
        feed.updateAnswer(int256(price));
        _roundTrip(_randomSize(sizeSeed, long, margin, price, 10), margin, price, payFirst);
    }

    function _roundTrip(int256 size, uint256 margin, uint256 price, bool payFirst) internal {
        Opened memory o = _open(size, margin, payFirst);
        if (!o.ok) return;

        uint256 roundingLoss = uint256(o.openCost - size.valueDown(price));
        _assertLe(roundingLoss, 1, "open cost rounds at most 1 above value");
        vm.prank(TRADER);
        IPerpVault.TradeResult memory r = vault.trade(BTC, -size, 0, TRADER);
        _assertEq(r.realizedPnl, -int256(roundingLoss), "realized at one price is the rounding only");
        _assertEq(r.cost, o.cost, "close costs what the open cost");
        _assertEq(r.fundingPaid, 0, "no funding without time");

        uint256 due = o.cost + roundingLoss;
        uint256 finalMargin = _assertFlat(o.marginAfter > due ? o.marginAfter - due : 0);
        _assertLe(finalMargin, margin, "never more than deposited");
        if (margin >= 2 * o.cost + roundingLoss) {
            _assertEq(margin - finalMargin, 2 * o.cost + roundingLoss, "loss == two costs + rounding");
        }
        _assertEq(vault.poolBalance(), POOL + margin - finalMargin, "the pool keeps exactly the loss");

        _withdrawAll(finalMargin, payFirst);
        _assertEq(usdt.balanceOf(TRADER), finalMargin, "paid out exactly the margin");
        vm.expectRevert(abi.encodeWithSelector(IPerpVault.InsufficientMargin.selector, 1, 0));
        vm.prank(TRADER);
        vault.withdraw(BTC, 1, TRADER);
    }

    /// @notice Open at p1, close at p2: realized PnL is never above the exact size x (p2 - p1) / 1e20 and at
    /// most 1 unit below its floor; the margin moves by exactly realized PnL minus the two costs (or to zero,
    /// the rest being bad debt the pool bears).
    function testFuzz_realizedPnlWithinOneUnitOfPriceMove(
        uint256 margin,
        uint256 sizeSeed,
        bool long,
        uint256 p1,
        uint256 p2,
        uint256 impact
    ) public {
        margin = _bound(margin, 1, MAX_MARGIN);
        p1 = _bound(p1, MIN_PRICE, MAX_PRICE);
        p2 = _bound(p2, 1, 3 * p1);
        vault.setPriceImpact(BTC, uint64(_bound(impact, 0, 0.01e9) * 1e9)); // in steps of 1e9
        feed.updateAnswer(int256(p1));
        _priceMove(_randomSize(sizeSeed, long, margin, p1, 9), margin, p1, p2);
    }

    function _priceMove(int256 size, uint256 margin, uint256 p1, uint256 p2) internal {
        Opened memory o = _open(size, margin, false);
        if (!o.ok) return;
        feed.updateAnswer(int256(p2));
        vm.prank(TRADER);
        IPerpVault.TradeResult memory r = vault.trade(BTC, -size, 0, TRADER);

        int256 exactScaled = size * (int256(p2) - int256(p1)); // USDT x 1e20
        int256 floorExact = _floorDiv(exactScaled, int256(D));
        _assertLe(r.realizedPnl * int256(D), exactScaled, "realized never above the exact move");
        _assertLe(r.realizedPnl, floorExact, "realized at most the floor of the move");
        _assertGe(r.realizedPnl, floorExact - 1, "realized within 1 unit of the move");
        _assertEq(r.price, p2, "executes at the mark");
        _assertEq(r.fundingPaid, 0, "no funding without time");
        (uint256 fee, uint256 impactCost) = _costs(size, p2);
        _assertEq(r.cost, fee + impactCost, "close cost");

        int256 expected = int256(o.marginAfter) + r.realizedPnl - int256(r.cost);
        _assertFlat(expected > 0 ? uint256(expected) : 0);
        if (expected > 0) {
            _assertLe(
                expected,
                int256(margin) + floorExact - int256(o.cost + r.cost),
                "round trip returns at most margin + exact move - costs"
            );
        }
    }

    /// @notice Closing in two parts never realizes more than closing at once (and at most 1 unit less).
    function testFuzz_splitCloseNeverPaysMore(
        uint256 margin,
        uint256 sizeSeed,
        bool long,
        uint256 p1,
        uint256 p2,
        uint256 fraction
    ) public {
        margin = _bound(margin, 1e6, MAX_MARGIN);
        p1 = _bound(p1, MIN_PRICE, MAX_PRICE);
        p2 = _bound(p2, p1 / 2 + 1, 2 * p1);
        feed.updateAnswer(int256(p1));
        int256 size = _randomSize(sizeSeed, long, margin, p1, 5);
        Opened memory o = _open(size, margin, false);
        if (!o.ok) return;
        feed.updateAnswer(int256(p2));

        int256 part = (size * int256(_bound(fraction, 1, 9_999))) / 10_000;
        int256 realized;
        if (part != 0) {
            vm.prank(TRADER);
            realized = vault.trade(BTC, -part, 0, TRADER).realizedPnl;
        }
        vm.prank(TRADER);
        realized += vault.trade(BTC, part - size, 0, TRADER).realizedPnl;

        int256 atOnce = size.valueDown(p2) - o.openCost;
        _assertLe(realized, atOnce, "split close never realizes more");
        _assertGe(realized, atOnce - 1, "split close loses at most 1 unit");
    }

    /// @notice Funding settled on a touch equals PerpMath.fundingOwedUp of the index move: a payer never pays
    /// less than the exact amount and a receiver never receives more.
    function testFuzz_fundingNeverFavorsTheTrader(
        uint256 sizeSeed,
        bool long,
        uint256 price,
        int256 rate,
        uint256 elapsed
    ) public {
        price = _bound(price, MIN_PRICE, MAX_PRICE);
        elapsed = _bound(elapsed, 1, 30 days);
        int64 fundingRate = int64(_boundInt(rate, -0.01e12, 0.01e12) * 1e6); // in steps of 1e6
        vault.setFundingRate(BTC, fundingRate);
        feed.updateAnswer(int256(price));
        uint256 margin = MAX_MARGIN;
        int256 size = _randomSize(sizeSeed, long, margin, price, 1);
        if (!_open(size, margin, false).ok) return;
        int256 indexBefore = vault.fundingIndex(BTC);

        vm.warp(block.timestamp + elapsed);
        feed.updateAnswer(int256(price));
        vm.prank(TRADER);
        IPerpVault.TradeResult memory r = vault.trade(BTC, 0, 0, TRADER);

        int256 indexDelta = vault.fundingIndex(BTC) - indexBefore;
        _assertEq(indexDelta, PerpMath.fundingIndexDelta(price, fundingRate, elapsed), "index delta");
        _assertEq(r.fundingPaid, PerpMath.fundingOwedUp(size, indexDelta), "settled == fundingOwedUp");
        _assertGe(r.fundingPaid * int256(PerpMath.FUNDING_SCALE), size * indexDelta, "never pays short");
        if ((size > 0) == (fundingRate > 0) && fundingRate != 0) _assertGe(r.fundingPaid, 0, "payer pays");
    }

    /* PERPMATH */

    /// @notice valueDown <= exact <= costUp, and they differ by exactly the remainder's presence.
    function testFuzz_valueDownAndCostUpBracketTheExactValue(int256 size, uint256 price) public pure {
        size = _boundInt(size, -1e36, 1e36);
        price = _bound(price, 0, 1e20);
        int256 down = size.valueDown(price);
        int256 up = size.costUp(price);
        int256 exactScaled = size * int256(price);
        _assertLe(down * int256(D), exactScaled, "valueDown <= exact");
        _assertGe(up * int256(D), exactScaled, "costUp >= exact");
        _assertEq(up - down, exactScaled % int256(D) == 0 ? int256(0) : int256(1), "costUp - valueDown");
        _assertEq(size.notionalUp(price), size >= 0 ? uint256(up) : uint256(-down), "notionalUp == |size x price|");
    }

    /// @notice fundingOwedUp rounds toward plus infinity: owed x FUNDING_SCALE >= size x delta, by less than
    /// FUNDING_SCALE.
    function testFuzz_fundingOwedUpRoundsUp(int256 size, int256 indexDelta) public pure {
        size = _boundInt(size, -1e36, 1e36);
        indexDelta = _boundInt(indexDelta, -1e38, 1e38);
        int256 owed = PerpMath.fundingOwedUp(size, indexDelta);
        int256 scale = int256(PerpMath.FUNDING_SCALE);
        int256 exact = size * indexDelta;
        _assertGe(owed * scale, exact, "owed >= exact");
        _assertLe(owed * scale - exact, scale - 1, "owed < exact + 1");
    }

    /// @notice mulDivDownSigned and mulDivUpSigned bracket a x b / d, differ by at most 1 (by 0 exactly when
    /// d divides a x b) and mirror each other under negation.
    function testFuzz_mulDivSignedBracketsAndMirrors(int256 a, uint256 b, uint256 d) public pure {
        a = _boundInt(a, -1e38, 1e38);
        b = _bound(b, 0, 1e38);
        d = _bound(d, 1, 1e38);
        int256 down = PerpMath.mulDivDownSigned(a, b, d);
        int256 up = PerpMath.mulDivUpSigned(a, b, d);
        int256 product = a * int256(b);
        _assertLe(down * int256(d), product, "down x d <= a x b");
        _assertGe(up * int256(d), product, "up x d >= a x b");
        _assertEq(up - down, product % int256(d) == 0 ? int256(0) : int256(1), "up - down");
        _assertEq(PerpMath.mulDivDownSigned(-a, b, d), -up, "down(-a) == -up(a)");
        _assertEq(PerpMath.mulDivUpSigned(-a, b, d), -down, "up(-a) == -down(a)");
    }

    /// @notice Taker fee and impact cost round up, by less than one unit each.
    function testFuzz_tradeCostUpRoundsUp(uint256 notional, uint256 takerFee, uint256 impact) public pure {
        notional = _bound(notional, 0, 1e18);
        takerFee = _bound(takerFee, 0, 0.01e18);
        impact = _bound(impact, 0, 1e18);
        (uint256 fee, uint256 impactCost) = PerpMath.tradeCostUp(notional, takerFee, impact);
        uint256 exactFee = notional * takerFee;
        _assertGe(fee * 1e18, exactFee, "fee >= exact");
        _assertLe(fee * 1e18 - exactFee, 1e18 - 1, "fee < exact + 1");
        uint256 exactImpact = notional * notional * impact;
        uint256 impactScale = PerpMath.IMPACT_NOTIONAL * PerpMath.WAD;
        _assertGe(impactCost * impactScale, exactImpact, "impact >= exact");
        _assertLe(impactCost * impactScale - exactImpact, impactScale - 1, "impact < exact + 1");
    }

    /// @notice The part of the open cost that leaves on a partial close rounds up, and a full close takes
    /// all of it.
    function testFuzz_closedCostUpRoundsUp(int256 openCost, int256 size, uint256 closedSeed) public pure {
        openCost = _boundInt(openCost, -1e30, 1e30);
        size = _boundInt(size, -1e36, 1e36);
        if (size == 0) size = 1;
        int256 closed = int256(_bound(closedSeed, 1, PerpMath.abs(size)));
        if (size < 0) closed = -closed;
        int256 part = PerpMath.closedCostUp(openCost, closed, size);
        int256 exactScaled = openCost * int256(PerpMath.abs(closed));
        int256 absSize = int256(PerpMath.abs(size));
        _assertGe(part * absSize, exactScaled, "closed cost >= exact share");
        _assertLe(part * absSize - exactScaled, absSize - 1, "closed cost < exact share + 1");
        _assertEq(PerpMath.closedCostUp(openCost, size, size), openCost, "a full close takes all the cost");
    }

    /// @notice The funding index grows by price x rate x time / FUNDING_DIVISOR, truncated toward zero.
    function testFuzz_fundingIndexDeltaTruncates(uint256 price, int256 rate, uint256 elapsed) public pure {
        price = _bound(price, 0, 1e20);
        rate = _boundInt(rate, -0.01e18, 0.01e18);
        elapsed = _bound(elapsed, 0, 3_650 days);
        int256 delta = PerpMath.fundingIndexDelta(price, rate, elapsed);
        int256 exact = int256(price) * rate * int256(elapsed);
        int256 divisor = PerpMath.FUNDING_DIVISOR;
        _assertTrue(delta == 0 || (delta > 0) == (exact > 0), "sign of the rate");
        _assertLe(PerpMath.abs(delta * divisor), PerpMath.abs(exact), "truncated toward zero");
        _assertLe(PerpMath.abs(exact) - PerpMath.abs(delta * divisor), uint256(divisor) - 1, "by less than 1");
    }

    /* HELPERS */

    /// @dev A nonzero size worth at most `leverage` x margin at `price`, long or short.
    function _randomSize(
        uint256 seed,
        bool long,
        uint256 margin,
        uint256 price,
        uint256 leverage
    ) internal pure returns (int256 size) {
        uint256 maxSize = (margin * leverage * D) / price;
        size = int256(_bound(seed, 1, maxSize == 0 ? 1 : maxSize));
        if (!long) size = -size;
    }

    /// @dev Funds `margin` (deposit, or pay-first with the trade) and opens `size`. Predicts the cost and the
    /// initial margin check; when the check must fail, expects the exact BelowInitialMargin revert.
    function _open(int256 size, uint256 margin, bool payFirst) internal returns (Opened memory o) {
        uint256 price = vault.markPrice(BTC);
        (uint256 fee, uint256 impactCost) = _costs(size, price);
        o.cost = fee + impactCost;
        o.openCost = size.costUp(price);
        o.marginAfter = margin > o.cost ? margin - o.cost : 0;
        int256 equity = int256(o.marginAfter) + size.valueDown(price) - o.openCost;
        (, uint64 initialMarginRatio, , ) = vault.params();
        uint256 required = PerpMath.wadMulUp(size.notionalUp(price), initialMarginRatio);

        usdt.mint(TRADER, margin);
        vm.startPrank(TRADER);
        // payFirst: the margin comes inside the trade (its payMargin callback); else deposited first
        if (!payFirst) vault.deposit(BTC, TRADER, margin);
        if (equity < int256(required)) {
            vm.expectRevert(abi.encodeWithSelector(IPerpVault.BelowInitialMargin.selector, equity, required));
            vault.trade(BTC, size, payFirst ? int256(margin) : int256(0), TRADER);
            vm.stopPrank();
            return o;
        }
        IPerpVault.TradeResult memory r = vault.trade(BTC, size, payFirst ? int256(margin) : int256(0), TRADER);
        vm.stopPrank();
        _assertEq(r.cost, o.cost, "open cost charged");
        _assertEq(r.realizedPnl, 0, "an open realizes nothing");
        _assertEq(r.equity, equity, "equity after open");
        (int256 storedSize, int256 storedCost, uint256 storedMargin) = vault.positionOf(BTC, TRADER);
        _assertEq(storedSize, size, "size stored");
        _assertEq(storedCost, o.openCost, "open cost stored");
        _assertEq(storedMargin, o.marginAfter, "margin after open");
        o.ok = true;
    }

    function _costs(int256 size, uint256 price) internal view returns (uint256 fee, uint256 impactCost) {
        (uint64 takerFee, , , ) = vault.params();
        return PerpMath.tradeCostUp(size.notionalUp(price), takerFee, vault.marketInfo(BTC).priceImpact);
    }

    /// @dev Asserts the position is flat with `expectedMargin` and returns it.
    function _assertFlat(uint256 expectedMargin) internal view returns (uint256) {
        (int256 size, int256 openCost, uint256 margin) = vault.positionOf(BTC, TRADER);
        _assertEq(size, 0, "flat");
        _assertEq(openCost, 0, "no open cost left");
        _assertEq(margin, expectedMargin, "margin after close");
        return margin;
    }

    /// @dev Takes the whole margin out, by withdraw or by a margin-only trade.
    function _withdrawAll(uint256 margin, bool byTrade) internal {
        if (margin == 0) return;
        vm.prank(TRADER);
        if (byTrade) {
            vault.trade(BTC, 0, -int256(margin), TRADER);
        } else {
            vault.withdraw(BTC, margin, TRADER);
        }
    }

    function _floorDiv(int256 a, int256 b) internal pure returns (int256 q) {
        q = a / b;
        if (a % b != 0 && (a < 0) != (b < 0)) q -= 1;
    }
}
