// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {AggregatorV3Interface} from "@chainlink/contracts/src/v0.8/shared/interfaces/AggregatorV3Interface.sol";
import {AccessControl} from "@openzeppelin/contracts/access/AccessControl.sol";
import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {SafeERC20} from "@openzeppelin/contracts/token/ERC20/utils/SafeERC20.sol";
import {Math} from "@openzeppelin/contracts/utils/math/Math.sol";
import {SafeCast} from "@openzeppelin/contracts/utils/math/SafeCast.sol";
import {ReentrancyGuardTransient} from "@openzeppelin/contracts/utils/ReentrancyGuardTransient.sol";

import {IMarginPayer} from "../interfaces/IMarginPayer.sol";
import {IPerpVault} from "../interfaces/IPerpVault.sol";
import {IPriceListener, IPricePusher} from "../interfaces/IPriceListener.sol";
import {MathLib} from "../libraries/MathLib.sol";
import {PerpMath} from "../libraries/PerpMath.sol";

/// @title MockPerpVault
/// @notice A small but honest USDT-margined perpetual futures exchange (see IPerpVault).
/// @dev Solvency: `accountedBalance` = sum of all margins + pool, and the contract's USDT balance is
/// never below it; USDT leaves only from a margin or the pool, never beyond what they hold.
/// Prices: each market's feed pushes every answer here (IPriceListener), into the slot every trade
/// reads anyway, so a trade calls no other contract for its price; the checks are Chainlink's, made
/// on every read as before.
contract MockPerpVault is IPerpVault, IPriceListener, AccessControl, ReentrancyGuardTransient {
    using SafeERC20 for IERC20;
    using SafeCast for uint256;
    using SafeCast for int256;
    using PerpMath for int256;

    /* STORAGE */

    struct Market {
        // slot 0: read by every trade, written when the feed pushes an answer (and by the admin)
        int64 answer; // the feed's latest answer (8 decimals), as pushed by the feed
        uint40 updatedAt; // when the feed published it
        uint24 heartbeat; // seconds an answer stays fresh; never 0 for a listed market
        uint32 priceImpact; // in IMPACT_UNIT: WAD fraction per 1,000,000 USDT of notional / 1e9
        int40 fundingRate; // in RATE_UNIT: WAD per 8 hours / 1e6, longs pay shorts when positive
        int56 fundingIndex; // cumulative funding per 1e18 size (PerpMath.FUNDING_SCALE) at `updatedAt`
        // slot 1: read and written by every trade
        OpenInterest openInterest;
        // slot 2: read when the feed pushes an answer
        AggregatorV3Interface feed;
    }

    /// @dev Each side's positions summed, so the pool can be priced net of what they owe it and
    /// keep back what they are owed (PerpMath.sideSize). Each position counts `sideSize(size)` units of
    /// OPEN_INTEREST_UNIT and `openCost + fundingOwedUp(size, storedIndex - its index)` USDT: the
    /// funding it owes up to the market's stored index; every stored-index move adds the side's share.
    struct OpenInterest {
        uint64 longSize; // in OPEN_INTEREST_UNIT, each long rounded up
        int64 longCost; // USDT
        uint64 shortSize; // in OPEN_INTEREST_UNIT, each short's magnitude rounded down
        int64 shortCost; // USDT (a short's open cost is negative)
    }

    /// @dev A position as the code works on it, in memory. Room: a size of 1.7e20 units of the
    /// underlying and an open cost of 1.7e32 USDT (128 bits each: more than the exchange-wide sums of
    /// OpenInterest, 64 bits, can ever count), a margin of 18 trillion USDT (64 bits, as `accounted`,
    /// which sums every margin), and the funding index in the 56 bits of the market's own. So no
    /// position outgrows its fields before the exchange's sums do (`capacity` says how far they are).
    /// Stored in one slot, `PositionSlots.packed`, while it fits the narrow layout (size 88 bits: 150
    /// million units; open cost 56 bits: 36 billion USDT; margin 56 bits: 72 billion USDT); past any of
    /// them the open cost's bits hold WIDE and size and open cost move to the second slot (`_writePosition`).
    struct Position {
        int256 size; // 18 decimals, + long; stored in 128 bits
        int256 openCost; // USDT paid to open `size`, signed like it; stored in 128 bits
        int256 fundingIndex; // market index at the last settlement; stored in 56 bits
        uint256 margin; // USDT; stored in 64 bits
    }

    /// @dev What a position keeps in storage: one slot read and written by every trade, and a second
    /// one read and written only by a position past the narrow layout (`_readPosition`).
    struct PositionSlots {
        // narrow: size int88 | open cost int56 << 88 | funding index int56 << 144 | margin uint56 << 200
        // wide: margin uint64 | WIDE << 88 | funding index int56 << 144
        uint256 packed;
        // wide only: size int128 | open cost int128 << 128 (stale, and not read, while narrow)
        uint256 wide;
    }

    /// @dev One slot, read and written by every trade: the pool's USDT, the USDT owed in all, and the
    /// two parameters every trade reads. 64 bits hold 18 trillion USDT; margins fit too, as their sum
    /// is part of `accounted`.
    struct Balances {
        uint64 pool; // USDT of the liquidity pool
        uint64 accounted; // sum of margins + pool
        uint64 takerFee; // WAD, on notional
        uint64 initialMarginRatio; // WAD
    }

    /// @dev One slot, read only by liquidations.
    struct LiquidationParams {
        uint64 maintenanceMarginRatio; // WAD
        uint64 liquidationReward; // USDT, flat, paid to the liquidator out of the margin left
    }

    uint256 internal constant MAX_TAKER_FEE = 0.01e18; // 1%
    /// @dev A flat reward, as GMX v1's 5 USD: a fee on the notional would take half the equity
    /// left of a 53x account for closing it.
    uint256 internal constant MAX_LIQUIDATION_REWARD = 100e6;
    /// @dev The exchange always lets a position run at 10x (the initial margin ratio is at most
    /// 10%): every token's ripcord is at most that, so no margin setting can block a token's exit.
    uint256 internal constant MAX_INITIAL_MARGIN_RATIO = 0.1e18;
    /// @notice Pool shares locked at the first deposit (1 USDT's worth), as Uniswap V2's minimum
    /// liquidity: no later depositor's shares can be priced off a dust pool the first one inflated.
    uint256 public constant MINIMUM_LIQUIDITY = 1e6;
    address internal constant DEAD = address(0xdEaD);
    uint256 internal constant MAX_FUNDING_RATE = 0.01e18; // 1% per 8 hours
    uint256 internal constant MAX_PRICE_IMPACT = 1e18; // 100% per 1,000,000 USDT
    uint256 internal constant MIN_HEARTBEAT = 60;
    uint256 internal constant MAX_HEARTBEAT = 7 days;
    uint8 internal constant FEED_DECIMALS = 8;
    /// @dev Granularity of the stored price impact (WAD per 1,000,000 USDT) and funding rate (WAD
    /// per 8 h): they share the slot every trade reads with the price and the funding index.
    uint256 internal constant IMPACT_UNIT = 1e9;
    int256 internal constant RATE_UNIT = 1e6;
    /// @dev Liquidity actions price the pool over every market, so their number is bounded.
    uint256 internal constant MAX_MARKETS = 32;
    /// @dev Units held back per side in profit beyond its computed profit: a position's own close
    /// rounds its funding up and the side's sum rounds it down, one unit each way.
    uint256 internal constant RESERVE_ROUNDING = 2;
    /// @dev The open-cost bits of a packed position that say it is stored wide: int56's minimum,
    /// which a narrow position never stores (`_writePosition` keeps that open cost wide).
    uint256 internal constant WIDE = 1 << 55;

    IERC20 public immutable usdt;

    Balances internal balances;
    LiquidationParams internal liquidationParams;
    uint256 public totalLiquidityShares;
    mapping(address provider => uint256) public liquiditySharesOf;
    mapping(bytes32 market => Market) internal markets;
    bytes32[] internal marketIds;
    mapping(bytes32 market => mapping(address account => PositionSlots)) internal positions;

    constructor(IERC20 usdt_, address admin) {
        if (address(usdt_) == address(0) || admin == address(0)) revert ZeroAddress();
        usdt = usdt_;
        _grantRole(DEFAULT_ADMIN_ROLE, admin);
        (balances.takerFee, balances.initialMarginRatio) = (0.0005e18, 0.1e18); // 5 bps, 10x max leverage
        liquidationParams = LiquidationParams({maintenanceMarginRatio: 0.03e18, liquidationReward: 5e6});
        emit FeesSet(0.0005e18, 5e6);
        emit MarginRatiosSet(0.1e18, 0.03e18);
    }

    /* ADMIN */

    /// @notice Lists `market`, priced by `feed` (8 decimals), which must already push its answers here
    /// for `market` (MockPriceFeed.setListener); its latest answer is read once, here. Only admin.
    function addMarket(
        bytes32 market,
        AggregatorV3Interface feed,
        uint32 heartbeat,
        int64 fundingRate,
        uint64 priceImpact
    ) external onlyRole(DEFAULT_ADMIN_ROLE) {
        if (markets[market].heartbeat != 0) revert MarketExists(market);
        if (address(feed) == address(0)) revert ZeroAddress();
        if (feed.decimals() != FEED_DECIMALS) revert InvalidParameter("feedDecimals", int256(uint256(feed.decimals())));
        if (marketIds.length == MAX_MARKETS) revert InvalidParameter("markets", int256(MAX_MARKETS));
        _checkHeartbeat(heartbeat);
        _checkFundingRate(fundingRate);
        _checkPriceImpact(priceImpact);
        (bool pushes, bytes memory listening) = address(feed).staticcall(abi.encodeCall(IPricePusher.listening, ()));
        if (!pushes || listening.length != 64 || keccak256(listening) != keccak256(abi.encode(this, market))) {
            revert FeedNotPushing(market, address(feed));
        }
        (, int256 answer, , uint256 updatedAt, ) = feed.latestRoundData();
        Market storage m = markets[market];
        (m.heartbeat, m.priceImpact, m.fundingRate, m.feed) = (
            uint24(heartbeat),
            uint32(priceImpact / IMPACT_UNIT),
            int40(fundingRate / RATE_UNIT),
            feed
        );
        marketIds.push(market);
        _storeAnswer(m, market, answer, updatedAt);
        emit MarketAdded(market, address(feed), heartbeat, fundingRate, priceImpact);
    }

    /// @notice Sets the funding rate (WAD per 8 hours, a multiple of 1e6) from now on: the stored
    /// index moves by what the old rate charged since the last answer less what the new one would,
    /// so the index now is unchanged. Only admin.
    function setFundingRate(bytes32 market, int64 fundingRate) external onlyRole(DEFAULT_ADMIN_ROLE) nonReentrant {
        _checkFundingRate(fundingRate);
        Market storage m = _market(market);
        uint256 price = _price(m, market);
        uint256 elapsed = block.timestamp - m.updatedAt; // the answer is fresh, so not in the future
        int256 move =
            PerpMath.fundingIndexDelta(price, _rate(m), elapsed) -
                PerpMath.fundingIndexDelta(price, fundingRate, elapsed);
        _moveFundingIndex(m, move);
        m.fundingRate = int40(fundingRate / RATE_UNIT);
        emit FundingRateSet(market, fundingRate);
    }

    /// @notice Sets the linear price impact (WAD per 1,000,000 USDT of notional). Only admin.
    function setPriceImpact(bytes32 market, uint64 priceImpact) external onlyRole(DEFAULT_ADMIN_ROLE) {
        _checkPriceImpact(priceImpact);
        _market(market).priceImpact = uint32(priceImpact / IMPACT_UNIT);
        emit PriceImpactSet(market, priceImpact);
    }

    /// @notice Sets how long an oracle answer stays fresh. Only admin.
    function setHeartbeat(bytes32 market, uint32 heartbeat) external onlyRole(DEFAULT_ADMIN_ROLE) {
        _checkHeartbeat(heartbeat);
        _market(market).heartbeat = uint24(heartbeat);
        emit HeartbeatSet(market, heartbeat);
    }

    /// @notice Sets the taker fee (WAD, at most 1%) and the liquidator's flat reward (USDT, at most
    /// 100). Only admin.
    function setFees(uint64 takerFee, uint64 liquidationReward) external onlyRole(DEFAULT_ADMIN_ROLE) {
        if (takerFee > MAX_TAKER_FEE) revert InvalidParameter("takerFee", int256(uint256(takerFee)));
        if (liquidationReward > MAX_LIQUIDATION_REWARD) {
            revert InvalidParameter("liquidationReward", int256(uint256(liquidationReward)));
        }
        (balances.takerFee, liquidationParams.liquidationReward) = (takerFee, liquidationReward);
        emit FeesSet(takerFee, liquidationReward);
    }

    /// @notice Sets the margin ratios: 0 < maintenance < initial <= 10% (the exchange always allows
    /// 10x, so no setting can freeze a token's redeem). Only admin.
    function setMarginRatios(
        uint64 initialMarginRatio,
        uint64 maintenanceMarginRatio
    ) external onlyRole(DEFAULT_ADMIN_ROLE) {
        if (initialMarginRatio > MAX_INITIAL_MARGIN_RATIO) {
            revert InvalidParameter("initialMarginRatio", int256(uint256(initialMarginRatio)));
        }
        if (maintenanceMarginRatio == 0 || maintenanceMarginRatio >= initialMarginRatio) {
            revert InvalidParameter("maintenanceMarginRatio", int256(uint256(maintenanceMarginRatio)));
        }
        (balances.initialMarginRatio, liquidationParams.maintenanceMarginRatio) = (
            initialMarginRatio,
            maintenanceMarginRatio
        );
        emit MarginRatiosSet(initialMarginRatio, maintenanceMarginRatio);
    }

    /* PRICES */

    /// @inheritdoc IPriceListener
    function onPriceUpdate(bytes32 market, int256 answer, uint256 updatedAt) external nonReentrant {
        Market storage m = markets[market];
        // an unlisted market has no feed, and no caller is address(0)
        if (msg.sender != address(m.feed)) revert NotMarketFeed(market, msg.sender);
        _storeAnswer(m, market, answer, updatedAt);
    }

    /* MARGIN */

    /// @inheritdoc IPerpVault
    function deposit(bytes32 market, address account, uint256 amount) external nonReentrant {
        if (amount == 0) revert ZeroAmount();
        if (account == address(0)) revert ZeroAddress();
        _market(market);
        uint64 credited = amount.toUint64();
        PositionSlots storage stored = positions[market][account];
        Position memory p = _readPosition(stored);
        p.margin += amount;
        _writePosition(stored, p);
        balances.accounted += credited;
        emit MarginDeposited(market, account, msg.sender, amount);
        usdt.safeTransferFrom(msg.sender, address(this), amount);
    }

    /// @inheritdoc IPerpVault
    function withdraw(bytes32 market, uint256 amount, address to) external nonReentrant {
        if (amount == 0) revert ZeroAmount();
        if (to == address(0)) revert ZeroAddress();
        Market storage m = _market(market);
        uint256 price = _price(m, market);
        Position memory p = _readPosition(positions[market][msg.sender]);
        Balances memory b = balances;
        int256 storedIndex = m.fundingIndex;
        (bool wasLong, uint256 oldUnits, int256 oldCost) = _share(p, storedIndex);
        int256 funding = _settleFunding(market, msg.sender, p, b, _currentIndex(m, price), price);
        if (funding != 0) emit FundingSettled(market, msg.sender, funding);
        _realizeProfitFor(p, b, amount, price);
        p.margin -= amount; // at most the margin: _realizeProfitFor made it so
        b.accounted -= uint64(amount);
        _requireInitialMargin(p, b, price, _equity(p, price));
        _recount(m, wasLong, oldUnits, oldCost, p, storedIndex);
        _writePosition(positions[market][msg.sender], p);
        _writeBalances(b);
        emit MarginWithdrawn(market, msg.sender, to, amount);
        usdt.safeTransfer(to, amount);
    }

    /* TRADING */

    /// @inheritdoc IPerpVault
    function trade(
        bytes32 market,
        int256 sizeDelta,
        int256 marginDelta,
        address to
    ) external nonReentrant returns (TradeResult memory r) {
        (Market storage m, uint256 word) = _load(market);
        r.price = _priceOf(word, market);
        Position memory p = _readPosition(positions[market][msg.sender]);
        Balances memory b = balances;
        int256 storedIndex = _storedIndexOf(word);
        (bool wasLong, uint256 oldUnits, int256 oldCost) = _share(p, storedIndex);
        r.fundingPaid = _settleFunding(market, msg.sender, p, b, _indexOf(word, r.price), r.price);

        if (marginDelta > 0) {
            // the caller pays in its callback; only what arrives during it is credited, so USDT sent
            // here by mistake is nobody's margin (pay-first let anyone claim it with this call)
            uint256 amount = uint256(marginDelta);
            uint256 before = usdt.balanceOf(address(this));
            IMarginPayer(msg.sender).payMargin(amount);
            uint256 received = usdt.balanceOf(address(this)) - before;
            if (received < amount) revert MarginNotReceived(amount, received);
            b.accounted += amount.toUint64();
            p.margin += amount;
        }

        int256 oldSize = p.size;
        if (sizeDelta != 0)
            (r.realizedPnl, r.cost) = _applyTrade(market, msg.sender, _impactOf(word), p, b, sizeDelta, r.price);

        uint256 payout;
        if (marginDelta < 0) {
            if (to == address(0)) revert ZeroAddress();
            payout = uint256(-marginDelta);
            _realizeProfitFor(p, b, payout, r.price);
            p.margin -= payout; // at most the margin: _realizeProfitFor made it so
            b.accounted -= uint64(payout);
        }

        r.equity = _equity(p, r.price);
        if (marginDelta < 0 || _addsExposure(oldSize, p.size)) _requireInitialMargin(p, b, r.price, r.equity);

        _recount(m, wasLong, oldUnits, oldCost, p, storedIndex);
        _writePosition(positions[market][msg.sender], p);
        _writeBalances(b);
        emit Traded(market, msg.sender, sizeDelta, r.price, r.cost, r.realizedPnl, r.fundingPaid, marginDelta, p.size);
        if (payout != 0) usdt.safeTransfer(to, payout);
    }

    /// @inheritdoc IPerpVault
    function settlePnl(bytes32 market, address account) external nonReentrant returns (uint256 amount) {
        (Market storage m, uint256 word) = _load(market);
        uint256 price = _priceOf(word, market);
        Position memory p = _readPosition(positions[market][account]);
        Balances memory b = balances;
        int256 storedIndex = _storedIndexOf(word);
        (bool wasLong, uint256 oldUnits, int256 oldCost) = _share(p, storedIndex);
        int256 funding = _settleFunding(market, account, p, b, _indexOf(word, price), price);
        int256 loss = p.openCost - int256(p.size).valueDown(price);
        if (loss > 0) {
            amount = Math.min(uint256(loss), p.margin);
            p.margin -= amount;
            p.openCost -= int256(amount); // at most the loss
            b.pool += uint64(amount); // the sum of margins and pool is `accounted`: it fits
        }
        _recount(m, wasLong, oldUnits, oldCost, p, storedIndex);
        _writePosition(positions[market][account], p);
        _writeBalances(b);
        emit PnlSettled(market, account, funding, amount);
    }

    /// @inheritdoc IPerpVault
    function liquidate(bytes32 market, address account) external nonReentrant returns (uint256 reward) {
        Market storage m = _market(market);
        uint256 price = _price(m, market);
        Position memory p = _readPosition(positions[market][account]);
        Balances memory b = balances;
        int256 storedIndex = m.fundingIndex;
        (bool wasLong, uint256 oldUnits, int256 oldCost) = _share(p, storedIndex);
        int256 funding = _settleFunding(market, account, p, b, _currentIndex(m, price), price);
        LiquidationParams memory liq = liquidationParams;
        int256 equity = _requireLiquidatable(p, price, liq.maintenanceMarginRatio);

        reward = liq.liquidationReward;
        int256 closed = PerpMath.liquidationSizeUp(p.size, equity, price, reward, b.initialMarginRatio, b.takerFee);
        (int256 realized, uint256 cost) = _applyTrade(
            market,
            account,
            uint256(m.priceImpact) * IMPACT_UNIT,
            p,
            b,
            -closed,
            price
        );
        emit Traded(market, account, -closed, price, cost, realized, funding, 0, p.size);

        reward = Math.min(reward, p.margin);
        p.margin -= reward; // at most the margin
        b.accounted -= uint64(reward);
        _recount(m, wasLong, oldUnits, oldCost, p, storedIndex);
        _writePosition(positions[market][account], p);
        _writeBalances(b);
        emit Liquidated(market, account, msg.sender, closed, price, reward);
        if (reward != 0) usdt.safeTransfer(msg.sender, reward);
    }

    /* LIQUIDITY */

    /// @inheritdoc IPerpVault
    function addLiquidity(uint256 amount) external nonReentrant returns (uint256 shares) {
        if (amount == 0) revert ZeroAmount();
        Balances memory b = balances;
        uint256 supply = totalLiquidityShares;
        uint256 locked;
        if (supply == 0) {
            if (amount <= MINIMUM_LIQUIDITY) revert InsufficientLiquidity(amount, MINIMUM_LIQUIDITY + 1);
            (shares, locked) = (amount - MINIMUM_LIQUIDITY, MINIMUM_LIQUIDITY);
            liquiditySharesOf[DEAD] = locked;
        } else {
            // a pool worth nothing (its winners owed all its cash) is priced at one unit: whoever
            // recapitalizes it owns nearly all of it, and pays its deficit
            (uint256 value, ) = _poolValue(b);
            shares = MathLib.mulDivDown(amount, supply, Math.max(value, 1));
        }
        if (shares == 0) revert ZeroAmount();
        totalLiquidityShares = supply + shares + locked;
        liquiditySharesOf[msg.sender] += shares;
        uint64 added = amount.toUint64();
        b.pool += added;
        b.accounted += added;
        _writeBalances(b);
        emit LiquidityAdded(msg.sender, amount, shares);
        usdt.safeTransferFrom(msg.sender, address(this), amount);
    }

    /// @inheritdoc IPerpVault
    function removeLiquidity(uint256 shares, address to) external nonReentrant returns (uint256 amount) {
        if (shares == 0) revert ZeroAmount();
        if (to == address(0)) revert ZeroAddress();
        uint256 owned = liquiditySharesOf[msg.sender];
        if (shares > owned) revert InsufficientLiquidity(shares, owned);
        Balances memory b = balances;
        uint256 supply = totalLiquidityShares;
        (uint256 value, uint256 reserved) = _poolValue(b);
        if (value == 0) revert ZeroAmount(); // the pool is worth nothing now: the shares are kept
        amount = MathLib.mulDivDown(shares, value, supply);
        uint256 free = b.pool > reserved ? b.pool - reserved : 0;
        if (amount > free) revert LiquidityReserved(amount, free);
        liquiditySharesOf[msg.sender] = owned - shares;
        totalLiquidityShares = supply - shares;
        b.pool -= uint64(amount);
        b.accounted -= uint64(amount);
        _writeBalances(b);
        emit LiquidityRemoved(msg.sender, to, amount, shares);
        usdt.safeTransfer(to, amount);
    }

    /* VIEWS */

    /// @inheritdoc IPerpVault
    function liquidity() external view returns (uint256 cash, uint256 value, uint256 reserved) {
        Balances memory b = balances;
        (value, reserved) = _poolValue(b);
        cash = b.pool;
    }

    /// @inheritdoc IPerpVault
    function openInterest(bytes32 market) external view returns (uint256 longSize, uint256 shortSize) {
        OpenInterest memory oi = _market(market).openInterest;
        (int256 longs, int256 shorts) = _sideSizes(oi);
        return (uint256(longs), uint256(-shorts));
    }

    /// @inheritdoc IPerpVault
    function marketInfo(bytes32 market) external view returns (MarketInfo memory info) {
        Market storage m = _market(market);
        info = MarketInfo({
            feed: address(m.feed),
            answer: m.answer,
            updatedAt: m.updatedAt,
            heartbeat: m.heartbeat,
            fundingRate: _rate(m),
            fundingIndex: m.fundingIndex,
            priceImpact: uint256(m.priceImpact) * IMPACT_UNIT
        });
    }

    /// @inheritdoc IPerpVault
    function markPrice(bytes32 market) external view returns (uint256) {
        return _price(_market(market), market);
    }

    /// @inheritdoc IPerpVault
    function positionOf(
        bytes32 market,
        address account
    ) external view returns (int256 size, int256 openCost, uint256 margin) {
        Position memory p = _readPosition(positions[market][account]);
        return (p.size, p.openCost, p.margin);
    }

    /// @inheritdoc IPerpVault
    function snapshot(
        bytes32 market,
        address account
    ) external view returns (int256 size, int256 equity, uint256 price) {
        return _snapshot(market, account);
    }

    /// @inheritdoc IPerpVault
    function lastSnapshot(
        bytes32 market,
        address account
    ) external view returns (int256 size, int256 equity, uint256 price, bool fresh) {
        Market storage m = markets[market];
        uint256 heartbeat = m.heartbeat;
        if (heartbeat == 0) return (0, 0, 0, false);
        (int256 answer, uint256 updatedAt) = (m.answer, m.updatedAt);
        if (answer > 0) price = uint256(answer);
        fresh = price != 0 && updatedAt <= block.timestamp && block.timestamp - updatedAt <= heartbeat;
        Position memory p = _readPosition(positions[market][account]);
        size = p.size;
        equity = _equity(p, price) - PerpMath.fundingOwedUp(size, _currentIndex(m, price) - p.fundingIndex);
    }

    /// @inheritdoc IPerpVault
    /// @dev A position's own fields hold more than the exchange's sums can (see `Position`), so the
    /// room is what the sums have left: the USDT owed in all (every margin is part of it), and the
    /// open cost and size (less one unit of open interest, for its rounding) of the position's side,
    /// of both sides for an empty position; or what the position's own fields have left, if less.
    /// An unlisted market has no open interest: the room is the most.
    function capacity(
        bytes32 market,
        address account
    ) external view returns (uint256 margin, uint256 openCost, uint256 size) {
        Position memory p = _readPosition(positions[market][account]);
        OpenInterest memory oi = markets[market].openInterest;
        margin = type(uint64).max - balances.accounted;
        uint256 longCost = uint256(int256(type(int64).max) - oi.longCost);
        uint256 shortCost = uint256(int256(oi.shortCost) - type(int64).min);
        uint256 longUnits = type(uint64).max - oi.longSize;
        uint256 shortUnits = type(uint64).max - oi.shortSize;
        if (p.size > 0) (openCost, size) = (longCost, longUnits);
        else if (p.size < 0) (openCost, size) = (shortCost, shortUnits);
        else (openCost, size) = (Math.min(longCost, shortCost), Math.min(longUnits, shortUnits));
        size = size == 0 ? 0 : (size - 1) * PerpMath.OPEN_INTEREST_UNIT;
        uint256 fieldMax = uint256(int256(type(int128).max));
        openCost = Math.min(openCost, fieldMax - PerpMath.abs(p.openCost));
        size = Math.min(size, fieldMax - PerpMath.abs(p.size));
    }

    /// @inheritdoc IPerpVault
    function tradingSnapshot(bytes32 market, address account) external view returns (TradingSnapshot memory t) {
        (, uint256 word) = _load(market);
        (t.size, t.equity, t.price) = _snapshotOf(word, market, account);
        (t.takerFee, t.priceImpact) = (balances.takerFee, _impactOf(word));
    }

    /// @inheritdoc IPerpVault
    function equityOf(bytes32 market, address account) external view returns (int256 equity) {
        (, equity, ) = _snapshot(market, account);
    }

    /// @inheritdoc IPerpVault
    function fundingOwed(bytes32 market, address account) external view returns (int256) {
        Market storage m = _market(market);
        Position memory p = _readPosition(positions[market][account]);
        return PerpMath.fundingOwedUp(p.size, _currentIndex(m, _price(m, market)) - p.fundingIndex);
    }

    /// @inheritdoc IPerpVault
    function leverageOf(bytes32 market, address account) external view returns (uint256) {
        (int256 size, int256 equity, uint256 price) = _snapshot(market, account);
        if (equity <= 0) return size == 0 ? 0 : type(uint256).max;
        return MathLib.mulDivDown(size.notionalUp(price), PerpMath.WAD, uint256(equity));
    }

    /// @inheritdoc IPerpVault
    function liquidationSize(bytes32 market, address account) external view returns (int256) {
        (int256 size, int256 equity, uint256 price) = _snapshot(market, account);
        LiquidationParams memory liq = liquidationParams;
        if (size == 0 || equity >= int256(PerpMath.wadMulUp(size.notionalUp(price), liq.maintenanceMarginRatio))) {
            return 0;
        }
        Balances memory b = balances;
        return PerpMath.liquidationSizeUp(size, equity, price, liq.liquidationReward, b.initialMarginRatio, b.takerFee);
    }

    /// @inheritdoc IPerpVault
    function isLiquidatable(bytes32 market, address account) external view returns (bool) {
        (int256 size, int256 equity, uint256 price) = _snapshot(market, account);
        uint256 maintenanceMarginRatio = liquidationParams.maintenanceMarginRatio;
        return size != 0 && equity < int256(PerpMath.wadMulUp(size.notionalUp(price), maintenanceMarginRatio));
    }

    /// @inheritdoc IPerpVault
    function maxLeverage() external view returns (uint256) {
        return MathLib.mulDivDown(PerpMath.WAD, PerpMath.WAD, balances.initialMarginRatio);
    }

    /// @inheritdoc IPerpVault
    function poolBalance() external view returns (uint256) {
        return balances.pool;
    }

    /// @notice The exchange's parameters: taker fee, initial and maintenance margin ratios (WAD), and
    /// the liquidator's flat reward (USDT).
    function params()
        external
        view
        returns (uint64 takerFee, uint64 initialMarginRatio, uint64 maintenanceMarginRatio, uint64 liquidationReward)
    {
        LiquidationParams memory liq = liquidationParams;
        return (balances.takerFee, balances.initialMarginRatio, liq.maintenanceMarginRatio, liq.liquidationReward);
    }

    /// @notice Sum of all margins and the pool: the USDT this contract owes.
    function accountedBalance() external view returns (uint256) {
        return balances.accounted;
    }

    /// @inheritdoc IPerpVault
    function tradeCosts(bytes32 market) external view returns (uint256 takerFee, uint256 priceImpact) {
        return (balances.takerFee, uint256(_market(market).priceImpact) * IMPACT_UNIT);
    }

    /// @inheritdoc IPerpVault
    function fundingIndex(bytes32 market) external view returns (int256) {
        Market storage m = _market(market);
        return _currentIndex(m, _price(m, market));
    }

    /* INTERNAL */

    function _snapshot(
        bytes32 market,
        address account
    ) internal view returns (int256 size, int256 equity, uint256 price) {
        (, uint256 word) = _load(market);
        return _snapshotOf(word, market, account);
    }

    function _snapshotOf(
        uint256 word,
        bytes32 market,
        address account
    ) internal view returns (int256 size, int256 equity, uint256 price) {
        price = _priceOf(word, market);
        Position memory p = _readPosition(positions[market][account]);
        size = p.size;
        equity = _equity(p, price) - PerpMath.fundingOwedUp(size, _indexOf(word, price) - p.fundingIndex);
    }

    /// @dev A stored position, from one SLOAD while it is narrow (the layouts: `PositionSlots`).
    function _readPosition(PositionSlots storage stored) internal view returns (Position memory p) {
        // solhint-disable-next-line no-inline-assembly
        assembly ("memory-safe") {
            let word := sload(stored.slot)
            mstore(add(p, 0x40), signextend(6, shr(144, word))) // fundingIndex, int56
            switch eq(and(shr(88, word), 0xffffffffffffff), WIDE)
            case 0 {
                mstore(p, signextend(10, word)) // size, int88
                mstore(add(p, 0x20), signextend(6, shr(88, word))) // openCost, int56
                mstore(add(p, 0x60), shr(200, word)) // margin, uint56
            }
            default {
                let wide := sload(add(stored.slot, 1))
                mstore(p, signextend(15, wide)) // size, int128
                mstore(add(p, 0x20), sar(128, wide)) // openCost, int128
                mstore(add(p, 0x60), and(word, 0xffffffffffffffff)) // margin, uint64
            }
        }
    }

    /// @dev Writes a position with one SSTORE while it fits the narrow layout, else with two (the
    /// open cost's bits then hold WIDE), where a size or an open cost past 128 bits or a margin past
    /// 64 reverts by name (SafeCast): the only check a position's fields get. A narrow write leaves
    /// the wide slot as it was, unread.
    function _writePosition(PositionSlots storage stored, Position memory p) internal {
        (int256 size, int256 openCost, uint256 margin, int256 index) = (p.size, p.openCost, p.margin, p.fundingIndex);
        bool narrow;
        // solhint-disable-next-line no-inline-assembly
        assembly ("memory-safe") {
            // size within int88, open cost within int56 but its minimum (WIDE), margin within uint56
            narrow := and(
                and(lt(add(size, shl(87, 1)), shl(88, 1)), lt(add(openCost, sub(WIDE, 1)), sub(shl(56, 1), 1))),
                lt(margin, shl(56, 1))
            )
            if narrow {
                sstore(
                    stored.slot,
                    or(
                        or(and(size, 0xffffffffffffffffffffff), shl(88, and(openCost, 0xffffffffffffff))),
                        or(shl(144, and(index, 0xffffffffffffff)), shl(200, margin))
                    )
                )
            }
        }
        if (!narrow) {
            uint256 wide = uint256(uint128(size.toInt128())) | (uint256(uint128(openCost.toInt128())) << 128);
            stored.packed = uint256(margin.toUint64()) | (WIDE << 88) | (uint256(uint56(int56(index))) << 144);
            stored.wide = wide;
        }
    }

    /// @dev Writes the balances with one SSTORE (same layout as `Balances`).
    function _writeBalances(Balances memory b) internal {
        uint256 word =
            uint256(b.pool) |
                (uint256(b.accounted) << 64) |
                (uint256(b.takerFee) << 128) |
                (uint256(b.initialMarginRatio) << 192);
        // solhint-disable-next-line no-inline-assembly
        assembly ("memory-safe") {
            sstore(balances.slot, word)
        }
    }

    function _market(bytes32 market) internal view returns (Market storage m) {
        m = markets[market];
        if (m.heartbeat == 0) revert UnknownMarket(market);
    }

    /// @dev Keeps the feed's answer for every trade to read, after charging the funding of the
    /// interval the replaced answer priced, at that answer: funding is the sum over price intervals of
    /// rate x time x price, whoever trades and whenever. An answer outside what the slot holds is
    /// refused (the feed's update reverts): a price of 92 billion USDT or more is none we trade at; so
    /// is one older than the answer held, or stamped in the future.
    function _storeAnswer(Market storage m, bytes32 market, int256 answer, uint256 updatedAt) internal {
        if (answer > type(int64).max || answer < type(int64).min) revert InvalidPrice(market, answer);
        uint256 last = m.updatedAt;
        if (updatedAt < last || updatedAt > block.timestamp) revert StalePrice(market, updatedAt, m.heartbeat);
        int256 replaced = m.answer;
        if (replaced > 0) {
            _moveFundingIndex(m, PerpMath.fundingIndexDelta(uint256(replaced), _rate(m), updatedAt - last));
        }
        (m.answer, m.updatedAt) = (int64(answer), uint40(updatedAt));
        emit PriceUpdated(market, answer, updatedAt);
    }

    /// @dev The market's first slot in one read: what a trade needs of it (the layout of `Market`,
    /// members packed from the lowest-order bits up; `_answerOf` and the rest unpack it).
    function _load(bytes32 market) internal view returns (Market storage m, uint256 word) {
        m = markets[market];
        word = _word(m);
        if (uint24(word >> 104) == 0) revert UnknownMarket(market);
    }

    function _word(Market storage m) internal view returns (uint256 word) {
        // solhint-disable-next-line no-inline-assembly
        assembly ("memory-safe") {
            word := sload(m.slot)
        }
    }

    /// @dev Oracle read with Chainlink's checks, on the feed's latest answer as it pushed it:
    /// positive answer, updated within the heartbeat.
    function _price(Market storage m, bytes32 market) internal view returns (uint256) {
        return _priceOf(_word(m), market);
    }

    function _priceOf(uint256 word, bytes32 market) internal view returns (uint256) {
        int256 answer = int64(uint64(word));
        uint256 updatedAt = uint40(word >> 64);
        uint256 heartbeat = uint24(word >> 104);
        if (answer <= 0) revert InvalidPrice(market, answer);
        // an answer from the future is as untrustworthy as a stale one (and must not underflow)
        if (updatedAt > block.timestamp || block.timestamp - updatedAt > heartbeat) {
            revert StalePrice(market, updatedAt, heartbeat);
        }
        return uint256(answer);
    }

    /// @dev The funding index now: the stored one (as of the last answer) plus the answer's price
    /// times the rate over the time since (none for an answer stamped in the future).
    function _currentIndex(Market storage m, uint256 price) internal view returns (int256) {
        return _indexOf(_word(m), price);
    }

    function _indexOf(uint256 word, uint256 price) internal view returns (int256) {
        uint256 updatedAt = uint40(word >> 64);
        uint256 elapsed = block.timestamp > updatedAt ? block.timestamp - updatedAt : 0;
        return _storedIndexOf(word) + PerpMath.fundingIndexDelta(price, _rateOf(word), elapsed);
    }

    function _storedIndexOf(uint256 word) internal pure returns (int256) {
        return int56(uint56(word >> 200));
    }

    function _rateOf(uint256 word) internal pure returns (int256) {
        return int256(int40(uint40(word >> 160))) * RATE_UNIT;
    }

    function _impactOf(uint256 word) internal pure returns (uint256) {
        return uint256(uint32(word >> 128)) * IMPACT_UNIT;
    }

    function _rate(Market storage m) internal view returns (int256) {
        return _rateOf(_word(m));
    }

    /// @dev Moves the stored funding index by `move`, and each side's open cost by the funding its
    /// size owes for it, rounded down (the sides' profit, hence the pool's reserve, errs high).
    function _moveFundingIndex(Market storage m, int256 move) internal {
        if (move == 0) return;
        m.fundingIndex = (m.fundingIndex + move).toInt56();
        OpenInterest memory oi = m.openInterest;
        if (oi.longSize == 0 && oi.shortSize == 0) return;
        (int256 longSize, int256 shortSize) = _sideSizes(oi);
        oi.longCost = (oi.longCost + PerpMath.fundingOwedDown(longSize, move)).toInt64();
        oi.shortCost = (oi.shortCost + PerpMath.fundingOwedDown(shortSize, move)).toInt64();
        _writeOpenInterest(m, oi);
    }

    /// @dev A position's part of its side's open interest: its side, its size in OPEN_INTEREST_UNIT,
    /// and its open cost plus the funding it owes up to the market's stored index.
    function _share(
        Position memory p,
        int256 storedIndex
    ) internal pure returns (bool long, uint256 units, int256 cost) {
        long = p.size >= 0;
        units = PerpMath.openInterestUnits(p.size);
        cost = p.openCost + PerpMath.fundingOwedUp(p.size, storedIndex - p.fundingIndex);
    }

    /// @dev Moves a position's part of the open interest from what it was (`wasLong`, `oldUnits`,
    /// `oldCost`, from `_share` before the call changed it) to what it is, in one read and one write.
    /// A side with no size left keeps no cost: the roundings its funding sums gathered go with it.
    function _recount(
        Market storage m,
        bool wasLong,
        uint256 oldUnits,
        int256 oldCost,
        Position memory p,
        int256 storedIndex
    ) internal {
        (bool long, uint256 units, int256 cost) = _share(p, storedIndex);
        OpenInterest storage stored = m.openInterest;
        uint256 word;
        // solhint-disable-next-line no-inline-assembly
        assembly ("memory-safe") {
            word := sload(stored.slot)
        }
        // the layout of `OpenInterest`: members packed from the lowest-order bits up
        uint256 longSize = uint64(word);
        int256 longCost = int64(uint64(word >> 64));
        uint256 shortSize = uint64(word >> 128);
        int256 shortCost = int64(uint64(word >> 192));
        if (wasLong) (longSize, longCost) = (longSize - oldUnits, longCost - oldCost);
        else (shortSize, shortCost) = (shortSize - oldUnits, shortCost - oldCost);
        if (long) (longSize, longCost) = (longSize + units, longCost + cost);
        else (shortSize, shortCost) = (shortSize + units, shortCost + cost);
        if (longSize == 0) longCost = 0;
        if (shortSize == 0) shortCost = 0;
        word =
            uint256(longSize.toUint64()) |
            (uint256(uint64(longCost.toInt64())) << 64) |
            (uint256(shortSize.toUint64()) << 128) |
            (uint256(uint64(shortCost.toInt64())) << 192);
        // solhint-disable-next-line no-inline-assembly
        assembly ("memory-safe") {
            sstore(stored.slot, word)
        }
    }

    /// @dev Each side's size in 18 decimals, signed (+ long, - short).
    function _sideSizes(OpenInterest memory oi) internal pure returns (int256 longSize, int256 shortSize) {
        longSize = int256(uint256(oi.longSize) * PerpMath.OPEN_INTEREST_UNIT);
        shortSize = -int256(uint256(oi.shortSize) * PerpMath.OPEN_INTEREST_UNIT);
    }

    /// @dev Writes the open interest with one SSTORE (same layout as `OpenInterest`).
    function _writeOpenInterest(Market storage m, OpenInterest memory oi) internal {
        uint256 word =
            uint256(oi.longSize) |
                (uint256(uint64(oi.longCost)) << 64) |
                (uint256(oi.shortSize) << 128) |
                (uint256(uint64(oi.shortCost)) << 192);
        OpenInterest storage stored = m.openInterest;
        // solhint-disable-next-line no-inline-assembly
        assembly ("memory-safe") {
            sstore(stored.slot, word)
        }
    }

    /// @dev The pool priced over every market at its checked price: its cash less what each side's
    /// open positions would take out if closed now (their profit, less the funding they owe), at most
    /// all the USDT held; and the part of the cash held back for the sides in profit, each with
    /// RESERVE_ROUNDING units for the roundings of its own closes. Reverts on a stale price.
    function _poolValue(Balances memory b) internal view returns (uint256 value, uint256 reserved) {
        int256 owedToTraders;
        uint256 n = marketIds.length;
        for (uint256 i; i < n; ++i) {
            bytes32 id = marketIds[i];
            Market storage m = markets[id];
            uint256 price = _price(m, id);
            int256 move = _currentIndex(m, price) - m.fundingIndex;
            OpenInterest memory oi = m.openInterest;
            (int256 longSize, int256 shortSize) = _sideSizes(oi);
            int256 longProfit = longSize.valueDown(price) - oi.longCost - PerpMath.fundingOwedDown(longSize, move);
            int256 shortProfit = shortSize.valueDown(price) - oi.shortCost - PerpMath.fundingOwedDown(shortSize, move);
            owedToTraders += longProfit + shortProfit;
            if (longProfit > 0) reserved += uint256(longProfit) + RESERVE_ROUNDING;
            if (shortProfit > 0) reserved += uint256(shortProfit) + RESERVE_ROUNDING;
        }
        int256 net = int256(uint256(b.pool)) - owedToTraders;
        value = net <= 0 ? 0 : Math.min(uint256(net), b.accounted);
    }

    /// @dev Equity with funding already settled: margin + value at `price` - open cost.
    function _equity(Position memory p, uint256 price) internal pure returns (int256) {
        return int256(uint256(p.margin)) + int256(p.size).valueDown(price) - p.openCost;
    }

    function _settleFunding(
        bytes32 market,
        address account,
        Position memory p,
        Balances memory b,
        int256 index,
        uint256 price
    ) internal returns (int256 owed) {
        owed = PerpMath.fundingOwedUp(p.size, index - p.fundingIndex);
        p.fundingIndex = index.toInt56();
        if (owed != 0) _moveToPool(market, account, p, b, owed, price);
    }

    /// @dev Books a trade of `sizeDelta` at `price` into `p`: realizes PnL on the reduced part, then
    /// charges the taker fee and the price impact. Returns the realized PnL and the cost charged.
    function _applyTrade(
        bytes32 market,
        address account,
        uint256 priceImpact,
        Position memory p,
        Balances memory b,
        int256 sizeDelta,
        uint256 price
    ) internal returns (int256 realized, uint256 cost) {
        int256 size = p.size;
        int256 opened = sizeDelta;
        if (size != 0 && (size > 0) != (sizeDelta > 0)) {
            int256 closed = PerpMath.abs(sizeDelta) >= PerpMath.abs(size) ? size : -sizeDelta;
            int256 closedCost = PerpMath.closedCostUp(p.openCost, closed, size);
            realized = closed.valueDown(price) - closedCost;
            p.openCost -= closedCost;
            opened = sizeDelta + closed;
        }
        if (opened != 0) p.openCost += opened.costUp(price);
        p.size = size + sizeDelta;

        (uint256 fee, uint256 impactCost) = PerpMath.tradeCostUp(sizeDelta.notionalUp(price), b.takerFee, priceImpact);
        cost = fee + impactCost;
        _moveToPool(market, account, p, b, cost.toInt256() - realized, price);
    }

    /// @dev Moves `amount` from the position's margin to the pool (or from the pool to the margin
    /// when negative). A debit beyond the cash margin is first covered out of the position's
    /// unrealized profit at `price` (its open cost rises by the same amount, so equity falls by
    /// exactly `amount`); only what equity cannot cover is bad debt, and the pool receives only what
    /// was there. A credit beyond the pool's cash (funding received, profit realized) to a position
    /// that stays open is booked in its open cost instead (equity rises by exactly `amount` all the
    /// same): it is paid in cash when the position is closed or its margin withdrawn, so funding or a
    /// partial close never reverts for want of pool cash. A credit beyond the pool to a position
    /// left empty reverts: the exchange never pays USDT it does not hold.
    function _moveToPool(
        bytes32 market,
        address account,
        Position memory p,
        Balances memory b,
        int256 amount,
        uint256 price
    ) internal {
        if (amount > 0) {
            uint256 due = uint256(amount);
            uint256 paid = Math.min(due, p.margin);
            p.margin -= paid;
            b.pool += uint64(paid);
            if (due > paid) {
                int256 profit = int256(p.size).valueDown(price) - p.openCost;
                uint256 covered = profit > 0 ? Math.min(due - paid, uint256(profit)) : 0;
                p.openCost += int256(covered);
                if (due > paid + covered) emit BadDebt(market, account, due - paid - covered);
            }
        } else if (amount < 0) {
            uint256 due = uint256(-amount);
            uint256 paid = due;
            if (due > b.pool) {
                if (p.size == 0) revert InsufficientLiquidity(due, b.pool);
                paid = b.pool;
                p.openCost -= int256(due - paid);
            }
            b.pool -= uint64(paid);
            p.margin += paid;
        }
    }

    /// @dev Makes `amount` of cash margin available for a withdrawal: a shortfall is realized out
    /// of the position's unrealized profit at `price` (the pool pays it, the open cost rises by it,
    /// equity is unchanged). Reverts when margin and profit together fall short.
    function _realizeProfitFor(Position memory p, Balances memory b, uint256 amount, uint256 price) internal pure {
        if (amount <= p.margin) return;
        uint256 need = amount - p.margin;
        int256 profit = int256(p.size).valueDown(price) - p.openCost;
        uint256 available = profit > 0 ? uint256(profit) : 0;
        if (need > available) revert InsufficientMargin(amount, p.margin + available);
        if (need > b.pool) revert InsufficientLiquidity(need, b.pool);
        b.pool -= uint64(need);
        p.margin += need;
        p.openCost += int256(need);
    }

    /// @dev Reverts unless `equity` (the position's, at `price`) covers the initial margin.
    function _requireInitialMargin(Position memory p, Balances memory b, uint256 price, int256 equity) internal pure {
        uint256 required = PerpMath.wadMulUp(int256(p.size).notionalUp(price), b.initialMarginRatio);
        if (equity < int256(required)) revert BelowInitialMargin(equity, required);
    }

    /// @dev Reverts unless the position is below maintenance margin; returns its equity.
    function _requireLiquidatable(
        Position memory p,
        uint256 price,
        uint256 maintenanceMarginRatio
    ) internal pure returns (int256 equity) {
        uint256 maintenance = PerpMath.wadMulUp(int256(p.size).notionalUp(price), maintenanceMarginRatio);
        equity = _equity(p, price);
        if (p.size == 0 || equity >= int256(maintenance)) revert NotLiquidatable(equity, maintenance);
    }

    /// @dev A trade adds exposure when the position grows or flips side.
    function _addsExposure(int256 oldSize, int256 newSize) internal pure returns (bool) {
        if (newSize == 0) return false;
        if (oldSize == 0 || (oldSize > 0) != (newSize > 0)) return true;
        return PerpMath.abs(newSize) > PerpMath.abs(oldSize);
    }

    function _checkHeartbeat(uint32 heartbeat) internal pure {
        if (heartbeat < MIN_HEARTBEAT || heartbeat > MAX_HEARTBEAT) {
            revert InvalidParameter("heartbeat", int256(uint256(heartbeat)));
        }
    }

    function _checkFundingRate(int64 fundingRate) internal pure {
        if (PerpMath.abs(fundingRate) > MAX_FUNDING_RATE || fundingRate % RATE_UNIT != 0) {
            revert InvalidParameter("fundingRate", fundingRate);
        }
    }

    function _checkPriceImpact(uint64 priceImpact) internal pure {
        if (priceImpact > MAX_PRICE_IMPACT || priceImpact % IMPACT_UNIT != 0)
            revert InvalidParameter("priceImpact", int256(uint256(priceImpact)));
    }
}
