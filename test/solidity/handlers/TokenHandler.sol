// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {ILeveragedToken} from "../../../contracts/interfaces/ILeveragedToken.sol";
import {IPerpVault} from "../../../contracts/interfaces/IPerpVault.sol";
import {LeveragedToken} from "../../../contracts/LeveragedToken.sol";
import {InstantDesk} from "../../../contracts/mocks/InstantDesk.sol";
import {MockPerpVault} from "../../../contracts/mocks/MockPerpVault.sol";
import {MockPriceFeed} from "../../../contracts/mocks/MockPriceFeed.sol";
import {MockUSDT} from "../../../contracts/mocks/MockUSDT.sol";
import {TokenFixture} from "../utils/TokenFixture.sol";

/// @title TokenHandler
/// @notice Drives a 3x long and a 3x short BTC token with bounded random actions for several actors: deposit
/// and redeem through each token's InstantDesk (once Settled, redeem straight at the token), attempts to mint
/// by shares, to withdraw by USDT (which only a Settled token pays) and to deposit or redeem around the desk
/// (which must all be refused), and transfer; price steps of up to 10% (after which the keeper rebalances
/// whatever is due) and, one time in four, gaps of up to 50% (after which it does not); time, funding rate
/// changes, explicit keeper rebalances, anyone pulling the ripcord, management fee accrual, pause and unpause;
/// now and then a delisting, its settlement and the push of USDT to every holder. Every USDT that reaches or
/// leaves an actor through a token is counted; each call records what the invariants need.
/// @dev The handler holds every role of the system: USDT minter, feed updater, exchange admin, and admin, pauser
/// and keeper of both tokens. Actions that cannot succeed are skipped or caught and counted.
contract TokenHandler is TokenFixture {
    /// @notice What went wrong (all must stay zero) and what happened, per token.
    struct Ghosts {
        uint256 previewMismatches; // an execution differed from its preview in the same call
        uint256 navDrops; // a mint or a paying redeem lowered NAV per share
        uint256 roundTripProfits; // a holder got out more than it put in with the price never moving for it
        uint256 illegalTransitions; // the state went anywhere but Active -> Delisting/Depleted -> Settled
        uint256 keeperFailures; // a due rebalance by the keeper reverted
        uint256 ripcordFailures; // a rebalance past the ripcord by anyone reverted
        uint256 settleFailures; // settle reverted at or after the delisting time, or once depleted
        uint256 stuck; // a rebalance or settle reverted ExchangeMismatch: its trade costs more than the equity
        uint256 roleBreaches; // anyone rebalanced below the ripcord, or minted while paused or not Active
        uint256 capBreaches; // a mint took the supply past the cap
        uint256 feeMismatches; // accrued management fee shares != supply x f / (1 - f)
        uint256 deskBypasses; // a mint by shares, a live withdraw, or a deposit or live redeem around the desk
        // went through, or was refused otherwise than UseTheDesk(desk) / OnlyDesk(caller, desk)
        uint256 roundTrips; // clean round trips checked (coverage)
        uint256 bounties; // USDT paid to ripcord pullers
        uint256 settledPayouts; // payouts at the frozen NAV (each may leave < 1 unit of rounding behind)
        uint256 exitsBlockedByLp; // after an LP left, a holder's full redeem or a due rebalance lacked pool cash
        uint256 lpExitsChecked; // LP withdrawals after which every exit was tried (coverage)
        uint256 deskChecks; // refusals of a mint by shares, a live withdraw or a call around the desk (coverage)
    }

    /// @notice One holding period of an actor in a token: from a zero balance to a zero balance.
    struct Epoch {
        uint256 paidIn;
        uint256 paidOut;
        bool moved; // the price moved, funding favoured the side, or shares came in by transfer
    }

    uint256 public constant ACTOR_COUNT = 4;
    address public constant TREASURY = address(0x7EA5);
    uint256 internal constant MAX_DEPOSIT = 200_000e6;
    int256 internal constant MIN_PRICE = 1_000e8;
    int256 internal constant MAX_PRICE = 10_000_000e8;
    int256 internal constant STEP_BPS = 1_000; // a step the keeper follows
    int256 internal constant GAP_BPS = 5_000; // a gap it misses

    LeveragedToken[2] internal _tokens;
    address[] public actors;
    /// @notice The campaign's clock: every action first warps here.
    uint256 public currentTime;
    mapping(uint256 t => Ghosts) internal _ghosts;
    mapping(uint256 t => ILeveragedToken.State) public lastState;
    /// @notice The keeper has not acted since a gap: the token may be far from target (ripcord territory).
    mapping(uint256 t => bool) public keeperBehind;
    mapping(uint256 t => mapping(address actor => Epoch)) public epochs;
    mapping(bytes32 action => uint256) public succeeded;
    mapping(bytes32 action => uint256) public failed;
    /// @notice The exchange's liquidity provider (the test, which seeded the pool).
    address public immutable lp;

    modifier step() {
        vm.warp(currentTime);
        _;
        _checkTransitions();
    }

    /// @dev Takes a system deployed by the test (the token's creation code would put this contract's own
    /// over the 48 KB initcode limit), each token with its InstantDesk, with every role granted to this
    /// contract.
    constructor(
        MockUSDT usdt_,
        MockPriceFeed feed_,
        MockPerpVault vault_,
        LeveragedToken long,
        LeveragedToken short,
        InstantDesk longDesk,
        InstantDesk shortDesk
    ) {
        currentTime = block.timestamp;
        lp = msg.sender;
        (usdt, feed, vault) = (usdt_, feed_, vault_);
        _tokens[0] = long;
        _tokens[1] = short;
        _useDesk(long, longDesk);
        _useDesk(short, shortDesk);
        for (uint256 i = 0; i < ACTOR_COUNT; i++) {
            actors.push(address(uint160(uint256(keccak256(abi.encode("token actor", i))))));
        }
    }

    /* HOLDERS */

    /// @notice An actor deposits 1 .. 200,000 USDT through the desk.
    function deposit(uint256 actorSeed, uint256 tokenSeed, uint256 assets) external step {
        (uint256 t, LeveragedToken token) = _pick(tokenSeed);
        address actor = _actor(actorSeed);
        assets = _bound(assets, 1e6, MAX_DEPOSIT);
        _fund(token, actor, assets);
        (bool quoted, uint256 preview) = _previewDeposit(token, assets);
        uint256 nav0 = _navBefore(token);
        bool wasEmpty = token.balanceOf(actor) == 0;
        bool open = _mintOpen(token);
        InstantDesk desk = _desk(token);
        vm.prank(actor);
        try desk.deposit(assets, actor) returns (uint256 shares) {
            if (!quoted || shares != preview) _ghosts[t].previewMismatches++;
            _afterMint(t, token, nav0, open);
            _paidIn(t, actor, assets, wasEmpty);
            succeeded["deposit"]++;
        } catch {
            failed["deposit"]++;
        }
    }

    /// @notice An actor (with USDT approved to the token), or the desk itself, tries to mint 1 .. 200,000
    /// tokens by shares: previewMint and mint revert UseTheDesk(desk) in every state, and maxMint is 0.
    function mintShares(uint256 actorSeed, uint256 tokenSeed, uint256 shares) external step {
        (uint256 t, LeveragedToken token) = _pick(tokenSeed);
        address desk = token.desk();
        address caller = _oneIn(actorSeed, 4) ? desk : _actor(actorSeed);
        shares = _bound(shares, 1e18, 200_000e18);
        if (caller != desk) {
            usdt.mint(caller, MAX_DEPOSIT);
            vm.prank(caller);
            usdt.approve(address(token), MAX_DEPOSIT);
        }
        bytes memory useTheDesk = abi.encodeWithSelector(ILeveragedToken.UseTheDesk.selector, desk);
        bool refused = token.maxMint(caller) == 0;
        try token.previewMint(shares) {
            refused = false;
        } catch (bytes memory reason) {
            refused = refused && keccak256(reason) == keccak256(useTheDesk);
        }
        uint256 supply = token.totalSupply();
        vm.prank(caller);
        try token.mint(shares, caller) {
            refused = false;
        } catch (bytes memory reason) {
            refused = refused && keccak256(reason) == keccak256(useTheDesk);
        }
        if (token.totalSupply() != supply) refused = false;
        _deskRule(t, refused, "mintShares");
    }

    /// @notice An actor redeems all its shares (one time in two) or a fraction of them: through the desk, or
    /// straight at the token once it is Settled.
    function redeem(uint256 actorSeed, uint256 tokenSeed, uint256 fraction) external step {
        (uint256 t, LeveragedToken token) = _pick(tokenSeed);
        address actor = _holder(token, actorSeed);
        if (actor == address(0)) return;
        uint256 balance = token.balanceOf(actor);
        uint256 shares = _oneIn(fraction, 2) ? balance : _atLeastOne((balance * _bound(fraction, 1, 10_000)) / 10_000);
        (bool quoted, uint256 preview) = _previewRedeem(token, shares);
        uint256 nav0 = _navBefore(token);
        bool live = _live(token); // once Settled, NAV is the frozen one, rounded twice
        (bool ok, uint256 assets, ) = _tryRedeem(token, actor, shares);
        if (ok) {
            if (!quoted || assets != preview) _ghosts[t].previewMismatches++;
            // a redemption paying nothing may leave its trading fee to the others (reported), so only
            // paying ones are held to the rule
            if (assets != 0 && live && token.nav() < nav0) _ghosts[t].navDrops++;
            _paidOut(t, token, actor, assets);
            succeeded["redeem"]++;
        } else {
            failed["redeem"]++;
        }
    }

    /// @notice An actor withdraws USDT by amount. Before settlement it is refused, to the holder and to the
    /// desk alike: previewWithdraw and withdraw revert UseTheDesk(desk) and maxWithdraw is 0. Once Settled it
    /// withdraws up to what it could (maxWithdraw itself included) at the frozen USDT per share.
    function withdraw(uint256 actorSeed, uint256 tokenSeed, uint256 assets) external step {
        (uint256 t, LeveragedToken token) = _pick(tokenSeed);
        address actor = _holder(token, actorSeed);
        if (actor == address(0)) return;
        if (token.state() != ILeveragedToken.State.Settled) {
            _liveWithdrawRefused(t, token, actor, assets);
            return;
        }
        uint256 max = token.maxWithdraw(actor);
        if (max == 0) return;
        assets = _bound(assets, 1, max);
        uint256 preview;
        try token.previewWithdraw(assets) returns (uint256 p) {
            preview = p;
        } catch {
            failed["withdraw"]++;
            return;
        }
        uint256 balance = token.balanceOf(actor);
        vm.prank(actor);
        try token.withdraw(assets, actor, actor) returns (uint256 shares) {
            if (shares != preview || balance - token.balanceOf(actor) != shares) _ghosts[t].previewMismatches++;
            _paidOut(t, token, actor, assets);
            succeeded["withdraw"]++;
        } catch {
            failed["withdraw"]++;
        }
    }

    /// @dev A live (or Depleted) token refuses `actor`'s withdrawal of `seed`-bounded USDT, and the desk's of
    /// `actor`'s USDT, with UseTheDesk(desk); it reports maxWithdraw 0 and burns nothing.
    function _liveWithdrawRefused(uint256 t, LeveragedToken token, address actor, uint256 seed) internal {
        address desk = token.desk();
        address caller = _oneIn(seed, 4) ? desk : actor;
        uint256 assets = _bound(seed, 1, MAX_DEPOSIT);
        bytes memory useTheDesk = abi.encodeWithSelector(ILeveragedToken.UseTheDesk.selector, desk);
        bool refused = token.maxWithdraw(actor) == 0;
        try token.previewWithdraw(assets) {
            refused = false;
        } catch (bytes memory reason) {
            refused = refused && keccak256(reason) == keccak256(useTheDesk);
        }
        uint256 balance = token.balanceOf(actor);
        vm.prank(caller);
        try token.withdraw(assets, caller, actor) {
            refused = false;
        } catch (bytes memory reason) {
            refused = refused && keccak256(reason) == keccak256(useTheDesk);
        }
        if (token.balanceOf(actor) != balance) refused = false;
        _deskRule(t, refused, "withdraw");
    }

    /// @notice An actor deposits, or redeems before settlement, straight at the token instead of through its
    /// desk (with the USDT and the shares approved to the token): refused with OnlyDesk(actor, desk).
    function skipTheDesk(uint256 actorSeed, uint256 tokenSeed, uint256 amount, bool redeeming) external step {
        (uint256 t, LeveragedToken token) = _pick(tokenSeed);
        address actor = redeeming ? _holder(token, actorSeed) : _actor(actorSeed);
        if (actor == address(0) || (redeeming && token.state() == ILeveragedToken.State.Settled)) return;
        bytes memory onlyDesk = abi.encodeWithSelector(ILeveragedToken.OnlyDesk.selector, actor, token.desk());
        uint256 supply = token.totalSupply();
        bool refused = true;
        if (redeeming) {
            amount = _atLeastOne((token.balanceOf(actor) * _bound(amount, 1, 10_000)) / 10_000);
        } else {
            amount = _bound(amount, 1e6, MAX_DEPOSIT);
            usdt.mint(actor, amount);
        }
        // (nothing between startPrank and stopPrank may revert: a prank outlives a reverted call)
        vm.startPrank(actor);
        if (redeeming) {
            try token.redeem(amount, actor, actor) {
                refused = false;
            } catch (bytes memory reason) {
                refused = keccak256(reason) == keccak256(onlyDesk);
            }
        } else {
            usdt.approve(address(token), amount);
            try token.deposit(amount, actor) {
                refused = false;
            } catch (bytes memory reason) {
                refused = keccak256(reason) == keccak256(onlyDesk);
            }
        }
        vm.stopPrank();
        if (token.totalSupply() != supply) refused = false;
        _deskRule(t, refused, "skipTheDesk");
    }

    /// @notice An actor sends some or all of its shares to another.
    function transfer(uint256 fromSeed, uint256 toSeed, uint256 tokenSeed, uint256 fraction) external step {
        (uint256 t, LeveragedToken token) = _pick(tokenSeed);
        address from = _holder(token, fromSeed);
        address to = _actor(toSeed);
        if (from == address(0) || from == to) return;
        uint256 balance = token.balanceOf(from);
        uint256 shares = _oneIn(fraction, 2) ? balance : (balance * _bound(fraction, 0, 10_000)) / 10_000;
        epochs[t][to].moved = true;
        if (shares == balance) delete epochs[t][from]; // gave it all away: nothing left to judge
        succeeded["transfer"]++;
        vm.prank(from);
        _assertTrue(token.transfer(to, shares), "transfer");
    }

    /// @notice In one call, at one price, through the desk: an actor with no shares deposits, another actor
    /// redeems part of its holding or deposits, anyone accrues the fee, and the first redeems everything. It
    /// never gets out more than it paid, from whatever state the campaign left the token in.
    function roundTrip(
        uint256 actorSeed,
        uint256 otherSeed,
        uint256 tokenSeed,
        uint256 assets,
        uint256 otherAmount
    ) external step {
        (uint256 t, LeveragedToken token) = _pick(tokenSeed);
        address actor = _actor(actorSeed);
        address other = _actor(otherSeed);
        if (actor == other || token.balanceOf(actor) != 0 || !_mintOpen(token)) return;
        assets = _bound(assets, 1e6, MAX_DEPOSIT);
        _fund(token, actor, assets);
        InstantDesk desk = _desk(token);
        vm.prank(actor);
        try desk.deposit(assets, actor) {
            _paidIn(t, actor, assets, true);
        } catch {
            failed["roundTrip"]++;
            return;
        }
        _otherActs(token, other, otherAmount);
        token.accrueManagementFee();
        (bool ok, uint256 out, ) = _tryRedeem(token, actor, token.balanceOf(actor));
        if (ok) {
            _paidOut(t, token, actor, out);
            succeeded["roundTrip"]++;
        } else {
            failed["roundTrip"]++;
        }
    }

    /* MARKET AND TIME */

    /// @notice The price steps by up to 10% and the keeper rebalances whatever is due; one time in four it
    /// gaps by up to 50% and the keeper misses it.
    function movePrice(int256 bps, uint256 gapSeed) external step {
        bool gap = _oneIn(gapSeed, 4);
        int256 change = _boundInt(bps, gap ? -GAP_BPS : -STEP_BPS, gap ? GAP_BPS : STEP_BPS);
        int256 before = _movedPrice(0);
        int256 next = _movedPrice(change);
        if (next < MIN_PRICE) next = MIN_PRICE;
        if (next > MAX_PRICE) next = MAX_PRICE;
        _setPrice(next);
        if (next != before) _priceMovedForAll();
        bool followed = !gap || (next * 10 <= before * 11 && next * 11 >= before * 10);
        for (uint256 t = 0; t < 2; t++) {
            if (followed) _keeperRun(t);
            else if (_live(_tokens[t])) keeperBehind[t] = true;
        }
        succeeded[gap ? bytes32("gap") : bytes32("movePrice")]++;
    }

    /// @notice Up to a day passes (funding and management fee accrue); the feed publishes again and the
    /// keeper rebalances whatever is due.
    function passTime(uint256 secondsPassed) external step {
        _advance(currentTime + _bound(secondsPassed, 1, 1 days));
        succeeded["passTime"]++;
    }

    /// @notice The exchange's funding rate changes: within +-0.05% per 8 hours, one time in eight up to the
    /// exchange's cap of +-1%.
    function setFundingRate(int256 rate, uint256 bigSeed) external step {
        int256 cap = _oneIn(bigSeed, 8) ? int256(0.01e18) : int256(0.0005e18);
        vault.setFundingRate(BTC, int64((_boundInt(rate, -cap, cap) / 1e6) * 1e6)); // in steps of 1e6
        succeeded["setFundingRate"]++;
    }

    /* KEEPER, RIPCORD, FEES, ADMIN */

    /// @notice The keeper rebalances one token if a rebalance is due.
    function keeperRebalance(uint256 tokenSeed) external step {
        (uint256 t, ) = _pick(tokenSeed);
        _keeperRun(t);
    }

    /// @notice An actor without a role tries to rebalance (the token past its ripcord, if one is): allowed, for
    /// the bounty, only past the ripcord.
    function pullRipcord(uint256 actorSeed, uint256 tokenSeed) external step {
        (uint256 t, LeveragedToken token) = _pick(tokenSeed);
        (bool needed, uint8 reason) = token.rebalanceNeeded();
        if (reason < 3) {
            (LeveragedToken other, uint256 o) = (_tokens[1 - t], 1 - t);
            (bool otherNeeded, uint8 otherReason) = other.rebalanceNeeded();
            if (otherReason >= 3) (t, token, needed, reason) = (o, other, otherNeeded, otherReason);
        }
        if (!needed) return;
        address actor = _actor(actorSeed);
        uint256 before = usdt.balanceOf(actor);
        vm.prank(actor);
        try token.rebalance() {
            if (reason < 3) _ghosts[t].roleBreaches++;
            _ghosts[t].bounties += usdt.balanceOf(actor) - before;
            _clearIfBackInBand(t);
            succeeded["pullRipcord"]++;
        } catch (bytes memory error) {
            if (reason >= 3) _countFailure(t, error, "pullRipcord");
            else failed["pullRipcord"]++;
        }
    }

    /* LIQUIDITY PROVIDER */

    /// @notice The exchange's LP takes out part or all of its shares, or, when the pool holds cash back
    /// for open profits, the most it may; then every holder of every live token redeems in full and every
    /// due rebalance runs: none may revert for want of pool cash. All on a snapshot that is then dropped:
    /// the reserve covers the profits open at the withdrawal, not what a later move adds while the losing
    /// side's loss sits in its own margin (README: what the pool guarantees), so the LP stays for the rest.
    function lpLeaves(uint256 fraction) external step {
        uint256 owned = vault.liquiditySharesOf(lp);
        if (owned == 0) return;
        uint256 snapshot = vm.snapshotState();
        (bool left, uint256[2] memory blocked) = _lpLeaves(owned, fraction);
        vm.revertToStateAndDelete(snapshot); // ghosts are written after: a revert to a snapshot undoes them
        if (!left) return;
        succeeded["lpLeaves"]++;
        for (uint256 t = 0; t < 2; t++) {
            _ghosts[t].exitsBlockedByLp += blocked[t];
            _ghosts[t].lpExitsChecked++;
        }
    }

    function _lpLeaves(uint256 owned, uint256 fraction) internal returns (bool left, uint256[2] memory blocked) {
        uint256 shares = _oneIn(fraction, 2) ? owned : _atLeastOne((owned * _bound(fraction, 1, 10_000)) / 10_000);
        vm.prank(lp);
        try vault.removeLiquidity(shares, lp) {} catch {
            (uint256 cash, uint256 value, uint256 reserved) = vault.liquidity();
            if (value == 0 || cash <= reserved) return (false, blocked);
            uint256 most = ((cash - reserved) * vault.totalLiquidityShares()) / value;
            if (most == 0) return (false, blocked);
            vm.prank(lp);
            vault.removeLiquidity(most < owned ? most : owned, lp); // the most it may take must go through
        }
        for (uint256 t = 0; t < 2; t++) blocked[t] = _tryEveryExit(t);
        return (true, blocked);
    }

    /// @notice The LP adds up to 1,000,000 USDT back (so it can leave again).
    function lpJoins(uint256 amount) external step {
        amount = _bound(amount, 1e6, 1_000_000e6);
        usdt.mint(lp, amount);
        vm.prank(lp);
        usdt.approve(address(vault), amount);
        vm.prank(lp);
        vault.addLiquidity(amount);
        succeeded["lpJoins"]++;
    }

    /// @notice A third party liquidates a token the exchange lets it (after a gap the keeper missed): the
    /// exchange closes only part, and the token must stay rebalanceable (the invariant checks it).
    function liquidate(uint256 actorSeed, uint256 tokenSeed) external step {
        (, LeveragedToken token) = _pick(tokenSeed);
        if (!vault.isLiquidatable(BTC, address(token))) return;
        vm.prank(_actor(actorSeed));
        try vault.liquidate(BTC, address(token)) {
            succeeded["liquidate"]++;
        } catch {
            failed["liquidate"]++;
        }
    }

    /// @notice Anyone accrues the management fee; the treasury must get exactly supply x f / (1 - f).
    function accrueManagementFee(uint256 tokenSeed) external step {
        (uint256 t, LeveragedToken token) = _pick(tokenSeed);
        uint256 expected = _expectedFeeShares(token);
        uint256 before = token.balanceOf(TREASURY);
        token.accrueManagementFee();
        if (token.balanceOf(TREASURY) - before != expected) _ghosts[t].feeMismatches++;
        succeeded["accrueManagementFee"]++;
    }

    /// @notice The pauser pauses (one time in four) or resumes minting.
    function setMintPaused(uint256 tokenSeed, uint256 pauseSeed) external step {
        (, LeveragedToken token) = _pick(tokenSeed);
        token.setMintPaused(_oneIn(pauseSeed, 4));
        succeeded["setMintPaused"]++;
    }

    /// @notice One time in four, the admin schedules an Active token's delisting 3 to 7 days ahead. Only once
    /// someone minted: a token settled with no supply reverts in totalAssets() (division by zero, reported).
    function scheduleDelisting(uint256 tokenSeed, uint256 delay) external step {
        (, LeveragedToken token) = _pick(tokenSeed);
        if (!_oneIn(delay, 4) || token.state() != ILeveragedToken.State.Active || token.totalSupply() == 0) return;
        token.scheduleDelisting(currentTime + 3 days + _bound(delay, 0, 4 days));
        succeeded["scheduleDelisting"]++;
    }

    /// @notice An actor settles a Depleted token, or a Delisting one (time first runs to the delisting time).
    function settle(uint256 actorSeed, uint256 tokenSeed) external step {
        (uint256 t, LeveragedToken token) = _pick(tokenSeed);
        ILeveragedToken.State st = token.state();
        if (st == ILeveragedToken.State.Delisting) {
            uint256 delistingTime = token.delistingTime();
            if (currentTime < delistingTime) _advance(delistingTime);
        } else if (st != ILeveragedToken.State.Depleted) {
            return;
        }
        vm.prank(_actor(actorSeed));
        try token.settle() {
            succeeded["settle"]++;
        } catch (bytes memory reason) {
            _countFailure(t, reason, "settle");
        }
    }

    /// @notice Once settled, anyone pushes USDT to every actor and the treasury.
    function settleHolders(uint256 tokenSeed) external step {
        (uint256 t, LeveragedToken token) = _pick(tokenSeed);
        if (token.state() != ILeveragedToken.State.Settled) return;
        _settleAllHolders(t);
        succeeded["settleHolders"]++;
    }

    /* VIEWS */

    function tokens() external view returns (LeveragedToken[2] memory) {
        return _tokens;
    }

    function ghosts(uint256 t) external view returns (Ghosts memory) {
        return _ghosts[t];
    }

    function actorList() external view returns (address[] memory) {
        return actors;
    }

    /// @notice Everyone who can hold shares: the actors, the treasury and DEAD.
    function holders() public view returns (address[] memory list) {
        list = new address[](ACTOR_COUNT + 2);
        for (uint256 i = 0; i < ACTOR_COUNT; i++) list[i] = actors[i];
        list[ACTOR_COUNT] = TREASURY;
        list[ACTOR_COUNT + 1] = DEAD;
    }

    /// @dev settleHolders for every holder, counting what each got as paid out.
    function _settleAllHolders(uint256 t) internal {
        LeveragedToken token = _tokens[t];
        address[] memory list = holders();
        uint256[] memory before = new uint256[](list.length);
        uint256[] memory shares = new uint256[](list.length);
        for (uint256 i = 0; i < list.length; i++) {
            before[i] = usdt.balanceOf(list[i]);
            shares[i] = token.balanceOf(list[i]);
        }
        token.settleHolders(list);
        for (uint256 i = 0; i < ACTOR_COUNT; i++) {
            if (shares[i] != 0) _paidOut(t, token, list[i], usdt.balanceOf(list[i]) - before[i]);
        }
        if (shares[ACTOR_COUNT] != 0) _ghosts[t].settledPayouts++; // the treasury
    }

    /* INTERNAL */

    function _advance(uint256 time) internal {
        uint256 elapsed = time - currentTime;
        currentTime = time;
        vm.warp(time);
        _setPrice(_movedPrice(0));
        int256 rate = vault.marketInfo(BTC).fundingRate;
        if (rate != 0 && elapsed != 0) _fundingFavoured(rate < 0 ? 0 : 1);
        for (uint256 t = 0; t < 2; t++) _keeperRun(t);
    }

    /// @dev The keeper rebalances token `t` if a rebalance is due; it is caught up once leverage is in band.
    function _keeperRun(uint256 t) internal {
        LeveragedToken token = _tokens[t];
        if (!_live(token)) {
            keeperBehind[t] = false;
            return;
        }
        (bool needed, ) = token.rebalanceNeeded();
        if (needed) {
            try token.rebalance() {
                succeeded["keeperRebalance"]++;
            } catch (bytes memory reason) {
                _countFailure(t, reason, "keeperRebalance");
                return;
            }
        }
        _clearIfBackInBand(t);
    }

    /// @dev A due rebalance, ripcord or settlement reverted: a failure. (ExchangeMismatch, when the trade back
    /// to target or the close costs more than the equity left, is counted as `stuck`; the token now depletes
    /// instead, so the invariants require it to stay zero.)
    function _countFailure(uint256 t, bytes memory reason, bytes32 action) internal {
        failed[action]++;
        if (bytes4(reason) == ILeveragedToken.ExchangeMismatch.selector) _ghosts[t].stuck++;
        else if (action == "keeperRebalance") _ghosts[t].keeperFailures++;
        else if (action == "pullRipcord") _ghosts[t].ripcordFailures++;
        else _ghosts[t].settleFailures++;
    }

    /// @dev `other` redeems half its shares (at least one unit's worth), or deposits `amount` if it has none,
    /// through the desk.
    function _otherActs(LeveragedToken token, address other, uint256 amount) internal {
        uint256 half = token.balanceOf(other) / 2;
        if (half != 0 && token.previewRedeem(half) != 0) {
            (bool ok, uint256 out, ) = _tryRedeem(token, other, half);
            if (ok) _paidOut(_indexOf(token), token, other, out);
            return;
        }
        if (half != 0) return;
        amount = _bound(amount, 1e6, MAX_DEPOSIT);
        _fund(token, other, amount);
        InstantDesk desk = _desk(token);
        vm.prank(other);
        try desk.deposit(amount, other) {
            _paidIn(_indexOf(token), other, amount, true);
        } catch {} // solhint-disable-line no-empty-blocks
    }

    function _indexOf(LeveragedToken token) internal view returns (uint256) {
        return token == _tokens[0] ? 0 : 1;
    }

    /// @dev The first actor from `seed` on holding shares of `token`, or the zero address.
    function _holder(LeveragedToken token, uint256 seed) internal view returns (address) {
        for (uint256 i = 0; i < ACTOR_COUNT; i++) {
            address actor = actors[(seed + i) % ACTOR_COUNT];
            if (token.balanceOf(actor) != 0) return actor;
        }
        return address(0);
    }

    /// @dev Every holder of token `t` redeems in full through the desk, after a due rebalance: how many of
    /// them reverted for want of pool cash (the caller drops the state after).
    function _tryEveryExit(uint256 t) internal returns (uint256 blocked) {
        LeveragedToken token = _tokens[t];
        if (token.state() != ILeveragedToken.State.Active && token.state() != ILeveragedToken.State.Delisting) return 0;
        (bool due, ) = token.rebalanceNeeded();
        if (due) {
            try token.rebalance() {} catch (bytes memory reason) {
                blocked += _lackedCash(reason);
            }
        }
        for (uint256 i = 0; i < actors.length; i++) {
            uint256 balance = token.balanceOf(actors[i]);
            if (balance == 0) continue;
            (bool ok, , bytes memory reason) = _tryRedeem(token, actors[i], balance);
            if (!ok) blocked += _lackedCash(reason);
        }
    }

    /// @dev `actor` redeems `shares` of `token`: through its InstantDesk (approved for the shares, as a
    /// holder who got them by transfer has not yet), or straight at the token once it is Settled. Returns
    /// whether it paid, what, and the revert data if it did not.
    function _tryRedeem(
        LeveragedToken token,
        address actor,
        uint256 shares
    ) internal returns (bool ok, uint256 assets, bytes memory reason) {
        bool settled = token.state() == ILeveragedToken.State.Settled;
        InstantDesk desk = _desk(token);
        vm.startPrank(actor);
        if (settled) {
            try token.redeem(shares, actor, actor) returns (uint256 paid) {
                (ok, assets) = (true, paid);
            } catch (bytes memory r) {
                reason = r;
            }
        } else {
            _assertTrue(token.approve(address(desk), type(uint256).max), "approve");
            try desk.redeem(shares, actor, actor) returns (uint256 paid) {
                (ok, assets) = (true, paid);
            } catch (bytes memory r) {
                reason = r;
            }
        }
        vm.stopPrank();
    }

    /// @dev Counts a call the desk rule covers: refused as it must be, or a bypass.
    function _deskRule(uint256 t, bool refused, bytes32 action) internal {
        if (refused) {
            _ghosts[t].deskChecks++;
            succeeded[action]++;
        } else {
            _ghosts[t].deskBypasses++;
            failed[action]++;
        }
    }

    function _lackedCash(bytes memory reason) internal pure returns (uint256) {
        return reason.length >= 4 && bytes4(reason) == IPerpVault.InsufficientLiquidity.selector ? 1 : 0;
    }

    function _clearIfBackInBand(uint256 t) internal {
        LeveragedToken token = _tokens[t];
        if (!_live(token) || token.leverage() <= MAX_LEVERAGE) keeperBehind[t] = false;
    }

    /// @dev NAV per share a mint or a redeem is held to: when a rebalance is due the call first trades the
    /// position back to target (a shared cost, as the keeper's rebalance), so the rule starts from the NAV
    /// after that rebalance, as `bookNow` prices it (nav()'s rounding); the trades joined can only add to it.
    function _navBefore(LeveragedToken token) internal view returns (uint256 nav0) {
        (uint256 supply, uint256 equity) = token.bookNow();
        return supply == 0 ? 1e6 : (equity * 1e18) / supply;
    }

    function _afterMint(uint256 t, LeveragedToken token, uint256 nav0, bool open) internal {
        if (!open) _ghosts[t].roleBreaches++;
        if (token.totalSupply() > token.supplyCap()) _ghosts[t].capBreaches++;
        if (token.nav() < nav0) _ghosts[t].navDrops++;
    }

    function _paidIn(uint256 t, address actor, uint256 assets, bool wasEmpty) internal {
        Epoch storage e = epochs[t][actor];
        if (wasEmpty) {
            e.paidIn = assets;
            e.paidOut = 0;
            e.moved = false;
        } else {
            e.paidIn += assets;
        }
    }

    /// @dev Counts a payout; when the actor is out, judges the epoch: at an unchanged price (and no
    /// favourable funding, no shares received) it never got more than it paid.
    function _paidOut(uint256 t, LeveragedToken token, address actor, uint256 assets) internal {
        Epoch storage e = epochs[t][actor];
        e.paidOut += assets;
        if (token.state() == ILeveragedToken.State.Settled) _ghosts[t].settledPayouts++;
        if (token.balanceOf(actor) != 0) return;
        if (!e.moved && e.paidIn != 0) {
            _ghosts[t].roundTrips++;
            if (e.paidOut > e.paidIn) _ghosts[t].roundTripProfits++;
        }
        delete epochs[t][actor];
    }

    function _priceMovedForAll() internal {
        for (uint256 t = 0; t < 2; t++) {
            for (uint256 i = 0; i < ACTOR_COUNT; i++) epochs[t][actors[i]].moved = true;
        }
    }

    function _fundingFavoured(uint256 t) internal {
        for (uint256 i = 0; i < ACTOR_COUNT; i++) epochs[t][actors[i]].moved = true;
    }

    function _checkTransitions() internal {
        for (uint256 t = 0; t < 2; t++) {
            ILeveragedToken.State from = lastState[t];
            ILeveragedToken.State to = _tokens[t].state();
            if (from != to && !_allowed(from, to)) _ghosts[t].illegalTransitions++;
            lastState[t] = to;
        }
    }

    function _allowed(ILeveragedToken.State from, ILeveragedToken.State to) internal pure returns (bool) {
        if (from == ILeveragedToken.State.Active) return to != ILeveragedToken.State.Settled;
        if (from == ILeveragedToken.State.Delisting) return to != ILeveragedToken.State.Active;
        if (from == ILeveragedToken.State.Depleted) return to == ILeveragedToken.State.Settled;
        return false; // Settled is final
    }

    function _expectedFeeShares(LeveragedToken token) internal view returns (uint256) {
        (uint32 last, , ILeveragedToken.State st, , , , , , ) = token.status();
        (, , uint64 rate, ) = token.fees();
        uint256 supply = token.totalSupply();
        bool accrues = st == ILeveragedToken.State.Active || st == ILeveragedToken.State.Delisting;
        if (!accrues || supply == 0) return 0;
        uint256 f = (uint256(rate) * (block.timestamp - last)) / YEAR;
        if (f > WAD / 2) f = WAD / 2;
        return (supply * f) / (WAD - f);
    }

    function _previewDeposit(LeveragedToken token, uint256 assets) internal view returns (bool, uint256) {
        try token.previewDeposit(assets) returns (uint256 p) {
            return (true, p);
        } catch {
            return (false, 0);
        }
    }

    function _previewRedeem(LeveragedToken token, uint256 shares) internal view returns (bool, uint256) {
        try token.previewRedeem(shares) returns (uint256 p) {
            return (true, p);
        } catch {
            return (false, 0);
        }
    }

    function _mintOpen(LeveragedToken token) internal view returns (bool) {
        (, , ILeveragedToken.State st, bool paused, , , , , ) = token.status();
        return st == ILeveragedToken.State.Active && !paused;
    }

    function _live(LeveragedToken token) internal view returns (bool) {
        ILeveragedToken.State st = token.state();
        return st == ILeveragedToken.State.Active || st == ILeveragedToken.State.Delisting;
    }

    function _pick(uint256 seed) internal view returns (uint256 t, LeveragedToken token) {
        t = seed % 2;
        token = _tokens[t];
    }

    function _actor(uint256 seed) internal view returns (address) {
        return actors[seed % ACTOR_COUNT];
    }

    /// @dev True one time in `n`, whatever values the fuzzer favours.
    function _oneIn(uint256 seed, uint256 n) internal pure returns (bool) {
        return uint256(keccak256(abi.encode(seed))) % n == 0;
    }

    function _atLeastOne(uint256 x) internal pure returns (uint256) {
        return x == 0 ? 1 : x;
    }
}
