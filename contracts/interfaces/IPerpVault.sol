// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";

/// @title IPerpVault
/// @notice A USDT-margined perpetual futures exchange with isolated margin: each (market, account)
/// pair is one position with its own margin. A liquidity pool is the counterparty of every trade:
/// it collects fees, losses and funding from longs (when the rate is positive) and pays profits.
/// @dev Units: USDT 6 decimals, price 8 decimals, size 18 decimals signed (+ long, - short), rates
/// WAD (1e18 = 100%). Every rounding goes against the trader; see PerpMath.
interface IPerpVault {
    /* TYPES */

    /// @notice What a trade did, returned to the calling contract.
    struct TradeResult {
        uint256 price; // mark price the trade executed at (8 decimals), before impact
        uint256 cost; // taker fee plus price impact, paid to the pool (USDT)
        int256 realizedPnl; // profit (+) or loss (-) booked on the reduced part (USDT)
        int256 fundingPaid; // funding settled before the trade: + paid, - received (USDT)
        int256 equity; // the position's equity after the trade (USDT, may be negative)
    }

    /// @notice Everything a contract needs to quote its own next trade exactly, in one call.
    struct TradingSnapshot {
        int256 size; // the position's size
        int256 equity; // margin + unrealized PnL - funding owed, at `price`
        uint256 price; // the oracle price (8 decimals), checked
        uint256 takerFee; // WAD of notional
        uint256 priceImpact; // WAD per 1,000,000 USDT of notional
    }

    /// @notice A market as stored: its feed and the answer it last pushed, and its parameters.
    struct MarketInfo {
        address feed;
        int256 answer; // 8 decimals
        uint256 updatedAt; // the answer's time; the funding index below is as of it
        uint256 heartbeat; // seconds
        int256 fundingRate; // WAD per 8 hours
        int256 fundingIndex; // per 1e18 of size, USDT x 1e4 (PerpMath.FUNDING_SCALE)
        uint256 priceImpact; // WAD per 1,000,000 USDT of notional
    }

    /* EVENTS */

    event MarketAdded(bytes32 indexed market, address feed, uint32 heartbeat, int64 fundingRate, uint64 priceImpact);
    event FundingRateSet(bytes32 indexed market, int64 fundingRate);
    event PriceImpactSet(bytes32 indexed market, uint64 priceImpact);
    event HeartbeatSet(bytes32 indexed market, uint32 heartbeat);
    /// @notice The market's feed pushed a new answer (the exchange's copy of it, read by every trade).
    event PriceUpdated(bytes32 indexed market, int256 answer, uint256 updatedAt);
    event FeesSet(uint64 takerFee, uint64 liquidationReward);
    event MarginRatiosSet(uint64 initialMarginRatio, uint64 maintenanceMarginRatio);
    event MarginDeposited(bytes32 indexed market, address indexed account, address from, uint256 amount);
    event MarginWithdrawn(bytes32 indexed market, address indexed account, address to, uint256 amount);
    /// @notice One `trade` call: funding settled first (+ paid, - received), margin paid in (+) or
    /// out (-), then `sizeDelta` at `price` for `cost`, booking `realizedPnl`; `newSize` after.
    /// Liquidations emit it too (marginDelta 0, the part closed), before `Liquidated`.
    event Traded(
        bytes32 indexed market,
        address indexed account,
        int256 sizeDelta,
        uint256 price,
        uint256 cost,
        int256 realizedPnl,
        int256 fundingPaid,
        int256 marginDelta,
        int256 newSize
    );
    /// @notice Funding settled by `withdraw` (trades and liquidations report it in `Traded`).
    event FundingSettled(bytes32 indexed market, address indexed account, int256 amount);
    /// @notice `settlePnl` moved `amount` of the position's unrealized loss from its margin to the pool
    /// (its open cost fell by as much: equity unchanged), after settling `funding`.
    event PnlSettled(bytes32 indexed market, address indexed account, int256 funding, uint256 amount);
    /// @notice A liquidation closed `size` (signed like the position; all of it or a part) at `price`
    /// and paid the liquidator `reward` USDT.
    event Liquidated(
        bytes32 indexed market,
        address indexed account,
        address indexed liquidator,
        int256 size,
        uint256 price,
        uint256 reward
    );
    event BadDebt(bytes32 indexed market, address indexed account, uint256 amount);
    event LiquidityAdded(address indexed provider, uint256 amount, uint256 shares);
    event LiquidityRemoved(address indexed provider, address to, uint256 amount, uint256 shares);

