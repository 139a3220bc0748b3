// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {MockPerpVault} from "../../contracts/mocks/MockPerpVault.sol";
import {MockUSDT} from "../../contracts/mocks/MockUSDT.sol";
import {PerpVaultHandler} from "./handlers/PerpVaultHandler.sol";
import {TestBase} from "./utils/Vm.sol";

/// @title MockPerpVaultInvariantTest
/// @notice Solvency of the perpetual exchange under random sequences of deposits, withdrawals, trades (both
/// margin patterns), price moves, time, funding rate changes, liquidations and pool liquidity, for several
/// actors at once (see PerpVaultHandler). After every call: the vault holds what it owes, its ledger is
/// exactly margins + pool, and it matches every USDT that moved. After every run: everyone can get out.
contract MockPerpVaultInvariantTest is TestBase {
    PerpVaultHandler internal handler;
    MockPerpVault internal vault;
    MockUSDT internal usdt;

    function setUp() public {
        handler = new PerpVaultHandler();
        vault = handler.vault();
        usdt = handler.usdt();
    }

    /// @notice The fuzzer calls only the handler.
    function targetContracts() public view returns (address[] memory targets) {
        targets = new address[](1);
        targets[0] = address(handler);
    }

    /// @notice (a) The USDT the vault holds covers everything it owes.
    function invariant_vaultHoldsWhatItOwes() public view {
        _assertGe(usdt.balanceOf(address(vault)), vault.accountedBalance(), "balance >= accounted");
    }

    /// @notice (b) The ledger is exactly the sum of every (market, actor) margin plus the pool.
    function invariant_accountedIsMarginsPlusPool() public view {
        _assertEq(vault.accountedBalance(), _sumOfMargins() + vault.poolBalance(), "accounted == margins + pool");
    }

    /// @notice (c) No more USDT ever left the vault than entered it, and what it holds is exactly the difference.
    function invariant_outflowNeverExceedsInflow() public view {
        PerpVaultHandler.Ghosts memory g = handler.ghosts();
        _assertLe(g.totalOut, g.totalIn, "out <= in");
        _assertEq(usdt.balanceOf(address(vault)), g.totalIn - g.totalOut, "balance == in - out");
    }

    /// @notice (d) Margins + pool hold exactly what was credited minus what was paid out: no margin and no pool
    /// share was ever created from nothing. Whatever was sent but never credited is the only surplus.
    function invariant_ledgerMatchesFlows() public view {
        PerpVaultHandler.Ghosts memory g = handler.ghosts();
        _assertEq(g.strayClaimed, 0, "USDT sent to the vault is nobody's margin");
        uint256 credited = g.deposited + g.liquidityAdded;
        uint256 paidOut = g.withdrawn + g.tradePayouts + g.liquidityRemoved + g.liquidationRewards;
        _assertEq(_sumOfMargins() + vault.poolBalance(), credited - paidOut, "margins + pool == credited - paid");
        _assertEq(
            usdt.balanceOf(address(vault)),
            vault.accountedBalance() + g.donated,
            "balance == accounted + uncredited"
        );
        _assertEq(g.totalIn, credited + g.donated, "ghost inflows");
        _assertEq(g.totalOut, paidOut, "ghost outflows");
    }

    /// @notice Per-actor ghosts add up; pool shares add up; a flat position carries no open cost; what
    /// `isLiquidatable` reports can be liquidated (unless the pool cannot pay funding due); withdrawals and new
    /// exposure keep the initial margin; no add or remove of liquidity dilutes the other LPs; settling funding
    /// never moves a solvent position's equity.
    function invariant_bookkeeping() public view {
        address[] memory actors = handler.actorList();
        bytes32[2] memory markets = handler.markets();
        uint256 inflows;
        uint256 outflows;
        uint256 shares;
        for (uint256 i = 0; i < actors.length; i++) {
            inflows += handler.inflowOf(actors[i]);
            outflows += handler.outflowOf(actors[i]);
            shares += vault.liquiditySharesOf(actors[i]);
            for (uint256 m = 0; m < markets.length; m++) {
                (int256 size, int256 openCost, ) = vault.positionOf(markets[m], actors[i]);
                if (size == 0) _assertEq(openCost, 0, "flat position has no open cost");
            }
        }
        PerpVaultHandler.Ghosts memory g = handler.ghosts();
        _assertEq(inflows, g.totalIn, "sum of actor inflows");
        _assertEq(outflows, g.totalOut, "sum of actor outflows");
        shares += vault.liquiditySharesOf(address(0xdEaD)); // locked at the first deposit
        _assertEq(shares, vault.totalLiquidityShares(), "sum of pool shares");
        _assertEq(g.liquidationFailures, 0, "a liquidatable position can be liquidated");
        _assertEq(g.marginBreaches, 0, "withdrawals and new exposure keep initial margin");
        _assertEq(g.dilutions, 0, "pool shares are priced against the provider");
        _assertEq(g.reserveBreaches, 0, "no removal takes cash the sides in profit are owed");
        _assertEq(g.equityJumps, 0, "settling funding leaves a solvent position's equity unchanged");
    }

    /// @notice At any point everyone can get out (run after every call on a snapshot, then undone: EDR
    /// runs `afterInvariant` on the state setUp left, not on a run's end): a backstop LP funds the pool
    /// with enough to pay every winner, every position closes, every margin is withdrawn in full, then
    /// every LP and the backstop leave. The vault then owes nothing and holds only what was sent to it uncredited.
    /// @dev The backstop is every positive equity (a winner draws at most its equity, funding included) plus
    /// every funding receivable: a loser owed funding is paid it out of the pool before its loss comes back.
    /// LPs leave last: while positions are open, the cash their profit is owed is not theirs to take.
    function invariant_everyoneGetsOut() public {
        uint256 snapshot = vm.snapshotState();
        _everyoneGetsOut();
        vm.revertToStateAndDelete(snapshot);
    }

    function _everyoneGetsOut() internal {
        vm.warp(handler.currentTime());
        address[] memory actors = handler.actorList();
        bytes32[2] memory markets = handler.markets();

        address backstop = address(0xBAC0);
        uint256 backstopAmount = 1e6;
        for (uint256 i = 0; i < actors.length; i++) {
            for (uint256 m = 0; m < markets.length; m++) {
                int256 equity = vault.equityOf(markets[m], actors[i]);
                if (equity > 0) backstopAmount += uint256(equity);
                int256 owed = vault.fundingOwed(markets[m], actors[i]);
                if (owed < 0) backstopAmount += uint256(-owed);
            }
        }
        vm.prank(address(handler));
        usdt.mint(backstop, backstopAmount);
        vm.startPrank(backstop);
        usdt.approve(address(vault), backstopAmount);
        vault.addLiquidity(backstopAmount);
        vm.stopPrank();

        for (uint256 i = 0; i < actors.length; i++) {
            for (uint256 m = 0; m < markets.length; m++) _exit(markets[m], actors[i]);
        }
        for (uint256 m = 0; m < markets.length; m++) {
            (uint256 longs, uint256 shorts) = vault.openInterest(markets[m]);
            _assertEq(longs + shorts, 0, "no open interest once every position closed");
        }
        for (uint256 i = 0; i < actors.length; i++) _removeAllLiquidity(actors[i]);
        _removeAllLiquidity(backstop);

        _assertEq(_sumOfMargins(), 0, "every margin withdrawn");
        // only the shares locked at the first deposit remain, and the pool they own
        uint256 locked = vault.liquiditySharesOf(address(0xdEaD));
        _assertEq(locked, vault.MINIMUM_LIQUIDITY(), "the first deposit's minimum liquidity is locked");
        _assertEq(vault.totalLiquidityShares(), locked, "every pool share redeemed but the locked ones");
        uint256 pool = vault.poolBalance();
        _assertEq(vault.accountedBalance(), pool, "vault owes nothing but the locked shares' pool");
        _assertEq(usdt.balanceOf(address(vault)), handler.ghosts().donated + pool, "vault holds only uncredited USDT");
    }

    function _exit(bytes32 market, address actor) internal {
        (int256 size, , ) = vault.positionOf(market, actor);
        if (size != 0) {
            vm.prank(actor);
            vault.trade(market, -size, 0, actor);
        }
        (, , uint256 margin) = vault.positionOf(market, actor);
        if (margin != 0) {
            uint256 before = usdt.balanceOf(actor);
            vm.prank(actor);
            vault.withdraw(market, margin, actor);
            _assertEq(usdt.balanceOf(actor) - before, margin, "full margin paid");
        }
    }

    function _removeAllLiquidity(address provider) internal {
        uint256 shares = vault.liquiditySharesOf(provider);
        if (shares == 0) return;
        vm.prank(provider);
        vault.removeLiquidity(shares, provider);
    }

    function _sumOfMargins() internal view returns (uint256 sum) {
        address[] memory actors = handler.actorList();
        bytes32[2] memory markets = handler.markets();
        for (uint256 i = 0; i < actors.length; i++) {
            for (uint256 m = 0; m < markets.length; m++) {
                (, , uint256 margin) = vault.positionOf(markets[m], actors[i]);
                sum += margin;
            }
        }
    }
}
