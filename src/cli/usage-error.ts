/** The command line or its environment is wrong (exit 2), as opposed to the act failing (exit 1). */
export class CliUsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'CliUsageError';
  }
}
