// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {AccessControl} from "@openzeppelin/contracts/access/AccessControl.sol";
import {Create2} from "@openzeppelin/contracts/utils/Create2.sol";

import {ILeveragedToken} from "./interfaces/ILeveragedToken.sol";
import {IPerpVault} from "./interfaces/IPerpVault.sol";

/// @title LeveragedTokenFactory
/// @notice Deploys leveraged tokens on one exchange and registers them by symbol, one token per
/// (market, target leverage, side). The token's creation code (27 KB) is larger than a contract may
/// hold, so the deployer passes it in and the factory deploys it only if its hash is the one fixed
/// at construction: `tokenCodeHash` = keccak256 of LeveragedToken's published creation code.
/// The token's constructor checks every parameter (leverage within the exchange's maximum, band
/// around target, fees under their caps) and its custom errors reach the caller unchanged.
contract LeveragedTokenFactory is AccessControl {
    bytes32 public constant DEPLOYER_ROLE = keccak256("DEPLOYER_ROLE");

    IPerpVault public immutable vault;
    bytes32 public immutable tokenCodeHash;

    address[] internal tokens;
    mapping(bytes32 symbolHash => address) internal bySymbol;
    mapping(bytes32 key => address) public tokenFor;

    event TokenCreated(
        address indexed token,
        string symbol,
        bytes32 indexed market,
        uint256 targetLeverage,
        bool isLong
    );

    error WrongTokenCode(bytes32 codeHash, bytes32 expected);
    error WrongVault(address vault, address expected);
    error SymbolTaken(string symbol, address token);
    error TokenExists(bytes32 market, uint256 targetLeverage, bool isLong, address token);

    constructor(IPerpVault vault_, bytes32 tokenCodeHash_, address admin) {
        vault = vault_;
        tokenCodeHash = tokenCodeHash_;
        _grantRole(DEFAULT_ADMIN_ROLE, admin);
        _grantRole(DEPLOYER_ROLE, admin);
    }

    /// @notice Deploys and registers a token. Only DEPLOYER_ROLE. `creationCode` must be
    /// LeveragedToken's creation code; the token lands at a CREATE2 address salted by its symbol.
    function createToken(
        ILeveragedToken.Config calldata config,
        bytes calldata creationCode
    ) external onlyRole(DEPLOYER_ROLE) returns (address token) {
        bytes32 codeHash = keccak256(creationCode);
        if (codeHash != tokenCodeHash) revert WrongTokenCode(codeHash, tokenCodeHash);
        if (address(config.vault) != address(vault)) revert WrongVault(address(config.vault), address(vault));
        bytes32 symbolHash = keccak256(bytes(config.symbol));
        if (bySymbol[symbolHash] != address(0)) revert SymbolTaken(config.symbol, bySymbol[symbolHash]);
        bytes32 key = keyOf(config.market, config.targetLeverage, config.isLong);
        address existing = tokenFor[key];
        if (existing != address(0)) revert TokenExists(config.market, config.targetLeverage, config.isLong, existing);

        token = Create2.deploy(0, symbolHash, abi.encodePacked(creationCode, abi.encode(config)));
        tokens.push(token);
        bySymbol[symbolHash] = token;
        tokenFor[key] = token;
        emit TokenCreated(token, config.symbol, config.market, config.targetLeverage, config.isLong);
    }

    /// @notice The token registered under `symbol`, or the zero address.
    function tokenBySymbol(string calldata symbol) external view returns (address) {
        return bySymbol[keccak256(bytes(symbol))];
    }

    /// @notice Every token this factory deployed, oldest first.
    function allTokens() external view returns (address[] memory) {
        return tokens;
    }

    /// @notice The registry key of a (market, target leverage, side).
    function keyOf(bytes32 market, uint256 targetLeverage, bool isLong) public pure returns (bytes32) {
        return keccak256(abi.encode(market, targetLeverage, isLong));
    }
}
