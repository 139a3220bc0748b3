// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {AccessControl} from "@openzeppelin/contracts/access/AccessControl.sol";
import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {IERC20Metadata} from "@openzeppelin/contracts/token/ERC20/extensions/IERC20Metadata.sol";
import {ERC20} from "@openzeppelin/contracts/token/ERC20/ERC20.sol";
import {ERC20Permit} from "@openzeppelin/contracts/token/ERC20/extensions/ERC20Permit.sol";
import {ERC4626} from "@openzeppelin/contracts/token/ERC20/extensions/ERC4626.sol";
import {IERC4626} from "@openzeppelin/contracts/interfaces/IERC4626.sol";
import {SafeERC20} from "@openzeppelin/contracts/token/ERC20/utils/SafeERC20.sol";
import {Math} from "@openzeppelin/contracts/utils/math/Math.sol";
import {SafeCast} from "@openzeppelin/contracts/utils/math/SafeCast.sol";
import {ReentrancyGuardTransient} from "@openzeppelin/contracts/utils/ReentrancyGuardTransient.sol";
// solhint-disable-next-line max-line-length
import {AutomationCompatibleInterface} from "@chainlink/contracts/src/v0.8/automation/interfaces/AutomationCompatibleInterface.sol";

import {ILeveragedToken} from "./interfaces/ILeveragedToken.sol";
import {IMarginPayer} from "./interfaces/IMarginPayer.sol";
import {IPerpVault} from "./interfaces/IPerpVault.sol";
import {PerpMath} from "./libraries/PerpMath.sol";
import {TokenMath} from "./libraries/TokenMath.sol";
import {MathLib} from "./libraries/MathLib.sol";

