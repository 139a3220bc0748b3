// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {ILeveragedToken} from "../../../contracts/interfaces/ILeveragedToken.sol";
import {IPerpVault} from "../../../contracts/interfaces/IPerpVault.sol";
import {Create3} from "@openzeppelin/contracts/utils/Create3.sol";
import {ForwardDesk} from "../../../contracts/ForwardDesk.sol";
import {LeveragedToken} from "../../../contracts/LeveragedToken.sol";
import {MockPerpVault} from "../../../contracts/mocks/MockPerpVault.sol";
import {MockPriceFeed} from "../../../contracts/mocks/MockPriceFeed.sol";
import {MockUSDT} from "../../../contracts/mocks/MockUSDT.sol";
import {TestBase} from "./Vm.sol";

/// @title TokenFixture
/// @notice The system a leveraged-token test needs: USDT, a BTC feed, the exchange with a deep pool, and
/// 3x tokens with the default parameters of src/common/params.ts (band [2x, 4x], ripcord 4.5x, epsilon
/// 0.05x, 0.05% mint and redeem fees, 0.005% a day management fee, 5 USDT bounty, no supply cap).
/// @dev The token's runtime code is under the 24 KB limit, so it deploys with `new` (its 27 KB creation
/// code is only over the limit a factory's runtime may hold). The deploying contract holds every role.
abstract contract TokenFixture is TestBase {
    bytes32 internal constant BTC = "BTC";
    int256 internal constant START_PRICE = 100_000e8;
    uint32 internal constant HEARTBEAT = 1 hours;
    int64 internal constant FUNDING_RATE = 0.0001e18; // per 8 hours
    uint256 internal constant POOL = 100_000_000e6;
    address internal constant DEAD = address(0xdEaD);
    uint256 internal constant YEAR = 365 days;
    uint256 internal constant WAD = 1e18;

    uint256 internal constant TARGET = 3e18;
    uint256 internal constant MIN_LEVERAGE = 2e18;
    uint256 internal constant MAX_LEVERAGE = 4e18;
    uint256 internal constant RIPCORD = 4.5e18;
    uint64 internal constant MINT_FEE = 0.0005e18;
    uint64 internal constant REDEEM_FEE = 0.0005e18;
    uint64 internal constant MANAGEMENT_FEE = 0.01825e18; // 0.005% a day
    uint64 internal constant BOUNTY = 5e6;
    uint256 internal constant FILL_DELAY = 1 hours;
    uint256 internal constant FILL_BOUNTY = 5e6;

    MockUSDT public usdt;
    MockPriceFeed public feed;
    MockPerpVault public vault;

    /// @dev USDT, feed and exchange, with POOL of liquidity so every winner can be paid.
    function _deployExchange() internal {
        usdt = new MockUSDT(address(this));
        feed = new MockPriceFeed("BTC / USD", START_PRICE, address(this));
        vault = new MockPerpVault(usdt, address(this));
        feed.setListener(vault, BTC);
        vault.addMarket(BTC, feed, HEARTBEAT, FUNDING_RATE, 0);
        usdt.mint(address(this), POOL);
        usdt.approve(address(vault), POOL);
        vault.addLiquidity(POOL);
    }

    /// @dev A 3x token on BTC with the default parameters; this contract is admin, pauser and keeper.
    function _deployToken(bool isLong, address treasury) internal returns (LeveragedToken) {
        return new LeveragedToken(_config(isLong, treasury));
    }

    /// @dev A 3x token whose mints and live redeems go through its ForwardDesk: both land at CREATE3
    /// addresses (fixed by salt alone), so each can be built knowing the other's.
    function _deployWithDesk(bool isLong, address treasury) internal returns (LeveragedToken token, ForwardDesk desk) {
        bytes32 tokenSalt = keccak256(abi.encode("token", isLong, deployed));
        bytes32 deskSalt = keccak256(abi.encode("desk", isLong, deployed++));
        ILeveragedToken.Config memory c = _config(isLong, treasury);
        c.desk = Create3.computeAddress(deskSalt);
        token = LeveragedToken(
            Create3.deploy(0, tokenSalt, abi.encodePacked(type(LeveragedToken).creationCode, abi.encode(c)))
        );
        bytes memory deskArgs = abi.encode(token, FILL_DELAY, FILL_BOUNTY);
        desk = ForwardDesk(Create3.deploy(0, deskSalt, abi.encodePacked(type(ForwardDesk).creationCode, deskArgs)));
    }

    uint256 private deployed;

    function _config(bool isLong, address treasury) internal view returns (ILeveragedToken.Config memory c) {
        c.name = isLong ? "BTC 3x Long" : "BTC 3x Short";
        c.symbol = isLong ? "BTC3L" : "BTC3S";
        c.vault = IPerpVault(address(vault));
        c.market = BTC;
        c.isLong = isLong;
        c.targetLeverage = TARGET;
        c.minLeverage = MIN_LEVERAGE;
        c.maxLeverage = MAX_LEVERAGE;
        c.ripcordLeverage = RIPCORD;
        c.rebalanceEpsilon = TARGET / 60;
        c.mintFee = MINT_FEE;
        c.redeemFee = REDEEM_FEE;
        c.managementFee = MANAGEMENT_FEE;
        c.rebalanceBounty = BOUNTY;
        c.supplyCap = type(uint128).max;
        c.treasury = treasury;
        c.admin = address(this);
        c.keeper = address(this);
        c.desk = address(0);
    }

    /// @dev Gives `who` `amount` USDT and lets `token` take it.
    function _fund(LeveragedToken token, address who, uint256 amount) internal {
        usdt.mint(who, amount);
        vm.prank(who);
        usdt.approve(address(token), amount);
    }

    /// @dev `who` deposits `amount` fresh USDT into `token`; returns the shares minted.
    function _depositAs(LeveragedToken token, address who, uint256 amount) internal returns (uint256 shares) {
        _fund(token, who, amount);
        vm.prank(who);
        shares = token.deposit(amount, who);
    }

    /// @dev Publishes `price` (also refreshes the feed after a warp).
    function _setPrice(int256 price) internal {
        feed.updateAnswer(price);
    }

    /// @dev The current price moved by `bps` basis points.
    function _movedPrice(int256 bps) internal view returns (int256) {
        (, int256 answer, , , ) = feed.latestRoundData();
        return (answer * (10_000 + bps)) / 10_000;
    }

    /// @dev The keeper (this contract) rebalances `token` if a rebalance is due; returns whether it did.
    function _rebalanceIfNeeded(LeveragedToken token) internal returns (bool) {
        (bool needed, ) = token.rebalanceNeeded();
        if (needed) token.rebalance();
        return needed;
    }
}