    /* ERRORS */

    error UnknownMarket(bytes32 market);
    error MarketExists(bytes32 market);
    /// @notice `addMarket` with a feed that does not push its answers to this exchange for `market`.
    error FeedNotPushing(bytes32 market, address feed);
    /// @notice `onPriceUpdate` from anything but the market's feed.
    error NotMarketFeed(bytes32 market, address caller);
    error StalePrice(bytes32 market, uint256 updatedAt, uint256 heartbeat);
    error InvalidPrice(bytes32 market, int256 answer);
    error InvalidParameter(string parameter, int256 value);
    error ZeroAmount();
    error ZeroAddress();
    /// @notice `payMargin` paid less than the `marginDelta` of the trade.
    error MarginNotReceived(uint256 expected, uint256 received);
    error InsufficientMargin(uint256 requested, uint256 available);
    error BelowInitialMargin(int256 equity, uint256 required);
    error NotLiquidatable(int256 equity, uint256 maintenance);
    error InsufficientLiquidity(uint256 requested, uint256 available);
    /// @notice `removeLiquidity` would take cash that open positions in profit are owed.
    error LiquidityReserved(uint256 requested, uint256 available);

    /* TRADING */

    /// @notice Adds `amount` USDT, pulled from the caller, to the margin of `account` in `market`.
    function deposit(bytes32 market, address account, uint256 amount) external;

    /// @notice Withdraws `amount` of the caller's margin in `market` to `to`. Funding is settled
    /// first; with a position open, equity after must stay at or above the initial margin. A
    /// withdrawal beyond the cash margin realizes that much of the unrealized profit (paid by the pool).
    function withdraw(bytes32 market, uint256 amount, address to) external;

    /// @notice Changes the caller's position in `market` by `sizeDelta` at the mark price, and its
    /// margin by `marginDelta`: for a positive `marginDelta` the exchange calls the caller back
    /// (`IMarginPayer.payMargin`, as Uniswap V3's mint callback) and credits it before the trade
    /// only if its USDT balance rose by that much during the call (else MarginNotReceived); a
    /// negative one is paid to `to` after it. Funding is settled first, then PnL
    /// on any reduced part, then the trading cost.
    /// A trade that adds exposure or withdraws margin must leave equity at or above initial margin.
    function trade(
        bytes32 market,
        int256 sizeDelta,
        int256 marginDelta,
        address to
    ) external returns (TradeResult memory result);

    /// @notice Anyone may settle a position's unrealized loss into the pool: the loss (at most the
    /// margin) leaves the margin for the pool and the open cost falls by as much, so the position's
    /// equity, leverage and liquidation price do not move (funding is settled first). It turns a
    /// loser's loss into the cash a winner's close is paid from: when the pool's cash falls short of
    /// what the sides in profit are owed (a price move after LPs left), settling the losing side's
    /// positions lets every winner out. Returns the amount moved (0 for a position not at a loss).
    function settlePnl(bytes32 market, address account) external returns (uint256 amount);

    /// @notice When the position of `account` is below maintenance margin, closes the least part of
    /// it that brings it back to the initial margin (PerpMath.liquidationSizeUp: all of it when the
    /// equity cannot pay for that); the caller receives the flat liquidation reward out of the
    /// margin left. Losses beyond the margin are borne by the pool and reported as BadDebt.
    function liquidate(bytes32 market, address account) external returns (uint256 reward);

    /* LIQUIDITY */

    /// @notice Adds `amount` USDT to the pool for pool shares priced at the pool's value (see
    /// `liquidity`): cash plus what open positions owe it, less what it owes them, so a new provider
    /// buys into no loss or profit that happened before it joined. The first deposit locks
    /// MINIMUM_LIQUIDITY of its shares for ever (reverts InsufficientLiquidity unless it is larger).
    /// Reverts StalePrice when any market's price is stale.
    function addLiquidity(uint256 amount) external returns (uint256 shares);

    /// @notice Burns `shares` pool shares for their part of the pool's value, paid to `to`, out of
    /// the cash not reserved for open positions in profit (else LiquidityReserved): a provider never
    /// leaves with what winning positions are owed, so no withdrawal makes a trader's close, a
    /// margin withdrawal of profit or a token's redeem revert. Reverts StalePrice when any market's
    /// price is stale.
    function removeLiquidity(uint256 shares, address to) external returns (uint256 amount);

