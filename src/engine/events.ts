// The events a twin logs: what it expects its contract to emit, in order.
import type { RevertArg } from "./errors.ts";

export interface EngineEvent {
  address: string; // lower-case emitter
  name: string;
  args: RevertArg[];
}

export class EventLog {
  events: EngineEvent[] = [];
  enabled = true;

  emit(address: string, name: string, args: RevertArg[]): void {
    if (this.enabled) this.events.push({ address: address.toLowerCase(), name, args });
  }

  /**
   * Forgets every event logged so far: a long run that only reads what each call logged (`since` a
   * mark) keeps its memory flat. Never inside an atomic call, whose rollback goes back to a length.
   */
  clear(): void {
    this.events.length = 0;
  }

  /** Events logged since `mark` (a length of `events`). */
  since(mark: number): EngineEvent[] {
    return this.events.slice(mark);
  }
}
