// Commander option parsers shared by the programs' command lines (keeper, feeder, demo, backtest):
// a bad value is a plain sentence naming the option, printed by commander with a non-zero exit.
import { InvalidArgumentError } from "commander";
import { parseDuration } from "../feeder/plan.ts";

/** Any finite number. */
export function number(name: string) {
  return (value: string): number => {
    const n = Number(value);
    if (value.trim() === "" || !Number.isFinite(n))
      throw new InvalidArgumentError(`${name} must be a number`);
    return n;
  };
}

/** A number greater than zero. */
export function positive(name: string) {
  return (value: string): number => {
    const n = Number(value);
    if (value.trim() === "" || !Number.isFinite(n) || n <= 0)
      throw new InvalidArgumentError(`${name} must be a number greater than zero`);
    return n;
  };
}

/** A whole number, 0 or more. */
export function wholeNumber(name: string) {
  return (value: string): number => {
    if (!/^\d+$/.test(value)) throw new InvalidArgumentError(`${name} must be a whole number`);
    return Number(value);
  };
}

/** A whole number, 0 or more (the message does not name the option). */
export function wholeNumberOrZero(value: string): number {
  if (!/^\d+$/.test(value)) throw new InvalidArgumentError("must be a whole number, 0 or more");
  return Number(value);
}

/** A whole number, 1 or more. */
export function positiveInt(name: string) {
  return (value: string): number => {
    if (!/^\d+$/.test(value) || Number(value) < 1)
      throw new InvalidArgumentError(`${name} must be a positive whole number`);
    return Number(value);
  };
}

/** A duration in seconds: 1h, 30m, 1d, 15s or a number of seconds. */
export function duration(name: string) {
  return (value: string): number => {
    try {
      return parseDuration(value);
    } catch (e) {
      throw new InvalidArgumentError(`${name}: ${(e as Error).message}`);
    }
  };
}
