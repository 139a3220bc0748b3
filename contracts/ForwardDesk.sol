// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {IAccessControl} from "@openzeppelin/contracts/access/IAccessControl.sol";
import {IERC165} from "@openzeppelin/contracts/utils/introspection/IERC165.sol";
import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {IERC20Permit} from "@openzeppelin/contracts/token/ERC20/extensions/IERC20Permit.sol";
import {SafeERC20} from "@openzeppelin/contracts/token/ERC20/utils/SafeERC20.sol";
import {SafeCast} from "@openzeppelin/contracts/utils/math/SafeCast.sol";
import {Math} from "@openzeppelin/contracts/utils/math/Math.sol";
import {ReentrancyGuardTransient} from "@openzeppelin/contracts/utils/ReentrancyGuardTransient.sol";

import {IERC7575, IERC7540Operator, IERC7540Deposit, IERC7540Redeem} from "./interfaces/IERC7540.sol";
import {IForwardDesk} from "./interfaces/IForwardDesk.sol";
import {ILeveragedToken} from "./interfaces/ILeveragedToken.sol";
import {IPerpVault} from "./interfaces/IPerpVault.sol";
import {MathLib} from "./libraries/MathLib.sol";
import {TokenMath} from "./libraries/TokenMath.sol";

/// @dev The token's packed status, as its public getter returns it.
interface ITokenStatus {
    function status()
        external
        view
        returns (uint32, uint32, ILeveragedToken.State state, bool mintPaused, bool, uint80, uint56, uint16, uint16);
}

/// @dev Where the token's fees go.
interface ITokenTreasury {
    function treasury() external view returns (address);
}

