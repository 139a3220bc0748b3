// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {IPerpVault} from "../../../contracts/interfaces/IPerpVault.sol";
import {PerpMath} from "../../../contracts/libraries/PerpMath.sol";
import {MockPerpVault} from "../../../contracts/mocks/MockPerpVault.sol";
import {MockPriceFeed} from "../../../contracts/mocks/MockPriceFeed.sol";
import {MockUSDT} from "../../../contracts/mocks/MockUSDT.sol";
import {TestBase} from "../utils/Vm.sol";

/// @title PerpVaultHandler
/// @notice Drives a MockPerpVault with bounded random actions for several actors: margin deposits and
/// withdrawals, trades (open, increase, reduce, close, flip; deposit-then-trade and pay-first), price moves,
/// time, funding rate changes, liquidations and pool liquidity. Every USDT that enters or leaves the vault
/// goes through here and is counted in the ghost ledger the invariants check.
/// @dev The handler deploys the system and holds every admin role (USDT minter, feed updater, vault admin).
/// Actions that cannot succeed are skipped or caught, so a campaign spends its calls on real state changes.
contract PerpVaultHandler is TestBase {
    using PerpMath for int256;

    /// @notice Every USDT movement into or out of the vault, by kind.
    struct Ghosts {
        uint256 deposited; // deposit()
        uint256 strayClaimed; // USDT sent to the vault and then credited as someone's margin: must stay 0
        uint256 withdrawn; // withdraw()
        uint256 tradePayouts; // trade() with a negative marginDelta
        uint256 liquidityAdded; // addLiquidity()
        uint256 liquidityRemoved; // removeLiquidity()
        uint256 liquidationRewards; // liquidate()
        uint256 donated; // sent straight to the vault: never credited
        uint256 totalIn; // every USDT that entered the vault
        uint256 totalOut; // every USDT that left the vault
        uint256 liquidationFailures; // isLiquidatable said yes, liquidate reverted (not for want of pool cash)
        uint256 marginBreaches; // a withdrawal or a trade adding exposure left equity below initial margin
        uint256 dilutions; // an add or a remove priced pool shares in the provider's favor
        uint256 reserveBreaches; // a removal left the pool less cash than the sides in profit are owed
        uint256 equityJumps; // settling funding changed the equity of a solvent position
    }

    bytes32 public constant BTC = "BTC";
    bytes32 public constant ETH = "ETH";
    uint256 public constant ACTOR_COUNT = 4;
    uint32 internal constant HEARTBEAT = 1 hours;
    uint256 internal constant MAX_AMOUNT = 1_000_000e6;
    uint256 internal constant MAX_LIQUIDITY = 5_000_000e6;
    int256 internal constant MIN_PRICE = 1e6; // 0.01 USD
    int256 internal constant MAX_PRICE = 1e15; // 10,000,000 USD
    int256 internal constant MAX_FUNDING_RATE = 0.01e18; // the vault's cap: 1% per 8 hours

    MockUSDT public usdt;
    MockPriceFeed public btcFeed;
    MockPriceFeed public ethFeed;
    MockPerpVault public vault;
    address[] public actors;
    /// @notice The campaign's clock: every action first warps here (the EVM may not keep a warp between calls).
    uint256 public currentTime;
    Ghosts internal _ghosts;
    mapping(address actor => uint256) public inflowOf; // USDT the actor put into the vault
    mapping(address actor => uint256) public outflowOf; // USDT the vault paid to the actor
    mapping(bytes32 action => uint256) public succeeded;
    mapping(bytes32 action => uint256) public failed;

    modifier syncTime() {
        vm.warp(currentTime);
        _;
    }

    constructor() {
        currentTime = block.timestamp;
        usdt = new MockUSDT(address(this));
        btcFeed = new MockPriceFeed("BTC / USD", 60_000e8, address(this));
        ethFeed = new MockPriceFeed("ETH / USD", 3_000e8, address(this));
        vault = new MockPerpVault(usdt, address(this));
        btcFeed.setListener(vault, BTC);
        ethFeed.setListener(vault, ETH);
        vault.addMarket(BTC, btcFeed, HEARTBEAT, 0.0001e18, 0.001e18);
        vault.addMarket(ETH, ethFeed, HEARTBEAT, 0.0001e18, 0);
        for (uint256 i = 0; i < ACTOR_COUNT; i++) {
            actors.push(address(uint160(uint256(keccak256(abi.encode("perp actor", i))))));
        }
        // A pool to pay the first winners.
        _addLiquidity(actors[0], MAX_LIQUIDITY);
    }

    /* ACTIONS */

    /// @notice An actor deposits margin into one market.
    function deposit(uint256 actorSeed, uint256 marketSeed, uint256 amount) external syncTime {
        _deposit(_actor(actorSeed), _market(marketSeed), _bound(amount, 1, MAX_AMOUNT));
    }

    /// @notice An actor withdraws part of what stays above initial margin (sometimes more, which must fail).
    function withdraw(uint256 actorSeed, uint256 marketSeed, uint256 amount) external syncTime {
        address actor = _actor(actorSeed);
        bytes32 market = _market(marketSeed);
        uint256 free = _freeMargin(market, actor);
        if (free == 0) return;
        amount = _withdrawAmount(amount, free);
        vm.prank(actor);
        try vault.withdraw(market, amount, actor) {
            _ghosts.withdrawn += amount;
            _checkInitialMargin(market, actor);
            _recordOut(actor, amount);
            succeeded["withdraw"]++;
        } catch {
            failed["withdraw"]++;
        }
    }

    /// @notice An actor trades on margin already deposited (marginDelta 0); a flat account with little margin
    /// deposits first. `kind` picks open/increase, reduce, close, flip or any target (up to 12x, so some trades
    /// must fail the initial margin check).
    function trade(uint256 actorSeed, uint256 marketSeed, uint256 kind, uint256 sizeSeed) external syncTime {
        address actor = _actor(actorSeed);
        bytes32 market = _market(marketSeed);
        (int256 size, int256 equity, uint256 price) = vault.snapshot(market, actor);
        if (size == 0 && equity < 100e6) {
            _deposit(actor, market, _bound(sizeSeed >> 160, 100e6, MAX_AMOUNT));
            (size, equity, price) = vault.snapshot(market, actor);
        }
        int256 sizeDelta = _sizeDelta(size, equity, price, kind, sizeSeed);
        if (sizeDelta == 0) return;
        vm.prank(actor);
        try vault.trade(market, sizeDelta, 0, actor) {
            if (_addsExposure(size, size + sizeDelta)) _checkInitialMargin(market, actor);
            succeeded["trade"]++;
        } catch {
            failed["trade"]++;
        }
    }

    /// @notice USDT sent straight to the vault (by mistake), then claimed as margin with a positive
    /// marginDelta: the vault asks the caller for the USDT in a callback and credits only what arrives
    /// during it, so the claim always fails and the transfer stays nobody's (`donated`). Before, pay-first
    /// credited any balance above what the vault owed, to whoever asked first.
    function strayTransfer(
        uint256 actorSeed,
        uint256 marketSeed,
        uint256 amount,
        uint256 kind,
        uint256 sizeSeed
    ) external syncTime {
        address actor = _actor(actorSeed);
        bytes32 market = _market(marketSeed);
        amount = _bound(amount, 1, MAX_AMOUNT);
        (int256 size, int256 equity, uint256 price) = vault.snapshot(market, actor);
        int256 sizeDelta = _sizeDelta(size, equity + int256(amount), price, kind, sizeSeed);
        _recordIn(actor, amount);
        _sendToVault(actor, amount);
        _ghosts.donated += amount;
        vm.prank(_actor(actorSeed + 1)); // anyone, the sender included
        try vault.trade(market, sizeDelta, int256(amount), actor) {
            _ghosts.strayClaimed += amount;
        } catch {
            failed["strayTransfer"]++;
        }
    }

    /// @notice An actor reduces or closes and takes margin out in the same trade (negative marginDelta).
    function tradeAndWithdraw(
        uint256 actorSeed,
        uint256 marketSeed,
        uint256 fraction,
        uint256 amount
    ) external syncTime {
        address actor = _actor(actorSeed);
        bytes32 market = _market(marketSeed);
        (int256 size, , ) = vault.snapshot(market, actor);
        // fraction 0 withdraws only; 10,000 closes.
        int256 sizeDelta = -(size * int256(_bound(fraction, 0, 10_000))) / 10_000;
        uint256 free = _freeMargin(market, actor);
        if (free == 0) return;
        amount = _withdrawAmount(amount, free);
        vm.prank(actor);
        try vault.trade(market, sizeDelta, -int256(amount), actor) {
            _ghosts.tradePayouts += amount;
            _checkInitialMargin(market, actor);
            _recordOut(actor, amount);
            succeeded["tradeAndWithdraw"]++;
        } catch {
            failed["tradeAndWithdraw"]++;
        }
    }

    /// @notice Every open position is touched by its owner with an empty trade, which settles funding.
    /// Settlement moves USDT between margin and pool but must leave a solvent position's equity unchanged.
    function settleAll() external syncTime {
        for (uint256 m = 0; m < 2; m++) {
            bytes32 market = _market(m);
            for (uint256 i = 0; i < ACTOR_COUNT; i++) {
                address actor = actors[i];
                (int256 size, int256 before, ) = vault.snapshot(market, actor);
                if (size == 0) continue;
                vm.prank(actor);
                try vault.trade(market, 0, 0, actor) returns (IPerpVault.TradeResult memory r) {
                    if (before >= 0 && r.equity != before) _ghosts.equityJumps++;
                    succeeded["settle"]++;
                } catch {
                    failed["settle"]++;
                }
            }
        }
    }

    /// @notice The oracle of one market moves by -30% .. +30%, staying within [MIN_PRICE, MAX_PRICE].
    function movePrice(uint256 marketSeed, int256 bps) external syncTime {
        MockPriceFeed feed = marketSeed % 2 == 0 ? btcFeed : ethFeed;
        (, int256 answer, , , ) = feed.latestRoundData();
        int256 next = (answer * (10_000 + _boundInt(bps, -3_000, 3_000))) / 10_000;
        if (next < MIN_PRICE) next = MIN_PRICE;
        if (next > MAX_PRICE) next = MAX_PRICE;
        feed.updateAnswer(next);
        succeeded["movePrice"]++;
    }

    /// @notice Up to three days pass (funding accrues); both feeds publish again so they stay fresh.
    function passTime(uint256 secondsPassed) external syncTime {
        currentTime += _bound(secondsPassed, 1, 3 days);
        vm.warp(currentTime);
        (, int256 btc, , , ) = btcFeed.latestRoundData();
        (, int256 eth, , , ) = ethFeed.latestRoundData();
        btcFeed.updateAnswer(btc);
        ethFeed.updateAnswer(eth);
        succeeded["passTime"]++;
    }

    /// @notice The admin sets a market's funding rate anywhere within the vault's cap (either sign).
    function setFundingRate(uint256 marketSeed, int256 rate) external syncTime {
        rate = (_boundInt(rate, -MAX_FUNDING_RATE, MAX_FUNDING_RATE) / 1e6) * 1e6; // in steps of 1e6
        vault.setFundingRate(_market(marketSeed), int64(rate));
        succeeded["setFundingRate"]++;
    }

    /// @notice One actor liquidates every liquidatable position.
    function liquidate(uint256 liquidatorSeed) external syncTime {
        address liquidator = _actor(liquidatorSeed);
        for (uint256 m = 0; m < 2; m++) {
            bytes32 market = _market(m);
            for (uint256 i = 0; i < ACTOR_COUNT; i++) {
                address account = actors[i];
                if (!vault.isLiquidatable(market, account)) continue;
                vm.prank(liquidator);
                try vault.liquidate(market, account) returns (uint256 reward) {
                    _ghosts.liquidationRewards += reward;
                    _recordOut(liquidator, reward);
                    succeeded["liquidate"]++;
                } catch (bytes memory reason) {
                    failed["liquidate"]++;
                    if (bytes4(reason) != IPerpVault.InsufficientLiquidity.selector) _ghosts.liquidationFailures++;
                }
            }
        }
    }

    /// @notice An actor adds pool liquidity.
    function addLiquidity(uint256 actorSeed, uint256 amount) external syncTime {
        _addLiquidity(_actor(actorSeed), _bound(amount, 1, MAX_LIQUIDITY));
    }

    /// @notice An actor removes some or all of its pool shares.
    function removeLiquidity(uint256 actorSeed, uint256 shares) external syncTime {
        address actor = _actor(actorSeed);
        uint256 owned = vault.liquiditySharesOf(actor);
        if (owned == 0) return;
        shares = _bound(shares, 1, owned);
        (uint256 value, uint256 supply) = (_poolValue(), vault.totalLiquidityShares());
        vm.prank(actor);
        try vault.removeLiquidity(shares, actor) returns (uint256 amount) {
            if (amount * supply > shares * value) _ghosts.dilutions++;
            if (vault.poolBalance() < _reserved()) _ghosts.reserveBreaches++;
            _ghosts.liquidityRemoved += amount;
            _recordOut(actor, amount);
            succeeded["removeLiquidity"]++;
        } catch {
            failed["removeLiquidity"]++;
        }
    }

    /* VIEWS */

    function ghosts() external view returns (Ghosts memory) {
        return _ghosts;
    }

    function actorList() external view returns (address[] memory) {
        return actors;
    }

    function markets() external pure returns (bytes32[2] memory) {
        return [BTC, ETH];
    }

    /* INTERNAL */

    function _deposit(address actor, bytes32 market, uint256 amount) internal {
        usdt.mint(actor, amount);
        vm.startPrank(actor);
        usdt.approve(address(vault), amount);
        vault.deposit(market, actor, amount);
        vm.stopPrank();
        _ghosts.deposited += amount;
        _recordIn(actor, amount);
        succeeded["deposit"]++;
    }

    function _addLiquidity(address actor, uint256 amount) internal {
        usdt.mint(actor, amount);
        vm.prank(actor);
        usdt.approve(address(vault), amount);
        (uint256 value, uint256 supply) = (_poolValue(), vault.totalLiquidityShares());
        vm.prank(actor);
        try vault.addLiquidity(amount) returns (uint256 shares) {
            if (supply != 0 && shares * value > amount * supply) _ghosts.dilutions++;
            _ghosts.liquidityAdded += amount;
            _recordIn(actor, amount);
            succeeded["addLiquidity"]++;
        } catch {
            failed["addLiquidity"]++;
        }
    }

    /// @dev The pool's value as the vault prices shares (0 when a price is stale: the call reverts too).
    function _poolValue() internal view returns (uint256 value) {
        try vault.liquidity() returns (uint256, uint256 v, uint256) {
            value = v;
        } catch {} // solhint-disable-line no-empty-blocks
    }

    function _reserved() internal view returns (uint256 reserved) {
        (, , reserved) = vault.liquidity();
    }

    /// @dev The first half of the pay-first pattern: `actor` sends `amount` straight to the vault.
    function _sendToVault(address actor, uint256 amount) internal {
        usdt.mint(actor, amount);
        vm.prank(actor);
        _assertTrue(usdt.transfer(address(vault), amount), "transfer");
    }

    function _recordIn(address actor, uint256 amount) internal {
        _ghosts.totalIn += amount;
        inflowOf[actor] += amount;
    }

    function _recordOut(address actor, uint256 amount) internal {
        _ghosts.totalOut += amount;
        outflowOf[actor] += amount;
    }

    function _actor(uint256 seed) internal view returns (address) {
        return actors[seed % ACTOR_COUNT];
    }

    function _market(uint256 seed) internal pure returns (bytes32) {
        return seed % 2 == 0 ? BTC : ETH;
    }

    /// @dev Mostly within `free`; one time in eight up to twice it, which the vault must refuse.
    function _withdrawAmount(uint256 seed, uint256 free) internal pure returns (uint256) {
        return _bound(seed, 1, seed >> 253 == 0 ? 2 * free : free);
    }

    /// @dev Equity above the initial margin requirement at the mark price: what a withdrawal may take.
    function _freeMargin(bytes32 market, address actor) internal view returns (uint256) {
        (int256 size, int256 equity, uint256 price) = vault.snapshot(market, actor);
        (, uint64 initialMarginRatio, , ) = vault.params();
        int256 required = int256(PerpMath.wadMulUp(size.notionalUp(price), initialMarginRatio));
        return equity > required ? uint256(equity - required) : 0;
    }

    /// @dev Counts a breach when the position's equity is below its initial margin requirement.
    function _checkInitialMargin(bytes32 market, address actor) internal {
        (int256 size, int256 equity, uint256 price) = vault.snapshot(market, actor);
        (, uint64 initialMarginRatio, , ) = vault.params();
        if (equity < int256(PerpMath.wadMulUp(size.notionalUp(price), initialMarginRatio))) _ghosts.marginBreaches++;
    }

    /// @dev Whether going from `oldSize` to `newSize` grows the position or flips its side.
    function _addsExposure(int256 oldSize, int256 newSize) internal pure returns (bool) {
        if (newSize == 0) return false;
        if ((oldSize > 0) != (newSize > 0) || oldSize == 0) return true;
        return PerpMath.abs(newSize) > PerpMath.abs(oldSize);
    }

    /// @dev The size change for a trade of `kind` (mod 5): 0 open or increase on the current side, 1 reduce,
    /// 2 close, 3 flip, 4 any target within 12x of equity on either side (a flat position opens instead of
    /// 1-3). New exposure is bounded by equity.
    function _sizeDelta(
        int256 size,
        int256 equity,
        uint256 price,
        uint256 kind,
        uint256 seed
    ) internal pure returns (int256) {
        kind %= 5;
        if (size == 0 && kind != 4) kind = 0; // nothing to reduce, close or flip: open
        if (kind == 1) return -(size * int256(_bound(seed, 1, 9_999))) / 10_000;
        if (kind == 2) return -size;
        if (equity <= 0) return 0;
        uint256 room = uint256(equity) * 9; // notional at 9x, under the 10x maximum
        if (kind == 0) {
            uint256 current = size.notionalUp(price);
            if (current >= room) return 0;
            int256 added = _toSize(_bound(seed, 1, room - current), price);
            bool short = size < 0 || (size == 0 && (seed >> 128) % 2 == 1);
            return short ? -added : added;
        }
        if (kind == 3) {
            if (size == 0) return 0;
            int256 target = _toSize(_bound(seed, 1, room), price);
            return (size > 0 ? -target : target) - size;
        }
        int256 reach = _toSize((room * 12) / 9, price);
        return _boundInt(int256(seed >> 1), -reach, reach) - size;
    }

    /// @dev Size (18 decimals) worth `notional` USDT at `price`.
    function _toSize(uint256 notional, uint256 price) internal pure returns (int256) {
        return int256((notional * PerpMath.SIZE_PRICE_TO_USDT) / price);
    }
}
