// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {IERC4626} from "@openzeppelin/contracts/interfaces/IERC4626.sol";
import {IPerpVault} from "./IPerpVault.sol";

/// @title ILeveragedToken
/// @notice A leveraged token: an ERC-4626 share over USDT whose assets are one perpetual position
/// (long or short) kept near a target leverage. Shares mint and redeem at NAV; the position grows
/// and shrinks pro rata, so other holders' leverage and NAV do not move. Fees flow into NAV.
/// Only the token's desk (`desk`) deposits and redeems before settlement, for the requests of a price
/// round after that round: ERC-4626's `deposit` and `redeem` are the desk's, `mint` and `withdraw`
/// by amount are never priced live (`UseTheDesk`); once Settled, anyone redeems or withdraws.
/// @dev Units: USDT 6 decimals, shares 18 decimals, price 8 decimals, leverage and rates WAD.
interface ILeveragedToken is IERC4626 {
    /* TYPES */

    /// @notice Active: mint and redeem. Delisting: redeem only, settlement scheduled. Settled:
    /// position closed, NAV frozen, holders paid in USDT. Depleted: equity reached zero.
    enum State {
        Active,
        Delisting,
        Settled,
        Depleted
    }

    /// @notice Everything the factory passes to a new token.
    struct Config {
        string name;
        string symbol;
        IPerpVault vault;
        bytes32 market;
        bool isLong;
        uint256 targetLeverage;
        uint256 minLeverage; // rebalance when leverage falls below
        uint256 maxLeverage; // rebalance when leverage rises above
        uint256 ripcordLeverage; // anyone may rebalance, for a bounty
        uint256 rebalanceEpsilon; // the daily rebalance runs when |leverage - target| exceeds this
        uint64 mintFee;
        uint64 redeemFee;
        uint64 managementFee; // WAD per year
        uint64 rebalanceBounty; // USDT paid to a non-keeper who pulls the ripcord
        uint128 supplyCap; // shares
        address treasury;
        address admin;
        address keeper;
        /// @dev The only account that may mint, and redeem while a price is at stake (a Settled token
        /// pays anyone): the token's ForwardDesk, which fills requests at the next price round, so no
        /// one mints or redeems at a price already known. Never zero.
        address desk;
    }

    /* EVENTS */

    /// @notice The position moved with a mint or a redeem: `sizeDelta` at `price`; the caller paid
    /// the trading `cost` (USDT) of its slice and `feeShares` to the treasury (the mint or redeem fee
    /// is taken in shares: minted to the treasury on a mint, transferred to it on a redeem).
    /// `managementFeeShares` is the management fee this call accrued to the treasury first.
    event PositionResized(
        int256 sizeDelta,
        uint256 price,
        uint256 cost,
        uint256 feeShares,
        uint256 managementFeeShares
    );
    /// @notice The position was traded back to target by `caller`: by `rebalance()`, or first thing in
    /// a mint or a redeem that found a rebalance due (any reason but depletion; no bounty), which is
    /// priced at its own `cost` and may share one exchange trade with the mint's or redeem's
    /// (TradesJoined). `managementFeeShares` is the management fee `rebalance()` accrued first (0
    /// inside a mint or a redeem, whose PositionResized reports it).
    event Rebalanced(
        address indexed caller,
        uint8 reason,
        uint256 leverageBefore,
        uint256 leverageAfter,
        int256 sizeDelta,
        uint256 price,
        uint256 cost,
        uint256 bounty,
        uint256 managementFeeShares
    );
    /// @notice A mint's or a redeem's trade and the due rebalance it ran first went to the exchange as
    /// one trade of `sizeDelta` costing `cost`, which left the token `saved` USDT more equity than the
    /// two trades apart would have (they point opposite ways, or the roundings favour one): the
    /// holders keep it, as the minter or redeemer is priced after the rebalance alone.
    event TradesJoined(int256 sizeDelta, uint256 cost, uint256 saved);
    /// @notice The management fee accrued `shares` to the treasury over `elapsed` seconds, outside a
    /// mint, a redeem or a rebalance (which report it in their own event): by `accrueManagementFee`,
    /// `setFees`, `setTreasury` or `settle`.
    event ManagementFeeAccrued(uint256 shares, uint256 elapsed);
    event DelistingScheduled(uint256 delistingTime);
    event Settled(uint256 assets, uint256 supply);
    event HolderSettled(address indexed holder, uint256 shares, uint256 assets);
    event Depleted(int256 equity, uint256 price);
    event FeesSet(uint64 mintFee, uint64 redeemFee, uint64 managementFee, uint64 rebalanceBounty);
    event TreasurySet(address treasury);
    event SupplyCapSet(uint128 supplyCap);
    event MintingPaused(bool paused);

