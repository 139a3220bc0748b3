// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {ForwardDesk} from "../../../contracts/ForwardDesk.sol";
import {LeveragedToken} from "../../../contracts/LeveragedToken.sol";
import {MockPerpVault} from "../../../contracts/mocks/MockPerpVault.sol";
import {MockPriceFeed} from "../../../contracts/mocks/MockPriceFeed.sol";
import {MockUSDT} from "../../../contracts/mocks/MockUSDT.sol";
import {TokenFixture} from "../utils/TokenFixture.sol";

/// @title DeskHandler
/// @notice Drives a 3x long BTC token's ForwardDesk with bounded random actions for three requesters:
/// deposit and redeem requests, cancels, claims by every ERC-4626 call, price rounds of up to 5%, time,
/// keeper fills and late fills by anyone. A fourth account holds shares and never trades. Around every fill
/// it records what the invariants need: the round each filled epoch was placed in, and the passive
/// holder's value just before and after.
/// @dev The handler holds the token's KEEPER_ROLE (it fills as the keeper and rebalances what is due first,
/// as the keeper does), the USDT minter role and the feed's updater role.
contract DeskHandler is TokenFixture {
    uint256 public constant ACTOR_COUNT = 3;
    address public constant PASSIVE = address(0x9A55);
    uint256 internal constant MAX_DEPOSIT = 200_000e6;
    int256 internal constant STEP_BPS = 500;

    LeveragedToken public token;
    ForwardDesk public desk;
    address[] public actors;
    uint256 public currentTime;

    /// @notice The price round each epoch was placed in (0: none seen).
    mapping(uint256 epoch => uint256) public roundOf;
    /// @notice Must stay zero: an epoch filled at a round not after its own; a fill that moved the passive
    /// holder's value by more than rounding.
    uint256 public filledAtOwnRound;
    uint256 public passiveValueMoves;
    /// @notice Coverage: fills, requests and claims that went through.
    uint256 public fills;
    uint256 public requests;
    uint256 public claims;
    uint256 public cancels;

    constructor(MockUSDT usdt_, MockPriceFeed feed_, MockPerpVault vault_, LeveragedToken token_, ForwardDesk desk_) {
        (usdt, feed, vault, token, desk) = (usdt_, feed_, vault_, token_, desk_);
        for (uint256 i = 0; i < ACTOR_COUNT; i++) actors.push(address(uint160(0xD00 + i)));
        currentTime = block.timestamp;
    }

    modifier atCurrentTime() {
        vm.warp(currentTime);
        _;
    }

    /* ACTIONS */

    function requestDeposit(uint256 actorSeed, uint256 amount) external atCurrentTime {
        address who = actors[actorSeed % ACTOR_COUNT];
        amount = _bound(amount, 1e6, MAX_DEPOSIT);
        usdt.mint(who, amount);
        vm.startPrank(who);
        usdt.approve(address(desk), amount);
        try desk.requestDeposit(amount, who, who) {
            _noteRequest();
        } catch {
            usdt.transfer(address(0xdead), amount); // the request did not take it: out of the way
        }
        vm.stopPrank();
    }

    function requestRedeem(uint256 actorSeed, uint256 fraction) external atCurrentTime {
        address who = actors[actorSeed % ACTOR_COUNT];
        uint256 shares = (token.balanceOf(who) * _bound(fraction, 1, 100)) / 100;
        if (shares == 0) return;
        vm.startPrank(who);
        token.approve(address(desk), shares);
        try desk.requestRedeem(shares, who, who) {
            _noteRequest();
        } catch {}
        vm.stopPrank();
    }

    function cancel(uint256 actorSeed, bool deposits) external atCurrentTime {
        address who = actors[actorSeed % ACTOR_COUNT];
        vm.prank(who);
        if (deposits) {
            try desk.cancelDepositRequest(who) {
                cancels++;
            } catch {}
        } else {
            try desk.cancelRedeemRequest(who) {
                cancels++;
            } catch {}
        }
    }

    /// @notice Claims a part (or all) of what `actor` may claim, by `deposit`, `mint`, `redeem` or `withdraw`.
    function claim(uint256 actorSeed, uint256 how, uint256 fraction) external atCurrentTime {
        address who = actors[actorSeed % ACTOR_COUNT];
        fraction = _bound(fraction, 1, 100);
        how %= 4;
        uint256 amount =
            how == 0
                ? desk.maxDeposit(who)
                : how == 1
                    ? desk.maxMint(who)
                    : how == 2
                        ? desk.maxRedeem(who)
                        : desk.maxWithdraw(who);
        amount = (amount * fraction) / 100;
        if (amount == 0) return;
        vm.startPrank(who);
        if (how == 0) desk.deposit(amount, who, who);
        else if (how == 1) desk.mint(amount, who, who);
        else if (how == 2) desk.redeem(amount, who, who);
        else desk.withdraw(amount, who, who);
        vm.stopPrank();
        claims++;
    }

    /// @notice A new price round, `seconds_` later (up to 30 minutes: within the heartbeat).
    function movePrice(int256 bps, uint256 seconds_) external {
        currentTime += _bound(seconds_, 1, 30 minutes);
        vm.warp(currentTime);
        feed.updateAnswer(_movedPrice(_boundInt(bps, -STEP_BPS, STEP_BPS)));
    }

    /// @notice The keeper's fill, after it rebalanced whatever was due (as the keeper does).
    function keeperFill() external atCurrentTime {
        (bool needed, ) = token.rebalanceNeeded();
        if (needed) token.rebalance();
        _fill(address(this));
    }

    /// @notice Anyone's fill, an hour or more after the oldest request.
    function lateFill(uint256 actorSeed) external {
        (bool needed, uint256 lateAt) = desk.fillNeeded();
        if (!needed) return;
        if (lateAt > currentTime) {
            currentTime = lateAt;
            vm.warp(currentTime);
            feed.updateAnswer(_movedPrice(0));
        }
        (bool due, ) = token.rebalanceNeeded();
        if (due) token.rebalance();
        _fill(actors[actorSeed % ACTOR_COUNT]);
    }

    /* CHECKS */

    function _noteRequest() internal {
        requests++;
        (uint256 open, ) = desk.epochs();
        if (roundOf[open] == 0) roundOf[open] = desk.currentRound();
    }

    function _fill(address caller) internal {
        (, uint256 first) = desk.epochs();
        uint256 round = desk.currentRound();
        uint256 before = _passiveValue();
        vm.prank(caller);
        try desk.fill() returns (uint256 batch) {
            fills++;
            for (uint256 e = first; e <= batch; e++) {
                if (roundOf[e] >= round) filledAtOwnRound++;
            }
            uint256 afterFill = _passiveValue();
            if (afterFill < before || afterFill > before + 2) passiveValueMoves++;
        } catch {}
    }

    function _passiveValue() internal view returns (uint256) {
        return token.convertToAssets(token.balanceOf(PASSIVE));
    }

    /// @notice What the desk owes in USDT and in shares to the requesters: pending, claimable and refused.
    function owed() external view returns (uint256 assets, uint256 shares) {
        for (uint256 i = 0; i < ACTOR_COUNT; i++) {
            address who = actors[i];
            (uint256 refundAssets, uint256 refundShares) = desk.refundable(who);
            assets += desk.pendingDepositRequest(0, who) + desk.maxWithdraw(who) + refundAssets;
            shares += desk.pendingRedeemRequest(0, who) + desk.maxMint(who) + refundShares;
        }
    }
}
