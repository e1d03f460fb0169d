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
    // First line after "error:", the rest indented under it (some errors format one problem per line).
    const [first, ...rest] = e.format().split("\n");
    stderr.write(`error: ${first ?? ""}\n`);
    for (const l of rest) stderr.write(`${l.startsWith(" ") ? l : `  ${l}`}\n`);
    return e.code === "UNAVAILABLE" || e.code === "INTERNAL" ? EXIT_FAILURE : EXIT_USAGE;
  }
  stderr.write(`error: ${(e as Error)?.stack ?? String(e)}\n`);
  return EXIT_FAILURE;
}
