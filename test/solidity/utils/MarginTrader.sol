// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {SafeERC20} from "@openzeppelin/contracts/token/ERC20/utils/SafeERC20.sol";
import {IMarginPayer} from "../../../contracts/interfaces/IMarginPayer.sol";
import {IPerpVault} from "../../../contracts/interfaces/IPerpVault.sol";

/// @notice A trading contract that adds margin through `trade` and pays `payBps` of what the exchange
/// asks for in its callback: 10,000 pays in full, 0 tries to claim USDT already sitting in the exchange.
contract MarginTrader is IMarginPayer {
    using SafeERC20 for IERC20;

    error NotTheExchange(address caller);

    IPerpVault public immutable vault;
    IERC20 public immutable usdt;
    uint256 public payBps;

    constructor(IPerpVault vault_) {
        vault = vault_;
        usdt = vault_.usdt();
    }

    function trade(bytes32 market, int256 sizeDelta, int256 marginDelta, uint256 payBps_) external {
        payBps = payBps_;
        vault.trade(market, sizeDelta, marginDelta, address(this));
    }

    function payMargin(uint256 amount) external {
        if (msg.sender != address(vault)) revert NotTheExchange(msg.sender);
        uint256 paid = (amount * payBps) / 10_000;
        if (paid != 0) usdt.safeTransfer(msg.sender, paid);
    }
}
