// The one error type the CLI shows as it is: a plain sentence, printed without a stack trace.
export class CliError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "CliError";
  }
}
