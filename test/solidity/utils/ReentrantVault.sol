// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {SafeERC20} from "@openzeppelin/contracts/token/ERC20/utils/SafeERC20.sol";
// solhint-disable-next-line max-line-length
import {AutomationCompatibleInterface} from "@chainlink/contracts/src/v0.8/automation/interfaces/AutomationCompatibleInterface.sol";

import {ILeveragedToken} from "../../../contracts/interfaces/ILeveragedToken.sol";
import {IPerpVault} from "../../../contracts/interfaces/IPerpVault.sol";
import {PerpMath} from "../../../contracts/libraries/PerpMath.sol";

/// @notice A hostile exchange for the token's reentrancy tests: an honest book as far as the token
/// can tell (one price, no fees, opens and margin moves only), whose trade() first calls back into
/// the token that is trading, the way a malicious venue or a hooked asset could.
contract ReentrantVault {
    using PerpMath for int256;
    using SafeERC20 for IERC20;

    enum Reenter {
        None,
        Deposit,
        Redeem,
        Withdraw,
        Rebalance,
        PerformUpkeep,
        Accrue,
        Settle,
        SettleHolders
    }

    IERC20 public immutable usdt;
    ILeveragedToken public token;
    Reenter public reenter;
    uint256 public price = 100_000e8;
    int256 public size;
    int256 public openCost;
    int256 public margin;

    constructor(IERC20 usdt_) {
        usdt = usdt_;
    }

    function setReentry(ILeveragedToken token_, Reenter reenter_) external {
        (token, reenter) = (token_, reenter_);
    }

    function maxLeverage() external pure returns (uint256) {
        return 10e18;
    }

    function markPrice(bytes32) external view returns (uint256) {
        return price;
    }

    function tradeCosts(bytes32) external pure returns (uint256, uint256) {
        return (0, 0);
    }

    function snapshot(bytes32, address) external view returns (int256, int256, uint256) {
        return (size, _equity(), price);
    }

    function lastSnapshot(bytes32, address) external view returns (int256, int256, uint256, bool) {
        return (size, _equity(), price, true);
    }

    function capacity(bytes32, address) external pure returns (uint256, uint256, uint256) {
        return (type(uint56).max, uint256(int256(type(int56).max)), uint256(int256(type(int88).max)));
    }

    function tradingSnapshot(bytes32, address) external view returns (IPerpVault.TradingSnapshot memory t) {
        (t.size, t.equity, t.price) = (size, _equity(), price);
    }

    function trade(
        bytes32,
        int256 sizeDelta,
        int256 marginDelta,
        address to
    ) external returns (IPerpVault.TradeResult memory r) {
        _callBack();
        margin += marginDelta;
        if (sizeDelta != 0) {
            openCost += sizeDelta.costUp(price);
            size += sizeDelta;
        }
        if (marginDelta < 0) usdt.safeTransfer(to, uint256(-marginDelta));
        r.price = price;
        r.equity = _equity();
    }

    function _callBack() internal {
        Reenter r = reenter;
        address self = address(this);
        if (r == Reenter.Deposit) token.deposit(1e6, self);
        else if (r == Reenter.Redeem) token.redeem(1, self, self);
        else if (r == Reenter.Withdraw) token.withdraw(1, self, self);
        else if (r == Reenter.Rebalance) token.rebalance();
        else if (r == Reenter.PerformUpkeep) AutomationCompatibleInterface(address(token)).performUpkeep("");
        else if (r == Reenter.Accrue) token.accrueManagementFee();
        else if (r == Reenter.Settle) token.settle();
        else if (r == Reenter.SettleHolders) token.settleHolders(new address[](0));
    }

    function _equity() internal view returns (int256) {
        return margin + size.valueDown(price) - openCost;
    }
}
