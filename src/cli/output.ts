import { isNovaError } from "../core/index.js";

/** Exit codes: 0 ok, 1 failure of the system, 2 a mistake in what the user asked. */
export const EXIT_OK = 0;
export const EXIT_FAILURE = 1;
export const EXIT_USAGE = 2;

export class CliExit extends Error {
  constructor(
    readonly code: number,
    message = "",
  ) {
    super(message);
  }
}

/** Prints an error as a person should see it; never a stack trace for their own mistake. */
export function reportError(e: unknown, stderr: NodeJS.WritableStream = process.stderr): number {
  if (e instanceof CliExit) {
    if (e.message) stderr.write(`${e.message}\n`);
    return e.code;
  }
  if (isNovaError(e)) {
    stderr.write(`error: ${e.format()}\n`);
    return e.code === "UNAVAILABLE" || e.code === "INTERNAL" ? EXIT_FAILURE : EXIT_USAGE;
  }
  stderr.write(`error: ${(e as Error)?.stack ?? String(e)}\n`);
  return EXIT_FAILURE;
}
