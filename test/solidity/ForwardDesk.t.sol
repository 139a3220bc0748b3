// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {IERC165} from "@openzeppelin/contracts/utils/introspection/IERC165.sol";

import {ForwardDesk} from "../../contracts/ForwardDesk.sol";
import {IERC7575, IERC7540Operator, IERC7540Deposit, IERC7540Redeem} from "../../contracts/interfaces/IERC7540.sol";
import {IForwardDesk} from "../../contracts/interfaces/IForwardDesk.sol";
import {IPerpVault} from "../../contracts/interfaces/IPerpVault.sol";
import {ILeveragedToken} from "../../contracts/interfaces/ILeveragedToken.sol";
import {LeveragedToken} from "../../contracts/LeveragedToken.sol";
import {MathLib} from "../../contracts/libraries/MathLib.sol";
import {TokenMath} from "../../contracts/libraries/TokenMath.sol";
import {DeskFixture} from "./utils/DeskFixture.sol";
import {IVm} from "./utils/Vm.sol";

/// @title ForwardDeskTest
/// @notice Forward pricing (issue 15): requests filled at the next price round, claims, cancels, late
/// fills, refusals, and the attack it stops: knowing the next price before it lands.
contract ForwardDeskTest is DeskFixture {
    address internal constant TREASURY = address(0x7EA5);
    address internal constant ALICE = address(0xA11CE);
    address internal constant BOB = address(0xB0B);
    address internal constant CAROL = address(0xCA201);
    address internal constant STRANGER = address(0x5757);

    LeveragedToken internal token;
    ForwardDesk internal desk;

    function setUp() public {
        _deployExchange();
        (token, desk) = _deployWithDesk(true, TREASURY);
    }

    /* STANDARD */

    function test_interfaceIdsAreTheStandards() public view {
        _assertTrue(type(IERC7575).interfaceId == 0x2f0a18c5, "ERC-7575 id");
        _assertTrue(type(IERC7540Operator).interfaceId == 0xe3bc4e65, "ERC-7540 operator id");
        _assertTrue(type(IERC7540Deposit).interfaceId == 0xce3bbe50, "ERC-7540 async deposit id");
        _assertTrue(type(IERC7540Redeem).interfaceId == 0x620ee8e4, "ERC-7540 async redeem id");
        _assertTrue(desk.supportsInterface(0x2f0a18c5), "supports ERC-7575");
        _assertTrue(desk.supportsInterface(0xe3bc4e65), "supports operators");
        _assertTrue(desk.supportsInterface(0xce3bbe50), "supports async deposits");
        _assertTrue(desk.supportsInterface(0x620ee8e4), "supports async redemptions");
        _assertTrue(desk.supportsInterface(type(IERC165).interfaceId), "supports ERC-165");
        _assertTrue(!desk.supportsInterface(0xffffffff), "not 0xffffffff");
        _assertTrue(desk.share() == address(token) && desk.asset() == address(usdt), "share and asset");
    }

    function test_previewsRevertForAsyncFlows() public {
        vm.expectRevert(abi.encodeWithSelector(IForwardDesk.AsyncFlow.selector));
        desk.previewDeposit(1e6);
        vm.expectRevert(abi.encodeWithSelector(IForwardDesk.AsyncFlow.selector));
        desk.previewMint(1e18);
        vm.expectRevert(abi.encodeWithSelector(IForwardDesk.AsyncFlow.selector));
        desk.previewRedeem(1e18);
        vm.expectRevert(abi.encodeWithSelector(IForwardDesk.AsyncFlow.selector));
        desk.previewWithdraw(1e6);
    }

    /* THE TOKEN'S GATE */

    function test_onlyTheDeskMintsAndRedeemsAtALivePrice() public {
        _fund(token, ALICE, 1_000e6);
        vm.prank(ALICE);
        vm.expectRevert(abi.encodeWithSelector(ILeveragedToken.OnlyDesk.selector, ALICE, address(desk)));
        token.deposit(1_000e6, ALICE);
        uint256 shares = _mintThroughDesk(desk, ALICE, 1_000e6, 0);
        vm.prank(ALICE);
        vm.expectRevert(abi.encodeWithSelector(ILeveragedToken.OnlyDesk.selector, ALICE, address(desk)));
        token.redeem(shares, ALICE, ALICE);
        // once settled no price is at stake: the token pays its frozen USDT to anyone, instantly
        token.scheduleDelisting(block.timestamp + 3 days);
        vm.warp(block.timestamp + 3 days);
        _setPrice(_movedPrice(0));
        token.settle();
        uint256 frozen = token.previewRedeem(shares);
        vm.prank(ALICE);
        _assertEq(token.redeem(shares, ALICE, ALICE), frozen, "settled redeem pays the frozen NAV");
        _assertTrue(frozen > 990e6, "about what was deposited");
    }

    /* REQUESTS, FILLS, CLAIMS */

    function test_aDepositIsFilledAtTheNextRoundNeverItsOwn() public {
        _requestDeposit(desk, ALICE, 10_000e6);
        _assertEq(desk.pendingDepositRequest(0, ALICE), 10_000e6, "pending");
        _assertEq(desk.claimableDepositRequest(0, ALICE), 0, "nothing claimable yet");
        (bool needed, ) = desk.fillNeeded();
        _assertTrue(!needed, "nothing to fill in the request's own round");
        vm.expectRevert(abi.encodeWithSelector(IForwardDesk.NothingToFill.selector, desk.currentRound()));
        desk.fill();

        _nextRound(100);
        (needed, ) = desk.fillNeeded();
        _assertTrue(needed, "a fill is due once a newer round exists");
        // what the token's own mint pays at the new price is what the batch gets
        uint256 expected = token.previewDeposit(10_000e6);
        desk.fill();
        _assertEq(desk.pendingDepositRequest(0, ALICE), 0, "no longer pending");
        _assertEq(desk.claimableDepositRequest(0, ALICE), 10_000e6, "claimable");
        _assertEq(desk.maxMint(ALICE), expected, "claimable shares: the mint at the new price");
        uint256 shares = _claimShares(desk, ALICE);
        _assertEq(shares, expected, "claimed");
        _assertEq(token.balanceOf(ALICE), expected, "alice holds them");
        _assertEq(desk.maxDeposit(ALICE), 0, "all claimed");
    }

    function test_aRedemptionIsFilledAtTheNextRound() public {
        uint256 shares = _mintThroughDesk(desk, ALICE, 10_000e6, 0);
        _requestRedeem(desk, ALICE, shares);
        _assertEq(desk.pendingRedeemRequest(0, ALICE), shares, "pending shares");
        _nextRound(-200);
        uint256 expected = token.previewRedeem(shares);
        desk.fill();
        _assertEq(desk.claimableRedeemRequest(0, ALICE), shares, "claimable shares");
        _assertEq(desk.maxWithdraw(ALICE), expected, "claimable USDT: the redeem at the new price");
        // part by withdraw, the rest by redeem: together exactly the fill's USDT
        vm.prank(ALICE);
        uint256 burnt = desk.withdraw(expected / 3, ALICE, ALICE);
        _assertTrue(burnt > 0 && burnt < shares, "withdraw takes a part of the shares");
        _assertEq(_claimAssets(desk, ALICE) + expected / 3, expected, "all of it claimed");
        _assertEq(usdt.balanceOf(ALICE), expected, "alice holds the USDT");
    }

    function test_everyoneInABatchGetsTheSameNavAndHoldersAreUntouched() public {
        _mintThroughDesk(desk, CAROL, 50_000e6, 0);
        _requestDeposit(desk, ALICE, 30_000e6);
        _requestDeposit(desk, BOB, 10_000e6);
        _nextRound(50);
        uint256 carolBefore = token.convertToAssets(token.balanceOf(CAROL));
        uint256 expected = token.previewDeposit(40_000e6);
        desk.fill();
        uint256 alice = desk.maxMint(ALICE);
        uint256 bob = desk.maxMint(BOB);
        _assertEq(alice, (expected * 30_000e6) / 40_000e6, "alice: three quarters of the batch");
        _assertEq(bob, (expected * 10_000e6) / 40_000e6, "bob: a quarter");
        _assertLe(alice + bob, expected, "never more than the batch");
        _assertLe(expected - alice - bob, 1, "at most a unit of rounding left");
        uint256 carolAfter = token.convertToAssets(token.balanceOf(CAROL));
        _assertGe(carolAfter, carolBefore, "a holder who did not trade loses nothing");
        _assertLe(carolAfter - carolBefore, 1, "nor gains more than rounding");
    }

    function test_cancelReturnsEverythingInTheSameRoundOnly() public {
        _requestDeposit(desk, ALICE, 5_000e6);
        vm.prank(ALICE);
        _assertEq(desk.cancelDepositRequest(ALICE), 5_000e6, "cancelled");
        _assertEq(usdt.balanceOf(ALICE), 5_000e6, "all of it back");
        _assertEq(desk.pendingDepositRequest(0, ALICE), 0, "nothing pending");

        _requestDeposit(desk, ALICE, 5_000e6); // the same round: the same epoch as the cancelled one
        _nextRound(100);
        vm.prank(ALICE);
        vm.expectRevert(abi.encodeWithSelector(IForwardDesk.NotCancellable.selector, 1));
        desk.cancelDepositRequest(ALICE);
    }

    function test_aNewRequestWaitsForTheLastOnesFill() public {
        _requestDeposit(desk, ALICE, 1_000e6);
        _requestDeposit(desk, ALICE, 2_000e6); // same round: added to the same request
        _assertEq(desk.pendingDepositRequest(0, ALICE), 3_000e6, "one request of 3,000");
        _nextRound(0);
        usdt.mint(ALICE, 1_000e6);
        vm.startPrank(ALICE);
        usdt.approve(address(desk), 1_000e6);
        vm.expectRevert(abi.encodeWithSelector(IForwardDesk.RequestPending.selector, 1));
        desk.requestDeposit(1_000e6, ALICE, ALICE);
        vm.stopPrank();
        desk.fill();
        _requestDeposit(desk, ALICE, 1_000e6); // the filled one became claimable
        _assertEq(desk.claimableDepositRequest(0, ALICE), 3_000e6, "the first is claimable");
        _assertEq(desk.pendingDepositRequest(0, ALICE), 1_000e6, "the second is pending");
    }

    function test_operatorsActForTheirController() public {
        usdt.mint(ALICE, 1_000e6);
        vm.prank(ALICE);
        usdt.approve(address(desk), 1_000e6);
        vm.prank(BOB);
        vm.expectRevert(abi.encodeWithSelector(IForwardDesk.NotOperator.selector, ALICE, BOB));
        desk.requestDeposit(1_000e6, ALICE, ALICE);
        vm.prank(ALICE);
        _assertTrue(desk.setOperator(BOB, true), "setOperator returns true");
        _assertTrue(desk.isOperator(ALICE, BOB), "bob operates for alice");
        vm.prank(BOB);
        desk.requestDeposit(1_000e6, ALICE, ALICE);
        _nextRound(0);
        desk.fill();
        uint256 shares = desk.maxMint(ALICE);
        vm.prank(BOB);
        desk.mint(shares, BOB, ALICE); // an operator may claim to any receiver
        _assertEq(token.balanceOf(BOB), shares, "claimed by the operator");
        vm.prank(STRANGER);
        vm.expectRevert(abi.encodeWithSelector(IForwardDesk.NotOperator.selector, ALICE, STRANGER));
        desk.deposit(1, STRANGER, ALICE);
    }

    /* LATE FILLS AND REFUSALS */

    function test_anyoneFillsALateBatchForACappedBounty() public {
        _requestDeposit(desk, ALICE, 100e6);
        _nextRound(0);
        (bool needed, uint256 lateAt) = desk.fillNeeded();
        _assertTrue(needed, "a fill is due");
        _assertEq(lateAt, block.timestamp - 1 minutes + FILL_DELAY, "late an hour after the request");
        vm.prank(STRANGER);
        vm.expectRevert(abi.encodeWithSelector(IForwardDesk.FillNotLate.selector, lateAt));
        desk.fill();
        vm.warp(lateAt);
        _setPrice(_movedPrice(0));
        vm.prank(STRANGER);
        desk.fill();
        _assertEq(usdt.balanceOf(STRANGER), 1e6, "1% of a 100 USDT batch, under the 5 USDT cap");
        _assertTrue(desk.maxMint(ALICE) > 0, "the batch was filled");
    }

    /// @dev Found by the engine twin's differential test: an epoch emptied by a cancel used to set the
    /// lateness of the next batch (a stranger filled Bob's request 61 s after it, for the bounty) and stayed
    /// in every later fill's loop.
    function test_anEmptiedEpochNeitherMakesALaterBatchLateNorLingers() public {
        _requestDeposit(desk, ALICE, 1e6);
        vm.prank(ALICE);
        desk.cancelDepositRequest(ALICE); // epoch 1 is empty now
        _nextRound(0);
        (bool needed, uint256 lateAt) = desk.fillNeeded();
        _assertTrue(needed && lateAt == 0, "an empty epoch: anyone may clear it at once");
        vm.prank(STRANGER);
        desk.fill();
        _assertEq(usdt.balanceOf(STRANGER), 0, "for nothing");
        (, uint256 next) = desk.epochs();
        _assertEq(next, 2, "cleared");
        _requestDeposit(desk, BOB, 10_000e6);
        _nextRound(0);
        (, lateAt) = desk.fillNeeded();
        vm.prank(STRANGER);
        vm.expectRevert(abi.encodeWithSelector(IForwardDesk.FillNotLate.selector, lateAt));
        desk.fill();
        _assertEq(lateAt, block.timestamp - 1 minutes + FILL_DELAY, "late an hour after Bob's request");
    }

    function test_aFillTakesAtMost64Epochs() public {
        for (uint256 i = 0; i < 70; i++) {
            address who = address(uint160(0x1000 + i));
            _requestDeposit(desk, who, 100e6);
            _nextRound(0);
        }
        desk.fill();
        (, uint256 next) = desk.epochs();
        _assertEq(next, 65, "epochs 1 to 64 filled");
        _assertTrue(desk.maxMint(address(0x1000)) > 0 && desk.maxMint(address(uint160(0x1000 + 63))) > 0, "in");
        _assertEq(desk.pendingDepositRequest(0, address(uint160(0x1000 + 64))), 100e6, "the 65th waits");
        desk.fill();
        _assertTrue(desk.maxMint(address(uint160(0x1000 + 69))) > 0, "the next fill takes the rest");
    }

    function test_aRequestForAnotherControllerNeedsItsConsent() public {
        usdt.mint(BOB, 1_000e6);
        vm.startPrank(BOB);
        usdt.approve(address(desk), 1_000e6);
        vm.expectRevert(abi.encodeWithSelector(IForwardDesk.NotOperator.selector, ALICE, BOB));
        desk.requestDeposit(1_000e6, ALICE, BOB); // would tie alice to a request she did not want
        vm.stopPrank();
        vm.prank(ALICE);
        desk.setOperator(BOB, true);
        vm.prank(BOB);
        desk.requestDeposit(1_000e6, ALICE, BOB); // with her consent, bob pays for alice's request
        _assertEq(desk.pendingDepositRequest(0, ALICE), 1_000e6, "alice's request");
    }

    function test_aRefusedBatchIsReturned() public {
        _requestDeposit(desk, ALICE, 1_000e6);
        token.setMintPaused(true);
        _nextRound(0);
        desk.fill();
        (uint256 assets, ) = desk.refundable(ALICE);
        _assertEq(assets, 1_000e6, "refundable");
        _assertEq(desk.claimableDepositRequest(0, ALICE), 0, "nothing claimable");
        vm.prank(ALICE);
        desk.cancelDepositRequest(ALICE);
        _assertEq(usdt.balanceOf(ALICE), 1_000e6, "returned in full");
        vm.expectRevert(
            abi.encodeWithSelector(IForwardDesk.RequestClosed.selector, ILeveragedToken.State.Active, true)
        );
        desk.requestDeposit(1, address(this), address(this));
    }

    function test_aRefusedRedemptionReturnsTheShares() public {
        uint256 shares = _mintThroughDesk(desk, ALICE, 1_000e6, 0);
        _requestRedeem(desk, ALICE, 1); // one unit of a share pays nothing: the token refuses it
        _nextRound(0);
        desk.fill();
        (, uint256 refusedShares) = desk.refundable(ALICE);
        _assertEq(refusedShares, 1, "the share unit is refundable");
        _assertEq(desk.claimableRedeemRequest(0, ALICE), 0, "nothing claimable");
        // a new request hands the refused one back first
        _requestRedeem(desk, ALICE, shares / 2);
        _assertEq(token.balanceOf(ALICE), shares - shares / 2, "the unit came back, half is requested");
        _assertEq(desk.pendingRedeemRequest(0, ALICE), shares / 2, "pending");
        vm.prank(ALICE);
        _assertEq(desk.cancelRedeemRequest(ALICE), shares / 2, "cancelled in its own round");
        _assertEq(token.balanceOf(ALICE), shares, "all shares back");
    }

    function test_aLateFillOfRedemptionsOnlyIsPaidByThem() public {
        uint256 shares = _mintThroughDesk(desk, ALICE, 1_000e6, 0);
        _requestRedeem(desk, ALICE, shares);
        _nextRound(0);
        (, uint256 lateAt) = desk.fillNeeded();
        vm.warp(lateAt);
        _setPrice(_movedPrice(0));
        uint256 paid = token.previewRedeem(shares);
        vm.prank(STRANGER);
        desk.fill();
        uint256 bounty = usdt.balanceOf(STRANGER);
        _assertEq(bounty, FILL_BOUNTY, "the 5 USDT cap (1% of ~1,000 is more)");
        _assertEq(desk.maxWithdraw(ALICE), paid - bounty, "the redemptions paid it");
    }

    function test_settlingHoldersSkipsTheDeskSoItsClaimersArePaid() public {
        _requestDeposit(desk, ALICE, 10_000e6);
        _nextRound(0);
        desk.fill(); // alice's shares wait in the desk, unclaimed
        uint256 shares = desk.maxMint(ALICE);
        token.scheduleDelisting(block.timestamp + 3 days);
        vm.warp(block.timestamp + 3 days);
        _setPrice(_movedPrice(0));
        token.settle();
        address[] memory holders = new address[](1);
        holders[0] = address(desk);
        vm.prank(STRANGER);
        token.settleHolders(holders); // anyone may call it with any list: the desk is skipped
        _assertEq(token.balanceOf(address(desk)), shares, "the desk still holds alice's shares");
        _assertEq(_claimShares(desk, ALICE), shares, "alice claims them");
        uint256 frozen = token.previewRedeem(shares);
        vm.prank(ALICE);
        _assertEq(token.redeem(shares, ALICE, ALICE), frozen, "and is paid the frozen NAV");
        _assertTrue(frozen > 9_900e6, "about her deposit");
    }

    function test_settledOrDepletedTokensTakeNoRequests() public {
        token.scheduleDelisting(block.timestamp + 3 days);
        usdt.mint(ALICE, 1e6);
        vm.startPrank(ALICE);
        usdt.approve(address(desk), 1e6);
        vm.expectRevert(
            abi.encodeWithSelector(IForwardDesk.RequestClosed.selector, ILeveragedToken.State.Delisting, false)
        );
        desk.requestDeposit(1e6, ALICE, ALICE);
        vm.stopPrank();
        vm.warp(block.timestamp + 3 days);
        _setPrice(_movedPrice(0));
        token.settle();
        vm.prank(ALICE);
        vm.expectRevert(
            abi.encodeWithSelector(IForwardDesk.RequestClosed.selector, ILeveragedToken.State.Settled, false)
        );
        desk.requestRedeem(1, ALICE, ALICE);
    }

    function test_viewsFollowTheToken() public {
        _mintThroughDesk(desk, ALICE, 10_000e6, 0);
        _assertEq(desk.totalAssets(), token.totalAssets(), "totalAssets");
        _assertEq(desk.convertToShares(1e6), token.convertToShares(1e6), "convertToShares");
        _assertEq(desk.convertToAssets(1e18), token.convertToAssets(1e18), "convertToAssets");
        (uint256 open, uint256 next) = desk.epochs();
        _assertEq(open, 1, "one epoch opened");
        _assertEq(next, 2, "and filled");
        _assertEq(desk.currentRound(), vault.marketInfo(BTC).updatedAt, "the round is the exchange's price time");
    }

    /* THE ATTACK: KNOWING THE NEXT PRICE */

    /// @dev Mint at the stored price, let the known move land, redeem: instantly through an InstantDesk
    /// (the old primary market), and through the ForwardDesk. Returns the attacker's USDT out for `capital` in.
    function _mintThenRedeem(bool isLong, bool throughDesk, int256 bps, uint256 capital) internal returns (uint256) {
        address attacker = address(uint160(0xA77AC4 + uint256(int256(bps) + 10_000) + (isLong ? 1 : 0)));
        if (!throughDesk) {
            LeveragedToken plain = _deployToken(isLong, TREASURY);
            _depositAs(plain, CAROL, 10_000e6);
            uint256 shares = _depositAs(plain, attacker, capital);
            _nextRound(bps); // the update the attacker saw coming
            return _redeemAs(plain, attacker, shares);
        }
        (, ForwardDesk d) = _deployWithDesk(isLong, TREASURY);
        _mintThroughDesk(d, CAROL, 10_000e6, 0);
        _requestDeposit(d, attacker, capital);
        _nextRound(bps); // the known update lands: the request is filled at it, not before
        d.fill();
        uint256 got = _claimShares(d, attacker);
        _requestRedeem(d, attacker, got);
        _nextRound(0); // the next update the attacker also knows: no move
        d.fill();
        return _claimAssets(d, attacker);
    }

    /* NETTING */

    /// @dev The position's size on the exchange.
    function _size() internal view returns (int256 size) {
        (size, , , ) = vault.lastSnapshot(token.market(), address(token));
    }

    function test_aMixedBatchPassesTheRedeemersSharesToTheDepositorsAtNav() public {
        _mintThroughDesk(desk, CAROL, 50_000e6, 0); // a holder who does not trade
        uint256 held = _mintThroughDesk(desk, ALICE, 20_000e6, 0);
        _requestRedeem(desk, ALICE, held / 4); // about 5,000 USDT
        _requestDeposit(desk, BOB, 12_000e6);
        _nextRound(50);
        (uint64 mintFee, uint64 redeemFee, , ) = token.fees();
        uint256 redeemFeeShares = TokenMath.feeUp(held / 4, redeemFee);
        uint256 passed = held / 4 - redeemFeeShares;
        uint256 paid = token.convertToAssets(passed);
        uint256 minted = token.previewDeposit(12_000e6 - paid); // only the rest trades
        uint256 treasuryBefore = token.balanceOf(TREASURY);
        uint256 sizeAfterLoneDeposit;
        uint256 loneDepositFee;
        {
            // the rest alone, as the token would take it: the size it leaves and the fee it pays
            uint256 snapshot = vm.snapshotState();
            vm.prank(address(desk));
            token.deposit(12_000e6 - paid, address(desk));
            sizeAfterLoneDeposit = uint256(_size());
            loneDepositFee = token.balanceOf(TREASURY) - treasuryBefore;
            vm.revertToStateAndDelete(snapshot);
        }
        uint256 carolBefore = token.convertToAssets(token.balanceOf(CAROL));
        desk.fill();
        uint256 mintFeeShares = TokenMath.feeUp(passed, mintFee);
        _assertEq(desk.maxMint(BOB), passed - mintFeeShares + minted, "bob: the passed shares and the rest's mint");
        _assertEq(desk.maxWithdraw(ALICE), paid, "alice: her shares at NAV, no trading cost");
        _assertEq(uint256(_size()), sizeAfterLoneDeposit, "one trade, for the net deposit only");
        _assertEq(
            token.balanceOf(TREASURY) - treasuryBefore,
            redeemFeeShares + mintFeeShares + loneDepositFee,
            "the treasury: the redeem and mint fees on the passed shares, the mint fee on the rest"
        );
        uint256 carolAfter = token.convertToAssets(token.balanceOf(CAROL));
        _assertGe(carolAfter, carolBefore, "a holder who did not trade loses nothing");
        _assertLe(carolAfter - carolBefore, 2, "nor gains more than rounding");
        _assertEq(_claimAssets(desk, ALICE), paid, "claimed");
    }

    function test_aMixedBatchWithTheSmallerDepositsRedeemsOnlyTheRest() public {
        uint256 held = _mintThroughDesk(desk, ALICE, 20_000e6, 0);
        _requestRedeem(desk, ALICE, held / 2); // about 10,000 USDT
        _requestDeposit(desk, BOB, 3_000e6);
        _nextRound(-50);
        (uint64 mintFee, uint64 redeemFee, , ) = token.fees();
        uint256 passed = token.convertToShares(3_000e6);
        uint256 given = MathLib.mulDivUp(passed, 1e18, 1e18 - redeemFee);
        uint256 rest = token.previewRedeem(held / 2 - given);
        desk.fill();
        _assertEq(desk.maxMint(BOB), passed - TokenMath.feeUp(passed, mintFee), "bob: shares at NAV, no trading cost");
        _assertEq(desk.maxWithdraw(ALICE), 3_000e6 + rest, "alice: bob's USDT and the rest's redeem");
        uint256 shares = _claimShares(desk, BOB);
        _assertEq(token.balanceOf(BOB), shares, "bob holds them");
    }

    function test_aBatchIsNotNettedWhileMintingIsPaused() public {
        uint256 held = _mintThroughDesk(desk, ALICE, 20_000e6, 0);
        _requestRedeem(desk, ALICE, held / 4);
        _requestDeposit(desk, BOB, 12_000e6);
        token.setMintPaused(true);
        _nextRound(0);
        uint256 expected = token.previewRedeem(held / 4);
        desk.fill();
        (uint256 refused, ) = desk.refundable(BOB);
        _assertEq(refused, 12_000e6, "the deposits are refused, not matched");
        _assertEq(desk.maxWithdraw(ALICE), expected, "the redemptions trade through the token");
    }

    function test_aBatchWhoseRestTheTokenRefusesTradesItsSidesApart() public {
        uint256 held = _mintThroughDesk(desk, ALICE, 20_000e6, 0);
        token.setSupplyCap(uint128(token.totalSupply() + 1_000e18));
        _requestRedeem(desk, ALICE, held / 20); // about 1,000 USDT
        _requestDeposit(desk, BOB, 12_000e6); // the rest, about 11,000 USDT, would pass the cap
        _nextRound(0);
        uint256 expected = token.previewRedeem(held / 20);
        desk.fill();
        (uint256 refused, ) = desk.refundable(BOB);
        _assertEq(refused, 12_000e6, "the deposits are refused whole, as without netting");
        _assertEq(desk.maxWithdraw(ALICE), expected, "the redemptions trade through the token alone");
    }

    function test_aRestTheTokenRefusesToRedeemTradesTheSidesApart() public {
        _mintThroughDesk(desk, ALICE, 1_000e6, 0);
        (, uint64 redeemFee, , ) = token.fees();
        // the deposits the smaller side (the redemptions are worth 6 whole USDT units): after passing
        // them their shares, a rest worth 1.5 units is left to redeem, and its trading cost (rounded up
        // to a unit) leaves less than one: the token refuses it (RedeemTooSmall)
        uint256 redeemed =
            MathLib.mulDivUp(token.convertToShares(5), 1e18, 1e18 - redeemFee) + (token.convertToShares(1) * 3) / 2;
        _requestRedeem(desk, ALICE, redeemed);
        _requestDeposit(desk, BOB, 5);
        _nextRound(0);
        uint256 passed = token.convertToShares(5);
        uint256 rest = redeemed - MathLib.mulDivUp(passed, 1e18, 1e18 - redeemFee);
        _assertEq(token.previewRedeem(rest), 0, "the rest alone would pay nothing");
        uint256 minted;
        uint256 paid;
        {
            // the two sides apart, in the fill's order: the deposits, then the redemptions
            uint256 snapshot = vm.snapshotState();
            vm.startPrank(address(desk));
            minted = token.deposit(5, address(desk));
            paid = token.redeem(redeemed, address(desk), address(desk));
            vm.stopPrank();
            vm.revertToStateAndDelete(snapshot);
        }
        desk.fill();
        _assertEq(desk.maxMint(BOB), minted, "the deposits mint through the token, as without netting");
        _assertEq(desk.maxWithdraw(ALICE), paid, "the redemptions trade through the token, as without netting");
        // netted, bob would have got the passed shares less the mint fee, with no trading cost
        _assertLe(minted * 5, passed * 4, "not the netted shares: the deposit paid its trading cost");
    }

    function test_aRedemptionTooSmallToPassAShareIsNotNetted() public {
        _mintThroughDesk(desk, ALICE, 1_000e6, 0);
        _requestRedeem(desk, ALICE, 1); // its fee takes the one unit: nothing to pass
        _requestDeposit(desk, BOB, 1_000e6);
        _nextRound(0);
        uint256 expected = token.previewDeposit(1_000e6);
        desk.fill();
        _assertEq(desk.maxMint(BOB), expected, "the deposits mint through the token");
        (, uint256 refusedShares) = desk.refundable(ALICE);
        _assertEq(refusedShares, 1, "the unit is refused, as without netting");
    }

    /* A DUE REBALANCE IN THE FILL */

    /// @dev What a deposit batch of 20,000 USDT (placed before a `bps` move) gets, and what a holder who
    /// did not trade keeps, when the keeper rebalances first and then fills (`keeperFirst`), or fills at
    /// once; with the exchange's Traded events the fill made and whether it emitted TradesJoined.
    function _fillOutOfTheBand(
        int256 bps,
        bool keeperFirst
    ) internal returns (uint256 minted, uint256 holderWorth, uint256 trades, bool joined) {
        uint256 snapshot = vm.snapshotState();
        _requestDeposit(desk, BOB, 20_000e6);
        _nextRound(bps);
        (bool due, ) = token.rebalanceNeeded();
        _assertTrue(due, "the move left a rebalance due");
        if (keeperFirst) token.rebalance();
        vm.recordLogs();
        desk.fill();
        IVm.Log[] memory logs = vm.getRecordedLogs();
        for (uint256 i = 0; i < logs.length; i++) {
            if (logs[i].emitter == address(vault) && logs[i].topics[0] == IPerpVault.Traded.selector) trades++;
            if (logs[i].topics[0] == ILeveragedToken.TradesJoined.selector) joined = true;
        }
        (due, ) = token.rebalanceNeeded();
        _assertTrue(!due, "no rebalance left due after the fill");
        (minted, holderWorth) = (desk.maxMint(BOB), token.convertToAssets(token.balanceOf(CAROL)));
        vm.revertToStateAndDelete(snapshot);
    }

    /// @notice BTC -12% takes the 3x long to 4.1x, out of its [2x, 4x] band: a fill of deposits brings it
    /// back to target in its one trade. The rebalance sells what the deposits buy, so the one trade is the
    /// smaller: the depositors get exactly the shares they would after the keeper's own rebalance, and the
    /// holder who did not trade keeps more than after the two trades (the saving, in TradesJoined).
    function test_aFillOutOfTheBandBringsTheTokenBackToTargetInItsOneTrade() public {
        vault.setPriceImpact(token.market(), 0.001e18); // 0.1% per 1,000,000 USDT of notional
        _mintThroughDesk(desk, CAROL, 50_000e6, 0);
        (uint256 mintedApart, uint256 worthApart, uint256 tradesApart, ) = _fillOutOfTheBand(-1200, true);
        (uint256 minted, uint256 worth, uint256 trades, bool joined) = _fillOutOfTheBand(-1200, false);
        _assertEq(tradesApart, 1, "after the keeper's rebalance the fill trades once");
        _assertEq(trades, 1, "the fill rebalances and deposits in one exchange trade");
        _assertTrue(joined, "TradesJoined");
        _assertEq(minted, mintedApart, "the depositors pay the same NAV as after the keeper's rebalance");
        _assertGe(worth, worthApart + 1, "the holder keeps the saving of the one trade");
    }

    /// @notice BTC +40% takes the 3x long to 1.9x, under its band: the rebalance buys as the deposits do,
    /// and with price impact one trade of both costs more than the two apart, so the fill sends them
    /// apart, in one transaction: the same shares and the same holder's worth as the keeper's rebalance
    /// followed by the fill.
    function test_aFillUnderTheBandTradesApartWhenOneTradeWouldCostMore() public {
        vault.setPriceImpact(token.market(), 0.001e18);
        _mintThroughDesk(desk, CAROL, 50_000e6, 0);
        (uint256 mintedApart, uint256 worthApart, , ) = _fillOutOfTheBand(4000, true);
        (uint256 minted, uint256 worth, uint256 trades, bool joined) = _fillOutOfTheBand(4000, false);
        _assertEq(trades, 2, "the rebalance, then the deposits");
        _assertTrue(!joined, "no TradesJoined");
        _assertEq(minted, mintedApart, "the same shares");
        _assertEq(worth, worthApart, "the same holder's worth");
    }

    /* PERMIT */

    bytes32 internal constant PERMIT_TYPEHASH = keccak256(
        "Permit(address owner,address spender,uint256 value,uint256 nonce,uint256 deadline)"
    );
    uint256 internal constant SIGNER_KEY = 0xA11CE5;

    /// @dev `SIGNER_KEY`'s EIP-2612 signature of `value` USDT to `spender` until `deadline`.
    function _permit(
        uint256 signerKey,
        address spender,
        uint256 value,
        uint256 deadline
    ) internal view returns (uint8 v, bytes32 r, bytes32 s) {
        address owner = vm.addr(signerKey);
        bytes32 structHash = keccak256(
            abi.encode(PERMIT_TYPEHASH, owner, spender, value, usdt.nonces(owner), deadline)
        );
        (v, r, s) = vm.sign(signerKey, keccak256(abi.encodePacked("\x19\x01", usdt.DOMAIN_SEPARATOR(), structHash)));
    }

    function test_aDepositRequestWithAPermitNeedsNoApproval() public {
        address owner = vm.addr(SIGNER_KEY);
        usdt.mint(owner, 1_000e6);
        uint256 deadline = block.timestamp + 10 minutes;
        (uint8 v, bytes32 r, bytes32 s) = _permit(SIGNER_KEY, address(desk), 1_000e6, deadline);
        vm.prank(owner);
        desk.requestDepositWithPermit(1_000e6, owner, deadline, v, r, s);
        _assertEq(desk.pendingDepositRequest(0, owner), 1_000e6, "pending, in one transaction");
        _assertEq(usdt.balanceOf(owner), 0, "the USDT moved");
        _assertEq(usdt.allowance(owner, address(desk)), 0, "the permit's allowance is spent");
        _assertEq(usdt.nonces(owner), 1, "the permit is used");
    }

    function test_aPermitSomeoneSentFirstStillPlacesTheRequest() public {
        address owner = vm.addr(SIGNER_KEY);
        usdt.mint(owner, 1_000e6);
        uint256 deadline = block.timestamp + 10 minutes;
        (uint8 v, bytes32 r, bytes32 s) = _permit(SIGNER_KEY, address(desk), 1_000e6, deadline);
        // copied from the mempool and sent ahead: the allowance is set, the signature is used
        vm.prank(STRANGER);
        usdt.permit(owner, address(desk), 1_000e6, deadline, v, r, s);
        vm.prank(owner);
        desk.requestDepositWithPermit(1_000e6, owner, deadline, v, r, s);
        _assertEq(desk.pendingDepositRequest(0, owner), 1_000e6, "the request is placed all the same");
    }

    function test_aPermitThatSetsNoAllowanceRevertsPermitRejected() public {
        address owner = vm.addr(SIGNER_KEY);
        usdt.mint(owner, 1_000e6);
        uint256 deadline = block.timestamp + 10 minutes;
        // signed by another key: the permit reverts and the owner has no allowance
        (uint8 v, bytes32 r, bytes32 s) = _permit(SIGNER_KEY + 1, address(desk), 1_000e6, deadline);
        vm.expectRevert(abi.encodeWithSelector(IForwardDesk.PermitRejected.selector, owner, 0, 1_000e6));
        vm.prank(owner);
        desk.requestDepositWithPermit(1_000e6, owner, deadline, v, r, s);
        // a deadline passed
        (v, r, s) = _permit(SIGNER_KEY, address(desk), 1_000e6, block.timestamp - 1);
        vm.expectRevert(abi.encodeWithSelector(IForwardDesk.PermitRejected.selector, owner, 0, 1_000e6));
        vm.prank(owner);
        desk.requestDepositWithPermit(1_000e6, owner, block.timestamp - 1, v, r, s);
        // a smaller allowance already there does not make up for it
        vm.prank(owner);
        usdt.approve(address(desk), 999e6);
        vm.expectRevert(abi.encodeWithSelector(IForwardDesk.PermitRejected.selector, owner, 999e6, 1_000e6));
        vm.prank(owner);
        desk.requestDepositWithPermit(1_000e6, owner, block.timestamp - 1, v, r, s);
        _assertEq(usdt.balanceOf(owner), 1_000e6, "nothing moved");
    }

    function test_knowingTheNextPriceIsWorthNothingThroughTheDesk() public {
        int256[3] memory moves = [int256(100), 500, -500];
        uint256 capital = 1_000_000e6;
        for (uint256 i = 0; i < moves.length; ++i) {
            for (uint256 side = 0; side < 2; ++side) {
                bool isLong = side == 0;
                // the move that pays this side
                int256 bps = isLong ? moves[i] : -moves[i];
                uint256 snapshot = vm.snapshotState();
                uint256 instant = _mintThenRedeem(isLong, false, bps, capital);
                vm.revertToStateAndDelete(snapshot);
                snapshot = vm.snapshotState();
                uint256 forward = _mintThenRedeem(isLong, true, bps, capital);
                vm.revertToStateAndDelete(snapshot);
                if (bps > 0 == isLong) _assertGe(instant, capital + capital / 50, "instant: the known move pays");
                _assertLe(forward, capital, "through the desk: no profit after fees");
                _assertGe(forward, capital - capital / 200, "only the fees and trading costs");
            }
        }
    }

    function test_redeemThenMintBackGainsNoSharesThroughTheDesk() public {
        // the holder sees a 5% fall coming, redeems, and mints back after it
        uint256 shares = _mintThroughDesk(desk, ALICE, 1_000_000e6, 0);
        _requestRedeem(desk, ALICE, shares);
        _nextRound(-500); // the fall lands: the redemption is filled after it
        desk.fill();
        uint256 assets = _claimAssets(desk, ALICE);
        uint256 back = _mintThroughDesk(desk, ALICE, assets, 0);
        _assertLe(back, shares, "no more shares than before");
        _assertGe(back, shares - shares / 100, "fees and trading costs only");
        _assertLe(assets, 1_000_000e6 - (1_000_000e6 * 14) / 100, "the redemption bore the 3x fall");
    }
}
