// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {AggregatorV3Interface} from "@chainlink/contracts/src/v0.8/shared/interfaces/AggregatorV3Interface.sol";

import {IPriceListener, IPricePusher} from "../../../contracts/interfaces/IPriceListener.sol";

/// @notice A feed that answers whatever it is told, including what MockPriceFeed refuses to publish
/// (zero, negative, a time in the future), and pushes it to its listener as MockPriceFeed does: the
/// broken oracles the exchange must reject.
contract RawFeed is AggregatorV3Interface, IPricePusher {
    int256 public answer;
    uint256 public updatedAt;
    IPriceListener internal listener;
    bytes32 internal key;

    function listen(IPriceListener listener_, bytes32 key_) external {
        (listener, key) = (listener_, key_);
    }

    function listening() external view returns (IPriceListener, bytes32) {
        return (listener, key);
    }

    function set(int256 answer_, uint256 updatedAt_) external {
        (answer, updatedAt) = (answer_, updatedAt_);
        if (address(listener) != address(0)) listener.onPriceUpdate(key, answer_, updatedAt_);
    }

    function decimals() external pure returns (uint8) {
        return 8;
    }

    function description() external pure returns (string memory) {
        return "raw";
    }

    function version() external pure returns (uint256) {
        return 1;
    }

    function getRoundData(uint80 id) external view returns (uint80, int256, uint256, uint256, uint80) {
        return (id, answer, updatedAt, updatedAt, id);
    }

    function latestRoundData() external view returns (uint80, int256, uint256, uint256, uint80) {
        return (1, answer, updatedAt, updatedAt, 1);
    }
}
