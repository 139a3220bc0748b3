// An OpenZeppelin 5 ERC20 ledger: balances, allowances, the same checks in the same order and the
// same custom errors. Used for USDT and for each token's shares.
import { EngineRevert } from "./errors.ts";
import { UINT256_MAX } from "./math.ts";
import type { EventLog } from "./events.ts";

export const ZERO_ADDRESS = "0x0000000000000000000000000000000000000000";

export interface Erc20State {
  totalSupply: bigint;
  balances: Map<string, bigint>;
  allowances: Map<string, bigint>; // key `${owner}>${spender}`
}

/** Addresses are compared as lower-case hex. */
export function key(address: string): string {
  return address.toLowerCase();
}

export class Erc20Ledger {
  st: Erc20State = { totalSupply: 0n, balances: new Map(), allowances: new Map() };

  readonly address: string;
  private readonly log: EventLog;
  /** Runs before every balance change (a contract's `_update` override), with the sender and value. */
  private readonly beforeUpdate: ((from: string, value: bigint) => void) | undefined;

  constructor(address: string, log: EventLog, beforeUpdate?: (from: string, value: bigint) => void) {
    this.address = address;
    this.log = log;
    this.beforeUpdate = beforeUpdate;
  }

  balanceOf(account: string): bigint {
    return this.st.balances.get(key(account)) ?? 0n;
  }

  allowance(owner: string, spender: string): bigint {
    return this.st.allowances.get(`${key(owner)}>${key(spender)}`) ?? 0n;
  }

  approve(owner: string, spender: string, value: bigint): void {
    if (key(spender) === ZERO_ADDRESS) throw new EngineRevert("ERC20InvalidSpender", [ZERO_ADDRESS]);
    this.st.allowances.set(`${key(owner)}>${key(spender)}`, value);
    this.log.emit(this.address, "Approval", [key(owner), key(spender), value]);
  }

  /** _spendAllowance: an infinite allowance is never reduced; no event. */
  spendAllowance(owner: string, spender: string, value: bigint): void {
    const current = this.allowance(owner, spender);
    if (current < UINT256_MAX) {
      if (current < value)
        throw new EngineRevert("ERC20InsufficientAllowance", [key(spender), current, value]);
      this.st.allowances.set(`${key(owner)}>${key(spender)}`, current - value);
    }
  }

  transfer(from: string, to: string, value: bigint): void {
    if (key(from) === ZERO_ADDRESS) throw new EngineRevert("ERC20InvalidSender", [ZERO_ADDRESS]);
    if (key(to) === ZERO_ADDRESS) throw new EngineRevert("ERC20InvalidReceiver", [ZERO_ADDRESS]);
    this.update(from, to, value);
  }

  transferFrom(spender: string, from: string, to: string, value: bigint): void {
    this.spendAllowance(from, spender, value);
    this.transfer(from, to, value);
  }

  mint(to: string, value: bigint): void {
    if (key(to) === ZERO_ADDRESS) throw new EngineRevert("ERC20InvalidReceiver", [ZERO_ADDRESS]);
    this.update(ZERO_ADDRESS, to, value);
  }

  burn(from: string, value: bigint): void {
    if (key(from) === ZERO_ADDRESS) throw new EngineRevert("ERC20InvalidSender", [ZERO_ADDRESS]);
    this.update(from, ZERO_ADDRESS, value);
  }

  private update(from: string, to: string, value: bigint): void {
    const f = key(from);
    const t = key(to);
    this.beforeUpdate?.(f, value);
    if (f === ZERO_ADDRESS) {
      this.st.totalSupply += value;
    } else {
      const balance = this.st.balances.get(f) ?? 0n;
      if (balance < value) throw new EngineRevert("ERC20InsufficientBalance", [f, balance, value]);
      this.st.balances.set(f, balance - value);
    }
    if (t === ZERO_ADDRESS) this.st.totalSupply -= value;
    else this.st.balances.set(t, (this.st.balances.get(t) ?? 0n) + value);
    this.log.emit(this.address, "Transfer", [f, t, value]);
  }
}
