// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {ForwardDesk} from "../../../contracts/ForwardDesk.sol";
import {LeveragedToken} from "../../../contracts/LeveragedToken.sol";
import {TokenFixture} from "./TokenFixture.sol";

/// @notice What the ForwardDesk's tests share: requests, price rounds and claims, each by one account.
abstract contract DeskFixture is TokenFixture {
    function _requestDeposit(ForwardDesk d, address who, uint256 assets) internal {
        usdt.mint(who, assets);
        vm.startPrank(who);
        usdt.approve(address(d), assets);
        d.requestDeposit(assets, who, who);
        vm.stopPrank();
    }

    function _requestRedeem(ForwardDesk d, address who, uint256 shares) internal {
        LeveragedToken t = LeveragedToken(address(d.token()));
        vm.startPrank(who);
        t.approve(address(d), shares);
        d.requestRedeem(shares, who, who);
        vm.stopPrank();
    }

    /// @dev A new price round a minute later, `bps` away from the last price.
    function _nextRound(int256 bps) internal {
        vm.warp(block.timestamp + 1 minutes);
        _setPrice(_movedPrice(bps));
    }

    /// @dev Claims everything `who` may claim from its deposits; returns the shares.
    function _claimShares(ForwardDesk d, address who) internal returns (uint256 shares) {
        uint256 assets = d.maxDeposit(who);
        vm.prank(who);
        shares = d.deposit(assets, who, who);
    }

    /// @dev Claims everything `who` may claim from its redemptions; returns the USDT.
    function _claimAssets(ForwardDesk d, address who) internal returns (uint256 assets) {
        uint256 shares = d.maxRedeem(who);
        vm.prank(who);
        assets = d.redeem(shares, who, who);
    }

    /// @dev `who` mints through the desk: request, next round (`bps`), fill, claim.
    function _mintThroughDesk(ForwardDesk d, address who, uint256 assets, int256 bps) internal returns (uint256) {
        _requestDeposit(d, who, assets);
        _nextRound(bps);
        d.fill();
        return _claimShares(d, who);
    }
}
