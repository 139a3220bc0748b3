// Twin of MockPriceFeed: the latest answer (8 decimals) and when it was published, pushed to its
// listener (the exchange) as every answer is.
import { EngineRevert } from "./errors.ts";
import type { Tx } from "./world.ts";

const INT64_MAX = (1n << 63n) - 1n; // what the exchange stores of an answer

export interface FeedState {
  answer: bigint;
  updatedAt: bigint;
}

/** Twin of IPriceListener. */
export interface PriceListener {
  onPriceUpdate(key: string, answer: bigint, updatedAt: bigint): void;
}

export class PriceFeed {
  st: FeedState;
  readonly address: string;
  /** setListener: where every answer is pushed, and with which key (outside `st`: wiring, not state). */
  listening: { listener: PriceListener; key: string } | undefined;

  constructor(address: string, answer: bigint, updatedAt: bigint) {
    this.address = address;
    this.st = { answer, updatedAt };
  }

  /** updateAnswer: publishes `answer` at the block time (the caller's role is not modelled). */
  updateAnswer(tx: Tx, answer: bigint): void {
    if (answer <= 0n) throw new EngineRevert("NonPositiveAnswer", [answer]);
    if (answer > INT64_MAX) throw new EngineRevert("AnswerTooLarge", [answer]);
    this.st.answer = answer;
    this.st.updatedAt = tx.time;
    this.listening?.listener.onPriceUpdate(this.listening.key, answer, tx.time);
  }
}
