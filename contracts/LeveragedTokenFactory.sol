// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {AccessControl} from "@openzeppelin/contracts/access/AccessControl.sol";
import {Create3} from "@openzeppelin/contracts/utils/Create3.sol";

import {ILeveragedToken} from "./interfaces/ILeveragedToken.sol";
import {IPerpVault} from "./interfaces/IPerpVault.sol";

/// @title LeveragedTokenFactory
/// @notice Deploys leveraged tokens on one exchange and registers them by symbol, one token per
/// (market, target leverage, side). The token's creation code (27 KB) is larger than a contract may
/// hold, so the deployer passes it in and the factory deploys it only if its hash is the one fixed
/// at construction: `tokenCodeHash` = keccak256 of LeveragedToken's published creation code.
/// The token's constructor checks every parameter (leverage within the exchange's maximum, band
/// around target, fees under their caps) and its custom errors reach the caller unchanged.
/// `createTokenWithDesk` deploys every token with its ForwardDesk (forward pricing): both at CREATE3
/// addresses, which depend on the salt alone, so the token's immutable `desk` and the desk's immutable
/// `token` can name each other. There is no token without a desk: nobody mints or redeems at a price
/// already known.
contract LeveragedTokenFactory is AccessControl {
    bytes32 public constant DEPLOYER_ROLE = keccak256("DEPLOYER_ROLE");

    IPerpVault public immutable vault;
    bytes32 public immutable tokenCodeHash;
    bytes32 public immutable deskCodeHash;

    address[] internal tokens;
    mapping(bytes32 symbolHash => address) internal bySymbol;
    mapping(bytes32 key => address) public tokenFor;
    /// @notice The ForwardDesk of a token this factory made.
    mapping(address token => address) public deskOf;

    event TokenCreated(
        address indexed token,
        string symbol,
        bytes32 indexed market,
        uint256 targetLeverage,
        bool isLong
    );

    event DeskCreated(address indexed token, address indexed desk, uint256 fillDelay, uint256 fillBounty);

    error WrongTokenCode(bytes32 codeHash, bytes32 expected);
    error WrongDeskCode(bytes32 codeHash, bytes32 expected);
    error WrongVault(address vault, address expected);
    error SymbolTaken(string symbol, address token);
    error TokenExists(bytes32 market, uint256 targetLeverage, bool isLong, address token);

    constructor(IPerpVault vault_, bytes32 tokenCodeHash_, bytes32 deskCodeHash_, address admin) {
        vault = vault_;
        tokenCodeHash = tokenCodeHash_;
        deskCodeHash = deskCodeHash_;
        _grantRole(DEFAULT_ADMIN_ROLE, admin);
        _grantRole(DEPLOYER_ROLE, admin);
    }

    /// @notice Deploys and registers a token with its ForwardDesk: only the desk mints, and redeems at a
    /// live price, filling requests at the next price round. Only DEPLOYER_ROLE. `deskCode` must be
    /// ForwardDesk's creation code; `fillDelay` and `fillBounty` are its late-fill rules (the desk
    /// checks them). Both land at CREATE3 addresses salted by the symbol (`tokenAddressOf`).
    function createTokenWithDesk(
        ILeveragedToken.Config calldata config,
        bytes calldata creationCode,
        bytes calldata deskCode,
        uint256 fillDelay,
        uint256 fillBounty
    ) external onlyRole(DEPLOYER_ROLE) returns (address token, address desk) {
        bytes32 symbolHash = _checkNew(config, creationCode);
        bytes32 deskHash = keccak256(deskCode);
        if (deskHash != deskCodeHash) revert WrongDeskCode(deskHash, deskCodeHash);
        ILeveragedToken.Config memory c = config;
        c.desk = Create3.computeAddress(_deskSalt(symbolHash));
        token = Create3.deploy(0, symbolHash, abi.encodePacked(creationCode, abi.encode(c)));
        desk = Create3.deploy(
            0,
            _deskSalt(symbolHash),
            abi.encodePacked(deskCode, abi.encode(token, fillDelay, fillBounty))
        );
        deskOf[token] = desk;
        _register(token, symbolHash, config);
        emit DeskCreated(token, desk, fillDelay, fillBounty);
    }

    /// @notice The token registered under `symbol`, or the zero address.
    function tokenBySymbol(string calldata symbol) external view returns (address) {
        return bySymbol[keccak256(bytes(symbol))];
    }

    /// @notice Every token this factory deployed, oldest first.
    function allTokens() external view returns (address[] memory) {
        return tokens;
    }

    /// @notice Where `createTokenWithDesk` puts the token and the desk of `symbol`.
    function tokenAddressOf(string calldata symbol) external view returns (address token, address desk) {
        bytes32 symbolHash = keccak256(bytes(symbol));
        return (Create3.computeAddress(symbolHash), Create3.computeAddress(_deskSalt(symbolHash)));
    }

    /// @notice The registry key of a (market, target leverage, side).
    function keyOf(bytes32 market, uint256 targetLeverage, bool isLong) public pure returns (bytes32) {
        return keccak256(abi.encode(market, targetLeverage, isLong));
    }

    /// @dev Checks the code and that the token is new; returns its symbol's hash.
    function _checkNew(
        ILeveragedToken.Config calldata config,
        bytes calldata creationCode
    ) internal view returns (bytes32 symbolHash) {
        bytes32 codeHash = keccak256(creationCode);
        if (codeHash != tokenCodeHash) revert WrongTokenCode(codeHash, tokenCodeHash);
        if (address(config.vault) != address(vault)) revert WrongVault(address(config.vault), address(vault));
        symbolHash = keccak256(bytes(config.symbol));
        if (bySymbol[symbolHash] != address(0)) revert SymbolTaken(config.symbol, bySymbol[symbolHash]);
        address existing = tokenFor[keyOf(config.market, config.targetLeverage, config.isLong)];
        if (existing != address(0)) revert TokenExists(config.market, config.targetLeverage, config.isLong, existing);
    }

    function _register(address token, bytes32 symbolHash, ILeveragedToken.Config calldata config) internal {
        tokens.push(token);
        bySymbol[symbolHash] = token;
        tokenFor[keyOf(config.market, config.targetLeverage, config.isLong)] = token;
        emit TokenCreated(token, config.symbol, config.market, config.targetLeverage, config.isLong);
    }

    function _deskSalt(bytes32 symbolHash) internal pure returns (bytes32) {
        return keccak256(abi.encode(symbolHash, "desk"));
    }
}
