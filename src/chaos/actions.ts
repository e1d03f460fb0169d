import { spawn } from "node:child_process";
import {
  closeSync,
  fsyncSync,
  openSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
  writeSync,
} from "node:fs";
import { request as httpRequest } from "node:http";
import { request as httpsRequest } from "node:https";
import { fail, ok, type Result } from "../core/index.js";

/** Longest an apply or revert action may take before it counts as failed. */
export const DEFAULT_ACTION_TIMEOUT_MS = 10_000;
/** Disk fill writes in blocks of this many bytes. */
const FILL_BLOCK_BYTES = 1024 * 1024;

/**
 * What a fault does, as data: printable for dry-run, storable in the ledger, and runnable by any process
 * (the engine, `novasre chaos stop`, the watchdog) without the code that built it.
 * Commands are argv arrays: nothing passes through a shell.
 */
export type Action =
  | { kind: "exec"; argv: string[]; ignoreFailure?: boolean }
  | {
      kind: "signal";
      pid: number;
      signal: string;
      /** /proc/PID/stat start time when the fault was applied: a reused pid is never signalled. */
      startTime?: string;
      /** Signal the whole process group (negative pid). */
      group?: boolean;
    }
  | { kind: "http"; method: string; url: string; body?: unknown; headers?: Record<string, string> }
  | { kind: "unlink"; path: string }
  | { kind: "write-file"; path: string; content: string }
  | { kind: "fill-file"; path: string; bytes: number }
  /** Starts a detached process carrying `marker` in its argv, so a revert can find it without a pid. */
  | { kind: "spawn"; argv: string[]; marker: string; env?: Record<string, string> }
  | { kind: "kill-marker"; marker: string; signal: string }
  | { kind: "in-process"; note: string };

export function describeAction(a: Action): string {
  switch (a.kind) {
    case "exec":
      return `exec ${a.argv.map((x) => (/^[\w./:=,+-]+$/.test(x) ? x : JSON.stringify(x))).join(" ")}`;
    case "signal":
      return `kill -${a.signal} ${a.group ? "-" : ""}${a.pid}`;
    case "http":
      return `${a.method} ${a.url}${a.body === undefined ? "" : ` ${JSON.stringify(a.body)}`}`;
    case "unlink":
      return `rm -f ${a.path}`;
    case "write-file":
      return `write ${a.path} ${JSON.stringify(a.content)}`;
    case "fill-file":
      return `fill ${a.path} with ${a.bytes} bytes`;
    case "spawn":
      return `spawn ${Object.entries(a.env ?? {})
        .map(([k, v]) => `${k}=${v} `)
        .join("")}${a.argv.map((x) => (/^[\w./:=,+-]+$/.test(x) ? x : JSON.stringify(x))).join(" ")}`;
    case "kill-marker":
      return `kill -${a.signal} the process group of every process whose argv or NOVASRE_FAULT holds ${a.marker}`;
    case "in-process":
      return `in-process: ${a.note}`;
  }
}

/** Pids of processes whose command line or NOVASRE_FAULT variable holds `marker` (from /proc; Linux only). */
export function pidsWithMarker(marker: string): number[] {
  const out: number[] = [];
  let entries: string[];
  try {
    entries = readdirSync("/proc");
  } catch {
    return out;
  }
  for (const e of entries) {
    if (!/^\d+$/.test(e)) continue;
    const pid = Number(e);
    if (pid === process.pid) continue;
    try {
      // stress-ng rewrites its workers' titles, so the marker is also looked for in the environment.
      if (
        readFileSync(`/proc/${e}/cmdline`, "utf8").includes(marker) ||
        readFileSync(`/proc/${e}/environ`, "utf8").includes(`NOVASRE_FAULT=${marker}\0`)
      )
        out.push(pid);
    } catch {
      // exited while we looked
    }
  }
  return out;
}

function fillFile(path: string, bytes: number): void {
  const fd = openSync(path, "w");
  try {
    const block = Buffer.alloc(Math.min(bytes, FILL_BLOCK_BYTES), 0x5a);
    for (let done = 0; done < bytes;) {
      const n = writeSync(fd, block, 0, Math.min(block.length, bytes - done));
      done += n;
    }
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}

/** Field 22 of /proc/PID/stat: start time in clock ticks since boot; undefined when the pid is gone. */
export function processStartTime(pid: number): string | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    // comm (field 2) may contain spaces and parentheses: split after its last ')'.
    const rest = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    return rest[19];
  } catch {
    return undefined;
  }
}

export function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === "EPERM";
  }
}

function execArgv(argv: string[], timeoutMs: number): Promise<Result<string>> {
  return new Promise((resolve) => {
    const [cmd, ...args] = argv;
    if (!cmd) return resolve(fail("empty argv", false));
    const child = spawn(cmd, args, { stdio: ["ignore", "pipe", "pipe"], timeout: timeoutMs });
    let out = "";
    child.stdout.on("data", (d: Buffer) => (out = (out + d.toString()).slice(-4000)));
    child.stderr.on("data", (d: Buffer) => (out = (out + d.toString()).slice(-4000)));
    child.once("error", (e) => resolve(fail(`${cmd}: ${e.message}`, false)));
    child.once("close", (code, sig) =>
      resolve(
        code === 0
          ? ok(out.trim())
          : fail(`${argv.join(" ")} exited ${code ?? sig}: ${out.trim().slice(0, 500)}`, false),
      ),
    );
  });
}

