// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {ILeveragedToken} from "../../contracts/interfaces/ILeveragedToken.sol";
import {LeveragedToken} from "../../contracts/LeveragedToken.sol";
import {TokenHandler} from "./handlers/TokenHandler.sol";
import {TokenFixture} from "./utils/TokenFixture.sol";

/// @title LeveragedTokenInvariantTest
/// @notice A 3x long and a 3x short under random sequences of mints and redeems through each token's desk (an
/// InstantDesk), refused attempts around it (mints by shares, live withdrawals, deposits and live redeems by
/// anyone but the desk), settled redeems and withdrawals, transfers, price steps and gaps,
/// time, funding, keeper and ripcord rebalances, fee accrual, pauses, delisting and settlement by several
/// actors (see TokenHandler). After every call: nav() answers; holders are never owed more than the token's
/// equity; the supply is the sum of the balances; the state only moves forward; a settled token holds what
/// its holders are owed; a token the keeper follows is never liquidatable; and no preview, NAV, fee, role,
/// cap or round-trip rule was broken on the way. After every run, everyone is paid out in USDT.
contract LeveragedTokenInvariantTest is TokenFixture {
    TokenHandler internal handler;

    /// @dev This contract deploys the system (it may exceed the size limits; the handler may not) and grants
    /// the handler every role; it keeps its own for the wind-down.
    function setUp() public {
        _deployExchange();
        LeveragedToken long = _deployToken(true, address(0x7EA5));
        LeveragedToken short = _deployToken(false, address(0x7EA5));
        handler = new TokenHandler(usdt, feed, vault, long, short, _desk(long), _desk(short));
        address h = address(handler);
        usdt.grantRole(usdt.MINTER_ROLE(), h);
        feed.grantRole(feed.UPDATER_ROLE(), h);
        vault.grantRole(vault.DEFAULT_ADMIN_ROLE(), h);
        for (uint256 t = 0; t < 2; t++) {
            LeveragedToken token = t == 0 ? long : short;
            token.grantRole(token.DEFAULT_ADMIN_ROLE(), h);
            token.grantRole(token.PAUSER_ROLE(), h);
            token.grantRole(token.KEEPER_ROLE(), h);
        }
        _assertTrue(handler.TREASURY() == address(0x7EA5), "one treasury");
    }

    /// @notice The fuzzer calls only the handler.
    function targetContracts() public view returns (address[] memory targets) {
        targets = new address[](1);
        targets[0] = address(handler);
    }

    /// @notice No LP action makes a token exit revert: after any LP withdrawal (all of its shares, a part, or
    /// the most the pool's reserve for open profits lets it take), every holder's full redeem and any due
    /// rebalance still find the cash they are owed.
    function invariant_noLpActionBlocksAnExit() public view {
        for (uint256 t = 0; t < 2; t++) {
            _assertEq(handler.ghosts(t).exitsBlockedByLp, 0, "no LP withdrawal blocks a token's exit");
        }
    }

    /// @notice The campaign's first counterexample, kept: a short at a loss is owed funding; the LP takes all
    /// the cash (nothing is reserved: the side is at a loss); the short's holder redeems. Its funding used to be
    /// paid from the pool before its loss came in, and reverted InsufficientLiquidity; now a credit the pool
    /// cannot pay in cash to a position that stays open is booked in its open cost.
    function test_lpLeavingDoesNotBlockALosingShortsExit() public {
        handler.deposit(
            382354576687334295919798580421277862656594892689112456156357552452694511710,
            5429243854113005135,
            16746492163068107874166818628052182744475460685371219508703921198139056989
        );
        handler.movePrice(-31872911249987711585650029899740, 1495310897895602771721);
        handler.passTime(944543017394725895525096745697428451813713306420135677950680076711743);
        handler.lpLeaves(184);
        _assertEq(handler.ghosts(1).lpExitsChecked, 1, "the LP left and the exits were tried");
        _assertEq(handler.ghosts(1).exitsBlockedByLp, 0, "the short's holder got out");
    }

    /// @notice The handler's desk rules are exercised, not skipped: a deposit through the desk goes through;
    /// a mint by shares, a deposit and a live redeem around the desk and a live withdrawal are each refused
    /// as they must be; once the token is Settled, a withdrawal and a redeem straight at the token pay.
    function test_handlerChecksTheDeskRules() public {
        LeveragedToken long = handler.tokens()[0];
        address actor = handler.actors(0);
        handler.deposit(0, 0, 10_000e6);
        _assertEq(handler.succeeded("deposit"), 1, "a deposit through the desk");
        uint256 held = long.balanceOf(actor);
        _assertTrue(held != 0, "the actor holds shares");
        handler.mintShares(0, 0, 1e18);
        handler.skipTheDesk(0, 0, 1_000e6, false);
        handler.skipTheDesk(0, 0, 5_000, true);
        handler.withdraw(0, 0, 1e6);
        _assertEq(handler.ghosts(0).deskChecks, 4, "four refusals checked");
        _assertEq(long.balanceOf(actor), held, "none of them moved a share");

        for (uint256 delay = 0; long.state() == ILeveragedToken.State.Active; delay++) {
            handler.scheduleDelisting(0, delay);
        }
        handler.settle(0, 0);
        _assertTrue(long.state() == ILeveragedToken.State.Settled, "settled");
        handler.withdraw(0, 0, 1e6);
        _assertEq(handler.succeeded("withdraw"), 2, "the refusal, then a settled withdrawal");
        _assertEq(held - long.balanceOf(actor), long.previewWithdraw(1e6), "burnt the quoted shares");
        handler.redeem(0, 0, 0);
        _assertEq(handler.succeeded("redeem"), 1, "a settled redeem straight at the token");
        _assertEq(handler.ghosts(0).settledPayouts, 2, "both paid at the frozen NAV");
        _assertEq(handler.ghosts(0).deskBypasses, 0, "no bypass");
        _assertEq(handler.ghosts(0).previewMismatches, 0, "previews kept");
    }

    /// @notice nav() and totalAssets() never revert (NAV is floored at zero, never negative), and nav() is
    /// totalAssets per 1e18 shares.
    function invariant_navAlwaysAnswers() public {
        vm.warp(handler.currentTime());
        LeveragedToken[2] memory tokens = handler.tokens();
        for (uint256 t = 0; t < 2; t++) {
            try tokens[t].nav() returns (uint256) {} catch {
                revert AssertionFailed("nav() reverted");
            }
            try tokens[t].totalAssets() returns (uint256) {} catch {
                revert AssertionFailed("totalAssets() reverted");
            }
        }
    }

    /// @notice What the holders are owed (convertToAssets of every balance, and previewRedeem of every balance
    /// while the token is live) never exceeds the token's equity; no redemption pays more than its share.
    function invariant_holdersOwedAtMostEquity() public {
        vm.warp(handler.currentTime());
        LeveragedToken[2] memory tokens = handler.tokens();
        address[] memory holders = handler.holders();
        for (uint256 t = 0; t < 2; t++) {
            LeveragedToken token = tokens[t];
            bool live = _live(token);
            uint256 equity = token.totalAssets();
            uint256 owed;
            uint256 redeemable;
            for (uint256 i = 0; i < holders.length; i++) {
                uint256 balance = token.balanceOf(holders[i]);
                if (balance == 0) continue;
                uint256 worth = token.convertToAssets(balance);
                owed += worth;
                try token.previewRedeem(balance) returns (uint256 assets) {
                    // (once settled, convertToAssets rounds twice and may be 1 unit under the payout)
                    if (live) _assertLe(assets, worth, "a redemption pays at most its share");
                    redeemable += assets;
                } catch {
                    // a live token with no equity left refuses to quote (TokenDepleted)
                    _assertEq(equity, 0, "previewRedeem only refuses a token without equity");
                }
            }
            _assertLe(owed, equity, "holders' worth <= equity");
            _assertLe(redeemable, equity, "holders' redemptions <= equity");
        }
    }

    /// @notice The supply is exactly the actors', the treasury's and DEAD's balances.
    function invariant_supplyIsSumOfBalances() public view {
        LeveragedToken[2] memory tokens = handler.tokens();
        address[] memory holders = handler.holders();
        for (uint256 t = 0; t < 2; t++) {
            uint256 sum;
            for (uint256 i = 0; i < holders.length; i++) sum += tokens[t].balanceOf(holders[i]);
            _assertEq(tokens[t].totalSupply(), sum, "supply == sum of balances");
        }
    }

    /// @notice The state only moves Active -> Delisting -> Settled or (Active | Delisting) -> Depleted ->
    /// Settled, and the handler saw every state the token is in.
    function invariant_stateOnlyMovesForward() public view {
        LeveragedToken[2] memory tokens = handler.tokens();
        for (uint256 t = 0; t < 2; t++) {
            _assertEq(handler.ghosts(t).illegalTransitions, 0, "no illegal state transition");
            _assertTrue(tokens[t].state() == handler.lastState(t), "state as last seen");
        }
    }

    /// @notice Once settled, the token holds at least what its remaining holders are owed at the frozen NAV,
    /// and nothing is left on the exchange.
    function invariant_settledTokenHoldsWhatItOwes() public view {
        LeveragedToken[2] memory tokens = handler.tokens();
        for (uint256 t = 0; t < 2; t++) {
            LeveragedToken token = tokens[t];
            if (token.state() != ILeveragedToken.State.Settled) continue;
            _assertGe(usdt.balanceOf(address(token)), _owedAtSettlement(token), "settled USDT >= owed");
            (int256 size, , uint256 margin) = vault.positionOf(BTC, address(token));
            _assertEq(size, 0, "settled: position closed");
            _assertEq(margin, 0, "settled: no margin left on the exchange");
        }
    }

    /// @notice While the keeper follows every price step (of at most 10%) and every time step, a token's
    /// exchange account is never liquidatable.
    function invariant_notLiquidatableWhileKeeperFollows() public {
        vm.warp(handler.currentTime());
        LeveragedToken[2] memory tokens = handler.tokens();
        for (uint256 t = 0; t < 2; t++) {
            if (handler.keeperBehind(t)) continue;
            _assertTrue(!vault.isLiquidatable(BTC, address(tokens[t])), "never liquidatable while followed");
        }
    }

    /// @notice A live token with holders and equity always has a position or a rebalance due: a gap and a
    /// liquidation never leave it Active without exposure and nothing to do.
    function invariant_neverStranded() public {
        vm.warp(handler.currentTime());
        LeveragedToken[2] memory tokens = handler.tokens();
        for (uint256 t = 0; t < 2; t++) {
            LeveragedToken token = tokens[t];
            ILeveragedToken.State st = token.state();
            if (st != ILeveragedToken.State.Active && st != ILeveragedToken.State.Delisting) continue;
            if (token.totalSupply() == 0) continue;
            (int256 size, int256 equity, ) = vault.snapshot(BTC, address(token));
            if (size != 0 || equity <= 0) continue;
            (bool needed, uint8 reason) = token.rebalanceNeeded();
            _assertTrue(needed && reason == 5, "no position with holders and equity: a reopen is due");
        }
    }

    /// @notice Every rule the handler checks on the way held: previews equal executions, mints and paying
    /// redeems never lower NAV per share, the fee is exact, roles and the cap hold, due rebalances and
    /// settlements succeed, a round trip at an unchanged price never profits, and nothing mints by shares,
    /// withdraws before settlement, or deposits or redeems at a live price around the desk.
    function invariant_handlerRulesHeld() public view {
        for (uint256 t = 0; t < 2; t++) {
            TokenHandler.Ghosts memory g = handler.ghosts(t);
            _assertEq(g.previewMismatches, 0, "preview == execution");
            _assertEq(g.navDrops, 0, "mints and paying redeems never lower NAV per share");
            _assertEq(g.roundTripProfits, 0, "a round trip at an unchanged price never profits");
            _assertEq(g.keeperFailures, 0, "a due keeper rebalance succeeds");
            _assertEq(g.ripcordFailures, 0, "anyone can rebalance past the ripcord");
            _assertEq(g.settleFailures, 0, "settlement succeeds when due");
            _assertEq(g.stuck, 0, "no rebalance or settlement ever disagrees with the exchange");
            _assertEq(g.roleBreaches, 0, "no rebalance below the ripcord without the role, no mint when closed");
            _assertEq(g.capBreaches, 0, "no mint past the supply cap");
            _assertEq(g.feeMismatches, 0, "management fee == supply x f / (1 - f)");
            _assertEq(g.deskBypasses, 0, "no mint by shares, live withdrawal or live call around the desk");
        }
    }

    /// @notice At any point everyone can get out: the keeper brings a live token back to target, half the
    /// actors redeem at NAV through the desk (each exactly its preview), the admin delists, the token settles
    /// at the delisting time, one actor withdraws all it may and another redeems, straight at the token, at
    /// the frozen USDT per share, and USDT is pushed to every holder. Then only DEAD holds shares, the
    /// exchange holds nothing for the token, and the token keeps only DEAD's part plus less than one unit
    /// per payout. Run after every
    /// call on a snapshot, then undone (EDR runs `afterInvariant` on the state setUp left, not on a run's
    /// end, where this check used to live and so never saw a holder).
    function invariant_everyoneGetsOut() public {
        uint256 snapshot = vm.snapshotState();
        vm.warp(handler.currentTime());
        LeveragedToken[2] memory tokens = handler.tokens();
        for (uint256 t = 0; t < 2; t++) _windDown(t, tokens[t]);
        vm.revertToStateAndDelete(snapshot);
    }

    function _windDown(uint256 t, LeveragedToken token) internal {
        address[] memory holders = handler.holders();
        if (_live(token)) {
            (bool needed, ) = token.rebalanceNeeded();
            if (needed && !_tried(address(token), abi.encodeCall(token.rebalance, ()))) return;
        }
        uint256 payouts = _redeemHalf(token, holders);
        if (token.state() == ILeveragedToken.State.Active) {
            token.scheduleDelisting(block.timestamp + 3 days);
        }
        if (token.state() == ILeveragedToken.State.Delisting) {
            uint256 delistingTime = token.delistingTime();
            if (block.timestamp < delistingTime) _warpAndPublish(delistingTime);
        }
        if (token.state() != ILeveragedToken.State.Settled) {
            if (!_tried(address(token), abi.encodeCall(token.settle, ()))) return;
        }

        payouts += _exitSettled(token, holders);
        for (uint256 i = 0; i < holders.length - 1; i++) if (token.balanceOf(holders[i]) != 0) payouts++;
        token.settleHolders(holders);

        for (uint256 i = 0; i < holders.length - 1; i++) _assertEq(token.balanceOf(holders[i]), 0, "paid out");
        _assertEq(token.totalSupply(), token.balanceOf(DEAD), "only DEAD's locked shares remain");
        uint256 left = usdt.balanceOf(address(token));
        uint256 deadPart = _owedAtSettlement(token);
        _assertGe(left, deadPart, "DEAD's part stays");
        _assertLe(left, deadPart + payouts + handler.ghosts(t).settledPayouts, "less than 1 unit left per payout");
        (int256 size, , uint256 margin) = vault.positionOf(BTC, address(token));
        _assertEq(size, 0, "position closed");
        _assertEq(margin, 0, "nothing left on the exchange");
    }

    /// @dev Calls `target`; every revert fails the test (a token whose trade back would cost more than its
    /// equity depletes rather than getting stuck).
    function _tried(address target, bytes memory call) internal returns (bool) {
        // solhint-disable-next-line avoid-low-level-calls
        (bool ok, bytes memory reason) = target.call(call);
        if (!ok) revert AssertionFailed(string(abi.encodePacked("wind-down rebalance/settle reverted: ", reason)));
        return true;
    }

    /// @dev While the token is live, actors 0 and 2 redeem everything through the desk (when it pays
    /// something) and get exactly the preview. Returns how many were paid.
    function _redeemHalf(LeveragedToken token, address[] memory holders) internal returns (uint256 paid) {
        if (!_live(token) || token.totalAssets() == 0) return 0;
        for (uint256 i = 0; i < handler.ACTOR_COUNT(); i += 2) {
            uint256 balance = token.balanceOf(holders[i]);
            if (balance == 0) continue;
            uint256 preview = token.previewRedeem(balance);
            if (preview == 0) continue;
            _assertEq(_redeemAs(token, holders[i], balance), preview, "wind-down redeem == preview");
            paid++;
        }
    }

    /// @dev Once settled, straight at the token: actor 1 withdraws its maxWithdraw (the shares previewWithdraw
    /// quotes, the USDT exactly), actor 3 redeems everything (exactly previewRedeem). Returns how many were
    /// paid.
    function _exitSettled(LeveragedToken token, address[] memory holders) internal returns (uint256 paid) {
        address withdrawer = holders[1];
        uint256 assets = token.maxWithdraw(withdrawer);
        if (assets != 0) {
            uint256 shares = token.previewWithdraw(assets);
            uint256 balance = token.balanceOf(withdrawer);
            uint256 cash = usdt.balanceOf(withdrawer);
            vm.prank(withdrawer);
            _assertEq(token.withdraw(assets, withdrawer, withdrawer), shares, "settled withdraw == preview");
            _assertEq(balance - token.balanceOf(withdrawer), shares, "burnt the quoted shares");
            _assertEq(usdt.balanceOf(withdrawer) - cash, assets, "paid exactly the assets");
            paid++;
        }
        address redeemer = holders[3];
        uint256 held = token.balanceOf(redeemer);
        if (held != 0) {
            uint256 preview = token.previewRedeem(held);
            _assertEq(_redeemAs(token, redeemer, held), preview, "settled redeem == preview");
            _assertEq(token.balanceOf(redeemer), 0, "redeemed everything");
            paid++;
        }
    }

    /// @dev Moves time to `time`; the feed publishes the same price again.
    function _warpAndPublish(uint256 time) internal {
        vm.warp(time);
        _setPrice(_movedPrice(0));
    }

    /// @dev What the current holders are owed at the frozen NAV: sum of balance x settledAssets / settledSupply.
    function _owedAtSettlement(LeveragedToken token) internal view returns (uint256 owed) {
        (uint256 assets, uint256 supply) = (token.settledAssets(), token.settledSupply());
        if (supply == 0) return 0;
        address[] memory holders = handler.holders();
        for (uint256 i = 0; i < holders.length; i++) owed += (token.balanceOf(holders[i]) * assets) / supply;
    }

    function _live(LeveragedToken token) internal view returns (bool) {
        ILeveragedToken.State st = token.state();
        return st == ILeveragedToken.State.Active || st == ILeveragedToken.State.Delisting;
    }
}
