// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

/// @title ERC-7575 and ERC-7540 interfaces
/// @notice ERC-7540 (Asynchronous ERC-4626 Tokenized Vaults) extends ERC-7575 (a vault whose share
/// token is another contract). The ERC-165 ids these interfaces compute are the standard's:
/// IERC7575 0x2f0a18c5, IERC7540Operator 0xe3bc4e65, IERC7540Deposit 0xce3bbe50, IERC7540Redeem
/// 0x620ee8e4 (test/solidity/ForwardDesk.t.sol checks them).
/// @dev No npm package ships these (OpenZeppelin's ERC-7540 lives in its unpublished community
/// contracts), so they are written here from the standard's text.

/// @notice ERC-4626's vault methods without its ERC-20 (the share token is `share()`).
interface IERC7575 {
    event Deposit(address indexed sender, address indexed owner, uint256 assets, uint256 shares);
    event Withdraw(
        address indexed sender,
        address indexed receiver,
        address indexed owner,
        uint256 assets,
        uint256 shares
    );

    /// @notice The ERC-20 the vault takes in (USDT).
    function asset() external view returns (address assetTokenAddress);
    /// @notice The ERC-20 the vault's shares are (the leveraged token).
    function share() external view returns (address shareTokenAddress);
    function convertToShares(uint256 assets) external view returns (uint256 shares);
    function convertToAssets(uint256 shares) external view returns (uint256 assets);
    function totalAssets() external view returns (uint256 totalManagedAssets);
    function maxDeposit(address receiver) external view returns (uint256 maxAssets);
    function previewDeposit(uint256 assets) external view returns (uint256 shares);
    function deposit(uint256 assets, address receiver) external returns (uint256 shares);
    function maxMint(address receiver) external view returns (uint256 maxShares);
    function previewMint(uint256 shares) external view returns (uint256 assets);
    function mint(uint256 shares, address receiver) external returns (uint256 assets);
    function maxWithdraw(address owner) external view returns (uint256 maxAssets);
    function previewWithdraw(uint256 assets) external view returns (uint256 shares);
    function withdraw(uint256 assets, address receiver, address owner) external returns (uint256 shares);
    function maxRedeem(address owner) external view returns (uint256 maxShares);
    function previewRedeem(uint256 shares) external view returns (uint256 assets);
    function redeem(uint256 shares, address receiver, address owner) external returns (uint256 assets);
}

/// @notice Operators: an account a controller lets manage its requests and claims.
interface IERC7540Operator {
    event OperatorSet(address indexed controller, address indexed operator, bool approved);

    /// @notice Lets `operator` manage the caller's requests (or stops it); returns true.
    function setOperator(address operator, bool approved) external returns (bool);

    function isOperator(address controller, address operator) external view returns (bool status);
}

/// @notice Asynchronous deposits: request, then claim with ERC-4626's `deposit` or `mint`.
interface IERC7540Deposit {
    /// @notice `owner` locked `assets` in a deposit request that `controller` controls; `sender` called.
    event DepositRequest(
        address indexed controller,
        address indexed owner,
        uint256 indexed requestId,
        address sender,
        uint256 assets
    );

    /// @notice Takes `assets` from `owner` (the caller, or one that made the caller its operator) into
    /// a deposit request controlled by `controller`.
    function requestDeposit(uint256 assets, address controller, address owner) external returns (uint256 requestId);

    /// @notice Assets of `controller`'s deposit requests not yet claimable.
    function pendingDepositRequest(uint256 requestId, address controller) external view returns (uint256 assets);

    /// @notice Assets of `controller`'s deposit requests that are claimable (filled, not yet claimed).
    function claimableDepositRequest(uint256 requestId, address controller) external view returns (uint256 assets);

    /// @notice Claims the shares `assets` of `controller`'s claimable deposits bought, to `receiver`.
    function deposit(uint256 assets, address receiver, address controller) external returns (uint256 shares);

    /// @notice Claims exactly `shares` of `controller`'s claimable deposits, to `receiver`.
    function mint(uint256 shares, address receiver, address controller) external returns (uint256 assets);
}

/// @notice Asynchronous redemptions: request, then claim with ERC-4626's `redeem` or `withdraw`.
interface IERC7540Redeem {
    /// @notice `sender` locked `shares` of `owner` in a redeem request that `controller` controls.
    event RedeemRequest(
        address indexed controller,
        address indexed owner,
        uint256 indexed requestId,
        address sender,
        uint256 shares
    );

    /// @notice Takes `shares` from `owner` (the caller, or one that made the caller its operator) into
    /// a redeem request controlled by `controller`.
    function requestRedeem(uint256 shares, address controller, address owner) external returns (uint256 requestId);

    /// @notice Shares of `controller`'s redeem requests not yet claimable.
    function pendingRedeemRequest(uint256 requestId, address controller) external view returns (uint256 shares);

    /// @notice Shares of `controller`'s redeem requests that are claimable (filled, not yet claimed).
    function claimableRedeemRequest(uint256 requestId, address controller) external view returns (uint256 shares);
}
