import { spawn } from "node:child_process";
import {
  closeSync,
  existsSync,
  fsyncSync,
  mkdirSync,
  openSync,
  readFileSync,
  rmSync,
  statSync,
  utimesSync,
  writeFileSync,
  writeSync,
} from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { FileLedger } from "./ledger.js";

/** How often the engine touches its heartbeat file. */
export const DEFAULT_HEARTBEAT_INTERVAL_MS = 500;
/** A heartbeat older than this means the engine is gone: the watchdog reverts everything. */
export const DEFAULT_HEARTBEAT_STALE_MS = 3_000;
/** How often a running engine looks for the emergency-stop flag. */
export const STOP_POLL_INTERVAL_MS = 100;

export interface StopFlag {
  at: number;
  by: string;
  reason: string;
}

/** The engine's files: ledger, heartbeat, emergency-stop flag, journals. One directory per installation. */
export class ChaosState {
  readonly ledger: FileLedger;
  constructor(readonly dir: string) {
    this.ledger = new FileLedger(join(dir, "ledger.jsonl"));
  }
  get heartbeatPath(): string {
    return join(this.dir, "heartbeat");
  }
  get stopPath(): string {
    return join(this.dir, "STOP");
  }
  get journalDir(): string {
    return join(this.dir, "journals");
  }
  ensure(): void {
    mkdirSync(this.dir, { recursive: true });
  }

  /** The flag survives restarts: new runs stay blocked until someone clears it. */
  setStop(flag: StopFlag): void {
    this.ensure();
    const fd = openSync(this.stopPath, "w");
    try {
      writeSync(fd, JSON.stringify(flag));
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
  }
  stopFlag(): StopFlag | undefined {
    try {
      return JSON.parse(readFileSync(this.stopPath, "utf8")) as StopFlag;
    } catch {
      return existsSync(this.stopPath) ? { at: 0, by: "unknown", reason: "unreadable flag" } : undefined;
    }
  }
  clearStop(): boolean {
    const had = existsSync(this.stopPath);
    rmSync(this.stopPath, { force: true });
    return had;
  }
}

/** Touches the heartbeat file so the watchdog (and helper processes) know the engine is alive. */
export class Heartbeat {
  private timer: NodeJS.Timeout | undefined;
  constructor(
    private readonly path: string,
    private readonly intervalMs = DEFAULT_HEARTBEAT_INTERVAL_MS,
  ) {}
  start(): void {
    writeFileSync(this.path, String(process.pid));
    this.timer = setInterval(() => {
      const t = new Date();
      try {
        utimesSync(this.path, t, t);
      } catch {
        // removed under us (stop() from another path); the watchdog treats a missing file as "done"
      }
    }, this.intervalMs);
    this.timer.unref();
  }
  /** A clean end: the watchdog sees the file gone and exits without reverting. */
  stop(): void {
    clearInterval(this.timer);
    rmSync(this.path, { force: true });
  }
}

/** Pid of the engine that owns the heartbeat file (written when its run starts). */
export function heartbeatOwner(path: string): number | undefined {
  try {
    const pid = Number(readFileSync(path, "utf8").trim());
    return Number.isInteger(pid) && pid > 0 ? pid : undefined;
  } catch {
    return undefined;
  }
}

export function heartbeatAgeMs(path: string, now = Date.now()): number | undefined {
  try {
    return now - statSync(path).mtimeMs;
  } catch {
    return undefined;
  }
}

/** Arguments to run a sibling module as a script: plain node for built .js, the tsx loader for sources. */
export function nodeScriptArgv(moduleUrl: string): string[] {
  const file = fileURLToPath(moduleUrl);
  return file.endsWith(".ts") ? ["--import", "tsx", file] : [file];
}

/**
 * Starts the dead-man's switch: a detached process that outlives us, watches the heartbeat and our pid, and
 * reverts the whole ledger if either stops. It exits by itself when the heartbeat file is removed.
 */
export function spawnWatchdog(state: ChaosState, staleMs = DEFAULT_HEARTBEAT_STALE_MS): number | undefined {
  const child = spawn(
    process.execPath,
    [
      ...nodeScriptArgv(new URL(`./watchdog-main${ext()}`, import.meta.url).href),
      state.dir,
      String(process.pid),
      String(staleMs),
    ],
    { detached: true, stdio: "ignore" },
  );
  child.unref();
  return child.pid;
}

function ext(): string {
  return import.meta.url.endsWith(".ts") ? ".ts" : ".js";
}
