// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

/// @title IMarginPayer
/// @notice A trader that adds margin inside `IPerpVault.trade`: the exchange calls it back for the
/// USDT and credits only what its balance rose by during the call, so USDT sent to the exchange any
/// other way (by mistake) is never anyone's margin.
interface IMarginPayer {
    /// @notice Pay `amount` USDT to the exchange (msg.sender) now.
    function payMargin(uint256 amount) external;
}
