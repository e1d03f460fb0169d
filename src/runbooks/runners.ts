import { spawn } from "node:child_process";
import { connect } from "node:net";
import type { RenderedAction } from "./render.js";

/** Environment variables a command step inherits from the server; everything else must be declared. */
export const INHERITED_ENV = ["PATH", "HOME", "LANG", "LC_ALL", "TZ", "TMPDIR"] as const;
/** How long after SIGTERM a timed-out command gets before SIGKILL (ms). */
export const KILL_GRACE_MS = 2_000;
/** HTTP response bodies kept in step results (bytes). */
export const HTTP_BODY_LIMIT_BYTES = 64 * 1024;

export interface CommandOutcome {
  exitCode: number | null;
  signal: string | null;
  stdout: string;
  stderr: string;
  truncated: boolean;
  timedOut: boolean;
  error: string | null;
}

/** Keeps the first `limit` bytes of a stream. */
class Capped {
  private chunks: Buffer[] = [];
  private size = 0;
  truncated = false;
  constructor(private readonly limit: number) {}
  push(b: Buffer): void {
    if (this.size >= this.limit) {
      this.truncated = true;
      return;
    }
    const room = this.limit - this.size;
    if (b.length > room) {
      this.truncated = true;
      b = b.subarray(0, room);
    }
    this.chunks.push(b);
    this.size += b.length;
  }
  text(): string {
    return Buffer.concat(this.chunks).toString("utf8");
  }
}

/** Runs argv directly (no shell), with a clean environment, a timeout and capped output. */
export function runCommand(
  cmd: Extract<RenderedAction, { kind: "command" }>,
  signal: AbortSignal,
  baseEnv: NodeJS.ProcessEnv = process.env,
): Promise<CommandOutcome> {
  return new Promise((resolve) => {
    const env: Record<string, string> = {};
    for (const k of INHERITED_ENV) if (baseEnv[k] !== undefined) env[k] = baseEnv[k];
    Object.assign(env, cmd.env);
    const out = new Capped(cmd.outputLimit);
    const err = new Capped(cmd.outputLimit);
    let timedOut = false;
    let settled = false;
    const [file, ...args] = cmd.argv;
    let child: ReturnType<typeof spawn>;
    try {
      child = spawn(file as string, args, {
        env,
        cwd: cmd.cwd ?? undefined,
        shell: false,
        stdio: ["ignore", "pipe", "pipe"],
        detached: true,
      });
    } catch (e) {
      resolve({
        exitCode: null,
        signal: null,
        stdout: "",
        stderr: "",
        truncated: false,
        timedOut: false,
        error: (e as Error).message,
      });
      return;
    }
    const killTree = (sig: NodeJS.Signals) => {
      try {
        if (child.pid !== undefined) process.kill(-child.pid, sig);
      } catch {
        child.kill(sig);
      }
    };
    const stop = () => {
      killTree("SIGTERM");
      setTimeout(() => killTree("SIGKILL"), KILL_GRACE_MS).unref();
    };
    const timer = setTimeout(() => {
      timedOut = true;
      stop();
    }, cmd.timeoutMs);
    const onAbort = () => stop();
    signal.addEventListener("abort", onAbort, { once: true });
    child.stdout?.on("data", (b: Buffer) => out.push(b));
    child.stderr?.on("data", (b: Buffer) => err.push(b));
    const finish = (o: Partial<CommandOutcome>) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      signal.removeEventListener("abort", onAbort);
      resolve({
        exitCode: null,
        signal: null,
        stdout: out.text(),
        stderr: err.text(),
        truncated: out.truncated || err.truncated,
        timedOut,
        error: null,
        ...o,
      });
    };
    child.once("error", (e) => finish({ error: e.message }));
    child.once("close", (code, sig) => finish({ exitCode: code, signal: sig }));
  });
}

export interface HttpOutcome {
  status: number | null;
  body: string;
  truncated: boolean;
  error: string | null;
}

export async function runHttp(
  req: Extract<RenderedAction, { kind: "http" }>,
  signal: AbortSignal,
): Promise<HttpOutcome> {
  try {
    const res = await fetch(req.url, {
      method: req.method,
      headers: req.headers,
      ...(req.body !== null && req.method !== "GET" && req.method !== "HEAD" ? { body: req.body } : {}),
      redirect: "manual",
      signal: AbortSignal.any([signal, AbortSignal.timeout(req.timeoutMs)]),
    });
    const buf = Buffer.from(await res.arrayBuffer());
    const truncated = buf.length > HTTP_BODY_LIMIT_BYTES;
    return {
      status: res.status,
      body: buf.subarray(0, HTTP_BODY_LIMIT_BYTES).toString("utf8"),
      truncated,
      error: null,
    };
  } catch (e) {
    return { status: null, body: "", truncated: false, error: (e as Error).message };
  }
}

export function statusExpected(status: number, expect: number[] | null): boolean {
  return expect ? expect.includes(status) : status >= 200 && status < 300;
}

export function tcpProbe(
  host: string,
  port: number,
  timeoutMs: number,
  signal: AbortSignal,
): Promise<string | null> {
  return new Promise((resolve) => {
    const sock = connect({ host, port });
    const done = (err: string | null) => {
      clearTimeout(t);
      signal.removeEventListener("abort", onAbort);
      sock.destroy();
      resolve(err);
    };
    const onAbort = () => done("aborted");
    const t = setTimeout(() => done("timeout"), timeoutMs);
    signal.addEventListener("abort", onAbort, { once: true });
    sock.once("connect", () => done(null));
    sock.once("error", (e) => done(e.message));
  });
}