    /* VIEWS */

    /// @notice The USDT every margin is held in.
    function usdt() external view returns (IERC20);

    /// @notice The oracle price of `market` (8 decimals), checked for staleness and sign.
    function markPrice(bytes32 market) external view returns (uint256);

    /// @notice Size, open cost (USDT paid for the size, signed) and margin as stored.
    function positionOf(
        bytes32 market,
        address account
    ) external view returns (int256 size, int256 openCost, uint256 margin);

    /// @notice Size, equity (margin + unrealized PnL - pending funding) and mark price, in one call.
    function snapshot(
        bytes32 market,
        address account
    ) external view returns (int256 size, int256 equity, uint256 price);

    /// @notice Size, equity and price as `snapshot`, at the last answer the feed pushed, and whether
    /// that answer is fresh (positive, within its heartbeat): never reverts, so views that must
    /// answer (ERC-4626's totalAssets, convertTo*, max*) can, and say "closed" when it is stale. An
    /// unlisted market reads as all zeros, not fresh.
    function lastSnapshot(
        bytes32 market,
        address account
    ) external view returns (int256 size, int256 equity, uint256 price, bool fresh);

    /// @notice Room left for the position to grow: margin (USDT), open cost (USDT) and size (18
    /// decimals), the least of what its own fields and the exchange's sums it counts in (the USDT owed
    /// in all, its side's open interest) have left. A trade past any of them reverts (SafeCast, or
    /// Panic on the USDT owed), so callers size against them.
    function capacity(
        bytes32 market,
        address account
    ) external view returns (uint256 margin, uint256 openCost, uint256 size);

    /// @notice Size, equity, mark price and the trade costs that apply now, in one call: what a
    /// contract needs to predict its own trade exactly (see PerpMath.tradeRoundingDown).
    function tradingSnapshot(bytes32 market, address account) external view returns (TradingSnapshot memory);

    /// @notice Margin + unrealized PnL - funding owed, at the mark price (may be negative).
    function equityOf(bytes32 market, address account) external view returns (int256);

    /// @notice Funding the position owes now (+ pays, - receives), not yet settled.
    function fundingOwed(bytes32 market, address account) external view returns (int256);

    /// @notice Notional over equity (WAD); type(uint256).max when equity is zero or negative.
    function leverageOf(bytes32 market, address account) external view returns (uint256);

    /// @notice The size `liquidate` would close now (signed like the position; 0 when it would revert).
    function liquidationSize(bytes32 market, address account) external view returns (int256);

    /// @notice Whether `liquidate` would succeed now.
    function isLiquidatable(bytes32 market, address account) external view returns (bool);

    /// @notice The highest leverage a new position may open at (WAD): 1 / initial margin ratio.
    function maxLeverage() external view returns (uint256);

    /// @notice The pool's USDT cash balance.
    function poolBalance() external view returns (uint256);

    /// @notice The pool: its `cash`; its `value`, cash less what every side of every market would
    /// take out if closed now (profit less funding owed; a side at a loss adds what it owes), at most
    /// all the USDT the exchange holds; and the cash `reserved` for the sides in profit, which
    /// `removeLiquidity` leaves. Sides are summed per market (all longs, all shorts), so a long
    /// at a loss offsets a long in profit. Reverts StalePrice when any market's price is stale.
    function liquidity() external view returns (uint256 cash, uint256 value, uint256 reserved);

    /// @notice The sum of all long sizes and of all short sizes (magnitude) in `market`, 18
    /// decimals, as counted for the pool (in units of 1e-8: longs rounded up, shorts down).
    function openInterest(bytes32 market) external view returns (uint256 longSize, uint256 shortSize);

    /// @notice The market as stored (its price impact and funding rate come in steps of 1e9 and 1e6
    /// of a WAD: they share the slot every trade reads).
    function marketInfo(bytes32 market) external view returns (MarketInfo memory);

    /// @notice The taker fee (WAD of notional) and linear price impact (WAD per 1,000,000 USDT of
    /// notional) a trade in `market` pays now.
    function tradeCosts(bytes32 market) external view returns (uint256 takerFee, uint256 priceImpact);

    /// @notice The current cumulative funding index of `market`, accrued to this second.
    function fundingIndex(bytes32 market) external view returns (int256);
}
