// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {SafeERC20} from "@openzeppelin/contracts/token/ERC20/utils/SafeERC20.sol";
import {IMarginPayer} from "../../../contracts/interfaces/IMarginPayer.sol";

/// @notice A trader's code that pays the exchange in full whenever it asks (margin added inside a trade).
contract PayInFull is IMarginPayer {
    using SafeERC20 for IERC20;

    IERC20 internal immutable usdt;

    constructor(IERC20 usdt_) {
        usdt = usdt_;
    }

    function payMargin(uint256 amount) external {
        usdt.safeTransfer(msg.sender, amount);
    }
}