/**
 * One HTTP call of an action. node:http rather than fetch: fetch loads undici on first use, which cost
 * `novasre chaos stop` (a fresh process) about 150 ms before its first revert could go out. Redirects are
 * not followed (these calls go to a fault proxy's API, which does not redirect).
 */
function httpCall(
  a: Extract<Action, { kind: "http" }>,
  timeoutMs: number,
): Promise<{ ok: boolean; status: number; text: string }> {
  return new Promise((resolve, reject) => {
    const body = a.body !== undefined ? JSON.stringify(a.body) : undefined;
    const url = new URL(a.url);
    const send = url.protocol === "https:" ? httpsRequest : httpRequest;
    const req = send(
      url,
      {
        method: a.method,
        headers: { ...(body !== undefined ? { "content-type": "application/json" } : {}), ...a.headers },
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on("data", (c: Buffer) => chunks.push(c));
        res.once("error", (e) => {
          clearTimeout(timer);
          reject(e);
        });
        res.once("end", () => {
          clearTimeout(timer);
          const status = res.statusCode ?? 0;
          resolve({
            ok: status >= 200 && status < 300,
            status,
            text: Buffer.concat(chunks).toString("utf8"),
          });
        });
      },
    );
    const timer = setTimeout(() => req.destroy(new Error(`no answer within ${timeoutMs} ms`)), timeoutMs);
    req.once("error", (e) => {
      clearTimeout(timer);
      reject(e);
    });
    req.end(body);
  });
}

/** Runs one action. Reverts are written to be idempotent: a second run of the same revert is harmless. */
export async function runAction(a: Action, timeoutMs = DEFAULT_ACTION_TIMEOUT_MS): Promise<Result<string>> {
  switch (a.kind) {
    case "exec": {
      const r = await execArgv(a.argv, timeoutMs);
      return r.status === "error" && a.ignoreFailure ? ok(`ignored: ${r.error}`) : r;
    }
    case "signal": {
      if (a.startTime !== undefined && processStartTime(a.pid) !== a.startTime)
        return ok(`pid ${a.pid} is gone (or reused); nothing to signal`);
      try {
        process.kill(a.group ? -a.pid : a.pid, a.signal);
        return ok(`sent ${a.signal} to ${a.group ? "group " : ""}${a.pid}`);
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code === "ESRCH") return ok(`pid ${a.pid} already gone`);
        return fail(`kill ${a.signal} ${a.pid}: ${(e as Error).message}`, false);
      }
    }
    case "http": {
      try {
        const res = await httpCall(a, timeoutMs);
        // 404 on a revert means the thing to remove is already gone.
        if (res.ok || (res.status === 404 && a.method === "DELETE")) return ok(`${res.status}`);
        return fail(`${a.method} ${a.url}: ${res.status} ${res.text.slice(0, 300)}`, res.status >= 500);
      } catch (e) {
        // A proxy that is gone holds no toxic: nothing is left to revert.
        if (a.method === "DELETE" && (e as NodeJS.ErrnoException).code === "ECONNREFUSED")
          return ok("proxy gone");
        return fail(`${a.method} ${a.url}: ${(e as Error).message}`, true);
      }
    }
    case "unlink":
      try {
        rmSync(a.path, { force: true });
        return ok(`removed ${a.path}`);
      } catch (e) {
        return fail(`rm ${a.path}: ${(e as Error).message}`, false);
      }
    case "write-file":
      try {
        writeFileSync(a.path, a.content);
        return ok(`wrote ${a.path}`);
      } catch (e) {
        return fail(`write ${a.path}: ${(e as Error).message}`, false);
      }
    case "fill-file":
      try {
        fillFile(a.path, a.bytes);
        return ok(`filled ${a.path}`);
      } catch (e) {
        rmSync(a.path, { force: true });
        return fail(`fill ${a.path}: ${(e as Error).message}`, false);
      }
    case "spawn": {
      const [cmd, ...args] = a.argv;
      if (!cmd) return fail("empty argv", false);
      return new Promise((resolve) => {
        const child = spawn(cmd, args, {
          detached: true,
          stdio: "ignore",
          env: { ...process.env, ...a.env },
        });
        child.once("error", (e) => resolve(fail(`${cmd}: ${e.message}`, false)));
        child.once("spawn", () => {
          child.unref();
          resolve(ok(String(child.pid)));
        });
      });
    }
    case "kill-marker": {
      const pids = pidsWithMarker(a.marker);
      for (const pid of pids) {
        // Spawned faults lead their own process group; stress-ng's workers rewrite their argv and
        // environment, so they are reached through the group.
        for (const target of [-pid, pid]) {
          try {
            process.kill(target, a.signal);
          } catch {
            // already gone, or not a group leader
          }
        }
      }
      return ok(`signalled ${pids.length} process(es)`);
    }
    case "in-process":
      return ok(a.note);
  }
}

/** Runs actions in order, continuing past failures; returns every failure. */
export async function runActions(actions: readonly Action[], timeoutMs?: number): Promise<string[]> {
  const errors: string[] = [];
  for (const a of actions) {
    const r = await runAction(a, timeoutMs);
    if (r.status === "error") errors.push(r.error);
  }
  return errors;
}
