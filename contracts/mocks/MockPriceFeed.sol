// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {AggregatorV3Interface} from "@chainlink/contracts/src/v0.8/shared/interfaces/AggregatorV3Interface.sol";
import {AccessControl} from "@openzeppelin/contracts/access/AccessControl.sol";

import {IPriceListener, IPricePusher} from "../interfaces/IPriceListener.sol";

/// @title MockPriceFeed
/// @notice A Chainlink-style USD price feed (8 decimals) whose answers are pushed by UPDATER_ROLE.
/// Round ids are Chainlink proxy ids, `phaseId << 64 | aggregatorRoundId`, starting at phase 1,
/// round 1; every past round stays readable with `getRoundData`. `updatedAt` is the block time.
/// Every answer is also pushed to the listener, if one is set (the exchange, which keeps the latest
/// answer of each market in the slot every trade reads anyway instead of calling the feed).
contract MockPriceFeed is AggregatorV3Interface, IPricePusher, AccessControl {
    bytes32 public constant UPDATER_ROLE = keccak256("UPDATER_ROLE");
    uint80 internal constant PHASE_OFFSET = uint80(1) << 64;

    /// @dev A past round.
    struct Round {
        int192 answer;
        uint64 updatedAt;
    }

    /// @dev The latest round in one slot, read by every trade.
    struct Latest {
        uint64 round;
        uint64 updatedAt;
        int128 answer;
    }

    uint8 public constant override decimals = 8;
    uint256 public constant override version = 4;
    string public override description;

    Latest internal latest;
    mapping(uint64 aggregatorRound => Round) internal rounds;
    /// @dev Where every new answer is pushed, and with which key (listener address(0): nowhere).
    struct Listening {
        IPriceListener listener;
        bytes32 key;
    }

    /// @inheritdoc IPricePusher
    Listening public override listening;

    /// @notice Same event as Chainlink's AggregatorInterface.
    event AnswerUpdated(int256 indexed current, uint256 indexed roundId, uint256 updatedAt);
    event ListenerSet(address indexed listener, bytes32 key);

    error NonPositiveAnswer(int256 answer);
    error AnswerTooLarge(int256 answer);
    error RoundNotFound(uint80 roundId);

    constructor(string memory description_, int256 initialAnswer, address admin) {
        description = description_;
        _grantRole(DEFAULT_ADMIN_ROLE, admin);
        _grantRole(UPDATER_ROLE, admin);
        _update(initialAnswer);
    }

    /// @notice Publishes a new answer (8 decimals) as the next round. Only UPDATER_ROLE.
    function updateAnswer(int256 answer) external onlyRole(UPDATER_ROLE) {
        _update(answer);
    }

    /// @notice Pushes every answer from now on to `listener_` with `key` (address(0) stops it); the
    /// listener reads the latest answer itself when it starts listening (MockPerpVault.addMarket).
    /// Only admin.
    function setListener(IPriceListener listener_, bytes32 key) external onlyRole(DEFAULT_ADMIN_ROLE) {
        listening = Listening(listener_, key);
        emit ListenerSet(address(listener_), key);
    }

    /// @inheritdoc AggregatorV3Interface
    function getRoundData(uint80 roundId) external view override returns (uint80, int256, uint256, uint256, uint80) {
        uint64 aggregatorRound = uint64(roundId);
        if (roundId >> 64 != 1 || aggregatorRound == 0 || aggregatorRound > latest.round) {
            revert RoundNotFound(roundId);
        }
        Round memory r = rounds[aggregatorRound];
        return (roundId, r.answer, r.updatedAt, r.updatedAt, roundId);
    }

    /// @inheritdoc AggregatorV3Interface
    function latestRoundData() external view override returns (uint80, int256, uint256, uint256, uint80) {
        Latest memory last = latest;
        uint80 roundId = PHASE_OFFSET | last.round;
        return (roundId, last.answer, last.updatedAt, last.updatedAt, roundId);
    }

    /// @notice The aggregator round of the latest answer (the proxy round id without its phase).
    function latestAggregatorRound() external view returns (uint64) {
        return latest.round;
    }

    function _update(int256 answer) internal {
        if (answer <= 0) revert NonPositiveAnswer(answer);
        if (answer > type(int64).max) revert AnswerTooLarge(answer); // what the exchange stores
        uint64 aggregatorRound = latest.round + 1;
        latest = Latest(aggregatorRound, uint64(block.timestamp), int128(answer));
        rounds[aggregatorRound] = Round(int192(answer), uint64(block.timestamp));
        emit AnswerUpdated(answer, PHASE_OFFSET | aggregatorRound, block.timestamp);
        Listening memory to = listening;
        if (address(to.listener) != address(0)) to.listener.onPriceUpdate(to.key, answer, block.timestamp);
    }
}
