import {
  closeSync,
  existsSync,
  fsyncSync,
  mkdirSync,
  openSync,
  readFileSync,
  renameSync,
  writeSync,
} from "node:fs";
import { dirname } from "node:path";
import { runActions, type Action } from "./actions.js";

/** One applied fault whose revert is not yet known to have run. */
export interface LedgerEntry {
  id: string;
  runId: string;
  fault: string;
  target: string;
  revert: Action[];
  appliedAt: number;
  /** Engine process that applied it. */
  pid: number;
}

type Line =
  ({ op: "apply" } & LedgerEntry) | { op: "reverted"; id: string; at: number; by: string; errors: string[] };

/**
 * The crash-safe record of what to undo: an append-only JSON-lines file, fsynced on every write. The revert
 * is written BEFORE the fault is applied, so a crash at any point leaves at worst a revert of something
 * that never happened (reverts are idempotent). Any process can read it and revert: the engine at start,
 * `novasre chaos stop`, and the watchdog.
 */
export class FileLedger {
  constructor(readonly path: string) {}

  private append(lines: Line[]): void {
    if (!lines.length) return;
    const fresh = !existsSync(this.path);
    if (fresh) mkdirSync(dirname(this.path), { recursive: true });
    const fd = openSync(this.path, "a");
    try {
      writeSync(fd, lines.map((l) => JSON.stringify(l)).join("\n") + "\n");
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    if (fresh) {
      // The new file's directory entry must be durable too.
      const dfd = openSync(dirname(this.path), "r");
      try {
        fsyncSync(dfd);
      } finally {
        closeSync(dfd);
      }
    }
  }

  record(entry: LedgerEntry): void {
    this.append([{ op: "apply", ...entry }]);
  }

  markReverted(
    ids: readonly string[],
    at: number,
    by: string,
    errors: Map<string, string[]> = new Map(),
  ): void {
    this.append(ids.map((id) => ({ op: "reverted", id, at, by, errors: errors.get(id) ?? [] })));
  }

  /** Entries applied and not reverted, oldest first. A torn last line (crash mid-write) is skipped. */
  pending(): LedgerEntry[] {
    let text: string;
    try {
      text = readFileSync(this.path, "utf8");
    } catch {
      return [];
    }
    const open = new Map<string, LedgerEntry>();
    for (const raw of text.split("\n")) {
      if (!raw.trim()) continue;
      let line: Line;
      try {
        line = JSON.parse(raw) as Line;
      } catch {
        continue;
      }
      if (line.op === "apply") {
        const { op: _op, ...entry } = line;
        open.set(entry.id, entry);
      } else if (line.op === "reverted") open.delete(line.id);
    }
    return [...open.values()];
  }
}

export interface RevertReport {
  reverted: { id: string; fault: string; target: string; errors: string[] }[];
}

/**
 * Reverts every pending entry (or those `select` picks), all at once: an emergency stop of 100 faults must
 * not wait for them one by one. Each entry's own actions still run in order.
 */
export async function revertPending(
  ledger: FileLedger,
  by: string,
  now: () => number,
  select: (e: LedgerEntry) => boolean = () => true,
): Promise<RevertReport> {
  const todo = ledger.pending().filter(select).reverse();
  const results = await Promise.all(todo.map(async (e) => ({ e, errors: await runActions(e.revert) })));
  const errors = new Map(results.map((r) => [r.e.id, r.errors]));
  ledger.markReverted(
    results.map((r) => r.e.id),
    now(),
    by,
    errors,
  );
  return {
    reverted: results.map((r) => ({ id: r.e.id, fault: r.e.fault, target: r.e.target, errors: r.errors })),
  };
}

/** Rewrites the file with only pending entries (atomically, by rename), so it does not grow forever. */
export function compactLedger(ledger: FileLedger): void {
  const pending = ledger.pending();
  const tmp = `${ledger.path}.tmp`;
  const fd = openSync(tmp, "w");
  try {
    const text = pending.map((e) => JSON.stringify({ op: "apply", ...e })).join("\n");
    writeSync(fd, text ? text + "\n" : "");
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  renameSync(tmp, ledger.path);
}
