// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {IPerpVault} from "../../contracts/interfaces/IPerpVault.sol";
import {MockPerpVault} from "../../contracts/mocks/MockPerpVault.sol";
import {MockUSDT} from "../../contracts/mocks/MockUSDT.sol";
import {RawFeed} from "./utils/RawFeed.sol";
import {TestBase} from "./utils/Vm.sol";

/// @title MockPerpVaultOracleTest
/// @notice Every price read rejects a broken oracle with a named error instead of trading at a wrong
/// price: a zero or negative answer (InvalidPrice), an answer older than the heartbeat (StalePrice).
/// The feed pushes its answers to the exchange; one the exchange cannot hold, one older than the answer
/// it holds or one dated in the future is refused there (the feed's update reverts), since the exchange
/// charges funding over the time between answers.
contract MockPerpVaultOracleTest is TestBase {
    bytes32 internal constant BTC = "BTC";
    RawFeed internal feed;
    MockPerpVault internal vault;

    function setUp() public {
        vm.warp(1_000_000);
        feed = new RawFeed();
        vault = new MockPerpVault(new MockUSDT(address(this)), address(this));
        feed.set(60_000e8, block.timestamp);
        feed.listen(vault, BTC);
        vault.addMarket(BTC, feed, 1 hours, 0, 0);
    }

    function testFuzz_nonPositiveAnswerReverts(int256 answer) public {
        answer = _boundInt(answer, type(int64).min, 0);
        feed.set(answer, block.timestamp);
        vm.expectRevert(abi.encodeWithSelector(IPerpVault.InvalidPrice.selector, BTC, answer));
        vault.markPrice(BTC);
    }

    function testFuzz_staleAnswerReverts(uint256 age) public {
        vm.warp(block.timestamp + 10 days); // the answer held is from setUp
        uint256 updatedAt = block.timestamp - _bound(age, 1 hours + 1, 10 days);
        feed.set(60_000e8, updatedAt);
        vm.expectRevert(abi.encodeWithSelector(IPerpVault.StalePrice.selector, BTC, updatedAt, 1 hours));
        vault.markPrice(BTC);
    }

    function testFuzz_futureOrOutOfOrderAnswerIsRefused(uint256 age, bool future) public {
        vm.warp(block.timestamp + 1 days);
        feed.set(61_000e8, block.timestamp - 1 hours);
        uint256 updatedAt =
            future ? block.timestamp + _bound(age, 1, 365 days) : block.timestamp - _bound(age, 1 hours + 1, 1 days);
        vm.expectRevert(abi.encodeWithSelector(IPerpVault.StalePrice.selector, BTC, updatedAt, 1 hours));
        feed.set(60_000e8, updatedAt);
        _assertEq(vault.markPrice(BTC), 61_000e8, "the answer held stays the price");
    }

    function testFuzz_freshAnswerIsThePrice(uint256 age, uint256 price) public {
        price = _bound(price, 1, uint256(uint64(type(int64).max)));
        vm.warp(block.timestamp + 1 hours); // the answer held is from setUp
        uint256 updatedAt = block.timestamp - _bound(age, 0, 1 hours);
        feed.set(int256(price), updatedAt);
        _assertEq(vault.markPrice(BTC), price, "fresh answer is the mark price");
    }

    function testFuzz_answerBeyondWhatTheExchangeHoldsIsRefused(int256 answer, bool negative) public {
        answer =
            negative
                ? _boundInt(answer, type(int256).min, int256(type(int64).min) - 1)
                : _boundInt(answer, int256(type(int64).max) + 1, type(int256).max);
        vm.expectRevert(abi.encodeWithSelector(IPerpVault.InvalidPrice.selector, BTC, answer));
        feed.set(answer, block.timestamp);
        _assertEq(vault.markPrice(BTC), 60_000e8, "the last answer it could hold stays the price");
    }

    function test_onlyTheMarketFeedPushes() public {
        vm.expectRevert(abi.encodeWithSelector(IPerpVault.NotMarketFeed.selector, BTC, address(this)));
        vault.onPriceUpdate(BTC, 1e8, block.timestamp);
        bytes32 eth = "ETH";
        vm.expectRevert(abi.encodeWithSelector(IPerpVault.NotMarketFeed.selector, eth, address(this)));
        vault.onPriceUpdate(eth, 1e8, block.timestamp);
        // a feed pushing under a market it does not price is refused too
        RawFeed other = new RawFeed();
        other.listen(vault, BTC);
        vm.expectRevert(abi.encodeWithSelector(IPerpVault.NotMarketFeed.selector, BTC, address(other)));
        other.set(1e8, block.timestamp);
    }

    function test_marketNeedsAFeedThatPushesToIt() public {
        bytes32 eth = "ETH";
        RawFeed silent = new RawFeed();
        silent.set(3_000e8, block.timestamp);
        vm.expectRevert(abi.encodeWithSelector(IPerpVault.FeedNotPushing.selector, eth, address(silent)));
        vault.addMarket(eth, silent, 1 hours, 0, 0);
        silent.listen(vault, BTC); // the wrong market
        vm.expectRevert(abi.encodeWithSelector(IPerpVault.FeedNotPushing.selector, eth, address(silent)));
        vault.addMarket(eth, silent, 1 hours, 0, 0);
        silent.listen(vault, eth);
        vault.addMarket(eth, silent, 1 hours, 0, 0);
        _assertEq(vault.markPrice(eth), 3_000e8, "listing reads the feed's latest answer");
    }
}
