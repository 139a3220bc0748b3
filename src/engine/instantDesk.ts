// The twin of contracts/mocks/InstantDesk.sol: the primary market before forward pricing, kept for
// the token's unit tests and the attack comparison. It passes each deposit and redeem straight to
// the token, at the price the exchange has stored.
import { key } from "./erc20.ts";
import { EngineRevert } from "./errors.ts";
import { UINT256_MAX } from "./math.ts";
import type { LeveragedToken } from "./token.ts";
import type { Tx, World } from "./world.ts";

export class InstantDesk {
  readonly address: string;

  constructor(
    private readonly world: World,
    readonly token: LeveragedToken,
  ) {
    this.address = token.desk;
    world.usdt.approve(this.address, token.address, UINT256_MAX);
  }

  /** deposit(assets, receiver): takes the caller's USDT and deposits it into the token for `receiver`. */
  deposit(tx: Tx, assets: bigint, receiver: string): bigint {
    return this.world.atomic(() => {
      this.world.usdt.transferFrom(this.address, tx.from, this.address, assets);
      return this.token.deposit(this.asDesk(tx), assets, receiver);
    });
  }

  /** redeem(shares, receiver, owner): the caller's own shares (it approved this desk on the token). */
  redeem(tx: Tx, shares: bigint, receiver: string, owner: string): bigint {
    return this.world.atomic(() => {
      if (key(tx.from) !== key(owner)) throw new EngineRevert("NotOwner", [key(tx.from), key(owner)]);
      return this.token.redeem(this.asDesk(tx), shares, receiver, owner);
    });
  }

  private asDesk(tx: Tx): Tx {
    return { from: this.address, time: tx.time };
  }
}
