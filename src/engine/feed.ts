// Twin of MockPriceFeed: the latest answer (8 decimals) and when it was published.
import { EngineRevert } from "./errors.ts";
import type { Tx } from "./world.ts";

const INT192_MAX = (1n << 191n) - 1n;

export interface FeedState {
  answer: bigint;
  updatedAt: bigint;
}

export class PriceFeed {
  st: FeedState;
  readonly address: string;

  constructor(address: string, answer: bigint, updatedAt: bigint) {
    this.address = address;
    this.st = { answer, updatedAt };
  }

  /** updateAnswer: publishes `answer` at the block time (the caller's role is not modelled). */
  updateAnswer(tx: Tx, answer: bigint): void {
    if (answer <= 0n) throw new EngineRevert("NonPositiveAnswer", [answer]);
    if (answer > INT192_MAX) throw new EngineRevert("AnswerTooLarge", [answer]);
    this.st.answer = answer;
    this.st.updatedAt = tx.time;
  }
}