/// @title LeveragedToken
/// @notice See ILeveragedToken. Every entry point reads the same way: checks, accrue the management
/// fee, read the exchange, quote (the same code the previews run), pay in, trade, check the
/// exchange agrees with the quote, write, emit.
contract LeveragedToken is
    ILeveragedToken,
    ERC4626,
    ERC20Permit,
    AccessControl,
    ReentrancyGuardTransient,
    AutomationCompatibleInterface,
    IMarginPayer
{
    using SafeERC20 for IERC20;
    using PerpMath for int256;
    using SafeCast for uint256;

    /* CONSTANTS AND IMMUTABLES */

    bytes32 public constant KEEPER_ROLE = keccak256("KEEPER_ROLE");
    bytes32 public constant PAUSER_ROLE = keccak256("PAUSER_ROLE");

    uint8 internal constant REASON_NONE = 0;
    uint8 internal constant REASON_BAND = 1;
    uint8 internal constant REASON_DAILY = 2;
    uint8 internal constant REASON_RIPCORD = 3;
    uint8 internal constant REASON_DEPLETED = 4;
    uint8 internal constant REASON_REOPEN = 5;

    uint256 internal constant MIN_DELISTING_NOTICE = 3 days;
    uint256 internal constant MAX_MINT_FEE = 0.01e18;
    uint256 internal constant MAX_REDEEM_FEE = 0.01e18;
    uint256 internal constant MAX_MANAGEMENT_FEE = 0.05e18; // per year
    uint256 internal constant MAX_BOUNTY = 100e6;
    /// @dev Mint and redeem fees are stored in pips (1e-6, that is 1e12 WAD) so they fit in the
    /// status slot every mint and redeem already reads; they are set and reported in WAD.
    uint256 internal constant FEE_PIP = 1e12;
    /// @dev The supply cap that means none: supplies stay within 128 bits either way.
    uint128 internal constant NO_CAP = type(uint128).max;
    /// @notice Shares locked at the first mint (worth 0.01 of a USDT unit there), as Uniswap V2's
    /// minimum liquidity: the supply never returns to zero, so no later mint can be priced off dust.
    /// With 1e12 shares per USDT unit at the first mint, a donation that inflates NAV costs its donor
    /// about 1% of it (left to the locked shares) and can take a later minter at most one share's worth.
    uint256 public constant MINIMUM_SHARES = 1e10;
    address internal constant DEAD = address(0xdEaD);

    IPerpVault public immutable vault;
    bytes32 public immutable market;
    bool public immutable isLong;
    uint256 public immutable targetLeverage;
    uint256 public immutable minLeverage;
    uint256 public immutable maxLeverage;
    uint256 public immutable ripcordLeverage;
    uint256 public immutable rebalanceEpsilon;
    address public immutable desk;
    IERC20 internal immutable usdt;

    /* STORAGE */

    /// @dev One slot, read once and written once by every entry point. Fee shares (management, mint
    /// and redeem fees) accumulate in `pendingFeeShares`: they count in the supply and in the
    /// treasury's balance at once, and are minted to the treasury lazily (`accrueManagementFee`,
    /// `setTreasury`, `settle`, or when the treasury spends more than it holds), so no entry point
    /// writes the treasury's balance. It also holds every fee rate a mint, a redeem or a rebalance
    /// charges, so a redeem reads no other slot of this contract but the supply and the balances.
    struct Status {
        uint32 lastFeeAccrual;
        uint32 lastRebalance;
        State state;
        bool mintPaused;
        bool supplyCapped; // a cap below the uint128 ceiling: only then does a mint read maxSupply
        uint80 pendingFeeShares;
        uint56 managementFee; // WAD per year
        uint16 mintFeePips; // 1e-6
        uint16 redeemFeePips; // 1e-6
    }

    /// @dev One slot, read only off the hot paths (fee claims, settlement, the ripcord bounty).
    struct Admin {
        address treasury;
        uint40 delistingTime;
        uint56 rebalanceBounty; // USDT
    }

    Status public status;
    /// @dev The most shares that may exist: read by mints only, and only when `status.supplyCapped`.
    uint128 internal maxSupply;
    Admin internal admin;
    /// @notice USDT held for the holders and the supply it was frozen for, once Settled.
    uint128 public settledAssets;
    uint128 public settledSupply;
    /// @dev Who pays the margin the exchange asks for in `payMargin`: set by a mint for its one trade.
    address internal transient marginPayer;

    /// @dev What the exchange says now (read once per call) and the fees that apply.
    struct Book {
        uint256 supply; // with the management fee accrued to this second
        int256 size;
        int256 equity;
        uint256 price;
        uint256 takerFee;
        uint256 priceImpact;
        uint256 mintFee; // WAD
        uint256 redeemFee; // WAD
        uint256 managementFeeShares; // accrued by this call
        // the due rebalance a mint or a redeem runs first (size and equity above are after it), not
        // traded yet: `_tradeAfterRestore` sends it with the mint's or redeem's own trade
        int256 restoreDelta;
        int256 equityBefore;
    }

    /// @dev What one trade of `sizeDelta` will leave.
    struct Quote {
        uint256 supply;
        uint256 price;
        int256 sizeDelta;
        uint256 cost; // trading cost of this slice, paid to the exchange's pool
        int256 equityAfter; // exchange equity after the trade, before any payout
    }

    constructor(Config memory c) ERC20(c.name, c.symbol) ERC20Permit(c.name) ERC4626(c.vault.usdt()) {
        if (
            address(c.vault) == address(0) || c.treasury == address(0) || c.admin == address(0) || c.desk == address(0)
        ) {
            revert ZeroAddress();
        }
        if (c.targetLeverage == 0 || c.targetLeverage > c.vault.maxLeverage()) {
            revert InvalidParameter("targetLeverage", c.targetLeverage);
        }
        if (c.minLeverage == 0 || c.minLeverage >= c.targetLeverage) {
            revert InvalidParameter("minLeverage", c.minLeverage);
        }
        if (c.maxLeverage <= c.targetLeverage) revert InvalidParameter("maxLeverage", c.maxLeverage);
        if (c.ripcordLeverage < c.maxLeverage || c.ripcordLeverage > c.vault.maxLeverage()) {
            revert InvalidParameter("ripcordLeverage", c.ripcordLeverage);
        }
        if (c.rebalanceEpsilon == 0 || c.rebalanceEpsilon >= c.maxLeverage - c.targetLeverage) {
            revert InvalidParameter("rebalanceEpsilon", c.rebalanceEpsilon);
        }
        c.vault.markPrice(c.market); // reverts UnknownMarket for a market the exchange does not list
        vault = c.vault;
        market = c.market;
        isLong = c.isLong;
        targetLeverage = c.targetLeverage;
        minLeverage = c.minLeverage;
        maxLeverage = c.maxLeverage;
        ripcordLeverage = c.ripcordLeverage;
        rebalanceEpsilon = c.rebalanceEpsilon;
        desk = c.desk;
        usdt = IERC20(asset());
        status = Status(uint32(block.timestamp), 0, State.Active, false, c.supplyCap < NO_CAP, 0, 0, 0, 0);
        admin.treasury = c.treasury;
        maxSupply = c.supplyCap;
        _setFees(c.mintFee, c.redeemFee, c.managementFee, c.rebalanceBounty);
        _grantRole(DEFAULT_ADMIN_ROLE, c.admin);
        _grantRole(PAUSER_ROLE, c.admin);
        if (c.keeper != address(0)) _grantRole(KEEPER_ROLE, c.keeper);
        emit TreasurySet(c.treasury);
        emit SupplyCapSet(c.supplyCap);
    }

    /* MINT */

    /// @inheritdoc IERC4626
    /// @dev Only the desk: it deposits the USDT of a price round's requests, after that round.
    function deposit(
        uint256 assets,
        address receiver
    ) public override(ERC4626, IERC4626) nonReentrant returns (uint256 shares) {
        if (receiver == address(0)) revert ZeroAddress();
        if (assets == 0) revert ZeroAmount();
        Status memory s = _requireMintable();
        Book memory b = _liveBook(s);
        (Quote memory q, uint256 minted, uint256 feeShares) = _quoteDeposit(b, assets);
        if (minted == 0) revert DepositTooSmall(assets);
        _mintAndTrade(s, b, q, receiver, assets, minted, feeShares);
        return minted;
    }

    /// @inheritdoc IERC4626
    /// @dev Never: shares are bought with a desk request (ERC-7540), priced after it is placed.
    function mint(uint256, address) public view override(ERC4626, IERC4626) returns (uint256) {
        _useTheDesk();
        return 0;
    }

    /* REDEEM */

    /// @inheritdoc IERC4626
    /// @dev Settled: anyone, at the frozen USDT per share. Before: only the desk, for a price round's
    /// requests after that round.
    function redeem(
        uint256 shares,
        address receiver,
        address owner
    ) public override(ERC4626, IERC4626) nonReentrant returns (uint256 assets) {
        if (receiver == address(0)) revert ZeroAddress();
        if (shares == 0) revert ZeroAmount();
        Status memory s = status;
        if (s.state == State.Settled) {
            assets = _settledAssetsOf(shares);
            _payFromSettlement(owner, receiver, shares, assets);
            return assets;
        }
        _requireRedeemable(s);
        Book memory b = _liveBook(s);
        (Quote memory q, uint256 paid, uint256 feeShares) = _quoteRedeem(b, shares);
        if (paid == 0) revert RedeemTooSmall(shares);
        _burnAndTrade(s, b, q, owner, receiver, shares, paid, feeShares);
        return paid;
    }

    /// @inheritdoc IERC4626
    /// @dev Settled only (the frozen USDT per share, the fewest shares rounded up); at a live price
    /// USDT is taken out with a desk request for shares.
    function withdraw(
        uint256 assets,
        address receiver,
        address owner
    ) public override(ERC4626, IERC4626) nonReentrant returns (uint256 shares) {
        if (receiver == address(0)) revert ZeroAddress();
        if (assets == 0) revert ZeroAmount();
        if (status.state != State.Settled) revert UseTheDesk(desk);
        shares = _settledSharesFor(assets);
        _payFromSettlement(owner, receiver, shares, assets);
    }

    /* REBALANCE */

    /// @inheritdoc ILeveragedToken
    function rebalanceNeeded() public view returns (bool needed, uint8 reason) {
        Status memory s = status;
        if (s.state != State.Active && s.state != State.Delisting) return (false, REASON_NONE);
        (int256 size, int256 equity, uint256 price) = vault.snapshot(market, address(this));
        (reason, ) = _rebalanceReason(size, equity, price, s.lastRebalance, ERC20.totalSupply() != 0);
        needed = reason != REASON_NONE;
    }

    /// @inheritdoc ILeveragedToken
    function rebalance() external nonReentrant {
        _rebalance();
    }

    /// @inheritdoc AutomationCompatibleInterface
    function checkUpkeep(bytes calldata) external view returns (bool upkeepNeeded, bytes memory performData) {
        (upkeepNeeded, ) = rebalanceNeeded();
        performData = "";
    }

    /// @inheritdoc AutomationCompatibleInterface
    function performUpkeep(bytes calldata) external nonReentrant {
        _rebalance();
    }

    /// @inheritdoc ILeveragedToken
    function accrueManagementFee() external nonReentrant {
        _accrueAndClaimFees();
    }

    /// @notice When the last rebalance ran (0 before the first).
    function lastRebalance() external view returns (uint256) {
        return status.lastRebalance;
    }

    /* LIFECYCLE */

    /// @inheritdoc ILeveragedToken
    function scheduleDelisting(uint256 time) external onlyRole(DEFAULT_ADMIN_ROLE) {
        State st = status.state;
        if (st != State.Active) revert InvalidState(st);
        uint256 earliest = block.timestamp + MIN_DELISTING_NOTICE;
        if (time < earliest || time > type(uint40).max) revert DelistingTooSoon(time, earliest);
        status.state = State.Delisting;
        admin.delistingTime = uint40(time);
        emit DelistingScheduled(time);
    }

    /// @inheritdoc ILeveragedToken
    function settle() external nonReentrant {
        Status memory s = status;
        if (s.state == State.Delisting) {
            uint256 time = admin.delistingTime;
            if (block.timestamp < time) revert DelistingNotReached(time);
        } else if (s.state != State.Depleted) {
            revert InvalidState(s.state);
        }
        Book memory b;
        b.supply = _accrueReported(s);
        bool closing = s.state == State.Delisting;
        s.state = State.Settled;
        _writeStatus(s);
        _claimFees();
        uint256 assets;
        if (closing) {
            _readExchange(b);
            Quote memory q = _quoteTrade(b, -b.size);
            if (q.equityAfter <= 0) {
                // nothing left once the position is closed: settle at zero, the pool bears the rest
                emit Depleted(b.equity, b.price);
                _closeAll(b.size);
            } else {
                assets = uint256(q.equityAfter);
                _trade(q.sizeDelta, -int256(assets), address(this), 0);
            }
        }
        settledAssets = uint128(assets);
        settledSupply = uint128(b.supply);
        emit Settled(assets, b.supply);
    }

    /// @inheritdoc ILeveragedToken
    function settleHolders(address[] calldata holders) external nonReentrant {
        if (status.state != State.Settled) revert InvalidState(status.state);
        (uint256 assets, uint256 supply) = (settledAssets, settledSupply);
        for (uint256 i = 0; i < holders.length; ++i) {
            address holder = holders[i];
            uint256 shares = super.balanceOf(holder); // fee shares were minted at settlement
            if (shares == 0 || holder == DEAD || holder == desk) continue;
            uint256 paid = TokenMath.toAssetsDown(shares, assets, supply);
            _burn(holder, shares);
            emit HolderSettled(holder, shares, paid);
            if (paid != 0) usdt.safeTransfer(holder, paid);
        }
    }

    /* ADMIN */

    /// @notice Sets the fees (WAD; the bounty in USDT), each within its hard cap; the mint and redeem
    /// fees in whole pips (multiples of 1e12), as the status slot stores them. Only admin. Accrues the
    /// management fee first.
    function setFees(
        uint64 mintFee,
        uint64 redeemFee,
        uint64 managementFee,
        uint64 rebalanceBounty
    ) external onlyRole(DEFAULT_ADMIN_ROLE) {
        _accrueAndClaimFees();
        _setFees(mintFee, redeemFee, managementFee, rebalanceBounty);
    }

    /// @notice Sets where fees go. Only admin. Accrues the management fee to the old treasury first.
    function setTreasury(address newTreasury) external onlyRole(DEFAULT_ADMIN_ROLE) {
        if (newTreasury == address(0)) revert ZeroAddress();
        _accrueAndClaimFees();
        admin.treasury = newTreasury;
        emit TreasurySet(newTreasury);
    }

    /// @notice Sets the most shares that may exist. Only admin.
    function setSupplyCap(uint128 cap) external onlyRole(DEFAULT_ADMIN_ROLE) {
        maxSupply = cap;
        status.supplyCapped = cap < NO_CAP;
        emit SupplyCapSet(cap);
    }

    /// @notice Pauses or resumes minting; redeem stays open. Only PAUSER_ROLE.
    function setMintPaused(bool paused) external onlyRole(PAUSER_ROLE) {
        status.mintPaused = paused;
        emit MintingPaused(paused);
    }

    /* VIEWS */

    /// @inheritdoc ILeveragedToken
    function state() external view returns (State) {
        return status.state;
    }

    /// @inheritdoc ILeveragedToken
    function nav() external view returns (uint256) {
        uint256 supply = _supplyNow();
        if (supply == 0) return 1e6;
        return MathLib.mulDivDown(totalAssets(), 1e18, supply);
    }

    /// @notice The fees: mint and redeem (WAD, taken in shares), management (WAD per year) and the
    /// ripcord bounty (USDT).
    function fees()
        external
        view
        returns (uint64 mintFee, uint64 redeemFee, uint64 managementFee, uint64 rebalanceBounty)
    {
        Status memory s = status;
        return (
            uint64(s.mintFeePips * FEE_PIP),
            uint64(s.redeemFeePips * FEE_PIP),
            s.managementFee,
            admin.rebalanceBounty
        );
    }

    /// @notice Where fees go.
    function treasury() external view returns (address) {
        return admin.treasury;
    }

    /// @notice When a scheduled delisting settles (0 when none is scheduled).
    function delistingTime() external view returns (uint256) {
        return admin.delistingTime;
    }

    /// @notice The most shares that may exist.
    function supplyCap() external view returns (uint256) {
        return maxSupply;
    }

    /// @inheritdoc IERC20
    /// @dev Includes the fee shares not yet minted to the treasury.
    function totalSupply() public view override(ERC20, IERC20) returns (uint256) {
        return ERC20.totalSupply() + status.pendingFeeShares;
    }

    /// @inheritdoc IERC20
    /// @dev The treasury's balance includes the fee shares not yet minted to it.
    function balanceOf(address account) public view override(ERC20, IERC20) returns (uint256) {
        uint256 balance = ERC20.balanceOf(account);
        return account == admin.treasury ? balance + status.pendingFeeShares : balance;
    }

    /// @inheritdoc ILeveragedToken
    function bookNow() external view returns (uint256 supply, uint256 equity) {
        Status memory s = status;
        Book memory b = _bookNow(s);
        _restore(b, s.lastRebalance);
        return (b.supply, b.equity > 0 ? uint256(b.equity) : 0);
    }

    /// @inheritdoc ILeveragedToken
    /// @dev At the last price the feed pushed, fresh or not: it never reverts.
    function leverage() external view returns (uint256) {
        (int256 size, int256 equity, uint256 price, ) = vault.lastSnapshot(market, address(this));
        return _leverage(size, equity, price);
    }

    /// @inheritdoc IERC4626
    /// @dev The token's equity on the exchange, floored at zero; once settled, the frozen USDT left
    /// for the remaining holders. USDT sent to this contract is never counted. At the last price the
    /// feed pushed, even when it is stale (ERC-4626: it must not revert); so are nav and convertTo*.
    function totalAssets() public view override(ERC4626, IERC4626) returns (uint256) {
        State st = status.state;
        if (st == State.Settled) return _settledAssetsOf(totalSupply());
        if (st == State.Depleted) return 0;
        (, int256 equity, , ) = vault.lastSnapshot(market, address(this));
        return equity > 0 ? uint256(equity) : 0;
    }

    /// @inheritdoc IERC4626
    function convertToShares(uint256 assets) public view override(ERC4626, IERC4626) returns (uint256) {
        uint256 supply = _supplyNow();
        uint256 equity = totalAssets();
        if (supply == 0 || equity == 0) return assets * TokenMath.INITIAL_SHARES_PER_UNIT;
        return TokenMath.toSharesDown(assets, supply, equity);
    }

    /// @inheritdoc IERC4626
    function convertToAssets(uint256 shares) public view override(ERC4626, IERC4626) returns (uint256) {
        if (status.state == State.Settled) return _settledAssetsOf(shares);
        uint256 supply = _supplyNow();
        if (supply == 0) return shares / TokenMath.INITIAL_SHARES_PER_UNIT;
        return TokenMath.toAssetsDown(shares, totalAssets(), supply);
    }

    /// @inheritdoc IERC4626
    function previewDeposit(uint256 assets) public view override(ERC4626, IERC4626) returns (uint256 shares) {
        (, shares, ) = _quoteDeposit(_liveBookNow(), assets);
    }

    /// @inheritdoc IERC4626
    /// @dev Reverts as `mint` does.
    function previewMint(uint256) public view override(ERC4626, IERC4626) returns (uint256) {
        _useTheDesk();
        return 0;
    }

    /// @inheritdoc IERC4626
    function previewRedeem(uint256 shares) public view override(ERC4626, IERC4626) returns (uint256 assets) {
        if (status.state == State.Settled) return _settledAssetsOf(shares);
        (, assets, ) = _quoteRedeem(_liveBookNow(), shares);
    }

    /// @inheritdoc IERC4626
    /// @dev Settled only, as `withdraw`.
    function previewWithdraw(uint256 assets) public view override(ERC4626, IERC4626) returns (uint256) {
        if (status.state != State.Settled) revert UseTheDesk(desk);
        return _settledSharesFor(assets);
    }

    /// @inheritdoc IERC4626
    /// @dev 0 while minting is closed (paused, not Active, depleted, a stale price); otherwise the
    /// most the exchange's packed position fields can take, and under the supply cap if one is set.
    function maxDeposit(address) public view override(ERC4626, IERC4626) returns (uint256) {
        (bool open, uint256 room) = _mintRoom();
        if (!open) return 0;
        Book memory b = _liveBookNow();
        return _maxDepositIn(b, room, _depositCapacity(b));
    }

    /// @inheritdoc IERC4626
    /// @dev 0: shares are never minted by amount (`mint` reverts).
    function maxMint(address) public pure override(ERC4626, IERC4626) returns (uint256) {
        return 0;
    }

    /// @inheritdoc ERC4626
    /// @dev Shares have 18 decimals over USDT's 6.
    function _decimalsOffset() internal pure override returns (uint8) {
        return 12;
    }

    /// @inheritdoc IERC4626
    function maxRedeem(address owner) public view override(ERC4626, IERC4626) returns (uint256) {
        return _redeemOpen() ? balanceOf(owner) : 0;
    }

    /// @inheritdoc IERC4626
    /// @dev Settled only, as `withdraw`: the frozen USDT of the owner's shares.
    function maxWithdraw(address owner) public view override(ERC4626, IERC4626) returns (uint256) {
        return status.state == State.Settled ? _settledAssetsOf(balanceOf(owner)) : 0;
    }

    /// @inheritdoc ERC4626
    function decimals() public view override(ERC20, ERC4626, IERC20Metadata) returns (uint8) {
        return ERC4626.decimals();
    }

    /* QUOTES: one code path for previews and execution */

    /// @dev Supply with the management fee accrued to this second (a view of what `_accrue` does).
    function _supplyNow() internal view returns (uint256) {
        Status memory s = status;
        return _supplyAfterAccrual(s, s.managementFee);
    }

    function _supplyAfterAccrual(Status memory s, uint256 managementFee) internal view returns (uint256 supply) {
        supply = ERC20.totalSupply() + s.pendingFeeShares;
        if (_feeAccrues(s, supply)) {
            supply += TokenMath.managementFeeSharesDown(supply, managementFee, block.timestamp - s.lastFeeAccrual);
        }
    }

    /// @dev Accrues the management fee into `s` (memory; the caller writes it back once) and reads
    /// the exchange once: every quote below is arithmetic on the book.
    function _book(Status memory s) internal returns (Book memory b) {
        (b.supply, b.managementFeeShares) = _accrue(s);
        _readExchange(b);
    }

    /// @dev The book a preview sees: the same as `_book` would build in this block.
    function _bookNow(Status memory s) internal view returns (Book memory b) {
        b.supply = _supplyAfterAccrual(s, s.managementFee);
        _readExchange(b);
    }

    /// @dev The mint and redeem fees, for the books mints and redeems price against.
    function _readFees(Book memory b, Status memory s) internal pure {
        (b.mintFee, b.redeemFee) = (s.mintFeePips * FEE_PIP, s.redeemFeePips * FEE_PIP);
    }

    function _readExchange(Book memory b) internal view {
        IPerpVault.TradingSnapshot memory t = vault.tradingSnapshot(market, address(this));
        (b.size, b.equity, b.price, b.takerFee, b.priceImpact) = (t.size, t.equity, t.price, t.takerFee, t.priceImpact);
    }

    /// @dev Shares a deposit of `assets` mints for the receiver (0 when too small to mint one), the
    /// mint fee in shares for the treasury, and the trade it makes: all of `assets` becomes margin,
    /// the position grows by size x assets / equity (at target leverage on the first mint), and the
    /// shares price the equity the deposit really adds, after its own trading cost. The fee is
    /// that many shares times the mint fee, rounded up; the receiver gets the rest.
    function _quoteDeposit(
        Book memory b,
        uint256 assets
    ) internal view returns (Quote memory q, uint256 shares, uint256 feeShares) {
        int256 sizeDelta =
            b.supply == 0
                ? _signed(TokenMath.targetSizeDown(assets, targetLeverage, b.price))
                : _scaleSize(b.size, assets, uint256(b.equity));
        q = _quoteTrade(b, sizeDelta);
        q.equityAfter += int256(assets);
        int256 added = q.equityAfter - b.equity;
        if (added <= 0) return (q, 0, 0);
        uint256 total;
        if (b.supply != 0) {
            total = TokenMath.toSharesDown(uint256(added), b.supply, uint256(b.equity));
        } else {
            total = uint256(added) * TokenMath.INITIAL_SHARES_PER_UNIT;
            total = total > MINIMUM_SHARES ? total - MINIMUM_SHARES : 0;
        }
        feeShares = TokenMath.feeUp(total, b.mintFee);
        shares = total - feeShares;
    }

    /// @dev The receiver's and the treasury's shares a deposit of `assets` mints.
    function _allSharesForDeposit(Book memory b, uint256 assets) internal view returns (uint256) {
        (, uint256 shares, uint256 feeShares) = _quoteDeposit(b, assets);
        return shares + feeShares;
    }

    /// @dev The largest deposit up to `limit` whose shares, the treasury's fee shares included, fit in
    /// `room`: one less than the least deposit that mints more. The search never goes past `limit`
    /// (the exchange's capacity), so its trade costs never overflow.
    function _maxDepositIn(Book memory b, uint256 room, uint256 limit) internal view returns (uint256) {
        if (room == type(uint256).max || _allSharesForDeposit(b, limit) <= room) return limit;
        (, uint256 over) = _leastInput(b, room + 1, _mintGuess(b, room + 1), limit, _allSharesForDeposit);
        return over - 1;
    }

    /// @dev The largest deposit the exchange's packed position fields can take: its margin, and the
    /// size and open cost of the trade it makes (size x assets / equity, target size on a first mint),
    /// less 0.01% (hours of funding and fees moving equity between a read and a send) and two units.
    function _depositCapacity(Book memory b) internal view returns (uint256) {
        (uint256 marginRoom, uint256 costRoom, uint256 sizeRoom) = vault.capacity(market, address(this));
        uint256 sizeLimit = Math.min(sizeRoom, MathLib.mulDivDown(costRoom, PerpMath.SIZE_PRICE_TO_USDT, b.price));
        sizeLimit -= sizeLimit / 10_000;
        if (sizeLimit < 2 || marginRoom == 0) return 0;
        uint256 assets =
            b.supply == 0 || b.size == 0
                ? MathLib.mulDivDown(
                    sizeLimit - 2,
                    b.price * PerpMath.WAD,
                    targetLeverage * PerpMath.SIZE_PRICE_TO_USDT
                )
                : MathLib.mulDivDown(sizeLimit - 2, uint256(b.equity), PerpMath.abs(b.size));
        return Math.min(assets, marginRoom);
    }

    /// @dev An underestimate of the USDT that mints `shares`, where a search starts.
    function _mintGuess(Book memory b, uint256 shares) internal pure returns (uint256) {
        return
            b.supply == 0
                ? (shares + MINIMUM_SHARES) / TokenMath.INITIAL_SHARES_PER_UNIT
                : MathLib.mulDivDown(shares, uint256(b.equity), b.supply);
    }

    /// @dev USDT a redemption of `shares` pays (after its trading cost), and the redeem fee in shares:
    /// the fee (shares x redeem fee, rounded up) goes to the treasury, the rest is burnt and releases
    /// what the exchange equity holds after their slice is closed, less what the remaining holders
    /// keep (their pro-rata equity before, rounded up).
    function _quoteRedeem(
        Book memory b,
        uint256 shares
    ) internal pure returns (Quote memory q, uint256 assets, uint256 feeShares) {
        if (shares > b.supply) revert ExceedsBalance(shares, b.supply);
        feeShares = TokenMath.feeUp(shares, b.redeemFee);
        uint256 burnt = shares - feeShares;
        q = _quoteTrade(b, -_scaleSize(b.size, burnt, b.supply));
        int256 released = q.equityAfter - int256(TokenMath.toAssetsUp(b.supply - burnt, uint256(b.equity), b.supply));
        if (released > 0) assets = uint256(released);
    }

    /// @dev The exchange equity after trading `sizeDelta` now: the equity less the trading cost, plus
    /// the exact rounding of the trade (PerpMath.tradeRoundingDown).
    function _quoteTrade(Book memory b, int256 sizeDelta) internal pure returns (Quote memory q) {
        q = Quote(b.supply, b.price, sizeDelta, 0, b.equity);
        if (sizeDelta == 0) return q;
        (uint256 fee, uint256 impactCost) = PerpMath.tradeCostUp(
            sizeDelta.notionalUp(b.price),
            b.takerFee,
            b.priceImpact
        );
        q.cost = fee + impactCost;
        q.equityAfter = b.equity - int256(q.cost) + PerpMath.tradeRoundingDown(b.size, sizeDelta, b.price);
    }

    /// @dev The least input whose `output` reaches `target`, for an output that grows with its
    /// input about linearly: steps up from `guess` (an underestimate) by the observed rate, then
    /// bisects between the last miss and the first hit. Reverts ZeroAmount if it cannot be reached.
    function _leastInput(
        Book memory b,
        uint256 target,
        uint256 guess,
        uint256 limit,
        function(Book memory, uint256) internal view returns (uint256) output
    ) internal view returns (uint256 lo, uint256 hi) {
        hi = Math.min(guess, limit);
        for (uint256 i = 0; ; ++i) {
            uint256 got = hi == 0 ? 0 : output(b, hi);
            if (got >= target) break;
            if (hi == limit || i == 64) revert AmountUnreachable(target, limit);
            lo = hi;
            hi = Math.min(got == 0 ? hi * 2 + 1 : hi + MathLib.mulDivDown(target - got, hi, got) + 1, limit);
        }
        while (hi - lo > 1) {
            uint256 mid = lo + (hi - lo) / 2;
            if (output(b, mid) >= target) hi = mid;
            else lo = mid;
        }
    }

    /// @dev A book to price a mint or a redeem against: the token must have equity left. When a
    /// rebalance is due (past the ripcord, out of the band, the daily check, or no position left while
    /// the token has holders: a liquidation closed it), the book is first moved to after the trade
    /// back to target, priced at its own cost as `rebalance()` would (no bounty) and announced; the
    /// trade itself goes with the mint's or redeem's (`_tradeAfterRestore`). So the exchange's margin
    /// rules never block an entry or an exit (a mint or a redeem at 10x would otherwise break the
    /// exchange's initial margin), nobody mints a token with no exposure, and a fill brings the token
    /// back to target in the trade it makes anyway. (A trade that would cost all the equity left is
    /// not made; the call goes on as it would have.)
    function _liveBook(Status memory s) internal returns (Book memory b) {
        b = _book(s);
        _readFees(b, s);
        if (b.supply != 0 && b.equity <= 0) revert TokenDepleted();
        (uint8 reason, uint256 before) = _restore(b, s.lastRebalance);
        if (reason == REASON_NONE) return b;
        s.lastRebalance = uint32(block.timestamp);
        int256 delta = b.restoreDelta;
        // the trade's cost, from the equity it left: equity after = before - cost + the trade's rounding
        uint256 cost = uint256(b.equityBefore - b.equity + PerpMath.tradeRoundingDown(b.size - delta, delta, b.price));
        emit Rebalanced(msg.sender, reason, before, _leverage(b.size, b.equity, b.price), delta, b.price, cost, 0, 0);
    }

    /// @dev The book `_liveBook` leaves, as a view: what previews price against.
    function _liveBookNow() internal view returns (Book memory b) {
        Status memory s = status;
        b = _bookNow(s);
        _readFees(b, s);
        if (b.supply != 0 && b.equity <= 0) revert TokenDepleted();
        _restore(b, s.lastRebalance);
    }

    /// @dev Moves `b` to after the rebalance to target a mint or a redeem on it runs first when one
    /// is due, keeping what it was (`restoreDelta`, `equityBefore`); returns why (REASON_NONE when no
    /// trade is made: none is due, the equity is gone, or it would cost all the equity left), the
    /// leverage judged.
    function _restore(Book memory b, uint256 lastRebalanceTime) internal view returns (uint8 reason, uint256 before) {
        (reason, before) = _rebalanceReason(b.size, b.equity, b.price, lastRebalanceTime, b.supply != 0);
        if (reason == REASON_NONE || reason == REASON_DEPLETED) return (REASON_NONE, before);
        int256 target = _signed(TokenMath.targetSizeDown(uint256(b.equity), targetLeverage, b.price));
        Quote memory q = _quoteTrade(b, target - b.size);
        if (q.sizeDelta == 0 || q.equityAfter <= 0) return (REASON_NONE, before);
        (b.restoreDelta, b.equityBefore) = (q.sizeDelta, b.equity);
        (b.size, b.equity) = (target, q.equityAfter);
    }

    /* INTERNAL: execution */

    function _mintAndTrade(
        Status memory s,
        Book memory b,
        Quote memory q,
        address receiver,
        uint256 assets,
        uint256 shares,
        uint256 feeShares
    ) internal {
        uint256 cap = s.supplyCapped ? maxSupply : NO_CAP;
        uint256 supplyAfter = q.supply + shares + feeShares + (q.supply == 0 ? MINIMUM_SHARES : 0);
        if (supplyAfter > cap) revert SupplyCapExceeded(supplyAfter, cap);
        _addPendingFeeShares(s, feeShares);
        _writeStatus(s);
        if (q.supply == 0) _mint(DEAD, MINIMUM_SHARES);
        _mint(receiver, shares);
        emit Deposit(msg.sender, receiver, assets, shares);
        emit PositionResized(q.sizeDelta, q.price, q.cost, feeShares, b.managementFeeShares);
        // the exchange asks for the USDT in payMargin, inside the trade, and credits what arrives
        marginPayer = msg.sender;
        _tradeAfterRestore(b, q, int256(assets), address(0), q.equityAfter);
        marginPayer = address(0);
    }

    /// @inheritdoc IMarginPayer
    /// @dev Only the exchange, only inside a mint's own trade: the minter pays its deposit.
    function payMargin(uint256 amount) external {
        address payer = marginPayer;
        if (msg.sender != address(vault) || payer == address(0)) revert UnexpectedMarginCall(msg.sender);
        usdt.safeTransferFrom(payer, msg.sender, amount);
    }

    function _burnAndTrade(
        Status memory s,
        Book memory b,
        Quote memory q,
        address owner,
        address receiver,
        uint256 shares,
        uint256 assets,
        uint256 feeShares
    ) internal {
        if (msg.sender != owner) _spendAllowance(owner, msg.sender, shares);
        _requireBalance(owner, shares);
        _addPendingFeeShares(s, feeShares);
        _writeStatus(s);
        _burn(owner, shares);
        emit Withdraw(msg.sender, receiver, owner, assets, shares);
        emit PositionResized(q.sizeDelta, q.price, q.cost, feeShares, b.managementFeeShares);
        if (b.restoreDelta == 0) _trade(q.sizeDelta, -int256(assets), receiver, q.equityAfter - int256(assets));
        else _tradeAfterRestore(b, q, -int256(assets), receiver, q.equityAfter - int256(assets));
    }

    /// @dev The trade of a mint or a redeem (`q`, priced on `b` after its restore), with the restore
    /// `_liveBook` priced but did not send: one exchange trade for both when that leaves the token at
    /// least the equity the two apart would (the saving, if any, stays with the holders:
    /// TradesJoined), else the restore and then the trade.
    function _tradeAfterRestore(
        Book memory b,
        Quote memory q,
        int256 marginDelta,
        address to,
        int256 expectedEquity
    ) internal {
        int256 restore = b.restoreDelta;
        if (restore != 0) {
            (int256 restoredEquity, int256 restoredSize) = (b.equity, b.size);
            (b.size, b.equity) = (restoredSize - restore, b.equityBefore);
            Quote memory joined = _quoteTrade(b, restore + q.sizeDelta);
            (b.size, b.equity) = (restoredSize, restoredEquity);
            // the equity the joined trade leaves against what the two apart would
            int256 saved = joined.equityAfter + marginDelta - expectedEquity;
            if (saved >= 0) {
                emit TradesJoined(joined.sizeDelta, joined.cost, uint256(saved));
                _trade(joined.sizeDelta, marginDelta, to, expectedEquity + saved);
                return;
            }
            _trade(restore, 0, address(0), restoredEquity);
        }
        _trade(q.sizeDelta, marginDelta, to, expectedEquity);
    }

    /// @dev One exchange call; reverts if the exchange's equity differs from the quote, so no
    /// preview can ever disagree with what happened.
    function _trade(int256 sizeDelta, int256 marginDelta, address to, int256 expectedEquity) internal {
        IPerpVault.TradeResult memory r = vault.trade(market, sizeDelta, marginDelta, to);
        if (r.equity != expectedEquity) revert ExchangeMismatch(expectedEquity, r.equity);
    }

    function _rebalance() internal {
        Status memory s = status;
        if (s.state != State.Active && s.state != State.Delisting) revert InvalidState(s.state);
        Book memory b = _book(s);
        (uint8 reason, uint256 before) = _rebalanceReason(b.size, b.equity, b.price, s.lastRebalance, b.supply != 0);
        if (reason == REASON_NONE) revert RebalanceNotNeeded(before);
        bool keeper = hasRole(KEEPER_ROLE, msg.sender);
        if (!keeper && reason < REASON_RIPCORD) revert AccessControlUnauthorizedAccount(msg.sender, KEEPER_ROLE);
        int256 target;
        Quote memory q;
        if (reason != REASON_DEPLETED) {
            target = _signed(TokenMath.targetSizeDown(uint256(b.equity), targetLeverage, b.price));
            q = _quoteTrade(b, target - b.size);
        }
        // equity gone, or too little left to pay for the trade back to target: depleted
        if (reason == REASON_DEPLETED || q.equityAfter <= 0) {
            s.state = State.Depleted;
            _writeStatus(s);
            emit Depleted(b.equity, b.price);
            _closeAll(b.size);
            return;
        }
        // the ripcord bounty, at most 1% of the equity left, so paying it barely moves leverage; none
        // when the trade's cost leaves the token at or past the exchange's 10x (paying out margin there
        // would break its initial margin and revert the rebalance)
        uint256 bounty = keeper ? 0 : Math.min(admin.rebalanceBounty, uint256(q.equityAfter) / 100);
        if (bounty != 0 && _leverage(target, q.equityAfter - int256(bounty), b.price) >= vault.maxLeverage()) {
            bounty = 0;
        }
        s.lastRebalance = uint32(block.timestamp);
        _writeStatus(s);
        emit Rebalanced(
            msg.sender,
            reason,
            before,
            _leverage(target, q.equityAfter - int256(bounty), b.price),
            q.sizeDelta,
            b.price,
            q.cost,
            bounty,
            b.managementFeeShares
        );
        _trade(q.sizeDelta, -int256(bounty), msg.sender, q.equityAfter - int256(bounty));
    }

    /// @dev Equity is gone: close what is left of the position (the exchange's pool bears the loss
    /// beyond the margin).
    function _closeAll(int256 size) internal {
        if (size != 0) vault.trade(market, -size, 0, address(0));
    }

    /// @dev Why a rebalance is due (REASON_*), and the leverage it was judged at (`_leverage`). A
    /// token with holders and equity but no position (the exchange liquidated all of it) reopens.
    function _rebalanceReason(
        int256 size,
        int256 equity,
        uint256 price,
        uint256 lastRebalanceTime,
        bool held
    ) internal view returns (uint8, uint256 lev) {
        lev = _leverage(size, equity, price);
        if (size == 0) return (held && equity > 0 ? REASON_REOPEN : REASON_NONE, lev);
        if (equity <= 0) return (REASON_DEPLETED, lev);
        if (lev >= ripcordLeverage) return (REASON_RIPCORD, lev);
        if (lev > maxLeverage || lev < minLeverage) return (REASON_BAND, lev);
        // the daily check, once a day (every mint and redeem asks: the date first, it is cheaper)
        if (lastRebalanceTime >= block.timestamp - (block.timestamp % 1 days)) return (REASON_NONE, lev);
        uint256 off = lev > targetLeverage ? lev - targetLeverage : targetLeverage - lev;
        return (off > rebalanceEpsilon ? REASON_DAILY : REASON_NONE, lev);
    }

    function _leverage(int256 size, int256 equity, uint256 price) internal pure returns (uint256) {
        if (size == 0) return 0;
        if (equity <= 0) return type(uint256).max;
        return TokenMath.leverageDown(size.notionalUp(price), uint256(equity));
    }

    /// @dev Adds the management fee shares due since the last accrual to the pending fee shares in
    /// `s` (memory: the caller writes `s` back once); returns the supply they are part of and how
    /// many there were (the caller's event reports them).
    function _accrue(Status memory s) internal returns (uint256 supply, uint256 feeShares) {
        supply = ERC20.totalSupply() + s.pendingFeeShares;
        if (s.lastFeeAccrual == block.timestamp) return (supply, 0);
        if (_feeAccrues(s, supply)) {
            feeShares = TokenMath.managementFeeSharesDown(supply, s.managementFee, block.timestamp - s.lastFeeAccrual);
            if (feeShares != 0) {
                _addPendingFeeShares(s, feeShares);
                supply += feeShares;
            }
        }
        s.lastFeeAccrual = uint32(block.timestamp);
    }

    /// @dev `_accrue` for the entry points that have no event of their own: emits ManagementFeeAccrued.
    function _accrueReported(Status memory s) internal returns (uint256 supply) {
        uint256 elapsed = block.timestamp - s.lastFeeAccrual;
        uint256 feeShares;
        (supply, feeShares) = _accrue(s);
        if (feeShares != 0) emit ManagementFeeAccrued(feeShares, elapsed);
    }

    /// @dev Accrues the management fee and mints every pending fee share to the treasury.
    function _accrueAndClaimFees() internal {
        Status memory s = status;
        _accrueReported(s);
        _writeStatus(s);
        _claimFees();
    }

    /// @dev Mints the pending fee shares to the treasury (they are already in the supply).
    function _claimFees() internal {
        uint256 pending = status.pendingFeeShares;
        if (pending == 0) return;
        status.pendingFeeShares = 0;
        super._update(address(0), admin.treasury, pending);
    }

    /// @dev Writes `s` with one SSTORE (Solidity would write a memory struct member by member).
    /// The layout is Solidity's own for `Status`: members packed from the lowest-order bits up.
    function _writeStatus(Status memory s) internal {
        uint256 word =
            uint256(s.lastFeeAccrual) |
                (uint256(s.lastRebalance) << 32) |
                (uint256(uint8(s.state)) << 64) |
                (s.mintPaused ? uint256(1) << 72 : 0) |
                (s.supplyCapped ? uint256(1) << 80 : 0) |
                (uint256(s.pendingFeeShares) << 88) |
                (uint256(s.managementFee) << 168) |
                (uint256(s.mintFeePips) << 224) |
                (uint256(s.redeemFeePips) << 240);
        // solhint-disable-next-line no-inline-assembly
        assembly ("memory-safe") {
            sstore(status.slot, word)
        }
    }

    /// @dev Adds fee shares to the pending ones in `s`; in the unlikely case they would not fit in
    /// 80 bits (1.2 million tokens), they are all minted to the treasury at once instead.
    function _addPendingFeeShares(Status memory s, uint256 feeShares) internal {
        uint256 pending = s.pendingFeeShares + feeShares;
        if (pending > type(uint80).max) {
            super._update(address(0), admin.treasury, pending);
            pending = 0;
        }
        s.pendingFeeShares = uint80(pending);
    }

    /// @dev The treasury's pending fee shares are minted to it before it spends more than it holds;
    /// every entry point writes its status before it moves shares, so this reads the latest.
    function _update(address from, address to, uint256 value) internal override(ERC20) {
        if (from != address(0) && value > ERC20.balanceOf(from) && from == admin.treasury) _claimFees();
        super._update(from, to, value);
    }

    /// @dev Reverts ExceedsBalance unless `owner` holds `shares` (pending fee shares included).
    function _requireBalance(address owner, uint256 shares) internal view {
        if (shares > ERC20.balanceOf(owner)) {
            uint256 balance = balanceOf(owner);
            if (shares > balance) revert ExceedsBalance(shares, balance);
        }
    }

    function _feeAccrues(Status memory s, uint256 supply) internal pure returns (bool) {
        return supply != 0 && (s.state == State.Active || s.state == State.Delisting);
    }

    function _requireMintable() internal view returns (Status memory s) {
        _requireDesk();
        s = status;
        if (s.state == State.Depleted) revert TokenDepleted();
        if (s.state != State.Active) revert InvalidState(s.state);
        if (s.mintPaused) revert MintPaused();
    }

    function _requireRedeemable(Status memory s) internal view {
        _requireDesk();
        if (s.state == State.Depleted) revert TokenDepleted();
        if (s.state != State.Active && s.state != State.Delisting) revert InvalidState(s.state);
    }

    /// @dev Reverts UseTheDesk. `desk` is never zero (the constructor checks); the test only keeps
    /// solc from reporting ERC4626's own `mint`, which calls `previewMint`, as unreachable code.
    function _useTheDesk() internal view {
        address only = desk;
        if (only != address(0)) revert UseTheDesk(only);
    }

    /// @dev Mints, and redeems at a live price, come from the desk.
    function _requireDesk() internal view {
        if (msg.sender != desk) revert OnlyDesk(msg.sender, desk);
    }

    function _mintRoom() internal view returns (bool open, uint256 room) {
        Status memory s = status;
        if (s.state != State.Active || s.mintPaused) return (false, 0);
        uint256 supply = _supplyNow();
        (, int256 equity, , bool fresh) = vault.lastSnapshot(market, address(this));
        if (!fresh || (supply != 0 && equity <= 0)) return (false, 0);
        uint256 cap = s.supplyCapped ? maxSupply : NO_CAP;
        uint256 reserve = supply == 0 ? MINIMUM_SHARES : 0;
        if (supply + reserve >= cap) return (false, 0);
        room = cap == NO_CAP ? type(uint256).max : cap - supply - reserve;
        open = true;
    }

    function _redeemOpen() internal view returns (bool) {
        State st = status.state;
        if (st == State.Settled) return true;
        if (st != State.Active && st != State.Delisting) return false;
        (, int256 equity, , bool fresh) = vault.lastSnapshot(market, address(this));
        return fresh && equity > 0;
    }

    function _settledAssetsOf(uint256 shares) internal view returns (uint256) {
        uint256 supply = settledSupply;
        return supply == 0 ? 0 : TokenMath.toAssetsDown(shares, settledAssets, supply);
    }

    function _settledSharesFor(uint256 assets) internal view returns (uint256) {
        if (assets == 0) revert ZeroAmount();
        uint256 held = settledAssets;
        if (held == 0) revert AmountUnreachable(assets, 0);
        return MathLib.mulDivUp(assets, settledSupply, held);
    }

    function _payFromSettlement(address owner, address receiver, uint256 shares, uint256 assets) internal {
        if (shares == 0) revert ZeroAmount();
        if (msg.sender != owner) _spendAllowance(owner, msg.sender, shares);
        _requireBalance(owner, shares);
        _burn(owner, shares);
        emit Withdraw(msg.sender, receiver, owner, assets, shares);
        if (assets != 0) usdt.safeTransfer(receiver, assets);
    }

    /// @dev `size` x `numerator` / `denominator`, rounded toward zero (a slice never exceeds its share).
    function _scaleSize(int256 size, uint256 numerator, uint256 denominator) internal pure returns (int256) {
        uint256 scaled = MathLib.mulDivDown(PerpMath.abs(size), numerator, denominator);
        return size >= 0 ? int256(scaled) : -int256(scaled);
    }

    function _signed(uint256 size) internal view returns (int256) {
        return isLong ? int256(size) : -int256(size);
    }

    function _setFees(uint64 mintFee, uint64 redeemFee, uint64 managementFee, uint64 rebalanceBounty) internal {
        if (mintFee > MAX_MINT_FEE || mintFee % FEE_PIP != 0) revert InvalidParameter("mintFee", mintFee);
        if (redeemFee > MAX_REDEEM_FEE || redeemFee % FEE_PIP != 0) revert InvalidParameter("redeemFee", redeemFee);
        if (managementFee > MAX_MANAGEMENT_FEE) revert InvalidParameter("managementFee", managementFee);
        if (rebalanceBounty > MAX_BOUNTY) revert InvalidParameter("rebalanceBounty", rebalanceBounty);
        Status memory s = status;
        (s.mintFeePips, s.redeemFeePips) = (uint16(mintFee / FEE_PIP), uint16(redeemFee / FEE_PIP));
        s.managementFee = uint56(managementFee);
        _writeStatus(s);
        admin.rebalanceBounty = uint56(rebalanceBounty);
        emit FeesSet(mintFee, redeemFee, managementFee, rebalanceBounty);
    }
}
