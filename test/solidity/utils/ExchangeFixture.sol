// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {MockPerpVault} from "../../../contracts/mocks/MockPerpVault.sol";
import {MockPriceFeed} from "../../../contracts/mocks/MockPriceFeed.sol";
import {MockUSDT} from "../../../contracts/mocks/MockUSDT.sol";
import {TestBase} from "./Vm.sol";

/// @title ExchangeFixture
/// @notice The exchange on its own, as the exchange's fuzz tests use it: USDT, a BTC / USD feed and the
/// MockPerpVault listing BTC on it, with a pool. The deploying contract holds every role.
abstract contract ExchangeFixture is TestBase {
    bytes32 internal constant BTC = "BTC";

    MockUSDT internal usdt;
    MockPriceFeed internal feed;
    MockPerpVault internal vault;

    /// @dev USDT; a BTC / USD feed at 60,000 USD that pushes its answers to the exchange; the exchange
    /// listing BTC (1 hour heartbeat, 0.01% funding per 8 hours, no price impact); and `pool` USDT units of
    /// liquidity minted to this contract and added (its allowance to the exchange is spent).
    function _deployExchange(uint256 pool) internal {
        usdt = new MockUSDT(address(this));
        feed = new MockPriceFeed("BTC / USD", 60_000e8, address(this));
        vault = new MockPerpVault(usdt, address(this));
        feed.setListener(vault, BTC);
        vault.addMarket(BTC, feed, 1 hours, 0.0001e18, 0);
        usdt.mint(address(this), pool);
        usdt.approve(address(vault), pool);
        vault.addLiquidity(pool);
    }
}
