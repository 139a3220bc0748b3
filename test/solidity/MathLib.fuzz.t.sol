// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {MathLibHarness} from "./utils/MathLibHarness.sol";
import {TestBase} from "./utils/Vm.sol";

/// @title MathLibFuzzTest
/// @notice MathLib's fast mulDivDown / mulDivUp answer exactly what OpenZeppelin's mulDiv answers, for
/// every input: the same result, or the same revert (a zero divisor, a result past 256 bits).
contract MathLibFuzzTest is TestBase {
    MathLibHarness internal h;

    function setUp() public {
        h = new MathLibHarness();
    }

    function testFuzz_mulDivDownIsOpenZeppelins(uint256 x, uint256 y, uint256 d, uint8 shape) public view {
        (x, y, d) = _shape(x, y, d, shape);
        _assertSame(address(h), abi.encodeCall(h.down, (x, y, d)), abi.encodeCall(h.ozDown, (x, y, d)));
    }

    function testFuzz_mulDivUpIsOpenZeppelins(uint256 x, uint256 y, uint256 d, uint8 shape) public view {
        (x, y, d) = _shape(x, y, d, shape);
        _assertSame(address(h), abi.encodeCall(h.up, (x, y, d)), abi.encodeCall(h.ozUp, (x, y, d)));
    }

    /// @dev Protocol-sized operands most of the time (the fast path), full 256-bit ones (the 512-bit
    /// fallback, overflow reverts) and a zero divisor now and then.
    function _shape(uint256 x, uint256 y, uint256 d, uint8 shape) internal pure returns (uint256, uint256, uint256) {
        if (shape % 4 == 0) return (x % 1e40, y % 1e40, d % 1e30);
        if (shape % 4 == 1) return (x, y, d % 8 == 0 ? 0 : d);
        if (shape % 4 == 2) return (x % 1e40, y % 1e40, d == 0 ? 1 : d);
        return (x, y, d);
    }

    function _assertSame(address target, bytes memory ours, bytes memory theirs) internal view {
        (bool okOurs, bytes memory outOurs) = target.staticcall(ours);
        (bool okTheirs, bytes memory outTheirs) = target.staticcall(theirs);
        _assertTrue(okOurs == okTheirs, "reverts exactly when OpenZeppelin's does");
        _assertTrue(keccak256(outOurs) == keccak256(outTheirs), "same result or same revert data");
    }
}
