// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {SafeERC20} from "@openzeppelin/contracts/token/ERC20/utils/SafeERC20.sol";

import {ILeveragedToken} from "../interfaces/ILeveragedToken.sol";

/// @title InstantDesk
/// @notice The primary market as it was before forward pricing, kept for tests only: anyone deposits
/// and redeems at once, at the price the exchange has stored. It passes each call straight to the
/// token, so the token's own pricing can be tested one deposit or redeem at a time against a preview
/// read in the same block, and the attack test can show what an attacker who knows the next price
/// earns here (and does not through a ForwardDesk). The tools never deploy it: a factory deploys only
/// the desk code whose hash it was built with, and the deploy builds it with ForwardDesk's.
/// @dev Takes the constructor arguments of ForwardDesk, so a factory builds it the same way.
contract InstantDesk {
    using SafeERC20 for IERC20;

    ILeveragedToken public immutable token;
    IERC20 public immutable usdt;

    /// @notice Only the owner of the shares redeems them here.
    error NotOwner(address caller, address owner);

    constructor(ILeveragedToken token_, uint256, uint256) {
        token = token_;
        usdt = IERC20(token_.asset());
        usdt.forceApprove(address(token_), type(uint256).max);
    }

    /// @notice Takes `assets` USDT from the caller and deposits them into the token for `receiver`.
    function deposit(uint256 assets, address receiver) external returns (uint256 shares) {
        usdt.safeTransferFrom(msg.sender, address(this), assets);
        return token.deposit(assets, receiver);
    }

    /// @notice Redeems the caller's `shares` (the caller must have approved this desk on the token).
    function redeem(uint256 shares, address receiver, address owner) external returns (uint256 assets) {
        if (msg.sender != owner) revert NotOwner(msg.sender, owner);
        return token.redeem(shares, receiver, owner);
    }
}