/// @title ForwardDesk
/// @notice See IForwardDesk. Every entry point reads the same way: checks, fold the controller's
/// filled order into its claim, compute, write storage, emit, transfer last.
contract ForwardDesk is IForwardDesk, IERC165, ReentrancyGuardTransient {
    using SafeERC20 for IERC20;
    using SafeCast for uint256;

    /* CONSTANTS AND IMMUTABLES */

    bytes32 internal constant KEEPER_ROLE = keccak256("KEEPER_ROLE");
    /// @dev A refusal that left less than this share of the gas the call was given is out of gas,
    /// not the token's answer: the fill reverts rather than refuse a batch for a caller's gas limit.
    uint256 internal constant STARVED = 64;
    uint256 internal constant MIN_FILL_DELAY = 1 minutes;
    uint256 internal constant MAX_FILL_DELAY = 1 days;
    uint256 internal constant MAX_FILL_BOUNTY = 100e6;
    /// @dev The most epochs one fill takes, so a fill's gas stays bounded however long the keeper was
    /// away (each epoch costs it one storage write); the rest go in the next fill, at its price.
    uint256 internal constant MAX_FILL_EPOCHS = 64;
    /// @dev The token's status packs its mint and redeem fees in pips of 1e-6 (WAD 1e12).
    uint256 internal constant FEE_PIP = 1e12;

    ILeveragedToken public immutable token;
    IERC20 internal immutable usdt;
    IPerpVault internal immutable vault;
    bytes32 internal immutable market;
    uint256 public immutable fillDelay;
    uint256 public immutable fillBounty;

    /* STORAGE */

    /// @dev What was requested (`given`: USDT for deposits, shares for redemptions) and what the
    /// fill gave for it (`got`: shares, USDT).
    struct Side {
        uint128 given;
        uint128 got;
    }

    /// @dev The requests placed in one price round. A fill writes `filledBy` (the batch: the last
    /// epoch it filled) on each epoch it took, and the batch's totals and results on that last one.
    struct Epoch {
        uint40 round;
        uint40 placedAt;
        uint64 filledBy;
        bool depositRefused;
        bool redeemRefused;
        Side deposits;
        Side redemptions;
    }

    /// @dev A controller's unfilled (or just filled, not yet folded) request: its epoch and amount.
    struct Order {
        uint64 epoch;
        uint128 amount;
    }

    uint64 internal openEpoch;
    uint64 internal nextToFill = 1;
    mapping(uint256 epoch => Epoch) internal epochOf;
    mapping(address controller => Order) internal depositOrder;
    mapping(address controller => Order) internal redeemOrder;
    mapping(address controller => Side) internal depositClaim;
    mapping(address controller => Side) internal redeemClaim;
    /// @inheritdoc IERC7540Operator
    mapping(address controller => mapping(address operator => bool)) public isOperator;

    constructor(ILeveragedToken token_, uint256 fillDelay_, uint256 fillBounty_) {
        if (address(token_) == address(0)) revert ZeroAddress();
        if (fillDelay_ < MIN_FILL_DELAY || fillDelay_ > MAX_FILL_DELAY)
            revert InvalidParameter("fillDelay", fillDelay_);
        if (fillBounty_ > MAX_FILL_BOUNTY) revert InvalidParameter("fillBounty", fillBounty_);
        token = token_;
        usdt = IERC20(token_.asset());
        vault = token_.vault();
        market = token_.market();
        fillDelay = fillDelay_;
        fillBounty = fillBounty_;
        // the token takes a fill's deposit through its margin callback
        usdt.forceApprove(address(token_), type(uint256).max);
    }

    /* REQUESTS */

    /// @inheritdoc IERC7540Deposit
    function requestDeposit(uint256 assets, address controller, address owner) public nonReentrant returns (uint256) {
        if (assets == 0) revert ZeroAmount();
        if (controller == address(0)) revert ZeroAddress();
        _requireOperator(owner);
        if (controller != owner) _requireOperator(controller);
        (, , ILeveragedToken.State state, bool paused, , , , , ) = ITokenStatus(address(token)).status();
        if (state != ILeveragedToken.State.Active || paused) revert RequestClosed(state, paused);
        uint256 epoch = _epochForRequest();
        _place(depositOrder[controller], depositClaim[controller], controller, epoch, assets, true);
        epochOf[epoch].deposits.given += assets.toUint128();
        emit DepositRequest(controller, owner, 0, msg.sender, assets);
        usdt.safeTransferFrom(owner, address(this), assets);
        return 0;
    }

    /// @inheritdoc IForwardDesk
    function requestDepositWithPermit(
        uint256 assets,
        address controller,
        uint256 deadline,
        uint8 v,
        bytes32 r,
        bytes32 s
    ) external returns (uint256) {
        // the permit is public once sent: whoever submits it first sets the same allowance
        try IERC20Permit(address(usdt)).permit(msg.sender, address(this), assets, deadline, v, r, s) {} catch {
            uint256 allowance = usdt.allowance(msg.sender, address(this));
            if (allowance < assets) revert PermitRejected(msg.sender, allowance, assets);
        }
        return requestDeposit(assets, controller, msg.sender);
    }

    /// @inheritdoc IERC7540Redeem
    /// @dev The shares move with the owner's ERC-20 allowance to this desk (the share token is
    /// another contract); a caller other than the owner must be its operator.
    function requestRedeem(uint256 shares, address controller, address owner) external nonReentrant returns (uint256) {
        if (shares == 0) revert ZeroAmount();
        if (controller == address(0)) revert ZeroAddress();
        _requireOperator(owner);
        if (controller != owner) _requireOperator(controller);
        ILeveragedToken.State state = token.state();
        if (state != ILeveragedToken.State.Active && state != ILeveragedToken.State.Delisting) {
            revert RequestClosed(state, false);
        }
        uint256 epoch = _epochForRequest();
        _place(redeemOrder[controller], redeemClaim[controller], controller, epoch, shares, false);
        epochOf[epoch].redemptions.given += shares.toUint128();
        emit RedeemRequest(controller, owner, 0, msg.sender, shares);
        IERC20(address(token)).safeTransferFrom(owner, address(this), shares);
        return 0;
    }

    /// @inheritdoc IForwardDesk
    function cancelDepositRequest(address controller) external nonReentrant returns (uint256 assets) {
        _requireOperator(controller);
        uint256 epoch;
        (epoch, assets) = _cancel(depositOrder[controller], true);
        _return(controller, epoch, assets, true);
    }

    /// @inheritdoc IForwardDesk
    function cancelRedeemRequest(address controller) external nonReentrant returns (uint256 shares) {
        _requireOperator(controller);
        uint256 epoch;
        (epoch, shares) = _cancel(redeemOrder[controller], false);
        _return(controller, epoch, shares, false);
    }

    /// @inheritdoc IERC7540Operator
    function setOperator(address operator, bool approved) external returns (bool) {
        isOperator[msg.sender][operator] = approved;
        emit OperatorSet(msg.sender, operator, approved);
        return true;
    }

    /* FILLS */

    /// @inheritdoc IForwardDesk
    function fill() external nonReentrant returns (uint256 batch) {
        uint256 round = _freshRound();
        uint256 first = nextToFill;
        Side memory deposits;
        Side memory redemptions;
        uint256 placedAt;
        {
            (uint256 end, uint256 assetsIn, uint256 sharesIn, uint256 oldest) = _fillable(first, round);
            (batch, deposits.given, redemptions.given) = (end, assetsIn.toUint128(), sharesIn.toUint128());
            placedAt = oldest;
        }
        if (batch < first) revert NothingToFill(round);
        bool keeper = IAccessControl(address(token)).hasRole(KEEPER_ROLE, msg.sender);
        // epochs emptied by cancels hold nothing: anyone may clear them, at once and for nothing
        if (!keeper && placedAt != 0) {
            uint256 lateAt = placedAt + fillDelay;
            if (block.timestamp < lateAt) revert FillNotLate(lateAt);
        }
        (bool depositRefused, bool redeemRefused, uint256 bounty) = _trade(deposits, redemptions, keeper);
        for (uint256 e = first; e <= batch; ++e) epochOf[e].filledBy = uint64(batch);
        Epoch storage last = epochOf[batch];
        (last.depositRefused, last.redeemRefused) = (depositRefused, redeemRefused);
        (last.deposits, last.redemptions) = (deposits, redemptions);
        nextToFill = uint64(batch + 1);
        emit Filled(
            batch,
            first,
            round,
            deposits.given,
            deposits.got,
            redemptions.given,
            redemptions.got,
            depositRefused,
            redeemRefused,
            msg.sender,
            bounty
        );
        if (bounty != 0) usdt.safeTransfer(msg.sender, bounty);
    }

    /// @inheritdoc IForwardDesk
    function fillNeeded() external view returns (bool needed, uint256 lateAt) {
        uint256 first = nextToFill;
        (uint256 batch, , , uint256 placedAt) = _fillable(first, _round());
        needed = batch >= first;
        if (placedAt != 0) lateAt = placedAt + fillDelay;
    }

    /* CLAIMS */

    /// @inheritdoc IERC7575
    function deposit(uint256 assets, address receiver) external returns (uint256) {
        return deposit(assets, receiver, msg.sender);
    }

    /// @inheritdoc IERC7540Deposit
    function deposit(
        uint256 assets,
        address receiver,
        address controller
    ) public nonReentrant returns (uint256 shares) {
        Side storage claim = _claimOf(depositOrder[controller], depositClaim[controller], controller, true);
        shares = _take(claim, assets, false);
        emit Deposit(controller, receiver, assets, shares);
        IERC20(address(token)).safeTransfer(receiver, shares);
    }

    /// @inheritdoc IERC7575
    function mint(uint256 shares, address receiver) external returns (uint256) {
        return mint(shares, receiver, msg.sender);
    }

    /// @inheritdoc IERC7540Deposit
    function mint(uint256 shares, address receiver, address controller) public nonReentrant returns (uint256 assets) {
        Side storage claim = _claimOf(depositOrder[controller], depositClaim[controller], controller, true);
        assets = _take(claim, shares, true);
        emit Deposit(controller, receiver, assets, shares);
        IERC20(address(token)).safeTransfer(receiver, shares);
    }

    /// @inheritdoc IERC7575
    function redeem(
        uint256 shares,
        address receiver,
        address controller
    ) external nonReentrant returns (uint256 assets) {
        Side storage claim = _claimOf(redeemOrder[controller], redeemClaim[controller], controller, false);
        assets = _take(claim, shares, false);
        emit Withdraw(msg.sender, receiver, controller, assets, shares);
        usdt.safeTransfer(receiver, assets);
    }

    /// @inheritdoc IERC7575
    function withdraw(
        uint256 assets,
        address receiver,
        address controller
    ) external nonReentrant returns (uint256 shares) {
        Side storage claim = _claimOf(redeemOrder[controller], redeemClaim[controller], controller, false);
        shares = _take(claim, assets, true);
        emit Withdraw(msg.sender, receiver, controller, assets, shares);
        usdt.safeTransfer(receiver, assets);
    }

    /* VIEWS */

    /// @inheritdoc IERC7540Deposit
    function pendingDepositRequest(uint256, address controller) external view returns (uint256) {
        return _pending(depositOrder[controller]);
    }

    /// @inheritdoc IERC7540Deposit
    function claimableDepositRequest(uint256, address controller) external view returns (uint256 assets) {
        (assets, ) = _claimable(depositOrder[controller], depositClaim[controller], true);
    }

    /// @inheritdoc IERC7540Redeem
    function pendingRedeemRequest(uint256, address controller) external view returns (uint256) {
        return _pending(redeemOrder[controller]);
    }

    /// @inheritdoc IERC7540Redeem
    function claimableRedeemRequest(uint256, address controller) external view returns (uint256 shares) {
        (shares, ) = _claimable(redeemOrder[controller], redeemClaim[controller], false);
    }

    /// @inheritdoc IForwardDesk
    function refundable(address controller) external view returns (uint256 assets, uint256 shares) {
        assets = _refused(depositOrder[controller], true);
        shares = _refused(redeemOrder[controller], false);
    }

    /// @inheritdoc IERC7575
    /// @dev The USDT of `controller`'s claimable deposits.
    function maxDeposit(address controller) external view returns (uint256 assets) {
        (assets, ) = _claimable(depositOrder[controller], depositClaim[controller], true);
    }

    /// @inheritdoc IERC7575
    /// @dev The shares of `controller`'s claimable deposits.
    function maxMint(address controller) external view returns (uint256 shares) {
        (, shares) = _claimable(depositOrder[controller], depositClaim[controller], true);
    }

    /// @inheritdoc IERC7575
    /// @dev The USDT of `controller`'s claimable redemptions.
    function maxWithdraw(address controller) external view returns (uint256 assets) {
        (, assets) = _claimable(redeemOrder[controller], redeemClaim[controller], false);
    }

    /// @inheritdoc IERC7575
    /// @dev The shares of `controller`'s claimable redemptions.
    function maxRedeem(address controller) external view returns (uint256 shares) {
        (shares, ) = _claimable(redeemOrder[controller], redeemClaim[controller], false);
    }

    /// @inheritdoc IERC7575
    /// @dev Reverts AsyncFlow: a deposit is priced at a price round not yet known (ERC-7540).
    function previewDeposit(uint256) external pure returns (uint256) {
        revert AsyncFlow();
    }

    /// @inheritdoc IERC7575
    /// @dev Reverts AsyncFlow (ERC-7540).
    function previewMint(uint256) external pure returns (uint256) {
        revert AsyncFlow();
    }

    /// @inheritdoc IERC7575
    /// @dev Reverts AsyncFlow (ERC-7540).
    function previewWithdraw(uint256) external pure returns (uint256) {
        revert AsyncFlow();
    }

    /// @inheritdoc IERC7575
    /// @dev Reverts AsyncFlow (ERC-7540).
    function previewRedeem(uint256) external pure returns (uint256) {
        revert AsyncFlow();
    }

    /// @inheritdoc IERC7575
    function asset() external view returns (address) {
        return address(usdt);
    }

    /// @inheritdoc IERC7575
    function share() external view returns (address) {
        return address(token);
    }

    /// @inheritdoc IERC7575
    function totalAssets() external view returns (uint256) {
        return token.totalAssets();
    }

    /// @inheritdoc IERC7575
    function convertToShares(uint256 assets) external view returns (uint256) {
        return token.convertToShares(assets);
    }

    /// @inheritdoc IERC7575
    function convertToAssets(uint256 shares) external view returns (uint256) {
        return token.convertToAssets(shares);
    }

    /// @inheritdoc IForwardDesk
    function currentRound() external view returns (uint256) {
        return _round();
    }

    /// @inheritdoc IForwardDesk
    function epochs() external view returns (uint256 open, uint256 next) {
        return (openEpoch, nextToFill);
    }

    /// @inheritdoc IERC165
    function supportsInterface(bytes4 interfaceId) external pure returns (bool) {
        return
            interfaceId == type(IERC165).interfaceId ||
            interfaceId == type(IERC7575).interfaceId ||
            interfaceId == type(IERC7540Operator).interfaceId ||
            interfaceId == type(IERC7540Deposit).interfaceId ||
            interfaceId == type(IERC7540Redeem).interfaceId;
    }

    /* INTERNAL */

    /// @dev The batch at the price now: netted when it has both sides (`_net`), else, or when the
    /// token refuses the net, the token's mint of the batch's USDT and its redeem of the batch's
    /// shares; sets each side's `got`. A side the token reverts is refused (its requesters take it
    /// back), unless the revert came from the caller's gas limit. A late fill's bounty is paid by the
    /// deposits, or by the redemptions when no deposit was filled.
    function _trade(
        Side memory deposits,
        Side memory redemptions,
        bool keeper
    ) internal returns (bool depositRefused, bool redeemRefused, uint256 bounty) {
        bounty = keeper ? 0 : Math.min(fillBounty, deposits.given / 100);
        if (deposits.given != 0 && redemptions.given != 0 && _net(deposits, redemptions, deposits.given - bounty)) {
            return (false, false, bounty);
        }
        if (deposits.given != 0) {
            uint256 gas = gasleft();
            try token.deposit(deposits.given - bounty, address(this)) returns (uint256 shares) {
                deposits.got = shares.toUint128();
            } catch {
                _requireNotStarved(gas);
                (depositRefused, bounty) = (true, 0);
            }
        }
        if (redemptions.given != 0) {
            uint256 gas = gasleft();
            try token.redeem(redemptions.given, address(this), address(this)) returns (uint256 assets) {
                uint256 redeemBounty = keeper || deposits.got != 0 ? 0 : Math.min(fillBounty, assets / 100);
                bounty += redeemBounty;
                redemptions.got = (assets - redeemBounty).toUint128();
            } catch {
                _requireNotStarved(gas);
                redeemRefused = true;
            }
        }
    }

    /// @dev Nets the batch's deposits (`assets` USDT, the bounty taken) against its redemptions: the
    /// redeemers' shares pass to the depositors at the NAV a mint or a redeem prices against now
    /// (`bookNow`: after the rebalance the rest's trade runs first when one is due; shares to USDT
    /// rounded down, or USDT to shares when the deposits are the smaller side), with the token's redeem fee on the
    /// shares given and its mint fee on the shares passed, both rounded up and sent to the treasury;
    /// only the rest of the larger side goes through the token, one trade instead of two. Supply and
    /// equity do not move for the matched part, so holders who did not trade are untouched. Only on a
    /// token that takes mints (Active, not paused); false, nothing done, when it does not, when
    /// nothing matches, or when the token refuses the rest (the fill then trades the sides apart).
    function _net(Side memory deposits, Side memory redemptions, uint256 assets) internal returns (bool) {
        (, , ILeveragedToken.State state, bool paused, , , , uint256 mintFee, uint256 redeemFee) = ITokenStatus(
            address(token)
        ).status();
        if (state != ILeveragedToken.State.Active || paused) return false;
        (mintFee, redeemFee) = (mintFee * FEE_PIP, redeemFee * FEE_PIP);
        uint256 given = redemptions.given;
        uint256 redeemFeeShares = TokenMath.feeUp(given, redeemFee);
        uint256 shares = given - redeemFeeShares;
        (uint256 supply, uint256 equity) = token.bookNow();
        uint256 paid = TokenMath.toAssetsDown(shares, equity, supply);
        if (paid > assets) {
            // the deposits are the smaller side: all of them buy shares, the rest is redeemed
            (paid, shares) = (assets, TokenMath.toSharesDown(assets, supply, equity));
            given = Math.min(MathLib.mulDivUp(shares, TokenMath.WAD, TokenMath.WAD - redeemFee), given);
            redeemFeeShares = given - shares;
        }
        if (shares == 0) return false;
        uint256 mintFeeShares = TokenMath.feeUp(shares, mintFee);
        uint256 sharesOut = shares - mintFeeShares;
        uint256 assetsOut = paid;
        uint256 gas = gasleft();
        if (assets > paid) {
            try token.deposit(assets - paid, address(this)) returns (uint256 minted) {
                sharesOut += minted;
            } catch {
                _requireNotStarved(gas);
                return false;
            }
        } else if (redemptions.given > given) {
            try token.redeem(redemptions.given - given, address(this), address(this)) returns (uint256 out) {
                assetsOut += out;
            } catch {
                _requireNotStarved(gas);
                return false;
            }
        }
        (deposits.got, redemptions.got) = (sharesOut.toUint128(), assetsOut.toUint128());
        emit Netted(shares, paid, redeemFeeShares, mintFeeShares);
        uint256 feeShares = redeemFeeShares + mintFeeShares;
        if (feeShares != 0) IERC20(address(token)).safeTransfer(ITokenTreasury(address(token)).treasury(), feeShares);
        return true;
    }

    /// @dev The current price round; reverts StalePrice when that price is too old to trade at.
    function _freshRound() internal view returns (uint256) {
        IPerpVault.MarketInfo memory info = vault.marketInfo(market);
        if (block.timestamp > info.updatedAt + info.heartbeat) {
            revert IPerpVault.StalePrice(market, info.updatedAt, info.heartbeat);
        }
        return info.updatedAt;
    }

    function _round() internal view returns (uint256) {
        return vault.marketInfo(market).updatedAt;
    }

    /// @dev The epoch a request placed now joins: the open one while its round is the current one,
    /// else a new one for this round.
    function _epochForRequest() internal returns (uint256 epoch) {
        uint256 round = _round();
        epoch = openEpoch;
        if (epoch != 0 && epochOf[epoch].round == round) return epoch;
        epoch += 1;
        openEpoch = uint64(epoch);
        Epoch storage e = epochOf[epoch];
        (e.round, e.placedAt) = (uint40(round), uint40(block.timestamp));
    }

    /// @dev The last epoch a fill now takes (below `first` when none), the USDT and shares its epochs
    /// hold, and when the oldest of them that holds any was placed (0: all empty): every epoch from
    /// `first` placed before `round`, at most MAX_FILL_EPOCHS.
    function _fillable(
        uint256 first,
        uint256 round
    ) internal view returns (uint256 batch, uint256 assets, uint256 shares, uint256 placedAt) {
        uint256 end = Math.min(openEpoch, first - 1 + MAX_FILL_EPOCHS);
        batch = first - 1;
        while (batch < end) {
            Epoch storage e = epochOf[batch + 1];
            if (e.round >= round) break;
            ++batch;
            (uint256 epochAssets, uint256 epochShares) = (e.deposits.given, e.redemptions.given);
            if (placedAt == 0 && (epochAssets != 0 || epochShares != 0)) placedAt = e.placedAt;
            assets += epochAssets;
            shares += epochShares;
        }
    }

    /// @dev Adds `amount` to the controller's order in `epoch`. An order of an earlier epoch is folded
    /// first: into the claim once filled, back to the controller if the fill refused it; one still
    /// waiting for its fill reverts RequestPending.
    function _place(
        Order storage order,
        Side storage claim,
        address controller,
        uint256 epoch,
        uint256 amount,
        bool isDeposit
    ) internal {
        uint256 placed = order.epoch;
        if (placed != 0 && placed != epoch) {
            uint256 batch = epochOf[placed].filledBy;
            if (batch == 0) revert RequestPending(placed);
            if (_refusedBy(batch, isDeposit)) {
                uint256 refund = order.amount;
                order.amount = 0;
                _return(controller, placed, refund, isDeposit);
            } else {
                _fold(order, claim, batch, isDeposit);
            }
        }
        order.epoch = uint64(epoch);
        order.amount += amount.toUint128();
    }

    /// @dev Returns a refused or cancelled order to its controller.
    function _return(address controller, uint256 epoch, uint256 amount, bool isDeposit) internal {
        if (isDeposit) {
            emit DepositRequestCancelled(controller, epoch, amount);
            usdt.safeTransfer(controller, amount);
        } else {
            emit RedeemRequestCancelled(controller, epoch, amount);
            IERC20(address(token)).safeTransfer(controller, amount);
        }
    }

    /// @dev Removes the order, if it may be cancelled: its round is still the current one (its epoch's
    /// total falls by it), or its fill refused it.
    function _cancel(Order storage order, bool isDeposit) internal returns (uint256 epoch, uint256 amount) {
        (epoch, amount) = (order.epoch, order.amount);
        if (epoch == 0 || amount == 0) revert NotCancellable(0);
        Epoch storage e = epochOf[epoch];
        uint256 batch = e.filledBy;
        if (batch == 0) {
            if (e.round != _round()) revert NotCancellable(epoch);
            if (isDeposit) e.deposits.given -= uint128(amount);
            else e.redemptions.given -= uint128(amount);
        } else if (!_refusedBy(batch, isDeposit)) {
            revert NotCancellable(epoch);
        }
        delete order.epoch;
        delete order.amount;
    }

    /// @dev Moves a filled order into the claim: its pro-rata share of the batch's result, rounded down.
    function _fold(Order storage order, Side storage claim, uint256 batch, bool isDeposit) internal {
        uint256 given = order.amount;
        Side memory result = isDeposit ? epochOf[batch].deposits : epochOf[batch].redemptions;
        uint256 got = MathLib.mulDivDown(given, result.got, result.given);
        (claim.given, claim.got) = (claim.given + uint128(given), claim.got + got.toUint128());
        delete order.epoch;
        delete order.amount;
    }

    /// @dev The controller's claim, its filled order folded in; the caller must be it or its operator.
    function _claimOf(
        Order storage order,
        Side storage claim,
        address controller,
        bool isDeposit
    ) internal returns (Side storage) {
        _requireOperator(controller);
        uint256 placed = order.epoch;
        if (placed != 0) {
            uint256 batch = epochOf[placed].filledBy;
            if (batch != 0 && !_refusedBy(batch, isDeposit)) _fold(order, claim, batch, isDeposit);
        }
        return claim;
    }

    /// @dev Takes `amount` of the claim's `given` (or of its `got` when `byGot`) and returns the other
    /// side: the whole claim for all of it, else pro rata, rounded against the claimer.
    function _take(Side storage claim, uint256 amount, bool byGot) internal returns (uint256 other) {
        if (amount == 0) revert ZeroAmount();
        (uint256 given, uint256 got) = (claim.given, claim.got);
        if (byGot) {
            if (amount > got) revert ExceedsClaimable(amount, got);
            other = amount == got ? given : MathLib.mulDivUp(amount, given, got);
            (claim.given, claim.got) = (uint128(given - other), uint128(got - amount));
        } else {
            if (amount > given) revert ExceedsClaimable(amount, given);
            other = amount == given ? got : MathLib.mulDivDown(amount, got, given);
            (claim.given, claim.got) = (uint128(given - amount), uint128(got - other));
        }
    }

    function _refusedBy(uint256 batch, bool isDeposit) internal view returns (bool) {
        return isDeposit ? epochOf[batch].depositRefused : epochOf[batch].redeemRefused;
    }

    function _pending(Order storage order) internal view returns (uint256) {
        uint256 placed = order.epoch;
        return placed != 0 && epochOf[placed].filledBy == 0 ? order.amount : 0;
    }

    function _refused(Order storage order, bool isDeposit) internal view returns (uint256) {
        uint256 placed = order.epoch;
        if (placed == 0) return 0;
        uint256 batch = epochOf[placed].filledBy;
        return batch != 0 && _refusedBy(batch, isDeposit) ? order.amount : 0;
    }

    /// @dev The claim with the filled order folded in, as `_claimOf` would leave it.
    function _claimable(
        Order storage order,
        Side storage claim,
        bool isDeposit
    ) internal view returns (uint256 given, uint256 got) {
        (given, got) = (claim.given, claim.got);
        uint256 placed = order.epoch;
        if (placed == 0) return (given, got);
        uint256 batch = epochOf[placed].filledBy;
        if (batch == 0 || _refusedBy(batch, isDeposit)) return (given, got);
        Side memory result = isDeposit ? epochOf[batch].deposits : epochOf[batch].redemptions;
        given += order.amount;
        got += MathLib.mulDivDown(order.amount, result.got, result.given);
    }

    function _requireOperator(address account) internal view {
        if (account != msg.sender && !isOperator[account][msg.sender]) revert NotOperator(account, msg.sender);
    }

    function _requireNotStarved(uint256 gasBefore) internal view {
        if (gasleft() < gasBefore / STARVED) revert FillOutOfGas();
    }
}
