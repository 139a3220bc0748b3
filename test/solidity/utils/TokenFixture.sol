// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {ILeveragedToken} from "../../../contracts/interfaces/ILeveragedToken.sol";
import {IPerpVault} from "../../../contracts/interfaces/IPerpVault.sol";
import {Create3} from "@openzeppelin/contracts/utils/Create3.sol";
import {ForwardDesk} from "../../../contracts/ForwardDesk.sol";
import {InstantDesk} from "../../../contracts/mocks/InstantDesk.sol";
import {LeveragedToken} from "../../../contracts/LeveragedToken.sol";
import {MockPerpVault} from "../../../contracts/mocks/MockPerpVault.sol";
import {MockPriceFeed} from "../../../contracts/mocks/MockPriceFeed.sol";
import {MockUSDT} from "../../../contracts/mocks/MockUSDT.sol";
import {TestBase} from "./Vm.sol";

/// @title TokenFixture
/// @notice The system a leveraged-token test needs: USDT, a BTC feed, the exchange with a deep pool, and
/// 3x tokens with the default parameters of src/common/params.ts (band [2x, 4x], ripcord 4.5x, epsilon
/// 0.05x, 0.05% mint and redeem fees, 0.005% a day management fee, 5 USDT bounty, no supply cap).
/// @dev Every token has a desk, the only account that mints and redeems at a live price: a token's own
/// pricing is tested through an InstantDesk (the old instant primary market, one hop away), the desk's
/// through a ForwardDesk. The deploying contract holds every role.
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

    /// @dev A 3x token on BTC with the default parameters whose mints and live redeems go through an
    /// InstantDesk (`_desk(token)`), at once and at the stored price; this contract is admin, pauser and
    /// keeper.
    function _deployToken(bool isLong, address treasury) internal returns (LeveragedToken token) {
        address desk;
        (token, desk) = _deployPair(isLong, treasury, type(InstantDesk).creationCode);
        desks[token] = InstantDesk(desk);
    }

    /// @dev A 3x token whose mints and live redeems go through its ForwardDesk.
    function _deployWithDesk(bool isLong, address treasury) internal returns (LeveragedToken token, ForwardDesk desk) {
        address d;
        (token, d) = _deployPair(isLong, treasury, type(ForwardDesk).creationCode);
        desk = ForwardDesk(d);
    }

    /// @dev A token and its desk (`deskCode`, built with ForwardDesk's arguments): both land at CREATE3
    /// addresses (fixed by salt alone), so each can be built knowing the other's.
    function _deployPair(
        bool isLong,
        address treasury,
        bytes memory deskCode
    ) private returns (LeveragedToken token, address desk) {
        bytes32 tokenSalt = keccak256(abi.encode("token", isLong, deployed));
        bytes32 deskSalt = keccak256(abi.encode("desk", isLong, deployed++));
        ILeveragedToken.Config memory c = _config(isLong, treasury);
        c.desk = Create3.computeAddress(deskSalt);
        token = LeveragedToken(
            Create3.deploy(0, tokenSalt, abi.encodePacked(type(LeveragedToken).creationCode, abi.encode(c)))
        );
        bytes memory deskArgs = abi.encode(token, FILL_DELAY, FILL_BOUNTY);
        desk = Create3.deploy(0, deskSalt, abi.encodePacked(deskCode, deskArgs));
        _assertTrue(token.desk() == desk, "the token names its desk");
    }

    /// @dev The InstantDesk of a token `_deployToken` made (or `_useDesk` registered).
    function _desk(LeveragedToken token) internal view returns (InstantDesk desk) {
        desk = desks[token];
        _assertTrue(address(desk) != address(0), "a token with an InstantDesk");
    }

    /// @dev Registers the InstantDesk of a token deployed by another contract (a handler's).
    function _useDesk(LeveragedToken token, InstantDesk desk) internal {
        _assertTrue(token.desk() == address(desk) && desk.token() == token, "the token's own InstantDesk");
        desks[token] = desk;
    }

    mapping(LeveragedToken token => InstantDesk) private desks;
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
    }

    /// @dev Gives `who` `amount` USDT and lets `token`'s desk take it, and take `who`'s shares to redeem
    /// them (the token spends the owner's allowance to the desk).
    function _fund(LeveragedToken token, address who, uint256 amount) internal {
        usdt.mint(who, amount);
        address desk = token.desk();
        vm.startPrank(who);
        usdt.approve(desk, type(uint256).max);
        _assertTrue(token.approve(desk, type(uint256).max), "approve");
        vm.stopPrank();
    }

    /// @dev `who` deposits `amount` fresh USDT into `token` through its InstantDesk; returns the shares.
    function _depositAs(LeveragedToken token, address who, uint256 amount) internal returns (uint256 shares) {
        _fund(token, who, amount);
        InstantDesk desk = _desk(token);
        vm.prank(who);
        shares = desk.deposit(amount, who);
    }

    /// @dev `who` redeems `shares` of `token` through its InstantDesk (live), or straight at the token
    /// once Settled (anyone may then, at the frozen USDT per share); returns the USDT paid.
    function _redeemAs(LeveragedToken token, address who, uint256 shares) internal returns (uint256 assets) {
        if (token.state() == ILeveragedToken.State.Settled) {
            vm.prank(who);
            return token.redeem(shares, who, who);
        }
        InstantDesk desk = _desk(token);
        vm.startPrank(who);
        _assertTrue(token.approve(address(desk), type(uint256).max), "approve");
        assets = desk.redeem(shares, who, who);
        vm.stopPrank();
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
