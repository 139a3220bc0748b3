// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {IERC7575, IERC7540Operator, IERC7540Deposit, IERC7540Redeem} from "./IERC7540.sol";
import {ILeveragedToken} from "./ILeveragedToken.sol";

/// @title IForwardDesk
/// @notice Forward pricing for one leveraged token (ERC-7540 with ERC-7575: the token is the share).
/// A mint or a redeem is a request, filled at the first price round strictly after the one it was
/// placed in, never at a price its requester could already see: knowing the next oracle update is
/// worth nothing. A fill takes every request placed before the current round in one batch, at one
/// NAV (the token's own mint and redeem at the new price, each side paying its own trading cost and
/// the token's fees pro rata); holders who did not trade are untouched, by the token's pro-rata rule.
/// Fills leave the shares and the USDT claimable (ERC-7540 forbids pushing them): the controller
/// claims with ERC-4626's `deposit`/`mint` (shares) and `redeem`/`withdraw` (USDT).
/// @dev Requests are aggregated per controller (request id 0, as ERC-7540 allows): a controller has at
/// most one pending deposit and one pending redemption, each in one epoch (the requests placed in
/// one price round). Rounds are the exchange's price times (`marketInfo(market).updatedAt`), which
/// only grow. Units: USDT 6 decimals, shares 18.
interface IForwardDesk is IERC7575, IERC7540Operator, IERC7540Deposit, IERC7540Redeem {
    /* EVENTS */

    /// @notice A batch was filled at price round `round`: epochs `firstEpoch`..`batch` (their
    /// requests) gave `assetsIn` USDT for `sharesOut` shares and `sharesIn` shares for `assetsOut` USDT.
    /// A side the token refused (`depositRefused`, `redeemRefused`: paused, delisted, depleted, too
    /// small) is returned to its requesters through the cancel calls. `bounty` (USDT) went to a
    /// caller who filled a late batch without the keeper role; the side it was taken from paid it.
    event Filled(
        uint256 indexed batch,
        uint256 firstEpoch,
        uint256 round,
        uint256 assetsIn,
        uint256 sharesOut,
        uint256 sharesIn,
        uint256 assetsOut,
        bool depositRefused,
        bool redeemRefused,
        address caller,
        uint256 bounty
    );
    /// @notice The fill that follows netted its deposits against its redemptions: `shares` passed from
    /// the redeemers to the depositors for `assets` USDT at the token's NAV; the treasury got
    /// `redeemFeeShares` (the redeem fee on the shares given) and `mintFeeShares` (the mint fee on
    /// those passed). Only the rest of the larger side traded through the token.
    event Netted(uint256 shares, uint256 assets, uint256 redeemFeeShares, uint256 mintFeeShares);
    /// @notice `controller`'s deposit request of epoch `epoch` was cancelled and `assets` returned.
    event DepositRequestCancelled(address indexed controller, uint256 indexed epoch, uint256 assets);
    /// @notice `controller`'s redeem request of epoch `epoch` was cancelled and `shares` returned.
    event RedeemRequestCancelled(address indexed controller, uint256 indexed epoch, uint256 shares);

    /* ERRORS */

