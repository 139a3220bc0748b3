// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

/// @title IPriceListener
/// @notice A contract that keeps its own copy of a feed's latest answer, pushed to it by the feed in
/// the same transaction as every update (see MockPriceFeed.setListener), so reading the price costs
/// it no call to the feed.
interface IPriceListener {
    /// @notice The feed published `answer` (8 decimals) at `updatedAt`; `key` is what the listener
    /// was registered with (the exchange's market id).
    function onPriceUpdate(bytes32 key, int256 answer, uint256 updatedAt) external;
}

/// @title IPricePusher
/// @notice A feed that pushes its answers to one listener (MockPriceFeed).
interface IPricePusher {
    /// @notice The listener every new answer is pushed to, and the key it is pushed with.
    function listening() external view returns (IPriceListener listener, bytes32 key);
}
