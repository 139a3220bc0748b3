// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {ERC20} from "@openzeppelin/contracts/token/ERC20/ERC20.sol";
import {ERC4626} from "@openzeppelin/contracts/token/ERC20/extensions/ERC4626.sol";

/// @title PlainVault
/// @notice The gas baseline: a plain OpenZeppelin ERC-4626 vault over the same USDT, with the same
/// 12-decimal share offset as the leveraged token. Used only by `npm run bench:gas`.
contract PlainVault is ERC4626 {
    constructor(IERC20 asset_) ERC20("Plain USDT Vault", "pUSDT") ERC4626(asset_) {}

    function _decimalsOffset() internal pure override returns (uint8) {
        return 12;
    }
}
