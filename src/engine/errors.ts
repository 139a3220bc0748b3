// What the engine throws where a contract reverts: the Solidity custom error's name and arguments
// (or "Panic" with its code), so a test can compare exactly which calls revert and why.

export type RevertArg = bigint | string | boolean;

export class EngineRevert extends Error {
  readonly errorName: string;
  readonly args: readonly RevertArg[];

  constructor(errorName: string, args: readonly RevertArg[] = []) {
    super(`${errorName}(${args.map(String).join(", ")})`);
    this.name = "EngineRevert";
    this.errorName = errorName;
    this.args = args;
  }
}

export function isEngineRevert(e: unknown): e is EngineRevert {
  return e instanceof EngineRevert;
}