    error ZeroAmount();
    error ZeroAddress();
    /// @notice A fill rule out of bounds: `fillDelay` 1 minute to 1 day, `fillBounty` at most 100 USDT.
    error InvalidParameter(string parameter, uint256 value);
    /// @notice The caller is neither `controller` (or `owner`) nor an operator it approved. A request
    /// for a controller other than its owner needs that controller's consent too (its own call or its
    /// operator's), so nobody can tie another account to a request it did not want.
    error NotOperator(address account, address caller);
    /// @notice ERC-7540: previews revert for asynchronous flows (the price is not known yet).
    error AsyncFlow();
    /// @notice The token does not take this request in its state (mints: Active and not paused;
    /// redemptions: Active or Delisting; a Settled token pays out through its own `redeem`).
    error RequestClosed(ILeveragedToken.State state, bool mintPaused);
    /// @notice The controller's request of an earlier epoch waits for its fill; a new one may be
    /// placed once it is filled.
    error RequestPending(uint256 epoch);
    /// @notice Nothing placed before the current price round waits for a fill.
    error NothingToFill(uint256 round);
    /// @notice Only the keeper fills before `lateAt`; anyone may after, for the bounty.
    error FillNotLate(uint256 lateAt);
    /// @notice No request to cancel, or it can no longer be cancelled: a newer price round exists and
    /// the fill did not refuse it.
    error NotCancellable(uint256 epoch);
    /// @notice The token's refusal came with under 1/64 of the gas the call had: the caller's gas
    /// limit, not the token, stopped it (a fill never refuses a batch for that).
    error FillOutOfGas();
    /// @notice A claim of more than is claimable.
    error ExceedsClaimable(uint256 amount, uint256 claimable);
    /// @notice A permit that did not set the allowance a request needs: a wrong signature, a passed
    /// deadline or a used nonce (a permit someone else submitted first has set it, and goes through).
    error PermitRejected(address owner, uint256 allowance, uint256 assets);

    /* REQUESTS */

    /// @notice `requestDeposit(assets, controller, msg.sender)` in one transaction with the caller's
    /// EIP-2612 permit of `assets` USDT to this desk (signed for `deadline`), so no approval comes
    /// first. A permit already used (someone copied it from the mempool and sent it first) is fine
    /// when it set the allowance; otherwise reverts PermitRejected.
    function requestDepositWithPermit(
        uint256 assets,
        address controller,
        uint256 deadline,
        uint8 v,
        bytes32 r,
        bytes32 s
    ) external returns (uint256 requestId);

    /// @notice Cancels `controller`'s deposit request and returns its USDT to `controller`: while its
    /// price round is still the current one, or once a fill refused it. Controller or operator.
    function cancelDepositRequest(address controller) external returns (uint256 assets);

    /// @notice Cancels `controller`'s redeem request and returns its shares to `controller`: while its
    /// price round is still the current one, or once a fill refused it. Controller or operator.
    function cancelRedeemRequest(address controller) external returns (uint256 shares);

    /* FILLS */

    /// @notice Fills every request placed before the current price round (up to 64 epochs; the rest in
    /// the next fill), in one batch at one NAV. The keeper (the token's KEEPER_ROLE) any time there is
    /// one; anyone once the oldest request waited `fillDelay` seconds since it was placed, for a bounty
    /// of at most `fillBounty` and 1% of the side that pays it (the deposits, else the redemptions).
    /// Epochs that cancels emptied are cleared by anyone at once, for nothing. Returns the batch id.
    function fill() external returns (uint256 batch);

    /// @notice Whether `fill` has work (epochs placed before the current round), and from when anyone
    /// may do it (0: at once, the epochs hold nothing; or there is no work).
    function fillNeeded() external view returns (bool needed, uint256 lateAt);

    /* VIEWS */

    /// @notice The leveraged token (the share).
    function token() external view returns (ILeveragedToken);

    /// @notice Seconds after a request is placed from which anyone may fill it (1 minute to 1 day).
    function fillDelay() external view returns (uint256);

    /// @notice The most a late fill pays its caller (USDT; at most 100).
    function fillBounty() external view returns (uint256);

    /// @notice The current price round: the exchange's time of the market's last price.
    function currentRound() external view returns (uint256);

    /// @notice The epoch taking requests in the current round (0 before the first request), and the
    /// oldest epoch not yet filled.
    function epochs() external view returns (uint256 open, uint256 nextToFill);

    /// @notice USDT (deposits) and shares (redemptions) a fill refused, for `controller` to cancel.
    function refundable(address controller) external view returns (uint256 assets, uint256 shares);
}
