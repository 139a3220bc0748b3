// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

/// @notice The Foundry-style cheatcodes these tests use. Hardhat 3 (EDR) serves them at the usual address;
/// forge-std is not available from the npm registry, so they are declared here.
interface IVm {
    struct Log {
        bytes32[] topics;
        bytes data;
        address emitter;
    }

    function recordLogs() external;

    function getRecordedLogs() external returns (Log[] memory logs);

    function warp(uint256 newTimestamp) external;

    function assume(bool condition) external;

    function prank(address msgSender) external;

    function startPrank(address msgSender) external;

    function stopPrank() external;

    function expectRevert(bytes calldata revertData) external;

    function snapshotState() external returns (uint256 snapshotId);

    function etch(address target, bytes calldata code) external;

    function revertToStateAndDelete(uint256 snapshotId) external returns (bool success);

    function addr(uint256 privateKey) external pure returns (address account);

    function sign(uint256 privateKey, bytes32 digest) external pure returns (uint8 v, bytes32 r, bytes32 s);
}

/// @notice What tests and handlers share: the cheatcode handle, input bounding and assertions that revert
/// with a named error carrying both sides.
abstract contract TestBase {
    IVm internal constant vm = IVm(address(uint160(uint256(keccak256("hevm cheat code")))));

    error AssertionFailed(string what);
    error UintAssertionFailed(string what, uint256 left, uint256 right);
    error IntAssertionFailed(string what, int256 left, int256 right);

    /// @dev Maps `x` into [min, max], leaving values already inside untouched (so the fuzzer's edge values
    /// stay edges).
    function _bound(uint256 x, uint256 min, uint256 max) internal pure returns (uint256) {
        if (max <= min) return min;
        if (x >= min && x <= max) return x;
        uint256 size = max - min + 1;
        if (size == 0) return x;
        return min + (x % size);
    }

    /// @dev Signed twin of `_bound`.
    function _boundInt(int256 x, int256 min, int256 max) internal pure returns (int256) {
        if (max <= min) return min;
        if (x >= min && x <= max) return x;
        uint256 size = uint256(max - min) + 1;
        return min + int256(uint256(x) % size);
    }

    function _assertTrue(bool condition, string memory what) internal pure {
        if (!condition) revert AssertionFailed(what);
    }

    function _assertEq(uint256 left, uint256 right, string memory what) internal pure {
        if (left != right) revert UintAssertionFailed(what, left, right);
    }

    function _assertEq(int256 left, int256 right, string memory what) internal pure {
        if (left != right) revert IntAssertionFailed(what, left, right);
    }

    function _assertLe(uint256 left, uint256 right, string memory what) internal pure {
        if (left > right) revert UintAssertionFailed(what, left, right);
    }

    function _assertLe(int256 left, int256 right, string memory what) internal pure {
        if (left > right) revert IntAssertionFailed(what, left, right);
    }

    function _assertGe(uint256 left, uint256 right, string memory what) internal pure {
        if (left < right) revert UintAssertionFailed(what, left, right);
    }

    function _assertGe(int256 left, int256 right, string memory what) internal pure {
        if (left < right) revert IntAssertionFailed(what, left, right);
    }
}