    /* ERRORS */

    error TokenDepleted();
    error MintPaused();
    error InvalidState(State state);
    error SupplyCapExceeded(uint256 supplyAfter, uint256 cap);
    error RebalanceNotNeeded(uint256 leverage);
    error DelistingTooSoon(uint256 delistingTime, uint256 earliest);
    error DelistingNotReached(uint256 delistingTime);
    error InvalidParameter(string parameter, uint256 value);
    error ZeroAmount();
    error ZeroAddress();
    error ExceedsBalance(uint256 shares, uint256 balance);
    error ExchangeMismatch(int256 expectedEquity, int256 equity);
    /// @notice `payMargin` called by anything but the exchange, or outside a mint's own trade.
    error UnexpectedMarginCall(address caller);
    error DepositTooSmall(uint256 assets);
    /// @notice Only the token's desk mints, and redeems before settlement: place a request there.
    error OnlyDesk(address caller, address desk);
    /// @notice Redeeming `shares` would pay nothing (the fee takes them, or their slice's trading cost
    /// eats what they are worth); burning them would only cost the other holders.
    error RedeemTooSmall(uint256 shares);
    /// @notice No input up to `limit` reaches `target`: a settled withdrawal of more USDT than the
    /// owner's shares pay, or a supply cap no deposit up to the exchange's capacity reaches.
    error AmountUnreachable(uint256 target, uint256 limit);
    /// @notice Minting by shares, and withdrawing by USDT before settlement, are not priced at a
    /// live price: place a request at `desk` (ERC-7540), filled at the next price round.
    error UseTheDesk(address desk);

    /* REBALANCE AND FEES */

    /// @notice Whether a rebalance is due and why: 0 none, 1 leverage outside the band, 2 the daily
    /// 00:00 UTC rebalance (leverage off target by more than the epsilon), 3 leverage at or past the
    /// ripcord, 4 equity at zero (the token is depleted), 5 no position although the token has
    /// holders and equity (the exchange liquidated it: the token reopens at target).
    function rebalanceNeeded() external view returns (bool needed, uint8 reason);

    /// @notice Trades the position to exactly target leverage x equity / price. KEEPER_ROLE whenever
    /// a rebalance is due; anyone at the ripcord or to reopen a liquidated position, for the bounty.
    /// On zero equity it marks the token Depleted and closes what is left instead.
    function rebalance() external;

    /// @notice Mints the management fee accrued since the last accrual to the treasury.
    function accrueManagementFee() external;

    /* LIFECYCLE */

    /// @notice Stops minting now and schedules settlement at `delistingTime` (>= 3 days away).
    function scheduleDelisting(uint256 delistingTime) external;

    /// @notice Closes the position at or after the delisting time (or once depleted) and freezes
    /// NAV; redeem and settleHolders then pay the frozen NAV in USDT.
    function settle() external;

    /// @notice After settlement, pays each of `holders` its shares' worth at the frozen NAV. Skips the
    /// locked shares at 0xdEaD and the desk's (they belong to its requesters, who claim them and redeem).
    function settleHolders(address[] calldata holders) external;

    /* VIEWS */

    /// @notice NAV in USDT (6 decimals) per 1e18 shares, management fee accrued to this second.
    function nav() external view returns (uint256);

    /// @notice What a mint or a redeem prices against now: the supply (management fee accrued to this
    /// second) and the exchange equity after the rebalance a mint or a redeem runs first when one is
    /// due (floored at 0). The desk nets a batch's two sides at this NAV.
    function bookNow() external view returns (uint256 supply, uint256 equity);

    /// @notice Current leverage (WAD): |size x price| / equity.
    function leverage() external view returns (uint256);

    function targetLeverage() external view returns (uint256);

    /// @notice The exchange the position is on.
    function vault() external view returns (IPerpVault);

    /// @notice The ForwardDesk that alone mints and redeems at a live price (zero: anyone).
    function desk() external view returns (address);

    function isLong() external view returns (bool);

    function market() external view returns (bytes32);

    function state() external view returns (State);
}
