// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {IForwardDesk} from "../../contracts/interfaces/IForwardDesk.sol";
import {ForwardDesk} from "../../contracts/ForwardDesk.sol";
import {LeveragedToken} from "../../contracts/LeveragedToken.sol";
import {DeskFixture} from "./utils/DeskFixture.sol";

/// @title ForwardDeskPropertiesTest
/// @notice The a16z ERC-4626 properties that still apply to an asynchronous vault (ERC-7540), fuzzed on
/// the 3x long and the 3x short: the conversions are the share token's and round down, a round trip
/// never pays out more than it took, every claim gives what the max views say and rounds against the
/// claimer however it is split between the four calls, nobody claims what is not theirs, and the
/// previews revert for any amount (the price is not known when a request is placed).
contract ForwardDeskPropertiesTest is DeskFixture {
    address internal constant TREASURY = address(0x7EA5);
    address internal constant HOLDER = address(0x401D);
    address internal constant ACTOR = address(0xAC7);
    address internal constant OTHER = address(0x07E4);
    uint256 internal constant MAX_ASSETS = 1_000_000e6;

    LeveragedToken internal longToken;
    ForwardDesk internal longDesk;
    LeveragedToken internal shortToken;
    ForwardDesk internal shortDesk;

    function setUp() public {
        _deployExchange();
        (longToken, longDesk) = _deployWithDesk(true, TREASURY);
        (shortToken, shortDesk) = _deployWithDesk(false, TREASURY);
        // a holder who is not part of any property below
        _mintThroughDesk(longDesk, HOLDER, 50_000e6, 0);
        _mintThroughDesk(shortDesk, HOLDER, 50_000e6, 0);
    }

    function _desk(bool isLong) internal view returns (ForwardDesk) {
        return isLong ? longDesk : shortDesk;
    }

    /* CONVERSIONS */

    function testFuzz_conversionsAreTheSharesAndRoundDown(bool isLong, uint256 assets, int256 bps) public {
        ForwardDesk d = _desk(isLong);
        LeveragedToken t = LeveragedToken(address(d.token()));
        assets = _bound(assets, 0, MAX_ASSETS);
        _nextRound(_boundInt(bps, -1_000, 1_000));
        uint256 shares = d.convertToShares(assets);
        _assertEq(shares, t.convertToShares(assets), "convertToShares is the share token's");
        _assertEq(d.convertToAssets(shares), t.convertToAssets(shares), "convertToAssets is the share token's");
        _assertLe(d.convertToAssets(shares), assets, "assets -> shares -> assets never grows");
        _assertEq(d.totalAssets(), t.totalAssets(), "totalAssets is the share token's");
    }

    /* ROUND TRIP */

    function testFuzz_aRoundTripNeverPaysMoreThanItTook(bool isLong, uint256 assets, int256 bps) public {
        ForwardDesk d = _desk(isLong);
        assets = _bound(assets, 10e6, MAX_ASSETS);
        bps = _boundInt(bps, -1_000, 1_000);
        uint256 shares = _mintThroughDesk(d, ACTOR, assets, bps);
        // out at the price it came in at: a new round at the same answer
        _requestRedeem(d, ACTOR, shares);
        _nextRound(0);
        d.fill();
        uint256 back = _claimAssets(d, ACTOR);
        _assertLe(back, assets, "redeem(deposit(a)) <= a");
    }

    /* CLAIMS */

    /// @dev Claims a filled deposit in two parts, `mint` then `deposit` (or the other way round).
    function testFuzz_depositClaimsGiveWhatMaxSaysAndRoundAgainstTheClaimer(
        bool isLong,
        uint256 assets,
        uint256 part,
        bool byShares,
        int256 bps
    ) public {
        ForwardDesk d = _desk(isLong);
        LeveragedToken t = LeveragedToken(address(d.token()));
        assets = _bound(assets, 10e6, MAX_ASSETS);
        _requestDeposit(d, ACTOR, assets);
        _nextRound(_boundInt(bps, -1_000, 1_000));
        d.fill();
        uint256 claimableShares = d.maxMint(ACTOR);
        _assertEq(d.maxDeposit(ACTOR), assets, "maxDeposit: the USDT the filled request gave");
        _assertEq(d.claimableDepositRequest(0, ACTOR), assets, "claimable: all of it");
        uint256 shares;
        uint256 used;
        vm.startPrank(ACTOR);
        if (byShares) {
            uint256 first = _bound(part, 1, claimableShares);
            used = d.mint(first, ACTOR);
            // rounded against the claimer: at least its pro-rata USDT
            _assertGe(used * claimableShares, first * assets, "mint pays at least pro rata");
            shares = first;
            if (used < assets) shares += d.deposit(assets - used, ACTOR);
        } else {
            uint256 first = _bound(part, 1, assets);
            uint256 got = d.deposit(first, ACTOR);
            _assertLe(got * assets, first * claimableShares, "deposit gives at most pro rata");
            shares = got;
            if (first < assets) shares += d.deposit(assets - first, ACTOR);
        }
        vm.stopPrank();
        _assertLe(shares, claimableShares, "never more than the fill gave");
        _assertLe(claimableShares - shares, 1, "at most a unit of rounding left behind");
        _assertEq(t.balanceOf(ACTOR), shares, "the shares reached the receiver");
        _assertEq(d.maxDeposit(ACTOR), 0, "nothing left to claim");
    }

    /// @dev Claims a filled redemption in two parts, `withdraw` then `redeem` (or `redeem` alone first).
    function testFuzz_redeemClaimsGiveWhatMaxSaysAndRoundAgainstTheClaimer(
        bool isLong,
        uint256 assets,
        uint256 part,
        bool byAssets,
        int256 bps
    ) public {
        ForwardDesk d = _desk(isLong);
        assets = _bound(assets, 10e6, MAX_ASSETS);
        uint256 held = _mintThroughDesk(d, ACTOR, assets, 0);
        _requestRedeem(d, ACTOR, held);
        _nextRound(_boundInt(bps, -1_000, 1_000));
        d.fill();
        uint256 claimableAssets = d.maxWithdraw(ACTOR);
        _assertEq(d.maxRedeem(ACTOR), held, "maxRedeem: the shares the filled request gave");
        uint256 paid;
        vm.startPrank(ACTOR);
        if (byAssets && claimableAssets != 0) {
            uint256 first = _bound(part, 1, claimableAssets);
            uint256 burnt = d.withdraw(first, ACTOR, ACTOR);
            _assertGe(burnt * claimableAssets, first * held, "withdraw takes at least pro rata");
            paid = first;
            if (burnt < held) paid += d.redeem(held - burnt, ACTOR, ACTOR);
        } else {
            uint256 first = _bound(part, 1, held);
            uint256 got = d.redeem(first, ACTOR, ACTOR);
            _assertLe(got * held, first * claimableAssets, "redeem pays at most pro rata");
            paid = got;
            if (first < held) paid += d.redeem(held - first, ACTOR, ACTOR);
        }
        vm.stopPrank();
        _assertLe(paid, claimableAssets, "never more than the fill paid");
        _assertLe(claimableAssets - paid, 1, "at most a unit of rounding left behind");
        _assertEq(usdt.balanceOf(ACTOR), paid, "the USDT reached the receiver");
        _assertEq(d.maxRedeem(ACTOR), 0, "nothing left to claim");
    }

    function testFuzz_nobodyClaimsWhatIsNotTheirs(bool isLong, uint256 assets, uint256 amount) public {
        ForwardDesk d = _desk(isLong);
        assets = _bound(assets, 10e6, MAX_ASSETS);
        amount = _bound(amount, 1, assets);
        _requestDeposit(d, ACTOR, assets);
        _nextRound(0);
        d.fill();
        _assertEq(d.maxDeposit(OTHER), 0, "another account has nothing to claim");
        _assertEq(d.maxMint(OTHER), 0, "nor shares");
        // another account's claim of its own: nothing there
        vm.expectRevert(abi.encodeWithSelector(IForwardDesk.ExceedsClaimable.selector, amount, 0));
        vm.prank(OTHER);
        d.deposit(amount, OTHER);
        // the controller's claim by someone it did not approve
        vm.expectRevert(abi.encodeWithSelector(IForwardDesk.NotOperator.selector, ACTOR, OTHER));
        vm.prank(OTHER);
        d.deposit(amount, OTHER, ACTOR);
        _assertEq(d.maxDeposit(ACTOR), assets, "the controller's claim is whole");
    }

    /* PREVIEWS */

    function testFuzz_previewsRevertForAnyAmount(bool isLong, uint256 amount) public {
        ForwardDesk d = _desk(isLong);
        bytes memory asyncFlow = abi.encodeWithSelector(IForwardDesk.AsyncFlow.selector);
        vm.expectRevert(asyncFlow);
        d.previewDeposit(amount);
        vm.expectRevert(asyncFlow);
        d.previewMint(amount);
        vm.expectRevert(asyncFlow);
        d.previewRedeem(amount);
        vm.expectRevert(asyncFlow);
        d.previewWithdraw(amount);
    }
}
