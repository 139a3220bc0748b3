// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {IPerpVault} from "../../contracts/interfaces/IPerpVault.sol";
import {MockPerpVault} from "../../contracts/mocks/MockPerpVault.sol";
import {MockUSDT} from "../../contracts/mocks/MockUSDT.sol";
import {RawFeed} from "./utils/RawFeed.sol";
import {TestBase} from "./utils/Vm.sol";

/// @title MockPerpVaultOracleTest
/// @notice Every price read rejects a broken oracle with a named error instead of trading at a wrong
/// price: a zero or negative answer (InvalidPrice), an answer older than the heartbeat or dated in the
/// future (StalePrice).
contract MockPerpVaultOracleTest is TestBase {
    bytes32 internal constant BTC = "BTC";
    RawFeed internal feed;
    MockPerpVault internal vault;

    function setUp() public {
        vm.warp(1_000_000);
        feed = new RawFeed();
        feed.set(60_000e8, block.timestamp);
        vault = new MockPerpVault(new MockUSDT(address(this)), address(this));
        vault.addMarket(BTC, feed, 1 hours, 0, 0);
    }

    function testFuzz_nonPositiveAnswerReverts(int256 answer) public {
        answer = _boundInt(answer, -1e40, 0);
        feed.set(answer, block.timestamp);
        vm.expectRevert(abi.encodeWithSelector(IPerpVault.InvalidPrice.selector, BTC, answer));
        vault.markPrice(BTC);
    }

    function testFuzz_staleOrFutureAnswerReverts(uint256 age, bool future) public {
        uint256 updatedAt =
            future ? block.timestamp + _bound(age, 1, 365 days) : block.timestamp - _bound(age, 1 hours + 1, 10 days);
        feed.set(60_000e8, updatedAt);
        vm.expectRevert(abi.encodeWithSelector(IPerpVault.StalePrice.selector, BTC, updatedAt, 1 hours));
        vault.markPrice(BTC);
    }

    function testFuzz_freshAnswerIsThePrice(uint256 age, uint256 price) public {
        price = _bound(price, 1, 1e30);
        uint256 updatedAt = block.timestamp - _bound(age, 0, 1 hours);
        feed.set(int256(price), updatedAt);
        _assertEq(vault.markPrice(BTC), price, "fresh answer is the mark price");
    }
}
